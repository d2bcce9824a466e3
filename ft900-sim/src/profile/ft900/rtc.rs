//! The legacy real-time clock of the FT900 rev B at 0x10280 (AN_324 §20; docs/hardware/rtc.md;
//! `docs/hardware/revisions.md`): a DesignWare-style 32-bit counter clocked from the
//! 32.768 kHz oscillator through a divider of 1024, so it counts **32 times per second**: the
//! count is seconds with 5 fractional bits, as the vendor's examples read it (RTC Example 1
//! `tm_sec >> 5`, RTC Example 2 `<< 5` when setting the match). One count every
//! [`CYCLES_PER_COUNT`] cycles of simulated time. Rev C has no such block (its RTC is the
//! calendar at 0x10900, [`super::rtc_calendar`]).
//!
//! # Power-on state
//! AN_324's reset values: the counter is 0 and stopped (CCR 0). The rev B RTC is powered by the
//! internal 1.2 V regulator (AN_324 §20), not by a battery, so it cannot know the time at
//! power-on; firmware loads it (`CCR = EN; CLR = value`). Writing CCR with `EN = 0` stops the
//! counter (it holds its value); setting `EN` again resumes it. The profile calls
//! [`Device::reset`] only at power-on, not on a watchdog chip reset or a peripheral soft reset.
//!
//! # Counting
//! Counting starts (`EN` 0→1, a CLR load, [`Rtc::set_seconds`]) at a phase origin `o`: the
//! counter increments at `o + k·CYCLES_PER_COUNT`, k ≥ 1 (a load restarts the divider: choice).
//! CCVR is computed from the cycle counter when read; nothing is scheduled unless a match
//! interrupt can happen. With `WEN = 0` the counter wraps from 0xFFFF_FFFF to 0; with `WEN = 1`
//! the count after the one that reached CMR is 0 (the counter shows CMR for one count, then 0:
//! a period of CMR + 1 counts).
//!
//! # Match interrupt
//! When a count makes the counter equal to CMR while `EN` and `IEN` are set, RSTAT bit 0 is set
//! (one event is scheduled for that count, only while `EN` and `IEN` are both set). Loading a
//! value equal to CMR is not a match (only counting makes matches: choice). STAT = RSTAT & IEN
//! & !MASK, the IRQ 19 request is STAT, and reading EOI (any width touching 0x18..0x1B) clears
//! RSTAT and returns 0.
//!
//! # Access widths
//! Registers are 32-bit; a narrower read returns the addressed byte lanes of the register. A
//! narrower write to CMR, CLR or CCR merges its lanes into the register value and applies the
//! merged value at once (so a CLR byte write loads the counter with the merged CLR). Writes to
//! the read-only registers are ignored.

use super::device::{Access, Ctx, Device, CPU_HZ};
use crate::isa::Width;

/// Counts per second: 32 768 Hz divided by 1024.
pub const COUNTS_PER_SECOND: u64 = 32;
/// Cycles per counter increment: 1/32 s of simulated time.
pub const CYCLES_PER_COUNT: u64 = CPU_HZ / COUNTS_PER_SECOND;
/// RTC_COMP_VERSION: "2.03*".
pub const COMP_VERSION: u32 =
    crate::profile::ft900::regs::reset_at(reg::REGS, reg::COMP_VERSION, true);

/// Register offsets from the block's base, as the register map declares them
/// ([`crate::profile::ft900::regs::rtc`]).
pub mod reg {
    pub use crate::profile::ft900::regs::rtc::*;
}

/// RTC_CCR bits.
pub mod ccr {
    /// The counter wraps to 0 after matching CMR.
    pub const WEN: u32 = 1 << 3;
    /// Count enable.
    pub const EN: u32 = 1 << 2;
    /// Interrupt mask.
    pub const MASK: u32 = 1 << 1;
    /// Interrupt enable.
    pub const IEN: u32 = 1 << 0;
}

/// Bytes of registers: the last one's offset plus its width.
const BLOCK_SIZE: u32 = reg::COMP_VERSION + 4;

/// 2^32, the counter's natural period.
const WRAP: u64 = 1 << 32;

impl Default for Rtc {
    fn default() -> Self {
        Rtc::new()
    }
}

/// Counters for `--stats` (kept across resets).
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    matches: u64,
    loads: u64,
    eoi_reads: u64,
}

/// The RTC.
#[derive(Debug)]
pub struct Rtc {
    cmr: u32,
    clr: u32,
    ccr: u32,
    rstat: bool,
    /// Phase origin: counts happen at `origin + k·CYCLES_PER_COUNT`, k ≥ 1.
    origin: u64,
    /// Counter value after count number `base_tick` (or the held value while stopped).
    base_value: u32,
    base_tick: u64,
    /// Token of the scheduled match event (0 = none).
    token: u64,
    serial: u64,
    stats: Stats,
}

impl Rtc {
    /// The RTC at power-on: counter 0, stopped (see the module docs).
    pub fn new() -> Rtc {
        Rtc {
            cmr: 0,
            clr: 0,
            ccr: 0,
            rstat: false,
            origin: 0,
            base_value: 0,
            base_tick: 0,
            token: 0,
            serial: 0,
            stats: Stats::default(),
        }
    }

    /// The counter (RTC_CCVR, in 1/32 s) at cycle `now`.
    pub fn counter(&self, now: u64) -> u32 {
        if !self.counting() {
            return self.base_value;
        }
        let n = self.tick(now).saturating_sub(self.base_tick);
        self.advance(self.base_value, n)
    }

    /// `true` while the counter counts (CCR.EN).
    pub fn enabled(&self) -> bool {
        self.counting()
    }

    /// Host side: sets the counter to `seconds` (× 32, modulo 2^32) at `ctx.now`, as a CLR load
    /// would, without changing the CLR register; the next count is 1/32 s later.
    pub fn set_seconds(&mut self, seconds: u32, ctx: &mut Ctx) {
        self.load(seconds.wrapping_mul(COUNTS_PER_SECOND as u32), ctx.now);
        self.reschedule(ctx);
    }

    fn counting(&self) -> bool {
        self.ccr & ccr::EN != 0
    }

    /// Counts since the phase origin at cycle `now`.
    fn tick(&self, now: u64) -> u64 {
        now.saturating_sub(self.origin) / CYCLES_PER_COUNT
    }

    /// The counter `n` counts after it held `v`.
    fn advance(&self, v: u32, n: u64) -> u32 {
        let v = v as u64;
        let result = if self.ccr & ccr::WEN != 0 {
            let period = self.cmr as u64 + 1;
            if v <= self.cmr as u64 {
                (v + n % period) % period
            } else {
                let to_zero = WRAP - v;
                if n < to_zero {
                    v + n
                } else {
                    (n - to_zero) % period
                }
            }
        } else {
            (v + n % WRAP) % WRAP
        };
        result as u32
    }

    /// Counts (≥ 1) until the counter next becomes equal to CMR, starting from `v`.
    fn counts_to_match(&self, v: u32) -> u64 {
        let (v, cmr) = (v as u64, self.cmr as u64);
        if self.ccr & ccr::WEN != 0 {
            if v < cmr {
                cmr - v
            } else if v == cmr {
                cmr + 1
            } else {
                (WRAP - v) + cmr
            }
        } else {
            match (cmr + WRAP - v) % WRAP {
                0 => WRAP,
                d => d,
            }
        }
    }

    /// Freezes the current value as the base (before CMR, WEN or EN change).
    fn rebase(&mut self, now: u64) {
        if self.counting() {
            self.base_value = self.counter(now);
            self.base_tick = self.tick(now);
        }
    }

    /// Loads the counter with `value` at `now` and restarts the sub-second phase.
    fn load(&mut self, value: u32, now: u64) {
        self.base_value = value;
        self.origin = now;
        self.base_tick = 0;
        self.stats.loads += 1;
    }

    /// Schedules the next match event if a match interrupt can happen, cancelling the old one.
    fn reschedule(&mut self, ctx: &mut Ctx) {
        self.token = 0;
        if !self.counting() || self.ccr & ccr::IEN == 0 {
            return;
        }
        let tick = self.tick(ctx.now);
        let d = self.counts_to_match(self.counter(ctx.now));
        let at = self
            .origin
            .saturating_add((tick + d).saturating_mul(CYCLES_PER_COUNT));
        self.serial += 1;
        self.token = self.serial;
        ctx.schedule_at(at, self.token);
    }

    fn write_ccr(&mut self, value: u32, ctx: &mut Ctx) {
        let was_counting = self.counting();
        self.rebase(ctx.now);
        self.ccr = value & 0xF;
        if !was_counting && self.counting() {
            self.origin = ctx.now;
            self.base_tick = 0;
        }
        self.reschedule(ctx);
    }

    /// The register at word `offset` at cycle `now`, read without side effects.
    pub fn register(&self, offset: u32, now: u64) -> u32 {
        match offset {
            reg::CCVR => self.counter(now),
            reg::CMR => self.cmr,
            reg::CLR => self.clr,
            reg::CCR => self.ccr,
            reg::STAT => self.irq() as u32,
            reg::RSTAT => self.rstat as u32,
            reg::EOI => 0,
            _ => COMP_VERSION,
        }
    }
}

impl Device for Rtc {
    fn name(&self) -> &'static str {
        "rtc"
    }

    fn read(&mut self, offset: u32, width: Width, ctx: &mut Ctx) -> Access<u32> {
        if offset >= BLOCK_SIZE {
            return Access::Unmodelled;
        }
        let word = offset & !3;
        let shift = 8 * (offset & 3);
        let value = (self.register(word, ctx.now) >> shift) & width.mask();
        if word == reg::EOI {
            self.rstat = false;
            self.stats.eoi_reads += 1;
        }
        Access::Done(value)
    }

    fn write(&mut self, offset: u32, width: Width, value: u32, ctx: &mut Ctx) -> Access<()> {
        if offset >= BLOCK_SIZE {
            return Access::Unmodelled;
        }
        let word = offset & !3;
        let shift = 8 * (offset & 3);
        let lanes = width.mask() << shift;
        let merge = |old: u32| (old & !lanes) | ((value << shift) & lanes);
        match word {
            reg::CMR => {
                self.rebase(ctx.now);
                self.cmr = merge(self.cmr);
                self.reschedule(ctx);
            }
            reg::CLR => {
                self.clr = merge(self.clr);
                self.load(self.clr, ctx.now);
                self.reschedule(ctx);
            }
            reg::CCR => self.write_ccr(merge(self.ccr), ctx),
            // CCVR, STAT, RSTAT, EOI, COMP_VERSION are read-only.
            _ => {}
        }
        Access::Done(())
    }

    fn event(&mut self, token: u64, ctx: &mut Ctx) {
        if token == 0 || token != self.token {
            return;
        }
        self.rstat = true;
        self.stats.matches += 1;
        self.reschedule(ctx);
    }

    /// IRQ 19 request: RTC_STAT bit 0.
    fn irq(&self) -> bool {
        self.rstat && self.ccr & ccr::IEN != 0 && self.ccr & ccr::MASK == 0
    }

    /// Power-on: counter 0, stopped; statistics kept.
    fn reset(&mut self, ctx: &mut Ctx) {
        let (serial, stats) = (self.serial, self.stats);
        *self = Rtc::new();
        self.serial = serial;
        self.stats = stats;
        self.origin = ctx.now;
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("matches", self.stats.matches),
            ("loads", self.stats.loads),
            ("eoi-reads", self.stats.eoi_reads),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::device::SysView;
    use super::super::event::{EventQueue, Source};
    use super::*;

    const S: u64 = CYCLES_PER_COUNT;

    struct Bench {
        dev: Rtc,
        queue: EventQueue,
        now: u64,
    }

    impl Bench {
        /// A chip fresh from power-on.
        fn fresh() -> Bench {
            Bench {
                dev: Rtc::new(),
                queue: EventQueue::new(),
                now: 0,
            }
        }

        /// An RTC counting from `start` since cycle 0 (loaded and enabled at cycle 0, CLR
        /// register untouched).
        fn new(start: u32) -> Bench {
            let mut b = Bench::fresh();
            b.dev.load(start, 0);
            b.dev.ccr = ccr::EN;
            b
        }

        fn ctx_at(queue: &mut EventQueue, now: u64) -> Ctx<'_> {
            Ctx {
                now,
                queue,
                source: Source::Rtc,
                sys: SysView::default(),
            }
        }

        fn w(&mut self, offset: u32, value: u32) {
            let mut ctx = Bench::ctx_at(&mut self.queue, self.now);
            let r = self.dev.write(offset, Width::Word, value, &mut ctx);
            assert_eq!(r, Access::Done(()));
        }

        fn r(&mut self, offset: u32) -> u32 {
            self.rw(offset, Width::Word)
        }

        fn rw(&mut self, offset: u32, width: Width) -> u32 {
            let mut ctx = Bench::ctx_at(&mut self.queue, self.now);
            match self.dev.read(offset, width, &mut ctx) {
                Access::Done(v) => v,
                Access::Unmodelled => panic!("offset {offset:#x} unmodelled"),
            }
        }

        /// Runs every event up to `until`, then sets the clock to `until`.
        fn run_until(&mut self, until: u64) {
            while let Some((at, source, token)) = self.queue.pop_due(until) {
                assert_eq!(source, Source::Rtc);
                self.now = at;
                let mut ctx = Bench::ctx_at(&mut self.queue, at);
                self.dev.event(token, &mut ctx);
            }
            self.now = until;
        }

        /// Cycle of the next match event that is still current.
        fn next_match(&mut self) -> Option<u64> {
            loop {
                let (at, _, token) = self.queue.pop_due(u64::MAX)?;
                if token == self.dev.token {
                    self.now = at;
                    let mut ctx = Bench::ctx_at(&mut self.queue, at);
                    self.dev.event(token, &mut ctx);
                    return Some(at);
                }
            }
        }
    }

    #[test]
    fn power_on_values_follow_an_324() {
        let mut b = Bench::fresh();
        assert_eq!(b.r(reg::CCVR), 0);
        assert_eq!(b.r(reg::CMR), 0);
        assert_eq!(b.r(reg::CLR), 0);
        assert_eq!(b.r(reg::CCR), 0, "stopped: no battery keeps it running");
        assert_eq!(b.r(reg::STAT), 0);
        assert_eq!(b.r(reg::RSTAT), 0);
        assert_eq!(b.r(reg::EOI), 0);
        assert_eq!(b.r(reg::COMP_VERSION), 0x3230_332A);
        assert!(!b.dev.irq());
        b.now = 10 * CPU_HZ;
        assert_eq!(b.r(reg::CCVR), 0, "it does not count until EN is set");
        assert!(b.queue.is_empty(), "no events without a match interrupt");
        let mut ctx = Bench::ctx_at(&mut b.queue, 0);
        assert_eq!(b.dev.read(0x20, Width::Word, &mut ctx), Access::Unmodelled);
    }

    #[test]
    fn counts_32_times_per_second_of_simulated_time() {
        assert_eq!(S, 3_125_000);
        let mut b = Bench::new(1000);
        b.now = S - 1;
        assert_eq!(b.r(reg::CCVR), 1000);
        b.now = S;
        assert_eq!(b.r(reg::CCVR), 1001);
        b.now = CPU_HZ;
        assert_eq!(b.r(reg::CCVR), 1000 + 32, "one second is 32 counts");
        b.now = 3600 * CPU_HZ + CPU_HZ / 2;
        assert_eq!(b.r(reg::CCVR), 1000 + 3600 * 32 + 16);
        assert_eq!(b.dev.counter(b.now) >> 5, (1000 >> 5) + 3600);
    }

    #[test]
    fn the_sdk_recipe_counts_uptime_from_zero() {
        // RTC Example 1: rtc_write(tm_sec = 0) loads CLR, rtc_start sets EN.
        let mut b = Bench::fresh();
        b.now = 7 * S + 3;
        b.w(reg::CLR, 0);
        b.w(reg::CCR, ccr::EN);
        b.now += 5 * CPU_HZ;
        assert_eq!(b.r(reg::CCVR) >> 5, 5, "tm_sec >> 5 is whole seconds");
        assert_eq!(b.r(reg::CCVR), 160);
    }

    #[test]
    fn en_clear_holds_the_counter_and_en_resumes_it() {
        let mut b = Bench::new(10);
        b.now = 2 * S + 5;
        b.w(reg::CCR, 0);
        b.now = 100 * S;
        assert_eq!(b.r(reg::CCVR), 12);
        b.w(reg::CCR, ccr::EN);
        b.now = 101 * S - 1;
        assert_eq!(b.r(reg::CCVR), 12);
        b.now = 101 * S;
        assert_eq!(b.r(reg::CCVR), 13);
    }

    #[test]
    fn clr_write_loads_the_counter_and_restarts_the_phase() {
        let mut b = Bench::new(0);
        // The SDK recipe: CCR = EN, CLR = seconds.
        b.now = S / 3;
        b.w(reg::CCR, ccr::EN);
        b.w(reg::CLR, 1_234_567);
        assert_eq!(b.r(reg::CLR), 1_234_567);
        assert_eq!(b.r(reg::CCVR), 1_234_567);
        b.now = S / 3 + S - 1;
        assert_eq!(b.r(reg::CCVR), 1_234_567);
        b.now = S / 3 + S;
        assert_eq!(b.r(reg::CCVR), 1_234_568);
        // A load while stopped holds the value.
        b.w(reg::CCR, 0);
        b.w(reg::CLR, 42);
        b.now += 10 * S;
        assert_eq!(b.r(reg::CCVR), 42);
    }

    #[test]
    fn host_can_skew_the_clock() {
        let mut b = Bench::new(100);
        b.now = 5 * S;
        let mut ctx = Bench::ctx_at(&mut b.queue, b.now);
        b.dev.set_seconds(9000, &mut ctx);
        assert_eq!(b.r(reg::CCVR), 9000 * 32);
        assert_eq!(b.r(reg::CLR), 0, "CLR is firmware's register");
        b.now = 6 * S;
        assert_eq!(b.r(reg::CCVR), 9000 * 32 + 1);
    }

    #[test]
    fn match_interrupt_sets_rstat_and_eoi_clears_it() {
        let mut b = Bench::new(0);
        b.w(reg::CLR, 100);
        b.w(reg::CMR, 103);
        b.w(reg::CCR, ccr::EN | ccr::IEN);
        assert_eq!(b.next_match(), Some(3 * S));
        assert_eq!(b.r(reg::CCVR), 103);
        assert_eq!(b.r(reg::RSTAT), 1);
        assert_eq!(b.r(reg::STAT), 1);
        assert!(b.dev.irq());
        // Reading EOI clears it; the counter holds 103 for the rest of the second, no re-match.
        assert_eq!(b.r(reg::EOI), 0);
        assert_eq!(b.r(reg::RSTAT), 0);
        assert!(!b.dev.irq());
        b.run_until(3 * S + S / 2);
        assert_eq!(b.r(reg::RSTAT), 0);
        // Without WEN the next match is after a full 2^32-second wrap.
        assert_eq!(b.next_match(), Some((3 + (1u64 << 32)) * S));
        let stats = b.dev.stats();
        assert!(stats.contains(&("matches", 2)));
        assert!(stats.contains(&("eoi-reads", 1)));
    }

    #[test]
    fn wrap_enable_restarts_from_zero_after_the_match() {
        let mut b = Bench::new(0);
        b.w(reg::CLR, 0);
        b.w(reg::CMR, 2);
        b.w(reg::CCR, ccr::EN | ccr::WEN | ccr::IEN);
        let seen: Vec<u32> = (0..7)
            .map(|k| {
                b.now = k * S;
                b.r(reg::CCVR)
            })
            .collect();
        assert_eq!(seen, [0, 1, 2, 0, 1, 2, 0]);
        b.now = 0;
        assert_eq!(b.next_match(), Some(2 * S));
        b.r(reg::EOI);
        assert_eq!(b.next_match(), Some(5 * S));
    }

    #[test]
    fn mask_hides_stat_but_not_rstat_and_ien_gates_the_match() {
        let mut b = Bench::new(0);
        b.w(reg::CLR, 0);
        b.w(reg::CMR, 1);
        // IEN = 0: no event, no raw status.
        b.w(reg::CCR, ccr::EN);
        assert!(b.queue.is_empty());
        b.run_until(2 * S);
        assert_eq!(b.r(reg::RSTAT), 0);
        // IEN + MASK: raw status set, STAT and the request stay 0.
        b.w(reg::CLR, 0);
        b.w(reg::CCR, ccr::EN | ccr::IEN | ccr::MASK);
        assert_eq!(b.next_match(), Some(3 * S));
        assert_eq!(b.r(reg::RSTAT), 1);
        assert_eq!(b.r(reg::STAT), 0);
        assert!(!b.dev.irq());
        b.w(reg::CCR, ccr::EN | ccr::IEN);
        assert_eq!(b.r(reg::STAT), 1);
        assert!(b.dev.irq());
    }

    #[test]
    fn changing_cmr_moves_the_match() {
        let mut b = Bench::new(0);
        b.w(reg::CLR, 0);
        b.w(reg::CMR, 10);
        b.w(reg::CCR, ccr::EN | ccr::IEN);
        b.now = 4 * S + 1;
        b.w(reg::CMR, 6);
        assert_eq!(b.next_match(), Some(6 * S));
        assert!(b.next_match().is_some_and(|at| at > 6 * S));
    }

    #[test]
    fn narrow_accesses_use_byte_lanes() {
        let mut b = Bench::new(0x1122_3344);
        assert_eq!(b.rw(reg::CCVR + 1, Width::Byte), 0x33);
        assert_eq!(b.rw(reg::CCVR + 2, Width::Half), 0x1122);
        assert_eq!(b.rw(reg::COMP_VERSION + 3, Width::Byte), 0x32);
        let mut ctx = Bench::ctx_at(&mut b.queue, 0);
        b.dev.write(reg::CMR + 2, Width::Half, 0xBEEF, &mut ctx);
        b.dev.write(reg::CMR, Width::Byte, 0x01, &mut ctx);
        assert_eq!(b.r(reg::CMR), 0xBEEF_0001);
        // A byte write of CLR loads the merged CLR.
        let mut ctx = Bench::ctx_at(&mut b.queue, 0);
        b.dev.write(reg::CLR + 1, Width::Byte, 0x02, &mut ctx);
        assert_eq!(b.r(reg::CCVR), 0x200);
        // A narrow read of EOI clears too.
        b.dev.rstat = true;
        assert_eq!(b.rw(reg::EOI + 2, Width::Byte), 0);
        assert_eq!(b.r(reg::RSTAT), 0);
    }

    #[test]
    fn reset_is_power_on_at_the_current_cycle_stopped_at_zero() {
        let mut b = Bench::new(77);
        b.w(reg::CCR, 0);
        b.w(reg::CLR, 5);
        b.w(reg::CMR, 9);
        let mut ctx = Bench::ctx_at(&mut b.queue, 10 * S + 3);
        b.dev.reset(&mut ctx);
        b.now = 10 * S + 3;
        assert_eq!(b.r(reg::CCVR), 0);
        assert_eq!(b.r(reg::CCR), 0);
        assert_eq!(b.r(reg::CMR), 0);
        b.w(reg::CCR, ccr::EN);
        b.now = 11 * S + 3;
        assert_eq!(b.r(reg::CCVR), 1);
    }
}
