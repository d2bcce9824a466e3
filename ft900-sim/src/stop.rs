//! Why a run of the machine ended: normal exits, limits, requests and guest faults.

use crate::isa::Illegal;

/// What a guest did wrong. A fault stops the machine; it never panics the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The word at PC is not an FT900 instruction.
    IllegalInstruction {
        /// The instruction word.
        word: u32,
        /// Why it is illegal.
        why: Illegal,
    },
    /// Instruction fetch outside mapped program memory.
    FetchUnmapped,
    /// Instruction fetch in the FT900 bootloader's area of program memory (0x3F000..0x3FFFF),
    /// which holds no code: the vendor's programming tool keeps its bootloader there, the
    /// simulator has none. The fault's PC is the address jumped to.
    BootloaderArea,
    /// Program-memory read (`lpm`, `lpmi`) outside mapped memory; address in the flat space.
    PmReadUnmapped {
        /// Flat address (program memory at 0, RAM at 0x800000).
        addr: u32,
    },
    /// A write into the bootloader area 0x3F000..0x3FFFF of program memory or flash (through
    /// the flash controller or the program-memory write port): refused, and with `strict` a
    /// stop. `addr` is the first byte of the area the write would have changed.
    BootloaderWrite {
        /// Program-memory or flash address.
        addr: u32,
    },
    /// Write through the program-memory write port to an unmapped address.
    PmWriteUnmapped {
        /// Flat address.
        addr: u32,
    },
    /// Data access outside mapped RAM.
    DataUnmapped {
        /// Data-space address (17 bits).
        addr: u32,
        /// `true` for a write.
        write: bool,
    },
    /// Read of an I/O address that the machine profile does not decode.
    IoRead {
        /// Data-space address.
        addr: u32,
    },
    /// Write of an I/O address that the machine profile treats as an error (strict mode).
    IoWrite {
        /// Data-space address.
        addr: u32,
    },
}

impl FaultKind {
    /// The POSIX signal gdb and the reference simulator report for this fault.
    pub fn signal(&self) -> Signal {
        match self {
            FaultKind::IllegalInstruction { .. } | FaultKind::IoRead { .. } => Signal::Ill,
            FaultKind::FetchUnmapped
            | FaultKind::BootloaderArea
            | FaultKind::PmReadUnmapped { .. }
            | FaultKind::PmWriteUnmapped { .. }
            | FaultKind::BootloaderWrite { .. }
            | FaultKind::DataUnmapped { .. }
            | FaultKind::IoWrite { .. } => Signal::Segv,
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultKind::IllegalInstruction { word, why } => {
                write!(f, "illegal instruction {word:#010x}: {why}")
            }
            FaultKind::FetchUnmapped => write!(f, "instruction fetch outside program memory"),
            FaultKind::BootloaderArea => write!(
                f,
                "jump into the bootloader area 0x3f000..0x3ffff, which holds no code (the \
                 vendor's programmer keeps its bootloader there; the simulator has none)"
            ),
            FaultKind::PmReadUnmapped { addr } => {
                write!(f, "program-memory read of unmapped address {addr:#x}")
            }
            FaultKind::BootloaderWrite { addr } => write!(
                f,
                "write into the bootloader area 0x3f000..0x3ffff at {addr:#x} (the vendor's \
                 bootloader lives there; the write was refused)"
            ),
            FaultKind::PmWriteUnmapped { addr } => {
                write!(f, "program-memory write port to unmapped address {addr:#x}")
            }
            FaultKind::DataUnmapped { addr, write } => write!(
                f,
                "data {} of unmapped address {addr:#07x}",
                if *write { "write" } else { "read" }
            ),
            FaultKind::IoRead { addr } => write!(f, "read of undecoded I/O address {addr:#07x}"),
            FaultKind::IoWrite { addr } => write!(f, "write to undecoded I/O address {addr:#07x}"),
        }
    }
}

/// Signals in the sense of gdb's stop replies (numbers as on Linux).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Signal {
    /// Interrupt (stop requested).
    Int = 2,
    /// Illegal instruction.
    Ill = 4,
    /// Breakpoint or single-step trap.
    Trap = 5,
    /// Bad memory access.
    Segv = 11,
}

impl Signal {
    /// The signal's conventional name, e.g. `SIGSEGV`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Ill => "SIGILL",
            Signal::Trap => "SIGTRAP",
            Signal::Segv => "SIGSEGV",
        }
    }
}

/// A guest fault with where it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What went wrong.
    pub kind: FaultKind,
    /// Address of the faulting instruction.
    pub pc: u32,
}

/// Why [`crate::Machine::emu_start`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The guest asked to exit with this status.
    Exited(u32),
    /// The guest faulted.
    Fault(Fault),
    /// The guest executed gdb's software breakpoint word (`call 8`) at this PC; it was not
    /// executed.
    Breakpoint(u32),
    /// The guest executed `halt` at this PC.
    Halted(u32),
    /// PC reached the `until` address given to `emu_start` (not executed).
    Until(u32),
    /// The instruction count given to `emu_start` was executed.
    CountReached,
    /// The cycle deadline given to the run was reached.
    CycleLimit,
    /// [`crate::StopHandle::stop`] or a hook asked to stop.
    Stopped,
}

impl StopReason {
    /// `true` when the machine can be resumed after this stop.
    pub fn is_resumable(&self) -> bool {
        matches!(
            self,
            StopReason::Until(_)
                | StopReason::CountReached
                | StopReason::CycleLimit
                | StopReason::Stopped
                | StopReason::Breakpoint(_)
        )
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Exited(status) => write!(f, "exited with status {status}"),
            StopReason::Fault(fault) => write!(
                f,
                "{} at pc {:#010x}: {}",
                fault.kind.signal().name(),
                fault.pc,
                fault.kind
            ),
            StopReason::Breakpoint(pc) => write!(f, "breakpoint word (call 8) at pc {pc:#010x}"),
            StopReason::Halted(pc) => write!(f, "halt at pc {pc:#010x}"),
            StopReason::Until(pc) => write!(f, "reached the stop address {pc:#010x}"),
            StopReason::CountReached => write!(f, "instruction count reached"),
            StopReason::CycleLimit => write!(f, "cycle deadline reached"),
            StopReason::Stopped => write!(f, "stop requested"),
        }
    }
}
