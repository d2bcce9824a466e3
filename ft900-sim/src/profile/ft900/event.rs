//! The one event queue of the FT900 model: every peripheral schedules its future work here, in
//! CPU cycles, and the CPU runs until the earliest entry.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Which device an event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// System registers (self-clearing reset pulses).
    Sys,
    /// UART0.
    Uart0,
    /// UART1.
    Uart1,
    /// Timers A–D and the watchdog.
    Timers,
    /// The real-time clock.
    Rtc,
    /// Ethernet MAC and PHY.
    Eth,
    /// I2C master.
    I2cm,
    /// Flash controller.
    Flash,
}

/// A scheduled event: at cycle `at`, deliver `token` to `source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    at: u64,
    /// Insertion order: events due at the same cycle run in the order they were scheduled,
    /// which keeps runs deterministic.
    seq: u64,
    source: Source,
    token: u64,
}

/// A min-heap of events ordered by (cycle, insertion order).
#[derive(Default)]
pub struct EventQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl EventQueue {
    /// An empty queue.
    pub fn new() -> EventQueue {
        EventQueue::default()
    }

    /// Schedules `token` for `source` at cycle `at`. Devices cancel an event by remembering
    /// which token is current and ignoring stale ones.
    pub fn schedule(&mut self, at: u64, source: Source, token: u64) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            source,
            token,
        }));
    }

    /// Cycle of the earliest event (`u64::MAX` when empty).
    pub fn next_at(&self) -> u64 {
        self.heap.peek().map_or(u64::MAX, |Reverse(e)| e.at)
    }

    /// Removes and returns the earliest event if it is due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<(u64, Source, u64)> {
        match self.heap.peek() {
            Some(Reverse(e)) if e.at <= now => {
                let Reverse(e) = self.heap.pop()?;
                Some((e.at, e.source, e.token))
            }
            _ => None,
        }
    }

    /// Drops every event of `source` (device reset).
    pub fn cancel_all(&mut self, source: Source) {
        self.heap.retain(|Reverse(e)| e.source != source);
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// `true` when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_time_then_by_insertion_order() {
        let mut q = EventQueue::new();
        q.schedule(50, Source::Rtc, 1);
        q.schedule(10, Source::Uart0, 2);
        q.schedule(50, Source::Eth, 3);
        q.schedule(10, Source::Timers, 4);
        assert_eq!(q.next_at(), 10);
        assert_eq!(q.pop_due(9), None);
        assert_eq!(q.pop_due(10), Some((10, Source::Uart0, 2)));
        assert_eq!(q.pop_due(10), Some((10, Source::Timers, 4)));
        assert_eq!(q.pop_due(10), None);
        assert_eq!(q.pop_due(100), Some((50, Source::Rtc, 1)));
        assert_eq!(q.pop_due(100), Some((50, Source::Eth, 3)));
        assert!(q.is_empty());
        assert_eq!(q.next_at(), u64::MAX);
    }

    #[test]
    fn cancel_all_removes_only_that_source() {
        let mut q = EventQueue::new();
        q.schedule(5, Source::Eth, 1);
        q.schedule(6, Source::Rtc, 2);
        q.schedule(7, Source::Eth, 3);
        q.cancel_all(Source::Eth);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_due(10), Some((6, Source::Rtc, 2)));
    }
}
