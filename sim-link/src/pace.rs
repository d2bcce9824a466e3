//! Pacing virtual time to the wall clock, for runs with a real-time peer (a TAP device, host
//! sockets a human is waiting on).
//!
//! Virtual time normally runs as fast as the host can simulate, which keeps in-process
//! scenarios deterministic. A real peer answers on its own clock, so while one is attached the
//! simulation must never run ahead of the wall clock: a simulator that is ahead sleeps, one that
//! is behind (the host cannot keep up) runs flat out until it has caught up, and never
//! overtakes; after a stall the caller may give the lag up instead ([`Pacer::resync`]). Idle
//! time is slept through, not jumped over.

use std::time::{Duration, Instant};

use crate::link::Nanos;

/// A source of elapsed real time that can also wait. [`WallClock`] is the real one; tests use
/// their own to check pacing without depending on the host's speed.
pub trait Clock {
    /// Time elapsed since the clock started.
    fn elapsed(&self) -> Duration;
    /// Blocks for `d`.
    fn sleep(&mut self, d: Duration);
}

/// The host's monotonic clock.
#[derive(Debug, Clone)]
pub struct WallClock {
    start: Instant,
}

impl WallClock {
    /// A clock that starts now.
    pub fn start() -> WallClock {
        WallClock {
            start: Instant::now(),
        }
    }
}

impl Clock for WallClock {
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Keeps virtual time at or behind the wall clock.
#[derive(Debug, Clone)]
pub struct Pacer<C: Clock = WallClock> {
    clock: C,
    /// Virtual time when the clock started.
    origin: Nanos,
    slept: Duration,
    given_up: Duration,
}

impl Pacer<WallClock> {
    /// A pacer on the host's clock, starting now at virtual time `virtual_now`.
    pub fn wall(virtual_now: Nanos) -> Pacer<WallClock> {
        Pacer::new(WallClock::start(), virtual_now)
    }
}

impl<C: Clock> Pacer<C> {
    /// A pacer on `clock`, whose start corresponds to virtual time `virtual_now`.
    pub fn new(clock: C, virtual_now: Nanos) -> Pacer<C> {
        Pacer {
            clock,
            origin: virtual_now,
            slept: Duration::ZERO,
            given_up: Duration::ZERO,
        }
    }

    /// The latest virtual time the wall clock allows now.
    pub fn allowed(&self) -> Nanos {
        let wall = self.clock.elapsed().saturating_sub(self.given_up);
        let wall = wall.as_nanos().min(u64::MAX as u128) as Nanos;
        self.origin.saturating_add(wall)
    }

    /// Blocks until the wall clock has reached virtual time `t` (returns at once if it has).
    /// Returns how long it slept.
    pub fn wait_until(&mut self, t: Nanos) -> Duration {
        let allowed = self.allowed();
        if t <= allowed {
            return Duration::ZERO;
        }
        let d = Duration::from_nanos(t - allowed);
        self.clock.sleep(d);
        self.slept += d;
        d
    }

    /// Makes the wall clock's present correspond to virtual time `t`, giving up any lag
    /// instead of catching it up (after a stall: the process was stopped, the host suspended).
    /// Returns the lag given up (zero if virtual time was not behind).
    pub fn resync(&mut self, t: Nanos) -> Duration {
        let lag = Duration::from_nanos(self.allowed().saturating_sub(t));
        // `allowed` subtracts what was given up from the wall time elapsed.
        self.given_up += lag;
        lag
    }

    /// Total lag given up by [`Pacer::resync`] so far.
    pub fn given_up(&self) -> Duration {
        self.given_up
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Total time spent sleeping so far.
    pub fn slept(&self) -> Duration {
        self.slept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that only moves when slept on, or when the test says work took time.
    #[derive(Default)]
    struct FakeClock {
        now: Duration,
        sleeps: Vec<Duration>,
    }

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.now
        }
        fn sleep(&mut self, d: Duration) {
            self.now += d;
            self.sleeps.push(d);
        }
    }

    #[test]
    fn virtual_time_never_runs_ahead_of_the_wall_clock() {
        let mut p = Pacer::new(FakeClock::default(), 5_000);
        // Ahead by 1 ms: sleeps exactly that.
        assert_eq!(p.wait_until(1_005_000), Duration::from_millis(1));
        assert_eq!(p.allowed(), 1_005_000);
        // Already reached: no sleep.
        assert_eq!(p.wait_until(1_000_000), Duration::ZERO);
        // The host fell behind by 10 ms (work took wall time): no sleep until virtual time has
        // caught up, then sleeping resumes.
        p.clock.now += Duration::from_millis(10);
        assert_eq!(p.wait_until(6_005_000), Duration::ZERO);
        assert_eq!(p.wait_until(11_005_000), Duration::ZERO);
        assert_eq!(p.wait_until(11_505_000), Duration::from_micros(500));
        assert_eq!(
            p.clock.sleeps,
            vec![Duration::from_millis(1), Duration::from_micros(500)]
        );
        assert_eq!(p.slept(), Duration::from_micros(1500));
    }

    #[test]
    fn resync_gives_up_the_lag_instead_of_catching_it_up() {
        let mut p = Pacer::new(FakeClock::default(), 5_000);
        p.clock.now += Duration::from_secs(10);
        assert_eq!(p.resync(1_005_000), Duration::from_millis(9_999));
        assert_eq!(p.allowed(), 1_005_000);
        // From here virtual time is paced again: 1 ms ahead sleeps 1 ms.
        assert_eq!(p.wait_until(2_005_000), Duration::from_millis(1));
        assert_eq!(p.given_up(), Duration::from_millis(9_999));
        // Not behind: nothing to give up.
        assert_eq!(p.resync(2_005_000), Duration::ZERO);
    }
}
