//! What sits on an I2C bus: the [`I2cTarget`] trait that the I2C master drives, one call per
//! bus event. Times are virtual nanoseconds, so targets with internal timing (an EEPROM's
//! write cycle) follow the simulation's clock.

/// A device on an I2C bus (a target, "slave" in the FT900's documents).
pub trait I2cTarget: Send {
    /// Its 7-bit address.
    fn address(&self) -> u8;

    /// A START or repeated START appeared on the bus (every target sees it).
    fn start(&mut self, now: u64);

    /// The address byte after a START named this target; `read` is the R/W bit. Returns the
    /// acknowledge: `false` leaves SDA high (NACK), e.g. while busy.
    fn select(&mut self, now: u64, read: bool) -> bool;

    /// A byte from the master to this (selected, write) target; returns its acknowledge.
    fn write(&mut self, now: u64, byte: u8) -> bool;

    /// The next byte this (selected, read) target puts on the bus.
    fn read(&mut self, now: u64) -> u8;

    /// A STOP appeared on the bus (every target sees it).
    fn stop(&mut self, now: u64);

    /// One line for debugger dumps and logs, e.g. `24AA02E48 EEPROM at 0x50 (256 bytes)`.
    fn describe(&self) -> String;
}

/// The two I2C channels of the FT900's master: channel 0 on GPIO44/45, channel 1 on GPIO46/47
/// (selected with MSC0CFG.I2C_SWOP).
#[derive(Default)]
pub struct I2cBuses {
    channels: [Vec<Box<dyn I2cTarget>>; 2],
}

impl I2cBuses {
    /// Puts `target` on `channel` (0 or 1; anything else is channel 1).
    pub fn attach(&mut self, channel: usize, target: Box<dyn I2cTarget>) {
        self.channels[channel.min(1)].push(target);
    }

    /// The targets on `channel`.
    pub fn channel(&self, channel: usize) -> &[Box<dyn I2cTarget>] {
        &self.channels[channel.min(1)]
    }

    /// The targets on `channel`, mutable.
    pub fn channel_mut(&mut self, channel: usize) -> &mut [Box<dyn I2cTarget>] {
        &mut self.channels[channel.min(1)]
    }
}
