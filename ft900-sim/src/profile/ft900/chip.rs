//! Silicon revisions of the FT900 (see `docs/hardware/revisions.md`).
//!
//! The vendor's SDK tells the revisions apart with `sys_check_ft900_revB()`: the chip is a rev B
//! when `(HIPID | 0x000F_0000)` is `0x090F_0000` or `0x090F_0001`, anything else is rev C or
//! later. The revision decides which blocks exist and how they behave: the RTC (rev B: the
//! counter at 0x10280; rev C: the calendar RTC at 0x10900), the timers' prescalers (rev B: one
//! shared; rev C: one per timer), the CPU clock divider (CLKCFG[19:16], rev C only) and the reset
//! status register at 0x100BC (rev C only).

use std::fmt;
use std::str::FromStr;

/// HIPID of an FT900 rev B (AN_324 v1.2 Table 5.3, "revision 0001").
pub const HIPID_FT900_REV_B: u32 = 0x0900_0001;
/// HIPID of an FT900 rev C: model 0x0900, revision 0x0002. The SDK only checks that the
/// revision half is neither 0x0000 nor 0x0001; 0x0002 is the next revision number (a choice,
/// documented in `docs/hardware/revisions.md`).
pub const HIPID_FT900_REV_C: u32 = 0x0900_0002;

/// Which FT900 silicon revision the model emulates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChipRevision {
    /// FT900 rev B: the revision AN_324 v1.2 describes.
    Ft900RevB,
    /// FT900 rev C: the revision sold today (the default).
    #[default]
    Ft900RevC,
}

impl ChipRevision {
    /// Every revision, in the order of their names in messages.
    pub const ALL: [ChipRevision; 2] = [ChipRevision::Ft900RevB, ChipRevision::Ft900RevC];

    /// The name used on the command line and in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            ChipRevision::Ft900RevB => "ft900-revb",
            ChipRevision::Ft900RevC => "ft900-revc",
        }
    }

    /// The chip's HIPID register (0x10000).
    pub fn hipid(self) -> u32 {
        match self {
            ChipRevision::Ft900RevB => HIPID_FT900_REV_B,
            ChipRevision::Ft900RevC => HIPID_FT900_REV_C,
        }
    }

    /// `true` for rev B, as the SDK's `sys_check_ft900_revB()` decides from the HIPID.
    pub fn is_rev_b(self) -> bool {
        let id = self.hipid() | 0x000F_0000;
        id == 0x090F_0000 || id == 0x090F_0001
    }
}

impl fmt::Display for ChipRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A chip name that is not one of [`ChipRevision::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown chip {0:?}: expected ft900-revb or ft900-revc")]
pub struct UnknownChip(pub String);

impl FromStr for ChipRevision {
    type Err = UnknownChip;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChipRevision::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownChip(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_default_is_rev_c() {
        for c in ChipRevision::ALL {
            assert_eq!(c.to_string().parse::<ChipRevision>(), Ok(c));
        }
        assert_eq!(ChipRevision::default(), ChipRevision::Ft900RevC);
        assert_eq!(
            "FT900-RevB".parse::<ChipRevision>(),
            Ok(ChipRevision::Ft900RevB)
        );
        let err = "ft930".parse::<ChipRevision>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown chip \"ft930\": expected ft900-revb or ft900-revc"
        );
    }

    #[test]
    fn the_sdk_check_tells_the_revisions_apart() {
        assert!(ChipRevision::Ft900RevB.is_rev_b());
        assert!(!ChipRevision::Ft900RevC.is_rev_b());
        // Both are FT900s to crt0: (HIPID >> 20) == 0x090.
        for c in ChipRevision::ALL {
            assert_eq!(c.hipid() >> 20, 0x090);
        }
    }
}
