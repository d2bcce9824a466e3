//! The gdb stub's debug target through the library: mock machines, no toolchain needed. Whole
//! sessions of `ft32-elf-gdb` against the `ft900-sim` binary are in `ft900-host/tests/gdb.rs`.

use ft900_sim::core::Core;
use ft900_sim::gdb::{DebugTarget, GdbStop};
use ft900_sim::isa::Width;
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::{Machine, Profile, RunLimits, StopReason, RAM_BIAS};
use gdbstub::target::ext::base::singlethread::SingleThreadBase;
use gdbstub::target::ext::breakpoints::{HwWatchpoint, SwBreakpoint, WatchKind};
// ---------------------------------------------------------------------------------------------
// The debug target through the library
// ---------------------------------------------------------------------------------------------

/// Encodings used below (docs/hardware/isa.md §2.2).
mod asm {
    pub const EXIT: u32 = 0xBC01_FFFC; // sta.l 0x1fffc,$r0
    pub const RETI: u32 = 0xA400_0000;
    pub fn jmp(target: u32) -> u32 {
        0x0030_0000 | (target >> 2)
    }
    pub fn ldk(rd: u32, k: i32) -> u32 {
        0x0C << 27 | 2 << 25 | rd << 20 | (k as u32 & 0xF_FFFF)
    }
    pub fn inc(rd: u32) -> u32 {
        0x08 << 27 | 2 << 25 | rd << 20 | rd << 15 | (0x400 | 1) << 4
    }
    pub fn sta(dw: u32, aa: u32, rd: u32) -> u32 {
        0x17 << 27 | dw << 25 | rd << 20 | aa
    }
}

const VECTOR: u32 = 0x40;

/// A timed machine whose device raises one interrupt at each cycle in `fire_at`; reads of I/O
/// return 0, a write of 0x1FFFC exits with r0.
struct Mock {
    fire_at: Vec<u64>,
    next: usize,
    request: bool,
    entries: usize,
}

impl Profile for Mock {
    const TIMED: bool = true;
    fn name(&self) -> &'static str {
        "mock"
    }
    fn reset(&mut self, core: &mut Core, _entry: u32) {
        core.pc = 0;
        core.regs[31] = 0xFFFC;
    }
    fn io_read(&mut self, _c: &mut Core, _a: u32, _w: Width) -> Result<u32, StopReason> {
        Ok(0)
    }
    fn io_write(&mut self, c: &mut Core, a: u32, _w: Width, _v: u32) -> Result<(), StopReason> {
        if a == 0x1_FFFC {
            return Err(StopReason::Exited(c.regs[0]));
        }
        Ok(())
    }
    fn next_event(&self) -> u64 {
        self.fire_at.get(self.next).copied().unwrap_or(u64::MAX)
    }
    fn advance(&mut self, core: &mut Core) {
        while self.next_event() <= core.cycles {
            self.request = true;
            self.next += 1;
        }
    }
    fn take_interrupt(&mut self, _core: &mut Core) -> Option<u32> {
        if std::mem::take(&mut self.request) {
            self.entries += 1;
            return Some(VECTOR);
        }
        None
    }
}

fn load(m: &mut Machine<impl Profile>, words: &[(u32, u32)]) {
    for &(addr, w) in words {
        m.mem_write(addr, &w.to_le_bytes()).unwrap();
    }
}

/// `ldk r2,0; jmp .` with an ISR at VECTOR that exits with r0 = 7.
fn mock_machine(fire_at: Vec<u64>) -> Machine<Mock> {
    let mut m = Machine::with_standard_memory(Mock {
        fire_at,
        next: 0,
        request: false,
        entries: 0,
    });
    load(
        &mut m,
        &[
            (0x00, asm::ldk(2, 0)),
            (0x04, asm::jmp(0x04)),
            (VECTOR, asm::ldk(0, 7)),
            (VECTOR + 4, asm::EXIT),
            (VECTOR + 8, asm::RETI),
        ],
    );
    let Machine { core, profile, .. } = &mut m;
    profile.reset(core, 0);
    m
}

#[test]
fn single_step_masks_interrupts_unless_asked() {
    let mut m = mock_machine(vec![3]);
    let mut t = DebugTarget::new(&mut m);
    assert!(!t.step_irq());
    // The interrupt is due from cycle 3 on; masked steps execute `jmp .` again and again.
    for _ in 0..10 {
        assert_eq!(t.single_step(), GdbStop::DoneStep);
        assert_eq!(t.machine().core.pc, 0x04);
    }
    assert_eq!(t.machine().profile.entries, 0);
    let insns = t.machine().core.insns;
    assert_eq!(insns, 10, "each step executed exactly one instruction");
    // With step-irq on, the next step enters the pending interrupt.
    t.set_step_irq(true);
    assert_eq!(t.single_step(), GdbStop::DoneStep);
    assert_eq!(t.machine().profile.entries, 1);
    let pc = t.machine().core.pc;
    assert!((VECTOR..VECTOR + 8).contains(&pc), "pc {pc:#x}");
}

#[test]
fn continue_after_masked_steps_takes_the_pending_interrupt() {
    let mut m = mock_machine(vec![3]);
    let mut t = DebugTarget::new(&mut m);
    for _ in 0..4 {
        t.single_step();
    }
    t.resume_continue();
    assert_eq!(t.run_chunk(1 << 20), Some(GdbStop::Exited(7)));
    assert_eq!(t.last_stop(), Some(StopReason::Exited(7)));
    assert_eq!(t.machine().profile.entries, 1);
}

/// Firmware idles in `jmp .` between interrupts (`sys_wait_for_interrupt`). Once such a loop
/// has run under a hook, a watchpoint must still stop the machine right after the access —
/// the regression where the DynamoDB firmware never stopped on `watch queued`: the idle flag
/// stayed set on the hooked path and every instruction left the block before the hook's stop
/// request was looked at.
#[test]
fn watchpoints_stop_after_an_idle_loop_on_a_timed_machine() {
    let mut m = mock_machine(vec![40]);
    // The ISR stores twice to the watched word, then exits with r0 = 7.
    load(
        &mut m,
        &[
            (VECTOR, asm::ldk(1, 0x55)),
            (VECTOR + 4, asm::sta(2, 0x100, 1)),
            (VECTOR + 8, asm::inc(1)),
            (VECTOR + 12, asm::sta(2, 0x100, 1)),
            (VECTOR + 16, asm::ldk(0, 7)),
            (VECTOR + 20, asm::EXIT),
        ],
    );
    let mut t = DebugTarget::new(&mut m);
    let watched = RAM_BIAS + 0x100;
    assert_eq!(
        t.add_hw_watchpoint(watched, 4, WatchKind::Write).ok(),
        Some(true)
    );
    let hit = Some(GdbStop::Watch {
        tid: (),
        kind: WatchKind::Write,
        addr: watched,
    });
    t.resume_continue();
    assert_eq!(t.run_chunk(1 << 20), hit);
    // Stopped right after the first store, with the value written.
    assert_eq!(t.machine().core.pc, VECTOR + 8);
    assert_eq!(t.machine().core.ram()[0x100..0x104], 0x55u32.to_le_bytes());
    assert!(t.machine().core.cycles >= 40, "the idle loop ran first");
    t.resume_continue();
    assert_eq!(t.run_chunk(1 << 20), hit);
    assert_eq!(t.machine().core.pc, VECTOR + 16);
    assert_eq!(t.machine().core.ram()[0x100..0x104], 0x56u32.to_le_bytes());
    t.resume_continue();
    assert_eq!(t.run_chunk(1 << 20), Some(GdbStop::Exited(7)));
}

/// Interrupt entry pushes the return address like a call: a watchpoint on that stack slot
/// stops the machine right after the entry, at the vector, before the handler's first
/// instruction (as a `call`'s push stops before the callee's first instruction).
#[test]
fn a_watchpoint_sees_the_interrupt_entry_push() {
    let mut m = mock_machine(vec![40]);
    let slot = RAM_BIAS + 0xFFF8; // sp is 0xFFFC at reset
    let mut t = DebugTarget::new(&mut m);
    assert_eq!(
        t.add_hw_watchpoint(slot, 4, WatchKind::Write).ok(),
        Some(true)
    );
    t.resume_continue();
    assert_eq!(
        t.run_chunk(1 << 20),
        Some(GdbStop::Watch {
            tid: (),
            kind: WatchKind::Write,
            addr: slot
        })
    );
    assert_eq!(t.machine().core.pc, VECTOR);
    assert_eq!(t.machine().core.ram()[0xFFF8..0xFFFC], 4u32.to_le_bytes());
    assert_eq!(t.machine().profile.entries, 1);
    t.resume_continue();
    assert_eq!(t.run_chunk(1 << 20), Some(GdbStop::Exited(7)));
}

/// The idle flag must never outlive the instruction that set it. A hooked run that stopped in
/// an ISR entered from `jmp .` leaves none behind, so a run after `detach` (no hooks, fast path)
/// executes the ISR's `reti` instead of first skipping to the next event from the middle of
/// the ISR; and an idle flag left by a fast run that ended right after `jmp .` does not keep a
/// hooked run from honouring its watchpoint.
#[test]
fn the_idle_flag_does_not_leak_between_hooked_and_plain_runs() {
    let mut m = mock_machine(vec![40, 10_000]);
    load(
        &mut m,
        &[
            (VECTOR, asm::ldk(1, 0x55)),
            (VECTOR + 4, asm::sta(2, 0x100, 1)),
            (VECTOR + 8, asm::RETI),
        ],
    );
    // Plain run that ends right after the first `jmp .` (ldk, jmp).
    assert_eq!(
        m.run(RunLimits {
            max_insns: Some(2),
            ..RunLimits::default()
        }),
        StopReason::CountReached
    );
    assert_eq!(m.core.pc, 0x04);
    let mut t = DebugTarget::new(&mut m);
    assert_eq!(
        t.add_hw_watchpoint(RAM_BIAS + 0x100, 4, WatchKind::Write)
            .ok(),
        Some(true)
    );
    t.resume_continue();
    assert!(
        matches!(t.run_chunk(1 << 20), Some(GdbStop::Watch { .. })),
        "the watchpoint stops a hooked run that starts in an idle loop"
    );
    assert_eq!(t.machine().core.pc, VECTOR + 8);
    let stopped_at = t.machine().core.cycles;
    assert!((40..100).contains(&stopped_at), "cycle {stopped_at}");
    t.end_session();
    let m = t.machine();
    let stop = m.run(RunLimits {
        max_insns: Some(1),
        ..RunLimits::default()
    });
    assert_eq!(stop, StopReason::CountReached);
    assert_eq!(m.core.pc, 0x04, "the reti ran");
    assert!(
        m.core.cycles < stopped_at + 10,
        "no idle time was skipped in the middle of the ISR: cycle {} after {stopped_at}",
        m.core.cycles
    );
}

fn gdbsim_machine(words: &[(u32, u32)]) -> Machine<GdbSim> {
    let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(std::io::sink())));
    load(&mut m, words);
    m
}

#[test]
fn breakpoints_stop_before_the_instruction_and_not_again_on_resume() {
    // r0 counts to 3 through a loop at 0x04..0x0c, then exits.
    let mut m = gdbsim_machine(&[
        (0x00, asm::ldk(0, 0)),
        (0x04, asm::inc(0)),
        (0x08, 0x5de0_4032), // cmp.l $r0,3
        (0x0c, 0x0020_0001), // jmpc nz,4
        (0x10, asm::EXIT),
    ]);
    let mut t = DebugTarget::new(&mut m);
    assert_eq!(t.add_sw_breakpoint(0x04, 4).ok(), Some(true));
    for expected_r0 in 0..3 {
        t.resume_continue();
        assert_eq!(t.run_chunk(1000), Some(GdbStop::SwBreak(())));
        assert_eq!(t.machine().core.pc, 0x04);
        assert_eq!(t.machine().core.regs[0], expected_r0);
    }
    assert_eq!(t.remove_sw_breakpoint(0x04, 4).ok(), Some(true));
    assert_eq!(t.remove_sw_breakpoint(0x04, 4).ok(), Some(false));
    t.resume_continue();
    assert_eq!(t.run_chunk(1000), Some(GdbStop::Exited(3)));
    // Program memory was never patched.
    assert_eq!(t.machine().core.pm()[4..8], asm::inc(0).to_le_bytes());
}

#[test]
fn watchpoints_see_overlapping_accesses_and_report_the_watched_address() {
    let mut m = gdbsim_machine(&[
        (0x00, asm::ldk(1, 0x1234)),
        (0x04, asm::sta(0, 0x101, 1)), // sta.b 0x101 (outside the watch)
        (0x08, asm::sta(2, 0x100, 1)), // sta.l 0x100: covers 0x102
        (0x0c, asm::EXIT),
    ]);
    let mut t = DebugTarget::new(&mut m);
    let watched = RAM_BIAS + 0x102;
    assert_eq!(
        t.add_hw_watchpoint(watched, 1, WatchKind::Write).ok(),
        Some(true)
    );
    t.resume_continue();
    assert_eq!(
        t.run_chunk(1000),
        Some(GdbStop::Watch {
            tid: (),
            kind: WatchKind::Write,
            addr: watched
        })
    );
    // The machine stops after the access.
    assert_eq!(t.machine().core.pc, 0x0c);
    assert_eq!(t.debug_points(), 1);
    t.end_session();
    assert_eq!(t.debug_points(), 0);
    t.resume_continue();
    assert_eq!(t.run_chunk(1000), Some(GdbStop::Exited(0)));
}

#[test]
fn memory_follows_gdbs_address_map() {
    let mut m = gdbsim_machine(&[(0x00, asm::ldk(0, 5))]);
    m.mem_write(RAM_BIAS + 0x10, &[1, 2, 3, 4]).unwrap();
    let mut t = DebugTarget::new(&mut m);
    let mut buf = [0u8; 4];
    assert_eq!(t.read_addrs(0, &mut buf).ok(), Some(4));
    assert_eq!(u32::from_le_bytes(buf), asm::ldk(0, 5));
    assert_eq!(t.read_addrs(RAM_BIAS + 0x10, &mut buf).ok(), Some(4));
    assert_eq!(buf, [1, 2, 3, 4]);
    // A read that runs off the end of program memory is cut short; one past it fails.
    assert_eq!(t.read_addrs(0x3_FFFE, &mut buf).ok(), Some(2));
    assert!(t.read_addrs(0x4_0000, &mut buf).is_err());
    // I/O registers are refused (reads could have side effects); so is anything unmapped.
    assert!(t.read_addrs(RAM_BIAS + 0x1_0000, &mut buf).is_err());
    assert!(t.write_addrs(RAM_BIAS + 0x1_FFFC, &[0; 4]).is_err());
    assert!(t.read_addrs(0x90_0000, &mut buf).is_err());
    assert!(t.write_addrs(0x3_FFFE, &[0; 4]).is_err());
    // Program-memory writes refresh the decoded instructions: the new code runs.
    assert!(t.write_addrs(4, &asm::EXIT.to_le_bytes()).is_ok());
    t.resume_continue();
    assert_eq!(t.run_chunk(100), Some(GdbStop::Exited(5)));
}
