//! The calendar real-time clock of the FT900 rev C at 0x10900 (the SDK's `RTC`,
//! `ft900_rtc_registers.h` "ONBOARD_RTC_TYPE_2" and `rtc.c`; `docs/hardware/revisions.md`).
//! Not in AN_324 v1.2 (which describes rev B); everything here is read from the SDK's register
//! header and driver.
//!
//! # Two domains
//! The counters live in the battery-backed "Alive" domain and count whole seconds in BCD:
//! seconds, minutes, hours (24-hour, or 12-hour with bit 6 set and bit 5 = PM), day of the week
//! (1..7), date, month (bit 7 = century) and year (00..99). Firmware sees "wrapper" registers:
//! * **Reads** of RTC_TIME / RTC_DATE return the wrapper's copy, updated from the counters at
//!   every count while auto-refresh (`CTRL.ARFEN`, bit 7) is on, or once per manual refresh
//!   (write `CTRL.MRFEN`, bit 8 = 1; it reads 1 until the copy is taken, [`SYNC_CYCLES`] later;
//!   `rtc_read` polls it).
//! * **Writes** of RTC_TIME, RTC_DATE, RTC_AALARM1/2 land in the wrapper; setting `CTRL.WRST`
//!   (bit 9) transfers the registers written since the last transfer to the counters
//!   [`SYNC_CYCLES`] later, when WRST reads 0 again (`write_reg`/`sync` poll it). Loading
//!   RTC_TIME restarts the sub-second divider (the next count one second after the transfer:
//!   choice, as the rev B RTC's CLR load). Only written registers transfer (choice: otherwise
//!   the SDK's `rtc_set_alarm` + `sync` would load a stale wrapper time into the counters).
//! * RTC_CTRL's other bits, RTC_STA (write 1 to clear), RTC_TRIM, RTC_COMP_PER and RTC_MISC
//!   take a write at once.
//!
//! # Power-on state (a choice)
//! The battery has kept the clock running: the counters hold the host-provided time (UTC) and
//! count (`CTRL = RTCEN`), the wrapper holds that time too. Years are stored as the SDK means
//! them (`tm_year = year + century·100`): the century bit is set for 2000..2099. RTC_TRIM
//! resets to 0x03E8_0000 (a trimming period of 1000 s, per the header), the rest to 0.
//!
//! # Counting and alarms
//! With `RTCEN` the counters advance at `o + k·CPU_HZ`, k ≥ 1 from their phase origin `o`;
//! with `RTCEN = 0` they hold. At each count an alarm whose fields match sets its RTC_STA bit
//! (A1INT bit 2, A2INT bit 3): a field matches when its mask bit (bit 7 of each byte) is set or
//! it equals the counter; byte 3 compares the date, or the day of the week with bit 6 set.
//! Counts are evaluated (one event per second) only while an alarm interrupt is enabled
//! (`A1IE` or `A2IE`): a flag nobody can be interrupted by is not tracked (choice). The IRQ 19
//! request is `RTCEN & INTEN & ((A1INT & A1IE) | (A2INT & A2IE))`.
//!
//! # Calendar
//! Days roll over by the month's length (February has 29 days when the year is divisible by
//! 4); December rolls over to January of the next year, year 99 to 00 with the century bit
//! toggled. Fields that are not valid BCD or out of range (the SDK's `rtc_write` of a zero
//! `struct tm` stores date 0 and month 0) count on from what they hold: date 0 becomes 1 at the
//! next midnight, month 0 counts as a 31-day month.

use super::device::{Access, Ctx, Device, CPU_HZ};
use crate::isa::Width;

/// Cycles per count: one second.
pub const CYCLES_PER_SECOND: u64 = CPU_HZ;
/// Time a manual refresh or a write transfer takes to cross into the 32.768 kHz domain: two
/// periods of that clock (61 µs; choice, the SDK only polls the bits).
pub const SYNC_CYCLES: u64 = 6_104;

pub use super::regs::Access as RegAccess;
pub use super::regs::Reg as RegDef;

/// The registers, in address order (32-bit each), as the register map declares them
/// ([`super::regs::rtc_calendar`]).
pub const REGISTERS: &[RegDef] = super::regs::rtc_calendar::REGS;

/// Writes to TIME, DATE and the alarms land in the wrapper and reach the counters with
/// `CTRL.WRST`.
fn buffered(i: usize) -> bool {
    i <= idx::AALARM2
}

/// A register's value after power-on (TIME and DATE: see the module docs).
fn reset_value(r: &RegDef) -> u32 {
    match r.reset {
        super::regs::Reset::Value(v) => v,
        super::regs::Reset::PerRev { rev_c, .. } => rev_c,
        super::regs::Reset::Varies(_) => 0,
    }
}

/// Register indices into [`REGISTERS`].
mod idx {
    pub const TIME: usize = 0;
    pub const DATE: usize = 1;
    pub const AALARM1: usize = 2;
    pub const AALARM2: usize = 3;
    pub const CTRL: usize = 4;
    pub const STA: usize = 5;
}

/// Size of the block in bytes.
pub const SIZE: u32 = super::regs::rtc_calendar::MISC + 4;

/// RTC_CTRL bits.
pub mod ctrl {
    /// Count enable.
    pub const RTCEN: u32 = 1 << 0;
    /// Interrupt enable.
    pub const INTEN: u32 = 1 << 1;
    /// Alarm 1 interrupt enable.
    pub const A1IE: u32 = 1 << 2;
    /// Alarm 2 interrupt enable.
    pub const A2IE: u32 = 1 << 3;
    /// Auto-refresh of the wrapper's TIME/DATE at every count.
    pub const ARFEN: u32 = 1 << 7;
    /// Manual refresh: reads 1 while it is under way.
    pub const MRFEN: u32 = 1 << 8;
    /// Write transfer: reads 1 while it is under way.
    pub const WRST: u32 = 1 << 9;
    /// The bits firmware can set (bits 0..=9).
    pub const WRITABLE: u32 = 0x3FF;
}

/// RTC_STA bits.
pub mod sta {
    /// Alarm 1 matched.
    pub const A1INT: u32 = 1 << 2;
    /// Alarm 2 matched.
    pub const A2INT: u32 = 1 << 3;
    /// The bits that exist (2..=6).
    pub const ALL: u32 = 0x7C;
}

/// Event tokens are `(serial << 2) | kind`.
const KIND_TICK: u64 = 0;
const KIND_REFRESH: u64 = 1;
const KIND_TRANSFER: u64 = 2;

/// Counters for `--stats` (kept across resets).
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    alarms: u64,
    refreshes: u64,
    transfers: u64,
}

/// The calendar counters as BCD register images: TIME (`ss mm hh 00`) and DATE
/// (`wd dd mm yy`, little-endian bytes as in the SDK's unions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    /// RTC_TIME image.
    pub time: u32,
    /// RTC_DATE image.
    pub date: u32,
}

fn bcd(v: u32) -> u32 {
    ((v / 10) << 4) | (v % 10)
}

fn unbcd(b: u32) -> u32 {
    (b >> 4) * 10 + (b & 0xF)
}

fn byte(v: u32, i: u32) -> u32 {
    (v >> (8 * i)) & 0xFF
}

fn set_byte(v: u32, i: u32, b: u32) -> u32 {
    (v & !(0xFF << (8 * i))) | ((b & 0xFF) << (8 * i))
}

/// Days from 1970-01-01 to year-month-day (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month, day of a day count from 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Calendar {
    /// The calendar at Unix time `secs` (UTC, 24-hour mode). Years outside 1900..=2099 are
    /// stored modulo 200 years.
    pub fn from_unix(secs: u64) -> Calendar {
        let days = (secs / 86_400) as i64;
        let sod = (secs % 86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        let wday = ((days + 4).rem_euclid(7)) as u32; // 1970-01-01 was a Thursday (4)
        let years = (y - 1900).rem_euclid(200) as u32;
        let century = if years >= 100 { 0x80 } else { 0 };
        let time = bcd(sod % 60) | (bcd(sod / 60 % 60) << 8) | (bcd(sod / 3600) << 16);
        let date =
            (wday + 1) | (bcd(d) << 8) | ((bcd(m) | century) << 16) | (bcd(years % 100) << 24);
        Calendar { time, date }
    }

    /// Unix time of a valid 24-hour calendar (`None` for fields out of range).
    pub fn to_unix(self) -> Option<u64> {
        let (s, mi, h) = (
            unbcd(byte(self.time, 0) & 0x7F),
            unbcd(byte(self.time, 1) & 0x7F),
            self.hour24()?,
        );
        let d = unbcd(byte(self.date, 1) & 0x3F);
        let mbyte = byte(self.date, 2);
        let m = unbcd(mbyte & 0x1F);
        let y = 1900 + unbcd(byte(self.date, 3)) as i64 + if mbyte & 0x80 != 0 { 100 } else { 0 };
        if s > 59 || mi > 59 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        let days = days_from_civil(y, m, d);
        u64::try_from(days * 86_400 + (h * 3600 + mi * 60 + s) as i64).ok()
    }

    /// The hour in 0..24 (24-hour mode, or 12-hour mode with bit 6 set and bit 5 = PM).
    fn hour24(self) -> Option<u32> {
        let hb = byte(self.time, 2);
        let h = if hb & 0x40 != 0 {
            let h12 = unbcd(hb & 0x1F);
            if !(1..=12).contains(&h12) {
                return None;
            }
            (h12 % 12) + if hb & 0x20 != 0 { 12 } else { 0 }
        } else {
            unbcd(hb & 0x3F)
        };
        (h < 24).then_some(h)
    }

    /// Seconds since midnight if the time fields are valid.
    fn second_of_day(self) -> Option<u32> {
        let s = unbcd(byte(self.time, 0) & 0x7F);
        let m = unbcd(byte(self.time, 1) & 0x7F);
        let h = self.hour24()?;
        (s < 60 && m < 60).then_some(h * 3600 + m * 60 + s)
    }

    /// Sets the time fields to `sod` seconds since midnight, keeping the hour mode.
    fn set_second_of_day(&mut self, sod: u32) {
        let hb = byte(self.time, 2);
        let h = sod / 3600;
        let hour = if hb & 0x40 != 0 {
            let h12 = if h.is_multiple_of(12) { 12 } else { h % 12 };
            0x40 | if h >= 12 { 0x20 } else { 0 } | bcd(h12)
        } else {
            bcd(h)
        };
        self.time = (self.time & 0xFF00_0000)
            | bcd(sod % 60)
            | (bcd(sod / 60 % 60) << 8)
            | ((hour | (hb & 0x80)) << 16);
    }

    fn days_in_month(self) -> u32 {
        let m = unbcd(byte(self.date, 2) & 0x1F);
        let y = unbcd(byte(self.date, 3));
        match m {
            4 | 6 | 9 | 11 => 30,
            2 if y.is_multiple_of(4) => 29,
            2 => 28,
            _ => 31,
        }
    }

    /// Midnight: the day of the week, the date, and on overflow the month and year advance.
    fn next_day(&mut self) {
        let wd = byte(self.date, 0) & 0x07;
        let wd = if wd >= 7 { 1 } else { wd + 1 };
        self.date = set_byte(self.date, 0, (byte(self.date, 0) & !0x07) | wd);
        let d = unbcd(byte(self.date, 1) & 0x3F);
        if d < self.days_in_month() {
            self.date = set_byte(self.date, 1, bcd(d + 1));
            return;
        }
        self.date = set_byte(self.date, 1, bcd(1));
        let mbyte = byte(self.date, 2);
        let m = unbcd(mbyte & 0x1F);
        if m < 12 {
            self.date = set_byte(self.date, 2, (mbyte & 0x80) | bcd(m + 1));
            return;
        }
        let y = unbcd(byte(self.date, 3));
        if y < 99 {
            self.date = set_byte(self.date, 2, (mbyte & 0x80) | bcd(1));
            self.date = set_byte(self.date, 3, bcd(y + 1));
        } else {
            self.date = set_byte(self.date, 2, (mbyte ^ 0x80) & 0x80 | bcd(1));
            self.date = set_byte(self.date, 3, 0);
        }
    }

    /// One count with time fields that are not valid: BCD counting field by field.
    fn step_raw(&mut self) {
        let s = unbcd(byte(self.time, 0) & 0x7F);
        if s < 59 {
            self.time = set_byte(self.time, 0, bcd(s + 1));
            return;
        }
        self.time = set_byte(self.time, 0, 0);
        let m = unbcd(byte(self.time, 1) & 0x7F);
        if m < 59 {
            self.time = set_byte(self.time, 1, bcd(m + 1));
            return;
        }
        self.time = set_byte(self.time, 1, 0);
        match self.hour24() {
            Some(h) if h < 23 => self.set_second_of_day((h + 1) * 3600),
            _ => {
                self.set_second_of_day(0);
                self.next_day();
            }
        }
    }

    /// The calendar `n` counts later.
    pub fn advance(mut self, mut n: u64) -> Calendar {
        while n > 0 {
            match self.second_of_day() {
                Some(sod) => {
                    let to_midnight = u64::from(86_400 - sod);
                    if n < to_midnight {
                        self.set_second_of_day(sod + n as u32);
                        return self;
                    }
                    n -= to_midnight;
                    self.set_second_of_day(0);
                    self.next_day();
                }
                None => {
                    self.step_raw();
                    n -= 1;
                }
            }
        }
        self
    }

    /// Whether alarm register `alarm` matches this calendar.
    fn matches(self, alarm: u32) -> bool {
        let field = |i: u32, mask: u32| {
            let a = byte(alarm, i);
            a & 0x80 != 0 || (a & mask) == (byte(self.time, i) & mask)
        };
        let day = {
            let a = byte(alarm, 3);
            if a & 0x80 != 0 {
                true
            } else if a & 0x40 != 0 {
                (a & 0x0F) == (byte(self.date, 0) & 0x07)
            } else {
                (a & 0x3F) == (byte(self.date, 1) & 0x3F)
            }
        };
        field(0, 0x7F) && field(1, 0x7F) && field(2, 0x7F) && day
    }
}

/// The calendar RTC.
#[derive(Debug)]
pub struct RtcCalendar {
    start: Calendar,
    /// The wrapper registers (what firmware reads and writes), by [`REGISTERS`] index.
    regs: [u32; REGISTERS.len()],
    /// Wrapper registers written since the last transfer (bit per index).
    dirty: u32,
    /// Alarm registers in the counters' domain.
    alarm: [u32; 2],
    /// Counters after count `base_tick` (or held while stopped).
    base: Calendar,
    base_tick: u64,
    /// Phase origin: counts at `origin + k·CYCLES_PER_SECOND`, k ≥ 1.
    origin: u64,
    tick_token: u64,
    refresh_token: u64,
    transfer_token: u64,
    serial: u64,
    stats: Stats,
}

impl RtcCalendar {
    /// The RTC at power-on, its counters holding Unix time `start_unix` (see the module docs).
    pub fn new(start_unix: u64) -> RtcCalendar {
        let start = Calendar::from_unix(start_unix);
        let mut regs: [u32; REGISTERS.len()] = std::array::from_fn(|i| reset_value(&REGISTERS[i]));
        regs[idx::TIME] = start.time;
        regs[idx::DATE] = start.date;
        RtcCalendar {
            start,
            regs,
            dirty: 0,
            alarm: [0; 2],
            base: start,
            base_tick: 0,
            origin: 0,
            tick_token: 0,
            refresh_token: 0,
            transfer_token: 0,
            serial: 0,
            stats: Stats::default(),
        }
    }

    fn ctrl(&self) -> u32 {
        self.regs[idx::CTRL]
    }

    fn counting(&self) -> bool {
        self.ctrl() & ctrl::RTCEN != 0
    }

    fn tick(&self, now: u64) -> u64 {
        now.saturating_sub(self.origin) / CYCLES_PER_SECOND
    }

    /// The counters at cycle `now`.
    pub fn calendar(&self, now: u64) -> Calendar {
        if !self.counting() {
            return self.base;
        }
        self.base
            .advance(self.tick(now).saturating_sub(self.base_tick))
    }

    /// The counters' Unix time at `now`, if they hold a valid date.
    pub fn unix_time(&self, now: u64) -> Option<u64> {
        self.calendar(now).to_unix()
    }

    /// The counters at power-on.
    pub fn start(&self) -> Calendar {
        self.start
    }

    /// Host side: sets the counters to Unix time `secs` at `ctx.now` (clock-skew scenarios).
    pub fn set_unix_time(&mut self, secs: u64, ctx: &mut Ctx) {
        self.load(Calendar::from_unix(secs), ctx.now);
        self.reschedule(ctx);
    }

    /// The wrapper registers, without side effects: (name, offset, value).
    pub fn registers(&self, now: u64) -> Vec<(&'static str, u32, u32)> {
        REGISTERS
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name, r.offset, self.peek(i, now)))
            .collect()
    }

    fn rebase(&mut self, now: u64) {
        if self.counting() {
            self.base = self.calendar(now);
            self.base_tick = self.tick(now);
        }
    }

    fn load(&mut self, cal: Calendar, now: u64) {
        self.base = cal;
        self.origin = now;
        self.base_tick = 0;
    }

    fn next_token(&mut self, kind: u64) -> u64 {
        self.serial += 1;
        (self.serial << 2) | kind
    }

    /// Schedules the next count's alarm check while an alarm interrupt is enabled.
    fn reschedule(&mut self, ctx: &mut Ctx) {
        self.tick_token = 0;
        if !self.counting() || self.ctrl() & (ctrl::A1IE | ctrl::A2IE) == 0 {
            return;
        }
        let at = self
            .origin
            .saturating_add((self.tick(ctx.now) + 1).saturating_mul(CYCLES_PER_SECOND));
        self.tick_token = self.next_token(KIND_TICK);
        ctx.schedule_at(at, self.tick_token);
    }

    fn peek(&self, i: usize, now: u64) -> u32 {
        match i {
            idx::TIME | idx::DATE if self.ctrl() & ctrl::ARFEN != 0 => {
                let cal = self.calendar(now);
                if i == idx::TIME {
                    cal.time
                } else {
                    cal.date
                }
            }
            _ => self.regs[i],
        }
    }

    fn write_ctrl(&mut self, value: u32, ctx: &mut Ctx) {
        let old = self.ctrl();
        let busy = old & (ctrl::MRFEN | ctrl::WRST);
        self.rebase(ctx.now);
        let mut new = (value & ctrl::WRITABLE & !(ctrl::MRFEN | ctrl::WRST)) | busy;
        if value & ctrl::WRST != 0 && old & ctrl::WRST == 0 {
            new |= ctrl::WRST;
            self.transfer_token = self.next_token(KIND_TRANSFER);
            ctx.schedule_in(SYNC_CYCLES, self.transfer_token);
        }
        if value & ctrl::MRFEN != 0 && old & ctrl::MRFEN == 0 {
            new |= ctrl::MRFEN;
            self.refresh_token = self.next_token(KIND_REFRESH);
            ctx.schedule_in(SYNC_CYCLES, self.refresh_token);
        }
        if old & ctrl::ARFEN != 0 && new & ctrl::ARFEN == 0 {
            // The wrapper keeps the last auto-refreshed values.
            let cal = self.calendar(ctx.now);
            self.regs[idx::TIME] = cal.time;
            self.regs[idx::DATE] = cal.date;
        }
        self.regs[idx::CTRL] = new;
        if old & ctrl::RTCEN == 0 && new & ctrl::RTCEN != 0 {
            self.origin = ctx.now;
            self.base_tick = 0;
        }
        self.reschedule(ctx);
    }

    /// The write transfer is over: written registers reach the counters.
    fn transfer(&mut self, ctx: &mut Ctx) {
        self.stats.transfers += 1;
        self.regs[idx::CTRL] &= !ctrl::WRST;
        let dirty = std::mem::take(&mut self.dirty);
        self.rebase(ctx.now);
        let mut cal = self.calendar(ctx.now);
        let mut reload = false;
        if dirty & (1 << idx::TIME) != 0 {
            cal.time = self.regs[idx::TIME];
            reload = true;
        }
        if dirty & (1 << idx::DATE) != 0 {
            cal.date = self.regs[idx::DATE];
            reload = true;
        }
        if reload {
            self.load(cal, ctx.now);
        }
        for (a, i) in [(0, idx::AALARM1), (1, idx::AALARM2)] {
            if dirty & (1 << i) != 0 {
                self.alarm[a] = self.regs[i];
            }
        }
        self.reschedule(ctx);
    }
}

impl Device for RtcCalendar {
    fn name(&self) -> &'static str {
        "rtc"
    }

    fn read(&mut self, offset: u32, width: Width, ctx: &mut Ctx) -> Access<u32> {
        if offset >= SIZE {
            return Access::Unmodelled;
        }
        let i = (offset / 4) as usize;
        let shift = 8 * (offset & 3);
        Access::Done((self.peek(i, ctx.now) >> shift) & width.mask())
    }

    fn write(&mut self, offset: u32, width: Width, value: u32, ctx: &mut Ctx) -> Access<()> {
        if offset >= SIZE {
            return Access::Unmodelled;
        }
        let i = (offset / 4) as usize;
        let shift = 8 * (offset & 3);
        let lanes = width.mask() << shift;
        let bits = (value << shift) & lanes;
        let def = REGISTERS[i];
        match def.access {
            RegAccess::ReadOnly | RegAccess::Unmodelled => {}
            RegAccess::WriteOneToClear => self.regs[i] &= !(bits & sta::ALL),
            _ if i == idx::CTRL => {
                let merged = (self.ctrl() & !lanes) | bits;
                self.write_ctrl(merged, ctx);
            }
            // Every other register of this block is read-write.
            _ => {
                self.regs[i] = (self.regs[i] & !lanes) | bits;
                if buffered(i) {
                    self.dirty |= 1 << i;
                }
            }
        }
        Access::Done(())
    }

    fn event(&mut self, token: u64, ctx: &mut Ctx) {
        if token == 0 {
            return;
        }
        if token == self.tick_token {
            let cal = self.calendar(ctx.now);
            for (a, bit) in [(0, sta::A1INT), (1, sta::A2INT)] {
                if cal.matches(self.alarm[a]) {
                    self.regs[idx::STA] |= bit;
                    self.stats.alarms += 1;
                }
            }
            self.reschedule(ctx);
        } else if token == self.refresh_token {
            self.refresh_token = 0;
            self.stats.refreshes += 1;
            let cal = self.calendar(ctx.now);
            self.regs[idx::TIME] = cal.time;
            self.regs[idx::DATE] = cal.date;
            self.regs[idx::CTRL] &= !ctrl::MRFEN;
        } else if token == self.transfer_token {
            self.transfer_token = 0;
            self.transfer(ctx);
        }
    }

    /// IRQ 19 request.
    fn irq(&self) -> bool {
        let c = self.ctrl();
        let s = self.regs[idx::STA];
        c & ctrl::RTCEN != 0
            && c & ctrl::INTEN != 0
            && ((s & sta::A1INT != 0 && c & ctrl::A1IE != 0)
                || (s & sta::A2INT != 0 && c & ctrl::A2IE != 0))
    }

    /// Power-on: the counters hold the host's time and count; statistics kept.
    fn reset(&mut self, ctx: &mut Ctx) {
        let (serial, stats, start) = (self.serial, self.stats, self.start);
        *self = RtcCalendar::new(0);
        self.start = start;
        self.regs[idx::TIME] = start.time;
        self.regs[idx::DATE] = start.date;
        self.base = start;
        self.serial = serial;
        self.stats = stats;
        self.origin = ctx.now;
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("alarms", self.stats.alarms),
            ("refreshes", self.stats.refreshes),
            ("transfers", self.stats.transfers),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::device::SysView;
    use super::super::event::{EventQueue, Source};
    use super::*;

    const S: u64 = CYCLES_PER_SECOND;
    /// 2026-01-01T00:00:00Z, a Thursday.
    const EPOCH: u64 = 1_767_225_600;

    struct Bench {
        dev: RtcCalendar,
        queue: EventQueue,
        now: u64,
    }

    impl Bench {
        fn new(start: u64) -> Bench {
            Bench {
                dev: RtcCalendar::new(start),
                queue: EventQueue::new(),
                now: 0,
            }
        }

        fn ctx(queue: &mut EventQueue, now: u64) -> Ctx<'_> {
            Ctx {
                now,
                queue,
                source: Source::Rtc,
                sys: SysView::default(),
            }
        }

        fn w(&mut self, offset: u32, value: u32) {
            let mut ctx = Bench::ctx(&mut self.queue, self.now);
            assert_eq!(
                self.dev.write(offset, Width::Word, value, &mut ctx),
                Access::Done(())
            );
        }

        fn r(&mut self, offset: u32) -> u32 {
            let mut ctx = Bench::ctx(&mut self.queue, self.now);
            match self.dev.read(offset, Width::Word, &mut ctx) {
                Access::Done(v) => v,
                Access::Unmodelled => panic!("{offset:#x} unmodelled"),
            }
        }

        /// Runs the events due up to `until`.
        fn run_until(&mut self, until: u64) {
            while let Some((at, _, token)) = self.queue.pop_due(until) {
                self.now = at;
                let mut ctx = Ctx {
                    now: at,
                    queue: &mut self.queue,
                    source: Source::Rtc,
                    sys: SysView::default(),
                };
                self.dev.event(token, &mut ctx);
            }
            self.now = until;
        }

        /// The SDK's `write_reg`: write, WRST, wait for it to clear.
        fn write_reg(&mut self, offset: u32, value: u32) {
            if offset == 0x10 {
                self.w(0x10, value | ctrl::WRST);
            } else {
                self.w(offset, value);
                let c = self.r(0x10);
                self.w(0x10, c | ctrl::WRST);
            }
            self.run_until(self.now + SYNC_CYCLES);
            assert_eq!(self.r(0x10) & ctrl::WRST, 0, "the transfer is over");
        }

        /// The SDK's `rtc_read` without auto-refresh: MRFEN, poll, read TIME and DATE.
        fn manual_read(&mut self) -> Calendar {
            let c = self.r(0x10);
            self.w(0x10, c | ctrl::MRFEN);
            assert_ne!(
                self.r(0x10) & ctrl::MRFEN,
                0,
                "busy until the copy is taken"
            );
            self.run_until(self.now + SYNC_CYCLES);
            assert_eq!(self.r(0x10) & ctrl::MRFEN, 0);
            Calendar {
                time: self.r(0x00),
                date: self.r(0x04),
            }
        }
    }

    #[test]
    fn the_register_table_matches_the_sdk_layout() {
        let names: Vec<_> = REGISTERS.iter().map(|r| (r.name, r.offset)).collect();
        assert_eq!(names[0], ("RTC_TIME", 0x00));
        assert_eq!(names[4], ("RTC_CTRL", 0x10));
        assert_eq!(names[5], ("RTC_STA", 0x14));
        assert_eq!(names[10], ("RTC_MISC", 0x28));
        for (i, r) in REGISTERS.iter().enumerate() {
            assert_eq!(r.offset, 4 * i as u32);
        }
        let mut b = Bench::new(EPOCH);
        assert_eq!(b.r(0x18), 0x03E8_0000, "trimming period 1000 s");
        let mut ctx = Bench::ctx(&mut b.queue, b.now);
        assert_eq!(b.dev.read(SIZE, Width::Word, &mut ctx), Access::Unmodelled);
    }

    #[test]
    fn power_on_holds_the_host_time_in_bcd_and_counts() {
        let mut b = Bench::new(EPOCH + 13 * 3600 + 59 * 60 + 58);
        assert_eq!(b.r(0x10), ctrl::RTCEN);
        // 13:59:58, Thursday (day 5 of 1..7 with Sunday = 1), 01 January, century 1, year 26.
        assert_eq!(b.r(0x00), 0x0013_5958);
        assert_eq!(b.r(0x04), 0x2681_0105);
        b.now = 3 * S;
        assert_eq!(b.r(0x00), 0x0013_5958, "the wrapper holds until refreshed");
        let cal = b.manual_read();
        assert_eq!(cal.time, 0x0014_0001);
        assert_eq!(cal.to_unix(), Some(EPOCH + 14 * 3600 + 1));
    }

    #[test]
    fn the_calendar_rolls_over_months_years_and_centuries() {
        // 2024-02-28 23:59:59 → 2024-02-29 (leap year) → 2024-03-01.
        let t = days_from_civil(2024, 2, 28) as u64 * 86_400 + 86_399;
        let c = Calendar::from_unix(t);
        assert_eq!(c.advance(1).to_unix(), Some(t + 1));
        assert_eq!(byte(c.advance(1).date, 1), 0x29);
        assert_eq!(c.advance(1 + 86_400).to_unix(), Some(t + 1 + 86_400));
        assert_eq!(byte(c.advance(1 + 86_400).date, 2) & 0x1F, 0x03);
        // 1999-12-31 23:59:59 → 2000-01-01: year 99 → 00 and the century bit set.
        let t = days_from_civil(1999, 12, 31) as u64 * 86_400 + 86_399;
        let c = Calendar::from_unix(t);
        assert_eq!(byte(c.date, 2) & 0x80, 0);
        let n = c.advance(1);
        assert_eq!(byte(n.date, 3), 0x00);
        assert_eq!(byte(n.date, 2), 0x81);
        assert_eq!(n.to_unix(), Some(t + 1));
        // A long jump agrees with Unix arithmetic.
        assert_eq!(
            Calendar::from_unix(EPOCH)
                .advance(400 * 86_400 + 7)
                .to_unix(),
            Some(EPOCH + 400 * 86_400 + 7)
        );
        // The week day cycles 1..7.
        assert_eq!(
            byte(Calendar::from_unix(EPOCH).advance(3 * 86_400).date, 0),
            1
        );
    }

    #[test]
    fn the_sdk_zero_struct_tm_counts_on_from_date_zero() {
        // rtc_write of `struct tm {0}`: TIME 00:00:00, DATE day 1, date 0, month 0, year 0.
        let mut b = Bench::new(EPOCH);
        b.w(0x04, 0x0000_0001);
        b.w(0x00, 0);
        let c = b.r(0x10);
        b.w(0x10, c | ctrl::WRST);
        b.run_until(SYNC_CYCLES);
        let t0 = b.now;
        b.now = t0 + 3661 * S;
        let cal = b.manual_read();
        assert_eq!(cal.time, 0x0001_0101, "1 h 1 m 1 s after the load");
        assert_eq!(cal.date, 0x0000_0001);
        b.now = t0 + 86_400 * S;
        let cal = b.manual_read();
        assert_eq!((cal.time, cal.date), (0, 0x0000_0102), "date 0 becomes 1");
    }

    #[test]
    fn writes_reach_the_counters_only_through_wrst() {
        let mut b = Bench::new(EPOCH);
        b.w(0x00, 0x0012_0000);
        assert_eq!(
            b.r(0x00),
            0x0012_0000,
            "the wrapper holds the written value"
        );
        b.now = 2 * S;
        assert_eq!(
            b.manual_read().time,
            0x0000_0002,
            "no WRST: counters untouched"
        );
        b.w(0x00, 0x0012_0000);
        b.write_reg(0x08, 0x8080_8080);
        let t = b.now;
        b.now = t + S - 1 - SYNC_CYCLES; // the copy is taken SYNC_CYCLES later
        assert_eq!(b.manual_read().time, 0x0012_0000);
        b.now = t + S;
        assert_eq!(
            b.manual_read().time,
            0x0012_0001,
            "the load restarted the divider"
        );
        // An alarm write alone does not load a stale time.
        b.now = t + 10 * S;
        b.write_reg(0x0C, 0x8080_8080);
        assert_eq!(b.manual_read().time, 0x0012_0010);
    }

    #[test]
    fn auto_refresh_shows_the_counters_and_stop_holds_them() {
        let mut b = Bench::new(EPOCH);
        b.write_reg(0x10, ctrl::RTCEN | ctrl::ARFEN);
        b.now = 5 * S;
        assert_eq!(b.r(0x00), 0x0000_0005);
        // rtc_stop: RTCEN and ARFEN off: counters and wrapper hold.
        b.write_reg(0x10, 0);
        b.now = 50 * S;
        assert_eq!(b.r(0x00), 0x0000_0005);
        assert_eq!(b.manual_read().time, 0x0000_0005);
        b.write_reg(0x10, ctrl::RTCEN);
        let t = b.now;
        b.now = t + S;
        assert_eq!(b.manual_read().time, 0x0000_0006);
    }

    #[test]
    fn a_seconds_alarm_interrupts_every_minute_and_sta_is_write_one_to_clear() {
        // RTC Example 2: alarm 1 on seconds == 02 (A1M1 = 0, others masked).
        let mut b = Bench::new(EPOCH);
        b.write_reg(0x10, ctrl::RTCEN | ctrl::ARFEN);
        b.write_reg(0x08, 0x8080_8002);
        b.write_reg(0x10, ctrl::RTCEN | ctrl::ARFEN | ctrl::A1IE | ctrl::INTEN);
        let t0 = b.now;
        b.run_until(t0 + S);
        assert!(!b.dev.irq());
        b.run_until(2 * S);
        assert_eq!(b.r(0x14), sta::A1INT);
        assert!(b.dev.irq());
        b.w(0x14, sta::A1INT);
        assert_eq!(b.r(0x14), 0);
        assert!(!b.dev.irq());
        b.run_until(61 * S);
        assert_eq!(b.r(0x14), 0, "next match at :02 of the next minute");
        b.run_until(62 * S);
        assert_eq!(b.r(0x14), sta::A1INT);
        // INTEN off: the flag stays, the request goes.
        b.write_reg(0x10, ctrl::RTCEN | ctrl::ARFEN | ctrl::A1IE);
        assert!(!b.dev.irq());
        assert!(b.dev.stats().contains(&("alarms", 2)));
    }

    #[test]
    fn a_once_per_second_alarm_and_a_date_alarm() {
        let mut b = Bench::new(EPOCH);
        b.write_reg(0x0C, 0x8080_8080);
        b.write_reg(0x08, 0x0100_0003); // date 01, 00:00:03
        b.write_reg(0x10, ctrl::RTCEN | ctrl::A1IE | ctrl::A2IE | ctrl::INTEN);
        b.run_until(S);
        assert_eq!(b.r(0x14), sta::A2INT, "alarm 2 every second");
        b.w(0x14, 0xFC);
        b.run_until(3 * S);
        assert_eq!(b.r(0x14), sta::A1INT | sta::A2INT);
    }

    #[test]
    fn twelve_hour_mode_counts_am_to_pm() {
        // 11:59:59 AM in 12-hour mode (bit 6), PM is bit 5.
        let c = Calendar {
            time: 0x0051_5959,
            date: Calendar::from_unix(EPOCH).date,
        };
        let n = c.advance(1);
        assert_eq!(byte(n.time, 2), 0x40 | 0x20 | 0x12, "12 PM");
        assert_eq!(n.to_unix(), Some(EPOCH + 12 * 3600));
        let m = c.advance(1 + 12 * 3600);
        assert_eq!(byte(m.time, 2), 0x40 | 0x12, "12 AM, the next day");
        assert_eq!(byte(m.date, 1), 0x02);
    }

    #[test]
    fn reset_is_power_on_again() {
        let mut b = Bench::new(EPOCH);
        b.write_reg(0x10, 0);
        b.now = 100 * S;
        let mut ctx = Bench::ctx(&mut b.queue, b.now);
        b.dev.reset(&mut ctx);
        assert_eq!(b.r(0x10), ctrl::RTCEN);
        assert_eq!(b.r(0x00), Calendar::from_unix(EPOCH).time);
        b.now = 101 * S;
        assert_eq!(b.dev.unix_time(b.now), Some(EPOCH + 1));
    }
}
