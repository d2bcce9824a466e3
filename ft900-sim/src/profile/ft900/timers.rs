//! Timers A–D, the shared prescaler and the watchdog at 0x10340 (AN_324 §14;
//! docs/hardware/timers.md §1–4). Byte registers; 16- and 32-bit accesses are split into byte
//! accesses in ascending address order.
//!
//! # Time model
//! Nothing ticks per cycle. Every timer remembers where it was at a base instant and computes
//! its position from the cycle counter; the event queue gets one event per roll-over of a running
//! timer and one per watchdog expiry.
//!
//! * **Block time.** `block_en` (CONTROL_0 bit 1) gates the clock of the user timers and of the
//!   prescaler: they count only while it is 1, and hold their state while it is 0. Block time
//!   `B` is the number of cycles spent with `block_en = 1`; all timer arithmetic is in `B`.
//! * **Prescaler** (rev B: one, shared by the four timers; rev C: one per timer, its value
//!   written through write_sel, PRESC_LS/MS showing write_sel's, and CONTROL_4 bit 4+t
//!   clearing timer t's; the SDK's `timer_prescaler_ex`). With value `P` it ticks every `P`
//!   cycles of `B`;
//!   `P = 0` divides by 65 536, as a 16-bit down-counter loaded with 0 would (choice: undocumented).
//!   It starts when a timer that uses it starts and it is not running yet (its phase origin is
//!   that instant, so the first tick comes `P` cycles later); it stops only on
//!   `presc_clear` (CONTROL_4 bit 4; rev C: 4+t), which is ignored while a running timer
//!   uses it (AN_324
//!   §14). The divisor is latched when the prescaler starts: writing PRESC_LS/MS while it runs
//!   changes the register, not the running divisor, until the next clear and start (AN_324: a
//!   write while in use "may be ignored").
//! * **Timer t** counts cycles of `B`, or prescaler ticks when CONTROL_2 bit 4+t is set.
//!   The start value `S` (TIMER_WRITE with write_sel = t) is latched on start and on clear_t;
//!   the period is `S` counts, and `S = 0` means 65 536 counts (a 16-bit counter wrapping;
//!   choice: undocumented, docs/hardware/open-questions.md q14). With `k` counts since the
//!   last load, the position is
//!   `k mod period`; a roll-over happens every time `k` reaches a multiple of the period.
//!   READ shows `k mod period` counting up (0..S−1) and `(period − k mod period) mod 65536`
//!   counting down (S..1; the count that reaches 0 is the roll-over and reloads S, so 0 is
//!   never seen in continuous mode). Direction therefore changes what READ shows, never when
//!   roll-overs happen.
//! * **Next roll-over** is computed from the timer's base in integer counts, never from the
//!   previous event plus a delay, so continuous mode cannot drift: with `P = 50, S = 2000`
//!   started at cycle `c0` (prescaler idle), roll-over `n` is at exactly `c0 + n·100 000`.
//! * **Start** of a stopped timer loads it (down: S, up: 0) and runs; start of a running timer
//!   does nothing. **Stop** freezes the value READ shows. **clear_t** reloads a running timer
//!   (the next count comes at the next tick of its clock) and sets a stopped timer's held value
//!   to its initial value (down: S, up: 0). When one byte sets both start_t and stop_t, the stop
//!   is applied first (the timer restarts). A **one-shot** timer stops at its first roll-over and
//!   then reads 0. Writing TIMER_WRITE while a timer runs takes effect at its next start or
//!   clear (the SDK always stops a timer before writing it).
//! * **READ_LS/MS** show the timer selected by read_sel. The first byte of the pair that is read
//!   takes a snapshot of the 16-bit value; the other byte, if it is the next one read, comes from
//!   that snapshot; so `LS` then `MS`, and `MS` then `LS` (the SDK's `(MS << 8) | LS` leaves
//!   the order to the compiler), both give a consistent value. Writing TIMER_SELECT drops the
//!   snapshot.
//! * **soft_reset** (CONTROL_0 bit 0) puts the user timers, the prescaler, TIMER_INT,
//!   TIMER_SELECT, CONTROL_3 and the prescaler-enable bits back to zero; `block_en` then takes
//!   bit 1 of the same write. It does not touch the watchdog, which "cannot be stopped once
//!   started" (choice).
//!
//! # Watchdog
//! Counts CPU cycles, independent of `block_en` (the SDK's `wdt_init` never sets it).
//! `start_wdg` (once; later starts do nothing) and `clear_wdg` (the kick, only while started)
//! latch `2^N` from TIMER_WDG and set the deadline to `now + 2^N`; a new TIMER_WDG value takes
//! effect at the next kick. At each expiry the count restarts (the next deadline is the previous
//! one plus 2^N), `wdg_int` (CONTROL_2 bit 2, RW1C) is set and, while `wdg_int_ien` is set,
//! [`Timers::watchdog_request`] asks for vector 0x04. The **second expiry without a kick** makes
//! [`Timers::take_chip_reset`] return `true` once, whether or not software cleared `wdg_int`
//! in between: this is the "second level timeout" the rev C/FT930 crt0 handler waits for after
//! clearing bit 2 (docs/hardware/timers.md §4: "second expiry without a kick → reset"); requiring
//! `wdg_int` to stay set would leave that handler spinning forever.

use super::device::{read_bytes, write_bytes, Access, Ctx, Device};
use crate::isa::Width;

/// Register offsets from the block's base (WDG_STATUS: rev C only), as the register map
/// declares them ([`crate::profile::ft900::regs::timers`]).
pub mod reg {
    pub use crate::profile::ft900::regs::timers::*;
}

/// CONTROL_2 bits.
mod c2 {
    pub const WDG_INT_IEN: u8 = 1 << 3;
    pub const WDG_INT: u8 = 1 << 2;
    pub const CLEAR_WDG: u8 = 1 << 1;
    pub const START_WDG: u8 = 1 << 0;
}

/// Number of user timers.
const TIMERS: usize = 4;
/// Event kind of the watchdog (timers use 0..3); tokens are `(serial << 3) | kind`.
const KIND_WDG: u64 = 4;
/// TIMER_INT: the pending bits (even positions).
const INT_PENDING: u8 = 0x55;
/// TIMER_INT: the enable bits (odd positions).
const INT_ENABLE: u8 = 0xAA;

/// Names of the per-timer roll-over counters in [`Device::stats`].
const ROLLOVER_NAMES: [&str; TIMERS] = [
    "timer-a-rollovers",
    "timer-b-rollovers",
    "timer-c-rollovers",
    "timer-d-rollovers",
];

/// One user timer.
#[derive(Clone, Copy, Debug, Default)]
struct Timer {
    /// TIMER_WRITE value (the register, read back through TIMER_WRITE_LS/MS).
    start_value: u16,
    /// Counting (started and not stopped, one-shot not finished).
    running: bool,
    /// Counts per roll-over, latched on start/clear: 1..=65536.
    period: u64,
    /// Position (counts since load, reduced modulo the period) at the base.
    base_pos: u64,
    /// Index of the timer's clock (block cycles or prescaler ticks) at the base.
    base_clock: u64,
    /// Value READ shows while stopped.
    held: u16,
    /// Token of the pending roll-over event (0 = none).
    token: u64,
}

/// The running prescaler.
#[derive(Clone, Copy, Debug)]
struct Prescaler {
    /// Block time at which it started: ticks at `origin + k·div`, k ≥ 1.
    origin: u64,
    /// Divisor latched at start: 1..=65536.
    div: u64,
}

/// Snapshot of a 16-bit READ value, waiting for its other byte.
#[derive(Clone, Copy, Debug)]
struct ReadLatch {
    /// `true` when READ_MS is the byte still to be read.
    ms_pending: bool,
    value: u16,
}

/// The started watchdog.
#[derive(Clone, Copy, Debug)]
struct Watchdog {
    /// Latched timeout: 2^N cycles.
    period: u64,
    /// Cycle of the next expiry.
    deadline: u64,
    /// Expiries since the last start or kick.
    since_kick: u32,
}

/// Counters for `--stats` (kept across resets).
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    rollovers: [u64; TIMERS],
    wdg_kicks: u64,
    wdg_expiries: u64,
    wdg_resets: u64,
}

/// The timer block.
#[derive(Debug)]
pub struct Timers {
    /// Rev C: one prescaler per timer and TIMER_WDG_STATUS.
    rev_c: bool,
    /// TIMER_WDG_STATUS bit 0 (rev C).
    wdg_status: bool,
    block_en: bool,
    /// CONTROL_2 bits 7:4 (as bits 3:0).
    presc_en: u8,
    wdg_int_ien: bool,
    wdg_int: bool,
    control3: u8,
    timer_int: u8,
    select: u8,
    wdg_exp: u8,
    /// Prescaler values: index 0 only on rev B, one per timer on rev C.
    presc_value: [u16; TIMERS],
    /// Running prescalers, indexed as `presc_value`.
    presc: [Option<Prescaler>; TIMERS],
    timers: [Timer; TIMERS],
    /// Block time accumulated up to `block_since` (valid while `block_en`), or in total.
    block_acc: u64,
    /// Cycle at which `block_en` last became 1.
    block_since: u64,
    read_latch: Option<ReadLatch>,
    watchdog: Option<Watchdog>,
    wdg_token: u64,
    chip_reset_pending: bool,
    /// Source of unique event tokens (kept across resets so old events stay stale).
    serial: u64,
    stats: Stats,
}

impl Default for Timers {
    fn default() -> Self {
        Self::new()
    }
}

impl Timers {
    /// The block of a rev C chip (per-timer prescalers, TIMER_WDG_STATUS) at power-on.
    pub fn rev_c() -> Timers {
        Timers {
            rev_c: true,
            ..Timers::new()
        }
    }

    /// The chip was reset by the watchdog's second roll-over: rev C's TIMER_WDG_STATUS says
    /// so until it is read (call after [`Device::reset`]).
    pub fn note_watchdog_reset(&mut self) {
        self.wdg_status = self.rev_c;
    }

    /// The prescaler timer `t` uses: its own on rev C, the shared one (0) on rev B.
    fn pidx(&self, t: usize) -> usize {
        if self.rev_c {
            t
        } else {
            0
        }
    }

    /// The prescaler PRESC_LS/MS address: write_sel's on rev C, the shared one on rev B.
    fn presc_reg(&self) -> usize {
        if self.rev_c {
            self.write_sel()
        } else {
            0
        }
    }
}

/// Counts per period for a 16-bit start/prescaler value (0 means 65 536).
fn period_of(value: u16) -> u64 {
    if value == 0 {
        0x1_0000
    } else {
        value as u64
    }
}

impl Timers {
    /// Power-on state of a rev B block: everything 0, block disabled, watchdog not started.
    pub fn new() -> Timers {
        Timers {
            rev_c: false,
            wdg_status: false,
            block_en: false,
            presc_en: 0,
            wdg_int_ien: false,
            wdg_int: false,
            control3: 0,
            timer_int: 0,
            select: 0,
            wdg_exp: 0,
            presc_value: [0; TIMERS],
            presc: [None; TIMERS],
            timers: [Timer::default(); TIMERS],
            block_acc: 0,
            block_since: 0,
            read_latch: None,
            watchdog: None,
            wdg_token: 0,
            chip_reset_pending: false,
            serial: 0,
            stats: Stats::default(),
        }
    }

    /// The watchdog expired with its interrupt enabled: the CPU must take vector 0x04. Stays
    /// `true` until software clears `wdg_int` (or `wdg_int_ien`).
    pub fn watchdog_request(&self) -> bool {
        self.wdg_int && self.wdg_int_ien
    }

    /// The watchdog expired a second time without being kicked: the chip resets. Returns
    /// `true` once per such expiry.
    pub fn take_chip_reset(&mut self) -> bool {
        std::mem::take(&mut self.chip_reset_pending)
    }

    /// Value of timer `t` (0..3) at cycle `now`, as READ would show it (without the snapshot).
    pub fn counter(&self, t: usize, now: u64) -> u16 {
        let tm = &self.timers[t];
        if !tm.running {
            return tm.held;
        }
        let phase = self.position(t, now) % tm.period;
        if self.counts_up(t) {
            phase as u16
        } else {
            ((tm.period - phase) & 0xFFFF) as u16
        }
    }

    /// `true` while timer `t` counts.
    pub fn running(&self, t: usize) -> bool {
        self.timers[t].running
    }

    /// Roll-overs of timer `t` so far.
    pub fn rollovers(&self, t: usize) -> u64 {
        self.stats.rollovers[t]
    }

    /// Watchdog expiries so far.
    pub fn watchdog_expiries(&self) -> u64 {
        self.stats.wdg_expiries
    }

    /// `true` once the watchdog has been started (until the next reset).
    pub fn watchdog_started(&self) -> bool {
        self.watchdog.is_some()
    }

    fn counts_up(&self, t: usize) -> bool {
        self.control3 & (0x10 << t) != 0
    }

    fn one_shot(&self, t: usize) -> bool {
        self.control3 & (1 << t) != 0
    }

    fn uses_presc(&self, t: usize) -> bool {
        self.presc_en & (1 << t) != 0
    }

    /// Block time at cycle `now`.
    fn block_time(&self, now: u64) -> u64 {
        if self.block_en {
            self.block_acc + now.saturating_sub(self.block_since)
        } else {
            self.block_acc
        }
    }

    /// Cycle at which block time reaches `b` (`b` ≥ the current block time; block enabled).
    fn cycle_of(&self, b: u64) -> u64 {
        self.block_since
            .saturating_add(b.saturating_sub(self.block_acc))
    }

    /// Index of timer `t`'s clock at block time `b`.
    fn clock(&self, t: usize, b: u64) -> u64 {
        if self.uses_presc(t) {
            match self.presc[self.pidx(t)] {
                Some(p) => b.saturating_sub(p.origin) / p.div,
                None => 0,
            }
        } else {
            b
        }
    }

    /// Block time of clock index `c` of timer `t`.
    fn block_time_of_clock(&self, t: usize, c: u64) -> u64 {
        match (self.uses_presc(t), self.presc[self.pidx(t)]) {
            (true, Some(p)) => p.origin.saturating_add(c.saturating_mul(p.div)),
            _ => c,
        }
    }

    /// Counts since the last load (not reduced) of a running timer.
    fn position(&self, t: usize, now: u64) -> u64 {
        let tm = &self.timers[t];
        let clock = self.clock(t, self.block_time(now));
        tm.base_pos + clock.saturating_sub(tm.base_clock)
    }

    /// Starts the prescaler of timer `t` unless it runs.
    fn start_prescaler_if_idle(&mut self, t: usize, now: u64) {
        let p = self.pidx(t);
        if self.presc[p].is_none() {
            self.presc[p] = Some(Prescaler {
                origin: self.block_time(now),
                div: period_of(self.presc_value[p]),
            });
        }
    }

    /// Loads timer `t` (position 0, period from the current start value) at `now`.
    fn load(&mut self, t: usize, now: u64) {
        let clock = self.clock(t, self.block_time(now));
        let tm = &mut self.timers[t];
        tm.period = period_of(tm.start_value);
        tm.base_pos = 0;
        tm.base_clock = clock;
    }

    /// (Re)schedules the next roll-over event of timer `t`, cancelling the previous one.
    fn schedule(&mut self, t: usize, ctx: &mut Ctx) {
        self.timers[t].token = 0;
        if !self.timers[t].running || !self.block_en {
            return;
        }
        let now = ctx.now;
        let clock = self.clock(t, self.block_time(now));
        let remaining = {
            let tm = &self.timers[t];
            tm.period - self.position(t, now) % tm.period
        };
        let at = self.cycle_of(self.block_time_of_clock(t, clock + remaining));
        self.serial += 1;
        let token = (self.serial << 3) | t as u64;
        self.timers[t].token = token;
        ctx.schedule_at(at, token);
    }

    fn reschedule_timers(&mut self, ctx: &mut Ctx) {
        for t in 0..TIMERS {
            self.schedule(t, ctx);
        }
    }

    fn start(&mut self, t: usize, ctx: &mut Ctx) {
        if self.timers[t].running {
            return;
        }
        if self.uses_presc(t) {
            self.start_prescaler_if_idle(t, ctx.now);
        }
        self.timers[t].running = true;
        self.load(t, ctx.now);
        self.schedule(t, ctx);
    }

    fn stop(&mut self, t: usize, ctx: &mut Ctx) {
        if !self.timers[t].running {
            return;
        }
        let value = self.counter(t, ctx.now);
        let tm = &mut self.timers[t];
        tm.held = value;
        tm.running = false;
        tm.token = 0;
    }

    fn clear(&mut self, t: usize, ctx: &mut Ctx) {
        if self.timers[t].running {
            self.load(t, ctx.now);
            self.schedule(t, ctx);
        } else {
            let initial = if self.counts_up(t) {
                0
            } else {
                self.timers[t].start_value
            };
            self.timers[t].held = initial;
        }
    }

    /// Clears prescaler `p` unless a running timer uses it.
    fn clear_prescaler(&mut self, p: usize) {
        let in_use =
            (0..TIMERS).any(|t| self.pidx(t) == p && self.timers[t].running && self.uses_presc(t));
        if !in_use {
            self.presc[p] = None;
        }
    }

    /// New prescaler-enable bits (CONTROL_2 bits 7:4 as 3:0): a running timer keeps its
    /// position and continues on its new clock.
    fn set_presc_en(&mut self, bits: u8, ctx: &mut Ctx) {
        for t in 0..TIMERS {
            let bit = 1u8 << t;
            if (self.presc_en ^ bits) & bit == 0 {
                continue;
            }
            if !self.timers[t].running {
                self.presc_en ^= bit;
                continue;
            }
            let pos = self.position(t, ctx.now) % self.timers[t].period;
            self.presc_en ^= bit;
            if self.uses_presc(t) {
                self.start_prescaler_if_idle(t, ctx.now);
            }
            let clock = self.clock(t, self.block_time(ctx.now));
            let tm = &mut self.timers[t];
            tm.base_pos = pos;
            tm.base_clock = clock;
            self.schedule(t, ctx);
        }
    }

    fn set_block_en(&mut self, enable: bool, ctx: &mut Ctx) {
        if enable == self.block_en {
            return;
        }
        if enable {
            self.block_since = ctx.now;
        } else {
            self.block_acc += ctx.now.saturating_sub(self.block_since);
        }
        self.block_en = enable;
        self.reschedule_timers(ctx);
    }

    /// CONTROL_0 soft_reset: user timers, prescaler and their registers back to 0.
    fn soft_reset(&mut self) {
        for tm in &mut self.timers {
            *tm = Timer::default();
        }
        self.presc_en = 0;
        self.control3 = 0;
        self.timer_int = 0;
        self.select = 0;
        self.presc_value = [0; TIMERS];
        self.presc = [None; TIMERS];
        self.read_latch = None;
    }

    fn schedule_watchdog(&mut self, ctx: &mut Ctx) {
        self.wdg_token = 0;
        if let Some(w) = self.watchdog {
            self.serial += 1;
            self.wdg_token = (self.serial << 3) | KIND_WDG;
            ctx.schedule_at(w.deadline, self.wdg_token);
        }
    }

    fn start_watchdog(&mut self, ctx: &mut Ctx) {
        if self.watchdog.is_some() {
            return;
        }
        let period = 1u64 << self.wdg_exp;
        self.watchdog = Some(Watchdog {
            period,
            deadline: ctx.now.saturating_add(period),
            since_kick: 0,
        });
        self.schedule_watchdog(ctx);
    }

    fn kick_watchdog(&mut self, ctx: &mut Ctx) {
        let period = 1u64 << self.wdg_exp;
        if let Some(w) = &mut self.watchdog {
            w.period = period;
            w.deadline = ctx.now.saturating_add(period);
            w.since_kick = 0;
            self.stats.wdg_kicks += 1;
            self.schedule_watchdog(ctx);
        }
    }

    fn watchdog_expired(&mut self, ctx: &mut Ctx) {
        let Some(w) = &mut self.watchdog else {
            return;
        };
        w.since_kick += 1;
        w.deadline = w.deadline.saturating_add(w.period);
        let second = w.since_kick >= 2;
        self.stats.wdg_expiries += 1;
        self.wdg_int = true;
        if second {
            self.chip_reset_pending = true;
            self.stats.wdg_resets += 1;
        }
        self.schedule_watchdog(ctx);
    }

    fn rollover(&mut self, t: usize, ctx: &mut Ctx) {
        self.stats.rollovers[t] += 1;
        self.timer_int |= 1 << (2 * t);
        if self.one_shot(t) {
            let tm = &mut self.timers[t];
            tm.running = false;
            tm.held = 0;
            tm.token = 0;
        } else {
            self.schedule(t, ctx);
        }
    }

    fn read_sel(&self) -> usize {
        ((self.select >> 2) & 3) as usize
    }

    fn write_sel(&self) -> usize {
        (self.select & 3) as usize
    }

    /// One byte of TIMER_READ (see the module docs for the snapshot rule).
    fn read_counter_byte(&mut self, ms: bool, now: u64) -> u8 {
        let value = match self.read_latch.take() {
            Some(latch) if latch.ms_pending == ms => latch.value,
            _ => {
                let value = self.counter(self.read_sel(), now);
                self.read_latch = Some(ReadLatch {
                    ms_pending: !ms,
                    value,
                });
                value
            }
        };
        if ms {
            (value >> 8) as u8
        } else {
            value as u8
        }
    }

    fn read_byte(&mut self, offset: u32, now: u64) -> Option<u8> {
        match offset {
            reg::READ_LS => Some(self.read_counter_byte(false, now)),
            reg::READ_MS => Some(self.read_counter_byte(true, now)),
            reg::WDG_STATUS if self.rev_c => Some(std::mem::take(&mut self.wdg_status) as u8),
            _ => self.peek_byte(offset),
        }
    }

    /// A register byte whose read has no side effect (`None` for the READ bytes, WDG_STATUS and
    /// holes): what `monitor io` lists.
    pub fn peek(&self, offset: u32) -> Option<u8> {
        self.peek_byte(offset)
    }

    fn peek_byte(&self, offset: u32) -> Option<u8> {
        Some(match offset {
            reg::CONTROL_0 => (self.block_en as u8) << 1,
            reg::CONTROL_1 | reg::CONTROL_4 => 0,
            reg::CONTROL_2 => {
                (self.presc_en << 4)
                    | if self.wdg_int_ien { c2::WDG_INT_IEN } else { 0 }
                    | if self.wdg_int { c2::WDG_INT } else { 0 }
            }
            reg::CONTROL_3 => self.control3,
            reg::INT => self.timer_int,
            reg::SELECT => self.select,
            reg::WDG => self.wdg_exp,
            reg::WRITE_LS => self.timers[self.write_sel()].start_value as u8,
            reg::WRITE_MS => (self.timers[self.write_sel()].start_value >> 8) as u8,
            reg::PRESC_LS => self.presc_value[self.presc_reg()] as u8,
            reg::PRESC_MS => (self.presc_value[self.presc_reg()] >> 8) as u8,
            _ => return None,
        })
    }

    fn write_byte(&mut self, offset: u32, v: u8, ctx: &mut Ctx) -> bool {
        match offset {
            reg::CONTROL_0 => {
                if v & 1 != 0 {
                    self.soft_reset();
                    self.set_block_en(v & 2 != 0, ctx);
                    self.reschedule_timers(ctx);
                } else {
                    self.set_block_en(v & 2 != 0, ctx);
                }
            }
            reg::CONTROL_1 => {
                for t in 0..TIMERS {
                    if v & (0x10 << t) != 0 {
                        self.stop(t, ctx);
                    }
                }
                for t in 0..TIMERS {
                    if v & (1 << t) != 0 {
                        self.start(t, ctx);
                    }
                }
            }
            reg::CONTROL_2 => {
                self.set_presc_en(v >> 4, ctx);
                self.wdg_int_ien = v & c2::WDG_INT_IEN != 0;
                if v & c2::WDG_INT != 0 {
                    self.wdg_int = false;
                }
                if v & c2::START_WDG != 0 {
                    self.start_watchdog(ctx);
                }
                if v & c2::CLEAR_WDG != 0 {
                    self.kick_watchdog(ctx);
                }
            }
            reg::CONTROL_3 => self.control3 = v,
            reg::CONTROL_4 => {
                for t in 0..TIMERS {
                    if v & (1 << t) != 0 {
                        self.clear(t, ctx);
                    }
                }
                if self.rev_c {
                    for t in 0..TIMERS {
                        if v & (0x10 << t) != 0 {
                            self.clear_prescaler(t);
                        }
                    }
                } else if v & 0x10 != 0 {
                    self.clear_prescaler(0);
                }
            }
            reg::INT => {
                let pending = self.timer_int & INT_PENDING & !(v & INT_PENDING);
                self.timer_int = pending | (v & INT_ENABLE);
            }
            reg::SELECT => {
                self.select = v & 0x0F;
                self.read_latch = None;
            }
            reg::WDG => self.wdg_exp = v & 0x1F,
            reg::WRITE_LS | reg::WRITE_MS => {
                let t = self.write_sel();
                let s = &mut self.timers[t].start_value;
                *s = if offset == reg::WRITE_LS {
                    (*s & 0xFF00) | v as u16
                } else {
                    (*s & 0x00FF) | ((v as u16) << 8)
                };
            }
            reg::PRESC_LS | reg::PRESC_MS => {
                let p = &mut self.presc_value[self.presc_reg()];
                *p = if offset == reg::PRESC_LS {
                    (*p & 0xFF00) | v as u16
                } else {
                    (*p & 0x00FF) | ((v as u16) << 8)
                };
            }
            // Rev C: read-only status.
            reg::WDG_STATUS if self.rev_c => {}
            // Read-only: writes are ignored.
            reg::READ_LS | reg::READ_MS => {}
            _ => return false,
        }
        true
    }
}

impl Device for Timers {
    fn name(&self) -> &'static str {
        "timers"
    }

    fn read(&mut self, offset: u32, width: Width, ctx: &mut Ctx) -> Access<u32> {
        let now = ctx.now;
        read_bytes(offset, width, |o| self.read_byte(o, now))
    }

    fn write(&mut self, offset: u32, width: Width, value: u32, ctx: &mut Ctx) -> Access<()> {
        write_bytes(offset, width, value, |o, b| self.write_byte(o, b, ctx))
    }

    fn event(&mut self, token: u64, ctx: &mut Ctx) {
        let kind = token & 7;
        if kind == KIND_WDG {
            if token == self.wdg_token {
                self.watchdog_expired(ctx);
            }
        } else if (kind as usize) < TIMERS {
            let t = kind as usize;
            if token == self.timers[t].token {
                self.timers[t].token = 0;
                self.rollover(t, ctx);
            }
        }
    }

    /// Interrupt request of IRQ 17: some timer has pending AND enable set, while `block_en`.
    fn irq(&self) -> bool {
        self.block_en && self.timer_int & (self.timer_int >> 1) & INT_PENDING != 0
    }

    /// Power-on state, watchdog included (chip reset); statistics are kept.
    fn reset(&mut self, ctx: &mut Ctx) {
        let serial = self.serial;
        let stats = self.stats;
        *self = if self.rev_c {
            Timers::rev_c()
        } else {
            Timers::new()
        };
        self.serial = serial;
        self.stats = stats;
        self.block_since = ctx.now;
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<(&'static str, u64)> = ROLLOVER_NAMES
            .iter()
            .zip(self.stats.rollovers)
            .map(|(&n, r)| (n, r))
            .collect();
        v.push(("watchdog-kicks", self.stats.wdg_kicks));
        v.push(("watchdog-expiries", self.stats.wdg_expiries));
        v.push(("watchdog-resets", self.stats.wdg_resets));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::super::device::SysView;
    use super::super::event::{EventQueue, Source};
    use super::*;

    /// A timer block with its own event queue and clock.
    struct Bench {
        dev: Timers,
        queue: EventQueue,
        now: u64,
    }

    impl Bench {
        fn new() -> Bench {
            Bench {
                dev: Timers::new(),
                queue: EventQueue::new(),
                now: 0,
            }
        }

        fn ctx_at(queue: &mut EventQueue, now: u64) -> Ctx<'_> {
            Ctx {
                now,
                queue,
                source: Source::Timers,
                sys: SysView::default(),
            }
        }

        fn w(&mut self, offset: u32, value: u8) {
            let mut ctx = Bench::ctx_at(&mut self.queue, self.now);
            let r = self.dev.write(offset, Width::Byte, value as u32, &mut ctx);
            assert_eq!(r, Access::Done(()));
        }

        fn r(&mut self, offset: u32) -> u8 {
            let mut ctx = Bench::ctx_at(&mut self.queue, self.now);
            match self.dev.read(offset, Width::Byte, &mut ctx) {
                Access::Done(v) => v as u8,
                Access::Unmodelled => panic!("offset {offset:#x} unmodelled"),
            }
        }

        /// Runs the next due event (at or before `until`), advancing the clock to it.
        fn step(&mut self, until: u64) -> Option<u64> {
            let (at, source, token) = self.queue.pop_due(until)?;
            assert_eq!(source, Source::Timers);
            self.now = at;
            let mut ctx = Bench::ctx_at(&mut self.queue, at);
            self.dev.event(token, &mut ctx);
            Some(at)
        }

        /// Runs events until one of them does something (stale events are skipped); returns
        /// its cycle.
        fn next_live(&mut self) -> Option<u64> {
            loop {
                let before = self.dev.stats();
                let at = self.step(u64::MAX)?;
                if self.dev.stats() != before {
                    return Some(at);
                }
            }
        }

        /// Runs every event up to `until`, then sets the clock to `until`.
        fn run_until(&mut self, until: u64) {
            while self.step(until).is_some() {}
            self.now = until;
        }

        /// The SDK/FreeRTOS 1 ms tick on timer A (docs/hardware/timers.md §5).
        fn ms_tick_setup(&mut self) {
            self.w(reg::CONTROL_0, 0x01);
            self.w(reg::CONTROL_0, 0x02);
            self.w(reg::CONTROL_4, 0x10);
            self.w(reg::PRESC_LS, 50);
            self.w(reg::PRESC_MS, 0);
            self.w(reg::CONTROL_1, 0x10);
            self.w(reg::SELECT, 0);
            self.w(reg::WRITE_LS, 0xD0);
            self.w(reg::WRITE_MS, 0x07);
            self.w(reg::CONTROL_3, 0x10);
            self.w(reg::CONTROL_2, 0x10);
            self.w(reg::INT, 0x03);
        }

        fn read16(&mut self) -> u16 {
            let ls = self.r(reg::READ_LS) as u16;
            let ms = self.r(reg::READ_MS) as u16;
            (ms << 8) | ls
        }
    }

    #[test]
    fn reset_values_are_zero_and_unknown_offsets_unmodelled() {
        let mut b = Bench::new();
        for o in 0..=0xD {
            assert_eq!(b.r(o), 0, "offset {o:#x}");
        }
        let mut ctx = Bench::ctx_at(&mut b.queue, 0);
        assert_eq!(b.dev.read(0xE, Width::Byte, &mut ctx), Access::Unmodelled);
        assert_eq!(
            b.dev.write(0xF, Width::Byte, 0, &mut ctx),
            Access::Unmodelled
        );
        assert!(!b.dev.irq());
        assert!(!b.dev.watchdog_request());
        assert!(!b.dev.take_chip_reset());
        assert!(b.queue.is_empty());
    }

    #[test]
    fn self_clearing_bits_read_zero_and_plain_registers_read_back() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x03);
        assert_eq!(b.r(reg::CONTROL_0), 0x02);
        b.w(reg::CONTROL_1, 0xFF);
        assert_eq!(b.r(reg::CONTROL_1), 0);
        b.w(reg::CONTROL_2, 0xF8 | c2::CLEAR_WDG);
        assert_eq!(b.r(reg::CONTROL_2), 0xF8);
        b.w(reg::CONTROL_3, 0xA5);
        assert_eq!(b.r(reg::CONTROL_3), 0xA5);
        b.w(reg::CONTROL_4, 0x1F);
        assert_eq!(b.r(reg::CONTROL_4), 0);
        b.w(reg::SELECT, 0xFF);
        assert_eq!(b.r(reg::SELECT), 0x0F);
        b.w(reg::WDG, 0xFF);
        assert_eq!(b.r(reg::WDG), 0x1F);
        b.w(reg::PRESC_LS, 0x34);
        b.w(reg::PRESC_MS, 0x12);
        assert_eq!((b.r(reg::PRESC_MS), b.r(reg::PRESC_LS)), (0x12, 0x34));
        // TIMER_WRITE is per timer, through write_sel.
        b.w(reg::SELECT, 0x01);
        b.w(reg::WRITE_LS, 0x11);
        b.w(reg::WRITE_MS, 0x22);
        b.w(reg::SELECT, 0x02);
        assert_eq!(b.r(reg::WRITE_LS), 0);
        b.w(reg::SELECT, 0x01);
        assert_eq!((b.r(reg::WRITE_MS), b.r(reg::WRITE_LS)), (0x22, 0x11));
    }

    #[test]
    fn one_ms_tick_is_exactly_100000_cycles_without_drift() {
        let mut b = Bench::new();
        b.now = 12_345;
        b.ms_tick_setup();
        let start = b.now;
        b.w(reg::CONTROL_1, 0x01);
        let mut ticks = Vec::new();
        while ticks.len() < 1000 {
            let at = b.next_live().expect("the tick keeps running");
            if b.r(reg::INT) & 0x01 != 0 {
                assert!(b.dev.irq());
                ticks.push(at);
                // The ISR: keep the enable, clear the pending bit.
                b.w(reg::INT, 0x03);
                assert!(!b.dev.irq());
                assert_eq!(b.r(reg::INT), 0x02);
            }
        }
        for (n, &at) in ticks.iter().enumerate() {
            assert_eq!(at, start + (n as u64 + 1) * 100_000, "tick {n}");
        }
        assert_eq!(b.dev.rollovers(0), 1000);
        // One event per tick, nothing else queued.
        assert_eq!(b.queue.len(), 1);
    }

    #[test]
    fn read_values_at_known_cycles_up_counter_with_prescaler() {
        let mut b = Bench::new();
        b.ms_tick_setup();
        b.w(reg::CONTROL_1, 0x01);
        // 2 MHz counts: one count every 50 cycles.
        b.now = 49;
        assert_eq!(b.read16(), 0);
        b.now = 50;
        assert_eq!(b.read16(), 1);
        b.now = 50 * 1999 + 49;
        assert_eq!(b.read16(), 1999);
        b.run_until(100_000);
        assert_eq!(b.read16(), 0);
        b.run_until(100_000 + 50 * 0x1FF);
        assert_eq!(b.read16(), 0x1FF);
        // Stop freezes the value.
        b.w(reg::CONTROL_1, 0x10);
        b.run_until(b.now + 1_000_000);
        assert_eq!(b.read16(), 0x1FF);
        // The roll-over that was scheduled is stale.
        assert_eq!(b.dev.rollovers(0), 1);
    }

    #[test]
    fn read_snapshot_is_consistent_in_either_byte_order() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::CONTROL_3, 0x10); // A up, continuous, sysclk
        b.w(reg::WRITE_LS, 0);
        b.w(reg::WRITE_MS, 0); // S = 0: 65536 counts
        b.w(reg::CONTROL_1, 0x01);
        b.now = 0x12FF;
        let ls = b.r(reg::READ_LS);
        b.now = 0x1301; // MS changed meanwhile, the snapshot holds
        let ms = b.r(reg::READ_MS);
        assert_eq!((ms, ls), (0x12, 0xFF));
        b.now = 0x13FF;
        let ms = b.r(reg::READ_MS);
        b.now = 0x1401;
        let ls = b.r(reg::READ_LS);
        assert_eq!((ms, ls), (0x13, 0xFF));
        // A fresh pair reads the current value.
        assert_eq!(b.read16(), 0x1401);
        // A 16-bit access reads LS then MS at one instant.
        b.now = 0xABCD;
        let mut ctx = Bench::ctx_at(&mut b.queue, b.now);
        assert_eq!(
            b.dev.read(reg::READ_LS, Width::Half, &mut ctx),
            Access::Done(0xABCD)
        );
    }

    #[test]
    fn down_counting_one_shot_stops_at_zero_after_s_counts() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::SELECT, 0x05); // read and write timer B
        b.w(reg::WRITE_LS, 10);
        b.w(reg::WRITE_MS, 0);
        b.w(reg::CONTROL_3, 0x02); // B down, one-shot, sysclk
        b.w(reg::INT, 0x08);
        b.now = 1000;
        b.w(reg::CONTROL_1, 0x02);
        assert_eq!(b.read16(), 10);
        b.now = 1001;
        assert_eq!(b.read16(), 9);
        b.now = 1009;
        assert_eq!(b.read16(), 1);
        assert!(!b.dev.irq());
        assert_eq!(b.next_live(), Some(1010));
        assert_eq!(b.r(reg::INT), 0x08 | 0x04);
        assert!(b.dev.irq());
        assert!(!b.dev.running(1));
        assert_eq!(b.read16(), 0);
        b.now = 5000;
        assert_eq!(b.read16(), 0);
        assert!(b.queue.is_empty());
        assert_eq!(b.dev.rollovers(1), 1);
        // Start again: reloads S.
        b.w(reg::INT, 0x0C);
        b.w(reg::CONTROL_1, 0x02);
        assert_eq!(b.read16(), 10);
        assert_eq!(b.next_live(), Some(5010));
    }

    #[test]
    fn down_counting_continuous_reloads_and_shows_s_to_1() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::WRITE_LS, 4);
        b.w(reg::CONTROL_1, 0x01); // A down, continuous, sysclk
        let seen: Vec<u16> = (0..9)
            .map(|c| {
                b.run_until(c);
                b.read16()
            })
            .collect();
        assert_eq!(seen, [4, 3, 2, 1, 4, 3, 2, 1, 4]);
        assert_eq!(b.dev.rollovers(0), 2);
    }

    #[test]
    fn clear_reloads_a_running_timer_and_presets_a_stopped_one() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::WRITE_LS, 100);
        b.w(reg::CONTROL_3, 0x10); // up
        b.w(reg::CONTROL_1, 0x01);
        b.now = 70;
        assert_eq!(b.read16(), 70);
        b.w(reg::CONTROL_4, 0x01);
        assert_eq!(b.read16(), 0);
        // The roll-over moved from 100 to 170.
        assert_eq!(b.next_live(), Some(170));
        b.w(reg::CONTROL_1, 0x10);
        b.w(reg::CONTROL_3, 0x00); // down
        b.w(reg::CONTROL_4, 0x01);
        assert_eq!(b.read16(), 100);
    }

    #[test]
    fn prescaler_zero_and_start_value_zero_mean_65536() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::CONTROL_3, 0x10);
        b.w(reg::WRITE_LS, 2);
        b.w(reg::CONTROL_2, 0x10); // A uses the prescaler, P = 0
        b.w(reg::CONTROL_1, 0x01);
        assert_eq!(b.next_live(), Some(2 * 65_536));
    }

    #[test]
    fn prescaler_clear_is_ignored_while_in_use_and_phase_is_shared() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::PRESC_LS, 10);
        b.w(reg::CONTROL_3, 0x30); // A, B up
        b.w(reg::CONTROL_2, 0x30); // both prescaled
        b.w(reg::SELECT, 0x00);
        b.w(reg::WRITE_LS, 5);
        b.w(reg::SELECT, 0x01);
        b.w(reg::WRITE_LS, 5);
        b.w(reg::CONTROL_1, 0x01); // A at 0: prescaler starts, ticks at 10, 20, ...
        b.now = 25;
        b.w(reg::CONTROL_1, 0x02); // B at 25: counts at 30, 40, ...
                                   // Clear is ignored: A and B use the prescaler; the new value is not taken either.
        b.w(reg::PRESC_LS, 99);
        b.w(reg::CONTROL_4, 0x10);
        assert_eq!(b.next_live(), Some(50));
        assert_eq!(b.r(reg::INT), 0x01);
        assert_eq!(b.next_live(), Some(70));
        assert_eq!(b.r(reg::INT), 0x05);
        // Stop both: now the clear works and the next start latches P = 99.
        b.w(reg::CONTROL_1, 0x30);
        b.w(reg::CONTROL_4, 0x10);
        b.now = 1000;
        b.w(reg::CONTROL_1, 0x01);
        assert_eq!(b.next_live(), Some(1000 + 5 * 99));
    }

    #[test]
    fn irq_needs_enable_and_block_en_and_pending_is_rw1c() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::SELECT, 0x03);
        b.w(reg::WRITE_LS, 8);
        b.w(reg::CONTROL_1, 0x08); // D, down, continuous
        b.run_until(8);
        assert_eq!(b.r(reg::INT), 0x40);
        assert!(!b.dev.irq(), "pending without enable");
        b.w(reg::INT, 0x80); // enable D, writing 0 to pending keeps it
        assert_eq!(b.r(reg::INT), 0xC0);
        assert!(b.dev.irq());
        // block_en = 0 masks the request (and freezes the timers).
        b.w(reg::CONTROL_0, 0x00);
        assert!(!b.dev.irq());
        b.w(reg::CONTROL_0, 0x02);
        assert!(b.dev.irq());
        // SDK idiom TIMER_INT = enables | pending_t acknowledges.
        b.w(reg::INT, 0x80 | 0x40);
        assert_eq!(b.r(reg::INT), 0x80);
        assert!(!b.dev.irq());
    }

    #[test]
    fn block_en_freezes_counting_and_resumes() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::CONTROL_3, 0x10);
        b.w(reg::WRITE_LS, 100);
        b.w(reg::CONTROL_1, 0x01);
        b.now = 30;
        b.w(reg::CONTROL_0, 0x00);
        b.now = 1030;
        assert_eq!(b.read16(), 30);
        // The event scheduled for cycle 100 is stale.
        b.run_until(1030);
        assert_eq!(b.dev.rollovers(0), 0);
        b.w(reg::CONTROL_0, 0x02);
        assert_eq!(b.next_live(), Some(1100));
        assert_eq!(b.dev.rollovers(0), 1);
    }

    #[test]
    fn soft_reset_clears_timers_but_not_the_watchdog() {
        let mut b = Bench::new();
        b.w(reg::WDG, 10);
        b.w(reg::CONTROL_2, 0xF0 | c2::START_WDG);
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::CONTROL_3, 0xFF);
        b.w(reg::INT, 0xFF);
        b.w(reg::WRITE_LS, 7);
        b.w(reg::CONTROL_1, 0x01);
        b.w(reg::CONTROL_0, 0x01);
        for o in [reg::CONTROL_0, reg::CONTROL_3, reg::INT, reg::WRITE_LS] {
            assert_eq!(b.r(o), 0, "offset {o:#x}");
        }
        assert_eq!(b.r(reg::CONTROL_2), 0);
        assert!(!b.dev.running(0));
        assert!(b.dev.watchdog_started());
        b.run_until(1 << 10);
        assert_eq!(b.dev.rollovers(0), 0);
        assert_eq!(b.dev.watchdog_expiries(), 1);
    }

    #[test]
    fn switching_to_the_prescaler_keeps_the_position() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::CONTROL_3, 0x10);
        b.w(reg::WRITE_LS, 100);
        b.w(reg::PRESC_LS, 10);
        b.w(reg::CONTROL_1, 0x01);
        b.now = 40;
        b.w(reg::CONTROL_2, 0x10); // now 60 counts to go at one per 10 cycles
        assert_eq!(b.read16(), 40);
        b.now = 50;
        assert_eq!(b.read16(), 41);
        assert_eq!(b.next_live(), Some(40 + 60 * 10));
    }

    #[test]
    fn watchdog_expires_after_2_pow_n_and_requests_vector() {
        let mut b = Bench::new();
        b.now = 500;
        b.w(reg::WDG, 12);
        b.w(reg::CONTROL_2, c2::CLEAR_WDG);
        b.w(reg::CONTROL_2, c2::WDG_INT_IEN | c2::START_WDG);
        assert_eq!(b.r(reg::CONTROL_2), c2::WDG_INT_IEN);
        b.run_until(500 + 4095);
        assert!(!b.dev.watchdog_request());
        assert_eq!(b.next_live(), Some(500 + 4096));
        assert_eq!(b.r(reg::CONTROL_2), c2::WDG_INT_IEN | c2::WDG_INT);
        assert!(b.dev.watchdog_request());
        assert!(!b.dev.take_chip_reset());
        // RW1C: the handler clears it.
        b.w(reg::CONTROL_2, c2::WDG_INT_IEN | c2::WDG_INT);
        assert!(!b.dev.watchdog_request());
        assert_eq!(b.r(reg::CONTROL_2), c2::WDG_INT_IEN);
        // Without the enable the bit is set but no vector is requested.
        let mut q = Bench::new();
        q.w(reg::WDG, 3);
        q.w(reg::CONTROL_2, c2::START_WDG);
        q.run_until(8);
        assert_eq!(q.r(reg::CONTROL_2), c2::WDG_INT);
        assert!(!q.dev.watchdog_request());
    }

    #[test]
    fn kicks_postpone_the_watchdog_and_it_cannot_be_stopped() {
        let mut b = Bench::new();
        b.w(reg::WDG, 10);
        b.w(reg::CONTROL_2, c2::WDG_INT_IEN | c2::START_WDG);
        for k in 1..=5u64 {
            b.run_until(k * 1000);
            b.w(reg::CONTROL_2, c2::WDG_INT_IEN | c2::CLEAR_WDG);
        }
        assert_eq!(b.dev.watchdog_expiries(), 0);
        // Writing 0 to the control bits and soft-resetting the block do not stop it.
        b.w(reg::CONTROL_2, 0);
        b.w(reg::CONTROL_0, 0x01);
        // A start of a running watchdog does not reload it.
        b.now = 5500;
        b.w(reg::CONTROL_2, c2::START_WDG);
        assert_eq!(b.next_live(), Some(5000 + 1024));
        assert_eq!(b.dev.watchdog_expiries(), 1);
        // A new exponent applies from the next kick.
        b.w(reg::WDG, 4);
        b.w(reg::CONTROL_2, c2::WDG_INT | c2::CLEAR_WDG);
        assert_eq!(b.next_live(), Some(6024 + 16));
    }

    #[test]
    fn second_expiry_without_kick_resets_the_chip_once() {
        let mut b = Bench::new();
        b.w(reg::WDG, 8);
        b.w(reg::CONTROL_2, c2::WDG_INT_IEN | c2::START_WDG);
        assert_eq!(b.next_live(), Some(256));
        assert!(!b.dev.take_chip_reset());
        // The handler clears wdg_int but does not kick (rev C crt0): still a reset.
        b.w(reg::CONTROL_2, c2::WDG_INT_IEN | c2::WDG_INT);
        assert_eq!(b.next_live(), Some(512));
        assert!(b.dev.take_chip_reset());
        assert!(!b.dev.take_chip_reset());
        // The profile resets the chip: the watchdog is off again, stats survive.
        let mut ctx = Bench::ctx_at(&mut b.queue, 512);
        b.dev.reset(&mut ctx);
        b.queue.cancel_all(Source::Timers);
        assert!(!b.dev.watchdog_started());
        assert!(!b.dev.watchdog_request());
        assert_eq!(b.r(reg::CONTROL_2), 0);
        let stats = b.dev.stats();
        assert!(stats.contains(&("watchdog-expiries", 2)));
        assert!(stats.contains(&("watchdog-resets", 1)));
    }

    #[test]
    fn a_kick_between_expiries_avoids_the_reset() {
        let mut b = Bench::new();
        b.w(reg::WDG, 8);
        b.w(reg::CONTROL_2, c2::WDG_INT_IEN | c2::START_WDG);
        assert_eq!(b.next_live(), Some(256));
        b.now = 300;
        b.w(
            reg::CONTROL_2,
            c2::WDG_INT_IEN | c2::WDG_INT | c2::CLEAR_WDG,
        );
        assert_eq!(b.next_live(), Some(556));
        assert!(!b.dev.take_chip_reset());
        assert!(b.dev.watchdog_request());
    }

    #[test]
    fn wide_accesses_split_into_bytes() {
        let mut b = Bench::new();
        let mut ctx = Bench::ctx_at(&mut b.queue, 0);
        // PRESC_LS/MS as one 16-bit write, WRITE_LS/MS too.
        assert_eq!(
            b.dev.write(reg::WRITE_LS, Width::Half, 0x07D0, &mut ctx),
            Access::Done(())
        );
        assert_eq!(
            b.dev.write(reg::PRESC_LS, Width::Half, 50, &mut ctx),
            Access::Done(())
        );
        assert_eq!(
            b.dev.read(reg::WRITE_LS, Width::Word, &mut ctx),
            Access::Done(0x0032_07D0)
        );
    }

    /// Sets timer `t` up as the SDK's Timer Examples do on rev C: its own prescaler
    /// (`timer_prescaler(t, presc)`: SELECT = t, CONTROL_4 |= 0x10 << t, PRESC_LS/MS), then
    /// `timer_init` (up, continuous, prescaled, start value `count`).
    fn rev_c_timer(b: &mut Bench, t: usize, presc: u16, count: u16) {
        b.w(reg::SELECT, t as u8);
        b.w(reg::CONTROL_4, 0x10 << t);
        b.w(reg::PRESC_LS, presc as u8);
        b.w(reg::PRESC_MS, (presc >> 8) as u8);
        b.w(reg::CONTROL_1, 0x10 << t);
        b.w(reg::WRITE_LS, count as u8);
        b.w(reg::WRITE_MS, (count >> 8) as u8);
        let c3 = b.r(reg::CONTROL_3);
        b.w(reg::CONTROL_3, c3 | (0x10 << t));
        let c2 = b.r(reg::CONTROL_2);
        b.w(reg::CONTROL_2, c2 | (0x10 << t));
    }

    #[test]
    fn rev_c_timers_each_have_their_own_prescaler() {
        let mut b = Bench::new();
        b.dev = Timers::rev_c();
        b.w(reg::CONTROL_0, 0x01);
        b.w(reg::CONTROL_0, 0x02);
        // Timer A: 100 MHz / 50000 = 2 kHz, 2000 counts = 1 s; timer B: / 10000, 5000 = 0.5 s.
        rev_c_timer(&mut b, 0, 50_000, 2_000);
        rev_c_timer(&mut b, 1, 10_000, 5_000);
        // PRESC_LS/MS show write_sel's prescaler.
        b.w(reg::SELECT, 0);
        assert_eq!((b.r(reg::PRESC_LS), b.r(reg::PRESC_MS)), (0x50, 0xC3));
        b.w(reg::SELECT, 1);
        assert_eq!((b.r(reg::PRESC_LS), b.r(reg::PRESC_MS)), (0x10, 0x27));
        b.w(reg::CONTROL_1, 0x03);
        assert_eq!(
            b.next_live(),
            Some(50_000_000),
            "timer B first, after 0.5 s"
        );
        assert_eq!(b.next_live(), Some(100_000_000));
        assert_eq!(b.dev.rollovers(0) + b.dev.rollovers(1), 2);
        b.run_until(300_000_000);
        assert_eq!(b.dev.rollovers(0), 3, "timer A once per second");
        assert_eq!(b.dev.rollovers(1), 6, "timer B twice per second");
        // Clearing A's prescaler while A runs is ignored; B's clear bit is separate.
        b.w(reg::CONTROL_4, 0x10);
        b.run_until(400_000_000);
        assert_eq!(b.dev.rollovers(0), 4);
    }

    #[test]
    fn rev_b_shares_one_prescaler_and_has_no_wdg_status() {
        let mut b = Bench::new();
        b.w(reg::CONTROL_0, 0x01);
        b.w(reg::CONTROL_0, 0x02);
        b.w(reg::SELECT, 0);
        b.w(reg::PRESC_LS, 0x50);
        b.w(reg::PRESC_MS, 0xC3);
        b.w(reg::SELECT, 1);
        assert_eq!(
            (b.r(reg::PRESC_LS), b.r(reg::PRESC_MS)),
            (0x50, 0xC3),
            "one register whatever write_sel says"
        );
        let mut ctx = Bench::ctx_at(&mut b.queue, 0);
        assert_eq!(
            b.dev.read(reg::WDG_STATUS, Width::Byte, &mut ctx),
            Access::Unmodelled
        );
        b.dev.note_watchdog_reset();
        assert!(!b.dev.wdg_status);
    }

    #[test]
    fn rev_c_wdg_status_tells_a_watchdog_reset_once() {
        let mut b = Bench::new();
        b.dev = Timers::rev_c();
        assert_eq!(b.r(reg::WDG_STATUS), 0);
        let mut ctx = Bench::ctx_at(&mut b.queue, 0);
        b.dev.reset(&mut ctx);
        b.dev.note_watchdog_reset();
        assert_eq!(b.r(reg::WDG_STATUS), 1);
        assert_eq!(b.r(reg::WDG_STATUS), 0, "cleared by the read");
        let mut ctx = Bench::ctx_at(&mut b.queue, 0);
        b.dev.reset(&mut ctx);
        assert!(b.dev.rev_c, "a reset keeps the revision");
    }
}
