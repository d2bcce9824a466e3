//! System / general-setup registers, 0x10000–0x100BF (AN_324 §5; docs/hardware/system.md): chip
//! identification, clock enables, power management, semaphores, misc control, pads, GPIO and
//! the Ethernet PHY's configuration. 8, 16 and 32-bit accesses.
//!
//! Revision differences (`docs/hardware/revisions.md`): CLKCFG[19:16] is the CPU clock divider
//! on rev C (held, read back, and reported by the profile: the CPU keeps running at 100 MHz) and
//! reserved on rev B (reads 0, writes ignored: the SDK never writes it there, its comment says
//! it halts the CPU). The global reset/status register RESET_STATUS at 0x100BC exists on rev C
//! only: bit 0 HW_RESET (set by power-on, write 1 to clear), bit 1 SOFT_RESET (write 1: the
//! whole chip resets to its power-on state and the bit then reads 1; write 0 to clear it).

use super::device::{Access, SysView};
use super::regs;
use crate::isa::Width;

pub use super::chip::{HIPID_FT900_REV_B, HIPID_FT900_REV_C};
/// EFCFG of an FT900Q: CAN, MAC, 100-pin, flash readable everywhere.
pub const EFCFG_FT900Q: u32 = regs::reset_at(regs::sys::REGS, regs::sys::EFCFG, false);

/// CLKCFG bit of each clocked peripheral (AN_324 §5.2.3).
pub mod clk {
    /// Ethernet MAC.
    pub const MAC: u32 = 1 << 13;
    /// UART0.
    pub const UART0: u32 = 1 << 4;
    /// UART1.
    pub const UART1: u32 = 1 << 3;
    /// I2C master.
    pub const I2CM: u32 = 1 << 9;
}

/// CLKCFG's CPU clock divider field (rev C).
pub const CLKCFG_CPU_DIV_MASK: u32 =
    regs::field_mask(regs::sys::REGS, regs::sys::CLKCFG, "CPU_DIV");

/// RESET_STATUS (0x100BC, rev C) bits.
pub mod rst {
    /// An external (power-on) reset happened; write 1 to clear.
    pub const HW_RESET: u8 = 1 << 0;
    /// Write 1: global soft reset; reads 1 afterwards until 0 is written.
    pub const SOFT_RESET: u8 = 1 << 1;
}

/// MSC0CFG bits with an effect in the model (docs/hardware/system.md §6).
pub mod msc0 {
    /// Swap the I2C master's and slave's pads: the master drives channel 1 (GPIO46/47).
    pub const I2C_SWOP: u32 = 1 << 29;
    /// Write 1: reset all peripherals (self-clearing).
    pub const PERI_SOFTRESET: u32 = 1 << 31;
    /// Route UART0's interrupt to IRQ 13.
    pub const UART0_INTSEL: u32 = 1 << 19;
    /// UART0 128-byte FIFOs.
    pub const UART0_FIFOSEL: u32 = 1 << 20;
    /// Route UART1's interrupt to IRQ 14.
    pub const UART1_INTSEL: u32 = 1 << 16;
    /// UART1 128-byte FIFOs.
    pub const UART1_FIFOSEL: u32 = 1 << 17;
    /// Write 1: reset the Ethernet PHY; cleared by hardware when the reset is over.
    pub const MAC_RESET_PHY: u32 = 1 << 8;
    /// Bits that read back as 0 right after being written (pulses).
    pub const SELF_CLEARING: u32 = (1 << 31)
        | (1 << 30)
        | (1 << 15)
        | (1 << 14)
        | (1 << 13)
        | (1 << 11)
        | (1 << 10)
        | (1 << 9);
}

/// How long the PHY reset pulse of MSC0CFG bit 8 lasts before the bit clears itself (cycles).
/// The SDK polls the bit, so any short time works; 10 µs.
pub const PHY_RESET_CYCLES: u64 = 1_000;

/// PMCFG's interrupt-pending bits, write 1 to clear.
const PMCFG_RW1C: u32 = regs::fields_with(
    regs::sys::REGS,
    regs::sys::PMCFG,
    regs::Access::WriteOneToClear,
);
const PAD_FIRST: u32 = regs::sys::PADCFG;
const PAD_COUNT: u32 = regs::count_at(regs::sys::REGS, PAD_FIRST) as u32;
/// Last byte of the pad array's word-aligned range (the GPIO configuration starts after it).
const PAD_LAST: u32 = GPIO_CFG_FIRST - 1;
const GPIO_CFG_FIRST: u32 = regs::sys::GPIO_CFG;
const GPIO_CFG_END: u32 = GPIO_CFG_FIRST + regs::count_at(regs::sys::REGS, GPIO_CFG_FIRST) as u32;

/// What a write asked the rest of the chip to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SysEffects {
    /// MSC0CFG.PERI_SOFTRESET was written with 1.
    pub peripheral_reset: bool,
    /// MSC0CFG.MAC_RESET_PHY went from 0 to 1: the PHY is held in reset until the bit clears.
    pub phy_reset_started: bool,
    /// ETH_PHY_CFG was written (PHY power, address, loopback may have changed).
    pub phy_cfg_written: bool,
    /// Rev C: RESET_STATUS.SOFT_RESET was written with 1: the whole chip resets.
    pub global_reset: bool,
}

/// The general-setup register block.
pub struct Sys {
    hipid: u32,
    rev_b: bool,
    /// RESET_STATUS (rev C); survives chip resets.
    reset_status: u8,
    efcfg: u32,
    clkcfg: u32,
    pmcfg: u32,
    tstnset: [u32; 2],
    msc0cfg: u32,
    pads: [u8; PAD_COUNT as usize],
    gpio_cfg: [u8; (GPIO_CFG_END - GPIO_CFG_FIRST) as usize],
    gpio_value: [u32; 3],
    gpio_int_enable: [u32; 3],
    gpio_int_pending: [u32; 3],
    eth_phy_cfg: u32,
    eth_phy_id: u32,
}

impl Sys {
    /// The block after power-on for a chip with this HIPID.
    pub fn new(hipid: u32) -> Sys {
        let mut pads = [0x04; PAD_COUNT as usize];
        pads[..3].fill(0x08);
        let id = hipid | 0x000F_0000;
        Sys {
            hipid,
            rev_b: id == 0x090F_0000 || id == 0x090F_0001,
            reset_status: rst::HW_RESET,
            efcfg: EFCFG_FT900Q,
            clkcfg: 0,
            pmcfg: 0,
            tstnset: [0; 2],
            msc0cfg: 0,
            pads,
            gpio_cfg: [0; (GPIO_CFG_END - GPIO_CFG_FIRST) as usize],
            gpio_value: [0; 3],
            gpio_int_enable: [0; 3],
            gpio_int_pending: [0; 3],
            // The register's own bits; rev C's status byte is added by the profile on reads.
            eth_phy_cfg: regs::reset_at(regs::sys::REGS, regs::sys::ETH_PHY_CFG, true),
            eth_phy_id: 0,
        }
    }

    /// Power-on values (the HIPID is kept; RESET_STATUS too, it says what reset happened).
    pub fn reset(&mut self) {
        let status = self.reset_status;
        *self = Sys::new(self.hipid);
        self.reset_status = status;
    }

    /// Power-on: RESET_STATUS reads HW_RESET only.
    pub fn power_on(&mut self) {
        *self = Sys::new(self.hipid);
    }

    /// The CPU clock divider setting CLKCFG[19:16] (always 0 on rev B).
    pub fn cpu_divider(&self) -> u32 {
        (self.clkcfg & CLKCFG_CPU_DIV_MASK) >> 16
    }

    /// The registers other blocks depend on.
    pub fn view(&self) -> SysView {
        SysView {
            clkcfg: self.clkcfg,
            msc0cfg: self.msc0cfg,
            eth_phy_cfg: self.eth_phy_cfg,
            eth_phy_id: self.eth_phy_id,
        }
    }

    /// The PHY reset pulse is over: MSC0CFG bit 8 reads 0 again.
    pub fn end_phy_reset(&mut self) {
        self.msc0cfg &= !msc0::MAC_RESET_PHY;
    }

    /// Pin `n`'s pad byte (function, drive, pull), its GPIO configuration nibble (direction,
    /// interrupt) and its value bit, read without side effects; `None` past the last pin.
    pub fn pin(&self, n: usize) -> Option<(u8, u8, bool)> {
        let pad = *self.pads.get(n)?;
        let cfg = self
            .gpio_cfg
            .get(n / 2)
            .map_or(0, |b| (b >> (4 * (n % 2))) & 0xF);
        let value = self.gpio_value[n / 32] >> (n % 32) & 1 != 0;
        Some((pad, cfg, value))
    }

    /// Level of the GPIO interrupt request (IRQ 18).
    pub fn gpio_irq(&self) -> bool {
        (0..3).any(|i| self.gpio_int_pending[i] & self.gpio_int_enable[i] != 0)
    }

    /// The 32-bit registers of the description ([`regs::sys::REGS`]), read without side
    /// effects (a read of PTSTNSET through `read` takes the semaphore; this does not): (name,
    /// offset from the block's base, value). The pad and GPIO-configuration arrays are left
    /// out.
    pub fn registers(&self) -> Vec<(&'static str, u32, u32)> {
        regs::sys::REGS
            .iter()
            .filter(|r| r.count == 1)
            .filter_map(|r| self.peek(r.offset).map(|v| (r.name, r.offset, v)))
            .collect()
    }

    /// The 32-bit register at `offset` (a name of [`regs::sys`]), read without side effects;
    /// `None` for the byte arrays and offsets with no register on this revision.
    pub fn peek(&self, offset: u32) -> Option<u32> {
        Some(match offset {
            regs::sys::HIPID => self.hipid,
            regs::sys::EFCFG => self.efcfg,
            regs::sys::CLKCFG => self.clkcfg,
            regs::sys::PMCFG => self.pmcfg,
            regs::sys::PTSTNSET => self.tstnset[0],
            regs::sys::PTSTNSETR => self.tstnset[1],
            regs::sys::MSC0CFG => self.msc0cfg,
            regs::sys::GPIO_VALUE0..=regs::sys::GPIO_VALUE2 => {
                self.gpio_value[((offset - regs::sys::GPIO_VALUE0) / 4) as usize]
            }
            regs::sys::GPIO_INT_ENABLE0..=regs::sys::GPIO_INT_ENABLE2 => {
                self.gpio_int_enable[((offset - regs::sys::GPIO_INT_ENABLE0) / 4) as usize]
            }
            regs::sys::GPIO_INT_PENDING0..=regs::sys::GPIO_INT_PENDING2 => {
                self.gpio_int_pending[((offset - regs::sys::GPIO_INT_PENDING0) / 4) as usize]
            }
            regs::sys::ETH_PHY_CFG => self.eth_phy_cfg,
            regs::sys::ETH_PHY_ID => self.eth_phy_id,
            regs::sys::RESET_STATUS if !self.rev_b => self.reset_status.into(),
            _ => return None,
        })
    }

    /// Reads a register; `offset` is relative to 0x10000 and aligned to `width`.
    pub fn read(&mut self, offset: u32, width: Width) -> Access<u32> {
        let word_off = offset & !3;
        let shift = (offset & 3) * 8;
        let word = match word_off {
            regs::sys::HIPID => self.hipid,
            regs::sys::EFCFG => self.efcfg,
            regs::sys::CLKCFG => self.clkcfg,
            regs::sys::PMCFG => self.pmcfg,
            regs::sys::PTSTNSET | regs::sys::PTSTNSETR => {
                // Test-and-set: a read that covers bit 0 returns the old value and takes the
                // semaphore.
                let i = ((word_off - regs::sys::PTSTNSET) / 4) as usize;
                let old = self.tstnset[i];
                if shift == 0 {
                    self.tstnset[i] |= 1;
                }
                old
            }
            regs::sys::MSC0CFG => self.msc0cfg,
            PAD_FIRST..=PAD_LAST => {
                return Access::Done(self.read_byte_array(offset, width, |s, o| {
                    let pin = o - PAD_FIRST;
                    s.pads.get(pin as usize).copied().unwrap_or(0)
                }))
            }
            GPIO_CFG_FIRST..GPIO_CFG_END => {
                return Access::Done(self.read_byte_array(offset, width, |s, o| {
                    s.gpio_cfg[(o - GPIO_CFG_FIRST) as usize]
                }))
            }
            regs::sys::GPIO_VALUE0..=regs::sys::GPIO_VALUE2 => {
                self.gpio_value[((word_off - regs::sys::GPIO_VALUE0) / 4) as usize]
            }
            regs::sys::GPIO_INT_ENABLE0..=regs::sys::GPIO_INT_ENABLE2 => {
                self.gpio_int_enable[((word_off - regs::sys::GPIO_INT_ENABLE0) / 4) as usize]
            }
            regs::sys::GPIO_INT_PENDING0..=regs::sys::GPIO_INT_PENDING2 => {
                self.gpio_int_pending[((word_off - regs::sys::GPIO_INT_PENDING0) / 4) as usize]
            }
            regs::sys::ETH_PHY_CFG => self.eth_phy_cfg,
            regs::sys::ETH_PHY_ID => self.eth_phy_id,
            regs::sys::RESET_STATUS if !self.rev_b => self.reset_status as u32,
            _ => return Access::Unmodelled,
        };
        Access::Done((word >> shift) & width.mask())
    }

    fn read_byte_array(&self, offset: u32, width: Width, byte: impl Fn(&Sys, u32) -> u8) -> u32 {
        (0..width.bytes()).fold(0, |v, i| v | (byte(self, offset + i) as u32) << (8 * i))
    }

    /// Writes a register; returns what the write asks of the rest of the chip.
    pub fn write(&mut self, offset: u32, width: Width, value: u32) -> Access<SysEffects> {
        let word_off = offset & !3;
        let shift = (offset & 3) * 8;
        let mask = width.mask() << shift;
        let val = (value << shift) & mask;
        let merge = |old: u32| (old & !mask) | val;
        let mut fx = SysEffects::default();
        match word_off {
            regs::sys::HIPID | regs::sys::EFCFG => {} // read-only identification
            regs::sys::CLKCFG => {
                self.clkcfg = merge(self.clkcfg);
                if self.rev_b {
                    self.clkcfg &= !CLKCFG_CPU_DIV_MASK;
                }
            }
            regs::sys::PMCFG => {
                let cleared = val & PMCFG_RW1C;
                self.pmcfg = (merge(self.pmcfg) & !PMCFG_RW1C) | (self.pmcfg & PMCFG_RW1C);
                self.pmcfg &= !cleared;
            }
            regs::sys::PTSTNSET | regs::sys::PTSTNSETR => {
                // Writing 1 releases the semaphore.
                let i = ((word_off - regs::sys::PTSTNSET) / 4) as usize;
                if mask & 1 != 0 && val & 1 != 0 {
                    self.tstnset[i] = 0;
                }
            }
            regs::sys::MSC0CFG => {
                let old = self.msc0cfg;
                let new = merge(old);
                fx.peripheral_reset = val & msc0::PERI_SOFTRESET != 0;
                fx.phy_reset_started =
                    new & msc0::MAC_RESET_PHY != 0 && old & msc0::MAC_RESET_PHY == 0;
                self.msc0cfg = new & !msc0::SELF_CLEARING;
            }
            PAD_FIRST..=PAD_LAST => {
                for i in 0..width.bytes() {
                    let pin = (offset + i - PAD_FIRST) as usize;
                    if let Some(p) = self.pads.get_mut(pin) {
                        *p = (value >> (8 * i)) as u8;
                    }
                }
            }
            GPIO_CFG_FIRST..GPIO_CFG_END => {
                for i in 0..width.bytes() {
                    self.gpio_cfg[(offset + i - GPIO_CFG_FIRST) as usize] =
                        (value >> (8 * i)) as u8;
                }
            }
            regs::sys::GPIO_VALUE0..=regs::sys::GPIO_VALUE2 => {
                let i = ((word_off - regs::sys::GPIO_VALUE0) / 4) as usize;
                self.gpio_value[i] = merge(self.gpio_value[i]);
            }
            regs::sys::GPIO_INT_ENABLE0..=regs::sys::GPIO_INT_ENABLE2 => {
                let i = ((word_off - regs::sys::GPIO_INT_ENABLE0) / 4) as usize;
                self.gpio_int_enable[i] = merge(self.gpio_int_enable[i]);
            }
            regs::sys::GPIO_INT_PENDING0..=regs::sys::GPIO_INT_PENDING2 => {
                let i = ((word_off - regs::sys::GPIO_INT_PENDING0) / 4) as usize;
                self.gpio_int_pending[i] &= !val;
            }
            regs::sys::ETH_PHY_CFG => {
                self.eth_phy_cfg = merge(self.eth_phy_cfg);
                fx.phy_cfg_written = true;
            }
            regs::sys::ETH_PHY_ID => self.eth_phy_id = merge(self.eth_phy_id),
            regs::sys::RESET_STATUS if !self.rev_b => {
                if mask & 0xFF != 0 {
                    let v = val as u8;
                    if v & rst::HW_RESET != 0 {
                        self.reset_status &= !rst::HW_RESET;
                    }
                    if v & rst::SOFT_RESET != 0 {
                        fx.global_reset = true;
                        self.reset_status |= rst::SOFT_RESET;
                    } else {
                        self.reset_status &= !rst::SOFT_RESET;
                    }
                }
            }
            _ => return Access::Unmodelled,
        }
        Access::Done(fx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rd(s: &mut Sys, off: u32, w: Width) -> u32 {
        match s.read(off, w) {
            Access::Done(v) => v,
            Access::Unmodelled => panic!("unmodelled {off:#x}"),
        }
    }

    #[test]
    fn reset_values_follow_an_324() {
        let mut s = Sys::new(HIPID_FT900_REV_B);
        assert_eq!(rd(&mut s, 0x00, Width::Word), 0x0900_0001);
        assert_eq!(rd(&mut s, 0x02, Width::Half), 0x0900);
        assert_eq!(rd(&mut s, 0x04, Width::Word), EFCFG_FT900Q);
        assert_eq!(rd(&mut s, 0x08, Width::Word), 0);
        assert_eq!(rd(&mut s, 0xA8, Width::Word), 0x0007_0300);
        assert_eq!(
            rd(&mut s, 0x1C, Width::Byte),
            0x08,
            "pins 0-2 reset to 0x08"
        );
        assert_eq!(
            rd(&mut s, 0x1F, Width::Byte),
            0x04,
            "other pins reset to 0x04"
        );
        assert_eq!(rd(&mut s, 0x1C, Width::Word), 0x0408_0808);
    }

    #[test]
    fn identification_is_read_only() {
        let mut s = Sys::new(HIPID_FT900_REV_B);
        s.write(0x00, Width::Word, 0x1234_5678);
        assert_eq!(rd(&mut s, 0x00, Width::Word), HIPID_FT900_REV_B);
    }

    #[test]
    fn byte_writes_merge_into_words() {
        let mut s = Sys::new(HIPID_FT900_REV_B);
        s.write(0x09, Width::Byte, 0x20); // CLKCFG bit 13 via the second byte
        s.write(0x08, Width::Byte, 0x10); // bit 4
        assert_eq!(rd(&mut s, 0x08, Width::Word), clk::MAC | clk::UART0);
        assert_eq!(s.view().clkcfg, clk::MAC | clk::UART0);
    }

    #[test]
    fn test_and_set_grants_once_until_released() {
        let mut s = Sys::new(HIPID_FT900_REV_B);
        assert_eq!(
            rd(&mut s, 0x10, Width::Word) & 1,
            0,
            "first read is granted"
        );
        assert_eq!(rd(&mut s, 0x10, Width::Word) & 1, 1, "second read: taken");
        s.write(0x10, Width::Word, 1);
        assert_eq!(
            rd(&mut s, 0x10, Width::Word) & 1,
            0,
            "granted after release"
        );
        assert_eq!(
            rd(&mut s, 0x14, Width::Word) & 1,
            0,
            "the shadow one is separate"
        );
    }

    #[test]
    fn msc0cfg_pulses_clear_and_report_their_effects() {
        let mut s = Sys::new(HIPID_FT900_REV_B);
        let fx = match s.write(0x18, Width::Word, msc0::MAC_RESET_PHY | msc0::UART0_INTSEL) {
            Access::Done(fx) => fx,
            Access::Unmodelled => unreachable!(),
        };
        assert!(fx.phy_reset_started && !fx.peripheral_reset);
        assert_eq!(
            rd(&mut s, 0x18, Width::Word),
            msc0::MAC_RESET_PHY | msc0::UART0_INTSEL,
            "the PHY reset bit stays set until the reset is over"
        );
        s.end_phy_reset();
        assert_eq!(rd(&mut s, 0x18, Width::Word), msc0::UART0_INTSEL);
        let fx = match s.write(0x1B, Width::Byte, 0x80) {
            Access::Done(fx) => fx,
            Access::Unmodelled => unreachable!(),
        };
        assert!(fx.peripheral_reset);
        assert_eq!(
            rd(&mut s, 0x18, Width::Word),
            msc0::UART0_INTSEL,
            "soft reset self-clears"
        );
    }

    #[test]
    fn gpio_pending_bits_are_write_one_to_clear() {
        let mut s = Sys::new(HIPID_FT900_REV_B);
        s.gpio_int_pending[0] = 0b1010;
        s.write(0x90, Width::Word, 0b1000);
        assert!(s.gpio_irq());
        s.write(0x9C, Width::Word, 0b1000);
        assert_eq!(rd(&mut s, 0x9C, Width::Word), 0b0010);
        assert!(!s.gpio_irq());
    }

    #[test]
    fn pmcfg_pending_bits_are_write_one_to_clear() {
        let mut s = Sys::new(HIPID_FT900_REV_B);
        s.pmcfg = 0x0300_0000;
        s.write(0x0C, Width::Word, 0x0100_0081);
        assert_eq!(rd(&mut s, 0x0C, Width::Word), 0x0200_0081);
    }

    #[test]
    fn the_cpu_divider_exists_on_rev_c_only() {
        let mut c = Sys::new(HIPID_FT900_REV_C);
        c.write(0x08, Width::Word, 0x0003_0010);
        assert_eq!(rd(&mut c, 0x08, Width::Word), 0x0003_0010);
        assert_eq!(c.cpu_divider(), 3);
        let mut b = Sys::new(HIPID_FT900_REV_B);
        b.write(0x08, Width::Word, 0x0003_0010);
        assert_eq!(
            rd(&mut b, 0x08, Width::Word),
            0x0000_0010,
            "reserved on rev B"
        );
        assert_eq!(b.cpu_divider(), 0);
    }

    #[test]
    fn reset_status_is_rev_c_only_and_survives_chip_resets() {
        let mut b = Sys::new(HIPID_FT900_REV_B);
        assert_eq!(b.read(0xBC, Width::Byte), Access::Unmodelled);
        let mut c = Sys::new(HIPID_FT900_REV_C);
        assert_eq!(rd(&mut c, 0xBC, Width::Byte), rst::HW_RESET as u32);
        // The watchdog example clears HW_RESET with 1 and SOFT_RESET with 0 (~SOFT_RESET).
        c.write(0xBC, Width::Byte, 0xFD);
        assert_eq!(rd(&mut c, 0xBC, Width::Byte), 0);
        let fx = match c.write(0xBC, Width::Byte, rst::SOFT_RESET as u32) {
            Access::Done(fx) => fx,
            Access::Unmodelled => unreachable!(),
        };
        assert!(fx.global_reset);
        c.reset();
        assert_eq!(rd(&mut c, 0xBC, Width::Byte), rst::SOFT_RESET as u32);
        c.power_on();
        assert_eq!(rd(&mut c, 0xBC, Width::Byte), rst::HW_RESET as u32);
    }

    #[test]
    fn adc_dac_registers_are_reported_as_unmodelled() {
        let mut s = Sys::new(HIPID_FT900_REV_B);
        assert_eq!(s.read(0xB0, Width::Word), Access::Unmodelled);
        assert_eq!(s.write(0xB4, Width::Word, 1), Access::Unmodelled);
    }
}
