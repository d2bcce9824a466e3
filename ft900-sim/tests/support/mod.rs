//! Shared helpers for the integration tests that need the ft32-elf toolchain
//! (cross compiler, the reference simulator `ft32-elf-run`, gdb).
//!
//! Toolchain discovery order:
//! 1. `$FT32_TOOLCHAIN/bin/ft32-elf-*` when the `FT32_TOOLCHAIN` variable is set (a prefix);
//! 2. `$HOME/.local/ft32-elf/bin/ft32-elf-*` (where `toolchain/install.sh` puts it);
//! 3. `ft32-elf-*` found on `PATH`.
//!
//! When the toolchain is missing the tests **fail** with instructions; they never skip silently.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Paths of the tools of one ft32-elf toolchain installation.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The `bin` directory holding the tools.
    pub bin: PathBuf,
    pub gcc: PathBuf,
    pub run: PathBuf,
    pub gdb: PathBuf,
    pub objdump: PathBuf,
}

impl Toolchain {
    fn at(bin: &Path) -> Option<Toolchain> {
        let tool = |name: &str| bin.join(format!("ft32-elf-{name}"));
        let tc = Toolchain {
            bin: bin.to_path_buf(),
            gcc: tool("gcc"),
            run: tool("run"),
            gdb: tool("gdb"),
            objdump: tool("objdump"),
        };
        (tc.gcc.is_file() && tc.run.is_file()).then_some(tc)
    }

    /// Where the toolchain was looked for, in order (for error messages).
    pub fn search_locations() -> Vec<String> {
        let mut v = Vec::new();
        match std::env::var_os("FT32_TOOLCHAIN") {
            Some(p) => v.push(format!(
                "$FT32_TOOLCHAIN/bin = {}/bin",
                Path::new(&p).display()
            )),
            None => v.push("$FT32_TOOLCHAIN (not set)".to_string()),
        }
        if let Some(home) = std::env::var_os("HOME") {
            v.push(format!(
                "{}/.local/ft32-elf/bin",
                Path::new(&home).display()
            ));
        }
        v.push("PATH".to_string());
        v
    }

    /// Find the toolchain, or return an error message that says how to install it.
    pub fn find() -> Result<Toolchain, String> {
        if let Some(prefix) = std::env::var_os("FT32_TOOLCHAIN") {
            let bin = Path::new(&prefix).join("bin");
            return Toolchain::at(&bin).ok_or_else(|| {
                format!(
                    "FT32_TOOLCHAIN is set to {} but {}/ft32-elf-gcc and ft32-elf-run do not exist.\n{}",
                    Path::new(&prefix).display(),
                    bin.display(),
                    install_hint()
                )
            });
        }
        if let Some(home) = std::env::var_os("HOME") {
            if let Some(tc) = Toolchain::at(&Path::new(&home).join(".local/ft32-elf/bin")) {
                return Ok(tc);
            }
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                if let Some(tc) = Toolchain::at(&dir) {
                    return Ok(tc);
                }
            }
        }
        Err(format!(
            "the ft32-elf toolchain (ft32-elf-gcc, ft32-elf-run) was not found; looked in: {}.\n{}",
            Toolchain::search_locations().join(", "),
            install_hint()
        ))
    }

    /// Like [`Toolchain::find`] but panics (fails the test) with the install instructions.
    pub fn require() -> Toolchain {
        match Toolchain::find() {
            Ok(tc) => tc,
            Err(msg) => panic!("\n\n{msg}\n"),
        }
    }
}

pub fn install_hint() -> String {
    "Install it with `toolchain/install.sh` (from the repository root; it unpacks the prebuilt \
     ft32-elf toolchain into $HOME/.local/ft32-elf), or point FT32_TOOLCHAIN at an existing \
     installation prefix (the directory that contains bin/ft32-elf-gcc), e.g. \
     `FT32_TOOLCHAIN=/opt/ft32/ft32-elf cargo test ...`."
        .to_string()
}

/// Root of the cargo workspace (parent of the `ft900-sim` package directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("package has a parent dir")
        .to_path_buf()
}

/// The cargo target directory (`target/`), derived from `CARGO_TARGET_TMPDIR` (= `target/tmp`).
pub fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Result of running a child process with a wall-clock limit.
#[derive(Debug, Clone)]
pub struct ProcOutput {
    /// `None` when the process was killed because it exceeded the time limit.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl ProcOutput {
    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }
    /// The host signal that killed the process, if any (Unix only).
    pub fn host_signal(&self) -> Option<i32> {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            self.status.and_then(|s| s.signal())
        }
        #[cfg(not(unix))]
        {
            None
        }
    }
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Run `cmd` with `stdin` bytes as its standard input, capturing stdout and stderr, killing it after
/// `limit`. Output beyond `max_output` bytes per stream is discarded (a runaway program cannot exhaust
/// memory).
pub fn run_with_timeout(
    cmd: &mut Command,
    stdin: &[u8],
    limit: Duration,
    max_output: usize,
) -> std::io::Result<ProcOutput> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut child_stdin = child.stdin.take();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(mut s) = child_stdin.take() {
            use std::io::Write;
            // The guest may never read its input or may exit early: ignore EPIPE.
            let _ = s.write_all(&input);
        }
    });
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 16384];
            loop {
                match r.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = max_output.saturating_sub(buf.len());
                        buf.extend_from_slice(&chunk[..n.min(room)]);
                    }
                }
            }
            buf
        })
    };
    let out_t = reader(Box::new(child.stdout.take().expect("stdout piped")));
    let err_t = reader(Box::new(child.stderr.take().expect("stderr piped")));

    let mut sleep = Duration::from_millis(1);
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(sleep);
        sleep = (sleep * 2).min(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let _ = writer.join();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    Ok(ProcOutput {
        status,
        stdout,
        stderr,
        elapsed,
    })
}

/// Run `f` over `items` on `threads` worker threads; results come back in input order.
pub fn parallel_map<T, R, F>(items: Vec<T>, threads: usize, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, T) -> R + Sync,
{
    use std::sync::Mutex;
    let n = items.len();
    let queue = Mutex::new(
        items
            .into_iter()
            .enumerate()
            .collect::<std::collections::VecDeque<_>>(),
    );
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().unwrap().pop_front();
                let Some((i, item)) = next else { break };
                let r = f(i, item);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item processed"))
        .collect()
}

/// Number of worker threads for the heavy suites: `$FT900_TEST_JOBS`, default 2.
pub fn jobs() -> usize {
    std::env::var("FT900_TEST_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2)
}

/// A short, printable rendering of bytes (escapes control characters), at most `max` input bytes.
pub fn show_bytes(b: &[u8], max: usize) -> String {
    let mut s = String::new();
    for &c in b.iter().take(max) {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    if b.len() > max {
        s.push('…');
    }
    s
}

/// Stable 64-bit FNV-1a hash (used for cache keys; must not change between runs).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        // separator so that ("ab","c") != ("a","bc")
        h ^= 0xff;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// A firmware build: where it went and what `make` printed (the size lines).
pub struct MakeOutput {
    pub dir: PathBuf,
    pub stdout: String,
}

/// Runs `make -C firmware BUILD=<dir> <args>` with the toolchain found by [`Toolchain::require`]
/// (passed as `FT32_TOOLCHAIN`). Returns the build, or an error that quotes the command and both
/// of its outputs.
pub fn make_firmware<S: AsRef<std::ffi::OsStr>>(
    dir: &Path,
    args: &[S],
) -> Result<MakeOutput, String> {
    let tc = Toolchain::require();
    let prefix = tc
        .bin
        .parent()
        .expect("the toolchain's bin directory has a parent")
        .to_path_buf();
    let firmware = workspace_root().join("firmware");
    let out = Command::new("make")
        .arg("-C")
        .arg(&firmware)
        .arg(format!("BUILD={}", dir.display()))
        .args(args)
        .env("FT32_TOOLCHAIN", &prefix)
        .output()
        .map_err(|e| {
            format!(
                "cannot run `make` ({e}): GNU make is needed to build the firmware (apt-get install make)"
            )
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        return Err(format!(
            "`make -C {} BUILD={} {}` failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            firmware.display(),
            dir.display(),
            shown.join(" "),
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(MakeOutput {
        dir: dir.to_path_buf(),
        stdout,
    })
}
