//! Running a machine in real time (`ft900-sim run --realtime`, implied by `--net tap:NAME`).
//!
//! The machine runs in slices of [`SLICE_CYCLES`] of virtual time; after each slice a
//! [`Pacer`] sleeps until the wall clock has caught up, so virtual time never runs ahead of
//! wall time by more than the slice being executed (1 ms). Idle loops are still skipped inside a slice, but a slice ends at its deadline, so
//! a guest waiting for a timer sleeps through the wait instead of jumping over it; a real-time
//! peer (a TAP, a person at a host socket) then sees the firmware's timers run as on silicon.
//! When the host cannot keep up for a moment, virtual time lags and the machine runs flat out
//! until it has caught up, so the firmware's timers keep their wall-clock schedule. A lag of
//! more than [`MAX_CATCH_UP_NS`] is not a slow host but a stall (the process was stopped with
//! Ctrl-Z or a debugger, the host was suspended): then the pacer resynchronises, and virtual
//! time goes on from where it stood at the wall clock's present, without a burst of
//! accelerated time (which would fire every pending timer at once and flood the peers).

use sim_link::{Clock, Pacer};

use crate::machine::{Machine, Profile, RunLimits};
use crate::profile::ft900::cycles_to_ns;
use crate::stop::StopReason;

/// Virtual time between looks at the wall clock: 1 ms (100 000 cycles at 100 MHz). Short
/// enough that a frame from a TAP waits at most about a millisecond for the MAC's poll, long
/// enough that pacing costs nothing measurable.
pub const SLICE_CYCLES: u64 = 100_000;

/// The largest lag behind the wall clock that is caught up by running flat out (100 ms);
/// beyond it the pacer resynchronises instead (module docs).
pub const MAX_CATCH_UP_NS: u64 = 100_000_000;

/// Runs `m` within `limits` (a `cycle_deadline` in `limits` is honoured too), never letting its
/// virtual time (cycles at 100 MHz) pass the wall time elapsed on `pacer`.
pub fn run_paced<P: Profile, C: Clock>(
    m: &mut Machine<P>,
    limits: RunLimits,
    pacer: &mut Pacer<C>,
) -> StopReason {
    let start = m.core.insns;
    let end = limits.cycle_deadline.unwrap_or(u64::MAX);
    loop {
        let max_insns = match limits.max_insns {
            Some(max) => {
                let done = m.core.insns - start;
                if done >= max {
                    return StopReason::CountReached;
                }
                Some(max - done)
            }
            None => None,
        };
        let stop = run_slice(
            m,
            RunLimits {
                max_insns,
                ..limits
            },
            pacer,
        );
        match stop {
            StopReason::CycleLimit if m.core.cycles < end => {}
            other => return other,
        }
    }
}

/// Runs `m` for at most one slice ([`SLICE_CYCLES`]) of virtual time within `limits`, then, if
/// the slice ran to its end before `limits`' own deadline, waits until the wall clock has caught
/// up (resynchronising `pacer` first after a stall). A [`StopReason::CycleLimit`] below
/// `limits.cycle_deadline` only means the slice is over. The gdb stub runs a paced machine one
/// slice at a time, so that it looks at the connection at least once per slice.
pub fn run_slice<P: Profile, C: Clock>(
    m: &mut Machine<P>,
    limits: RunLimits,
    pacer: &mut Pacer<C>,
) -> StopReason {
    let end = limits.cycle_deadline.unwrap_or(u64::MAX);
    let deadline = m.core.cycles.saturating_add(SLICE_CYCLES).min(end);
    let stop = m.run(RunLimits {
        cycle_deadline: Some(deadline),
        ..limits
    });
    if stop == StopReason::CycleLimit && m.core.cycles < end {
        let now = cycles_to_ns(m.core.cycles);
        if pacer.allowed().saturating_sub(now) > MAX_CATCH_UP_NS {
            pacer.resync(now);
        }
        pacer.wait_until(now);
    }
    stop
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ft900::{Ft900, Ft900Config};
    use std::time::Duration;

    /// Wall time that moves only when slept on: the run itself takes no time, so the pacer
    /// must account for every virtual nanosecond by sleeping.
    #[derive(Default)]
    struct FakeClock {
        now: Duration,
        sleeps: usize,
        /// After this many sleeps the wall clock jumps by `.1` (the process was stopped).
        stall: Option<(usize, Duration)>,
    }

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.now
        }
        fn sleep(&mut self, d: Duration) {
            self.now += d;
            self.sleeps += 1;
            if let Some((after, stall)) = self.stall {
                if self.sleeps == after {
                    self.now += stall;
                }
            }
        }
    }

    /// An FT900 whose reset vector holds `jmp 0`: the guest idles from the first instruction.
    fn idle_machine() -> Machine<Ft900> {
        let mut ft900 = Ft900::new(Ft900Config::default());
        ft900.set_diagnostics(Box::new(std::io::sink()));
        let mut m = Machine::with_standard_memory(ft900);
        m.mem_write(0, &0x0030_0000u32.to_le_bytes()).unwrap();
        m.profile.reset(&mut m.core, 0);
        m
    }

    #[test]
    fn an_idle_guest_sleeps_through_virtual_time_instead_of_jumping() {
        let mut m = idle_machine();
        let mut pacer = Pacer::new(FakeClock::default(), cycles_to_ns(m.core.cycles));
        // 50 ms of virtual time: 2.5 M iterations of two cycles.
        let stop = run_paced(
            &mut m,
            RunLimits {
                max_insns: Some(2_500_000),
                ..RunLimits::default()
            },
            &mut pacer,
        );
        assert_eq!(stop, StopReason::CountReached);
        let virtual_ns = cycles_to_ns(m.core.cycles);
        assert!(virtual_ns >= 50_000_000, "{virtual_ns}");
        // Every slice but the last ended with a sleep up to its end: the wall clock trails
        // virtual time by less than one slice, and it was slept one slice at a time.
        let slept = pacer.slept().as_nanos() as u64;
        assert!(slept <= virtual_ns, "{slept} > {virtual_ns}");
        assert!(virtual_ns - slept <= cycles_to_ns(SLICE_CYCLES), "{slept}");
        assert!(
            pacer.clock().sleeps >= 49,
            "{} sleeps",
            pacer.clock().sleeps
        );
    }

    #[test]
    fn a_cycle_deadline_is_kept_exactly_and_never_passed_early() {
        let mut m = idle_machine();
        let mut pacer = Pacer::new(FakeClock::default(), 0);
        let stop = run_paced(
            &mut m,
            RunLimits {
                cycle_deadline: Some(1_050_000),
                ..RunLimits::default()
            },
            &mut pacer,
        );
        assert_eq!(stop, StopReason::CycleLimit);
        assert!((1_050_000..=1_050_002).contains(&m.core.cycles));
        // Ten full slices were paced (10 ms); the partial last one returns to the caller.
        let slept = pacer.slept();
        assert!(
            slept >= Duration::from_millis(10) && slept < Duration::from_micros(10_001),
            "{slept:?}"
        );
        assert_eq!(pacer.clock().sleeps, 10);
    }

    /// A 10 s stall after 10 ms of a 50 ms run: the pacer gives the 10 s up and paces the
    /// remaining 40 ms by sleeping, instead of running 10 s of virtual time flat out.
    #[test]
    fn after_a_long_stall_virtual_time_resynchronises_instead_of_catching_up() {
        let mut m = idle_machine();
        let clock = FakeClock {
            stall: Some((10, Duration::from_secs(10))),
            ..FakeClock::default()
        };
        let mut pacer = Pacer::new(clock, 0);
        let stop = run_paced(
            &mut m,
            RunLimits {
                cycle_deadline: Some(5_000_000),
                ..RunLimits::default()
            },
            &mut pacer,
        );
        assert_eq!(stop, StopReason::CycleLimit);
        let given_up = pacer.given_up();
        assert!(
            given_up >= Duration::from_millis(9_990) && given_up <= Duration::from_secs(10),
            "{given_up:?}"
        );
        // Of the 49 slice ends before the deadline, 48 slept: 10 before the stall, none at
        // the one that resynchronised, 38 after it. Catching up would have slept none after.
        assert_eq!(pacer.clock().sleeps, 48);
        assert!(
            pacer.slept() >= Duration::from_millis(48),
            "{:?}",
            pacer.slept()
        );
    }

    /// A lag below the limit is caught up: the machine runs without sleeping until it has.
    #[test]
    fn a_short_lag_is_caught_up() {
        let mut m = idle_machine();
        let clock = FakeClock {
            stall: Some((10, Duration::from_millis(20))),
            ..FakeClock::default()
        };
        let mut pacer = Pacer::new(clock, 0);
        run_paced(
            &mut m,
            RunLimits {
                cycle_deadline: Some(5_000_000),
                ..RunLimits::default()
            },
            &mut pacer,
        );
        assert_eq!(pacer.given_up(), Duration::ZERO);
        // The 20 ms were run flat out: of the 49 slice ends, those at 11..30 ms did not sleep.
        assert_eq!(pacer.clock().sleeps, 29);
    }
}
