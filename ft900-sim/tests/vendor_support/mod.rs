//! Building and running the vendor's FT9xx SDK examples in tests.
//!
//! [`build_example`] runs `sdk/build.sh` (the repository's build path for SDK projects: the SDK
//! from `FT9XX_SDK` or `../shared/vendor`, libft900 built once per SDK, the example with the
//! vendor's start-up code and linker script) once per example and test process, and fails the
//! test with build.sh's own message when the SDK, the toolchain or lwIP is missing: these tests
//! never skip. [`Session`] runs an ELF in-process on a fresh FT900 from its reset vector with
//! RAM empty, UART0 captured with virtual timestamps, input fed at virtual times, and stops at a
//! virtual-time limit; [`run_example`] is the one-call form.
//!
//! Needs `support` (the toolchain finder) in the same test crate: `mod support;` before
//! `mod vendor_support;`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{ChipRevision, Ft900, Ft900Config, UnmodelledAccess};
use ft900_sim::{Machine, Profile, RunLimits, StopReason};
use sim_link::{Link, Nanos};

use crate::support;

/// CPU cycles per second (100 MHz) and nanoseconds per cycle.
pub const HZ: u64 = 100_000_000;
pub const NS_PER_CYCLE: u64 = 10;
/// Virtual nanoseconds per millisecond and per second.
pub const MS: u64 = 1_000_000;
pub const SECOND: u64 = 1_000_000_000;

// ---- building -----------------------------------------------------------------------------

/// How to build a project beyond the defaults of `sdk/build.sh`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BuildOpts {
    /// Extra compiler flags (`--cflags`), e.g. `-DpvContainer=pxContainer`.
    pub cflags: String,
    /// An SDK directory to use instead of the vendor tarball (`FT9XX_SDK`).
    pub sdk: Option<PathBuf>,
    /// The build's name under `target/sdk` (`--name`); default: from the project's name.
    pub name: Option<String>,
}

/// `sdk/build.sh`.
pub fn build_script() -> PathBuf {
    support::workspace_root().join("sdk").join("build.sh")
}

/// Runs `sdk/build.sh` with the toolchain [`support::Toolchain::require`] finds and the build
/// directory `target/sdk`; returns the last line of its standard output (what it printed).
fn run_build_script(args: &[&str], sdk: Option<&Path>) -> Result<String, String> {
    let tc = support::Toolchain::require();
    let prefix = tc.bin.parent().expect("bin has a parent").to_path_buf();
    let mut cmd = Command::new("bash");
    cmd.arg(build_script())
        .args(args)
        .env("FT32_TOOLCHAIN", &prefix)
        .env("SDK_BUILD_DIR", support::target_dir().join("sdk"));
    match sdk {
        Some(dir) => cmd.env("FT9XX_SDK", dir),
        None => cmd.env_remove("FT9XX_SDK"),
    };
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run bash {}: {e}", build_script().display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "`sdk/build.sh {}` failed ({}):\n{}{}\nThe SDK tests need the vendor tarballs in \
             ../shared/vendor (or FT9XX_SDK=DIR), the ft32-elf toolchain and, for lwIP, \
             firmware/third_party/fetch.sh.",
            args.join(" "),
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    stdout
        .lines()
        .last()
        .map(str::to_string)
        .ok_or_else(|| format!("`sdk/build.sh {}` printed nothing", args.join(" ")))
}

/// The unpacked SDK `sdk/build.sh` uses (unpacked on first use), or `FT9XX_SDK` when set.
pub fn sdk_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let sdk = std::env::var_os("FT9XX_SDK").map(PathBuf::from);
        run_build_script(&["--print-sdk"], sdk.as_deref()).map(PathBuf::from)
    });
    match dir {
        Ok(d) => d.clone(),
        Err(msg) => panic!("\n{msg}\n"),
    }
}

type Built = Arc<OnceLock<Result<PathBuf, String>>>;

/// Builds `project` (an SDK example's name or a project directory) with `opts`, once per test
/// process and distinct options; panics with build.sh's message when it cannot.
pub fn build_with(project: &str, opts: &BuildOpts) -> PathBuf {
    static BUILDS: OnceLock<Mutex<HashMap<(String, BuildOpts), Built>>> = OnceLock::new();
    let cell = BUILDS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry((project.to_string(), opts.clone()))
        .or_default()
        .clone();
    let built = cell.get_or_init(|| {
        let mut args = vec![project.to_string()];
        if !opts.cflags.is_empty() {
            args.push("--cflags".into());
            args.push(opts.cflags.clone());
        }
        if let Some(name) = &opts.name {
            args.push("--name".into());
            args.push(name.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let sdk = opts
            .sdk
            .clone()
            .or_else(|| std::env::var_os("FT9XX_SDK").map(PathBuf::from));
        run_build_script(&args, sdk.as_deref()).map(PathBuf::from)
    });
    match built {
        Ok(p) => p.clone(),
        Err(msg) => panic!("\n{msg}\n"),
    }
}

/// Builds the SDK example `name` (a folder of the SDK's `Examples/`) with the defaults.
pub fn build_example(name: &str) -> PathBuf {
    build_with(name, &BuildOpts::default())
}

// ---- running ------------------------------------------------------------------------------

/// The silicon revision a run simulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chip {
    /// FT900 revision B.
    RevB,
    /// FT900 revision C (what is sold today).
    RevC,
}

impl Chip {
    /// Both revisions, for tests of examples that support both.
    pub const BOTH: [Chip; 2] = [Chip::RevB, Chip::RevC];

    /// The simulator's name for this revision.
    pub fn revision(self) -> ChipRevision {
        match self {
            Chip::RevB => ChipRevision::Ft900RevB,
            Chip::RevC => ChipRevision::Ft900RevC,
        }
    }

    /// The device configuration that makes the model this revision.
    fn config(self) -> Ft900Config {
        Ft900Config {
            chip: self.revision(),
            ..Ft900Config::default()
        }
    }
}

impl std::fmt::Display for Chip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.revision().name())
    }
}

/// How to run an example.
pub struct RunOpts {
    pub chip: Chip,
    /// Bytes for UART0's receiver, each batch queued at its virtual time (ns); the UART takes
    /// a batch one byte per character time, as from a terminal pasting it.
    pub uart0_input: Vec<(Nanos, Vec<u8>)>,
    /// The run's virtual-time limit, in seconds.
    pub max_virtual_secs: u64,
    /// What the Ethernet port is cabled to; `None`: no cable.
    pub eth: Option<Box<dyn Link>>,
    /// A board around the chip (`--board`: its I2C devices and LEDs; the chip revision stays
    /// [`RunOpts::chip`]); `None`: a bare chip.
    pub board: Option<String>,
}

impl RunOpts {
    /// `chip`, no input, no cable, 10 s of virtual time.
    pub fn new(chip: Chip) -> RunOpts {
        RunOpts {
            chip,
            uart0_input: Vec::new(),
            max_virtual_secs: 10,
            eth: None,
            board: None,
        }
    }
}

/// A `Write` that keeps what the simulator reports (unmodelled accesses, chip resets).
#[derive(Clone, Default)]
pub struct SharedText(Arc<Mutex<Vec<u8>>>);

impl Write for SharedText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedText {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// What a run left behind.
#[derive(Clone, Debug)]
pub struct Transcript {
    pub name: String,
    pub chip: Chip,
    /// Why the run ended (`CycleLimit` at the virtual-time limit).
    pub stop: StopReason,
    pub cycles: u64,
    /// Bytes UART0 sent and the virtual time (ns) each left the transmitter.
    pub uart0: Vec<u8>,
    pub uart0_times: Vec<Nanos>,
    pub unmodelled: Vec<UnmodelledAccess>,
    /// The simulator's reports (unmodelled registers, chip resets).
    pub diagnostics: String,
}

impl Transcript {
    /// UART0's output as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.uart0).into_owned()
    }

    /// UART0's lines, each with the virtual time (ns) its first byte was sent; line ends
    /// (`\r`, `\n`) removed.
    pub fn lines(&self) -> Vec<(Nanos, String)> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, &b) in self.uart0.iter().enumerate() {
            if b == b'\n' {
                let line = String::from_utf8_lossy(&self.uart0[start..i]);
                out.push((
                    self.uart0_times[start.min(i)],
                    line.trim_end_matches('\r').to_string(),
                ));
                start = i + 1;
            }
        }
        if start < self.uart0.len() {
            let line = String::from_utf8_lossy(&self.uart0[start..]);
            out.push((self.uart0_times[start], line.to_string()));
        }
        out
    }

    /// Everything a failure message needs.
    pub fn context(&self) -> String {
        format!(
            "{} on {} stopped ({}) at {:.3} s virtual\n--- UART0 ---\n{}\n--- simulator reports ---\n{}",
            self.name,
            self.chip,
            self.stop,
            self.cycles as f64 / HZ as f64,
            self.text(),
            self.diagnostics
        )
    }

    /// Panics (with the context) unless `line` is one of UART0's lines.
    pub fn assert_line(&self, line: &str) {
        assert!(
            self.lines().iter().any(|(_, l)| l == line),
            "expected the UART0 line {line:?}\n{}",
            self.context()
        );
    }

    /// The virtual time of the first line that starts with `prefix`, if any.
    pub fn time_of(&self, prefix: &str) -> Option<Nanos> {
        self.lines()
            .into_iter()
            .find(|(_, l)| l.starts_with(prefix))
            .map(|(t, _)| t)
    }

    /// Panics (with the context) if the run touched a register the model lacks.
    pub fn assert_all_modelled(&self) {
        assert!(
            self.unmodelled.is_empty(),
            "the example touched registers that are not modelled: {:?}\n{}",
            self.unmodelled,
            self.context()
        );
    }
}

/// One example on a fresh FT900, run in virtual-time slices.
pub struct Session {
    pub name: String,
    pub chip: Chip,
    pub m: Machine<Ft900>,
    pub uart0: Capture,
    pub diagnostics: SharedText,
    input: Vec<(Nanos, Vec<u8>)>,
    limit_cycles: u64,
}

impl Session {
    /// Loads `elf` as flash holds it (RAM empty) and resets the chip.
    pub fn new(elf: &Path, opts: RunOpts) -> Session {
        let bytes =
            std::fs::read(elf).unwrap_or_else(|e| panic!("{}: cannot read: {e}", elf.display()));
        let program = Program::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", elf.display()));
        let mut profile = Ft900::new(opts.chip.config());
        let diagnostics = SharedText::default();
        profile.set_diagnostics(Box::new(diagnostics.clone()));
        let uart0 = Capture::new();
        profile.uart[0].set_backend(Box::new(uart0.clone()));
        if let Some(link) = opts.eth {
            profile.eth.attach_link(link);
        }
        if let Some(name) = &opts.board {
            let board =
                ft900_sim::board::Board::load(name).unwrap_or_else(|e| panic!("board {name}: {e}"));
            board.attach(&mut profile);
        }
        let mut m = Machine::with_standard_memory(profile);
        program
            .load_into(&mut m.core, LoadPolicy::Rom)
            .unwrap_or_else(|e| panic!("{}: {e}", elf.display()));
        m.profile.reset(&mut m.core, program.entry);
        let mut input = opts.uart0_input;
        input.sort_by_key(|(t, _)| *t);
        Session {
            name: elf
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            chip: opts.chip,
            m,
            uart0,
            diagnostics,
            input,
            limit_cycles: opts.max_virtual_secs * HZ,
        }
    }

    /// Virtual time now, in nanoseconds.
    pub fn now(&self) -> Nanos {
        self.m.core.cycles * NS_PER_CYCLE
    }

    /// Queues `bytes` for UART0 now.
    pub fn feed(&self, bytes: &[u8]) {
        self.uart0.feed(bytes);
    }

    /// Runs one slice of at most 1 ms (feeding scheduled input first); `Some(stop)` when the
    /// program ended or the virtual-time limit was reached.
    fn slice(&mut self) -> Option<StopReason> {
        let now = self.now();
        while self.input.first().is_some_and(|(t, _)| *t <= now) {
            let (_, bytes) = self.input.remove(0);
            self.uart0.feed(&bytes);
        }
        let mut next = (self.m.core.cycles + HZ / 1000).min(self.limit_cycles);
        if let Some((t, _)) = self.input.first() {
            next = next.min((t / NS_PER_CYCLE).max(self.m.core.cycles + 1));
        }
        if self.m.core.cycles >= self.limit_cycles {
            return Some(StopReason::CycleLimit);
        }
        match self.m.run(RunLimits {
            cycle_deadline: Some(next),
            ..RunLimits::default()
        }) {
            StopReason::CycleLimit if self.m.core.cycles < self.limit_cycles => None,
            other => Some(other),
        }
    }

    /// Runs until `done` holds on the UART0 text so far; `Err(transcript)` if the program
    /// stopped or the time limit came first.
    pub fn run_until(&mut self, mut done: impl FnMut(&str) -> bool) -> Result<(), Box<Transcript>> {
        loop {
            if done(&self.uart0.text()) {
                return Ok(());
            }
            if let Some(stop) = self.slice() {
                return Err(Box::new(self.transcript(stop)));
            }
        }
    }

    /// Like [`Session::run_until`] but panics with the transcript and `what` was awaited.
    pub fn expect(&mut self, what: &str, done: impl FnMut(&str) -> bool) {
        if let Err(t) = self.run_until(done) {
            panic!("waited for {what}\n{}", t.context());
        }
    }

    /// Runs until UART0 has printed `text` (anywhere), panicking otherwise.
    pub fn expect_text(&mut self, text: &str) {
        let t = text.to_string();
        self.expect(&format!("{text:?} on UART0"), move |out| out.contains(&t));
    }

    /// Runs for `ns` more virtual nanoseconds (or to the limit); `Some(stop)` if it ended.
    pub fn run_for(&mut self, ns: Nanos) -> Option<StopReason> {
        let end = self.now() + ns;
        while self.now() < end {
            if let Some(stop) = self.slice() {
                return Some(stop);
            }
        }
        None
    }

    /// Runs to the virtual-time limit (or the program's end) and returns the transcript.
    pub fn finish(mut self) -> Transcript {
        let stop = loop {
            if let Some(stop) = self.slice() {
                break stop;
            }
        };
        self.transcript(stop)
    }

    /// What happened so far.
    pub fn transcript(&mut self, stop: StopReason) -> Transcript {
        self.m.profile.flush();
        Transcript {
            name: self.name.clone(),
            chip: self.chip,
            stop,
            cycles: self.m.core.cycles,
            uart0: self.uart0.output(),
            uart0_times: self.uart0.output_times(),
            unmodelled: self.m.profile.unmodelled_accesses().to_vec(),
            diagnostics: self.diagnostics.text(),
        }
    }
}

/// Runs `elf` with `opts` to its virtual-time limit (or its end) and returns the transcript.
pub fn run_example(elf: &Path, opts: RunOpts) -> Transcript {
    Session::new(elf, opts).finish()
}

/// A line of the example's hexdump: `0x0010: 72 20 ... | r sit amet, cons`.
pub fn dump_line(offset: usize, bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    let text: String = bytes
        .iter()
        .map(|&b| {
            if (b' '..=b'~').contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("0x{offset:04x}: {}  | {text}", hex.join(" "))
}
