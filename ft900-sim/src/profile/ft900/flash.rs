//! Flash controller, 0x10800–0x108BF (AN_324 §23; the SDK's `ft900_flash_registers.h`,
//! `memctl.c`, `dlog.c` and the examples' `crt0.S`; `docs/hardware/i2c-flash.md`), byte access
//! only, and the 256 KiB serial flash behind it.
//!
//! # What the flash is
//! Program memory is a RAM "shadow" that the chip loads from the on-package flash at every
//! reset. The flash starts out holding the loaded image (what a programmer wrote: a copy of
//! program memory at power-on), and each chip reset (watchdog, reboot command) loads program
//! memory from it again. Firmware changes the flash only through this controller's commands,
//! and changes program memory only through the flash→PM command (or the PM write port,
//! [`super::pm_port`]); both go through [`crate::core::Core::pm_write`], so any cache of
//! decoded code sees them.
//!
//! # Commands (COMMAND, 0x10809)
//! Addresses come from RSADDR (a *word* address in PM or RAM), FSADDR (a byte address in the
//! flash) and BLENGTH (length − 1), as `dbg_memory_copy` in the SDK writes them:
//!
//! | code | name (SDK) | effect |
//! |---|---|---|
//! | 0x06 | WREN | sets the write-enable latch that the erase commands need |
//! | 0x20 / 0x52 / 0x60 | SE / BE1 / CE1 | erases (to 0xFF) the 4 KiB sector / 64 KiB block at FSADDR / the whole flash |
//! | 0xF0 / 0xF8 | P2F1 / D2F1 | programs PM / RAM bytes into the flash (NOR: bits only go from 1 to 0) |
//! | 0xFA | D2F3 | as D2F1, then the system reboots |
//! | 0xF4 / 0xFC | F2P1 / F2D1 | copies flash bytes into PM / RAM |
//! | 0xFE | F2D3 | as F2D1, then the system reboots (the SDK's `chip_reboot`, rev B watchdog handler) |
//!
//! While a command runs, STATUS.CONTROL_BUSY (bit 6) is set, and for programs and erases also
//! WR_IN_PROGRESS (bit 0). The effect on memory happens when the command is written (nothing
//! can look at it before the busy bit clears); a reboot happens when it ends.
//!
//! # Time (assumptions, see the document)
//! A transfer moves 8 bits per byte at the flash SPI clock, sysclk / (2 + CONFIG.SPI_CLK);
//! programming costs 1.4 ms per 256-byte page, a sector erase 60 ms, a block erase 0.7 s, a
//! chip erase 2.5 s (typical figures for a 2 Mbit serial NOR flash of the MX25L2006E class the
//! SDK names).
//!
//! # The bootloader's area
//! A command that would program or erase flash at 0x3F000..0x3FFFF, or write program memory
//! there, is refused (nothing is changed) and reported; with `strict` it stops the machine.
//!
//! # Semaphore
//! SEMAPHORE reads 0 once (the caller now owns the controller), then 1 until a write of 1
//! releases it.
//!
//! # Not modelled
//! CRCL/CRCH (the boot CRC16), CHIPID0..3 and DRWDATA are reported as unmodelled accesses;
//! wider than byte accesses too (the block is byte-access only).

use super::device::{Ctx, NS_PER_CYCLE};
use super::regtable::{RegAccess, RegDef, RegFile};
use super::BOOTLOADER_START;
use crate::core::{Core, PM_SIZE};

/// Size of the flash: 256 KiB, as program memory.
pub const FLASH_SIZE: u32 = 0x4_0000;
/// Erase sector.
pub const SECTOR: u32 = 0x1000;
/// Erase block.
pub const BLOCK: u32 = 0x1_0000;
/// Program page.
pub const PAGE: u32 = 0x100;

/// Register offsets.
pub mod reg {
    pub use crate::profile::ft900::regs::flash::*;
}

/// Commands.
pub mod cmd {
    /// Write enable.
    pub const WREN: u8 = 0x06;
    /// Sector erase.
    pub const SE: u8 = 0x20;
    /// Block erase.
    pub const BE: u8 = 0x52;
    /// Chip erase.
    pub const CE: u8 = 0x60;
    /// PM → flash.
    pub const P2F: u8 = 0xF0;
    /// Flash → PM.
    pub const F2P: u8 = 0xF4;
    /// RAM → flash.
    pub const D2F: u8 = 0xF8;
    /// RAM → flash, then reboot.
    pub const D2F_REBOOT: u8 = 0xFA;
    /// Flash → RAM.
    pub const F2D: u8 = 0xFC;
    /// Flash → RAM, then reboot.
    pub const F2D_REBOOT: u8 = 0xFE;
}

/// STATUS bits.
pub mod status {
    /// A program or erase is running.
    pub const WR_IN_PROGRESS: u8 = 0x01;
    /// The control unit is busy.
    pub const CONTROL_BUSY: u8 = 0x40;
}

/// The block's registers (all reset to 0), as the register map declares them.
pub const REGISTERS: &[RegDef] = reg::REGS;

/// Page program time (1.4 ms).
const PAGE_PROGRAM_NS: u64 = 1_400_000;
/// Sector erase time (60 ms).
const SECTOR_ERASE_NS: u64 = 60_000_000;
/// Block erase time (0.7 s).
const BLOCK_ERASE_NS: u64 = 700_000_000;
/// Chip erase time (2.5 s).
const CHIP_ERASE_NS: u64 = 2_500_000_000;

const EV_DONE: u64 = 1;

/// What a register write asks of the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlashOutcome {
    /// Done.
    Done,
    /// No register there (or not modelled).
    Unmodelled,
    /// The command would have written the bootloader's area at `addr`: refused.
    BootloaderRefused {
        /// First address of the area the command would have changed.
        addr: u32,
        /// The command, for the report.
        what: String,
    },
    /// The command names memory that does not exist; what happened, for the report.
    OutOfRange(String),
}

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlashCounters {
    /// Commands carried out.
    pub commands: u64,
    /// Bytes programmed into the flash.
    pub bytes_programmed: u64,
    /// Erase commands.
    pub erases: u64,
    /// Bytes copied into program memory.
    pub pm_bytes_written: u64,
    /// Commands refused (bootloader area).
    pub refused: u64,
    /// Reboots requested.
    pub reboots: u64,
}

/// The flash controller and its flash.
pub struct FlashCtrl {
    regs: RegFile,
    flash: Vec<u8>,
    semaphore_taken: bool,
    write_enabled: bool,
    busy: bool,
    writing: bool,
    reboot_at_end: bool,
    reboot_due: bool,
    counters: FlashCounters,
}

impl Default for FlashCtrl {
    fn default() -> Self {
        Self::new()
    }
}

impl FlashCtrl {
    /// A controller with an erased flash.
    pub fn new() -> FlashCtrl {
        FlashCtrl {
            regs: RegFile::new(REGISTERS),
            flash: vec![0xFF; FLASH_SIZE as usize],
            semaphore_taken: false,
            write_enabled: false,
            busy: false,
            writing: false,
            reboot_at_end: false,
            reboot_due: false,
            counters: FlashCounters::default(),
        }
    }

    /// The programmer wrote `image` (program memory at power-on) into the flash.
    pub fn program_image(&mut self, image: &[u8]) {
        let n = image.len().min(self.flash.len());
        self.flash[..n].copy_from_slice(&image[..n]);
        self.flash[n..].fill(0xFF);
    }

    /// The flash's contents.
    pub fn contents(&self) -> &[u8] {
        &self.flash
    }

    /// Whether a command asked for a system reboot that is now due (taken once).
    pub fn take_reboot(&mut self) -> bool {
        std::mem::take(&mut self.reboot_due)
    }

    /// Counters for `--stats` and dumps.
    pub fn counters(&self) -> FlashCounters {
        self.counters
    }

    /// STATUS as a read returns it.
    pub fn status(&self) -> u8 {
        let mut s = 0;
        if self.busy {
            s |= status::CONTROL_BUSY;
        }
        if self.writing {
            s |= status::WR_IN_PROGRESS;
        }
        s
    }

    /// (name, offset, value) of the registers, without side effects.
    pub fn registers(&self) -> Vec<(&'static str, u32, u8)> {
        let mut regs = self.regs.dump();
        for r in &mut regs {
            match r.1 {
                reg::STATUS => r.2 = self.status(),
                reg::SEMAPHORE => r.2 = u8::from(self.semaphore_taken),
                _ => {}
            }
        }
        regs
    }

    /// Back to the reset state; the flash keeps its contents.
    pub fn reset(&mut self) {
        self.regs.reset();
        self.semaphore_taken = false;
        self.write_enabled = false;
        self.busy = false;
        self.writing = false;
        self.reboot_at_end = false;
        self.reboot_due = false;
    }

    /// A byte read of register `offset`; `None` when not modelled.
    pub fn read(&mut self, offset: u32) -> Option<u8> {
        let def = self.regs.def(offset)?;
        match (offset, def.access) {
            (_, RegAccess::Unmodelled) => None,
            (reg::STATUS, _) => Some(self.status()),
            (reg::SEMAPHORE, _) => {
                let was = self.semaphore_taken;
                self.semaphore_taken = true;
                Some(u8::from(was))
            }
            (reg::COMMAND, _) => Some(0),
            _ => Some(self.regs.get(offset)),
        }
    }

    /// A byte write of register `offset`; commands act on `core`'s memories.
    pub fn write(
        &mut self,
        offset: u32,
        value: u8,
        core: &mut Core,
        ctx: &mut Ctx,
    ) -> FlashOutcome {
        match offset {
            reg::SEMAPHORE => {
                if value & 1 != 0 {
                    self.semaphore_taken = false;
                }
                FlashOutcome::Done
            }
            reg::COMMAND => self.command(value, core, ctx),
            _ => {
                if self.regs.write(offset, value) {
                    FlashOutcome::Done
                } else {
                    FlashOutcome::Unmodelled
                }
            }
        }
    }

    /// The command's end: busy clears, a requested reboot becomes due.
    pub fn event(&mut self, token: u64) {
        if token != EV_DONE {
            return;
        }
        self.busy = false;
        self.writing = false;
        if std::mem::take(&mut self.reboot_at_end) {
            self.reboot_due = true;
        }
    }

    fn triple(&self, first: u32) -> u32 {
        u32::from(self.regs.get(first))
            | u32::from(self.regs.get(first + 1)) << 8
            | u32::from(self.regs.get(first + 2)) << 16
    }

    /// Cycles to move `bytes` bytes over the flash's SPI bus.
    fn transfer_ns(&self, bytes: u64) -> u64 {
        let divider = 2 + u64::from(self.regs.get(reg::CONFIG) & 3);
        bytes * 8 * divider * NS_PER_CYCLE
    }

    fn command(&mut self, code: u8, core: &mut Core, ctx: &mut Ctx) -> FlashOutcome {
        if self.busy {
            // The SDK waits for CONTROL_BUSY to clear first; a command meanwhile is lost.
            return FlashOutcome::Done;
        }
        let ram_addr = self.triple(reg::RSADDR0) * 4;
        let faddr = self.triple(reg::FSADDR0);
        let len = self.triple(reg::BLENGTH0) + 1;
        let (outcome, ns, writing) = match code {
            cmd::WREN => {
                self.write_enabled = true;
                (FlashOutcome::Done, self.transfer_ns(1), false)
            }
            cmd::SE | cmd::BE | cmd::CE => {
                let (start, size, ns) = match code {
                    cmd::SE => (faddr & !(SECTOR - 1), SECTOR, SECTOR_ERASE_NS),
                    cmd::BE => (faddr & !(BLOCK - 1), BLOCK, BLOCK_ERASE_NS),
                    _ => (0, FLASH_SIZE, CHIP_ERASE_NS),
                };
                (self.erase(start, size), ns, true)
            }
            cmd::P2F | cmd::D2F | cmd::D2F_REBOOT => {
                let src = if code == cmd::P2F {
                    core.pm().get(ram_addr as usize..(ram_addr + len) as usize)
                } else {
                    core.ram().get(ram_addr as usize..(ram_addr + len) as usize)
                };
                let outcome = match src {
                    Some(src) => {
                        let src = src.to_vec();
                        self.program(faddr, &src)
                    }
                    None => FlashOutcome::OutOfRange(format!(
                        "flash controller: program from {} {ram_addr:#x}+{len:#x} outside memory; \
                         nothing written",
                        if code == cmd::P2F { "PM" } else { "RAM" }
                    )),
                };
                let pages = u64::from(len.div_ceil(PAGE));
                self.reboot_at_end = code == cmd::D2F_REBOOT;
                (
                    outcome,
                    self.transfer_ns(len.into()) + pages * PAGE_PROGRAM_NS,
                    true,
                )
            }
            cmd::F2P | cmd::F2D | cmd::F2D_REBOOT => {
                let outcome = match self.flash.get(faddr as usize..(faddr + len) as usize) {
                    None => FlashOutcome::OutOfRange(format!(
                        "flash controller: read of flash {faddr:#x}+{len:#x} beyond its end; \
                         nothing copied"
                    )),
                    Some(src) if code == cmd::F2P => {
                        let src = src.to_vec();
                        self.write_pm(core, ram_addr, &src)
                    }
                    Some(src) => match core
                        .ram_mut()
                        .get_mut(ram_addr as usize..(ram_addr + len) as usize)
                    {
                        Some(dst) => {
                            dst.copy_from_slice(src);
                            FlashOutcome::Done
                        }
                        None => FlashOutcome::OutOfRange(format!(
                            "flash controller: copy to RAM {ram_addr:#x}+{len:#x} outside RAM; \
                             nothing copied"
                        )),
                    },
                };
                self.reboot_at_end = code == cmd::F2D_REBOOT;
                (outcome, self.transfer_ns(len.into()), false)
            }
            _ => return FlashOutcome::Unmodelled,
        };
        if !matches!(outcome, FlashOutcome::Done) {
            self.reboot_at_end = false;
        }
        self.counters.commands += 1;
        if self.reboot_at_end {
            self.counters.reboots += 1;
        }
        self.busy = true;
        self.writing = writing;
        ctx.schedule_in(ns.div_ceil(NS_PER_CYCLE).max(1), EV_DONE);
        outcome
    }

    fn erase(&mut self, start: u32, size: u32) -> FlashOutcome {
        if !std::mem::take(&mut self.write_enabled) {
            // A serial flash ignores an erase without its write-enable latch.
            return FlashOutcome::Done;
        }
        if start + size > BOOTLOADER_START {
            self.counters.refused += 1;
            return FlashOutcome::BootloaderRefused {
                addr: start.max(BOOTLOADER_START),
                what: format!("erase of flash {start:#07x}..{:#07x}", start + size),
            };
        }
        self.flash[start as usize..(start + size) as usize].fill(0xFF);
        self.counters.erases += 1;
        FlashOutcome::Done
    }

    fn program(&mut self, faddr: u32, src: &[u8]) -> FlashOutcome {
        self.write_enabled = false;
        let end = faddr as usize + src.len();
        if end > BOOTLOADER_START as usize {
            self.counters.refused += 1;
            return FlashOutcome::BootloaderRefused {
                addr: faddr.max(BOOTLOADER_START),
                what: format!("program of flash {faddr:#07x}..{end:#07x}"),
            };
        }
        for (dst, b) in self.flash[faddr as usize..end].iter_mut().zip(src) {
            // NOR flash: programming only clears bits.
            *dst &= b;
        }
        self.counters.bytes_programmed += src.len() as u64;
        FlashOutcome::Done
    }

    /// Writes `bytes` into program memory at `addr` through the core's one PM write path
    /// ([`Core::pm_write`]), unless they reach into the bootloader's area (refused). The
    /// flash→PM command and the PM write port both come here.
    pub fn write_pm(&mut self, core: &mut Core, addr: u32, bytes: &[u8]) -> FlashOutcome {
        let end = u64::from(addr) + bytes.len() as u64;
        if end > u64::from(BOOTLOADER_START) && addr < PM_SIZE {
            self.counters.refused += 1;
            return FlashOutcome::BootloaderRefused {
                addr: addr.max(BOOTLOADER_START),
                what: format!("write of program memory {addr:#07x}..{end:#07x}"),
            };
        }
        if !core.pm_write(addr, bytes) {
            return FlashOutcome::OutOfRange(format!(
                "write of program memory {addr:#x}+{:#x} outside it; nothing written",
                bytes.len()
            ));
        }
        self.counters.pm_bytes_written += bytes.len() as u64;
        FlashOutcome::Done
    }

    /// Boot: program memory is loaded from the flash (every chip reset does this), through
    /// [`Core::pm_write`].
    pub fn load_pm(&self, core: &mut Core) {
        let n = (core.pm_len() as usize).min(self.flash.len());
        core.pm_write(0, &self.flash[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::device::SysView;
    use super::super::event::{EventQueue, Source};
    use super::*;
    use crate::core::RAM_SIZE;

    struct Rig {
        f: FlashCtrl,
        core: Core,
        q: EventQueue,
    }

    impl Rig {
        fn new() -> Rig {
            let mut core = Core::new();
            core.map_pm(PM_SIZE);
            core.map_ram(RAM_SIZE);
            let mut f = FlashCtrl::new();
            f.program_image(core.pm());
            Rig {
                f,
                core,
                q: EventQueue::new(),
            }
        }

        /// `dbg_memory_copy(command, raddr, faddr, length)` of the SDK (length = bytes − 1);
        /// returns the command's outcome and how long it kept the controller busy.
        fn copy(
            &mut self,
            command: u8,
            raddr: u32,
            faddr: u32,
            length: u32,
        ) -> (FlashOutcome, u64) {
            let mut out = FlashOutcome::Done;
            let start = self.core.cycles;
            let mut regs = vec![];
            for (first, v) in [
                (reg::RSADDR0, raddr),
                (reg::FSADDR0, faddr),
                (reg::BLENGTH0, length),
            ] {
                for i in 0..3 {
                    regs.push((first + i, (v >> (8 * i)) as u8));
                }
            }
            regs.push((reg::COMMAND, cmd::WREN));
            regs.push((reg::COMMAND, command));
            for (offset, value) in regs {
                let mut ctx = Ctx {
                    now: self.core.cycles,
                    queue: &mut self.q,
                    source: Source::Flash,
                    sys: SysView::default(),
                };
                let o = self.f.write(offset, value, &mut self.core, &mut ctx);
                if offset == reg::COMMAND {
                    out = o;
                    // Wait for CONTROL_BUSY to clear.
                    assert_ne!(self.f.read(reg::STATUS).unwrap() & status::CONTROL_BUSY, 0);
                    while let Some((at, _, token)) = self.q.pop_due(u64::MAX) {
                        self.core.cycles = at;
                        self.f.event(token);
                    }
                    assert_eq!(self.f.read(reg::STATUS), Some(0));
                }
            }
            (out, (self.core.cycles - start) * NS_PER_CYCLE)
        }
    }

    #[test]
    fn the_semaphore_is_granted_once_until_released() {
        let mut f = FlashCtrl::new();
        assert_eq!(f.read(reg::SEMAPHORE), Some(0));
        assert_eq!(f.read(reg::SEMAPHORE), Some(1));
        let mut rig = Rig::new();
        rig.f = f;
        let mut ctx = Ctx {
            now: 0,
            queue: &mut rig.q,
            source: Source::Flash,
            sys: SysView::default(),
        };
        rig.f.write(reg::SEMAPHORE, 1, &mut rig.core, &mut ctx);
        assert_eq!(rig.f.read(reg::SEMAPHORE), Some(0));
    }

    #[test]
    fn erase_program_and_read_back_as_the_dlog_driver_does() {
        let mut rig = Rig::new();
        // dlog_erase: sector erase of the DLOG partition (0x3E000), 60 ms.
        let (o, ns) = rig.copy(cmd::SE, 0, 0x3_E000, 0);
        assert_eq!(o, FlashOutcome::Done);
        assert!((60_000_000..61_000_000).contains(&ns), "{ns}");
        assert!(rig.f.contents()[0x3_E000..0x3_F000]
            .iter()
            .all(|&b| b == 0xFF));
        // dlog_prog: a 256-byte page from RAM 0x100, programmed (NOR: AND) twice.
        rig.core.ram_mut()[0x100..0x200].fill(0xF0);
        assert_eq!(
            rig.copy(cmd::D2F, 0x100 >> 2, 0x3_E100, 255).0,
            FlashOutcome::Done
        );
        rig.core.ram_mut()[0x100..0x200].fill(0x3C);
        let (o, ns) = rig.copy(cmd::D2F, 0x100 >> 2, 0x3_E100, 255);
        assert_eq!(o, FlashOutcome::Done);
        assert!(ns >= 1_400_000, "{ns}");
        assert_eq!(
            rig.f.contents()[0x3_E100],
            0x30,
            "programming only clears bits"
        );
        // dlog_read: flash → RAM 0x400.
        assert_eq!(
            rig.copy(cmd::F2D, 0x400 >> 2, 0x3_E100, 255).0,
            FlashOutcome::Done
        );
        assert!(rig.core.ram()[0x400..0x500].iter().all(|&b| b == 0x30));
        assert!(!rig.f.take_reboot());
    }

    #[test]
    fn an_erase_without_write_enable_does_nothing() {
        let mut rig = Rig::new();
        rig.f.flash[0x1000] = 0;
        let mut ctx = Ctx {
            now: 0,
            queue: &mut rig.q,
            source: Source::Flash,
            sys: SysView::default(),
        };
        rig.f.write(reg::FSADDR0 + 1, 0x10, &mut rig.core, &mut ctx);
        rig.f.write(reg::COMMAND, cmd::SE, &mut rig.core, &mut ctx);
        assert_eq!(rig.f.contents()[0x1000], 0);
    }

    #[test]
    fn flash_to_pm_goes_through_the_cores_write_path() {
        let mut rig = Rig::new();
        // `ldk.l $r0, 5` into flash page 0x2000, then copied to PM 0x400 (word 0x100).
        rig.core.ram_mut()[0..4].copy_from_slice(&0x6400_0005u32.to_le_bytes());
        rig.core.ram_mut()[4..256].fill(0);
        assert_eq!(rig.copy(cmd::D2F, 0, 0x2000, 255).0, FlashOutcome::Done);
        assert_eq!(
            rig.f.contents()[0x2000],
            0,
            "the image's zeros stay without an erase"
        );
        assert_eq!(rig.copy(cmd::SE, 0, 0x2000, 0).0, FlashOutcome::Done);
        assert_eq!(rig.copy(cmd::D2F, 0, 0x2000, 255).0, FlashOutcome::Done);
        assert_eq!(
            rig.copy(cmd::F2P, 0x400 >> 2, 0x2000, 255).0,
            FlashOutcome::Done
        );
        assert_eq!(rig.core.pm_word(0x400), 0x6400_0005);
        assert_eq!(
            rig.core.fetch(0x400).map(|i| i.op),
            Some(crate::isa::decode(0x6400_0005).op),
            "the decoded instruction follows the write"
        );
        assert_eq!(rig.f.counters().pm_bytes_written, 256);
    }

    #[test]
    fn writes_into_the_bootloader_area_are_refused() {
        let mut rig = Rig::new();
        let before = rig.f.contents().to_vec();
        let (o, _) = rig.copy(cmd::D2F, 0, 0x3_F000, 255);
        assert!(
            matches!(o, FlashOutcome::BootloaderRefused { addr: 0x3_F000, .. }),
            "{o:?}"
        );
        let (o, _) = rig.copy(cmd::SE, 0, 0x3_F800, 0);
        assert!(
            matches!(o, FlashOutcome::BootloaderRefused { addr: 0x3_F000, .. }),
            "{o:?}"
        );
        let (o, _) = rig.copy(cmd::BE, 0, 0x3_0000, 0);
        assert!(
            matches!(o, FlashOutcome::BootloaderRefused { addr: 0x3_F000, .. }),
            "{o:?}"
        );
        let (o, _) = rig.copy(cmd::CE, 0, 0, 0);
        assert!(matches!(o, FlashOutcome::BootloaderRefused { .. }), "{o:?}");
        assert_eq!(rig.f.contents(), &before[..], "nothing changed");
        // Flash → PM onto 0x3EF00..0x3F0FF reaches into the area too.
        let (o, _) = rig.copy(cmd::F2P, 0x3_EF00 >> 2, 0, 511);
        assert!(
            matches!(o, FlashOutcome::BootloaderRefused { addr: 0x3_F000, .. }),
            "{o:?}"
        );
        assert_eq!(rig.f.counters().refused, 5);
        // Just below the area is fine.
        assert_eq!(rig.copy(cmd::D2F, 0, 0x3_EF00, 255).0, FlashOutcome::Done);
    }

    #[test]
    fn the_reboot_commands_ask_for_a_reboot_when_they_end() {
        let mut rig = Rig::new();
        // chip_reboot(): dbg_memory_copy(DBG_CMDF2D3, 0, 0, 255).
        assert_eq!(rig.copy(cmd::F2D_REBOOT, 0, 0, 255).0, FlashOutcome::Done);
        assert!(rig.f.take_reboot());
        assert!(!rig.f.take_reboot(), "taken once");
        assert_eq!(rig.f.counters().reboots, 1);
    }

    #[test]
    fn boot_loads_program_memory_from_the_flash() {
        let mut rig = Rig::new();
        rig.f.flash[0x10..0x14].copy_from_slice(&[1, 2, 3, 4]);
        rig.f.load_pm(&mut rig.core);
        assert_eq!(&rig.core.pm()[0x10..0x14], &[1, 2, 3, 4]);
    }
}
