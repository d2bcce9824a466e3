//! The `gdb-sim` machine profile: the I/O conventions of binutils-gdb's FT32 simulator
//! (`ft32-elf-run`), so that any program linked with `ft32-elf-gcc -msim` runs unchanged and can
//! be compared with the reference byte for byte (`docs/hardware/memory-map.md` §3).
//!
//! | data address | read | write |
//! |---|---|---|
//! | 0x10000 | console input byte (EOF reads as 0xFFFFFFFF) | console output byte |
//! | 0x1FC80 | – | PM write port unlock (0x1337F7D1 unlocks, anything else locks) |
//! | 0x1FC84 | – | PM write address |
//! | 0x1FC88 | – | PM write data (when unlocked), then address += 4 |
//! | 0x1FFF4 | cycle counter / 100 | – |
//! | 0x1FFF8 | – | prints `Debug write %08x` on the console |
//! | 0x1FFFC | – | exit with status r0 |
//!
//! Reads of any other I/O address fault (SIGILL, as the reference); writes to other addresses
//! are reported on the diagnostics stream and ignored.

use std::io::{Read, Write};

use crate::core::{Core, RAM_BIAS};
use crate::isa::{FfuOp, Width};
use crate::machine::Profile;
use crate::stop::{Fault, FaultKind, StopReason};

/// Console input address.
pub const CONSOLE: u32 = 0x1_0000;
/// PM write port: unlock register.
pub const PM_UNLOCK: u32 = 0x1_FC80;
/// PM write port: address register.
pub const PM_ADDR: u32 = 0x1_FC84;
/// PM write port: data register.
pub const PM_DATA: u32 = 0x1_FC88;
/// The value that unlocks the PM write port.
pub const PM_UNLOCK_KEY: u32 = 0x1337_F7D1;
/// Cycle counter (cycles / 100, i.e. microseconds at 100 MHz).
pub const CYCLE_COUNTER: u32 = 0x1_FFF4;
/// Debug hex output.
pub const DEBUG_WRITE: u32 = 0x1_FFF8;
/// Exit port.
pub const EXIT: u32 = 0x1_FFFC;

/// State of the gdb-sim I/O space.
pub struct GdbSim {
    console_out: Box<dyn Write + Send>,
    console_in: Box<dyn Read + Send>,
    diagnostics: Box<dyn Write + Send>,
    pm_unlocked: bool,
    pm_addr: u32,
}

impl GdbSim {
    /// A profile with the given console streams; messages about ignored I/O writes go to
    /// `diagnostics`.
    pub fn new(
        console_out: Box<dyn Write + Send>,
        console_in: Box<dyn Read + Send>,
        diagnostics: Box<dyn Write + Send>,
    ) -> GdbSim {
        GdbSim {
            console_out,
            console_in,
            diagnostics,
            pm_unlocked: false,
            pm_addr: 0,
        }
    }

    /// A profile whose console writes to `out`, reads end-of-file, and whose diagnostics are
    /// discarded: for tests and benchmarks.
    pub fn with_output(out: Box<dyn Write + Send>) -> GdbSim {
        GdbSim::new(out, Box::new(std::io::empty()), Box::new(std::io::sink()))
    }

    /// Flushes the console output.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.console_out.flush()
    }

    /// Writes to the flat address space through the PM write port (program memory at 0, RAM at
    /// the 0x800000 bias), as the reference does.
    fn pm_port_write(
        &mut self,
        core: &mut Core,
        width: Width,
        value: u32,
    ) -> Result<(), StopReason> {
        let addr = self.pm_addr & !(width.bytes() - 1);
        let bytes = &value.to_le_bytes()[..width.bytes() as usize];
        let ok = if addr >= RAM_BIAS {
            core.write_flat(addr, bytes)
        } else {
            core.pm_write(addr, bytes)
        };
        if !ok {
            return Err(StopReason::Fault(Fault {
                kind: FaultKind::PmWriteUnmapped { addr },
                pc: core.pc,
            }));
        }
        self.pm_addr = self.pm_addr.wrapping_add(4);
        Ok(())
    }
}

impl Profile for GdbSim {
    fn name(&self) -> &'static str {
        "gdb-sim"
    }

    /// gdb 13's simulator implements `streamout` only; `streamin`, `streamini` and `streamouti`
    /// stop it with SIGILL, and this profile does the same so that programs agree exactly.
    fn implements_ffu(&self, op: FfuOp) -> bool {
        !matches!(op, FfuOp::Streamin | FfuOp::Streamini | FfuOp::Streamouti)
    }

    fn io_region(addr: u32) -> Option<(&'static str, u32)> {
        let addr = addr & !3;
        match addr {
            CONSOLE => Some(("console", 0)),
            PM_UNLOCK | PM_ADDR | PM_DATA => Some(("pm-write-port", addr - PM_UNLOCK)),
            CYCLE_COUNTER => Some(("cycle-counter", 0)),
            DEBUG_WRITE => Some(("debug-write", 0)),
            EXIT => Some(("exit", 0)),
            _ => None,
        }
    }

    /// Like `ft32-elf-run`: PC = 0, and the stack pointer holds the ELF entry address (a quirk
    /// of the reference's `sim_create_inferior`); everything else is zero.
    fn reset(&mut self, core: &mut Core, entry: u32) {
        core.regs = [0; 32];
        core.regs[31] = entry;
        core.pc = 0;
        core.cycles = 0;
        core.insns = 0;
        self.pm_unlocked = false;
        self.pm_addr = 0;
    }

    fn io_read(&mut self, core: &mut Core, addr: u32, _width: Width) -> Result<u32, StopReason> {
        match addr {
            CONSOLE => {
                // The reference calls getchar(); flush first so prompts appear before input.
                let _ = self.console_out.flush();
                let mut b = [0u8; 1];
                Ok(match self.console_in.read(&mut b) {
                    Ok(1) => b[0] as u32,
                    _ => u32::MAX,
                })
            }
            CYCLE_COUNTER => Ok((core.cycles / 100) as u32),
            _ => Err(StopReason::Fault(Fault {
                kind: FaultKind::IoRead { addr },
                pc: core.pc,
            })),
        }
    }

    fn io_write(
        &mut self,
        core: &mut Core,
        addr: u32,
        width: Width,
        value: u32,
    ) -> Result<(), StopReason> {
        match addr {
            CONSOLE => {
                let _ = self.console_out.write_all(&[value as u8]);
            }
            PM_UNLOCK => self.pm_unlocked = value == PM_UNLOCK_KEY,
            PM_ADDR => self.pm_addr = value,
            PM_DATA if self.pm_unlocked => self.pm_port_write(core, width, value)?,
            PM_DATA => {}
            EXIT => return Err(StopReason::Exited(core.regs[0])),
            DEBUG_WRITE => {
                let _ = writeln!(self.console_out, "Debug write {value:08x}");
            }
            _ => {
                let _ = writeln!(
                    self.diagnostics,
                    "Unknown IO write {value:08x} to to {addr:08x}"
                );
            }
        }
        Ok(())
    }
}
