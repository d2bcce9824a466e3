//! UART0/UART1 (AN_324 §13; FT900-HARDWARE.md §6). In progress: every register reports as
//! unmodelled until the 16C550-compatible model lands.

use super::device::{Access, Ctx, Device};
use super::serial::{Disconnected, SerialBackend};
use crate::isa::Width;

/// One UART.
pub struct Uart {
    name: &'static str,
    backend: Box<dyn SerialBackend>,
}

impl Uart {
    /// UART `index` (0 or 1), disconnected.
    pub fn new(index: usize) -> Uart {
        Uart {
            name: if index == 0 { "uart0" } else { "uart1" },
            backend: Box::new(Disconnected),
        }
    }

    /// Connects the host side.
    pub fn set_backend(&mut self, backend: Box<dyn SerialBackend>) {
        self.backend = backend;
    }

    /// Flushes the host side.
    pub fn flush(&mut self) {
        self.backend.flush();
    }
}

impl Device for Uart {
    fn name(&self) -> &'static str {
        self.name
    }
    fn read(&mut self, _offset: u32, _width: Width, _ctx: &mut Ctx) -> Access<u32> {
        Access::Unmodelled
    }
    fn write(&mut self, _offset: u32, _width: Width, _value: u32, _ctx: &mut Ctx) -> Access<()> {
        Access::Unmodelled
    }
    fn reset(&mut self, _ctx: &mut Ctx) {}
}
