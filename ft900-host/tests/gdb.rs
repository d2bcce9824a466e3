//! The gdb stub (`ft900-sim run --gdb`) through the binary: whole sessions of `ft32-elf-gdb
//! -batch` and of a small raw remote-protocol client against the simulator on an ephemeral
//! loopback port. (The debug target through the library, on mock machines, is tested in
//! `ft900-sim/tests/gdb.rs`.)
//!
//! Nothing here depends on wall-clock timing: processes get generous limits only so that a hang
//! fails the test instead of blocking it forever.

mod cli;
#[path = "../../ft900-sim/tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ft900_sim::elf::Program;
use support::{run_with_timeout, Toolchain};

/// How long any child process may take before the test fails.
const LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Guest programs and processes
// ---------------------------------------------------------------------------------------------

const PROG_C: &str = r#"
#include <stdio.h>

volatile int counter;
int table[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
int mode;

int square(int x)
{
    int r = x * x;
    return r;
}

int bad_io(void)
{
    return *(volatile int *)0x10004;
}

void bad_lpm(void)
{
    __asm__ volatile ("lpm.l $r1, 0x40000");
}

void own_trap(void)
{
    __asm__ volatile ("call 8");
}

int main(void)
{
    int total = 0;
    int i;
    if (mode == 1)
        bad_io();
    if (mode == 2)
        bad_lpm();
    if (mode == 3)
        own_trap();
    for (i = 0; i < 5; i++) {
        total += square(i + 2);
        counter = counter + 1;
    }
    printf("total %d\n", total);
    return total & 0x3f;
}
"#;

/// The exit status of PROG_C: (4 + 9 + 16 + 25 + 36) & 0x3f.
const PROG_STATUS: i32 = 90 & 0x3f;

const SPIN_C: &str = r#"
volatile unsigned long spins;

void spin(void)
{
    for (;;)
        spins++;
}

int main(void)
{
    spin();
    return 0;
}
"#;

/// For the ft900 machine: no C runtime, starts at the reset vector, exits through 0x1FFFC.
const LOOP900_S: &str = r#"
	.text
	.global _start
_start:
	ldk.l	$r0, 0
	ldk.l	$r1, 0
again:
	add.l	$r0, $r0, 1
	.global	mark
mark:
	add.l	$r1, $r1, 2
	cmp.l	$r0, 100
	jmpc	nz, again
	ldk.l	$r0, 42
	sta.l	0x1fffc, $r0
"#;

/// Compiles `source` (C or assembly, by `ext`) into `target/gdb-tests/NAME.elf`, once per
/// test run (tests run in parallel and share the programs).
fn build(name: &str, ext: &str, source: &str, flags: &[&str]) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let tc = Toolchain::require();
    let dir = support::target_dir().join("gdb-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("{name}.{ext}"));
    let elf = dir.join(format!("{name}.elf"));
    if built.iter().any(|n| n == name) {
        return elf;
    }
    std::fs::write(&src, source).unwrap();
    let out = Command::new(&tc.gcc)
        .args(flags)
        .arg(&src)
        .arg("-o")
        .arg(&elf)
        .output()
        .expect("run ft32-elf-gcc");
    assert!(
        out.status.success(),
        "compiling {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    built.push(name.to_string());
    elf
}

fn prog() -> PathBuf {
    build("prog", "c", PROG_C, &["-msim", "-g", "-O0"])
}

fn spin() -> PathBuf {
    build("spin", "c", SPIN_C, &["-msim", "-g", "-O0"])
}

/// A simulator process serving gdb, with its stderr collected as it comes.
struct Sim {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
    stdout: Option<std::thread::JoinHandle<String>>,
    lines: mpsc::Receiver<String>,
}

impl Sim {
    /// Starts `ft900-sim run --gdb 127.0.0.1:0 ARGS... ELF` and waits for the port.
    fn start(elf: &Path, args: &[&str]) -> Sim {
        let mut child = Command::new(cli::sim_binary())
            .args(["run", "--gdb", "127.0.0.1:0"])
            .args(args)
            .arg(elf)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ft900-sim");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        let collected = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                collected.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let mut sim = Sim {
            child,
            port: 0,
            stderr,
            stdout: Some(stdout),
            lines,
        };
        sim.port = sim
            .wait_line("gdb: listening on 127.0.0.1:")
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the listening message");
        sim
    }

    /// Waits for a stderr line containing `needle`.
    fn wait_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "no `{needle}` from the simulator; stderr:\n{}",
                        self.stderr.lock().unwrap()
                    );
                }
            }
        }
    }

    /// Waits for the simulator to end: exit status, stdout, stderr.
    fn finish(mut self) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the simulator did not end; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = self
            .stdout
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        // Let the reader thread drain what is left.
        while self.lines.recv_timeout(Duration::from_secs(5)).is_ok() {}
        let stderr = self.stderr.lock().unwrap().clone();
        (status, stdout, stderr)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `ft32-elf-gdb -batch` on `elf`, connected to `port`, with `commands`; returns its
/// stdout and stderr together.
fn gdb(elf: &Path, port: u16, commands: &[&str]) -> String {
    let tc = Toolchain::require();
    let mut cmd = Command::new(&tc.gdb);
    cmd.args(["-batch", "-nx"]);
    cmd.arg("-ex")
        .arg(format!("target remote 127.0.0.1:{port}"));
    for c in commands {
        cmd.arg("-ex").arg(c);
    }
    cmd.arg(elf);
    let out = run_with_timeout(&mut cmd, b"", LIMIT, 1 << 20).expect("run ft32-elf-gdb");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.timed_out(), "gdb hung:\n{text}");
    text
}

fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "expected `{needle}` in:\n{text}");
}

/// The value of register `name` in `info registers` output.
fn info_reg(text: &str, name: &str) -> u32 {
    text.lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(name)).then(|| words.next()).flatten()
        })
        .and_then(|v| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok())
        .unwrap_or_else(|| panic!("no register {name} in:\n{text}"))
}

// ---------------------------------------------------------------------------------------------
// Sessions with ft32-elf-gdb
// ---------------------------------------------------------------------------------------------

#[test]
fn gdb_session_on_a_c_program() {
    let elf = prog();
    let sim = Sim::start(&elf, &["--gdb-wait"]);
    let out = gdb(
        &elf,
        sim.port,
        &[
            "break square",
            "continue",
            "info args",
            "print x",
            "finish",
            "next",
            "info registers",
            "x/4xw &table",
            "watch counter",
            "continue",
            "stepi",
            "print $pc",
            "monitor cycles",
            "delete",
            "continue",
        ],
    );
    assert_has(&out, "Breakpoint 1, square (x=2) at");
    assert_has(&out, "x = 2\n");
    assert_has(&out, "$1 = 2\n");
    assert_has(&out, "Value returned is $2 = 4");
    assert_has(&out, "counter = counter + 1;");
    let pc = info_reg(&out, "pc");
    assert!(pc > 0 && pc < 0x4_0000, "pc {pc:#x}");
    let sp = info_reg(&out, "sp");
    assert!((0xF000..0x1_0000).contains(&sp), "sp {sp:#x}");
    assert_has(&out, "0x11111111\t0x22222222\t0x33333333\t0x44444444");
    assert_has(&out, "Hardware watchpoint 2: counter");
    assert_has(&out, "Old value = 0\nNew value = 1");
    assert_has(&out, "cycles ");
    assert_has(&out, "virtual time");
    assert_has(&out, &format!("exited with code 0{:o}", PROG_STATUS));
    let (status, stdout, stderr) = sim.finish();
    assert_eq!(status.code(), Some(PROG_STATUS), "stderr:\n{stderr}");
    assert_eq!(stdout, "total 90\n");
    assert_has(&stderr, "gdb: connected");
}

#[test]
fn stepi_executes_one_instruction() {
    let elf = prog();
    let sim = Sim::start(&elf, &["--gdb-wait"]);
    let out = gdb(
        &elf,
        sim.port,
        &[
            "break square",
            "continue",
            "print/x $pc",
            "stepi",
            "print/x $pc",
            "stepi",
            "print/x $pc",
            "kill",
        ],
    );
    let pcs: Vec<u32> = out
        .lines()
        .filter_map(|l| l.strip_prefix('$').and_then(|l| l.split_once(" = 0x")))
        .map(|(_, v)| u32::from_str_radix(v.trim(), 16).unwrap())
        .collect();
    assert_eq!(pcs.len(), 3, "{out}");
    assert_eq!(pcs[1], pcs[0] + 4, "{out}");
    assert_eq!(pcs[2], pcs[1] + 4, "{out}");
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
    assert_has(&stderr, "killed by the debugger");
}

/// gdb's `kill` tries `vKill` first and waits for its answer: the stub gives it (`OK`) before
/// it ends, so gdb reports the program killed instead of "Remote connection closed" (over MI,
/// where VS Code's Stop sends `kill`, that would be an `^error`).
#[test]
fn kill_is_answered_and_ends_the_simulator() {
    let elf = prog();
    let sim = Sim::start(&elf, &["--gdb-wait"]);
    let out = gdb(&elf, sim.port, &["kill", "info program"]);
    assert_has(&out, "[Inferior 1 (process 1) killed]");
    assert!(!out.contains("Remote connection closed"), "{out}");
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
}

#[test]
fn detach_lets_the_program_run_to_its_exit() {
    let elf = prog();
    let sim = Sim::start(&elf, &["--gdb-wait"]);
    let out = gdb(&elf, sim.port, &["break square", "continue", "detach"]);
    assert_has(&out, "Breakpoint 1, square (x=2)");
    let (status, stdout, stderr) = sim.finish();
    assert_eq!(status.code(), Some(PROG_STATUS), "stderr:\n{stderr}");
    assert_eq!(stdout, "total 90\n");
    assert_has(&stderr, "gdb: detached");
}

#[test]
fn monitor_reset_restarts_the_program() {
    let elf = prog();
    let sim = Sim::start(&elf, &["--gdb-wait"]);
    let out = gdb(
        &elf,
        sim.port,
        &[
            "break square",
            "continue",
            "continue",
            "print counter",
            "monitor reset",
            "maintenance flush register-cache",
            "print/x $pc",
            "print counter",
            "continue",
            "info args",
            "delete",
            "continue",
        ],
    );
    assert_has(&out, "$1 = 1\n");
    assert_has(&out, "machine reset; pc = 0x0");
    assert_has(&out, "$2 = 0x0\n");
    assert_has(&out, "$3 = 0\n");
    assert_has(&out, "x = 2\n");
    let (status, stdout, stderr) = sim.finish();
    assert_eq!(status.code(), Some(PROG_STATUS), "stderr:\n{stderr}");
    assert_eq!(stdout, "total 90\n");
}

#[test]
fn gdb_attaches_to_a_running_program_and_again_after_a_detach() {
    let elf = spin();
    // No --gdb-wait: the program runs before anyone connects.
    let mut sim = Sim::start(&elf, &[]);
    let first = gdb(&elf, sim.port, &["monitor help", "detach"]);
    assert_has(&first, "monitor step-irq");
    sim.wait_line("gdb: detached");
    let second = gdb(
        &elf,
        sim.port,
        &["watch spins", "continue", "info symbol $pc", "kill"],
    );
    assert_has(&second, "Hardware watchpoint 1: spins");
    assert_has(&second, "New value = ");
    assert_has(&second, "spin + ");
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
    assert_eq!(stderr.matches("gdb: connected").count(), 2, "{stderr}");
}

/// Runs PROG_C with `mode` set to `mode` at main, continues, and returns gdb's output.
fn fault_session(mode: u32) -> String {
    let elf = prog();
    let sim = Sim::start(&elf, &["--gdb-wait"]);
    let out = gdb(
        &elf,
        sim.port,
        &[
            "break main",
            "continue",
            &format!("set var mode = {mode}"),
            "continue",
            "info symbol $pc",
            "x/i $pc",
            "kill",
        ],
    );
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
    out
}

#[test]
fn an_undecoded_io_read_stops_with_sigill_at_the_load() {
    let out = fault_session(1);
    assert_has(&out, "Program received signal SIGILL");
    assert_has(&out, "bad_io + ");
    assert_has(&out, "ldi.l");
}

#[test]
fn an_lpm_beyond_program_memory_stops_with_sigsegv_at_the_lpm() {
    let out = fault_session(2);
    assert_has(&out, "Program received signal SIGSEGV");
    assert_has(&out, "bad_lpm + ");
    assert_has(&out, "lpm.l");
}

#[test]
fn the_guests_own_breakpoint_word_stops_with_sigtrap() {
    let out = fault_session(3);
    assert_has(&out, "Program received signal SIGTRAP");
    assert_has(&out, "own_trap + ");
}

/// Two calls deep, with values live across the calls (at -Os, `outer` saves them with the
/// `__prolog_$r15` helper).
const FRAMES_C: &str = r#"
volatile int sink;

__attribute__((noinline)) int inner(int a)
{
    sink = a;
    return a * 3;
}

__attribute__((noinline)) int outer(int a, int b)
{
    int x = inner(a);
    int y = inner(b);
    return x + y + a + b;
}

int main(void)
{
    return outer(2, 5) & 0x3f;
}
"#;

/// The value of `name` in `monitor regs` output (`   pc 000001b0 ...`, `  $sp 0000ffcc`).
fn monitor_reg(text: &str, name: &str) -> u32 {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        // gdb's own lines (`pc  0x1b0 ...`) do not parse as bare hex and are skipped.
        .find_map(|w| (w[0] == name).then(|| u32::from_str_radix(w[1], 16).ok())?)
        .unwrap_or_else(|| panic!("no {name} in monitor regs:\n{text}"))
}

/// What gdb reads through the stub is the machine's state, also in `-Os` code (whose frames
/// gdb 13 cannot unwind, see firmware/Makefile): registers agree with the simulator's own
/// `monitor regs`, and the word at `$sp` on entry to `inner` is the return address into
/// `outer`. With `-Og -fno-omit-frame-pointer`, gdb unwinds the whole chain and `finish`
/// returns the callee's value.
#[test]
fn gdb_reads_the_real_frames_and_unwinds_frame_pointer_code() {
    let commands = [
        "break inner",
        "continue",
        "continue",
        "info registers sp fp pc",
        "monitor regs",
        "info symbol *(unsigned *)$sp",
        "bt",
        "finish",
        "kill",
    ];
    let os = build("frames-os", "c", FRAMES_C, &["-msim", "-g", "-Os"]);
    let sim = Sim::start(&os, &["--gdb-wait"]);
    let out = gdb(&os, sim.port, &commands);
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
    assert_has(&out, "Breakpoint 1, inner (a=5)");
    for (gdb_name, monitor_name) in [("sp", "$sp"), ("fp", "$fp"), ("pc", "pc")] {
        assert_eq!(
            info_reg(&out, gdb_name),
            monitor_reg(&out, monitor_name),
            "{gdb_name}:\n{out}"
        );
    }
    // The second call of inner returns to outer+0x1c (after `call inner` at outer+0x18).
    assert_has(&out, "outer + 28 in section .text");

    let og = build(
        "frames-og",
        "c",
        FRAMES_C,
        &["-msim", "-g", "-Og", "-fno-omit-frame-pointer"],
    );
    let sim = Sim::start(&og, &["--gdb-wait"]);
    let out = gdb(&og, sim.port, &commands);
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
    assert_has(&out, "#0  inner (a=5");
    assert_has(&out, " in outer (a=");
    assert_has(&out, " in main () at ");
    assert_has(&out, "Value returned is $1 = 15");
}

/// FT900 firmware (the firmware's own start-up code, linker script and HAL) that makes an
/// illegal access: a load through a `__flash__` pointer past the end of program memory.
const FAULT900_C: &str = r#"
#include <stdint.h>

volatile uint32_t sink;

/* Program memory ends at 0x40000: this load is an illegal access. */
__attribute__((noinline)) uint32_t read_past_flash(uint32_t offset)
{
    const __flash__ uint32_t *p = (const __flash__ uint32_t *)(0x40000 + offset);
    return *p;
}

int main(void)
{
    sink = 1;
    sink = read_past_flash(sink * 8);
    return 0;
}
"#;

/// Builds FAULT900_C against `make -C firmware lib` (crt0 and the HAL), with frame pointers
/// so that gdb can unwind it.
fn fault900() -> PathBuf {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(elf) = built.as_ref() {
        return elf.clone();
    }
    let elf = build_with_hal("fault900", FAULT900_C);
    *built = Some(elf.clone());
    elf
}

/// Compiles C `source` into `target/gdb-tests/NAME.elf` against `make -C firmware lib` (crt0
/// and the HAL), with frame pointers so that gdb can unwind it. Callers build each program
/// once; `make` serialises itself on the library.
fn build_with_hal(name: &str, source: &str) -> PathBuf {
    static LIB: Mutex<()> = Mutex::new(());
    let tc = Toolchain::require();
    let dir = support::target_dir().join("gdb-tests");
    let fw = dir.join("fw");
    {
        let _lib = LIB.lock().unwrap_or_else(|e| e.into_inner());
        support::make_firmware(&fw, &["lib"]).unwrap_or_else(|e| panic!("{e}"));
    }
    let src = dir.join(format!("{name}.c"));
    let elf = dir.join(format!("{name}.elf"));
    std::fs::write(&src, source).unwrap();
    let ldscript = support::workspace_root().join("firmware/startup/ft900.ld");
    let out = Command::new(&tc.gcc)
        .args([
            "-Og",
            "-g",
            "-fno-omit-frame-pointer",
            "-nostartfiles",
            "-nostdlib",
        ])
        .arg(format!(
            "-I{}",
            support::workspace_root()
                .join("firmware/hal/include")
                .display()
        ))
        .arg("-T")
        .arg(&ldscript)
        .arg(fw.join("obj/startup/crt0.o"))
        .arg(&src)
        .arg(format!("-L{}", fw.display()))
        .args(["-lft900hal", "-lc", "-lgcc", "-o"])
        .arg(&elf)
        .output()
        .expect("run ft32-elf-gcc");
    assert!(
        out.status.success(),
        "compiling {name}.c: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elf
}

#[test]
fn an_illegal_access_in_ft900_firmware_stops_with_sigsegv_at_the_access() {
    let elf = fault900();
    let sim = Sim::start(
        &elf,
        &["--machine", "ft900", "--uart0", "none", "--gdb-wait"],
    );
    let out = gdb(
        &elf,
        sim.port,
        &[
            "continue",
            "info symbol $pc",
            "x/i $pc",
            "bt",
            "print/x $r0",
            "continue",
            "info symbol $pc",
            "kill",
        ],
    );
    assert_has(&out, "Program received signal SIGSEGV, Segmentation fault.");
    // Stopped at the load itself, not after it, with the frame and arguments intact.
    assert_has(&out, "read_past_flash + 12 in section .text");
    assert_has(&out, "<read_past_flash+12>:\tcc000000 lpmi.l $r0,$r0,0");
    assert_has(&out, "#0  read_past_flash (offset=");
    assert_has(&out, "fault900.c:10\n10\t    return *p;");
    assert_has(&out, "#1  0x");
    assert_has(&out, " in main () at ");
    assert_has(&out, "$1 = 0x40008");
    // The fault is not an instruction that completes: continuing faults again at the same load.
    assert_eq!(
        out.matches("read_past_flash + 12 in section .text").count(),
        2,
        "{out}"
    );
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
}

#[test]
fn the_ft900_machine_is_debuggable_too() {
    let elf = build(
        "loop900",
        "S",
        LOOP900_S,
        &["-g", "-nostartfiles", "-nostdlib"],
    );
    let sim = Sim::start(
        &elf,
        &["--machine", "ft900", "--uart0", "none", "--gdb-wait"],
    );
    let out = gdb(
        &elf,
        sim.port,
        &[
            "break mark",
            "continue",
            "continue",
            "print $r0",
            "stepi",
            "print/x $pc",
            "monitor step-irq on",
            "monitor step-irq",
            "monitor regs",
            "delete",
            "continue",
        ],
    );
    assert_has(&out, "Breakpoint 1, ");
    assert_has(&out, "$1 = 2\n");
    assert_has(&out, "$2 = 0x10\n");
    assert_has(&out, "step-irq is on");
    assert_has(&out, "$r0 00000002");
    assert_has(&out, "exited with code 052");
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(42), "stderr:\n{stderr}");
}

// ---------------------------------------------------------------------------------------------
// A raw remote-protocol client
// ---------------------------------------------------------------------------------------------

/// Just enough of gdb's side of the protocol to talk to the stub (acknowledgement mode).
struct Rsp {
    stream: TcpStream,
}

impl Rsp {
    fn connect(port: u16) -> Rsp {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the stub");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        Rsp { stream }
    }

    fn packet(body: &str) -> Vec<u8> {
        let sum = body.bytes().fold(0u8, |a, b| a.wrapping_add(b));
        format!("${body}#{sum:02x}").into_bytes()
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    fn byte(&mut self) -> Option<u8> {
        let mut b = [0u8];
        match self.stream.read(&mut b) {
            Ok(1) => Some(b[0]),
            _ => None,
        }
    }

    /// Sends a packet and expects its acknowledgement.
    fn send(&mut self, body: &str) {
        self.raw(&Rsp::packet(body));
        assert_eq!(self.byte(), Some(b'+'), "no ack for `{body}`");
    }

    /// The next packet from the stub, run-length decoded (`None` if the connection closed).
    fn recv(&mut self) -> Option<String> {
        loop {
            if self.byte()? == b'$' {
                break;
            }
        }
        let mut body = Vec::new();
        loop {
            match self.byte()? {
                b'#' => break,
                b'*' => {
                    let n = self.byte()? - 29;
                    let last = *body.last().unwrap();
                    body.resize(body.len() + n as usize, last);
                }
                b => body.push(b),
            }
        }
        self.byte()?;
        self.byte()?;
        self.raw(b"+");
        Some(String::from_utf8(body).unwrap())
    }

    fn ask(&mut self, body: &str) -> String {
        self.send(body);
        self.recv().expect("a reply")
    }

    /// Decodes register `regnum` from a `g` reply.
    fn reg(g: &str, regnum: usize) -> u32 {
        let hex = &g[regnum * 8..regnum * 8 + 8];
        u32::from_le_bytes(
            (0..4)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect::<Vec<_>>()
                .try_into()
                .unwrap(),
        )
    }
}

#[test]
fn ctrl_c_interrupts_a_running_guest() {
    let elf = spin();
    let program = Program::parse(&std::fs::read(&elf).unwrap()).unwrap();
    let sim = Sim::start(&elf, &["--gdb-wait"]);
    let mut rsp = Rsp::connect(sim.port);
    assert!(rsp.ask("?").starts_with("T05"));
    rsp.send("c");
    rsp.raw(&[0x03]);
    let stop = rsp.recv().expect("a stop reply");
    assert!(
        stop.starts_with("S02") || stop.starts_with("T02"),
        "stop reply {stop}"
    );
    let g = rsp.ask("g");
    assert_eq!(g.len(), 33 * 8, "{g}");
    let pc = Rsp::reg(&g, 32);
    let (function, _) = program.symbols.lookup_code(pc).expect("pc in a function");
    assert_eq!(function, "spin");
    // `p` reads one register with gdb's numbering (0x20 = pc).
    assert_eq!(rsp.ask("p20"), g[32 * 8..]);
    // The machine can go on and be interrupted again.
    rsp.send("c");
    rsp.raw(&[0x03]);
    assert!(rsp.recv().unwrap().starts_with("S02"));
    rsp.send("k");
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
}

#[test]
fn malformed_traffic_and_lost_connections_do_not_wedge_the_stub() {
    let elf = spin();
    let mut sim = Sim::start(&elf, &["--gdb-wait"]);
    let mut rsp = Rsp::connect(sim.port);
    // Bytes outside packets are ignored; a bad checksum is answered with '-'.
    rsp.raw(b"hello, stub");
    rsp.raw(b"$g#00");
    assert_eq!(rsp.byte(), Some(b'-'));
    // A truncated packet followed by a good one: the good one is answered.
    rsp.raw(b"$m0,4");
    let g = rsp.ask("g");
    assert_eq!(g.len(), 33 * 8);
    // '-' asks for the last reply again.
    rsp.raw(b"-");
    assert_eq!(rsp.recv().as_deref(), Some(g.as_str()));
    // Memory: I/O is refused, unmapped addresses are errors.
    assert!(rsp.ask("m810000,4").starts_with('E'));
    assert!(rsp.ask("m900000,4").starts_with('E'));
    assert_eq!(rsp.ask("m800000,2").len(), 4);
    // A well-framed packet gdbstub cannot parse ends the session; the machine stays halted.
    rsp.raw(&Rsp::packet("mzz,4"));
    let _ = rsp.byte(); // the ack, if any
    assert_eq!(rsp.recv(), None, "the connection is closed");
    sim.wait_line("gdb: session ended");
    // A new connection works; then one that dies in the middle of a packet.
    let mut rsp = Rsp::connect(sim.port);
    assert!(rsp.ask("?").starts_with("T05"));
    rsp.raw(b"$m80");
    drop(rsp);
    sim.wait_line("gdb: session ended");
    // And another new connection still works; the program never ran.
    let mut rsp = Rsp::connect(sim.port);
    let g = rsp.ask("g");
    assert_eq!(Rsp::reg(&g, 32), 0, "pc still at reset");
    rsp.send("k");
    let (status, _, stderr) = sim.finish();
    assert_eq!(status.code(), Some(137), "stderr:\n{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Monitor commands that look at the devices
// ---------------------------------------------------------------------------------------------

/// `make -C firmware` for `net_dhcp.elf` (the DHCP/DNS/SNTP test firmware), once per run.
fn net_dhcp() -> PathBuf {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(elf) = built.as_ref() {
        return elf.clone();
    }
    Toolchain::require();
    let dir = support::target_dir().join("gdb-tests").join("fw");
    let elf = dir.join("net_dhcp.elf");
    support::make_firmware(&dir, &[&elf]).unwrap_or_else(|e| panic!("{e}"));
    *built = Some(elf.clone());
    elf
}

/// Runs gdb with `commands`, each preceded by an `echo` of a marker, and returns what each
/// command printed (keyed by the command). In batch mode gdb writes `echo` to stdout but
/// monitor output to stderr, so both go into one pipe (through `sh`) to keep their order.
fn gdb_sections(elf: &Path, port: u16, commands: &[&str]) -> Vec<(String, String)> {
    let tc = Toolchain::require();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "exec \"$0\" \"$@\" 2>&1"])
        .arg(&tc.gdb)
        .args(["-batch", "-nx", "-ex"])
        .arg(format!("target remote 127.0.0.1:{port}"));
    for c in commands {
        cmd.arg("-ex").arg(format!("echo @@@ {c}\\n"));
        cmd.arg("-ex").arg(c);
    }
    cmd.arg(elf);
    let run = run_with_timeout(&mut cmd, b"", LIMIT, 1 << 20).expect("run ft32-elf-gdb");
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(!run.timed_out(), "gdb hung:\n{out}");
    out.split("@@@ ")
        .skip(1)
        .map(|s| {
            let (cmd, rest) = s.split_once('\n').unwrap_or((s, ""));
            (cmd.to_string(), rest.to_string())
        })
        .collect()
}

/// The output of the `n`th occurrence of `cmd` in `sections`.
fn section<'a>(sections: &'a [(String, String)], cmd: &str, n: usize) -> &'a str {
    sections
        .iter()
        .filter(|(c, _)| c == cmd)
        .nth(n)
        .map(|(_, out)| out.as_str())
        .unwrap_or_else(|| panic!("no output #{n} of `{cmd}` in {sections:#?}"))
}

/// The number after `word` in `text` (`rx 12 frames` → 12 for `rx`).
fn number_after(text: &str, word: &str) -> u64 {
    let mut words = text.split_whitespace();
    while let Some(w) = words.next() {
        if w == word {
            if let Some(n) = words.next().and_then(|n| n.parse().ok()) {
                return n;
            }
        }
    }
    panic!("no number after `{word}` in:\n{text}")
}

/// The DHCP firmware on `--net user`, halted when it formats its lease for printing
/// (`net_ip4_str`): `monitor uart` shows the lines printed so far and not the lease line
/// (which has not been printed yet), and shows it once the firmware has flushed its UART and reached `_exit`; `monitor net` counts the
/// DHCP frames both ways; `monitor io uart0` shows the divisor and line settings the HAL
/// programmed for 115200 8N1 (divisor 217, 4 samples per bit); `monitor time` the RTC as
/// given; bad arguments get usage. Looking has no side effects: the firmware prints the same
/// lines and exits with the same status as without gdb.
#[test]
fn monitor_shows_uart_output_net_counters_and_registers_of_ft900_firmware() {
    let elf = net_dhcp();
    let sim = Sim::start(
        &elf,
        &[
            "--machine",
            "ft900",
            "--uart0",
            "none",
            "--net",
            "user",
            "--rtc-start",
            "1767225600",
            "--gdb-wait",
        ],
    );
    let s = gdb_sections(
        &elf,
        sim.port,
        &[
            "break net_ip4_str",
            "continue",
            "monitor uart",
            "monitor uart 1",
            "monitor net",
            "monitor io uart0",
            "monitor io eth",
            "monitor io intc",
            "monitor io timers",
            "monitor io",
            "monitor time",
            "monitor io usb",
            "monitor uart 0",
            "monitor uart x",
            "monitor net now",
            "monitor io uart0 uart1",
            "monitor help",
            "delete",
            "break _exit",
            "continue",
            "monitor uart",
            "delete",
            "continue",
        ],
    );
    let first = section(&s, "monitor uart", 0);
    assert_has(first, "uart0: ");
    assert_has(first, "  == net_dhcp ==\n");
    assert!(!first.contains("dhcp: ip"), "printed too early:\n{first}");
    assert_has(first, "uart1: nothing transmitted");
    let last = section(&s, "monitor uart 1", 0);
    assert_has(last, "the last 1 shown (`monitor uart all` for every one)");
    assert!(!last.contains("== net_dhcp =="), "{last}");

    let net = section(&s, "monitor net", 0);
    assert_has(net, "link up");
    assert!(number_after(net, "tx") >= 2, "DISCOVER and REQUEST:\n{net}");
    assert!(number_after(net, "rx") >= 2, "OFFER and ACK:\n{net}");
    assert_has(net, "rx fifo ");

    let uart0 = section(&s, "monitor io uart0", 0);
    for line in [
        "0x10320  DLL                      d9",
        "0x10321  DLM                      00",
        "0x10323  LCR                      03",
        "0x10325  ICR[02] TCR              04",
        "one character takes 8680 cycles",
    ] {
        assert_has(uart0, line);
    }
    let eth = section(&s, "monitor io eth", 0);
    assert_has(eth, "0x10228  ETH_ADDR_1");
    assert_has(eth, "ETH_DATA (0x10224) is the FIFO port: not read");
    assert_has(section(&s, "monitor io intc", 0), "0x100e0  IRQ Control");
    // The HAL's 1 ms tick runs on timer A with the block enabled (TIMER_CONTROL_0 bit 1).
    let timers = section(&s, "monitor io timers", 0);
    assert_has(timers, "0x10340  TIMER_CONTROL_0          02");
    assert_has(timers, "timer A: running,");
    assert_has(
        section(&s, "monitor io", 0),
        "register blocks: sys, intc, eth, rtc, uart0, uart1, timers",
    );
    let time = section(&s, "monitor time", 0);
    assert_has(time, "virtual time ");
    // Rev C (the default): the battery-backed calendar, at the time given.
    assert_has(time, "rtc 2026-01-01 00:00:");
    assert_has(
        time,
        "(rev C calendar; at power-on 2026-01-01 00:00:00 UTC)",
    );
    assert_has(section(&s, "monitor io usb", 0), "no register block `usb`");
    for cmd in ["monitor uart 0", "monitor uart x"] {
        assert_has(section(&s, cmd, 0), "usage: monitor uart [N|all]");
    }
    assert_has(section(&s, "monitor net now", 0), "usage: monitor net");
    assert_has(
        section(&s, "monitor io uart0 uart1", 0),
        "usage: monitor io [BLOCK]",
    );
    let help = section(&s, "monitor help", 0);
    for cmd in [
        "reset", "cycles", "regs", "step-irq", "uart", "net", "io", "time",
    ] {
        assert_has(help, &format!("  monitor {cmd}"));
    }

    // test_end flushed the UART before `_exit`: everything is on the line, the lease included.
    let later = section(&s, "monitor uart", 1);
    assert_has(later, "  dhcp: ip 10.0.2.");
    assert!(!later.contains("still in the transmitter"), "{later}");
    let (status, _, stderr) = sim.finish();

    // The same run without gdb prints the same lines and ends the same way.
    let mut plain = Command::new(cli::sim_binary());
    plain
        .args([
            "run",
            "--machine",
            "ft900",
            "--uart0",
            "stdio",
            "--net",
            "user",
        ])
        .args(["--rtc-start", "1767225600"])
        .arg(&elf);
    let plain = run_with_timeout(&mut plain, b"", LIMIT, 1 << 20).expect("run ft900-sim");
    assert!(!plain.timed_out());
    assert_eq!(status.code(), plain.code(), "stderr:\n{stderr}");
    let printed: Vec<String> = String::from_utf8_lossy(&plain.stdout)
        .lines()
        .map(|l| format!("  {}", l.trim_end_matches('\r')))
        .collect();
    let shown: Vec<&str> = later
        .lines()
        .skip_while(|l| !l.starts_with("uart0: "))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(shown, printed);
}

/// The gdb-sim machine has no peripherals: the device commands say so instead of guessing.
#[test]
fn monitor_device_commands_on_the_gdb_sim_machine_say_they_are_not_available() {
    let elf = prog();
    let sim = Sim::start(&elf, &["--gdb-wait"]);
    let s = gdb_sections(
        &elf,
        sim.port,
        &[
            "monitor uart",
            "monitor net",
            "monitor io uart0",
            "monitor time",
            "kill",
        ],
    );
    assert_has(
        section(&s, "monitor uart", 0),
        "`monitor uart` is not available on the gdb-sim machine: it has no UART",
    );
    assert_has(
        section(&s, "monitor net", 0),
        "`monitor net` is not available on the gdb-sim machine: it has no Ethernet MAC",
    );
    assert_has(
        section(&s, "monitor io uart0", 0),
        "`monitor io` is not available on the gdb-sim machine",
    );
    let time = section(&s, "monitor time", 0);
    assert_has(time, "virtual time 0.000000000 s: 0 cycles");
    assert_has(time, "the gdb-sim machine has no real-time clock");
    drop(sim);
}

/// Prints 1500 numbered lines of 61 bytes (91 500 bytes, more than the 64 KiB the UART keeps)
/// at 3.125 Mbaud (divisor 8), so the run is short.
const CHATTY900_C: &str = r#"
#include "ft900_uart.h"

int main(void)
{
    uart_open(UART0, 3125000);
    for (unsigned i = 0; i < 1500; i++)
        uart_printf(UART0, "line %04u ..................................................\n", i);
    uart_flush(UART0);
    return 0;
}
"#;

/// `monitor uart all` with more output than is kept: the newest 64 KiB reach gdb whole (in
/// packets of bounded size), with a note of how much was let go; `monitor uart 3` the last 3.
#[test]
fn monitor_uart_keeps_the_newest_64_kib_and_says_what_was_let_go() {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let elf = BUILT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(|| build_with_hal("chatty900", CHATTY900_C))
        .clone();
    let sim = Sim::start(
        &elf,
        &["--machine", "ft900", "--uart0", "none", "--gdb-wait"],
    );
    let s = gdb_sections(
        &elf,
        sim.port,
        &[
            "break _exit",
            "continue",
            "monitor uart all",
            "monitor uart 3",
            "kill",
        ],
    );
    // 65 536 bytes kept of 91 500: 25 964 let go, i.e. 425 whole lines and 39 bytes of the
    // 426th, whose tail is the first line shown.
    let all = section(&s, "monitor uart all", 0);
    assert_has(all, "uart0: 1075 lines; 25964 older bytes no longer kept\n");
    assert_has(all, "\n  .....................\n  line 0426 ....");
    let shown: Vec<&str> = all.lines().filter(|l| l.starts_with("  line ")).collect();
    assert_eq!(shown.len(), 1074);
    for (i, line) in shown.iter().enumerate() {
        assert_eq!(
            *line,
            format!(
                "  line {:04} ..................................................",
                i + 426
            )
        );
    }
    let last = section(&s, "monitor uart 3", 0);
    assert_has(last, "uart0: 1075 lines, the last 3 shown");
    assert_has(last, "  line 1497 ");
    assert_has(last, "  line 1499 ");
    assert!(!last.contains("line 1496"), "{last}");
    drop(sim);
}

/// `monitor time`'s virtual time in seconds and the wall time the pacer gave up.
fn paced_time(text: &str) -> (f64, f64) {
    let after = |word: &str| -> f64 {
        let rest = text
            .split(word)
            .nth(1)
            .unwrap_or_else(|| panic!("no `{word}` in:\n{text}"));
        rest.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no number after `{word}` in:\n{text}"))
    };
    (after("virtual time "), after("paced to the wall clock; "))
}

/// Wall-clock seconds printed by `shell date +%s.%N`.
fn wall(text: &str) -> f64 {
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a time: {text:?}"))
}

/// `--realtime` with `--gdb` (today's DHCP firmware on `--net user`): the firmware is halted
/// in `net_init` for two seconds of wall time, then continued to `dhcp_start`. The halt is given
/// up, not made up: the pacer reports at least the two seconds as given up, and the virtual
/// time that passed between the two stops is no more than the wall time from the `continue` to
/// the second stop (virtual time never runs ahead of the wall clock, so there was no burst of
/// accelerated time firing every pending timer at once). After a detach, the firmware gets its
/// lease, resolves names and sets its RTC by SNTP exactly as without gdb.
#[test]
fn a_halt_in_gdb_does_not_make_a_realtime_run_race_to_catch_up() {
    let elf = net_dhcp();
    let sim = Sim::start(
        &elf,
        &[
            "--machine",
            "ft900",
            "--uart0",
            "stdio",
            "--net",
            "user",
            "--realtime",
            "--dns",
            "dynamodb.us-east-1.amazonaws.com=127.0.0.1",
            "--rtc-start",
            "1767225600",
            "--gdb-wait",
        ],
    );
    let s = gdb_sections(
        &elf,
        sim.port,
        &[
            "break net_init",
            "continue",
            "monitor time",
            "shell sleep 2",
            "delete",
            "break dhcp_start",
            "shell date +%s.%N",
            "continue",
            "shell date +%s.%N",
            "monitor time",
            "delete",
            "detach",
        ],
    );
    let (v1, given_up1) = paced_time(section(&s, "monitor time", 0));
    let (v2, given_up2) = paced_time(section(&s, "monitor time", 1));
    let resumed = wall(section(&s, "shell date +%s.%N", 0));
    let stopped = wall(section(&s, "shell date +%s.%N", 1));
    let context = format!("{s:#?}");
    assert!(
        given_up2 - given_up1 >= 1.99,
        "the 2 s halt was not given up: {given_up1} s, then {given_up2} s\n{context}"
    );
    // The link comes up 100 ms after net_init: the second stop is that far in virtual time,
    // and that much wall time at least passed between the `continue` and the stop (a 1 ms
    // slice of tolerance: the pacer waits at the end of a slice, not inside it).
    assert!(v2 - v1 >= 0.09, "{v1} -> {v2}\n{context}");
    assert!(
        v2 - v1 <= stopped - resumed + 0.001,
        "virtual time ran ahead of the wall clock after the halt: {v1} -> {v2} s virtual in \
         {} s of wall time\n{context}",
        stopped - resumed
    );
    let (_, stdout, stderr) = sim.finish();
    assert_has(&stderr, "gdb: paced to the wall clock");
    for line in [
        "ok   link up after 100 ms",
        "dhcp: ip 10.0.2.15 gw 10.0.2.2 dns 10.0.2.3",
        "dns: dynamodb.us-east-1.amazonaws.com -> 127.0.0.1",
        "ok   RTC loaded with the SNTP seconds",
    ] {
        assert_has(&stdout, line);
    }
}
