//! The FT900's register map as data: one declarative description per block (name, base address
//! per chip revision, and per register its name, offset, width, reset value, access, fields and
//! the revisions that have it). Everything else derives from it: the SoC's address decoding
//! ([`decode`]), the blocks' register offsets (the constants of each block's module, e.g.
//! [`timers::CONTROL_0`]), `monitor io`'s names, trace names, the names in reports of accesses
//! that hit no model ([`describe_offset`]), and the firmware's C headers ([`c_header`]).
//!
//! Adding a register to a block is one line in its `registers!` list in [`blocks`]; the format
//! is described in `docs/hardware/registers.md`. Facts come from AN_324 and the vendor SDK's
//! register headers as distilled in `docs/hardware/*.md`, which win where the sources disagree.

mod blocks;
mod c_header;
mod check;
mod names;

pub use self::blocks::*;
pub use self::c_header::{c_header, c_ident, C_HEADER_PATH};
pub use self::check::validate;
pub use self::names::{describe_offset, trace_name};

use super::chip::ChipRevision;

/// How the CPU may access a register (or a field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read and write; a read returns what was written (within the implemented bits).
    ReadWrite,
    /// Read only; writes are ignored.
    ReadOnly,
    /// Write only; reads return 0.
    WriteOnly,
    /// Read; writing 1 to a bit clears it.
    WriteOneToClear,
    /// A read returns the value and clears it (an end-of-interrupt or sticky status).
    ReadClears,
    /// A read latches a counter (the companion byte then reads the same instant).
    ReadLatches,
    /// A data port: a read pops a FIFO, a write pushes one.
    Port,
    /// Test-and-set semaphore: a read returns the old value and takes it; writing 1 frees it.
    TestAndSet,
    /// Declared so that the address is known and named, but not modelled: accesses are reported.
    Unmodelled,
}

impl Access {
    /// Short name, as the docs and the C header comments write it.
    pub fn abbrev(self) -> &'static str {
        match self {
            Access::ReadWrite => "RW",
            Access::ReadOnly => "RO",
            Access::WriteOnly => "WO",
            Access::WriteOneToClear => "W1C",
            Access::ReadClears => "RC",
            Access::ReadLatches => "latched on read",
            Access::Port => "FIFO port",
            Access::TestAndSet => "test-and-set",
            Access::Unmodelled => "not modelled",
        }
    }
}

/// Which chip revisions have a register or a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revs {
    /// Every revision.
    All,
    /// Rev B only.
    RevB,
    /// Rev C only.
    RevC,
}

impl Revs {
    /// `true` when `chip` has it.
    pub fn includes(self, chip: ChipRevision) -> bool {
        match self {
            Revs::All => true,
            Revs::RevB => chip.is_rev_b(),
            Revs::RevC => !chip.is_rev_b(),
        }
    }

    /// Text for listings ("" for every revision).
    pub fn note(self) -> &'static str {
        match self {
            Revs::All => "",
            Revs::RevB => "rev B only",
            Revs::RevC => "rev C only",
        }
    }
}

/// A register's value after power-on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {
    /// The same on every revision.
    Value(u32),
    /// Differs between the revisions (the identification register).
    PerRev {
        /// On rev B.
        rev_b: u32,
        /// On rev C.
        rev_c: u32,
    },
    /// Depends on the world outside the block (the calendar at power-on, the pins); why.
    Varies(&'static str),
}

impl Reset {
    /// The reset value on `chip`, `None` when it depends on the outside.
    pub fn on(self, chip: ChipRevision) -> Option<u32> {
        match self {
            Reset::Value(v) => Some(v),
            Reset::PerRev { rev_b, rev_c } => Some(if chip.is_rev_b() { rev_b } else { rev_c }),
            Reset::Varies(_) => None,
        }
    }
}

/// Which view of a shared offset a register is (the UART's banked registers); every other
/// block's registers are [`Bank::Always`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bank {
    /// Always reached at its offset.
    Always,
    /// Reached by reads (LCR[7] = 0 and not the 650 set, for the UART).
    Read,
    /// Reached by writes (LCR[7] = 0 and not the 650 set).
    Write,
    /// Reached while LCR[7] = 1 (divisor latch).
    Dlab,
    /// Reached while LCR = 0xBF (the 650 register set).
    Enhanced,
    /// Read while ACR[7] = 1 (additional status).
    Status,
    /// Indexed control register: `offset` is the index written to SPR, the value goes through
    /// ICR (offset 5); reads need ACR[6].
    Indexed,
}

/// A bit field of a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Name without the register's prefix, e.g. `BLOCK_EN`.
    pub name: &'static str,
    /// Lowest bit.
    pub lo: u8,
    /// Highest bit (= `lo` for a one-bit field).
    pub hi: u8,
    /// How the field's bits behave when it differs from the register's access (a read-only
    /// status bit in a write-1-to-clear register); `None`: as the register.
    pub access: Option<Access>,
    /// The revisions that have the field.
    pub revs: Revs,
}

impl Field {
    /// The field's bits in the register.
    pub fn mask(&self) -> u32 {
        let width = u32::from(self.hi - self.lo) + 1;
        let ones = if width >= 32 {
            u32::MAX
        } else {
            (1 << width) - 1
        };
        ones << self.lo
    }
}

/// One register (or an array of equal registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg {
    /// Name as `monitor io`, traces and reports show it, e.g. `TIMER_CONTROL_0`, `LCR`.
    pub name: &'static str,
    /// Byte offset from the block's base (for [`Bank::Indexed`]: the index).
    pub offset: u32,
    /// Width in bytes: 1, 2 or 4.
    pub bytes: u8,
    /// Number of consecutive registers of this kind (1, or an array such as the pad bytes).
    pub count: u16,
    /// Value after power-on.
    pub reset: Reset,
    /// What an access does.
    pub access: Access,
    /// Which view of a shared offset this is.
    pub bank: Bank,
    /// The revisions that have it.
    pub revs: Revs,
    /// Bit fields.
    pub fields: &'static [Field],
}

impl Reg {
    /// Bytes the register (array) covers from its offset.
    pub fn span(&self) -> u32 {
        u32::from(self.bytes) * u32::from(self.count)
    }

    /// `true` when byte `offset` lies inside this register (array) and the view is direct.
    pub fn covers(&self, offset: u32) -> bool {
        self.bank != Bank::Indexed && (self.offset..self.offset + self.span()).contains(&offset)
    }
}

/// What the SoC does with a block's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// System registers.
    Sys,
    /// Interrupt controller.
    Intc,
    /// Ethernet MAC.
    Eth,
    /// Rev B's counter RTC.
    Rtc,
    /// Rev C's calendar RTC.
    RtcCalendar,
    /// UART n.
    Uart(usize),
    /// Timers and watchdog.
    Timers,
    /// I2C master.
    I2cm,
    /// Flash controller.
    Flash,
    /// The program-memory write port.
    PmPort,
    /// The simulator's exit port.
    Exit,
    /// A block of the chip that is not simulated: its accesses are reported.
    NotModelled,
}

/// One block of the map: where it is, on which revisions, and its registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Name in `monitor io`, traces and reports, e.g. `uart0`, `usb-host`.
    pub name: &'static str,
    /// Base address in data space.
    pub base: u32,
    /// Bytes of address space it decodes.
    pub size: u32,
    /// Revisions on which the block is at this address.
    pub revs: Revs,
    /// What the SoC does with it.
    pub unit: Unit,
    /// Its registers, in address order (empty for blocks that are not modelled).
    pub regs: &'static [Reg],
    /// Name of the base-address macro in the C header, e.g. `UART0_BASE` ("" for none).
    pub c_base: &'static str,
    /// How the C header names the registers: `(strip, add)` replaces the prefix `strip` of a
    /// register's name by `add` (the calendar RTC's `RTC_TIME` is the HAL's `RTCC_TIME`).
    pub c_rename: (&'static str, &'static str),
}

impl Block {
    /// The register `name`.
    pub fn reg(&self, name: &str) -> Option<&'static Reg> {
        self.regs.iter().find(|r| r.name == name)
    }

    /// `true` when `addr` is inside the block.
    pub fn contains(&self, addr: u32) -> bool {
        (self.base..self.base + self.size).contains(&addr)
    }

    /// The registers `chip` has, in address order.
    pub fn regs_on(&self, chip: ChipRevision) -> impl Iterator<Item = &'static Reg> {
        self.regs.iter().filter(move |r| r.revs.includes(chip))
    }
}

/// The number of registers in the array declared at `offset` of `regs` (1 for a plain
/// register, 0 when none is declared there): for sizing a model's arrays from the table.
pub const fn count_at(regs: &[Reg], offset: u32) -> u16 {
    let mut i = 0;
    while i < regs.len() {
        if regs[i].offset == offset && !matches!(regs[i].bank, Bank::Indexed) {
            return regs[i].count;
        }
        i += 1;
    }
    0
}

/// The bits of the register at `offset` of `regs` whose fields are declared with `access`:
/// for a model's masks (PMCFG's write-1-to-clear interrupt bits).
pub const fn fields_with(regs: &[Reg], offset: u32, access: Access) -> u32 {
    let mut i = 0;
    while i < regs.len() {
        if regs[i].offset == offset && !matches!(regs[i].bank, Bank::Indexed) {
            let mut mask = 0;
            let mut f = 0;
            while f < regs[i].fields.len() {
                let field = &regs[i].fields[f];
                if let Some(a) = field.access {
                    if a as u8 == access as u8 {
                        let width = (field.hi - field.lo) as u32 + 1;
                        let ones = if width >= 32 {
                            u32::MAX
                        } else {
                            (1 << width) - 1
                        };
                        mask |= ones << field.lo;
                    }
                }
                f += 1;
            }
            return mask;
        }
        i += 1;
    }
    0
}

/// The bits of field `name` of the register at `offset` of `regs` (0 when not declared).
pub const fn field_mask(regs: &[Reg], offset: u32, name: &str) -> u32 {
    let mut i = 0;
    while i < regs.len() {
        if regs[i].offset == offset && !matches!(regs[i].bank, Bank::Indexed) {
            let mut f = 0;
            while f < regs[i].fields.len() {
                let field = &regs[i].fields[f];
                if const_str_eq(field.name, name) {
                    let width = (field.hi - field.lo) as u32 + 1;
                    let ones = if width >= 32 {
                        u32::MAX
                    } else {
                        (1 << width) - 1
                    };
                    return ones << field.lo;
                }
                f += 1;
            }
        }
        i += 1;
    }
    0
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The reset value of the register at `offset` of `regs` on rev B (`rev_b`) or rev C, for a
/// model's power-on state (0 when none is declared there or it depends on the outside).
pub const fn reset_at(regs: &[Reg], offset: u32, rev_b: bool) -> u32 {
    let mut i = 0;
    while i < regs.len() {
        if regs[i].offset == offset && !matches!(regs[i].bank, Bank::Indexed) {
            return match regs[i].reset {
                Reset::Value(v) => v,
                Reset::PerRev { rev_b: b, rev_c: c } => {
                    if rev_b {
                        b
                    } else {
                        c
                    }
                }
                Reset::Varies(_) => 0,
            };
        }
        i += 1;
    }
    0
}

/// The block at `addr` on `chip`: the first entry of [`MAP`] that contains it.
pub fn decode(addr: u32, chip: ChipRevision) -> Option<&'static Block> {
    MAP.iter()
        .find(|b| b.contains(addr) && b.revs.includes(chip))
}

/// The block called `name` that `chip` has (`rtc` is the RTC of that revision).
pub fn block(name: &str, chip: ChipRevision) -> Option<&'static Block> {
    MAP.iter()
        .find(|b| b.name == name && b.revs.includes(chip))
        .or_else(|| match name {
            "rtc" if !chip.is_rev_b() => block("rtc-calendar", chip),
            _ => None,
        })
}

/// Declares a block's registers, one line each:
///
/// `ID "NAME" @ OFFSET BYTES RESET [x COUNT], ACCESS [in BANK] [if REVS] [FIELD HI[:LO] [FACCESS] [@ REVS], ...];`
///
/// `RESET` is a literal, `(B value C value)` for a per-revision value, or `(varies "why")`.
/// It defines `pub const ID: u32 = OFFSET` (what the model's decoding matches on) and `REGS`,
/// the block's [`Reg`] list.
macro_rules! registers {
    ($(
        $(#[doc = $doc:literal])*
        $id:ident $name:literal @ $off:literal $bytes:literal $reset:tt $(x $count:literal)?,
        $access:ident $(in $bank:ident)? $(if $revs:ident)?
        [$($field:ident $hi:literal $(: $lo:literal)? $($facc:ident)? $(@ $frevs:ident)?),* $(,)?];
    )*) => {
        $( $(#[doc = $doc])* pub const $id: u32 = $off; )*
        /// Every register of the block, in address order.
        pub const REGS: &[Reg] = &[$(
            Reg {
                name: $name,
                offset: $off,
                bytes: $bytes,
                count: registers!(@count $($count)?),
                reset: registers!(@reset $reset),
                access: Access::$access,
                bank: registers!(@bank $($bank)?),
                revs: registers!(@revs $($revs)?),
                fields: &[$(Field {
                    name: stringify!($field),
                    lo: registers!(@lo $hi $($lo)?),
                    hi: $hi,
                    access: registers!(@facc $($facc)?),
                    revs: registers!(@revs $($frevs)?),
                }),*],
            },
        )*];
    };
    (@count) => { 1 };
    (@count $n:literal) => { $n };
    (@reset (B $b:literal C $c:literal)) => { Reset::PerRev { rev_b: $b, rev_c: $c } };
    (@reset (varies $why:literal)) => { Reset::Varies($why) };
    (@reset $v:literal) => { Reset::Value($v) };
    (@bank) => { Bank::Always };
    (@bank $b:ident) => { Bank::$b };
    (@revs) => { Revs::All };
    (@revs $r:ident) => { Revs::$r };
    (@facc) => { None };
    (@facc $a:ident) => { Some(Access::$a) };
    (@lo $hi:literal) => { $hi };
    (@lo $hi:literal $lo:literal) => { $lo };
}
pub(crate) use registers;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_consistent() {
        if let Err(problems) = validate() {
            panic!("{}", problems.join("\n"));
        }
    }

    #[test]
    fn field_accesses_give_masks() {
        assert_eq!(
            fields_with(sys::REGS, sys::PMCFG, Access::WriteOneToClear),
            0x03FF_0000
        );
        assert_eq!(
            fields_with(eth::REGS, eth::INT_STATUS, Access::ReadOnly),
            0x01
        );
        assert_eq!(fields_with(eth::REGS, eth::INT_ENABLE, Access::ReadOnly), 0);
        assert_eq!(field_mask(sys::REGS, sys::CLKCFG, "CPU_DIV"), 0xF << 16);
        assert_eq!(field_mask(sys::REGS, sys::CLKCFG, "NONE"), 0);
        let c4 = timers::REGS
            .iter()
            .find(|r| r.offset == timers::CONTROL_4)
            .unwrap();
        let on = |chip| {
            c4.fields
                .iter()
                .filter(move |f| f.revs.includes(chip))
                .map(|f| f.mask())
        };
        assert_eq!(on(ChipRevision::Ft900RevB).fold(0, |a, m| a | m), 0x1F);
        assert_eq!(on(ChipRevision::Ft900RevC).fold(0, |a, m| a | m), 0xFF);
    }

    #[test]
    fn decoding_follows_the_revision() {
        let b = ChipRevision::Ft900RevB;
        let c = ChipRevision::Ft900RevC;
        assert_eq!(decode(0x1_0280, b).unwrap().unit, Unit::Rtc);
        assert_eq!(decode(0x1_0280, c).unwrap().unit, Unit::NotModelled);
        assert_eq!(decode(0x1_0904, c).unwrap().unit, Unit::RtcCalendar);
        assert_eq!(decode(0x1_00B1, c).unwrap().name, "adc-dac");
        assert_eq!(decode(0x1_0325, c).unwrap().unit, Unit::Uart(0));
        assert!(decode(0x1_5000, c).is_none());
        assert_eq!(block("rtc", c).unwrap().name, "rtc-calendar");
        assert_eq!(block("rtc", b).unwrap().base, 0x1_0280);
    }

    #[test]
    fn traces_name_the_register() {
        assert_eq!(trace_name(0x1_0345), Some(("TIMER_INT", 0)));
        assert_eq!(trace_name(0x1_0325), Some(("uart0.LSR/ICR", 0)));
        assert_eq!(trace_name(0x1_0330), Some(("uart1.RBR/THR", 0)));
        assert_eq!(trace_name(0x1_001F), Some(("PADCFG[3]", 0)));
        assert_eq!(trace_name(0x1_00AA), Some(("ETH_PHY_CFG", 2)));
        assert_eq!(trace_name(0x1_034E), None);
    }

    #[test]
    fn reports_name_the_register() {
        let c = ChipRevision::Ft900RevC;
        let t = block("timers", c).unwrap();
        assert_eq!(
            describe_offset(t, 0xF, 1, false, ChipRevision::Ft900RevB).unwrap(),
            "TIMER_WDG_STATUS: rev C only, not on ft900-revb"
        );
        assert_eq!(
            describe_offset(t, 0xE, 1, false, c).unwrap(),
            "no register at offset 0xe"
        );
        let f = block("flash", c).unwrap();
        assert_eq!(
            describe_offset(f, 0x0E, 1, true, c).unwrap(),
            "CRCL: not modelled"
        );
        let e = block("eth", c).unwrap();
        assert_eq!(
            describe_offset(e, 0x04, 1, false, c).unwrap(),
            "ETH_DATA: a 1-byte access to a 4-byte port"
        );
    }
}
