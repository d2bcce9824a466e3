//! The machine: a [`Core`], a machine [`Profile`] that decodes the I/O space, hooks, and the
//! interpreter that runs FT32 code, behind an API shaped like Unicorn's.
//!
//! The interpreter executes pre-decoded instructions in blocks. It is generic over a `SLOW`
//! flag: the fast variant runs when no hook, `until` address or single-step is in force and pays
//! nothing for them; the slow variant checks hooks before each instruction and on each access.
//! With [`Engine::Jit`], the hook-free path runs compiled blocks instead ([`crate::jit`];
//! the dispatcher is in `machine/engine.rs`).

#[cfg(feature = "jit")]
mod engine;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::core::{Core, Reg, PM_SIZE, RAM_BIAS, RAM_SIZE};
use crate::isa::{flag_word, FfuOp, Illegal, Insn, Op, Width, IMM};
use crate::jit::{Engine, Jit, JitUnavailable};
use crate::stop::{Fault, FaultKind, StopReason};

#[cfg(not(feature = "jit"))]
impl<P: Profile> Machine<P> {
    /// A build without the compiling engine: no machine can choose [`Engine::Jit`]
    /// ([`Machine::set_engine`] and the environment refuse it), so this is never reached with
    /// it; the interpreter, should it be.
    fn exec_jit(&mut self, budget: u64, deadline: u64) -> Option<StopReason> {
        self.exec_block::<false>(budget, deadline, None, false)
    }
}

/// The data-space address where I/O registers start; below it is RAM.
pub const IO_BASE: u32 = 0x1_0000;

/// A machine profile: what sits in the I/O half of the data space (0x10000..0x1FFFF) and how the
/// machine resets. The CPU core knows nothing of consoles, exit ports or peripherals.
pub trait Profile {
    /// Short name of the profile, e.g. `gdb-sim`.
    fn name(&self) -> &'static str;

    /// Puts registers into their reset state after a program was loaded; `entry` is the ELF
    /// entry point.
    fn reset(&mut self, core: &mut Core, entry: u32);

    /// Reads an I/O address (17-bit data address, not rounded to the width).
    /// `core.pc` is the address of the instruction doing the access.
    fn io_read(&mut self, core: &mut Core, addr: u32, width: Width) -> Result<u32, StopReason>;

    /// Writes an I/O address (17-bit data address, not rounded to the width).
    fn io_write(
        &mut self,
        core: &mut Core,
        addr: u32,
        width: Width,
        value: u32,
    ) -> Result<(), StopReason>;

    /// `true` for profiles with timed devices and interrupts. A constant, so that profiles
    /// without them (gdb-sim) pay nothing for the checks below in the interpreter loop.
    const TIMED: bool = false;

    /// Cycle at which the profile next needs [`Profile::advance`] (`u64::MAX`: nothing is
    /// scheduled). The CPU runs no further than this before calling `advance`.
    fn next_event(&self) -> u64 {
        u64::MAX
    }

    /// Runs every device event due at or before `core.cycles`.
    fn advance(&mut self, _core: &mut Core) {}

    /// The interrupt to enter at this instruction boundary, if any: returns the vector's PM
    /// address, and the profile records the interrupt as in service. Called (for timed
    /// profiles) after events, after every I/O access and after `reti`, so a request is taken
    /// at the first instruction boundary at which it is eligible.
    fn take_interrupt(&mut self, _core: &mut Core) -> Option<u32> {
        None
    }

    /// Whether the FFU operation `op` exists on this machine. Only consulted for the rarely used
    /// stream operations, so it costs nothing on the hot path.
    fn implements_ffu(&self, _op: FfuOp) -> bool {
        true
    }

    /// An instruction fetch at `core.pc` found no instruction (outside program memory, or
    /// beyond what [`Core`] was told is executable). `Err` stops the run with that fault;
    /// `Ok` means the profile moved `core.pc` somewhere executable and the run goes on.
    fn on_fetch_fault(&mut self, _core: &mut Core) -> Result<(), FaultKind> {
        Err(FaultKind::FetchUnmapped)
    }

    /// Called when the CPU executes `reti` (after the return address was popped).
    fn on_reti(&mut self, _core: &mut Core) {}

    /// The peripheral (or port) an I/O address belongs to and the offset in it, for traces:
    /// `("uart0", 5)`. `None` where nothing is mapped.
    fn io_region(_addr: u32) -> Option<(&'static str, u32)> {
        None
    }

    /// What a `halt` instruction does. The default stops the machine.
    fn on_halt(&mut self, core: &mut Core) -> StopReason {
        StopReason::Halted(core.pc)
    }

    /// The devices as a debugger may look at them without side effects (`monitor uart`, `net`,
    /// `io`, `time`); `None` (the default) for a machine without peripherals.
    fn inspect(&self) -> Option<&dyn crate::inspect::Inspect> {
        None
    }
}

/// Result of a hook callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookAction {
    /// Go on.
    Continue,
    /// Stop the run: before the instruction for code hooks, after the current instruction for
    /// memory hooks.
    Stop,
}

/// Identifies a hook for [`Machine::hook_del`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HookId(u32);

/// Which accesses a memory hook sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemHookKind {
    /// Reads (data loads and program-memory loads).
    Read,
    /// Writes.
    Write,
    /// Reads and writes.
    Access,
}

/// One memory access, as a memory hook sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemAccess {
    /// `true` for a write.
    pub write: bool,
    /// Address in the flat space: program memory at 0, data space at [`RAM_BIAS`] (I/O at
    /// `RAM_BIAS + 0x10000`), rounded to the access width as the bus sees it.
    pub addr: u32,
    /// Access width.
    pub width: Width,
    /// Value read or written.
    pub value: u32,
    /// Address of the instruction making the access.
    pub pc: u32,
}

/// An interrupt event, as an interrupt hook sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntrEvent {
    /// The CPU entered an interrupt: the return address `from` was pushed and PC is `vector`.
    Enter {
        /// Program-memory address of the vector taken.
        vector: u32,
        /// Address of the instruction that was about to run (where `reti` returns to).
        from: u32,
    },
    /// A `reti` at `at` popped the return address; PC is `to`.
    Return {
        /// Address of the `reti` instruction.
        at: u32,
        /// Where execution goes on.
        to: u32,
    },
}

type CodeHookFn = Box<dyn FnMut(&mut Core, u32) -> HookAction + Send>;
type IntrHookFn = Box<dyn FnMut(&mut Core, IntrEvent) -> HookAction + Send>;
type MemHookFn = Box<dyn FnMut(&Core, &MemAccess) -> HookAction + Send>;

struct CodeHook {
    id: HookId,
    begin: u32,
    end: u32,
    f: CodeHookFn,
}

struct IntrHook {
    id: HookId,
    f: IntrHookFn,
}

struct MemHook {
    id: HookId,
    kind: MemHookKind,
    begin: u32,
    end: u32,
    f: MemHookFn,
}

/// Errors of the memory-mapping and memory-access API.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MemError {
    /// `mem_map` was asked for a region the FT32 does not have.
    #[error(
        "cannot map {size:#x} bytes at {addr:#x}: the FT32 has program memory at 0 (up to {PM_SIZE:#x} bytes) and data RAM at {RAM_BIAS:#x} (up to {RAM_SIZE:#x} bytes)"
    )]
    BadMapping {
        /// Requested address.
        addr: u32,
        /// Requested size.
        size: u32,
    },
    /// An access touched an unmapped address.
    #[error("{len} bytes at {addr:#x} are not mapped")]
    Unmapped {
        /// Start address.
        addr: u32,
        /// Length.
        len: usize,
    },
}

/// Requests a running machine to stop from another thread (for example gdb's Ctrl-C).
#[derive(Clone, Debug, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the machine to stop at the next instruction-block boundary.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Limits of one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunLimits {
    /// Stop after this many instructions.
    pub max_insns: Option<u64>,
    /// Stop when PC reaches this address, before executing it.
    pub until: Option<u32>,
    /// Stop once the cycle counter reaches this value.
    pub cycle_deadline: Option<u64>,
}

/// Instructions run between checks of the cross-thread stop flag.
const BLOCK: u64 = 1 << 14;

/// The most cycles one instruction takes in the cycle model (a taken branch or a load).
const MAX_CYCLES_PER_INSN: u64 = 2;

/// Number of recently executed PCs kept for fault reports.
pub const TRAIL_LEN: usize = 16;

/// An FT32 machine: CPU core, memories, a machine profile and hooks.
pub struct Machine<P: Profile> {
    /// CPU state and memories.
    pub core: Core,
    /// The machine profile (I/O space).
    pub profile: P,
    code_hooks: Vec<CodeHook>,
    mem_hooks: Vec<MemHook>,
    intr_hooks: Vec<IntrHook>,
    next_hook: u32,
    stop_flag: Arc<AtomicBool>,
    /// Set by a memory hook that asked to stop; honoured after the current instruction.
    stop_after: bool,
    /// Timed profiles: an I/O access or `reti` happened, so pending interrupts and the next
    /// event must be looked at again before the next instruction.
    resync: bool,
    /// Timed profiles: the CPU executed an unconditional jump to itself (an idle loop).
    idle: bool,
    /// Cycles skipped in idle loops instead of being executed (see [`Machine::idle_cycles`]).
    idle_cycles: u64,
    trail: [u32; TRAIL_LEN],
    engine: Engine,
    /// The compiling engine's state, made when [`Engine::Jit`] is chosen.
    jit: Option<Box<Jit>>,
}

/// Outcome of executing one instruction in the interpreter.
type Step = Result<(), StopReason>;

impl<P: Profile> Machine<P> {
    /// A machine with nothing mapped; use [`Machine::mem_map`] (or a profile's constructor that
    /// maps the standard memories). Its engine is [`Engine::default`] (which panics on a bad
    /// `FT900_ENGINE`; see there).
    pub fn new(profile: P) -> Machine<P> {
        Machine {
            core: Core::new(),
            profile,
            code_hooks: Vec::new(),
            mem_hooks: Vec::new(),
            intr_hooks: Vec::new(),
            next_hook: 0,
            stop_flag: Arc::new(AtomicBool::new(false)),
            stop_after: false,
            resync: true,
            idle: false,
            idle_cycles: 0,
            trail: [u32::MAX; TRAIL_LEN],
            engine: Engine::default(),
            jit: None,
        }
    }

    /// A machine with the FT900's memories mapped: 256 KiB program memory, 64 KiB RAM.
    pub fn with_standard_memory(profile: P) -> Machine<P> {
        let mut m = Machine::new(profile);
        m.core.map_pm(PM_SIZE);
        m.core.map_ram(RAM_SIZE);
        m
    }

    /// Maps memory in the flat space (Unicorn's `mem_map`): program memory `0..size` or RAM
    /// `RAM_BIAS..RAM_BIAS+size`. Mapping grows a memory; it never shrinks one.
    pub fn mem_map(&mut self, addr: u32, size: u32) -> Result<(), MemError> {
        match addr {
            0 if size <= PM_SIZE => self.core.map_pm(size),
            RAM_BIAS if size <= RAM_SIZE => self.core.map_ram(size),
            _ => return Err(MemError::BadMapping { addr, size }),
        }
        Ok(())
    }

    /// Reads memory from the flat space (Unicorn's `mem_read`).
    pub fn mem_read(&self, addr: u32, buf: &mut [u8]) -> Result<(), MemError> {
        if self.core.read_flat(addr, buf) {
            Ok(())
        } else {
            Err(MemError::Unmapped {
                addr,
                len: buf.len(),
            })
        }
    }

    /// Writes memory in the flat space (Unicorn's `mem_write`); program-memory writes refresh
    /// the decoded-instruction cache.
    pub fn mem_write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), MemError> {
        if self.core.write_flat(addr, bytes) {
            Ok(())
        } else {
            Err(MemError::Unmapped {
                addr,
                len: bytes.len(),
            })
        }
    }

    /// Chooses the engine that runs code on the hook-free path (Unicorn-style setter). Hooks,
    /// `until` addresses, single steps and debuggers always use the interpreter. Fails only
    /// for [`Engine::Jit`] on a host without compiled-code support; the engine is unchanged
    /// then.
    pub fn set_engine(&mut self, engine: Engine) -> Result<(), JitUnavailable> {
        if engine == Engine::Jit && self.jit.is_none() {
            self.jit = Some(Box::new(Jit::new()?));
        }
        self.engine = engine;
        Ok(())
    }

    /// The engine chosen with [`Machine::set_engine`], else the default ([`Engine::default`]:
    /// `FT900_ENGINE`, else the JIT where the host has it).
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Blocks this machine's compiling engine compiled itself (0 with the interpreter).
    ///
    /// Machines running the same program in one process share compiled code (see
    /// [`crate::jit`]): each block is compiled once, by the first machine that makes it hot,
    /// so with machines on several threads this count depends on scheduling; use
    /// [`Machine::jit_blocks_cached`] for the code a machine has at hand.
    pub fn jit_blocks_compiled(&self) -> u64 {
        self.jit.as_ref().map_or(0, |j| j.compiled())
    }

    /// Blocks compiled (by any machine) into the code cache this machine uses: 0 with the
    /// interpreter or before it ran compiled code.
    pub fn jit_blocks_cached(&self) -> u64 {
        self.jit.as_ref().map_or(0, |j| j.cached())
    }

    /// Whether this machine runs the same compiled code as `other` (both use the compiling
    /// engine and one code cache for their program).
    pub fn shares_jit_code_with<Q: Profile>(&self, other: &Machine<Q>) -> bool {
        match (&self.jit, &other.jit) {
            (Some(a), Some(b)) => a.shares_code_with(b),
            _ => false,
        }
    }

    /// Reads a register (Unicorn's `reg_read`).
    pub fn reg_read(&self, reg: Reg) -> u32 {
        self.core.reg(reg)
    }

    /// Writes a register (Unicorn's `reg_write`).
    pub fn reg_write(&mut self, reg: Reg, value: u32) {
        self.core.set_reg(reg, value)
    }

    /// A handle that stops this machine from another thread (Unicorn's `emu_stop`).
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop_flag.clone())
    }

    /// Adds a code hook called before each instruction whose address is in `begin..=end`.
    pub fn add_code_hook(
        &mut self,
        begin: u32,
        end: u32,
        f: impl FnMut(&mut Core, u32) -> HookAction + Send + 'static,
    ) -> HookId {
        let id = self.new_hook_id();
        self.code_hooks.push(CodeHook {
            id,
            begin,
            end,
            f: Box::new(f),
        });
        id
    }

    /// Adds a memory hook called on each access of `kind` to flat addresses `begin..=end`
    /// (data space at [`RAM_BIAS`]).
    pub fn add_mem_hook(
        &mut self,
        kind: MemHookKind,
        begin: u32,
        end: u32,
        f: impl FnMut(&Core, &MemAccess) -> HookAction + Send + 'static,
    ) -> HookId {
        let id = self.new_hook_id();
        self.mem_hooks.push(MemHook {
            id,
            kind,
            begin,
            end,
            f: Box::new(f),
        });
        id
    }

    /// Adds an interrupt hook (Unicorn's `UC_HOOK_INTR`), called after the CPU enters an
    /// interrupt and after each `reti`. [`HookAction::Stop`] stops the run before the next
    /// instruction.
    pub fn add_intr_hook(
        &mut self,
        f: impl FnMut(&mut Core, IntrEvent) -> HookAction + Send + 'static,
    ) -> HookId {
        let id = self.new_hook_id();
        self.intr_hooks.push(IntrHook { id, f: Box::new(f) });
        id
    }

    /// Removes a hook; returns `false` if no hook had that id.
    pub fn hook_del(&mut self, id: HookId) -> bool {
        let count = |m: &Self| m.code_hooks.len() + m.mem_hooks.len() + m.intr_hooks.len();
        let before = count(self);
        self.code_hooks.retain(|h| h.id != id);
        self.mem_hooks.retain(|h| h.id != id);
        self.intr_hooks.retain(|h| h.id != id);
        before != count(self)
    }

    #[cold]
    fn run_intr_hooks(&mut self, event: IntrEvent) -> HookAction {
        let mut action = HookAction::Continue;
        for h in &mut self.intr_hooks {
            if (h.f)(&mut self.core, event) == HookAction::Stop {
                action = HookAction::Stop;
            }
        }
        action
    }

    fn new_hook_id(&mut self) -> HookId {
        self.next_hook += 1;
        HookId(self.next_hook)
    }

    /// Runs from `begin` until PC reaches `until`, `count` instructions were executed, or the
    /// machine stops for another reason (Unicorn's `emu_start`, without the wall-clock timeout:
    /// runs here are deterministic).
    pub fn emu_start(&mut self, begin: u32, until: Option<u32>, count: Option<u64>) -> StopReason {
        self.core.pc = begin;
        self.run(RunLimits {
            max_insns: count,
            until,
            cycle_deadline: None,
        })
    }

    /// Executes exactly one instruction (code hooks and `until` are not consulted). On timed
    /// profiles, due events run before and after it, and a pending interrupt is entered.
    pub fn step(&mut self) -> Option<StopReason> {
        if P::TIMED {
            if let Some(stop) = self.sync_devices() {
                return Some(stop);
            }
        }
        match self.exec_block::<true>(1, u64::MAX, None, false) {
            Some(StopReason::CountReached) | None => {
                // Interrupt entry is not an instruction: a debugger stepping into a pending
                // interrupt sees the PC at its vector after the step.
                if P::TIMED {
                    self.idle = false;
                    let stop = self.sync_devices();
                    if stop.is_none() && self.stop_after {
                        // The interrupt entry's push was watched (see `run`).
                        self.stop_after = false;
                        return Some(StopReason::Stopped);
                    }
                    return stop;
                }
                None
            }
            other => other,
        }
    }

    /// Executes exactly the instruction at PC with interrupts masked, as a debugger's
    /// single-step does (code hooks and `until` are not consulted; memory hooks are). On timed
    /// profiles, due device events run before and after it, but a pending interrupt is not
    /// entered: the next [`Machine::step`] or [`Machine::run`] enters it.
    pub fn step_masked(&mut self) -> Option<StopReason> {
        if P::TIMED && self.core.cycles >= self.profile.next_event() {
            self.profile.advance(&mut self.core);
        }
        match self.exec_block::<true>(1, u64::MAX, None, false) {
            Some(StopReason::CountReached) | None => {
                if P::TIMED {
                    self.idle = false;
                    if self.core.cycles >= self.profile.next_event() {
                        self.profile.advance(&mut self.core);
                    }
                }
                None
            }
            other => other,
        }
    }

    /// Timed profiles, between instructions: run due device events, then enter a pending
    /// interrupt. Returns a stop only if entering the interrupt faults.
    fn sync_devices(&mut self) -> Option<StopReason> {
        self.resync = false;
        if self.core.cycles >= self.profile.next_event() {
            self.profile.advance(&mut self.core);
        }
        if let Some(vector) = self.profile.take_interrupt(&mut self.core) {
            // Entry pushes the return address like a call and costs what a call costs.
            self.core.cycles += 2;
            let from = self.core.pc;
            if let Err(stop) = self.push::<true>(from) {
                return Some(stop);
            }
            self.core.pc = vector;
            self.resync = false;
            if !self.intr_hooks.is_empty()
                && self.run_intr_hooks(IntrEvent::Enter { vector, from }) == HookAction::Stop
            {
                return Some(StopReason::Stopped);
            }
        }
        None
    }

    /// Timed profiles: the CPU spins in `jmp .`; skip whole iterations up to the next event or
    /// the run's deadline. Nothing observable changes: the loop reads and writes nothing, and
    /// the cycle and instruction counters end where executing it would have left them.
    fn skip_idle(&mut self, deadline: u64, insn_budget: u64) {
        self.idle = false;
        // The flag was set by the instruction just executed; PC must still be that `jmp .`
        // (a debugger or the API may have moved it since).
        let pc = self.core.pc;
        if !matches!(self.core.fetch(pc), Some(insn) if insn.op == Op::Jmp && insn.imm == pc) {
            return;
        }
        let target = self.profile.next_event().min(deadline);
        if target == u64::MAX || target <= self.core.cycles {
            return;
        }
        // One iteration (a taken jump) costs two cycles.
        let iterations = ((target - self.core.cycles) / 2).min(insn_budget);
        self.core.cycles += 2 * iterations;
        self.idle_cycles += 2 * iterations;
        self.core.insns += iterations;
    }

    /// Runs from the current PC within `limits`.
    // Inlined into each caller so that the limits are constants there: with several callers in
    // one binary (the CLI and the gdb stub) an out-of-line `run` hides that no cycle deadline is
    // set, and the fast `exec_block` loop then keeps the deadline live and spills its counter.
    #[inline(always)]
    pub fn run(&mut self, limits: RunLimits) -> StopReason {
        let slow = !self.code_hooks.is_empty()
            || !self.mem_hooks.is_empty()
            || !self.intr_hooks.is_empty()
            || limits.until.is_some();
        let start = self.core.insns;
        let deadline = limits.cycle_deadline.unwrap_or(u64::MAX);
        loop {
            if self.stop_flag.swap(false, Ordering::Relaxed) {
                return StopReason::Stopped;
            }
            let budget = match limits.max_insns {
                Some(max) => {
                    let done = self.core.insns - start;
                    if done >= max {
                        return StopReason::CountReached;
                    }
                    (max - done).min(BLOCK)
                }
                None => BLOCK,
            };
            let mut block_deadline = deadline;
            if P::TIMED && self.idle {
                if slow {
                    // The hooked path executes idle loops (code hooks must see every
                    // iteration); a flag left by a plain run must not make it leave each block
                    // after one instruction, before a hook's stop request is looked at.
                    self.idle = false;
                } else {
                    self.skip_idle(deadline, budget);
                    continue;
                }
            }
            if P::TIMED {
                if let Some(stop) = self.sync_devices() {
                    return stop;
                }
                // A memory hook saw an interrupt entry push the return address and asked to
                // stop: the entry is the access, so stop before the vector's first instruction.
                if slow && self.stop_after {
                    self.stop_after = false;
                    return StopReason::Stopped;
                }
                block_deadline = deadline.min(self.profile.next_event());
            }
            let stop = if slow {
                self.exec_block::<true>(budget, block_deadline, limits.until, true)
            } else if self.engine == Engine::Jit {
                self.exec_jit(budget, block_deadline)
            } else {
                self.exec_block::<false>(budget, block_deadline, None, false)
            };
            match stop {
                None | Some(StopReason::CountReached) => continue,
                Some(StopReason::CycleLimit) if P::TIMED && self.core.cycles < deadline => continue,
                Some(s) => return s,
            }
        }
    }

    /// Cycles the CPU spent in idle `jmp .` loops that were skipped to the next event rather
    /// than executed (they are counted in the cycle and instruction counters all the same).
    /// Only timed profiles skip, and only when no hook is installed.
    pub fn idle_cycles(&self) -> u64 {
        self.idle_cycles
    }

    /// The most recently executed instruction addresses, oldest first.
    pub fn trail(&self) -> Vec<u32> {
        let n = self.core.insns as usize;
        (0..TRAIL_LEN)
            .map(|k| self.trail[(n + k) % TRAIL_LEN])
            .filter(|&pc| pc != u32::MAX)
            .collect()
    }

    fn fault(&self, kind: FaultKind) -> StopReason {
        StopReason::Fault(Fault {
            kind,
            pc: self.core.pc,
        })
    }

    /// Executes up to `budget` instructions while the cycle counter is below `deadline`.
    /// Returns `Some(CountReached)` when the budget ran out without another reason to stop.
    #[inline(never)]
    fn exec_block<const SLOW: bool>(
        &mut self,
        budget: u64,
        deadline: u64,
        until: Option<u32>,
        use_code_hooks: bool,
    ) -> Option<StopReason> {
        if self.core.cycles >= deadline {
            return Some(StopReason::CycleLimit);
        }
        // No instruction takes more than MAX_CYCLES_PER_INSN cycles, so this many instructions
        // cannot overshoot the deadline and the loop need not compare cycles each time.
        let safe = (deadline - self.core.cycles) / MAX_CYCLES_PER_INSN;
        if safe == 0 {
            // Close to the deadline: one instruction at a time.
            return match self.exec_block::<SLOW>(1, u64::MAX, until, use_code_hooks) {
                Some(StopReason::CountReached) if budget > 1 => {
                    self.exec_block::<SLOW>(budget - 1, deadline, until, use_code_hooks)
                }
                other => other,
            };
        }
        let budget = budget.min(safe);
        let base = self.core.insns;
        for n in 0..budget {
            let pc = self.core.pc;
            if SLOW {
                self.core.insns = base + n;
                if until == Some(pc) {
                    return Some(StopReason::Until(pc));
                }
                if use_code_hooks && self.run_code_hooks(pc) == HookAction::Stop {
                    return Some(StopReason::Stopped);
                }
            }
            let Some(insn) = self.core.fetch(pc) else {
                self.core.insns = base + n;
                return match self.profile.on_fetch_fault(&mut self.core) {
                    Err(kind) => Some(self.fault(kind)),
                    Ok(()) => None,
                };
            };
            self.trail[(base + n) as usize % TRAIL_LEN] = pc;
            self.core.cycles += 1;
            if SLOW {
                self.core.insns = base + n + 1;
            }
            if let Err(stop) = self.execute::<SLOW>(insn, pc) {
                self.core.insns = base + n + 1;
                return Some(stop);
            }
            // A hook's stop comes first: the instruction that made the access (or the `reti`)
            // is the one to stop after, even when it also touched a device.
            if SLOW && self.stop_after {
                self.stop_after = false;
                self.core.insns = base + n + 1;
                return Some(StopReason::Stopped);
            }
            if P::TIMED && (self.resync || self.idle) {
                // Devices or interrupts may have changed: the caller looks before going on.
                self.core.insns = base + n + 1;
                return None;
            }
        }
        self.core.insns = base + budget;
        Some(StopReason::CountReached)
    }

    fn run_code_hooks(&mut self, pc: u32) -> HookAction {
        let mut action = HookAction::Continue;
        for h in &mut self.code_hooks {
            if (h.begin..=h.end).contains(&pc) && (h.f)(&mut self.core, pc) == HookAction::Stop {
                action = HookAction::Stop;
            }
        }
        action
    }

    #[cold]
    fn run_mem_hooks(&mut self, access: MemAccess) {
        for h in &mut self.mem_hooks {
            let kind_ok = match h.kind {
                MemHookKind::Read => !access.write,
                MemHookKind::Write => access.write,
                MemHookKind::Access => true,
            };
            if kind_ok
                && (h.begin..=h.end).contains(&access.addr)
                && (h.f)(&self.core, &access) == HookAction::Stop
            {
                self.stop_after = true;
            }
        }
    }

    /// Second operand: register or decoded immediate.
    #[inline(always)]
    fn operand_b(&self, insn: &Insn) -> u32 {
        if insn.rb == IMM {
            insn.imm
        } else {
            self.core.regs[insn.rb as usize]
        }
    }

    /// Data-space load: RAM below [`IO_BASE`], the profile's I/O above. Addresses are truncated
    /// to 17 bits; RAM accesses ignore the low address bits below the width.
    #[inline(always)]
    fn load<const SLOW: bool>(&mut self, ea: u32, width: Width) -> Result<u32, StopReason> {
        let ea = ea & 0x1_FFFF;
        let value = if ea < IO_BASE {
            let a = ea & !(width.bytes() - 1);
            match self.core.ram_read(a, width.bytes()) {
                Some(v) => v,
                None => {
                    return Err(self.fault(FaultKind::DataUnmapped {
                        addr: a,
                        write: false,
                    }))
                }
            }
        } else {
            if P::TIMED {
                self.resync = true;
            }
            self.profile.io_read(&mut self.core, ea, width)?
        };
        if SLOW && !self.mem_hooks.is_empty() {
            self.run_mem_hooks(MemAccess {
                write: false,
                addr: RAM_BIAS + (ea & !(width.bytes() - 1)),
                width,
                value,
                pc: self.core.pc,
            });
        }
        Ok(value)
    }

    /// Data-space store (see [`Machine::load`]).
    #[inline(always)]
    fn store<const SLOW: bool>(&mut self, ea: u32, width: Width, value: u32) -> Step {
        let ea = ea & 0x1_FFFF;
        if ea < IO_BASE {
            let a = ea & !(width.bytes() - 1);
            if !self.core.ram_write(a, width.bytes(), value) {
                return Err(self.fault(FaultKind::DataUnmapped {
                    addr: a,
                    write: true,
                }));
            }
        } else {
            if P::TIMED {
                self.resync = true;
            }
            self.profile.io_write(&mut self.core, ea, width, value)?;
        }
        if SLOW && !self.mem_hooks.is_empty() {
            self.run_mem_hooks(MemAccess {
                write: true,
                addr: RAM_BIAS + (ea & !(width.bytes() - 1)),
                width,
                value: value & width.mask(),
                pc: self.core.pc,
            });
        }
        Ok(())
    }

    /// Program-memory load (`lpm`, `lpmi`) at a flat address; like the reference, the RAM
    /// window at [`RAM_BIAS`] is reachable too.
    #[inline(always)]
    fn load_pm<const SLOW: bool>(&mut self, addr: u32, width: Width) -> Result<u32, StopReason> {
        let a = addr & !(width.bytes() - 1);
        let value = if a < RAM_BIAS {
            self.core.pm_read(a, width.bytes())
        } else {
            self.core.ram_read(a - RAM_BIAS, width.bytes())
        };
        let Some(value) = value else {
            return Err(self.fault(FaultKind::PmReadUnmapped { addr: a }));
        };
        if SLOW && !self.mem_hooks.is_empty() {
            self.run_mem_hooks(MemAccess {
                write: false,
                addr: a,
                width,
                value,
                pc: self.core.pc,
            });
        }
        Ok(value)
    }

    #[inline(always)]
    fn push<const SLOW: bool>(&mut self, value: u32) -> Step {
        let sp = self.core.regs[31].wrapping_sub(4) & 0xFFFF;
        self.core.regs[31] = sp;
        self.store::<SLOW>(sp, Width::Word, value)
    }

    #[inline(always)]
    fn pop<const SLOW: bool>(&mut self) -> Result<u32, StopReason> {
        let sp = self.core.regs[31];
        let value = self.load::<SLOW>(sp, Width::Word)?;
        self.core.regs[31] = sp.wrapping_add(4) & 0xFFFF;
        Ok(value)
    }

    /// Executes one decoded instruction at `pc`. On success PC points at the next instruction;
    /// on a stop PC is left at this instruction.
    #[inline(always)]
    fn execute<const SLOW: bool>(&mut self, insn: Insn, pc: u32) -> Step {
        let next = pc.wrapping_add(4);
        let rd = insn.rd as usize;
        let r1 = insn.r1 as usize;
        match insn.op {
            Op::Alu(op) => {
                let b = self.operand_b(&insn);
                self.core.regs[rd] = op.apply(self.core.regs[r1], b);
            }
            Op::Cmp(op) => {
                let a = self.core.regs[r1];
                let b = self.operand_b(&insn);
                self.core.regs[rd] = flag_word(op, insn.cb, a, b, op.apply(a, b));
            }
            Op::Ldk => self.core.regs[rd] = insn.imm,
            Op::Jmp => {
                self.core.cycles += 1;
                self.core.pc = insn.imm;
                // Only the plain path skips idle loops; on the hooked path the flag would
                // outlive the loop and make a later plain run skip time elsewhere.
                if P::TIMED && !SLOW && insn.imm == pc {
                    self.idle = true;
                }
                return Ok(());
            }
            Op::Call => {
                self.core.cycles += 1;
                self.push::<SLOW>(next)?;
                self.core.pc = insn.imm;
                return Ok(());
            }
            Op::JmpC | Op::CallC | Op::JmpIC | Op::CallIC => {
                if (self.core.regs[rd] >> insn.cb) & 1 == insn.cv as u32 {
                    self.core.cycles += 1;
                    let target = if matches!(insn.op, Op::JmpC | Op::CallC) {
                        insn.imm
                    } else {
                        self.core.regs[insn.rb as usize]
                    };
                    if matches!(insn.op, Op::CallC | Op::CallIC) {
                        self.push::<SLOW>(next)?;
                    }
                    self.core.pc = target;
                    return Ok(());
                }
            }
            Op::JmpI => {
                self.core.cycles += 1;
                self.core.pc = self.core.regs[insn.rb as usize];
                return Ok(());
            }
            Op::CallI => {
                self.core.cycles += 1;
                let target = self.core.regs[insn.rb as usize];
                self.push::<SLOW>(next)?;
                self.core.pc = target;
                return Ok(());
            }
            Op::Lda(w) => {
                self.core.regs[rd] = self.load::<SLOW>(insn.imm, w)?;
                self.core.cycles += 1;
            }
            Op::Ldi(w) => {
                let ea = self.core.regs[r1].wrapping_add(insn.imm);
                self.core.regs[rd] = self.load::<SLOW>(ea, w)?;
                self.core.cycles += 1;
            }
            Op::Sta(w) => self.store::<SLOW>(insn.imm, w, self.core.regs[rd])?,
            Op::Sti(w) => {
                let ea = self.core.regs[rd].wrapping_add(insn.imm);
                self.store::<SLOW>(ea, w, self.core.regs[r1])?;
            }
            Op::Lpm(w) => {
                self.core.regs[rd] = self.load_pm::<SLOW>(insn.imm, w)?;
                self.core.cycles += 1;
            }
            Op::Lpmi(w) => {
                let addr = self.core.regs[r1].wrapping_add(insn.imm);
                self.core.regs[rd] = self.load_pm::<SLOW>(addr, w)?;
                self.core.cycles += 1;
            }
            Op::Exa(w) => {
                let old = self.load::<SLOW>(insn.imm, w)?;
                self.store::<SLOW>(insn.imm, w, self.core.regs[rd])?;
                self.core.regs[rd] = old;
                self.core.cycles += 1;
            }
            Op::Exi(w) => {
                let ea = self.core.regs[r1].wrapping_add(insn.imm);
                let old = self.load::<SLOW>(ea, w)?;
                self.store::<SLOW>(ea, w, self.core.regs[rd])?;
                self.core.regs[rd] = old;
                self.core.cycles += 1;
            }
            Op::Push => self.push::<SLOW>(self.core.regs[r1])?,
            Op::Pop => {
                self.core.cycles += 1;
                self.core.regs[rd] = self.pop::<SLOW>()?;
            }
            Op::Link => {
                self.push::<SLOW>(self.core.regs[rd])?;
                let sp = self.core.regs[31];
                self.core.regs[rd] = sp;
                self.core.regs[31] = sp.wrapping_sub(insn.imm) & 0xFFFF;
            }
            Op::Unlink => {
                self.core.regs[31] = self.core.regs[rd] & 0xFFFF;
                self.core.regs[rd] = self.pop::<SLOW>()?;
            }
            Op::Return => {
                self.core.pc = self.pop::<SLOW>()?;
                return Ok(());
            }
            Op::Reti => {
                self.core.pc = self.pop::<SLOW>()?;
                self.profile.on_reti(&mut self.core);
                if P::TIMED {
                    self.resync = true;
                }
                if SLOW && !self.intr_hooks.is_empty() {
                    let event = IntrEvent::Return {
                        at: pc,
                        to: self.core.pc,
                    };
                    if self.run_intr_hooks(event) == HookAction::Stop {
                        self.stop_after = true;
                    }
                }
                return Ok(());
            }
            Op::Ffu(op, dw) => self.execute_ffu::<SLOW>(op, dw, &insn)?,
            Op::Breakpoint => return Err(StopReason::Breakpoint(pc)),
            Op::Halt => return Err(self.profile.on_halt(&mut self.core)),
            Op::Illegal(why) => {
                let word = self.core.pm_word(pc);
                return Err(self.fault(FaultKind::IllegalInstruction { word, why }));
            }
        }
        self.core.pc = next;
        Ok(())
    }

    /// The fast function unit: division, multiplication and the string/memory/stream engines.
    fn execute_ffu<const SLOW: bool>(&mut self, op: FfuOp, dw: u8, insn: &Insn) -> Step {
        let rd = insn.rd as usize;
        let a = self.core.regs[insn.r1 as usize];
        let b = self.operand_b(insn);
        let d = self.core.regs[rd];
        let byte = Width::Byte;
        match op {
            // Division by zero: the reference simulator crashes; these are the results a
            // restoring divider gives (docs/hardware/isa.md §2.8).
            FfuOp::Udiv => self.core.regs[rd] = a.checked_div(b).unwrap_or(u32::MAX),
            FfuOp::Umod => self.core.regs[rd] = a.checked_rem(b).unwrap_or(a),
            FfuOp::Div => {
                self.core.regs[rd] = match (a as i32, b as i32) {
                    (_, 0) if (a as i32) < 0 => 1,
                    (_, 0) => u32::MAX,
                    (i32::MIN, -1) => 0x8000_0000,
                    (x, y) => (x / y) as u32,
                }
            }
            FfuOp::Mod => {
                self.core.regs[rd] = match (a as i32, b as i32) {
                    (_, 0) => a,
                    (i32::MIN, -1) => 0,
                    (x, y) => (x % y) as u32,
                }
            }
            FfuOp::Mul => self.core.regs[rd] = a.wrapping_mul(b),
            FfuOp::Muluh => self.core.regs[rd] = ((a as u64 * b as u64) >> 32) as u32,
            FfuOp::Strcmp => {
                let mut i = 0u32;
                let diff = loop {
                    let x = self.load::<SLOW>(a.wrapping_add(i), byte)?;
                    let y = self.load::<SLOW>(b.wrapping_add(i), byte)?;
                    if x == 0 || x != y {
                        break x.wrapping_sub(y);
                    }
                    i = i.wrapping_add(1);
                };
                self.core.regs[rd] = diff;
            }
            FfuOp::Memcpy => {
                for i in 0..(b & 0x7FFF) {
                    let v = self.load::<SLOW>(a.wrapping_add(i), byte)?;
                    self.store::<SLOW>(d.wrapping_add(i), byte, v)?;
                }
            }
            FfuOp::Memset => {
                for i in 0..(b & 0x7FFF) {
                    self.store::<SLOW>(d.wrapping_add(i), byte, a)?;
                }
            }
            FfuOp::Strlen => {
                let mut i = 0u32;
                while self.load::<SLOW>(a.wrapping_add(i), byte)? != 0 {
                    i = i.wrapping_add(1);
                }
                self.core.regs[rd] = i;
            }
            FfuOp::Stpcpy => {
                let mut i = 0u32;
                loop {
                    let v = self.load::<SLOW>(a.wrapping_add(i), byte)?;
                    self.store::<SLOW>(d.wrapping_add(i), byte, v)?;
                    if v == 0 {
                        break;
                    }
                    i = i.wrapping_add(1);
                }
                self.core.regs[rd] = d.wrapping_add(i);
            }
            FfuOp::Streamin | FfuOp::Streamini | FfuOp::Streamout | FfuOp::Streamouti => {
                if !self.profile.implements_ffu(op) {
                    let word = self.core.pm_word(self.core.pc);
                    let why = Illegal::Unsupported(op);
                    return Err(self.fault(FaultKind::IllegalInstruction { word, why }));
                }
                // Decoding rejects dw = 3 for the stream operations.
                let w = match dw {
                    0 => Width::Byte,
                    1 => Width::Half,
                    _ => Width::Word,
                };
                let (src_moves, dst_moves) = match op {
                    FfuOp::Streamin => (false, true),
                    FfuOp::Streamout => (true, false),
                    _ => (true, true),
                };
                let mut i = 0u32;
                while i < b {
                    let src = if src_moves { a.wrapping_add(i) } else { a };
                    let dst = if dst_moves { d.wrapping_add(i) } else { d };
                    let v = self.load::<SLOW>(src, w)?;
                    self.store::<SLOW>(dst, w, v)?;
                    i = match i.checked_add(w.bytes()) {
                        Some(n) => n,
                        None => break,
                    };
                }
            }
        }
        Ok(())
    }
}
