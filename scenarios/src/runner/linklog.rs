//! What a device's cable told it, recorded in a scenario and replayed without the network:
//! the device bench (`scenarios bench` on a one-device scenario, or `--alone`,
//! [`super::devbench`]) runs the same firmware on the same engine twice — once in its
//! scenario, once alone with this recording as its cable — so the two runs execute exactly the
//! same instructions (checked: same cycles and instructions) and the difference in host time is
//! what the scenario adds: gateway, endpoint, pcap, synchronisation.
//!
//! The Ethernet model's only inputs from outside are the answers of its [`Link`]: when the
//! next frame arrives, the frames themselves, and the carrier. A device given the same answers
//! in the same order does the same thing, so the recording keeps each kind of answer in call
//! order and the replay hands them back in that order; the time arguments are not needed.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};

use net_bridge::{Link, Nanos};

/// Every answer a device's link gave, per kind, in call order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkLog {
    /// Results of [`Link::next_arrival`].
    pub next_arrival: Vec<Option<Nanos>>,
    /// Results of [`Link::receive`] (`None` ends a poll).
    pub receive: Vec<Option<Vec<u8>>>,
    /// Results of [`Link::carrier`].
    pub carrier: Vec<bool>,
    /// Frames the device transmitted.
    pub transmits: u64,
}

/// Hands out recording links and collects their logs once the links are dropped (when the
/// run's machines are), one slot per device index.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    logs: Arc<Mutex<Vec<Option<LinkLog>>>>,
}

impl Recorder {
    /// A recorder with no log yet.
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// `inner`, with everything it answers device `index` recorded.
    pub fn wrap(&self, index: usize, inner: Box<dyn Link>) -> Box<dyn Link> {
        Box::new(Recording {
            inner,
            log: LinkLog::default(),
            carrier: RefCell::new(Vec::new()),
            index,
            sink: Arc::clone(&self.logs),
        })
    }

    /// Device `index`'s log, once its link has been dropped.
    pub fn take(&self, index: usize) -> Option<LinkLog> {
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.get_mut(index).and_then(Option::take)
    }
}

/// A link that records what its inner link answers.
struct Recording {
    inner: Box<dyn Link>,
    log: LinkLog,
    // `carrier` takes `&self`; the Ethernet model asks it from one thread at a time.
    carrier: RefCell<Vec<bool>>,
    index: usize,
    sink: Arc<Mutex<Vec<Option<LinkLog>>>>,
}

impl Link for Recording {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        self.log.transmits += 1;
        self.inner.transmit(now, frame);
    }

    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        let t = self.inner.next_arrival(now);
        self.log.next_arrival.push(t);
        t
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        let f = self.inner.receive(now);
        self.log.receive.push(f.clone());
        f
    }

    fn carrier(&self) -> bool {
        let c = self.inner.carrier();
        self.carrier.borrow_mut().push(c);
        c
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let mut log = std::mem::take(&mut self.log);
        log.carrier = std::mem::take(self.carrier.get_mut());
        let mut logs = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        if logs.len() <= self.index {
            logs.resize(self.index + 1, None);
        }
        logs[self.index] = Some(log);
    }
}

/// A cable that answers from a [`LinkLog`]: no gateway, no endpoint, nothing on the other end.
/// Transmitted frames are counted and dropped.
pub struct Replay {
    log: LinkLog,
    next_arrival: usize,
    receive: usize,
    carrier: Cell<usize>,
    transmits: u64,
    exhausted: Cell<bool>,
    done: Arc<Mutex<Option<ReplayEnd>>>,
}

/// How a replay went: whether the device asked exactly what it asked in the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayEnd {
    /// The device asked for more answers than the recording holds.
    pub exhausted: bool,
    /// Answers left unused (next-arrival, receive, carrier).
    pub unused: (usize, usize, usize),
    /// Frames transmitted in the replay, and in the recording.
    pub transmits: (u64, u64),
}

impl ReplayEnd {
    /// The replay asked and sent exactly what the recorded run did.
    pub fn exact(&self) -> bool {
        !self.exhausted && self.unused == (0, 0, 0) && self.transmits.0 == self.transmits.1
    }
}

impl Replay {
    /// A cable replaying `log`; how it went is in the returned slot once the link is dropped.
    pub fn new(log: LinkLog) -> (Replay, Arc<Mutex<Option<ReplayEnd>>>) {
        let done = Arc::new(Mutex::new(None));
        let replay = Replay {
            log,
            next_arrival: 0,
            receive: 0,
            carrier: Cell::new(0),
            transmits: 0,
            exhausted: Cell::new(false),
            done: Arc::clone(&done),
        };
        (replay, done)
    }
}

impl Link for Replay {
    fn transmit(&mut self, _now: Nanos, _frame: &[u8]) {
        self.transmits += 1;
    }

    fn next_arrival(&mut self, _now: Nanos) -> Option<Nanos> {
        let Some(&t) = self.log.next_arrival.get(self.next_arrival) else {
            self.exhausted.set(true);
            return None;
        };
        self.next_arrival += 1;
        t
    }

    fn receive(&mut self, _now: Nanos) -> Option<Vec<u8>> {
        let Some(f) = self.log.receive.get_mut(self.receive) else {
            self.exhausted.set(true);
            return None;
        };
        self.receive += 1;
        f.take()
    }

    fn carrier(&self) -> bool {
        let k = self.carrier.get();
        let Some(&c) = self.log.carrier.get(k) else {
            self.exhausted.set(true);
            return true;
        };
        self.carrier.set(k + 1);
        c
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        let end = ReplayEnd {
            exhausted: self.exhausted.get(),
            unused: (
                self.log.next_arrival.len() - self.next_arrival,
                self.log.receive.len() - self.receive,
                self.log.carrier.len() - self.carrier.get(),
            ),
            transmits: (self.transmits, self.log.transmits),
        };
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = Some(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use net_bridge::LoopbackLink;

    /// What a device would see from a link: a fixed sequence of calls.
    fn drive(link: &mut dyn Link) -> Vec<String> {
        let mut seen = Vec::new();
        for (k, now) in [0u64, 100, 250, 400].into_iter().enumerate() {
            seen.push(format!("carrier {}", link.carrier()));
            if k % 2 == 0 {
                link.transmit(now, &[k as u8; 20]);
            }
            seen.push(format!("next {:?}", link.next_arrival(now)));
            while let Some(f) = link.receive(now) {
                seen.push(format!("frame {:?}", &f[..2]));
            }
        }
        seen
    }

    #[test]
    fn a_replay_answers_what_the_recorded_link_answered_and_notices_a_different_device() {
        let recorder = Recorder::new();
        let mut rec = recorder.wrap(3, Box::new(LoopbackLink::new(50)));
        let live = drive(&mut *rec);
        assert!(
            recorder.take(3).is_none(),
            "the log comes when the link is dropped"
        );
        drop(rec);
        let log = recorder.take(3).expect("log");
        assert_eq!(log.transmits, 2);
        assert!(live.iter().any(|l| l.starts_with("frame")), "{live:?}");

        let (mut replay, end) = Replay::new(log.clone());
        assert_eq!(drive(&mut replay), live);
        drop(replay);
        assert!(end.lock().unwrap().expect("end").exact());

        // A device that asks more than the scenario's did is told so.
        let (mut replay, end) = Replay::new(log);
        drive(&mut replay);
        replay.next_arrival(500);
        drop(replay);
        let end = end.lock().unwrap().expect("end");
        assert!(end.exhausted && !end.exact(), "{end:?}");
    }
}
