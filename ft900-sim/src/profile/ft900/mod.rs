//! The `ft900` machine profile: the FT900's own register map (AN_324, distilled in
//! `docs/hardware/memory-map.md` §2), with its peripherals on virtual time.
//!
//! # Time
//! The CPU's cycle counter at 100 MHz is the master clock. Every peripheral schedules its future
//! work on one [`EventQueue`] in cycles; the machine runs the CPU until the earliest event, runs
//! the events that are due, then looks for an interrupt to take. Interrupt requests are levels
//! that the controller samples at instruction boundaries: after every event, every I/O access
//! and every `reti`, so a request is taken at the first boundary where it is eligible.
//!
//! # No back doors
//! Firmware that runs here must run on the chip. Apart from the chip's registers the only
//! address with a meaning is 0x1FFFC: a write stops the simulation with exit status `r0`. It is
//! an unused address on silicon, and the FT900 toolchain's own start-up code already writes it
//! in `_exit` ("simulator end of test"), so it changes nothing for real firmware.
//!
//! # The bootloader's area
//! On silicon the top 4 KiB of program memory (0x3F000..0x3FFFF) hold the vendor's bootloader,
//! which the reset vector and the debugger's NMI enter. The simulator has no bootloader: when
//! the loaded image leaves that area empty, reset starts the program at its entry 0x8C (what
//! the bootloader does without a programmer attached), and a jump into the area at run time is
//! reported: a jump to the reset entry 0x3FFFC (a software restart through the reset vector)
//! is reported once and continues at 0x8C as the bootloader would, except with `strict`, where
//! it stops with [`FaultKind::BootloaderArea`]; a jump anywhere else in the area always stops
//! with that fault (SIGSEGV). An image that brings code of its own into the area runs it as its
//! bootloader (reported once at reset). Firmware writes program memory and the flash only
//! through the flash controller ([`flash`]) and the PM write port ([`pm_port`]); a write that
//! would change the bootloader's area of either is refused and reported, and with `strict`
//! stops the machine ([`FaultKind::BootloaderWrite`]).
//!
//! # Accesses that are not modelled
//! A read or write of an address with no model (a block we do not simulate, a register inside a
//! modelled block that we do not implement, or a hole in the map) is reported once per address
//! and direction with the PC, reads as 0 and is otherwise ignored. With `strict` it faults
//! instead (SIGILL for reads, SIGSEGV for writes, as in the gdb-sim profile).

pub mod chip;
pub mod device;
pub mod eth;
pub mod event;
pub mod flash;
pub mod gpio;
pub mod i2c_bus;
pub mod i2c_eeprom;
pub mod i2cm;
pub mod inspect;
pub mod intc;
pub mod pm_port;
pub mod regs;
pub mod regtable;
pub mod rtc;
pub mod rtc_calendar;
pub mod serial;
pub mod sys;
pub mod timers;
pub mod txlog;
pub mod uart;

use std::collections::HashSet;
use std::io::Write;

pub use self::chip::ChipRevision;
use self::device::{Access, Ctx, Device, NS_PER_CYCLE};
use self::eth::Eth;
use self::event::{EventQueue, Source};
use self::flash::{FlashCtrl, FlashOutcome};
use self::i2cm::I2cMaster;
use self::intc::Intc;
use self::pm_port::{PmPort, PortWrite};
use self::regs::Unit;
use self::rtc::Rtc;
use self::rtc_calendar::RtcCalendar;
use self::sys::{clk, msc0, Sys, PHY_RESET_CYCLES};
use self::timers::Timers;
use self::uart::Uart;
use crate::core::Core;
use crate::isa::{decode, Op, Width};
use crate::machine::Profile;
use crate::stop::{Fault, FaultKind, StopReason};

/// Exit port: a write stops the simulation with status `r0`.
pub const EXIT_PORT: u32 = regs::EXIT_PORT;
/// PM address of the program entry in the FT900 vector layout (after the 34 vectors).
pub const ENTRY_VECTOR: u32 = 0x8C;
/// Start of the bootloader's area at the top of program memory (4 KiB up to 0x3FFFF): the
/// vendor's programming tool writes its bootloader / debug interpreter there, the SDK's crt0
/// jumps to its reset entry (0x3FFFC) and NMI entry (0x3FFF8).
pub const BOOTLOADER_START: u32 = 0x3_F000;
/// The bootloader's reset entry (`jmp __PMSIZE-4` in the SDK's crt0).
pub const BOOTLOADER_RESET_ENTRY: u32 = 0x3_FFFC;

/// Options of the FT900 model (the default: rev C, RTC at 0, not strict).
#[derive(Clone, Debug, Default)]
pub struct Ft900Config {
    /// The silicon revision (HIPID and the revision-dependent blocks); default rev C, the
    /// revision sold today.
    pub chip: ChipRevision,
    /// Seconds in the RTC counter at power-on (the host's wall clock, or a skewed one).
    pub rtc_start_seconds: u32,
    /// Fault on accesses that are not modelled instead of reporting them.
    pub strict: bool,
}

/// An access that hit no model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmodelledAccess {
    /// Data-space address.
    pub addr: u32,
    /// `true` for a write.
    pub write: bool,
    /// Access width in bytes.
    pub bytes: u32,
    /// PC of the first instruction that did it.
    pub pc: u32,
    /// What lives there, e.g. `usb-host`, `uart0 (clock off)`, `unmapped`.
    pub block: String,
    /// The register there as the register map names it, and what is wrong with the access
    /// (e.g. `TIMER_WDG_STATUS: rev C only, not on ft900-revb`), when the block declares its
    /// registers.
    pub register: Option<String>,
}

/// Which block an I/O address belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Sys,
    Intc,
    Eth,
    Rtc,
    RtcCalendar,
    Uart(usize),
    Timers,
    I2cm,
    Flash,
    PmPort,
    Exit,
    /// A block of the chip that this model does not simulate.
    NotModelled(&'static str),
    /// No block at all.
    Hole,
}

/// Decodes an I/O address into its block and the block's base on a chip of revision `chip`,
/// from the register map ([`regs::MAP`]).
fn decode_block(addr: u32, chip: ChipRevision) -> (Block, u32) {
    let Some(desc) = regs::decode(addr, chip) else {
        return (Block::Hole, addr);
    };
    let block = match desc.unit {
        Unit::Sys => Block::Sys,
        Unit::Intc => Block::Intc,
        Unit::Eth => Block::Eth,
        Unit::Rtc => Block::Rtc,
        Unit::RtcCalendar => Block::RtcCalendar,
        Unit::Uart(i) => Block::Uart(i),
        Unit::Timers => Block::Timers,
        Unit::I2cm => Block::I2cm,
        Unit::Flash => Block::Flash,
        Unit::PmPort => Block::PmPort,
        Unit::Exit => Block::Exit,
        Unit::NotModelled => Block::NotModelled(desc.name),
    };
    (block, desc.base)
}

/// Event token of the system block: the PHY reset pulse is over.
const SYS_PHY_RESET_DONE: u64 = 1;
/// Event token of the system block: rev C's global soft reset takes effect.
const SYS_GLOBAL_RESET: u64 = 2;

/// The FT900 SoC around the CPU.
pub struct Ft900 {
    chip: ChipRevision,
    /// System registers.
    pub sys: Sys,
    /// Interrupt controller.
    pub intc: Intc,
    /// UART0 and UART1.
    pub uart: [Uart; 2],
    /// Timers and watchdog.
    pub timers: Timers,
    /// Real-time clock of rev B (0x10280).
    pub rtc: Rtc,
    /// Calendar real-time clock of rev C (0x10900).
    pub rtc_calendar: RtcCalendar,
    /// Ethernet MAC and PHY.
    pub eth: Eth,
    /// I2C master and the devices on its buses.
    pub i2cm: I2cMaster,
    /// Flash controller and the flash.
    pub flash: FlashCtrl,
    /// The pins as the outside sees them: a board's LEDs, `--trace gpio`.
    pub gpio: gpio::GpioWatch,
    pm_port: PmPort,
    queue: EventQueue,
    strict: bool,
    reset_pc: u32,
    seen: HashSet<(u32, bool)>,
    unmodelled: Vec<UnmodelledAccess>,
    diagnostics: Box<dyn Write + Send>,
    events_run: u64,
    chip_resets: u64,
    /// The image left the bootloader's area empty (see the module's documentation).
    no_bootloader: bool,
    bootloader_reported: bool,
}

impl Ft900 {
    /// An FT900 with `config`; reports go to standard error.
    pub fn new(config: Ft900Config) -> Ft900 {
        Ft900 {
            chip: config.chip,
            sys: Sys::new(config.chip.hipid()),
            intc: Intc::new(),
            uart: [Uart::new(0), Uart::new(1)],
            timers: if config.chip.is_rev_b() {
                Timers::new()
            } else {
                Timers::rev_c()
            },
            rtc: Rtc::new(),
            rtc_calendar: RtcCalendar::new(config.rtc_start_seconds.into()),
            eth: Eth::new(),
            i2cm: I2cMaster::new(),
            flash: FlashCtrl::new(),
            gpio: gpio::GpioWatch::default(),
            pm_port: PmPort::default(),
            queue: EventQueue::new(),
            strict: config.strict,
            reset_pc: 0,
            seen: HashSet::new(),
            unmodelled: Vec::new(),
            diagnostics: Box::new(std::io::stderr()),
            events_run: 0,
            chip_resets: 0,
            no_bootloader: true,
            bootloader_reported: false,
        }
    }

    /// The silicon revision this chip emulates.
    pub fn chip(&self) -> ChipRevision {
        self.chip
    }

    /// Sends reports (unmodelled accesses, chip resets) to `sink` instead of standard error.
    pub fn set_diagnostics(&mut self, sink: Box<dyn Write + Send>) {
        self.diagnostics = sink;
    }

    /// Every unmodelled access seen so far (one entry per address and direction).
    pub fn unmodelled_accesses(&self) -> &[UnmodelledAccess] {
        &self.unmodelled
    }

    /// Tells the MAC that its link may have news (a frame injected from outside after the
    /// link said nothing was coming, a cable plugged in): it looks at the link again at `now`.
    pub fn poll_eth(&mut self, now: u64) {
        let mut ctx = Ctx {
            now,
            queue: &mut self.queue,
            source: Source::Eth,
            sys: self.sys.view(),
        };
        self.eth.poll_link(&mut ctx);
    }

    /// Sets the RTC to Unix time `seconds` at cycle `now`, as a host adjusting the chip's
    /// clock would (clock-skew scenarios): rev C's calendar, or rev B's counter (× 32).
    pub fn set_rtc_seconds(&mut self, seconds: u32, now: u64) {
        let mut ctx = Ctx {
            now,
            queue: &mut self.queue,
            source: Source::Rtc,
            sys: self.sys.view(),
        };
        if self.chip.is_rev_b() {
            self.rtc.set_seconds(seconds, &mut ctx);
        } else {
            self.rtc_calendar.set_unix_time(seconds.into(), &mut ctx);
        }
    }

    /// The RTC block of this revision (where `Source::Rtc` events go).
    fn rtc_block(&self) -> Block {
        if self.chip.is_rev_b() {
            Block::Rtc
        } else {
            Block::RtcCalendar
        }
    }

    /// Flushes the UARTs' host sides.
    pub fn flush(&mut self) {
        for u in &mut self.uart {
            u.flush();
        }
    }

    /// Counters per block for `--stats`.
    pub fn stats(&self) -> Vec<(String, Vec<(String, u64)>)> {
        let own = |v: Vec<(&'static str, u64)>| -> Vec<(String, u64)> {
            v.into_iter().map(|(k, n)| (k.to_string(), n)).collect()
        };
        vec![
            (
                "soc".to_string(),
                vec![
                    ("events".to_string(), self.events_run),
                    ("chip-resets".to_string(), self.chip_resets),
                    (
                        "unmodelled-addresses".to_string(),
                        self.unmodelled.len() as u64,
                    ),
                ],
            ),
            ("intc".to_string(), self.intc.stats()),
            (self.uart[0].name().to_string(), own(self.uart[0].stats())),
            (self.uart[1].name().to_string(), own(self.uart[1].stats())),
            (self.timers.name().to_string(), own(self.timers.stats())),
            (
                "rtc".to_string(),
                own(if self.chip.is_rev_b() {
                    self.rtc.stats()
                } else {
                    self.rtc_calendar.stats()
                }),
            ),
            (self.eth.name().to_string(), own(self.eth.stats())),
            (self.i2cm.name().to_string(), own(self.i2cm.stats())),
            ("flash".to_string(), {
                let c = self.flash.counters();
                own(vec![
                    ("commands", c.commands),
                    ("bytes-programmed", c.bytes_programmed),
                    ("erases", c.erases),
                    ("pm-bytes-written", c.pm_bytes_written),
                    ("refused", c.refused),
                    ("reboots", c.reboots),
                ])
            }),
        ]
    }

    /// Where the CPU starts after reset: PM 0, unless the reset vector jumps to a bootloader
    /// that is not loaded (the SDK's crt0 jumps to the top of PM), in which case the program
    /// entry at 0x8C, as the bootloader would.
    fn reset_pc_for(core: &Core) -> u32 {
        let insn = decode(core.pm_word(0));
        if insn.op == Op::Jmp && insn.imm != 0 && core.pm_word(insn.imm) == 0 {
            ENTRY_VECTOR
        } else {
            0
        }
    }

    fn report(&mut self, core: &Core, addr: u32, write: bool, width: Width, block: String) {
        self.report_as(core, addr, write, width, (block, None), false);
    }

    /// [`Ft900::report`] of an access to `block` (and the register the map declares there),
    /// saying that the access stops the run when `stops` (`--strict`).
    fn report_as(
        &mut self,
        core: &Core,
        addr: u32,
        write: bool,
        width: Width,
        (block, register): (String, Option<String>),
        stops: bool,
    ) {
        if !self.seen.insert((addr, write)) {
            return;
        }
        let outcome = match (stops, write) {
            (true, _) => "; stopped (--strict)",
            (false, true) => "; ignored",
            (false, false) => "; reads as 0",
        };
        let detail = register
            .as_ref()
            .map_or(String::new(), |r| format!(" [{r}]"));
        let _ = writeln!(
            self.diagnostics,
            "ft900: unmodelled {} of {:#07x} ({block}, {} bytes) at pc {:#010x}{}{detail}",
            if write { "write" } else { "read" },
            addr,
            width.bytes(),
            core.pc,
            outcome,
        );
        self.unmodelled.push(UnmodelledAccess {
            addr,
            write,
            bytes: width.bytes(),
            pc: core.pc,
            block,
            register,
        });
    }

    /// Reports an unmodelled access; in strict mode it becomes a fault.
    fn unmodelled(
        &mut self,
        core: &Core,
        addr: u32,
        write: bool,
        width: Width,
        block: String,
    ) -> Result<(), StopReason> {
        self.unmodelled_at(core, addr, write, width, block, None)
    }

    /// [`Ft900::unmodelled`] with the register the map declares there (or its absence).
    fn unmodelled_at(
        &mut self,
        core: &Core,
        addr: u32,
        write: bool,
        width: Width,
        block: String,
        register: Option<String>,
    ) -> Result<(), StopReason> {
        self.report_as(core, addr, write, width, (block, register), self.strict);
        if self.strict {
            let kind = if write {
                FaultKind::IoWrite { addr }
            } else {
                FaultKind::IoRead { addr }
            };
            return Err(StopReason::Fault(Fault { kind, pc: core.pc }));
        }
        Ok(())
    }

    /// What the register map says about an access the model did not take.
    fn register_at(&self, addr: u32, width: Width, write: bool) -> Option<String> {
        let block = regs::decode(addr, self.chip)?;
        regs::describe_offset(block, addr - block.base, width.bytes(), write, self.chip)
    }

    /// Clock-enable bit of a block, if it has one.
    fn clock_bit(block: Block) -> Option<u32> {
        match block {
            Block::Eth => Some(clk::MAC),
            Block::Uart(0) => Some(clk::UART0),
            Block::Uart(_) => Some(clk::UART1),
            Block::I2cm => Some(clk::I2CM),
            _ => None,
        }
    }

    /// Runs `f` on the device of `block` with a context at cycle `now`.
    fn with_device<R>(
        &mut self,
        block: Block,
        now: u64,
        f: impl FnOnce(&mut dyn Device, &mut Ctx) -> R,
    ) -> R {
        let (dev, source): (&mut dyn Device, Source) = match block {
            Block::Eth => (&mut self.eth, Source::Eth),
            Block::Rtc => (&mut self.rtc, Source::Rtc),
            Block::RtcCalendar => (&mut self.rtc_calendar, Source::Rtc),
            Block::Uart(0) => (&mut self.uart[0], Source::Uart0),
            Block::Uart(_) => (&mut self.uart[1], Source::Uart1),
            Block::Timers => (&mut self.timers, Source::Timers),
            Block::I2cm => (&mut self.i2cm, Source::I2cm),
            other => unreachable!("{other:?} is not a device"),
        };
        let mut ctx = Ctx {
            now,
            queue: &mut self.queue,
            source,
            sys: self.sys.view(),
        };
        f(dev, &mut ctx)
    }

    /// Resets every peripheral (MSC0CFG.PERI_SOFTRESET, chip reset). The RTC keeps counting:
    /// it lives in the always-on domain.
    fn reset_peripherals(&mut self, now: u64) {
        for block in [
            Block::Uart(0),
            Block::Uart(1),
            Block::Timers,
            Block::Eth,
            Block::I2cm,
        ] {
            self.with_device(block, now, |dev, ctx| {
                ctx.queue.cancel_all(ctx.source);
                dev.reset(ctx);
            });
        }
    }

    /// The whole chip resets (second watchdog expiry, rev C's global soft reset, the flash
    /// controller's reboot commands): CPU registers, interrupt controller, system registers
    /// and peripherals, and program memory is loaded from the flash again as at every boot.
    /// RAM keeps its contents, as on silicon.
    fn chip_reset(&mut self, core: &mut Core, by: &str) {
        self.chip_resets += 1;
        let _ = writeln!(
            self.diagnostics,
            "ft900: chip reset by {by} at cycle {} (pc {:#010x})",
            core.cycles, core.pc
        );
        self.flash.reset();
        self.queue.cancel_all(Source::Flash);
        self.flash.load_pm(core);
        self.pm_port = PmPort::default();
        core.regs = [0; 32];
        core.pc = self.reset_pc;
        self.sys.reset();
        // The pins go back to inputs: a trace shows the LEDs going dark.
        self.gpio.check(&self.sys, core.cycles, core.pc);
        self.intc.reset();
        self.queue.cancel_all(Source::Sys);
        self.reset_peripherals(core.cycles);
    }

    /// A read of the system block. On rev C the top byte of ETH_PHY_CFG (0x100A8) is the
    /// integrated PHY's status (link, LEDs), which the SDK reads there instead of over MDIO;
    /// on rev B those bits read as the register holds them.
    fn sys_read(&mut self, now: u64, offset: u32, width: Width) -> Access<u32> {
        let result = self.sys.read(offset, width);
        let word = offset & !3;
        if word != regs::sys::ETH_PHY_CFG || self.chip.is_rev_b() {
            return result;
        }
        let ctx = Ctx {
            now,
            queue: &mut self.queue,
            source: Source::Eth,
            sys: self.sys.view(),
        };
        let status = self.eth.phy_cfg_status(&ctx);
        let shift = (offset & 3) * 8;
        match result {
            Access::Done(v) => {
                let held = (v << shift) & !eth::PHY_CFG_STATUS_MASK;
                Access::Done(((held | status) >> shift) & width.mask())
            }
            Access::Unmodelled => Access::Unmodelled,
        }
    }

    fn sys_write(&mut self, core: &mut Core, offset: u32, width: Width, value: u32) -> Access<()> {
        let fx = match self.sys.write(offset, width, value) {
            Access::Done(fx) => fx,
            Access::Unmodelled => return Access::Unmodelled,
        };
        if fx.peripheral_reset {
            self.reset_peripherals(core.cycles);
        }
        if fx.global_reset {
            // At the next instruction boundary: the store itself completes first.
            self.queue
                .schedule(core.cycles, Source::Sys, SYS_GLOBAL_RESET);
        }
        let divider = self.sys.cpu_divider();
        if divider != 0 && offset & !3 == regs::sys::CLKCFG {
            let name = format!(
                "CLKCFG CPU clock divider {divider} (not modelled: the CPU keeps running at 100 MHz)"
            );
            let addr = regs::block("sys", self.chip).map_or(0, |b| b.base) + regs::sys::CLKCFG;
            if self.unmodelled(core, addr, true, width, name).is_err() {
                return Access::Unmodelled;
            }
        }
        if fx.phy_reset_started {
            let now = core.cycles;
            self.queue
                .schedule(now + PHY_RESET_CYCLES, Source::Sys, SYS_PHY_RESET_DONE);
            let mut ctx = Ctx {
                now,
                queue: &mut self.queue,
                source: Source::Eth,
                sys: self.sys.view(),
            };
            self.eth.phy_reset(&mut ctx);
        }
        if self.gpio.observing() {
            self.gpio.check(&self.sys, core.cycles, core.pc);
        }
        if fx.phy_cfg_written {
            // PHY power-up starts auto-negotiation at once, not at the next MAC access.
            let mut ctx = Ctx {
                now: core.cycles,
                queue: &mut self.queue,
                source: Source::Eth,
                sys: self.sys.view(),
            };
            self.eth.poll_link(&mut ctx);
        }
        Access::Done(())
    }
}

impl Ft900 {
    /// Reports what a flash-controller or PM-port write did when it was not plainly done.
    fn flash_outcome(
        &mut self,
        core: &Core,
        addr: u32,
        width: Width,
        outcome: FlashOutcome,
    ) -> Result<(), StopReason> {
        match outcome {
            FlashOutcome::Done => Ok(()),
            FlashOutcome::Unmodelled => {
                self.unmodelled(core, addr, true, width, "flash-controller".to_string())
            }
            FlashOutcome::BootloaderRefused { addr: at, what } => {
                let _ = writeln!(
                    self.diagnostics,
                    "ft900: {what} at pc {:#010x} reaches the bootloader area \
                     {BOOTLOADER_START:#x}..{:#x}: refused{}",
                    core.pc,
                    crate::core::PM_SIZE - 1,
                    if self.strict { " (--strict: stop)" } else { "" }
                );
                if self.strict {
                    return Err(StopReason::Fault(Fault {
                        kind: FaultKind::BootloaderWrite { addr: at },
                        pc: core.pc,
                    }));
                }
                Ok(())
            }
            FlashOutcome::OutOfRange(what) => {
                let _ = writeln!(self.diagnostics, "ft900: {what} (pc {:#010x})", core.pc);
                if self.strict {
                    return Err(StopReason::Fault(Fault {
                        kind: FaultKind::IoWrite { addr },
                        pc: core.pc,
                    }));
                }
                Ok(())
            }
        }
    }
}

impl Profile for Ft900 {
    const TIMED: bool = true;

    fn name(&self) -> &'static str {
        "ft900"
    }

    /// Power-on: registers zero, every block at its reset values, PC at the reset vector (or
    /// at the program entry 0x8C when the reset vector leads to a bootloader that is absent).
    fn reset(&mut self, core: &mut Core, _entry: u32) {
        core.regs = [0; 32];
        let area = core
            .pm()
            .get(BOOTLOADER_START as usize..)
            .unwrap_or_default();
        self.no_bootloader = area.iter().all(|&b| b == 0);
        if self.no_bootloader {
            core.limit_fetch(Some(BOOTLOADER_START));
        } else {
            core.limit_fetch(None);
            if !self.bootloader_reported {
                self.bootloader_reported = true;
                let _ = writeln!(
                    self.diagnostics,
                    "ft900: the image puts code into the bootloader area {BOOTLOADER_START:#x}..{:#x}: \
                     it runs as the bootloader (the reset and NMI vectors enter it); a vendor \
                     programmer keeps its own bootloader there",
                    crate::core::PM_SIZE - 1
                );
            }
        }
        self.reset_pc = Ft900::reset_pc_for(core);
        core.pc = self.reset_pc;
        // Power-on: the flash holds the image as programmed, program memory its copy.
        self.flash.program_image(core.pm());
        self.flash.reset();
        self.pm_port = PmPort::default();
        self.sys.power_on();
        self.gpio.sync(&self.sys);
        self.intc.reset();
        self.queue = EventQueue::new();
        self.reset_peripherals(core.cycles);
        let now = core.cycles;
        self.with_device(Block::Rtc, now, |dev, ctx| dev.reset(ctx));
        self.with_device(Block::RtcCalendar, now, |dev, ctx| dev.reset(ctx));
    }

    fn on_fetch_fault(&mut self, core: &mut Core) -> Result<(), FaultKind> {
        let pc = core.pc;
        if !(self.no_bootloader && (BOOTLOADER_START..crate::core::PM_SIZE).contains(&pc)) {
            return Err(FaultKind::FetchUnmapped);
        }
        if pc != BOOTLOADER_RESET_ENTRY || self.strict {
            return Err(FaultKind::BootloaderArea);
        }
        if !self.bootloader_reported {
            self.bootloader_reported = true;
            let _ = writeln!(
                self.diagnostics,
                "ft900: jump to the bootloader's reset entry {pc:#x} at cycle {}: no bootloader \
                 here, the program starts again at {ENTRY_VECTOR:#x} as the bootloader would \
                 (--strict stops instead)",
                core.cycles
            );
        }
        core.pc = ENTRY_VECTOR;
        Ok(())
    }

    fn io_read(&mut self, core: &mut Core, addr: u32, width: Width) -> Result<u32, StopReason> {
        let addr = addr & !(width.bytes() - 1);
        let (block, base) = decode_block(addr, self.chip);
        let offset = addr - base;
        let result = match block {
            Block::Sys => self.sys_read(core.cycles, offset, width),
            Block::Intc => self.intc.read(offset, width),
            Block::Exit | Block::Hole | Block::PmPort => Access::Unmodelled,
            Block::Flash => match width {
                Width::Byte => self
                    .flash
                    .read(offset)
                    .map_or(Access::Unmodelled, |v| Access::Done(v.into())),
                _ => Access::Unmodelled,
            },
            Block::NotModelled(name) => {
                self.unmodelled(core, addr, false, width, name.to_string())?;
                return Ok(0);
            }
            device => {
                if let Some(bit) = Ft900::clock_bit(device) {
                    if self.sys.view().clkcfg & bit == 0 {
                        let name = clock_off_name(device, bit);
                        self.report(core, addr, false, width, name);
                        return Ok(0);
                    }
                }
                self.with_device(device, core.cycles, |d, ctx| d.read(offset, width, ctx))
            }
        };
        match result {
            Access::Done(v) => Ok(v & width.mask()),
            Access::Unmodelled => {
                let name = block_name(block);
                let register = self.register_at(addr, width, false);
                self.unmodelled_at(core, addr, false, width, name, register)?;
                Ok(0)
            }
        }
    }

    fn io_write(
        &mut self,
        core: &mut Core,
        addr: u32,
        width: Width,
        value: u32,
    ) -> Result<(), StopReason> {
        let addr = addr & !(width.bytes() - 1);
        let value = value & width.mask();
        let (block, base) = decode_block(addr, self.chip);
        let offset = addr - base;
        let result = match block {
            Block::Exit => return Err(StopReason::Exited(core.regs[0])),
            Block::Sys => self.sys_write(core, offset, width, value),
            Block::Intc => self.intc.write(offset, width, value),
            Block::Hole => Access::Unmodelled,
            Block::Flash if width == Width::Byte => {
                let mut ctx = Ctx {
                    now: core.cycles,
                    queue: &mut self.queue,
                    source: Source::Flash,
                    sys: self.sys.view(),
                };
                let outcome = self.flash.write(offset, value as u8, core, &mut ctx);
                return self.flash_outcome(core, addr, width, outcome);
            }
            Block::PmPort if width == Width::Word => match self.pm_port.write(addr, value) {
                PortWrite::Done => Access::Done(()),
                PortWrite::Store { addr: at, word } => {
                    let outcome = self.flash.write_pm(core, at, &word.to_le_bytes());
                    return self.flash_outcome(core, addr, width, outcome);
                }
                PortWrite::Locked => {
                    let name = "pm-write-port (locked: write 0x1337f7d1 to 0x1fc80 first)";
                    return self.unmodelled(core, addr, true, width, name.to_string());
                }
                PortWrite::Unmodelled => Access::Unmodelled,
            },
            Block::Flash | Block::PmPort => Access::Unmodelled,
            Block::NotModelled(name) => {
                return self.unmodelled(core, addr, true, width, name.to_string());
            }
            device => {
                if let Some(bit) = Ft900::clock_bit(device) {
                    if self.sys.view().clkcfg & bit == 0 {
                        let name = clock_off_name(device, bit);
                        self.report(core, addr, true, width, name);
                        return Ok(());
                    }
                }
                self.with_device(device, core.cycles, |d, ctx| {
                    d.write(offset, width, value, ctx)
                })
            }
        };
        match result {
            Access::Done(()) => Ok(()),
            Access::Unmodelled => {
                let name = block_name(block);
                let register = self.register_at(addr, width, true);
                self.unmodelled_at(core, addr, true, width, name, register)
            }
        }
    }

    fn on_reti(&mut self, _core: &mut Core) {
        self.intc.end_of_interrupt();
    }

    fn inspect(&self) -> Option<&dyn crate::inspect::Inspect> {
        Some(self)
    }

    fn io_region(addr: u32) -> Option<(&'static str, u32)> {
        // Names for traces: the register the map declares there, else the block; both
        // revisions' registers and blocks are named.
        if let Some(hit) = regs::trace_name(addr) {
            return Some(hit);
        }
        let chip = match addr {
            0x1_0280..=0x1_029F => ChipRevision::Ft900RevB,
            _ => ChipRevision::Ft900RevC,
        };
        let (block, base) = decode_block(addr, chip);
        let name = match block {
            Block::Sys => "sys",
            Block::Intc => "intc",
            Block::Eth => "eth",
            Block::Rtc | Block::RtcCalendar => "rtc",
            Block::Uart(0) => "uart0",
            Block::Uart(_) => "uart1",
            Block::Timers => "timers",
            Block::I2cm => "i2cm",
            Block::Flash => "flash",
            Block::PmPort => "pm-write-port",
            Block::Exit => "exit",
            Block::NotModelled(name) => name,
            Block::Hole => return None,
        };
        Some((name, addr - base))
    }

    fn next_event(&self) -> u64 {
        self.queue.next_at()
    }

    fn advance(&mut self, core: &mut Core) {
        while let Some((at, source, token)) = self.queue.pop_due(core.cycles) {
            self.events_run += 1;
            match source {
                Source::Sys => {
                    if token == SYS_PHY_RESET_DONE {
                        self.sys.end_phy_reset();
                    } else if token == SYS_GLOBAL_RESET {
                        self.chip_reset(core, "RESET_STATUS.SOFT_RESET");
                    }
                }
                Source::Uart0 => self.with_device(Block::Uart(0), at, |d, c| d.event(token, c)),
                Source::Uart1 => self.with_device(Block::Uart(1), at, |d, c| d.event(token, c)),
                Source::Timers => {
                    self.with_device(Block::Timers, at, |d, c| d.event(token, c));
                    if self.timers.take_chip_reset() {
                        self.chip_reset(core, "the watchdog");
                        self.timers.note_watchdog_reset();
                    }
                }
                Source::Rtc => {
                    let block = self.rtc_block();
                    self.with_device(block, at, |d, c| d.event(token, c))
                }
                Source::Eth => self.with_device(Block::Eth, at, |d, c| d.event(token, c)),
                Source::I2cm => self.with_device(Block::I2cm, at, |d, c| d.event(token, c)),
                Source::Flash => {
                    self.flash.event(token);
                    if self.flash.take_reboot() {
                        self.chip_reset(core, "the flash controller's reboot command");
                    }
                }
            }
        }
    }

    fn take_interrupt(&mut self, _core: &mut Core) -> Option<u32> {
        let msc0cfg = self.sys.view().msc0cfg;
        let mut lines = 0u32;
        if self.eth.irq() {
            lines |= 1 << 3;
        }
        if self.i2cm.irq() {
            lines |= 1 << 11;
        }
        if self.uart[0].irq() && msc0cfg & msc0::UART0_INTSEL != 0 {
            lines |= 1 << 13;
        }
        if self.uart[1].irq() && msc0cfg & msc0::UART1_INTSEL != 0 {
            lines |= 1 << 14;
        }
        if self.timers.irq() {
            lines |= 1 << 17;
        }
        if self.sys.gpio_irq() {
            lines |= 1 << 18;
        }
        if self.rtc.irq() || self.rtc_calendar.irq() {
            lines |= 1 << 19;
        }
        self.intc.select(lines, self.timers.watchdog_request())
    }
}

fn block_name(block: Block) -> String {
    match block {
        Block::Sys => "system registers".into(),
        Block::Intc => "interrupt controller".into(),
        Block::Eth => "eth".into(),
        Block::Rtc | Block::RtcCalendar => "rtc".into(),
        Block::Uart(i) => format!("uart{i}"),
        Block::Timers => "timers".into(),
        Block::I2cm => "i2c-master".into(),
        Block::Flash => "flash-controller".into(),
        Block::PmPort => "pm-write-port".into(),
        Block::Exit => "exit port (write only)".into(),
        Block::NotModelled(name) => name.into(),
        Block::Hole => "no peripheral here".into(),
    }
}

fn clock_off_name(block: Block, bit: u32) -> String {
    format!(
        "{} with its clock off: CLKCFG bit {} is 0",
        block_name(block),
        bit.trailing_zeros()
    )
}

/// Converts CPU cycles to virtual nanoseconds.
pub fn cycles_to_ns(cycles: u64) -> u64 {
    cycles * NS_PER_CYCLE
}
