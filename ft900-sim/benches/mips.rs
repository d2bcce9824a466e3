//! MIPS benchmark: CPU-bound guests (the kind of work a TLS stack does) on our simulator and on
//! the reference simulator `ft32-elf-run` (binutils-gdb), side by side, with the speed ratio.
//!
//! ```text
//! cargo bench -p ft900-sim --bench mips            # all guests, both engines, median of 3
//! cargo bench -p ft900-sim --bench mips -- sha     # only guests whose name contains "sha"
//! FT900_BENCH_QUICK=1 cargo bench -p ft900-sim --bench mips   # one repetition
//! ```
//!
//! The guests (`benches/guest/*.c`) are compiled with `ft32-elf-gcc -msim -O2` into
//! `target/bench-guests/` (recompiled only when the source or the compiler command changed).
//! The `mbedtls` guest runs mbedTLS 2.28's own P-256, AES and SHA-256 self tests (the work of a
//! TLS handshake and its records), compiled from `.cache/third_party/mbedtls`
//! (`firmware/third_party/fetch.sh`) with `benches/guest/mbedtls/bench_config.h`; it checks
//! mbedTLS's known answers. Each other guest checks its own result against a value computed on
//! the host and exits 0 only if it
//! matches; the benchmark also requires both simulators to print identical console output.
//!
//! Ours runs in-process through the library API (parse + load + run timed), once per engine
//! (`interp`, `jit`); the reference runs as a child process (wall time of the whole process).
//! The runs are interleaved and each column is the median of N repetitions.
//!
//! Environment:
//! - `FT900_BENCH_QUICK=1`: one repetition instead of five (also the default when the binary is
//!   run without `--bench`, e.g. by `cargo test --benches`);
//! - `FT900_BENCH_REPS=n`: n repetitions;
//! - `FT32_TOOLCHAIN`: prefix of the ft32-elf toolchain (tools in `$FT32_TOOLCHAIN/bin`); else
//!   `$HOME/.local/ft32-elf/bin`, else `PATH`. A missing toolchain is an error, never a skip.
//!
//! Unknown `--flags` are ignored; other arguments are substring filters on guest names.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::{Engine, Machine, Profile, RunLimits, StopReason};

/// Guest programs (file stems in `benches/guest/`), in table order.
const GUESTS: &[&str] = &["sha256", "crc32", "modexp", "qsort", "mbedtls"];

/// mbedTLS sources the `mbedtls` guest is linked with (from `.cache/third_party/mbedtls`).
const MBEDTLS_SOURCES: &[&str] = &[
    "aes",
    "bignum",
    "constant_time",
    "ctr_drbg",
    "ecp",
    "ecp_curves",
    "platform",
    "platform_util",
    "sha256",
];

/// Extra compiler arguments of a guest: the `mbedtls` guest is built with mbedTLS's sources,
/// fetched by `firmware/third_party/fetch.sh` (a missing tree is an error, never a skip).
fn guest_args(name: &str) -> Result<Vec<String>> {
    if name != "mbedtls" {
        return Ok(Vec::new());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/third_party/mbedtls");
    if !root.join("library/ecp.c").is_file() {
        return Err(format!(
            "the mbedtls guest needs mbedTLS's sources in {}; fetch them with \
             `firmware/third_party/fetch.sh` (from the repository root)",
            root.display()
        ));
    }
    let mut args = vec![
        format!("-I{}", guest_dir().join("mbedtls").display()),
        format!("-I{}", root.join("include").display()),
        "-DMBEDTLS_CONFIG_FILE=\"bench_config.h\"".to_string(),
    ];
    args.extend(
        MBEDTLS_SOURCES
            .iter()
            .map(|s| root.join(format!("library/{s}.c")).display().to_string()),
    );
    Ok(args)
}

/// Compiler flags for every guest.
const CFLAGS: &[&str] = &["-msim", "-O2"];

/// Instruction limit of one of our runs (the guests need ~200 million).
const MAX_INSNS: u64 = 4_000_000_000;

/// Repetitions by default (median of).
const DEFAULT_REPS: usize = 5;

/// The acceptance target for the ratio (ours / reference MIPS) of the default engine on every
/// guest (issue 15: ten times the reference).
const TARGET_RATIO: f64 = 10.0;

type Result<T> = std::result::Result<T, String>;

// ---------------------------------------------------------------------------------------------
// Toolchain discovery (same order as the integration tests)
// ---------------------------------------------------------------------------------------------

struct Toolchain {
    gcc: PathBuf,
    run: PathBuf,
}

impl Toolchain {
    fn at(bin: &Path) -> Option<Toolchain> {
        let tc = Toolchain {
            gcc: bin.join("ft32-elf-gcc"),
            run: bin.join("ft32-elf-run"),
        };
        (tc.gcc.is_file() && tc.run.is_file()).then_some(tc)
    }

    fn find() -> Result<Toolchain> {
        let hint = "Install it with `toolchain/install.sh` (from the repository root; it puts the \
                    prebuilt ft32-elf toolchain into $HOME/.local/ft32-elf), or point FT32_TOOLCHAIN \
                    at an installation prefix (the directory containing bin/ft32-elf-gcc), e.g. \
                    `FT32_TOOLCHAIN=/opt/ft32/ft32-elf cargo bench -p ft900-sim --bench mips`.";
        if let Some(prefix) = std::env::var_os("FT32_TOOLCHAIN") {
            let bin = Path::new(&prefix).join("bin");
            return Toolchain::at(&bin).ok_or_else(|| {
                format!(
                    "FT32_TOOLCHAIN is set to {} but {}/ft32-elf-gcc and ft32-elf-run do not exist.\n{hint}",
                    Path::new(&prefix).display(),
                    bin.display()
                )
            });
        }
        let mut looked = vec!["$FT32_TOOLCHAIN (not set)".to_string()];
        if let Some(home) = std::env::var_os("HOME") {
            let bin = Path::new(&home).join(".local/ft32-elf/bin");
            if let Some(tc) = Toolchain::at(&bin) {
                return Ok(tc);
            }
            looked.push(bin.display().to_string());
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                if let Some(tc) = Toolchain::at(&dir) {
                    return Ok(tc);
                }
            }
        }
        looked.push("PATH".to_string());
        Err(format!(
            "the ft32-elf toolchain (ft32-elf-gcc, ft32-elf-run) was not found; looked in: {}.\n{hint}",
            looked.join(", ")
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling the guests
// ---------------------------------------------------------------------------------------------

fn guest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/guest")
}

/// `target/bench-guests/` (the target directory is the parent of `CARGO_TARGET_TMPDIR`).
fn out_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    match tmp.parent() {
        Some(target) => target.join("bench-guests"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-guests"),
    }
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Compiles `guest_dir()/name.c` to `out_dir()/name.elf` unless that is up to date: newer than
/// the source and built by the same compiler command (recorded in `name.cmd`).
fn compile(tc: &Toolchain, name: &str) -> Result<PathBuf> {
    let src = guest_dir().join(format!("{name}.c"));
    let dir = out_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let elf = dir.join(format!("{name}.elf"));
    let stamp = dir.join(format!("{name}.cmd"));
    let extra = guest_args(name)?;
    let cmdline = format!(
        "{} {} {} {}",
        tc.gcc.display(),
        CFLAGS.join(" "),
        src.display(),
        extra.join(" ")
    );

    let mut src_time = mtime(&src).ok_or_else(|| format!("cannot read {}", src.display()))?;
    // A guest's own headers (the mbedtls guest's configuration) make it stale too.
    let own_headers = guest_dir().join(name);
    if let Ok(dir) = std::fs::read_dir(&own_headers) {
        for entry in dir.flatten() {
            if let Some(t) = mtime(&entry.path()) {
                src_time = src_time.max(t);
            }
        }
    }
    let fresh = matches!(mtime(&elf), Some(t) if t >= src_time)
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(cmdline.as_str());
    if fresh {
        return Ok(elf);
    }

    eprintln!("compiling {name}: {cmdline}");
    let tmp = dir.join(format!("{name}.elf.tmp"));
    let out = Command::new(&tc.gcc)
        .args(CFLAGS)
        .arg(&src)
        .args(&extra)
        .arg("-o")
        .arg(&tmp)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tc.gcc.display()))?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "compiling {} failed ({}):\n{}",
            src.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::rename(&tmp, &elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    std::fs::write(&stamp, &cmdline).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(elf)
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/// Console output captured from our simulator.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// One run of a guest.
struct RunResult {
    time: Duration,
    stdout: Vec<u8>,
    /// Instructions executed (ours only).
    insns: u64,
}

/// Runs the ELF image in-process; the time covers parsing, loading and running.
fn run_ours(image: &[u8], engine: Engine) -> Result<RunResult> {
    let out = SharedBuf::default();
    let start = Instant::now();
    let program = Program::parse(image).map_err(|e| e.to_string())?;
    let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(out.clone())));
    m.set_engine(engine).map_err(|e| e.to_string())?;
    program
        .load_into(&mut m.core, LoadPolicy::Vma)
        .map_err(|e| e.to_string())?;
    m.profile.reset(&mut m.core, program.entry);
    let stop = m.run(RunLimits {
        max_insns: Some(MAX_INSNS),
        ..Default::default()
    });
    let time = start.elapsed();
    m.profile.flush().map_err(|e| e.to_string())?;
    let stdout = out.take();
    if stop != StopReason::Exited(0) {
        return Err(format!(
            "ours stopped with {stop:?} after {} instructions (pc {:#x}); output:\n{}",
            m.core.insns,
            m.core.pc,
            String::from_utf8_lossy(&stdout)
        ));
    }
    Ok(RunResult {
        time,
        stdout,
        insns: m.core.insns,
    })
}

/// Runs `ft32-elf-run --load-vma elf`; the time is the wall time of the process.
fn run_reference(tc: &Toolchain, elf: &Path) -> Result<RunResult> {
    let start = Instant::now();
    let out = Command::new(&tc.run)
        .arg("--load-vma")
        .arg(elf)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tc.run.display()))?;
    let time = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "ft32-elf-run exited with {}; stdout:\n{}stderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(RunResult {
        time,
        stdout: out.stdout,
        insns: 0,
    })
}

/// Shows a transient progress message on a terminal (overwritten by the next one).
fn progress(msg: &str) {
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[K{msg}");
        let _ = err.flush();
    }
}

/// Measured results of one guest: median times of each engine and of the reference.
struct Row {
    name: String,
    insns: u64,
    /// Per engine, in [`Engine::ALL`] order.
    ours: Vec<Duration>,
    reference: Duration,
}

impl Row {
    fn mips(&self, t: Duration) -> f64 {
        self.insns as f64 / t.as_secs_f64() / 1e6
    }
    fn ratio(&self, engine: usize) -> f64 {
        self.reference.as_secs_f64() / self.ours[engine].as_secs_f64()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs each engine and the reference `reps` times, interleaved (so that a change in host load
/// affects all of them alike), and keeps the medians. Both engines must give the same
/// instruction count and output, and the reference the same output.
fn bench_guest(tc: &Toolchain, name: &str, reps: usize) -> Result<Row> {
    let elf = compile(tc, name)?;
    let image = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;

    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); Engine::ALL.len()];
    let mut ref_times = Vec::new();
    let mut first: Option<RunResult> = None;
    for i in 0..reps {
        for (e, &engine) in Engine::ALL.iter().enumerate() {
            progress(&format!("{name}: {engine} {}/{reps}", i + 1));
            let r = run_ours(&image, engine).map_err(|e| format!("{name} ({engine}): {e}"))?;
            times[e].push(r.time);
            match &first {
                Some(f) if f.insns != r.insns || f.stdout != r.stdout => {
                    return Err(format!(
                        "{name}: runs differ ({engine}: {} instructions, first run: {})",
                        r.insns, f.insns
                    ))
                }
                Some(_) => {}
                None => first = Some(r),
            }
        }
        progress(&format!("{name}: reference {}/{reps}", i + 1));
        let r = run_reference(tc, &elf).map_err(|e| format!("{name}: {e}"))?;
        let ours = first.as_ref().expect("ours ran first");
        if r.stdout != ours.stdout {
            return Err(format!(
                "{name}: console output differs\n--- ours:\n{}--- ft32-elf-run:\n{}",
                String::from_utf8_lossy(&ours.stdout),
                String::from_utf8_lossy(&r.stdout)
            ));
        }
        ref_times.push(r.time);
    }
    progress("");
    let ours = first.expect("reps >= 1");
    eprint!("{}", String::from_utf8_lossy(&ours.stdout));

    Ok(Row {
        name: name.to_string(),
        insns: ours.insns,
        ours: times.into_iter().map(median).collect(),
        reference: median(ref_times),
    })
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn print_table(rows: &[Row], reps: usize) {
    println!();
    print!("{:<8} {:>13} {:>9}", "program", "instructions", "ref MIPS*");
    for e in Engine::ALL {
        print!(" {:>11} {:>8}", format!("{e} MIPS"), format!("{e} x"));
    }
    println!();
    for r in rows {
        print!("{:<8} {:>13} {:>9.1}", r.name, r.insns, r.mips(r.reference));
        for (e, &t) in r.ours.iter().enumerate() {
            print!(" {:>11.1} {:>7.2}x", r.mips(t), r.ratio(e));
        }
        println!();
    }
    for (e, engine) in Engine::ALL.iter().enumerate() {
        let geo = (rows.iter().map(|r| r.ratio(e).ln()).sum::<f64>() / rows.len() as f64).exp();
        let lowest = rows
            .iter()
            .map(|r| r.ratio(e))
            .fold(f64::INFINITY, f64::min);
        // The target is the default engine's, on every guest (issue 15); the other engine's
        // line is for comparison.
        let verdict = if *engine == Engine::host_default() {
            format!(
                "the default engine; target >= {TARGET_RATIO}x on every guest: {}",
                if lowest >= TARGET_RATIO {
                    "met"
                } else {
                    "NOT MET"
                }
            )
        } else {
            "not the default engine".to_string()
        };
        println!(
            "geometric-mean ratio {engine} / reference: {geo:.2}x, lowest {lowest:.2}x  ({verdict})"
        );
    }
    println!();
    println!(
        "times: median of {reps}, runs interleaved; ours = in-process parse + load + run through \
         the library API, same ELF; ref = wall time of the `ft32-elf-run --load-vma` process."
    );
    println!(
        "* reference MIPS is computed from OUR instruction count: ft32-elf-run executes the same \
         instruction stream (identical output is checked) but does not report a count."
    );
}

fn main() -> ExitCode {
    let mut bench_mode = false;
    let mut filters = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "--bench" {
            bench_mode = true;
        } else if !arg.starts_with('-') {
            filters.push(arg);
        } // other flags (cargo/libtest conventions) are ignored
    }
    let quick = std::env::var("FT900_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let mut reps = if quick || !bench_mode {
        1
    } else {
        DEFAULT_REPS
    };
    if let Ok(v) = std::env::var("FT900_BENCH_REPS") {
        match v.parse::<usize>() {
            Ok(n) if n >= 1 => reps = n,
            _ => eprintln!("ignoring FT900_BENCH_REPS={v:?} (want a positive integer)"),
        }
    }

    let guests: Vec<&str> = GUESTS
        .iter()
        .copied()
        .filter(|g| filters.is_empty() || filters.iter().any(|f| g.contains(f.as_str())))
        .collect();
    if guests.is_empty() {
        println!(
            "mips: no guest matches {filters:?} (guests: {})",
            GUESTS.join(", ")
        );
        return ExitCode::SUCCESS;
    }

    let tc = match Toolchain::find() {
        Ok(tc) => tc,
        Err(msg) => {
            eprintln!("error: {msg}");
            return ExitCode::FAILURE;
        }
    };

    let mut rows = Vec::new();
    let mut failed = false;
    for g in &guests {
        match bench_guest(&tc, g, reps) {
            Ok(row) => rows.push(row),
            Err(msg) => {
                eprintln!("\nerror: {msg}");
                failed = true;
            }
        }
    }
    if !rows.is_empty() {
        print_table(&rows, reps);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
