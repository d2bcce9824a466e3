//! The FT900's integrated 10/100 PHY as seen through MDIO: the IEEE 802.3 clause-22 registers
//! of docs/hardware/ethernet.md §7, link state and auto-negotiation on virtual time.
//!
//! Nothing observable happens at the instant negotiation completes (this MAC has no PHY
//! interrupt line), so instead of an event the PHY keeps the cycle at which the current
//! negotiation started and answers "is it complete?" for any later cycle. The inputs it cannot
//! see directly (the ETH_PHY_CFG power-down pin and the cable) are handed to
//! [`Phy::observe`] by the MAC whenever the MAC is touched.

/// How long auto-negotiation takes once the PHY is powered, out of reset and sees a partner:
/// 1.5 ms at 100 MHz (real PHYs take 1–3 s with a fast-link-pulse partner; the SDK waits for
/// the link by polling BMSR, so any plausible value works and a short one keeps runs fast).
pub const AN_CYCLES: u64 = 150_000;

/// MII register numbers (clause 22).
pub mod reg {
    /// Basic mode control.
    pub const BMCR: u8 = 0;
    /// Basic mode status.
    pub const BMSR: u8 = 1;
    /// PHY identifier, high half.
    pub const PHYID1: u8 = 2;
    /// PHY identifier, low half.
    pub const PHYID2: u8 = 3;
    /// Auto-negotiation advertisement.
    pub const ANAR: u8 = 4;
    /// Auto-negotiation link partner ability.
    pub const ANLPAR: u8 = 5;
    /// Auto-negotiation expansion.
    pub const ANER: u8 = 6;
}

/// BMCR bits.
pub mod bmcr {
    /// Software reset (self-clearing).
    pub const RESET: u16 = 1 << 15;
    /// PHY loopback: transmitted frames come back to the MAC and do not reach the wire.
    pub const LOOPBACK: u16 = 1 << 14;
    /// Speed 100 Mbit/s when auto-negotiation is off.
    pub const SPEED_100: u16 = 1 << 13;
    /// Auto-negotiation enable.
    pub const AN_ENABLE: u16 = 1 << 12;
    /// Power down.
    pub const POWER_DOWN: u16 = 1 << 11;
    /// Electrically isolate the PHY from the MII: no frames in either direction.
    pub const ISOLATE: u16 = 1 << 10;
    /// Restart auto-negotiation (self-clearing).
    pub const RESTART_AN: u16 = 1 << 9;
    /// Full duplex when auto-negotiation is off.
    pub const FULL_DUPLEX: u16 = 1 << 8;
    /// Collision test.
    pub const COLLISION_TEST: u16 = 1 << 7;
    /// Value after reset: 100 Mbit/s, auto-negotiation, full duplex.
    pub const RESET_VALUE: u16 = 0x3100;
    /// Bits that hold what was written (the self-clearing ones read 0).
    pub const STORED: u16 =
        LOOPBACK | SPEED_100 | AN_ENABLE | POWER_DOWN | ISOLATE | FULL_DUPLEX | COLLISION_TEST;
}

/// BMSR values (bits: 14 100FD, 13 100HD, 12 10FD, 11 10HD, 6 preamble suppression,
/// 5 AN complete, 3 AN capable, 2 link status, 0 extended capability). The link bit is live:
/// real PHYs latch it low until read, which only matters to firmware that reads BMSR once
/// after a link loss; the SDK reads it repeatedly.
pub mod bmsr {
    /// Link down or negotiation incomplete.
    pub const BASE: u16 = 0x7849;
    /// Auto-negotiation complete.
    pub const AN_COMPLETE: u16 = 1 << 5;
    /// Link up.
    pub const LINK: u16 = 1 << 2;
}

/// ANAR after reset: IEEE 802.3 selector, 10/100 half/full.
pub const ANAR_RESET: u16 = 0x01E1;
/// What the simulated link partner advertises: everything, with the acknowledge bit.
pub const ANLPAR_PARTNER: u16 = 0x45E1;
/// ANER: the partner is auto-negotiation able.
pub const ANER_VALUE: u16 = 0x0001;

/// The negotiated (or forced) operating mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// 100 Mbit/s (else 10).
    pub speed_100: bool,
    /// Full duplex.
    pub full_duplex: bool,
}

/// The PHY's registers and link state.
#[derive(Clone, Debug)]
pub struct Phy {
    bmcr: u16,
    anar: u16,
    /// ETH_PHY_CFG bit 8 (PWRDN) as last observed.
    pin_power_down: bool,
    /// The cable as last observed.
    carrier: bool,
    /// Cycle at which the current negotiation started; `None` while powered down.
    an_start: Option<u64>,
}

impl Default for Phy {
    fn default() -> Self {
        Phy::new()
    }
}

impl Phy {
    /// Registers at their reset values, powered down, no cable, nothing negotiated.
    pub fn new() -> Phy {
        Phy {
            bmcr: bmcr::RESET_VALUE,
            anar: ANAR_RESET,
            pin_power_down: true,
            carrier: false,
            an_start: None,
        }
    }

    /// Power-on at cycle `now` with the power-down pin and cable as given.
    pub fn power_on(&mut self, now: u64, pin_power_down: bool, carrier: bool) {
        *self = Phy::new();
        self.pin_power_down = pin_power_down;
        self.carrier = carrier;
        self.an_start = self.powered().then_some(now);
    }

    /// Hardware reset (MSC0CFG.MAC_RESET_PHY) or BMCR software reset: registers back to their
    /// reset values and negotiation starts again at cycle `an_from` (if powered).
    pub fn reset(&mut self, an_from: u64) {
        self.bmcr = bmcr::RESET_VALUE;
        self.anar = ANAR_RESET;
        self.an_start = self.powered().then_some(an_from);
    }

    /// Takes note of the power-down pin and the cable at cycle `now`. Powering up and plugging
    /// the cable in both start a new negotiation; powering down forgets the current one.
    pub fn observe(&mut self, now: u64, pin_power_down: bool, carrier: bool) {
        let was_powered = self.powered();
        let had_carrier = self.carrier;
        self.pin_power_down = pin_power_down;
        self.carrier = carrier;
        let powered = self.powered();
        if powered != was_powered {
            self.an_start = powered.then_some(now);
        } else if powered && carrier && !had_carrier {
            self.an_start = Some(now);
        }
    }

    /// Powered: neither the PWRDN pin (ETH_PHY_CFG bit 8) nor BMCR power-down is set.
    pub fn powered(&self) -> bool {
        !self.pin_power_down && self.bmcr & bmcr::POWER_DOWN == 0
    }

    /// The cable as last observed.
    pub fn carrier(&self) -> bool {
        self.carrier
    }

    /// BMCR as stored (self-clearing bits excluded).
    pub fn bmcr(&self) -> u16 {
        self.bmcr
    }

    /// PHY loopback (BMCR bit 14).
    pub fn loopback(&self) -> bool {
        self.bmcr & bmcr::LOOPBACK != 0
    }

    /// MII isolated (BMCR bit 10): the MAC neither sends nor receives through the PHY.
    pub fn isolated(&self) -> bool {
        self.bmcr & bmcr::ISOLATE != 0
    }

    fn an_enabled(&self) -> bool {
        self.bmcr & bmcr::AN_ENABLE != 0
    }

    /// Cycle at which the current negotiation completes (if one is running and can complete).
    pub fn an_complete_at(&self) -> Option<u64> {
        if self.powered() && self.carrier && self.an_enabled() {
            self.an_start.map(|t| t.saturating_add(AN_CYCLES))
        } else {
            None
        }
    }

    /// Auto-negotiation has completed at cycle `now`.
    pub fn an_complete(&self, now: u64) -> bool {
        self.an_complete_at().is_some_and(|t| now >= t)
    }

    /// The best mode both ends advertise (the partner advertises everything).
    fn resolved(&self) -> Option<Mode> {
        let common = self.anar & ANLPAR_PARTNER;
        [
            (1 << 8, true, true),
            (1 << 7, true, false),
            (1 << 6, false, true),
            (1 << 5, false, false),
        ]
        .into_iter()
        .find(|(bit, _, _)| common & bit != 0)
        .map(|(_, speed_100, full_duplex)| Mode {
            speed_100,
            full_duplex,
        })
    }

    /// The operating mode: negotiated with auto-negotiation on, else forced by BMCR.
    pub fn mode(&self) -> Option<Mode> {
        if self.an_enabled() {
            self.resolved()
        } else {
            Some(Mode {
                speed_100: self.bmcr & bmcr::SPEED_100 != 0,
                full_duplex: self.bmcr & bmcr::FULL_DUPLEX != 0,
            })
        }
    }

    /// Link up at cycle `now`: powered, cable in, and negotiation complete with a common mode
    /// (or auto-negotiation off: the forced mode is up as soon as the cable is).
    pub fn link_up(&self, now: u64) -> bool {
        if !self.powered() || !self.carrier {
            return false;
        }
        if self.an_enabled() {
            self.an_complete(now) && self.resolved().is_some()
        } else {
            true
        }
    }

    /// Reads MII register `reg` at cycle `now`; `phy_id` is ETH_PHY_ID.
    pub fn read(&self, reg: u8, now: u64, phy_id: u32) -> u16 {
        match reg {
            reg::BMCR => self.bmcr,
            reg::BMSR => {
                let mut v = bmsr::BASE;
                if self.an_complete(now) {
                    v |= bmsr::AN_COMPLETE;
                }
                if self.link_up(now) {
                    v |= bmsr::LINK;
                }
                v
            }
            reg::PHYID1 => (phy_id >> 16) as u16,
            reg::PHYID2 => phy_id as u16,
            reg::ANAR => self.anar,
            reg::ANLPAR if self.an_complete(now) => ANLPAR_PARTNER,
            reg::ANER => ANER_VALUE,
            _ => 0,
        }
    }

    /// Writes MII register `reg` at cycle `now`. Read-only and vendor registers ignore writes.
    pub fn write(&mut self, reg: u8, value: u16, now: u64) {
        match reg {
            reg::BMCR => {
                if value & bmcr::RESET != 0 {
                    // The reset completes within the MDIO transaction: the bit reads 0 at once.
                    self.reset(now);
                    return;
                }
                let was_powered = self.powered();
                let was_an = self.an_enabled();
                self.bmcr = value & bmcr::STORED;
                let powered = self.powered();
                if powered != was_powered {
                    self.an_start = powered.then_some(now);
                } else if powered
                    && (value & bmcr::RESTART_AN != 0 || (self.an_enabled() && !was_an))
                {
                    self.an_start = Some(now);
                }
            }
            reg::ANAR => self.anar = value,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up_at(now: u64) -> Phy {
        let mut p = Phy::new();
        p.power_on(now, false, true);
        p
    }

    #[test]
    fn negotiation_completes_after_an_cycles() {
        let p = up_at(100);
        assert_eq!(p.read(reg::BMSR, 100 + AN_CYCLES - 1, 0), 0x7849);
        assert_eq!(p.read(reg::ANLPAR, 100 + AN_CYCLES - 1, 0), 0);
        assert_eq!(p.read(reg::BMSR, 100 + AN_CYCLES, 0), 0x786D);
        assert_eq!(p.read(reg::ANLPAR, 100 + AN_CYCLES, 0), 0x45E1);
        assert_eq!(
            p.mode(),
            Some(Mode {
                speed_100: true,
                full_duplex: true
            })
        );
    }

    #[test]
    fn powered_down_or_no_cable_means_no_link() {
        let mut p = Phy::new();
        p.power_on(0, true, true);
        assert!(!p.link_up(10 * AN_CYCLES));
        p.observe(1000, false, true);
        assert!(!p.link_up(1000 + AN_CYCLES - 1));
        assert!(p.link_up(1000 + AN_CYCLES));
        p.observe(1000 + AN_CYCLES + 5, false, false);
        assert!(!p.link_up(1000 + 2 * AN_CYCLES));
        assert_eq!(p.read(reg::BMSR, 1000 + 2 * AN_CYCLES, 0), 0x7849);
        // The cable comes back: a new negotiation.
        p.observe(500_000, false, true);
        assert!(!p.link_up(500_000 + AN_CYCLES - 1));
        assert!(p.link_up(500_000 + AN_CYCLES));
        // BMCR power-down.
        p.write(reg::BMCR, bmcr::RESET_VALUE | bmcr::POWER_DOWN, 700_000);
        assert!(!p.link_up(900_000));
        p.write(reg::BMCR, bmcr::RESET_VALUE, 900_000);
        assert!(p.link_up(900_000 + AN_CYCLES));
    }

    #[test]
    fn forced_mode_and_advertisement() {
        let mut p = up_at(0);
        p.write(reg::BMCR, bmcr::FULL_DUPLEX, 10);
        assert!(p.link_up(11));
        assert_eq!(p.read(reg::BMSR, 11, 0), 0x784D);
        assert_eq!(
            p.mode(),
            Some(Mode {
                speed_100: false,
                full_duplex: true
            })
        );
        p.write(reg::ANAR, 0x0061, 20);
        p.write(reg::BMCR, bmcr::AN_ENABLE | bmcr::RESTART_AN, 20);
        assert_eq!(p.read(reg::BMCR, 21, 0), bmcr::AN_ENABLE);
        assert!(p.link_up(20 + AN_CYCLES));
        assert_eq!(
            p.mode(),
            Some(Mode {
                speed_100: false,
                full_duplex: true
            })
        );
        p.write(reg::ANAR, 0x0001, 30);
        assert!(!p.link_up(30 + 5 * AN_CYCLES));
    }

    #[test]
    fn ids_vendor_registers_and_reset() {
        let mut p = up_at(0);
        assert_eq!(p.read(reg::PHYID1, 0, 0x1234_5678), 0x1234);
        assert_eq!(p.read(reg::PHYID2, 0, 0x1234_5678), 0x5678);
        assert_eq!(p.read(reg::ANER, 0, 0), 0x0001);
        for r in 16..32 {
            p.write(r, 0xFFFF, 0);
            assert_eq!(p.read(r, 0, 0), 0);
        }
        p.write(reg::ANAR, 0x41E1, 0);
        p.write(reg::BMCR, bmcr::RESET, 50);
        assert_eq!(p.read(reg::BMCR, 50, 0), 0x3100);
        assert_eq!(p.read(reg::ANAR, 50, 0), 0x01E1);
        assert!(!p.link_up(50 + AN_CYCLES - 1));
        assert!(p.link_up(50 + AN_CYCLES));
    }
}
