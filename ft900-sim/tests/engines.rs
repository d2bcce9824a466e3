//! Engine against engine: the compiled-block engine (`Engine::Jit`) must leave exactly the state
//! the interpreter (`Engine::Interp`, the reference) leaves: same stop reason, instruction and
//! cycle counts, registers, PC, RAM and program memory, console/UART output with its timing, idle
//! cycles skipped, and the fault report's trail of last PCs.
//!
//! Workloads:
//! * every guest test `tests/guest/*.c` (at -O2 and -Os) and `*.S` on the gdb-sim machine, run
//!   to completion (faults included: the `fault_*.S` programs; `pmwrite.c` rewrites code it has
//!   executed through the PM write port, so stale compiled blocks would show);
//! * the firmware tests and mbedTLS's self test on the FT900 machine (timers, interrupts, idle
//!   skipping, I/O), compared every 10 ms of virtual time, so a divergence is reported near where
//!   it happens;
//! * machines sharing compiled code: a second machine with the same program compiles nothing,
//!   machines on several threads compile each block once between them, and a machine whose
//!   program memory is rewritten leaves the shared code; all against the interpreter.
//!
//! The comparison against the reference simulator `ft32-elf-run` is `tests/differential.rs`
//! (which runs the default engine); this file is the cheap engine-vs-engine check.

// Both engines are needed: nothing to compare in a build without the `jit` feature.
#![cfg(feature = "jit")]

mod support;

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::{Engine, Machine, Profile, RunLimits, StopReason};

/// Bytes given to gdb-sim guests on standard input (as `tests/differential.rs` does).
const STDIN_BYTES: &[u8] = b"ft900 differential stdin\nsecond line 12345\n";
/// Instruction limit of a gdb-sim guest run.
const MAX_INSNS: u64 = 400_000_000;
/// FT900 runs: cycles per comparison slice (10 ms at 100 MHz).
const SLICE: u64 = 1_000_000;

/// Everything observable a run leaves behind.
#[derive(Debug, PartialEq, Eq)]
struct State {
    stop: StopReason,
    pc: u32,
    regs: [u32; 32],
    insns: u64,
    cycles: u64,
    idle_cycles: u64,
    ram: u32,
    pm: u32,
    trail: Vec<u32>,
}

fn state<P: Profile>(m: &Machine<P>, stop: StopReason) -> State {
    State {
        stop,
        pc: m.core.pc,
        regs: m.core.regs,
        insns: m.core.insns,
        cycles: m.core.cycles,
        idle_cycles: m.idle_cycles(),
        ram: crc32fast::hash(m.core.ram()),
        pm: crc32fast::hash(m.core.pm()),
        trail: m.trail(),
    }
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---- gdb-sim guests -----------------------------------------------------------------------

fn guest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest")
}

/// Compiles a guest (cached in `target/engines/`), with the `flags=` directives of the file.
fn compile(src: &Path, level: &str) -> PathBuf {
    let tc = support::Toolchain::require();
    let text = std::fs::read_to_string(src).unwrap();
    let mut flags: Vec<String> = vec!["-msim".into(), level.into()];
    for line in text.lines().filter(|l| l.contains("ft900-test:")) {
        for w in line.split_whitespace() {
            if let Some(f) = w.strip_prefix("flags=") {
                flags.push(f.to_string());
            }
        }
    }
    let header = std::fs::read(guest_dir().join("ft900_test.h")).unwrap_or_default();
    let key = support::fnv1a(&[
        tc.gcc.to_string_lossy().as_bytes(),
        flags.join("\u{1}").as_bytes(),
        text.as_bytes(),
        &header,
    ]);
    let dir = support::target_dir().join("engines");
    std::fs::create_dir_all(&dir).unwrap();
    let stem = src.file_stem().unwrap().to_string_lossy();
    let elf = dir.join(format!("{stem}{level}.{key:016x}.elf"));
    if elf.is_file() {
        return elf;
    }
    let tmp = elf.with_extension("tmp");
    let out = Command::new(&tc.gcc)
        .args(&flags)
        .arg(src)
        .arg(format!("-I{}", guest_dir().display()))
        .arg("-o")
        .arg(&tmp)
        .arg("-lm")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tc.gcc.display()));
    assert!(
        out.status.success(),
        "{} {level} does not compile:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &elf).unwrap();
    elf
}

/// Runs a gdb-sim program to its end under `engine`: the state and the console output.
fn run_gdbsim(elf: &Path, engine: Engine) -> (State, Vec<u8>) {
    let bytes = std::fs::read(elf).unwrap();
    let program = Program::parse(&bytes).unwrap();
    let out = Shared::default();
    let profile = GdbSim::new(
        Box::new(out.clone()),
        Box::new(Cursor::new(STDIN_BYTES)),
        Box::new(std::io::sink()),
    );
    let mut m = Machine::with_standard_memory(profile);
    m.set_engine(engine).unwrap();
    program.load_into(&mut m.core, LoadPolicy::Vma).unwrap();
    m.profile.reset(&mut m.core, program.entry);
    let stop = m.run(RunLimits {
        max_insns: Some(MAX_INSNS),
        ..RunLimits::default()
    });
    m.profile.flush().unwrap();
    let s = state(&m, stop);
    let text = out.0.lock().unwrap().clone();
    (s, text)
}

#[test]
fn gdbsim_guests_agree_under_both_engines() {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(guest_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("c" | "S")))
        .collect();
    sources.sort();
    assert!(sources.len() >= 30, "guest tests not found");
    let mut jobs = Vec::new();
    for src in sources {
        let levels: &[&str] = if src.extension().unwrap() == "S" {
            &["-O0"]
        } else {
            &["-O2", "-Os"]
        };
        for level in levels {
            jobs.push((src.clone(), *level));
        }
    }
    let results =
        support::parallel_map(jobs, support::jobs(), |_, (src, level): (PathBuf, &str)| {
            let elf = compile(&src, level);
            let name = format!("{} {level}", src.file_name().unwrap().to_string_lossy());
            let (a, out_a) = run_gdbsim(&elf, Engine::Interp);
            let (b, out_b) = run_gdbsim(&elf, Engine::Jit);
            if a == b && out_a == out_b {
                Ok(name)
            } else {
                Err(format!(
                    "{name}: engines differ\n interp: {a:?}\n jit:    {b:?}\n output equal: {}",
                    out_a == out_b
                ))
            }
        });
    let failures: Vec<String> = results.into_iter().filter_map(|r| r.err()).collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ---- FT900 firmware -----------------------------------------------------------------------

/// The firmware ELFs compared (the firmware tests and mbedTLS's self test), built once.
const FIRMWARE: &[&str] = &[
    "hello",
    "uart_echo",
    "timer_tick",
    "nested_irq",
    "eth_frames",
    "eth_overflow",
    "phy_link",
    "idle_wait",
    "tls_selftest",
];

fn firmware_dir() -> &'static Path {
    static BUILD: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILD.get_or_init(|| {
        let dir = support::target_dir().join("firmware");
        let elfs: Vec<PathBuf> = FIRMWARE
            .iter()
            .map(|e| dir.join(format!("{e}.elf")))
            .collect();
        support::make_firmware(&dir, &elfs)?;
        Ok(dir)
    });
    match built {
        Ok(d) => d,
        Err(msg) => panic!("\n{msg}\n"),
    }
}

struct Board {
    m: Machine<Ft900>,
    uart: Capture,
}

fn board(name: &str, engine: Engine) -> Board {
    let path = firmware_dir().join(format!("{name}.elf"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let program = Program::parse(&bytes).unwrap();
    let mut profile = Ft900::new(Ft900Config::default());
    let uart = Capture::new();
    profile.uart[0].set_backend(Box::new(uart.clone()));
    let mut m = Machine::with_standard_memory(profile);
    m.set_engine(engine).unwrap();
    program.load_into(&mut m.core, LoadPolicy::Rom).unwrap();
    m.profile.reset(&mut m.core, program.entry);
    Board { m, uart }
}

/// Runs firmware `name` under both engines for up to `cycles`, comparing the state after every
/// slice; returns the instructions executed.
fn compare_firmware(name: &str, cycles: u64) -> Result<u64, String> {
    let mut a = board(name, Engine::Interp);
    let mut b = board(name, Engine::Jit);
    let mut until = 0;
    loop {
        until += SLICE;
        let limits = RunLimits {
            cycle_deadline: Some(until),
            ..RunLimits::default()
        };
        let sa = a.m.run(limits);
        let sb = b.m.run(limits);
        let (xa, xb) = (state(&a.m, sa), state(&b.m, sb));
        if xa != xb {
            return Err(format!(
                "{name}: engines differ by cycle {until}\n interp: {xa:?}\n jit:    {xb:?}"
            ));
        }
        if (a.uart.output(), a.uart.output_times()) != (b.uart.output(), b.uart.output_times()) {
            return Err(format!("{name}: UART output differs by cycle {until}"));
        }
        if sa != StopReason::CycleLimit || until >= cycles {
            return Ok(a.m.core.insns);
        }
    }
}

#[test]
fn firmware_agrees_under_both_engines() {
    // The firmware tests end within a second of virtual time (or wait for input the test does
    // not give); the self test is compared over its first 3 s (about a quarter of it).
    let jobs: Vec<(&str, u64)> = FIRMWARE
        .iter()
        .map(|&n| {
            (
                n,
                if n == "tls_selftest" {
                    300_000_000
                } else {
                    100_000_000
                },
            )
        })
        .collect();
    firmware_dir();
    let results = support::parallel_map(jobs, support::jobs(), |_, (name, cycles)| {
        compare_firmware(name, cycles).map(|insns| (name, insns))
    });
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok((name, insns)) => eprintln!("{name}: {insns} instructions agree"),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn jit_compiles_hot_code() {
    // The comparison above would pass vacuously if the engine never compiled anything.
    let elf = compile(&guest_dir().join("recursion.c"), "-O2");
    let bytes = std::fs::read(&elf).unwrap();
    let program = Program::parse(&bytes).unwrap();
    let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(std::io::sink())));
    m.set_engine(Engine::Jit).unwrap();
    program.load_into(&mut m.core, LoadPolicy::Vma).unwrap();
    m.profile.reset(&mut m.core, program.entry);
    let stop = m.run(RunLimits::default());
    assert_eq!(stop, StopReason::Exited(0));
    assert!(
        m.jit_blocks_compiled() > 10,
        "only {} blocks compiled",
        m.jit_blocks_compiled()
    );
}

/// A hot loop of calls and branches (compiled and chained block to block) that ends in a fault
/// of the interpreter: the fault report's trail then holds the PCs of compiled code.
const HOT_THEN_FAULT: &str = r#"
	.text
	.global main
main:
	ldk.l $r5,5000
loop:
	call bump
	add.l $r5,$r5,-1
	cmp.l $r5,0
	jmpc nz,loop
	ldk.l $r6,7
	cmp.l $r6,7
	jmpc z,after
	ldk.l $r6,8
after:
	add.l $r6,$r6,1
	lda.l $r1,0x10004
	return
bump:
	add.l $r2,$r2,3
	cmp.l $r2,100
	jmpc lt,small
	add.l $r2,$r2,-100
small:
	return
"#;

/// Runs the program in quanta of `quantum` instructions (`None`: one run) under `engine`,
/// checking after each that the run stopped where the other engine's did.
fn run_quanta(elf: &Path, engine: Engine, quantum: Option<u64>) -> (Vec<State>, u64) {
    let bytes = std::fs::read(elf).unwrap();
    let program = Program::parse(&bytes).unwrap();
    let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(std::io::sink())));
    m.set_engine(engine).unwrap();
    program.load_into(&mut m.core, LoadPolicy::Vma).unwrap();
    m.profile.reset(&mut m.core, program.entry);
    let mut states = Vec::new();
    loop {
        let stop = m.run(RunLimits {
            max_insns: Some(quantum.unwrap_or(MAX_INSNS)),
            ..RunLimits::default()
        });
        states.push(state(&m, stop));
        if stop != StopReason::CountReached || quantum.is_none() {
            break;
        }
    }
    (states, m.jit_blocks_compiled())
}

#[test]
fn chained_blocks_keep_budgets_and_the_fault_trail() {
    let dir = support::target_dir().join("engines");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("hot_then_fault.S");
    std::fs::write(&src, HOT_THEN_FAULT).unwrap();
    let elf = compile(&src, "-O0");
    // Whole runs, and quanta that end inside blocks (37, 1000) or at every instruction (1).
    for quantum in [None, Some(37), Some(1000), Some(1)] {
        let (a, _) = run_quanta(&elf, Engine::Interp, quantum);
        let (b, compiled) = run_quanta(&elf, Engine::Jit, quantum);
        let last = b.last().unwrap();
        assert!(
            matches!(last.stop, StopReason::Fault(_)),
            "quantum {quantum:?}: {last:?}"
        );
        assert_eq!(last.trail.len(), 16, "quantum {quantum:?}");
        assert_eq!(a.len(), b.len(), "quantum {quantum:?}: number of quanta");
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "quantum {quantum:?}: state after quantum {k}");
        }
        if quantum != Some(1) {
            // Budgets of one instruction never fit a block; the others must run compiled code.
            assert!(
                compiled >= 2,
                "quantum {quantum:?}: {compiled} blocks compiled"
            );
        }
    }
}

// ---- compiled code shared between machines ------------------------------------------------

/// A hot loop of calls whose exit status depends on `{K}` (the immediate the sharing tests
/// patch into a machine's program memory).
const SHARED_LOOP: &str = r#"
	.text
	.global main
main:
	ldk.l $r5,3001
	ldk.l $r2,0
loop:
	call bump
	add.l $r5,$r5,-1
	cmp.l $r5,0
	jmpc nz,loop
	move.l $r0,$r2
	return
bump:
	add.l $r2,$r2,{K}
	cmp.l $r2,100
	jmpc lt,small
	add.l $r2,$r2,-100
small:
	return
"#;

/// [`SHARED_LOOP`] with `k` (a distinct `tag` keeps each test's program, and so its code
/// cache, its own: the tests of this file run in one process).
fn shared_loop(tag: &str, k: u32) -> Program {
    let dir = support::target_dir().join("engines");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("shared_loop_{tag}_{k}.S"));
    let text = SHARED_LOOP.replace("{K}", &k.to_string())
        + &format!("\t.section .text.tag\n\t.global tag_{tag}\ntag_{tag}:\n");
    // Distinct code per tag: as many filler words as the tag has bytes, times 64.
    let filler = "\tadd.l $r7,$r7,1\n".repeat(64 * (1 + tag.len()));
    std::fs::write(&src, text + &filler + "\treturn\n").unwrap();
    let elf = compile(&src, "-O0");
    Program::parse(&std::fs::read(elf).unwrap()).unwrap()
}

/// A gdb-sim machine on `engine` with `program` loaded and reset.
fn loaded(program: &Program, engine: Engine) -> Machine<GdbSim> {
    let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(std::io::sink())));
    m.set_engine(engine).unwrap();
    program.load_into(&mut m.core, LoadPolicy::Vma).unwrap();
    m.profile.reset(&mut m.core, program.entry);
    m
}

/// Runs `m` in quanta of 1000 instructions to its end: the state after each quantum.
fn quanta(m: &mut Machine<GdbSim>) -> Vec<State> {
    let mut states = Vec::new();
    loop {
        let stop = m.run(RunLimits {
            max_insns: Some(1000),
            ..RunLimits::default()
        });
        states.push(state(m, stop));
        if stop != StopReason::CountReached {
            return states;
        }
    }
}

/// The interpreter's states for `program`.
fn reference(program: &Program) -> Vec<State> {
    quanta(&mut loaded(program, Engine::Interp))
}

#[test]
fn machines_with_one_program_share_compiled_code() {
    let program = shared_loop("two", 3);
    let want = reference(&program);
    assert!(matches!(want.last().unwrap().stop, StopReason::Exited(_)));
    let mut a = loaded(&program, Engine::Jit);
    assert_eq!(quanta(&mut a), want, "first machine");
    assert!(a.jit_blocks_compiled() >= 2, "{}", a.jit_blocks_compiled());
    // A second machine with the same program, while the first is alive: it runs the first
    // one's code and compiles nothing of its own.
    let mut b = loaded(&program, Engine::Jit);
    assert_eq!(quanta(&mut b), want, "second machine");
    assert!(b.shares_jit_code_with(&a));
    assert_eq!(b.jit_blocks_compiled(), 0);
    assert_eq!(b.jit_blocks_cached(), a.jit_blocks_compiled());
    // The interpreter has no compiled code to share.
    let c = loaded(&program, Engine::Interp);
    assert!(!c.shares_jit_code_with(&a));
}

#[test]
fn machines_on_threads_share_compiled_code_and_agree_with_the_interpreter() {
    const THREADS: usize = 4;
    let program = shared_loop("threads", 7);
    let want = reference(&program);
    let start = std::sync::Barrier::new(THREADS);
    let end = std::sync::Barrier::new(THREADS);
    let results: Vec<(Vec<State>, u64, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    let mut m = loaded(&program, Engine::Jit);
                    start.wait();
                    let states = quanta(&mut m);
                    // Every machine stays alive until all ran: one cache all along.
                    end.wait();
                    (states, m.jit_blocks_compiled(), m.jit_blocks_cached())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (t, (states, _, _)) in results.iter().enumerate() {
        assert_eq!(*states, want, "thread {t}");
    }
    let cached = results[0].2;
    assert!(cached >= 2, "{cached} blocks in the cache");
    assert!(results.iter().all(|r| r.2 == cached), "one cache for all");
    // Each block was compiled once, by one of the machines.
    let compiled: u64 = results.iter().map(|r| r.1).sum();
    assert_eq!(compiled, cached);
}

#[test]
fn a_machine_that_rewrites_its_program_leaves_the_shared_code() {
    let old = shared_loop("rewrite", 3);
    let new = shared_loop("rewrite", 5);
    let (want_old, want_new) = (reference(&old), reference(&new));
    assert_ne!(want_old.last().unwrap().stop, want_new.last().unwrap().stop);
    let mut a = loaded(&old, Engine::Jit);
    let mut b = loaded(&old, Engine::Jit);
    assert_eq!(quanta(&mut a), want_old);
    assert_eq!(quanta(&mut b), want_old);
    assert!(a.shares_jit_code_with(&b));
    // B's program memory is rewritten over compiled code (a loader, gdb, a debugger): B runs
    // its new program right, on code of its own; A keeps the old program's code.
    let rewrite = |m: &mut Machine<GdbSim>, p: &Program| {
        m.core.ram_mut().fill(0);
        p.load_into(&mut m.core, LoadPolicy::Vma).unwrap();
        m.core.regs = [0; 32];
        m.core.insns = 0;
        m.core.cycles = 0;
        m.profile.reset(&mut m.core, p.entry);
    };
    rewrite(&mut b, &new);
    assert_eq!(quanta(&mut b), want_new, "rewritten machine");
    assert!(!a.shares_jit_code_with(&b));
    assert!(b.jit_blocks_compiled() >= 2);
    rewrite(&mut a, &old);
    assert_eq!(quanta(&mut a), want_old, "the other machine");
    // B alone uses its cache now: rewriting back drops the stale blocks in place.
    rewrite(&mut b, &old);
    assert_eq!(quanta(&mut b), want_old, "rewritten back");
    assert!(!a.shares_jit_code_with(&b));
}
