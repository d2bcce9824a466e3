//! The legacy real-time clock at 0x10280 (AN_324 §20; FT900-HARDWARE.md §7.4). In progress:
//! every register reports as unmodelled until the model lands.

use super::device::{Access, Ctx, Device};
use crate::isa::Width;

/// The RTC.
pub struct Rtc {
    start_seconds: u32,
}

impl Rtc {
    /// An RTC whose counter holds `start_seconds` at power-on (the host sets the wall clock).
    pub fn new(start_seconds: u32) -> Rtc {
        Rtc { start_seconds }
    }

    /// The counter value at power-on.
    pub fn start_seconds(&self) -> u32 {
        self.start_seconds
    }
}

impl Device for Rtc {
    fn name(&self) -> &'static str {
        "rtc"
    }
    fn read(&mut self, _offset: u32, _width: Width, _ctx: &mut Ctx) -> Access<u32> {
        Access::Unmodelled
    }
    fn write(&mut self, _offset: u32, _width: Width, _value: u32, _ctx: &mut Ctx) -> Access<()> {
        Access::Unmodelled
    }
    fn reset(&mut self, _ctx: &mut Ctx) {}
}
