//! The lockstep debugger against the real reference (gdb 13's FT32 simulator): a program on which
//! both agree, a program that stops in both, and a deliberately broken simulator whose first wrong
//! instruction must be pinpointed.

mod support;

use std::path::PathBuf;
use std::process::Command;

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::lockstep::{run_lockstep_detailed, LockstepConfig, LockstepOutcome, Stepper};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::{Machine, Profile};

use support::Toolchain;

fn build(tc: &Toolchain, source: &str, name: &str) -> PathBuf {
    let src = support::workspace_root()
        .join("ft900-sim/tests/guest")
        .join(source);
    let out = support::target_dir().join(format!("lockstep-{name}.elf"));
    let status = Command::new(&tc.gcc)
        .args(["-msim", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("run ft32-elf-gcc");
    assert!(status.success(), "ft32-elf-gcc failed on {}", src.display());
    out
}

fn machine_for(elf: &PathBuf) -> Machine<GdbSim> {
    let program = Program::parse(&std::fs::read(elf).unwrap()).unwrap();
    let profile = GdbSim::new(
        Box::new(std::io::sink()),
        Box::new(std::io::empty()),
        Box::new(std::io::sink()),
    );
    let mut m = Machine::with_standard_memory(profile);
    program.load_into(&mut m.core, LoadPolicy::Vma).unwrap();
    m.profile.reset(&mut m.core, program.entry);
    m
}

#[test]
fn a_whole_program_agrees_until_both_exit() {
    let tc = Toolchain::require();
    let elf = build(&tc, "exit_status.c", "exit_status");
    let mut m = machine_for(&elf);
    let run = run_lockstep_detailed(&elf, &LockstepConfig::new(&tc.gdb), &mut m).unwrap();
    match &run.outcome {
        LockstepOutcome::ReferenceStopped {
            steps,
            ours_stopped,
            message,
        } => {
            assert!(*ours_stopped, "{message}");
            assert!(*steps > 2000, "only {steps} instructions compared");
            assert!(message.contains("exited"), "{message}");
        }
        other => panic!("expected both to exit, got {other:?}"),
    }
    assert!(run.outcome.agrees());
}

#[test]
fn an_illegal_instruction_stops_both_at_the_same_place() {
    let tc = Toolchain::require();
    let elf = build(&tc, "fault_streamin.S", "streamin");
    let mut m = machine_for(&elf);
    let run = run_lockstep_detailed(&elf, &LockstepConfig::new(&tc.gdb), &mut m).unwrap();
    assert!(run.outcome.agrees(), "{:?}", run.outcome);
    assert!(
        matches!(&run.outcome, LockstepOutcome::ReferenceStopped { message, .. } if message.contains("SIGILL")),
        "{:?}",
        run.outcome
    );
}

/// Our machine, with `r5` corrupted after instruction number `corrupt_after`.
struct Broken {
    inner: Machine<GdbSim>,
    steps: u64,
    corrupt_after: u64,
}

impl Stepper for Broken {
    fn pc(&self) -> u32 {
        self.inner.core.pc
    }
    fn regs(&self) -> [u32; 32] {
        self.inner.core.regs
    }
    fn step(&mut self) -> Result<(), String> {
        Stepper::step(&mut self.inner)?;
        self.steps += 1;
        if self.steps == self.corrupt_after {
            self.inner.core.regs[5] ^= 0x40;
        }
        Ok(())
    }
}

#[test]
fn the_first_differing_instruction_is_found() {
    let tc = Toolchain::require();
    let elf = build(&tc, "exit_status.c", "exit_status-broken");
    let mut broken = Broken {
        inner: machine_for(&elf),
        steps: 0,
        corrupt_after: 777,
    };
    let mut cfg = LockstepConfig::new(&tc.gdb);
    cfg.max_steps = 2000;
    let run = run_lockstep_detailed(&elf, &cfg, &mut broken).unwrap();
    match &run.outcome {
        LockstepOutcome::Diverged { step, diffs, .. } => {
            assert_eq!(*step, 777);
            assert_eq!(diffs.len(), 1, "{diffs:?}");
            assert_eq!(diffs[0].0, "r5");
            assert_eq!(diffs[0].1 ^ diffs[0].2, 0x40);
        }
        other => panic!("expected a divergence at instruction 777, got {other:?}"),
    }
    assert!(!run.outcome.agrees());
}
