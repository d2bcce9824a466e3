//! Endpoint restarts: the moments the endpoint's process "crashes and comes back". Every
//! connection open at a restart is reset (RST, its TLS state and unsent responses gone), new
//! connections are refused while the endpoint is down, and the tables survive, as they do on a
//! server that keeps them on disk.
//!
//! Restarts are counted in generations: a connection remembers how many restarts had
//! happened when it was accepted, and is dead as soon as one more has. Restarts come from the
//! scenario's schedule (virtual times) or from a fault that fires while a request is being
//! answered (`FaultAction::Restart`); either way they happen at a given virtual time, so a
//! run replays identically.

use net_bridge::Nanos;
use serde::Deserialize;

/// One restart: the endpoint goes down at `at` and accepts connections again at `at + down`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restart {
    /// Virtual time of the crash, ns.
    pub at: Nanos,
    /// How long new connections are refused afterwards, ns (0: back at once).
    #[serde(default)]
    pub down: Nanos,
}

/// Every restart so far and to come, in time order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Restarts {
    list: Vec<Restart>,
}

impl Restarts {
    /// A schedule (any order).
    pub fn new(mut list: Vec<Restart>) -> Restarts {
        list.sort_by_key(|r| r.at);
        Restarts { list }
    }

    /// How many restarts have happened by `now`.
    pub fn generation(&self, now: Nanos) -> usize {
        self.list.partition_point(|r| r.at <= now)
    }

    /// Whether the endpoint is down (refusing connections) at `now`.
    pub fn is_down(&self, now: Nanos) -> bool {
        self.list
            .iter()
            .take_while(|r| r.at <= now)
            .any(|r| now < r.at.saturating_add(r.down))
    }

    /// When a connection accepted in generation `generation` dies, if a restart is scheduled.
    pub fn death_of(&self, generation: usize) -> Option<Nanos> {
        self.list.get(generation).map(|r| r.at)
    }

    /// A restart now (a fault fired): it goes after every restart at or before `now`.
    pub fn restart_now(&mut self, now: Nanos, down: Nanos) {
        let i = self.generation(now);
        self.list.insert(i, Restart { at: now, down });
    }

    /// Restarts that have happened by `now`.
    pub fn happened(&self, now: Nanos) -> &[Restart] {
        &self.list[..self.generation(now)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_downtime_and_restarts_from_faults() {
        let mut r = Restarts::new(vec![
            Restart { at: 50, down: 0 },
            Restart { at: 10, down: 5 },
        ]);
        assert_eq!([0, 9, 10, 49, 50].map(|t| r.generation(t)), [0, 0, 1, 1, 2]);
        assert_eq!(
            [9, 10, 14, 15, 50].map(|t| r.is_down(t)),
            [false, true, true, false, false]
        );
        // A connection from generation 0 dies at 10, one from generation 1 at 50.
        assert_eq!(r.death_of(0), Some(10));
        assert_eq!(r.death_of(1), Some(50));
        assert_eq!(r.death_of(2), None);
        // A fault at 20: connections accepted before it (generation 1) are dead at 20.
        r.restart_now(20, 3);
        assert_eq!(r.generation(20), 2);
        assert!(r.is_down(22) && !r.is_down(23));
        assert_eq!(r.death_of(1), Some(20));
        assert_eq!(r.death_of(2), Some(50));
        assert_eq!(r.happened(20).len(), 2);
    }
}
