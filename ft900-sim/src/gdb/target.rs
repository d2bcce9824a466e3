//! The debug target: gdb's view of a [`Machine`], generic in the machine profile.
//!
//! Breakpoints and watchpoints live in the simulator, never in program memory: a breakpoint is a
//! code hook on one address, a watchpoint a memory hook on a range. While none is set, the
//! machine runs on the interpreter's fast path; with some set it runs on the slow path, which
//! consults hooks before each instruction and at each access.
//!
//! A target may be paced to the wall clock (`--realtime`, `--net tap:NAME`): it then runs one
//! slice of virtual time at a time ([`crate::realtime::run_slice`]). While gdb holds the CPU,
//! virtual time stands still and the wall clock does not; at each resume the pacer is
//! resynchronised, so virtual time goes on from where it stood instead of racing to make up
//! the halt (which would fire every pending firmware timer at once).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use gdbstub::common::Signal as GdbSignal;
use gdbstub::conn::Connection;
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::SingleThreadStopReason;
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::base::singlethread::{
    SingleThreadBase, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep,
    SingleThreadSingleStepOps,
};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps,
    SwBreakpoint, SwBreakpointOps, WatchKind,
};
use gdbstub::target::ext::monitor_cmd::{
    output, outputln, ConsoleOutput, MonitorCmd, MonitorCmdOps,
};
use gdbstub::target::{Target, TargetError, TargetResult};
use sim_link::Pacer;

use super::arch::{Ft32, Ft32RegId, Ft32Regs, NUM_REGS};
use super::conn::RspConnection;
use crate::core::{Reg, PM_SIZE, RAM_BIAS, RAM_SIZE};
use crate::machine::{HookAction, HookId, Machine, MemHookKind, Profile, RunLimits};
use crate::profile::ft900::cycles_to_ns;
use crate::realtime::run_slice;
use crate::stop::{Signal, StopReason};

/// Where I/O registers appear in gdb's flat address space (data address 0x10000 + the RAM bias).
pub const IO_FLAT: u32 = RAM_BIAS + 0x1_0000;
/// End (exclusive) of the I/O window in gdb's flat address space.
pub const IO_FLAT_END: u32 = RAM_BIAS + 0x2_0000;

/// Instructions run between two looks at the connection while gdb waits for a stop (a few
/// milliseconds of guest time at full speed: Ctrl-C stays responsive, the overhead invisible).
const CHUNK: u64 = 1 << 21;

/// errno values for `Exx` replies.
const EFAULT: u8 = 14;
const EIO: u8 = 5;

/// A stop as gdb is told about it.
pub type GdbStop = SingleThreadStopReason<u32>;

/// Resets the machine for `monitor reset` (reload the program, reset the profile).
pub type ResetFn<'m, P> = Box<dyn FnMut(&mut Machine<P>) -> Result<(), String> + 'm>;

/// What gdb last asked the target to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Halted; gdb is in charge.
    Halted,
    /// Execute one instruction.
    Step,
    /// Run until something stops the machine.
    Continue,
}

/// One watchpoint: a memory hook on `addr..addr+len`.
#[derive(Debug)]
struct Watchpoint {
    addr: u32,
    len: u32,
    kind: WatchKind,
    hook: HookId,
}

/// The watchpoint that stopped the machine.
#[derive(Clone, Copy, Debug)]
struct WatchHit {
    kind: WatchKind,
    addr: u32,
}

/// A [`Machine`] under gdb's control.
pub struct DebugTarget<'m, P: Profile> {
    machine: &'m mut Machine<P>,
    reset: Option<ResetFn<'m, P>>,
    sw_breaks: BTreeMap<u32, HookId>,
    hw_breaks: BTreeMap<u32, HookId>,
    watches: Vec<Watchpoint>,
    watch_hit: Arc<Mutex<Option<WatchHit>>>,
    step_irq: bool,
    mode: Mode,
    /// PC at the last resume: a breakpoint there does not stop the first instruction.
    resumed_at: Option<u32>,
    last_stop: Option<StopReason>,
    /// Paces virtual time to the wall clock (`--realtime`); `None`: full speed.
    pacer: Option<Pacer>,
}

impl<'m, P: Profile> DebugTarget<'m, P> {
    /// A target over `machine`, halted where the machine is.
    pub fn new(machine: &'m mut Machine<P>) -> DebugTarget<'m, P> {
        DebugTarget {
            machine,
            reset: None,
            sw_breaks: BTreeMap::new(),
            hw_breaks: BTreeMap::new(),
            watches: Vec::new(),
            watch_hit: Arc::new(Mutex::new(None)),
            step_irq: false,
            mode: Mode::Halted,
            resumed_at: None,
            last_stop: None,
            pacer: None,
        }
    }

    /// Paces the machine's virtual time to the wall clock with `pacer` (module docs).
    pub fn with_pacer(mut self, pacer: Pacer) -> DebugTarget<'m, P> {
        self.pacer = Some(pacer);
        self
    }

    /// The pacer, when the target runs in real time.
    pub fn pacer(&self) -> Option<&Pacer> {
        self.pacer.as_ref()
    }

    /// Makes the wall clock's present the machine's virtual time, giving up the time the
    /// machine was halted (a no-op at full speed). Called whenever the machine resumes.
    pub fn resync_pacer(&mut self) {
        if let Some(pacer) = self.pacer.as_mut() {
            pacer.resync(cycles_to_ns(self.machine.core.cycles));
        }
    }

    /// Runs up to `max_insns` instructions: at full speed, or, when paced, at most one slice
    /// of virtual time followed by a wait for the wall clock. [`StopReason::CountReached`] and
    /// [`StopReason::CycleLimit`] only mean that the time given is over.
    pub fn advance(&mut self, max_insns: u64) -> StopReason {
        let limits = RunLimits {
            max_insns: Some(max_insns),
            ..RunLimits::default()
        };
        match self.pacer.as_mut() {
            Some(pacer) => run_slice(self.machine, limits, pacer),
            None => self.machine.run(limits),
        }
    }

    /// Sets what `monitor reset` does (typically: reload the program and reset the profile).
    pub fn with_reset(mut self, reset: ResetFn<'m, P>) -> DebugTarget<'m, P> {
        self.reset = Some(reset);
        self
    }

    /// The machine.
    pub fn machine(&mut self) -> &mut Machine<P> {
        self.machine
    }

    /// Whether single-steps may enter a pending interrupt (`monitor step-irq`); off by
    /// default, as in QEMU: a step executes exactly the instruction at PC.
    pub fn step_irq(&self) -> bool {
        self.step_irq
    }

    /// Sets [`DebugTarget::step_irq`].
    pub fn set_step_irq(&mut self, on: bool) {
        self.step_irq = on;
    }

    /// The machine's own reason for the last stop reported to gdb (for the exit status).
    pub fn last_stop(&self) -> Option<StopReason> {
        self.last_stop
    }

    /// Number of breakpoints and watchpoints set.
    pub fn debug_points(&self) -> usize {
        self.sw_breaks.len() + self.hw_breaks.len() + self.watches.len()
    }

    /// Forgets the session's breakpoints and watchpoints (their hooks are removed, so the
    /// machine runs on the fast path again) and halts.
    pub fn end_session(&mut self) {
        for (_, id) in std::mem::take(&mut self.sw_breaks) {
            self.machine.hook_del(id);
        }
        for (_, id) in std::mem::take(&mut self.hw_breaks) {
            self.machine.hook_del(id);
        }
        for w in std::mem::take(&mut self.watches) {
            self.machine.hook_del(w.hook);
        }
        self.take_watch_hit();
        self.mode = Mode::Halted;
        self.resumed_at = None;
    }

    /// Executes one instruction as gdb's `s` does: exactly the instruction at PC, and (unless
    /// [`DebugTarget::set_step_irq`] turned it on) without entering a pending interrupt.
    pub fn single_step(&mut self) -> GdbStop {
        self.mode = Mode::Halted;
        self.take_watch_hit();
        let stop = if self.step_irq {
            self.machine.step()
        } else {
            self.machine.step_masked()
        };
        match stop {
            None => GdbStop::DoneStep,
            Some(stop) => self.translate(stop).unwrap_or(GdbStop::DoneStep),
        }
    }

    /// Runs up to `max_insns` instructions of a `continue`; `None` when nothing stopped the
    /// machine in that time.
    pub fn run_chunk(&mut self, max_insns: u64) -> Option<GdbStop> {
        if let Some(pc) = self.resumed_at.take() {
            // gdb resumed from a breakpoint address: execute that instruction first, without
            // letting the breakpoint stop it again.
            if self.machine.core.pc == pc && self.is_breakpoint(pc) {
                if let Some(stop) = self.machine.step_masked() {
                    if let Some(reason) = self.translate(stop) {
                        self.mode = Mode::Halted;
                        return Some(reason);
                    }
                }
            }
        }
        let stop = self.advance(max_insns);
        let reason = self.translate(stop);
        if reason.is_some() {
            self.mode = Mode::Halted;
        }
        reason
    }

    /// Prepares a `continue` (what gdb's `c` does before the event loop takes over).
    pub fn resume_continue(&mut self) {
        self.take_watch_hit();
        self.resync_pacer();
        self.mode = Mode::Continue;
        self.resumed_at = Some(self.machine.core.pc);
    }

    fn is_breakpoint(&self, pc: u32) -> bool {
        self.sw_breaks.contains_key(&pc) || self.hw_breaks.contains_key(&pc)
    }

    fn take_watch_hit(&self) -> Option<WatchHit> {
        self.watch_hit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// What gdb hears about a stop of the machine; `None` for the stops that only end a chunk.
    fn translate(&mut self, stop: StopReason) -> Option<GdbStop> {
        let reason = match stop {
            StopReason::CountReached | StopReason::CycleLimit | StopReason::Until(_) => {
                return None
            }
            StopReason::Exited(status) => GdbStop::Exited(status as u8),
            StopReason::Fault(fault) => GdbStop::Signal(gdb_signal(fault.kind.signal())),
            // The guest's own `call 8` word: gdb did not put it there.
            StopReason::Breakpoint(_) => GdbStop::Signal(GdbSignal::SIGTRAP),
            // The reference simulator has no `halt` and stops with SIGILL there.
            StopReason::Halted(_) => GdbStop::Signal(GdbSignal::SIGILL),
            StopReason::Stopped => {
                let pc = self.machine.core.pc;
                if let Some(hit) = self.take_watch_hit() {
                    GdbStop::Watch {
                        tid: (),
                        kind: hit.kind,
                        addr: hit.addr,
                    }
                } else if self.sw_breaks.contains_key(&pc) {
                    GdbStop::SwBreak(())
                } else if self.hw_breaks.contains_key(&pc) {
                    GdbStop::HwBreak(())
                } else {
                    GdbStop::Signal(GdbSignal::SIGINT)
                }
            }
        };
        self.last_stop = Some(stop);
        Some(reason)
    }

    fn add_break(&mut self, hw: bool, addr: u32) -> bool {
        if addr >= PM_SIZE {
            return false;
        }
        let set = if hw {
            &mut self.hw_breaks
        } else {
            &mut self.sw_breaks
        };
        if !set.contains_key(&addr) {
            let id = self
                .machine
                .add_code_hook(addr, addr, |_, _| HookAction::Stop);
            let set = if hw {
                &mut self.hw_breaks
            } else {
                &mut self.sw_breaks
            };
            set.insert(addr, id);
        }
        true
    }

    fn remove_break(&mut self, hw: bool, addr: u32) -> bool {
        let set = if hw {
            &mut self.hw_breaks
        } else {
            &mut self.sw_breaks
        };
        match set.remove(&addr) {
            Some(id) => {
                self.machine.hook_del(id);
                true
            }
            None => false,
        }
    }

    fn monitor(&mut self, cmd: &str, out: &mut ConsoleOutput<'_>) {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words.as_slice() {
            [] | ["help"] => {
                outputln!(out, "ft900-sim monitor commands:");
                outputln!(out, "  monitor help            this list");
                outputln!(
                    out,
                    "  monitor reset           reload the program and reset the machine (then `flushregs`)"
                );
                outputln!(
                    out,
                    "  monitor cycles          cycles, instructions and virtual time (100 MHz; see `time`)"
                );
                outputln!(
                    out,
                    "  monitor regs            registers in hardware naming"
                );
                outputln!(
                    out,
                    "  monitor step-irq [on|off]  whether a single-step may enter a pending interrupt"
                );
                for (usage, what) in super::monitor::USAGE {
                    outputln!(out, "  monitor {usage:<16}{what}");
                }
            }
            ["reset"] => match self.reset.as_mut() {
                Some(reset) => match reset(self.machine) {
                    Ok(()) => {
                        self.take_watch_hit();
                        self.last_stop = None;
                        outputln!(
                            out,
                            "machine reset; pc = {:#x} (use `flushregs` so gdb rereads registers)",
                            self.machine.core.pc
                        );
                    }
                    Err(e) => outputln!(out, "reset failed: {e}"),
                },
                None => outputln!(out, "reset is not available for this machine"),
            },
            ["cycles"] => {
                let core = &self.machine.core;
                outputln!(
                    out,
                    "cycles {}, instructions {}, virtual time {:.9} s at 100 MHz",
                    core.cycles,
                    core.insns,
                    core.cycles as f64 / 1e8
                );
            }
            ["regs"] => {
                let core = &self.machine.core;
                for row in 0..8 {
                    let line: Vec<String> = (0..4)
                        .map(|col| {
                            let reg = Reg::r(row * 4 + col).expect("register number below 32");
                            format!("{:>5} {:08x}", reg.name(), core.reg(reg))
                        })
                        .collect();
                    outputln!(out, "{}", line.join("  "));
                }
                outputln!(
                    out,
                    "   pc {:08x}  cycles {}  instructions {}",
                    core.pc,
                    core.cycles,
                    core.insns
                );
            }
            ["step-irq"] => outputln!(
                out,
                "step-irq is {}",
                if self.step_irq { "on" } else { "off" }
            ),
            ["step-irq", "on"] => {
                self.step_irq = true;
                outputln!(out, "single-steps may now enter pending interrupts");
            }
            ["step-irq", "off"] => {
                self.step_irq = false;
                outputln!(
                    out,
                    "single-steps execute one instruction with interrupts masked"
                );
            }
            _ => {
                let machine = self.machine.profile.name();
                let inspect = self.machine.profile.inspect();
                match super::monitor::device_command(inspect, machine, &self.machine.core, &words) {
                    Some(mut lines) => {
                        if let (["time"], Some(pacer)) = (words.as_slice(), &self.pacer) {
                            // Before the last line, which says that time stands still.
                            let at = lines.len().saturating_sub(1);
                            lines.insert(
                                at,
                                format!(
                                    "real time: paced to the wall clock; {:.3} s of wall time given up (halts in gdb, stalls)",
                                    pacer.given_up().as_secs_f64()
                                ),
                            );
                        }
                        send_lines(out, &lines)
                    }
                    None => outputln!(
                        out,
                        "unknown monitor command `{cmd}`; `monitor help` lists them"
                    ),
                }
            }
        }
    }
}

/// Console packets carry at most this many characters of text (2 KiB of packet once hex
/// encoded): `monitor uart all` can be 64 KiB, more than gdb should get in one packet.
const CONSOLE_CHUNK: usize = 1024;

/// Sends `lines` to gdb's console, in packets of at most [`CONSOLE_CHUNK`] characters.
fn send_lines(out: &mut ConsoleOutput<'_>, lines: &[String]) {
    let mut pending = 0;
    for line in lines {
        let mut rest = line.as_str();
        loop {
            let mut cut = rest.len().min(CONSOLE_CHUNK - pending);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (now, later) = rest.split_at(cut);
            output!(out, "{now}");
            pending += now.len();
            rest = later;
            if rest.is_empty() {
                break;
            }
            out.flush();
            pending = 0;
        }
        outputln!(out);
        pending += 1;
        if pending >= CONSOLE_CHUNK / 2 {
            out.flush();
            pending = 0;
        }
    }
}

fn gdb_signal(signal: Signal) -> GdbSignal {
    match signal {
        Signal::Int => GdbSignal::SIGINT,
        Signal::Ill => GdbSignal::SIGILL,
        Signal::Trap => GdbSignal::SIGTRAP,
        Signal::Segv => GdbSignal::SIGSEGV,
    }
}

/// Which memory a gdb address names (docs/hardware/gdb.md §2).
enum Region {
    /// Program memory, at this byte offset.
    Pm(u32),
    /// Data RAM, at this byte offset.
    Ram(u32),
    /// I/O registers: refused (reading them can have side effects, e.g. pop a FIFO).
    Io,
    /// Nothing there.
    None,
}

fn region(addr: u32) -> Region {
    if addr < PM_SIZE {
        Region::Pm(addr)
    } else if (RAM_BIAS..RAM_BIAS + RAM_SIZE).contains(&addr) {
        Region::Ram(addr - RAM_BIAS)
    } else if (IO_FLAT..IO_FLAT_END).contains(&addr) {
        Region::Io
    } else {
        Region::None
    }
}

impl<P: Profile> Target for DebugTarget<'_, P> {
    type Arch = Ft32;
    type Error = &'static str;

    fn base_ops(&mut self) -> BaseOps<'_, Ft32, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }
}

impl<P: Profile> SingleThreadBase for DebugTarget<'_, P> {
    fn read_registers(&mut self, regs: &mut Ft32Regs) -> TargetResult<(), Self> {
        regs.r = self.machine.core.regs;
        regs.pc = self.machine.core.pc;
        regs.supplied = NUM_REGS;
        Ok(())
    }

    fn write_registers(&mut self, regs: &Ft32Regs) -> TargetResult<(), Self> {
        for regnum in 0..regs.supplied.min(NUM_REGS) {
            let reg = Ft32RegId::from_gdb(regnum).expect("every gdb register number maps");
            match reg {
                Ft32RegId::Gpr(n) => self.machine.core.regs[n as usize] = regs.r[n as usize],
                Ft32RegId::Pc => self.machine.core.pc = regs.pc,
            }
        }
        Ok(())
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, (), Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u32, data: &mut [u8]) -> TargetResult<usize, Self> {
        let core = &self.machine.core;
        let (mem, offset) = match region(start) {
            Region::Pm(offset) => (core.pm(), offset),
            Region::Ram(offset) => (core.ram(), offset),
            Region::Io => return Err(TargetError::Errno(EIO)),
            Region::None => return Err(TargetError::Errno(EFAULT)),
        };
        let offset = offset as usize;
        let n = mem.len().saturating_sub(offset).min(data.len());
        if n == 0 && !data.is_empty() {
            return Err(TargetError::Errno(EFAULT));
        }
        data[..n].copy_from_slice(&mem[offset..offset + n]);
        Ok(n)
    }

    fn write_addrs(&mut self, start: u32, data: &[u8]) -> TargetResult<(), Self> {
        match region(start) {
            Region::Pm(_) | Region::Ram(_) => {}
            Region::Io => return Err(TargetError::Errno(EIO)),
            Region::None => return Err(TargetError::Errno(EFAULT)),
        }
        // Program-memory writes go through the core, which refreshes the decoded instructions.
        self.machine
            .mem_write(start, data)
            .map_err(|_| TargetError::Errno(EFAULT))
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl<P: Profile> SingleRegisterAccess<()> for DebugTarget<'_, P> {
    fn read_register(
        &mut self,
        _tid: (),
        reg: Ft32RegId,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let value = match reg {
            Ft32RegId::Gpr(n) => self.machine.core.regs[n as usize & 31],
            Ft32RegId::Pc => self.machine.core.pc,
        };
        let bytes = value.to_le_bytes();
        let n = buf.len().min(4);
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn write_register(&mut self, _tid: (), reg: Ft32RegId, val: &[u8]) -> TargetResult<(), Self> {
        let bytes: [u8; 4] = val.try_into().map_err(|_| TargetError::NonFatal)?;
        let value = u32::from_le_bytes(bytes);
        match reg {
            Ft32RegId::Gpr(n) => self.machine.core.regs[n as usize & 31] = value,
            Ft32RegId::Pc => self.machine.core.pc = value,
        }
        Ok(())
    }
}

impl<P: Profile> SingleThreadResume for DebugTarget<'_, P> {
    /// Signals cannot be delivered to an FT32 program; one passed with `C` is ignored.
    fn resume(&mut self, _signal: Option<GdbSignal>) -> Result<(), Self::Error> {
        self.resume_continue();
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

impl<P: Profile> SingleThreadSingleStep for DebugTarget<'_, P> {
    fn step(&mut self, _signal: Option<GdbSignal>) -> Result<(), Self::Error> {
        self.mode = Mode::Step;
        Ok(())
    }
}

impl<P: Profile> Breakpoints for DebugTarget<'_, P> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl<P: Profile> SwBreakpoint for DebugTarget<'_, P> {
    /// gdb's FT32 breakpoints have kind 4 (the `call 8` word); the simulator keeps them in a
    /// set and never writes program memory, so any kind is accepted.
    fn add_sw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.add_break(false, addr))
    }

    fn remove_sw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.remove_break(false, addr))
    }
}

impl<P: Profile> HwBreakpoint for DebugTarget<'_, P> {
    fn add_hw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.add_break(true, addr))
    }

    fn remove_hw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.remove_break(true, addr))
    }
}

impl<P: Profile> HwWatchpoint for DebugTarget<'_, P> {
    /// Watches `addr..addr+len` in the flat space (RAM at 0x800000, I/O at 0x810000,
    /// program-memory reads by `lpm` below 0x40000). The machine stops after the accessing
    /// instruction, and gdb is told the watched address.
    fn add_hw_watchpoint(
        &mut self,
        addr: u32,
        len: u32,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        let len = len.max(1);
        let Some(end) = addr.checked_add(len - 1) else {
            return Ok(false);
        };
        let hook_kind = match kind {
            WatchKind::Write => MemHookKind::Write,
            WatchKind::Read => MemHookKind::Read,
            WatchKind::ReadWrite => MemHookKind::Access,
        };
        let hit = self.watch_hit.clone();
        // Hooks filter on the access's first byte; an access of up to 4 bytes that starts up to
        // 3 bytes early still overlaps, so the hook range starts there and the closure decides.
        let hook =
            self.machine
                .add_mem_hook(hook_kind, addr.saturating_sub(3), end, move |_, access| {
                    let last = access.addr.saturating_add(access.width.bytes() - 1);
                    if access.addr <= end && last >= addr {
                        *hit.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(WatchHit { kind, addr });
                        HookAction::Stop
                    } else {
                        HookAction::Continue
                    }
                });
        self.watches.push(Watchpoint {
            addr,
            len,
            kind,
            hook,
        });
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u32,
        len: u32,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        let len = len.max(1);
        match self
            .watches
            .iter()
            .position(|w| w.addr == addr && w.len == len && w.kind == kind)
        {
            Some(i) => {
                let w = self.watches.remove(i);
                self.machine.hook_del(w.hook);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl<P: Profile> MonitorCmd for DebugTarget<'_, P> {
    fn handle_monitor_cmd(
        &mut self,
        cmd: &[u8],
        mut out: ConsoleOutput<'_>,
    ) -> Result<(), Self::Error> {
        let cmd = String::from_utf8_lossy(cmd);
        self.monitor(cmd.trim(), &mut out);
        Ok(())
    }
}

/// The blocking event loop: runs the machine in chunks of [`CHUNK`] instructions and looks at
/// the connection between chunks (for Ctrl-C or any other packet).
pub struct EventLoop<'m, P>(std::marker::PhantomData<&'m P>);

impl<'m, P: Profile> BlockingEventLoop for EventLoop<'m, P> {
    type Target = DebugTarget<'m, P>;
    type Connection = RspConnection;
    type StopReason = GdbStop;

    fn wait_for_stop_reason(
        target: &mut DebugTarget<'m, P>,
        conn: &mut RspConnection,
    ) -> Result<
        Event<GdbStop>,
        WaitForStopReasonError<&'static str, <RspConnection as Connection>::Error>,
    > {
        // The ack of the resume packet must not wait for the stop.
        conn.flush().map_err(WaitForStopReasonError::Connection)?;
        if target.mode == Mode::Step {
            return Ok(Event::TargetStopped(target.single_step()));
        }
        loop {
            if let Some(stop) = target.run_chunk(CHUNK) {
                return Ok(Event::TargetStopped(stop));
            }
            if conn
                .poll_byte()
                .map_err(WaitForStopReasonError::Connection)?
                .is_some()
            {
                let byte = conn
                    .next_byte()
                    .map_err(WaitForStopReasonError::Connection)?;
                return Ok(Event::IncomingData(byte));
            }
        }
    }

    fn on_interrupt(target: &mut DebugTarget<'m, P>) -> Result<Option<GdbStop>, &'static str> {
        target.mode = Mode::Halted;
        target.resumed_at = None;
        Ok(Some(GdbStop::Signal(GdbSignal::SIGINT)))
    }
}
