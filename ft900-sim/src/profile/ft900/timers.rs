//! Timers A–D, prescaler and watchdog (AN_324 §14; FT900-HARDWARE.md §7.1–7.3). In progress:
//! every register reports as unmodelled until the model lands.

use super::device::{Access, Ctx, Device};
use crate::isa::Width;

/// The timer block.
#[derive(Default)]
pub struct Timers {}

impl Timers {
    /// Power-on state.
    pub fn new() -> Timers {
        Timers::default()
    }

    /// The watchdog expired with its interrupt enabled: the CPU must take vector 0x04.
    pub fn watchdog_request(&self) -> bool {
        false
    }

    /// The watchdog expired a second time without being served: the chip resets. Returns
    /// `true` once per such expiry.
    pub fn take_chip_reset(&mut self) -> bool {
        false
    }
}

impl Device for Timers {
    fn name(&self) -> &'static str {
        "timers"
    }
    fn read(&mut self, _offset: u32, _width: Width, _ctx: &mut Ctx) -> Access<u32> {
        Access::Unmodelled
    }
    fn write(&mut self, _offset: u32, _width: Width, _value: u32, _ctx: &mut Ctx) -> Access<()> {
        Access::Unmodelled
    }
    fn reset(&mut self, _ctx: &mut Ctx) {}
}
