//! What every FT900 peripheral model provides to the bus, and what the bus gives it.

use super::event::{EventQueue, Source};
use crate::isa::Width;

/// CPU clock of the FT900: 100 MHz, so one cycle is 10 ns of virtual time.
pub const CPU_HZ: u64 = 100_000_000;
/// Nanoseconds per CPU cycle.
pub const NS_PER_CYCLE: u64 = 1_000_000_000 / CPU_HZ;

/// Read-only view of the system registers that other blocks depend on.
#[derive(Clone, Copy, Debug, Default)]
pub struct SysView {
    /// CLKCFG (0x10008): per-peripheral clock enables.
    pub clkcfg: u32,
    /// MSC0CFG (0x10018): interrupt routing of the UARTs, PHY reset, soft resets.
    pub msc0cfg: u32,
    /// ETH_PHY_CFG (0x100A8): PHY address, power-down, loopback.
    pub eth_phy_cfg: u32,
    /// ETH_PHY_ID (0x100AC).
    pub eth_phy_id: u32,
}

/// What a device gets on each access or event: the time, the event queue and the system view.
pub struct Ctx<'a> {
    /// Current CPU cycle.
    pub now: u64,
    /// The machine's event queue.
    pub queue: &'a mut EventQueue,
    /// The device being called (the source its events are scheduled under).
    pub source: Source,
    /// System registers.
    pub sys: SysView,
}

impl Ctx<'_> {
    /// Schedules an event for this device `delay` cycles from now.
    pub fn schedule_in(&mut self, delay: u64, token: u64) {
        self.queue
            .schedule(self.now.saturating_add(delay), self.source, token);
    }

    /// Schedules an event for this device at absolute cycle `at`.
    pub fn schedule_at(&mut self, at: u64, token: u64) {
        self.queue.schedule(at, self.source, token);
    }
}

/// Result of a register access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access<T> {
    /// The register exists and the access was carried out.
    Done(T),
    /// No register is modelled at this offset/width: the bus reports it (once per address)
    /// and, in strict mode, faults.
    Unmodelled,
}

/// A memory-mapped peripheral. Offsets are relative to the block's base and already aligned
/// to the access width.
pub trait Device {
    /// Short name used in reports and statistics, e.g. `uart0`.
    fn name(&self) -> &'static str;

    /// Reads a register.
    fn read(&mut self, offset: u32, width: Width, ctx: &mut Ctx) -> Access<u32>;

    /// Writes a register.
    fn write(&mut self, offset: u32, width: Width, value: u32, ctx: &mut Ctx) -> Access<()>;

    /// A scheduled event of this device is due.
    fn event(&mut self, _token: u64, _ctx: &mut Ctx) {}

    /// Level of the device's interrupt request (before routing and masking).
    fn irq(&self) -> bool {
        false
    }

    /// Back to the power-on state (events already scheduled are dropped by the caller).
    fn reset(&mut self, ctx: &mut Ctx);

    /// Counters for `--stats`: (name, value).
    fn stats(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// Splits an access of `width` at `offset` into byte accesses, little-endian, for blocks whose
/// registers are bytes (UART, timers). `f(byte_offset)` returns one byte or `None`.
pub fn read_bytes(offset: u32, width: Width, mut f: impl FnMut(u32) -> Option<u8>) -> Access<u32> {
    let mut value = 0u32;
    for i in 0..width.bytes() {
        match f(offset + i) {
            Some(b) => value |= (b as u32) << (8 * i),
            None => return Access::Unmodelled,
        }
    }
    Access::Done(value)
}

/// Splits a write into byte writes (see [`read_bytes`]); `f(byte_offset, byte)` returns
/// `false` for an unmodelled byte.
pub fn write_bytes(
    offset: u32,
    width: Width,
    value: u32,
    mut f: impl FnMut(u32, u8) -> bool,
) -> Access<()> {
    let mut ok = true;
    for i in 0..width.bytes() {
        ok &= f(offset + i, (value >> (8 * i)) as u8);
    }
    if ok {
        Access::Done(())
    } else {
        Access::Unmodelled
    }
}
