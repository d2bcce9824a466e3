//! The one interface between a simulated device's Ethernet MAC and the outside world.
//!
//! A link moves whole Ethernet frames (destination MAC through payload and padding, without the
//! FCS) with virtual timestamps in nanoseconds. It knows nothing of CPUs or cycles: the device
//! model converts its clock to nanoseconds. On virtual time a link is deterministic; backends
//! that touch the host (TAP, host sockets) are paced by their callers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// Virtual time in nanoseconds since the simulation started.
pub type Nanos = u64;

/// Time one frame of `len` bytes (without FCS) occupies a 100 Mbit/s wire: preamble and SFD (8),
/// the frame padded to 60 bytes, FCS (4) and the inter-frame gap (12), 80 ns per byte.
pub fn wire_time_100m(len: usize) -> Nanos {
    (8 + len.max(60) as u64 + 4 + 12) * 80
}

/// A full-duplex Ethernet attachment.
pub trait Link: Send {
    /// The device finished putting `frame` on the wire at `now`.
    fn transmit(&mut self, now: Nanos, frame: &[u8]);

    /// When the device should next call [`Link::receive`]: the arrival time of the next frame
    /// if it is known, or a polling time for backends fed by the host. `None` when nothing can
    /// arrive until the device transmits again.
    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos>;

    /// The next frame that has arrived at or before `now`, oldest first.
    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>>;

    /// Whether a cable is connected (the PHY reports link up). Defaults to connected.
    fn carrier(&self) -> bool {
        true
    }
}

/// A boxed link is a link, so wrappers (capture, impairments) compose with links chosen at run
/// time.
impl<L: Link + ?Sized> Link for Box<L> {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        (**self).transmit(now, frame)
    }
    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        (**self).next_arrival(now)
    }
    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        (**self).receive(now)
    }
    fn carrier(&self) -> bool {
        (**self).carrier()
    }
}

/// A cable from the MAC back to itself: every transmitted frame arrives again after `delay`.
pub struct LoopbackLink {
    delay: Nanos,
    queue: VecDeque<(Nanos, Vec<u8>)>,
}

impl LoopbackLink {
    /// A loopback whose frames arrive `delay` ns after their transmission ended.
    pub fn new(delay: Nanos) -> LoopbackLink {
        LoopbackLink {
            delay,
            queue: VecDeque::new(),
        }
    }
}

impl Link for LoopbackLink {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        self.queue.push_back((now + self.delay, frame.to_vec()));
    }

    fn next_arrival(&mut self, _now: Nanos) -> Option<Nanos> {
        self.queue.front().map(|(t, _)| *t)
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        match self.queue.front() {
            Some((t, _)) if *t <= now => self.queue.pop_front().map(|(_, f)| f),
            _ => None,
        }
    }
}

#[derive(Default)]
struct TestState {
    sent: Vec<(Nanos, Vec<u8>)>,
    inbound: VecDeque<(Nanos, Vec<u8>)>,
    carrier_down: bool,
}

/// A link driven by a test: the test schedules inbound frames and inspects what the device
/// sent, through a [`TestLinkHandle`] it keeps while the device owns the link.
pub struct TestLink {
    state: Arc<Mutex<TestState>>,
}

/// The test's side of a [`TestLink`]. Cloneable.
#[derive(Clone)]
pub struct TestLinkHandle {
    state: Arc<Mutex<TestState>>,
}

/// A link for tests and the handle that drives it.
pub fn test_link() -> (TestLink, TestLinkHandle) {
    let state = Arc::new(Mutex::new(TestState::default()));
    (
        TestLink {
            state: state.clone(),
        },
        TestLinkHandle { state },
    )
}

fn lock(state: &Mutex<TestState>) -> MutexGuard<'_, TestState> {
    // A panicking test thread cannot leave the state half-updated: every update is one push.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl TestLinkHandle {
    /// Delivers `frame` to the device at virtual time `at` (frames are kept in time order;
    /// equal times keep insertion order).
    pub fn inject(&self, at: Nanos, frame: Vec<u8>) {
        let mut s = lock(&self.state);
        let pos = s.inbound.partition_point(|(t, _)| *t <= at);
        s.inbound.insert(pos, (at, frame));
    }

    /// Every frame the device transmitted so far, with its time.
    pub fn sent(&self) -> Vec<(Nanos, Vec<u8>)> {
        lock(&self.state).sent.clone()
    }

    /// Removes and returns the frames transmitted so far.
    pub fn take_sent(&self) -> Vec<(Nanos, Vec<u8>)> {
        std::mem::take(&mut lock(&self.state).sent)
    }

    /// Frames injected but not yet received by the device.
    pub fn pending_inbound(&self) -> usize {
        lock(&self.state).inbound.len()
    }

    /// Connects or disconnects the cable.
    pub fn set_carrier(&self, up: bool) {
        lock(&self.state).carrier_down = !up;
    }
}

impl Link for TestLink {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        lock(&self.state).sent.push((now, frame.to_vec()));
    }

    fn next_arrival(&mut self, _now: Nanos) -> Option<Nanos> {
        lock(&self.state).inbound.front().map(|(t, _)| *t)
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        let mut s = lock(&self.state);
        match s.inbound.front() {
            Some((t, _)) if *t <= now => s.inbound.pop_front().map(|(_, f)| f),
            _ => None,
        }
    }

    fn carrier(&self) -> bool {
        !lock(&self.state).carrier_down
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_returns_frames_after_the_delay() {
        let mut l = LoopbackLink::new(1000);
        assert_eq!(l.next_arrival(0), None);
        l.transmit(500, b"one");
        l.transmit(600, b"two");
        assert_eq!(l.next_arrival(600), Some(1500));
        assert_eq!(l.receive(1499), None);
        assert_eq!(l.receive(1500).as_deref(), Some(&b"one"[..]));
        assert_eq!(l.receive(2000).as_deref(), Some(&b"two"[..]));
        assert_eq!(l.receive(9999), None);
    }

    #[test]
    fn test_link_orders_injected_frames_by_time() {
        let (mut link, h) = test_link();
        h.inject(300, b"late".to_vec());
        h.inject(100, b"early".to_vec());
        h.inject(100, b"early2".to_vec());
        assert_eq!(link.next_arrival(0), Some(100));
        assert_eq!(link.receive(100).as_deref(), Some(&b"early"[..]));
        assert_eq!(link.receive(100).as_deref(), Some(&b"early2"[..]));
        assert_eq!(link.receive(200), None);
        assert_eq!(h.pending_inbound(), 1);
        link.transmit(250, b"out");
        assert_eq!(h.sent(), vec![(250, b"out".to_vec())]);
        assert_eq!(h.take_sent().len(), 1);
        assert!(h.sent().is_empty());
        assert!(link.carrier());
        h.set_carrier(false);
        assert!(!link.carrier());
    }

    #[test]
    fn wire_time_counts_padding_preamble_fcs_and_gap() {
        assert_eq!(wire_time_100m(14), (8 + 60 + 4 + 12) * 80);
        assert_eq!(wire_time_100m(1514), (8 + 1514 + 4 + 12) * 80);
    }
}
