//! Running a machine in real time (`ft900-sim run --realtime`, implied by `--net tap:NAME`).
//!
//! The machine runs in slices of [`SLICE_CYCLES`] of virtual time; after each slice a
//! [`Pacer`] sleeps until the wall clock has caught up, so virtual time never runs ahead of
//! wall time by more than the slice being executed (1 ms). Idle loops are still skipped inside a slice, but a slice ends at its deadline, so
//! a guest waiting for a timer sleeps through the wait instead of jumping over it; a real-time
//! peer (a TAP, a person at a host socket) then sees the firmware's timers run as on silicon.
//! When the host cannot keep up, virtual time lags and the machine runs flat out until it has
//! caught up.

use net_bridge::pace::{Clock, Pacer};

use crate::machine::{Machine, Profile, RunLimits};
use crate::profile::ft900::cycles_to_ns;
use crate::stop::StopReason;

/// Virtual time between looks at the wall clock: 1 ms (100 000 cycles at 100 MHz). Short
/// enough that a frame from a TAP waits at most about a millisecond for the MAC's poll, long
/// enough that pacing costs nothing measurable.
pub const SLICE_CYCLES: u64 = 100_000;

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
        let deadline = m.core.cycles.saturating_add(SLICE_CYCLES).min(end);
        let stop = m.run(RunLimits {
            max_insns,
            until: limits.until,
            cycle_deadline: Some(deadline),
        });
        match stop {
            StopReason::CycleLimit if m.core.cycles < end => {
                pacer.wait_until(cycles_to_ns(m.core.cycles));
            }
            other => return other,
        }
    }
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
    }

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.now
        }
        fn sleep(&mut self, d: Duration) {
            self.now += d;
            self.sleeps += 1;
        }
    }

    #[test]
    fn an_idle_guest_sleeps_through_virtual_time_instead_of_jumping() {
        let mut ft900 = Ft900::new(Ft900Config::default());
        ft900.set_diagnostics(Box::new(std::io::sink()));
        let mut m = Machine::with_standard_memory(ft900);
        // `jmp 0` at the reset vector: the guest idles from the first instruction.
        m.mem_write(0, &0x0030_0000u32.to_le_bytes()).unwrap();
        m.profile.reset(&mut m.core, 0);
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
        let mut ft900 = Ft900::new(Ft900Config::default());
        ft900.set_diagnostics(Box::new(std::io::sink()));
        let mut m = Machine::with_standard_memory(ft900);
        m.mem_write(0, &0x0030_0000u32.to_le_bytes()).unwrap();
        m.profile.reset(&mut m.core, 0);
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
}
