//! Ethernet MAC and the integrated PHY (AN_324 §10; FT900-HARDWARE.md §8). In progress: every
//! register reports as unmodelled until the model lands.

use net_bridge::Link;

use super::device::{Access, Ctx, Device};
use crate::isa::Width;

/// The MAC, its buffers and the PHY.
pub struct Eth {
    link: Option<Box<dyn Link>>,
}

impl Default for Eth {
    fn default() -> Self {
        Self::new()
    }
}

impl Eth {
    /// Power-on state, no cable.
    pub fn new() -> Eth {
        Eth { link: None }
    }

    /// Plugs the cable into `link`.
    pub fn attach_link(&mut self, link: Box<dyn Link>) {
        self.link = Some(link);
    }

    /// MSC0CFG.MAC_RESET_PHY: the PHY goes back to its reset state.
    pub fn phy_reset(&mut self, _ctx: &mut Ctx) {}
}

impl Device for Eth {
    fn name(&self) -> &'static str {
        "eth"
    }
    fn read(&mut self, _offset: u32, _width: Width, _ctx: &mut Ctx) -> Access<u32> {
        Access::Unmodelled
    }
    fn write(&mut self, _offset: u32, _width: Width, _value: u32, _ctx: &mut Ctx) -> Access<()> {
        Access::Unmodelled
    }
    fn reset(&mut self, _ctx: &mut Ctx) {}
}
