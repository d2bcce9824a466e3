//! The interpreter's support for timed machine profiles (events, interrupt entry, `reti`,
//! idle-loop skipping), checked with a small mock profile so that it does not depend on any
//! peripheral model.

use ft900_sim::core::Core;
use ft900_sim::isa::Width;
use ft900_sim::{HookAction, Machine, Profile, RunLimits, StopReason};

/// `jmp target`.
fn jmp(target: u32) -> u32 {
    0x0030_0000 | (target >> 2)
}
/// `sta.l aa, $r0`.
fn sta_r0(aa: u32) -> u32 {
    0x17 << 27 | 2 << 25 | aa
}
/// `ldk.l $rd, k`.
fn ldk(rd: u32, k: i32) -> u32 {
    0x0C << 27 | 2 << 25 | rd << 20 | (k as u32 & 0xF_FFFF)
}
/// `add.l $rd, $rd, 1`.
fn inc(rd: u32) -> u32 {
    0x08 << 27 | 2 << 25 | rd << 20 | rd << 15 | (0x400 | 1) << 4
}
const RETI: u32 = 0xA400_0000;
const EXIT_PORT: u32 = 0x1_FFFC;
const ACK_PORT: u32 = 0x1_0004;
const VECTOR: u32 = 0x40;

/// A device that raises a level interrupt at each cycle in `fire_at`; writing `ACK_PORT`
/// lowers it. Reads of any I/O address return the cycle counter.
struct Mock {
    fire_at: Vec<u64>,
    next: usize,
    request: bool,
    in_service: bool,
    entries: Vec<u64>,
}

impl Mock {
    fn new(fire_at: Vec<u64>) -> Mock {
        Mock {
            fire_at,
            next: 0,
            request: false,
            in_service: false,
            entries: Vec::new(),
        }
    }
}

impl Profile for Mock {
    const TIMED: bool = true;

    fn name(&self) -> &'static str {
        "mock"
    }
    fn reset(&mut self, core: &mut Core, _entry: u32) {
        core.pc = 0;
        core.regs[31] = 0x1_0000;
    }
    fn io_read(&mut self, core: &mut Core, _addr: u32, _w: Width) -> Result<u32, StopReason> {
        Ok(core.cycles as u32)
    }
    fn io_write(
        &mut self,
        core: &mut Core,
        addr: u32,
        _w: Width,
        _v: u32,
    ) -> Result<(), StopReason> {
        match addr {
            EXIT_PORT => Err(StopReason::Exited(core.regs[0])),
            ACK_PORT => {
                self.request = false;
                Ok(())
            }
            _ => Ok(()),
        }
    }
    fn on_reti(&mut self, _core: &mut Core) {
        self.in_service = false;
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
    fn take_interrupt(&mut self, core: &mut Core) -> Option<u32> {
        if self.request && !self.in_service {
            self.in_service = true;
            self.entries.push(core.cycles);
            return Some(VECTOR);
        }
        None
    }
}

/// `jmpc z, target` (after a compare, jump if equal: $cc bit 0 set).
fn jmpc_z(target: u32) -> u32 {
    2 << 20 | 1 << 19 | (target >> 2)
}
/// `cmp.l $r1, imm`.
fn cmp_i(r1: u32, imm: i32) -> u32 {
    0x0B << 27 | 2 << 25 | 30 << 20 | r1 << 15 | (0x400 | (imm as u32 & 0x3FF)) << 4 | 2
}
/// `add.l $rd, $r1, 0` (a move).
fn mov(rd: u32, r1: u32) -> u32 {
    0x08 << 27 | 2 << 25 | rd << 20 | r1 << 15 | 0x400 << 4
}

/// Main program: `r2 = 0; loop: jmp loop`. The ISR counts in r2 and acknowledges; after
/// `interrupts` of them it exits with status r2.
fn program(m: &mut Machine<Mock>, interrupts: i32) {
    let words = [
        (0x00, ldk(2, 0)),
        (0x04, jmp(0x04)),
        (VECTOR, inc(2)),
        (VECTOR + 4, sta_r0(ACK_PORT)),
        (VECTOR + 8, cmp_i(2, interrupts)),
        (VECTOR + 12, jmpc_z(VECTOR + 20)),
        (VECTOR + 16, RETI),
        (VECTOR + 20, mov(0, 2)),
        (VECTOR + 24, sta_r0(EXIT_PORT)),
    ];
    for (addr, w) in words {
        m.mem_write(addr, &w.to_le_bytes()).unwrap();
    }
}

fn machine(fire_at: Vec<u64>) -> Machine<Mock> {
    let n = fire_at.len() as i32;
    let mut m = Machine::with_standard_memory(Mock::new(fire_at));
    program(&mut m, n);
    let Machine { core, profile, .. } = &mut m;
    profile.reset(core, 0);
    m
}

#[test]
fn interrupts_are_taken_at_the_first_boundary_after_their_event() {
    let mut m = machine(vec![1000, 5001, 20_000]);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(3));
    // ldk (1 cycle) then jmp . (2 cycles each): boundaries at odd cycles 1, 3, ..., so the
    // event at 1000 is seen at 1001. After the first ISR the loop resumes on its own parity.
    let e = &m.profile.entries;
    assert_eq!(e.len(), 3);
    assert_eq!(e[0], 1001);
    assert!(e[1] >= 5001 && e[1] <= 5002, "{e:?}");
    assert!(e[2] >= 20_000 && e[2] <= 20_001, "{e:?}");
    // The return address pushed by the last entry is the idle loop.
    let mut ret = [0u8; 4];
    m.mem_read(ft900_sim::RAM_BIAS + 0xFFFC, &mut ret).unwrap();
    assert_eq!(u32::from_le_bytes(ret), 0x04);
}

#[test]
fn idle_skipping_changes_nothing_observable() {
    // Fast path: `jmp .` is skipped to the next event.
    let mut fast = machine(vec![1000, 5001, 2_000_000]);
    assert_eq!(fast.run(RunLimits::default()), StopReason::Exited(3));
    // A code hook forces the slow path, which executes every iteration.
    let mut slow = machine(vec![1000, 5001, 2_000_000]);
    slow.add_code_hook(0, u32::MAX, |_, _| HookAction::Continue);
    assert_eq!(slow.run(RunLimits::default()), StopReason::Exited(3));
    assert_eq!(fast.core.cycles, slow.core.cycles);
    assert_eq!(fast.core.insns, slow.core.insns);
    assert_eq!(fast.profile.entries, slow.profile.entries);
    assert!(
        fast.core.insns > 1_000_000,
        "the loop really ran ~1M iterations"
    );
}

#[test]
fn step_delivers_interrupts_too() {
    let mut m = machine(vec![4]);
    let mut pcs = Vec::new();
    for _ in 0..6 {
        pcs.push(m.core.pc);
        if let Some(stop) = m.step() {
            assert_eq!(stop, StopReason::Exited(1));
            break;
        }
    }
    // ldk, jmp (cycle 1→3), jmp (3→5): event at 4 is due, so the next step enters the ISR.
    assert_eq!(&pcs[..4], &[0x00, 0x04, 0x04, VECTOR]);
}

#[test]
fn a_cycle_deadline_stops_an_idle_machine_exactly() {
    let mut m = machine(vec![10_000_000]);
    let stop = m.run(RunLimits {
        cycle_deadline: Some(1_000_001),
        ..RunLimits::default()
    });
    assert_eq!(stop, StopReason::CycleLimit);
    assert!(m.core.cycles >= 1_000_001 && m.core.cycles <= 1_000_002);
    assert!(m.profile.entries.is_empty());
    // Resuming goes on to the interrupt.
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(1));
    assert_eq!(m.profile.entries, vec![10_000_001]);
}
