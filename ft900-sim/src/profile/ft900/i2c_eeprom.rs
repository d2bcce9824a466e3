//! A 24xx-series serial EEPROM on I2C, by default shaped like the Microchip 24AA02E48 of the
//! MM900EV1A board: 256 bytes, 8-byte pages, the upper half write-protected with a factory
//! EUI-48 at 0xFA..0xFF (where the SDK's `net.c` reads the board's MAC address).
//!
//! Protocol (as the 24xx datasheets describe it):
//! * **Write**: START, address+W, word address, data bytes, STOP. Data bytes go into the
//!   page buffer (the low address bits wrap inside the page); the STOP starts the internal
//!   write cycle, during which the part acknowledges nothing (acknowledge polling). A START
//!   before the STOP abandons the write. Bytes aimed at the protected half are acknowledged
//!   and dropped.
//! * **Read**: after a word address (random read, with a repeated START) or from the current
//!   address, each byte read advances the address, wrapping at the end of the memory.
//!
//! The write cycle lasts [`EepromSpec::write_cycle_ns`]: the datasheets give 5 ms as the
//! maximum; the default 3 ms is an assumption (parts finish inside the maximum, and the SDK's
//! code waits 5 ms after each byte).

use super::i2c_bus::I2cTarget;

/// What kind of EEPROM and what it holds at power-on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EepromSpec {
    /// Part name for reports, e.g. `24AA02E48`.
    pub part: String,
    /// 7-bit I2C address (0x50 for address pins A2..A0 low).
    pub address: u8,
    /// Size in bytes (at most 256: one word-address byte).
    pub size: usize,
    /// Page size for writes.
    pub page: usize,
    /// Write-protected range (start, end exclusive).
    pub protected: Option<(usize, usize)>,
    /// EUI-48 and where it lies.
    pub eui48: Option<([u8; 6], usize)>,
    /// Internal write cycle in nanoseconds.
    pub write_cycle_ns: u64,
}

impl EepromSpec {
    /// A 24AA02E48 at `address` with this EUI-48 at 0xFA.
    pub fn eui48_part(address: u8, eui48: [u8; 6]) -> EepromSpec {
        EepromSpec {
            part: "24AA02E48".into(),
            address,
            size: 256,
            page: 8,
            protected: Some((0x80, 0x100)),
            eui48: Some((eui48, 0xFA)),
            write_cycle_ns: 3_000_000,
        }
    }
}

/// Where the part is in the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    /// Selected for writing, the next byte is the word address.
    WordAddress,
    /// Taking data bytes into the page buffer.
    Data,
    /// Selected for reading.
    Reading,
}

/// The EEPROM's state: memory, address counter, page buffer, write cycle.
pub struct I2cEeprom {
    spec: EepromSpec,
    mem: Vec<u8>,
    pointer: usize,
    state: State,
    pending: Vec<(usize, u8)>,
    busy_until: u64,
}

impl I2cEeprom {
    /// A part as it leaves the factory: erased (0xFF) except for the EUI-48.
    pub fn new(spec: EepromSpec) -> I2cEeprom {
        let mut mem = vec![0xFF; spec.size];
        if let Some((eui, at)) = spec.eui48 {
            if let Some(dst) = mem.get_mut(at..at + 6) {
                dst.copy_from_slice(&eui);
            }
        }
        I2cEeprom {
            spec,
            mem,
            pointer: 0,
            state: State::Idle,
            pending: Vec::new(),
            busy_until: 0,
        }
    }

    /// The memory's contents.
    pub fn contents(&self) -> &[u8] {
        &self.mem
    }

    fn protected(&self, addr: usize) -> bool {
        self.spec
            .protected
            .is_some_and(|(start, end)| (start..end).contains(&addr))
    }
}

impl I2cTarget for I2cEeprom {
    fn address(&self) -> u8 {
        self.spec.address
    }

    fn start(&mut self, _now: u64) {
        self.pending.clear();
        self.state = State::Idle;
    }

    fn select(&mut self, now: u64, read: bool) -> bool {
        if now < self.busy_until {
            return false;
        }
        self.state = if read {
            State::Reading
        } else {
            State::WordAddress
        };
        true
    }

    fn write(&mut self, _now: u64, byte: u8) -> bool {
        match self.state {
            State::WordAddress => {
                self.pointer = usize::from(byte) % self.spec.size;
                self.state = State::Data;
                true
            }
            State::Data => {
                self.pending.push((self.pointer, byte));
                let page_base = self.pointer - self.pointer % self.spec.page;
                self.pointer = page_base + (self.pointer + 1) % self.spec.page;
                true
            }
            State::Idle | State::Reading => false,
        }
    }

    fn read(&mut self, _now: u64) -> u8 {
        let byte = self.mem[self.pointer];
        self.pointer = (self.pointer + 1) % self.spec.size;
        byte
    }

    fn stop(&mut self, now: u64) {
        if self.state == State::Data && !self.pending.is_empty() {
            for (addr, byte) in std::mem::take(&mut self.pending) {
                if !self.protected(addr) {
                    self.mem[addr] = byte;
                }
            }
            self.busy_until = now + self.spec.write_cycle_ns;
        }
        self.pending.clear();
        self.state = State::Idle;
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "{} EEPROM at {:#04x} ({} bytes)",
            self.spec.part, self.spec.address, self.spec.size
        );
        if let Some((eui, at)) = self.spec.eui48 {
            let mac: Vec<String> = eui.iter().map(|b| format!("{b:02x}")).collect();
            s.push_str(&format!(", EUI-48 {} at {at:#04x}", mac.join(":")));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EUI: [u8; 6] = [0x00, 0x04, 0xA3, 0x12, 0x34, 0x56];

    fn part() -> I2cEeprom {
        I2cEeprom::new(EepromSpec::eui48_part(0x50, EUI))
    }

    fn write(e: &mut I2cEeprom, now: u64, addr: u8, data: &[u8]) -> bool {
        e.start(now);
        if !e.select(now, false) {
            return false;
        }
        assert!(e.write(now, addr));
        for &b in data {
            assert!(e.write(now, b));
        }
        e.stop(now);
        true
    }

    fn read(e: &mut I2cEeprom, now: u64, addr: u8, n: usize) -> Vec<u8> {
        e.start(now);
        assert!(e.select(now, false));
        assert!(e.write(now, addr));
        e.start(now);
        assert!(e.select(now, true));
        let v = (0..n).map(|_| e.read(now)).collect();
        e.stop(now);
        v
    }

    #[test]
    fn holds_its_eui48_at_0xfa_and_is_erased_elsewhere() {
        let mut e = part();
        assert_eq!(read(&mut e, 0, 0xFA, 6), EUI);
        assert_eq!(read(&mut e, 0, 0x00, 4), [0xFF; 4]);
    }

    #[test]
    fn writes_take_a_write_cycle_and_wrap_inside_the_page() {
        let mut e = part();
        assert!(write(&mut e, 0, 0x06, &[1, 2, 3]));
        assert!(!e.select(1_000, false), "busy in its write cycle: NACK");
        e.start(3_000_000);
        assert!(e.select(3_000_000, true), "answers again after the cycle");
        e.stop(3_000_000);
        assert_eq!(
            read(&mut e, 4_000_000, 0x00, 8),
            [3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2]
        );
    }

    #[test]
    fn the_protected_half_keeps_its_contents_and_a_restart_abandons_a_write() {
        let mut e = part();
        assert!(write(&mut e, 0, 0xFA, &[0; 6]));
        assert_eq!(read(&mut e, 10_000_000, 0xFA, 6), EUI);
        e.start(20_000_000);
        assert!(e.select(20_000_000, false));
        assert!(e.write(20_000_000, 0x10));
        assert!(e.write(20_000_000, 0x77));
        e.start(20_000_000);
        e.stop(20_000_000);
        assert_eq!(e.contents()[0x10], 0xFF);
    }
}
