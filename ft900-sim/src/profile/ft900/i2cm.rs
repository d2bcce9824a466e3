//! I2C master, 0x10300–0x1030F (AN_324 I2C master chapter; the SDK's `ft900_i2c_registers.h`
//! and `i2cm.c`; `docs/hardware/i2c-flash.md`), IRQ 11, byte registers, on virtual time.
//!
//! # Operations
//! A write of I2CM_CNTL_STATUS starts one bus operation, decided by its bits and by whether
//! the master already holds the bus (after a START, until a STOP):
//!
//! | CNTL bits | bus | what happens |
//! |---|---|---|
//! | RUN+START (or RUN+ADDR) | any | (repeated) START, address byte I2CM_SLV_ADDR; on ACK, one data byte: I2CM_DATA sent (write) or received into it (read, master ACKs it when ACK is set) |
//! | RUN | held | one data byte in the direction of the last address |
//! | RUN+HS | any | START and the high-speed master code (no target ACKs it); later bytes use the HS period |
//! | RUN+SLV_RST | any | nine clocks and a STOP, the bus is free |
//! | STOP (with any of the above) | | a STOP after the operation |
//! | I2C_RST | | the controller resets at once |
//!
//! I2CM_SLV_ADDR holds the 8-bit form (7-bit address << 1 | R/W), as the SDK writes it
//! (`0xA0`, `0xA0 | 1`). While an operation runs STATUS reads BUSY (and BUS_BUSY); when it
//! ends BUSY clears, IDLE sets, and ERR with ADDR_ACK (no target answered its address) or
//! DATA_ACK (a written byte was not acknowledged) say how it went; BUS_BUSY stays set until a
//! STOP. Each new operation clears the error bits.
//!
//! # Time
//! The bit time comes from I2CM_TIME_PERIOD as the SDK's driver computes it: SCL period =
//! (2·TP + 1) × 4 cycles in standard mode and × 3 cycles in fast, fast-plus (the FAST bit of
//! the HS register) and high-speed mode. Where the register header's comment leaves the factor
//! out, the driver is followed (see the document). A START or STOP costs one period, a byte
//! with its acknowledge nine.
//!
//! # Interrupt
//! When an operation ends, I2CM_FIFO_INT_PEND.I2C_INT (bit 6) is set; the request (IRQ 11) is
//! PEND & I2CM_FIFO_INT_ENABLE. Pending bits clear by writing 1.
//!
//! # Not modelled
//! FIFO mode (I2CM_FIFO_LEN, I2CM_FIFO_DATA, I2CM_TRIG: reported as unmodelled), arbitration
//! (a single master: ARB_LOST never sets), clock stretching, pad multiplexing (the master
//! reaches the bus of the channel MSC0CFG.I2C_SWOP selects whatever the pads say).

use super::device::{read_bytes, write_bytes, Access, Ctx, Device, NS_PER_CYCLE};
use super::i2c_bus::I2cBuses;
use super::regtable::{RegAccess, RegDef, RegFile};
use super::sys::msc0;
use crate::isa::Width;

/// Register offsets.
pub mod reg {
    pub use crate::profile::ft900::regs::i2cm::*;
}

/// The block's registers, as the register map declares them. CNTL_STATUS, DATA and
/// TIME_PERIOD have behaviour of their own; their entries give name and reset value.
pub const REGISTERS: &[RegDef] = reg::REGS;

/// I2CM_CNTL_STATUS bits on writes.
pub mod cntl {
    /// Run the bus controller (one byte).
    pub const RUN: u8 = 0x01;
    /// (Repeated) START and address.
    pub const START: u8 = 0x02;
    /// STOP after the operation.
    pub const STOP: u8 = 0x04;
    /// Acknowledge a received byte.
    pub const ACK: u8 = 0x08;
    /// High-speed master code.
    pub const HS: u8 = 0x10;
    /// START and address (as START).
    pub const ADDR: u8 = 0x20;
    /// Nine clocks and a STOP to free a stuck target.
    pub const SLV_RST: u8 = 0x40;
    /// Reset the controller.
    pub const I2C_RST: u8 = 0x80;
}

/// I2CM_CNTL_STATUS bits on reads.
pub mod status {
    /// An operation is running.
    pub const BUSY: u8 = 0x01;
    /// The last operation failed (ADDR_ACK, DATA_ACK or ARB_LOST).
    pub const ERR: u8 = 0x02;
    /// The address was not acknowledged.
    pub const ADDR_ACK: u8 = 0x04;
    /// A written byte was not acknowledged.
    pub const DATA_ACK: u8 = 0x08;
    /// Arbitration lost (never, single master).
    pub const ARB_LOST: u8 = 0x10;
    /// The controller is idle.
    pub const IDLE: u8 = 0x20;
    /// The bus is held (between START and STOP).
    pub const BUS_BUSY: u8 = 0x40;
}

/// I2CM_FIFO_INT_PEND / ENABLE: an operation ended.
pub const INT_I2C: u8 = 0x40;

const EV_DONE: u64 = 1;

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct I2cCounters {
    /// Operations started.
    pub operations: u64,
    /// Address phases no target acknowledged.
    pub address_nacks: u64,
    /// Bytes sent (address bytes excluded).
    pub bytes_written: u64,
    /// Bytes received.
    pub bytes_read: u64,
}

/// The I2C master and the buses it drives.
pub struct I2cMaster {
    regs: RegFile,
    /// Standard/fast period (7 bits) and high-speed period (5 bits).
    lp_period: u8,
    hs_period: u8,
    fast: bool,
    /// High-speed timing until the next STOP (after a master code).
    hs_active: bool,
    busy: bool,
    /// Status bits the running operation will leave.
    result: u8,
    bus_held: bool,
    /// Direction of the last address phase that was acknowledged, and on which channel.
    reading: bool,
    selected: Option<(usize, usize)>,
    buses: I2cBuses,
    counters: I2cCounters,
}

impl Default for I2cMaster {
    fn default() -> Self {
        Self::new()
    }
}

impl I2cMaster {
    /// A master with nothing on its buses.
    pub fn new() -> I2cMaster {
        I2cMaster {
            regs: RegFile::new(REGISTERS),
            lp_period: 0,
            hs_period: 0,
            fast: false,
            hs_active: false,
            busy: false,
            result: 0,
            bus_held: false,
            reading: false,
            selected: None,
            buses: I2cBuses::default(),
            counters: I2cCounters::default(),
        }
    }

    /// The devices on the two channels (a board puts its EEPROM here).
    pub fn buses_mut(&mut self) -> &mut I2cBuses {
        &mut self.buses
    }

    /// The devices on the two channels.
    pub fn buses(&self) -> &I2cBuses {
        &self.buses
    }

    /// I2CM_CNTL_STATUS as a read returns it.
    pub fn status(&self) -> u8 {
        let mut s = self.regs.get(reg::CNTL_STATUS);
        if self.busy {
            s = (s | status::BUSY) & !status::IDLE;
        }
        if self.bus_held || self.busy {
            s |= status::BUS_BUSY;
        }
        s
    }

    /// SCL period in CPU cycles with the current timing.
    pub fn scl_cycles(&self) -> u64 {
        if self.hs_active {
            (2 * u64::from(self.hs_period) + 1) * 3
        } else if self.fast {
            (2 * u64::from(self.lp_period) + 1) * 3
        } else {
            (2 * u64::from(self.lp_period) + 1) * 4
        }
    }

    /// (name, offset, value) of the registers, without side effects.
    pub fn registers(&self) -> Vec<(&'static str, u32, u8)> {
        let mut regs = self.regs.dump();
        for r in &mut regs {
            if r.1 == reg::CNTL_STATUS {
                r.2 = self.status();
            }
        }
        regs
    }

    /// Counters for `--stats` and dumps.
    pub fn counters(&self) -> I2cCounters {
        self.counters
    }

    fn channel(ctx: &Ctx) -> usize {
        usize::from(ctx.sys.msc0cfg & msc0::I2C_SWOP != 0)
    }

    fn write_time_period(&mut self, value: u8) {
        // Bit 7 selects the high-speed register (5-bit period, bit 6 FAST); otherwise the
        // standard/fast-plus period (7 bits).
        if value & 0x80 != 0 {
            self.hs_period = value & 0x1F;
            self.fast = value & 0x40 != 0;
        } else {
            self.lp_period = value & 0x7F;
        }
        self.regs.set(reg::TIME_PERIOD, value);
    }

    fn control(&mut self, value: u8, ctx: &mut Ctx) {
        if value & cntl::I2C_RST != 0 {
            self.reset_controller(ctx);
            return;
        }
        if self.busy {
            // The driver waits for BUSY to clear; a command meanwhile is lost.
            return;
        }
        let now = ctx.now * NS_PER_CYCLE;
        let ch = Self::channel(ctx);
        let mut periods = 0u64;
        let mut result = 0u8;
        let run = value & cntl::RUN != 0;
        if run && value & cntl::SLV_RST != 0 {
            periods += 10;
            self.release_bus(ch, now);
        } else if run && value & cntl::HS != 0 {
            // START and the master code 00001xxx: by design no target acknowledges it.
            self.bus_start(ch, now);
            self.hs_active = true;
            periods += 10;
            result |= status::ERR | status::ADDR_ACK;
        } else if run && value & (cntl::START | cntl::ADDR) != 0 {
            self.bus_start(ch, now);
            periods += 10;
            let addr = self.regs.get(reg::SLV_ADDR);
            let read = addr & 1 != 0;
            let target = self
                .buses
                .channel(ch)
                .iter()
                .position(|t| t.address() == addr >> 1);
            let acked = match target {
                Some(i) => self.buses.channel_mut(ch)[i].select(now, read),
                None => false,
            };
            if acked {
                self.selected = target.map(|i| (ch, i));
                self.reading = read;
                periods += 9;
                result |= self.data_byte(now);
            } else {
                self.selected = None;
                self.counters.address_nacks += 1;
                result |= status::ERR | status::ADDR_ACK;
            }
        } else if run && self.bus_held {
            periods += 9;
            result |= self.data_byte(now);
        }
        if value & cntl::STOP != 0 && self.bus_held {
            periods += 1;
            self.release_bus(ch, now);
        }
        if periods == 0 {
            return;
        }
        self.counters.operations += 1;
        self.busy = true;
        self.result = result;
        let old = self.regs.get(reg::CNTL_STATUS);
        self.regs.set(
            reg::CNTL_STATUS,
            old & !(status::ERR | status::ADDR_ACK | status::DATA_ACK | status::ARB_LOST),
        );
        ctx.schedule_in(periods * self.scl_cycles(), EV_DONE);
    }

    /// One data byte with the selected target in the current direction; status bits.
    fn data_byte(&mut self, now: u64) -> u8 {
        let Some((ch, i)) = self.selected else {
            return status::ERR | status::DATA_ACK;
        };
        let target = &mut self.buses.channel_mut(ch)[i];
        if self.reading {
            let byte = target.read(now);
            self.regs.set(reg::DATA, byte);
            self.counters.bytes_read += 1;
            // Whether the master ACKs (cntl::ACK) or NACKs the byte changes nothing for the
            // targets modelled: a memory just stops being clocked.
            0
        } else {
            let byte = self.regs.get(reg::DATA);
            self.counters.bytes_written += 1;
            if target.write(now, byte) {
                0
            } else {
                status::ERR | status::DATA_ACK
            }
        }
    }

    fn bus_start(&mut self, ch: usize, now: u64) {
        self.bus_held = true;
        for t in self.buses.channel_mut(ch) {
            t.start(now);
        }
    }

    fn release_bus(&mut self, ch: usize, now: u64) {
        self.bus_held = false;
        self.hs_active = false;
        self.selected = None;
        for t in self.buses.channel_mut(ch) {
            t.stop(now);
        }
    }

    fn reset_controller(&mut self, ctx: &mut Ctx) {
        if self.bus_held {
            // The targets see the bus released.
            let ch = Self::channel(ctx);
            self.release_bus(ch, ctx.now * NS_PER_CYCLE);
        }
        self.regs.reset();
        self.lp_period = 0;
        self.hs_period = 0;
        self.fast = false;
        self.hs_active = false;
        self.busy = false;
        self.result = 0;
        self.selected = None;
        ctx.queue.cancel_all(ctx.source);
    }

    fn read_reg(&mut self, offset: u32) -> Option<u8> {
        let def = self.regs.def(offset)?;
        match (offset, def.access) {
            (reg::CNTL_STATUS, _) => Some(self.status()),
            (_, RegAccess::Unmodelled) => None,
            _ => Some(self.regs.get(offset)),
        }
    }

    fn write_reg(&mut self, offset: u32, value: u8, ctx: &mut Ctx) -> bool {
        match offset {
            reg::CNTL_STATUS => {
                self.control(value, ctx);
                true
            }
            reg::TIME_PERIOD => {
                self.write_time_period(value);
                true
            }
            _ => self.regs.write(offset, value),
        }
    }
}

impl Device for I2cMaster {
    fn name(&self) -> &'static str {
        "i2cm"
    }

    fn read(&mut self, offset: u32, width: Width, _ctx: &mut Ctx) -> Access<u32> {
        if width != Width::Byte {
            return Access::Unmodelled;
        }
        read_bytes(offset, width, |o| self.read_reg(o))
    }

    fn write(&mut self, offset: u32, width: Width, value: u32, ctx: &mut Ctx) -> Access<()> {
        if width != Width::Byte {
            return Access::Unmodelled;
        }
        write_bytes(offset, width, value, |o, b| self.write_reg(o, b, ctx))
    }

    fn event(&mut self, token: u64, _ctx: &mut Ctx) {
        if token != EV_DONE || !self.busy {
            return;
        }
        self.busy = false;
        let s = self.regs.get(reg::CNTL_STATUS) | self.result | status::IDLE;
        self.regs.set(reg::CNTL_STATUS, s);
        let pend = self.regs.get(reg::FIFO_INT_PEND) | INT_I2C;
        self.regs.set(reg::FIFO_INT_PEND, pend);
    }

    fn irq(&self) -> bool {
        self.regs.get(reg::FIFO_INT_PEND) & self.regs.get(reg::FIFO_INT_ENABLE) != 0
    }

    fn reset(&mut self, _ctx: &mut Ctx) {
        let buses = std::mem::take(&mut self.buses);
        *self = I2cMaster::new();
        self.buses = buses;
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let c = self.counters;
        vec![
            ("operations", c.operations),
            ("address-nacks", c.address_nacks),
            ("bytes-written", c.bytes_written),
            ("bytes-read", c.bytes_read),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::device::SysView;
    use super::super::event::{EventQueue, Source};
    use super::super::i2c_eeprom::{EepromSpec, I2cEeprom};
    use super::*;

    const EUI: [u8; 6] = [0x02, 0x46, 0x54, 0x39, 0x30, 0x30];

    /// The master with a 24AA02E48 at 0x50 on channel 1, its clock on, channel 1 selected,
    /// set up as `i2cm_init(I2CM_NORMAL_SPEED, 100000)` does.
    struct Rig {
        m: I2cMaster,
        q: EventQueue,
        now: u64,
        msc0cfg: u32,
    }

    impl Rig {
        fn new() -> Rig {
            let mut m = I2cMaster::new();
            m.buses_mut().attach(
                1,
                Box::new(I2cEeprom::new(EepromSpec::eui48_part(0x50, EUI))),
            );
            let mut rig = Rig {
                m,
                q: EventQueue::new(),
                now: 0,
                msc0cfg: msc0::I2C_SWOP,
            };
            rig.w(reg::CNTL_STATUS, cntl::I2C_RST);
            rig.w(reg::TIME_PERIOD, 124);
            rig
        }

        fn call<R>(&mut self, f: impl FnOnce(&mut I2cMaster, &mut Ctx) -> R) -> R {
            let mut ctx = Ctx {
                now: self.now,
                queue: &mut self.q,
                source: Source::I2cm,
                sys: SysView {
                    msc0cfg: self.msc0cfg,
                    ..SysView::default()
                },
            };
            f(&mut self.m, &mut ctx)
        }

        fn w(&mut self, offset: u32, v: u8) {
            let done = self.call(|m, ctx| m.write(offset, Width::Byte, v.into(), ctx));
            assert_eq!(done, Access::Done(()));
        }

        fn r(&mut self, offset: u32) -> u8 {
            match self.call(|m, ctx| m.read(offset, Width::Byte, ctx)) {
                Access::Done(v) => v as u8,
                Access::Unmodelled => panic!("unmodelled {offset}"),
            }
        }

        /// `i2c_wait_for`: runs events until BUSY clears; returns the status.
        fn wait(&mut self) -> u8 {
            assert_ne!(self.r(reg::CNTL_STATUS) & status::BUSY, 0, "busy at once");
            while let Some((at, _, token)) = self.q.pop_due(u64::MAX) {
                self.now = at;
                self.call(|m, ctx| m.event(token, ctx));
            }
            self.r(reg::CNTL_STATUS)
        }

        /// The SDK's `i2cm_write(addr, cmd, data)`; returns 0 or -1 as it does.
        fn sdk_write(&mut self, addr: u8, cmd: u8, data: &[u8]) -> i8 {
            self.w(reg::SLV_ADDR, addr);
            self.w(reg::DATA, cmd);
            assert_eq!(self.r(reg::CNTL_STATUS) & status::BUS_BUSY, 0);
            self.w(reg::CNTL_STATUS, cntl::START | cntl::RUN);
            let mut ret = if self.wait() & status::ERR != 0 {
                -1
            } else {
                0
            };
            for &b in data {
                if ret != 0 {
                    break;
                }
                self.w(reg::DATA, b);
                self.w(reg::CNTL_STATUS, cntl::RUN);
                if self.wait() & status::ERR != 0 {
                    ret = -1;
                }
            }
            self.w(reg::CNTL_STATUS, cntl::STOP);
            if ret == 0 {
                self.wait();
            } else {
                self.drain();
            }
            ret
        }

        /// The SDK's `i2cm_read(addr, cmd, n)`.
        fn sdk_read(&mut self, addr: u8, cmd: u8, n: usize) -> Result<Vec<u8>, ()> {
            self.w(reg::SLV_ADDR, addr);
            self.w(reg::DATA, cmd);
            self.w(reg::CNTL_STATUS, cntl::START | cntl::RUN);
            let mut ok = self.wait() & status::ERR == 0;
            let mut out = Vec::new();
            if ok {
                self.w(reg::SLV_ADDR, addr | 1);
                let ack = if n <= 1 { 0 } else { cntl::ACK };
                self.w(reg::CNTL_STATUS, cntl::START | cntl::RUN | ack);
                ok = self.wait() & status::ERR == 0;
            }
            if ok {
                let mut left = n;
                while left > 0 {
                    out.push(self.r(reg::DATA));
                    left -= 1;
                    if left > 0 {
                        let ack = if left == 1 { 0 } else { cntl::ACK };
                        self.w(reg::CNTL_STATUS, cntl::RUN | ack);
                        if self.wait() & status::ERR != 0 {
                            ok = false;
                            break;
                        }
                    }
                }
            }
            self.w(reg::CNTL_STATUS, cntl::STOP);
            self.drain();
            if ok {
                Ok(out)
            } else {
                Err(())
            }
        }

        fn drain(&mut self) {
            while let Some((at, _, token)) = self.q.pop_due(u64::MAX) {
                self.now = at;
                self.call(|m, ctx| m.event(token, ctx));
            }
        }
    }

    #[test]
    fn an_absent_address_is_not_acknowledged() {
        let mut rig = Rig::new();
        rig.w(reg::SLV_ADDR, 0xA8);
        rig.w(reg::CNTL_STATUS, cntl::START | cntl::RUN);
        let s = rig.wait();
        assert_eq!(
            s & (status::ERR | status::ADDR_ACK),
            status::ERR | status::ADDR_ACK
        );
        assert_ne!(s & status::BUS_BUSY, 0, "the bus is held until a STOP");
        rig.w(reg::CNTL_STATUS, cntl::STOP);
        let s = rig.wait();
        assert_eq!(s & (status::ERR | status::BUS_BUSY | status::BUSY), 0);
        assert_ne!(s & status::IDLE, 0);
        assert_eq!(rig.sdk_write(0xA4, 0, &[1]), -1);
        assert_eq!(rig.m.counters().address_nacks, 2);
    }

    #[test]
    fn the_eeprom_answers_only_on_the_channel_it_is_wired_to() {
        let mut rig = Rig::new();
        rig.msc0cfg = 0;
        assert_eq!(rig.sdk_read(0xA0, 0xFA, 6), Err(()));
        rig.msc0cfg = msc0::I2C_SWOP;
        assert_eq!(rig.sdk_read(0xA0, 0xFA, 6), Ok(EUI.to_vec()));
    }

    #[test]
    fn sdk_writes_and_reads_reach_the_eeprom_on_virtual_time() {
        let mut rig = Rig::new();
        // 100 kHz: TP 124 → (2·124 + 1) × 4 = 996 cycles a period; START + address + command
        // byte = 1 + 9 + 9 periods.
        assert_eq!(rig.m.scl_cycles(), 996);
        let t0 = rig.now;
        rig.w(reg::SLV_ADDR, 0xA0);
        rig.w(reg::DATA, 0x10);
        rig.w(reg::CNTL_STATUS, cntl::START | cntl::RUN);
        assert_eq!(rig.wait() & status::ERR, 0);
        assert_eq!(rig.now - t0, 19 * 996);
        rig.w(reg::DATA, 0x5A);
        rig.w(reg::CNTL_STATUS, cntl::RUN);
        assert_eq!(rig.wait() & status::ERR, 0);
        rig.w(reg::CNTL_STATUS, cntl::STOP);
        rig.wait();
        // Inside the 3 ms write cycle the part does not answer.
        assert_eq!(rig.sdk_read(0xA0, 0x10, 1), Err(()));
        rig.now += 300_000;
        assert_eq!(rig.sdk_read(0xA0, 0x0F, 3), Ok(vec![0xFF, 0x5A, 0xFF]));
        assert_eq!(
            rig.sdk_read(0xA0, 0xFA, 6),
            Ok(EUI.to_vec()),
            "EUI-48 at 0xFA"
        );
        let c = rig.m.counters();
        assert_eq!((c.bytes_read, c.address_nacks), (9, 1));
    }

    #[test]
    fn the_interrupt_follows_pending_and_enable() {
        let mut rig = Rig::new();
        rig.w(reg::FIFO_INT_ENABLE, INT_I2C);
        rig.w(reg::SLV_ADDR, 0xA0);
        rig.w(reg::DATA, 0);
        rig.w(reg::CNTL_STATUS, cntl::START | cntl::RUN);
        assert!(!rig.m.irq());
        rig.wait();
        assert!(rig.m.irq());
        assert_eq!(rig.r(reg::FIFO_INT_PEND), INT_I2C);
        rig.w(reg::FIFO_INT_PEND, INT_I2C);
        assert!(!rig.m.irq());
    }

    #[test]
    fn fifo_mode_and_wide_accesses_are_reported_as_unmodelled() {
        let mut rig = Rig::new();
        let trig = rig.call(|m, ctx| m.read(reg::TRIG, Width::Byte, ctx));
        assert_eq!(trig, Access::Unmodelled);
        let wide = rig.call(|m, ctx| m.read(0, Width::Word, ctx));
        assert_eq!(wide, Access::Unmodelled);
    }
}
