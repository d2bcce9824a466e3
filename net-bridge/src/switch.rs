//! An Ethernet switch joining several devices and one uplink (the gateway, or any [`Link`]).
//!
//! Each device's MAC holds a [`SwitchPort`] as its `Box<dyn Link>`; the ports share the switch
//! behind a mutex, so devices may live on different threads. The switch learns source MAC
//! addresses, forwards known unicast to one port and floods broadcast, multicast and unknown
//! destinations; a port can be unplugged and plugged again (its carrier follows).
//!
//! # Time and determinism
//! Every device runs on its own virtual clock and tells the switch its time with each call.
//! A frame sent at `t` arrives at `t + latency` (default: the 100 Mbit/s time of a minimum frame
//! plus 1 µs), is kept in a per-port queue ordered by `(arrival, source port, source sequence)`,
//! and is handed out only once the receiving device's clock has reached its arrival time.
//!
//! The uplink has no clock of its own: the switch advances it lazily, in timestamp order, to the
//! *safe time* — the earliest clock among the attached ports plus the latency — because no
//! device can still send a frame that would reach the uplink before then. Its events (frames
//! to it, its own timers, its frames out) are processed strictly before that time.
//!
//! The result is deterministic when the devices are advanced in lockstep: all devices run
//! through the same quantum `[T, T + Q)` with `Q <` [`Switch::latency`], then the next quantum.
//! A frame sent inside a quantum then always arrives in a later one, so the order in which the
//! devices run inside a quantum cannot change what anyone receives. [`crate::run_lockstep`]
//! does this for [`GuestStack`](crate::GuestStack)s; a simulator running CPUs does the same
//! with cycles. A device that runs ahead of the others can receive a frame later than its
//! arrival time: the frame is still delivered (never dropped) and counted in
//! [`SwitchStats::late`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use smoltcp::phy::{PcapLinkType, PcapSink};

use crate::link::{Link, Nanos};
use crate::phy::instant;

/// Source id of the uplink in the ordering key (after every device port).
const UPLINK: usize = usize::MAX;

type Queued = Reverse<(Nanos, usize, u64, Vec<u8>)>;

/// Counters of a switch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwitchStats {
    /// Frames that entered the switch.
    pub frames: u64,
    /// Frames flooded (broadcast, multicast or unknown destination).
    pub flooded: u64,
    /// Frames dropped because the sending or receiving port was unplugged.
    pub dropped_unplugged: u64,
    /// Frames too short to carry Ethernet addresses, dropped.
    pub dropped_runt: u64,
    /// Frames that reached a device after its clock had passed their arrival time.
    pub late: u64,
}

struct Port {
    attached: bool,
    plugged: bool,
    now: Nanos,
    seq: u64,
    inbound: BinaryHeap<Queued>,
}

/// The uplink's side of the switch; its link lives apart, in [`Shared::uplink`].
struct Uplink {
    inbound: BinaryHeap<Queued>,
    now: Nanos,
    /// Everything before this time has been processed.
    advanced_to: Nanos,
    seq: u64,
}

struct Capture {
    sink: Box<dyn Write + Send>,
    pending: BinaryHeap<Queued>,
}

struct Core {
    latency: Nanos,
    ports: Vec<Port>,
    uplink: Option<Uplink>,
    macs: BTreeMap<[u8; 6], usize>,
    capture: Option<Capture>,
    stats: SwitchStats,
    /// Set by [`Switch::sync_all`]: every frame arriving before this time is already queued.
    horizon: Option<Nanos>,
    /// Set by [`Switch::mark_all`]: the safe time then, to which the next
    /// [`Switch::advance_uplink`] runs the uplink.
    uplink_limit: Option<Nanos>,
}

/// What the handles share. The uplink's link has a lock of its own, so that the uplink can
/// run (the gateway and whatever serves behind it) while devices use their ports: whoever holds
/// both takes `uplink` first.
struct Shared {
    uplink: Mutex<Option<Box<dyn Link>>>,
    core: Mutex<Core>,
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update leaves the state consistent between statements that can panic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs the uplink through every event before `limit`, in time order. The core is locked only
/// to take frames for the uplink and to forward what it sends, never while the uplink works.
fn advance_uplink(core: &Mutex<Core>, link: &mut dyn Link, limit: Nanos) {
    let mut last_empty: Option<Nanos> = None;
    for _ in 0..1_000_000 {
        let (t_in, now) = {
            let c = lock(core);
            let Some(u) = &c.uplink else { return };
            (u.inbound.peek().map(|Reverse((t, ..))| *t), u.now)
        };
        let t_out = link.next_arrival(now).map(|t| t.max(now));
        let t = match (t_in, t_out) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(t) => t,
                None => break,
            },
        };
        if t >= limit {
            break;
        }
        if t_in == Some(t) {
            // Frames reaching the uplink before `limit` were all queued before this call
            // (devices send at or after the safe time): the earliest is still this one.
            let popped = {
                let mut c = lock(core);
                c.uplink.as_mut().and_then(|u| {
                    let item = u.inbound.pop();
                    if let Some(Reverse((t, ..))) = &item {
                        u.now = *t;
                    }
                    item
                })
            };
            if let Some(Reverse((t, _, _, frame))) = popped {
                link.transmit(t, &frame);
            }
            last_empty = None;
            continue;
        }
        if let Some(u) = &mut lock(core).uplink {
            u.now = t;
        }
        let mut out = Vec::new();
        while let Some(f) = link.receive(t) {
            out.push(f);
        }
        if out.is_empty() {
            // A polling hint with nothing behind it; do not spin on the same time.
            if last_empty == Some(t) {
                break;
            }
            last_empty = Some(t);
        } else {
            last_empty = None;
        }
        let mut c = lock(core);
        for f in out {
            let seq = match &mut c.uplink {
                Some(u) => {
                    u.seq += 1;
                    u.seq
                }
                None => 0,
            };
            c.forward(UPLINK, seq, t, f);
        }
    }
    if let Some(u) = &mut lock(core).uplink {
        u.advanced_to = u.advanced_to.max(limit);
    }
}

/// Brings port `port`'s clock to `now` and, unless a lockstep runner syncs every quantum, the
/// uplink to the safe time.
fn sync(shared: &Shared, port: usize, now: Nanos) {
    let safe = {
        let mut c = lock(&shared.core);
        if let Some(p) = c.ports.get_mut(port) {
            p.now = p.now.max(now);
        }
        if c.horizon.is_some() {
            // A lockstep runner syncs everyone at each quantum's end (`Switch::sync_all`),
            // which runs the uplink through everything a device can receive in the next
            // quantum; running it here as well would give the same events in the same order
            // (the uplink only ever runs up to the safe time), but would cost a pass over every
            // port on each device's every link call: quadratic in the fleet's size.
            return;
        }
        c.safe_time()
    };
    let mut link = lock(&shared.uplink);
    if let Some(l) = link.as_mut() {
        advance_uplink(&shared.core, l.as_mut(), safe);
    }
    lock(&shared.core).flush_capture(false);
}

impl Core {
    /// The earliest time a device can still make a frame arrive.
    fn safe_time(&self) -> Nanos {
        self.ports
            .iter()
            .filter(|p| p.attached)
            .map(|p| p.now.saturating_add(self.latency))
            .min()
            .unwrap_or(Nanos::MAX)
    }

    fn forward(&mut self, src: usize, seq: u64, now: Nanos, frame: Vec<u8>) {
        if frame.len() < 14 {
            self.stats.dropped_runt += 1;
            return;
        }
        self.stats.frames += 1;
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&frame[..6]);
        let mut smac = [0u8; 6];
        smac.copy_from_slice(&frame[6..12]);
        if smac[0] & 1 == 0 {
            self.macs.insert(smac, src);
        }
        if let Some(c) = &mut self.capture {
            c.pending.push(Reverse((now, src, seq, frame.clone())));
        }
        let arrival = now + self.latency;
        let known = if dst[0] & 1 == 0 {
            self.macs.get(&dst).copied()
        } else {
            None
        };
        let targets: Vec<usize> = match known {
            Some(t) if t == src => return, // the destination is on the sending port
            Some(t) => vec![t],
            None => {
                self.stats.flooded += 1;
                let mut v: Vec<usize> = (0..self.ports.len()).filter(|i| *i != src).collect();
                if src != UPLINK && self.uplink.is_some() {
                    v.push(UPLINK);
                }
                v
            }
        };
        for t in targets {
            let item = Reverse((arrival, src, seq, frame.clone()));
            if t == UPLINK {
                if let Some(u) = &mut self.uplink {
                    u.inbound.push(item);
                }
            } else if let Some(p) = self.ports.get_mut(t) {
                if !p.attached {
                    continue;
                }
                if !p.plugged {
                    self.stats.dropped_unplugged += 1;
                    continue;
                }
                if arrival < p.now {
                    self.stats.late += 1;
                }
                p.inbound.push(item);
            }
        }
    }

    /// Writes captured frames no one can precede any more.
    fn flush_capture(&mut self, all: bool) {
        let min_port = self
            .ports
            .iter()
            .filter(|p| p.attached)
            .map(|p| p.now)
            .min()
            .unwrap_or(Nanos::MAX);
        let up = self.uplink.as_ref().map_or(Nanos::MAX, |u| u.advanced_to);
        let threshold = min_port.min(up);
        if let Some(c) = &mut self.capture {
            while let Some(Reverse((t, ..))) = c.pending.peek() {
                if !all && *t >= threshold {
                    break;
                }
                if let Some(Reverse((t, _, _, f))) = c.pending.pop() {
                    PcapSink::packet(&mut c.sink, instant(t), &f);
                }
            }
            if all {
                let _ = Write::flush(&mut c.sink);
            }
        }
    }
}

/// A switch; cloning gives another handle on the same switch.
#[derive(Clone)]
pub struct Switch {
    shared: Arc<Shared>,
}

/// One device port of a [`Switch`]; give it to the device as its link.
pub struct SwitchPort {
    shared: Arc<Shared>,
    index: usize,
}

impl Switch {
    /// Default port-to-port latency: a minimum frame at 100 Mbit/s (6.72 µs) plus 1 µs.
    pub const DEFAULT_LATENCY: Nanos = 7_720;

    /// A switch with no ports whose frames take `latency` (at least 1 ns) from port to port.
    pub fn new(latency: Nanos) -> Switch {
        Switch {
            shared: Arc::new(Shared {
                uplink: Mutex::new(None),
                core: Mutex::new(Core {
                    latency: latency.max(1),
                    ports: Vec::new(),
                    uplink: None,
                    macs: BTreeMap::new(),
                    capture: None,
                    stats: SwitchStats::default(),
                    horizon: None,
                    uplink_limit: None,
                }),
            }),
        }
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        lock(&self.shared.core)
    }

    /// A switch with the default latency and `uplink` attached.
    pub fn with_uplink(uplink: Box<dyn Link>) -> Switch {
        let s = Switch::new(Switch::DEFAULT_LATENCY);
        s.set_uplink(uplink);
        s
    }

    /// Attaches (or replaces) the uplink.
    pub fn set_uplink(&self, link: Box<dyn Link>) {
        let mut l = lock(&self.shared.uplink);
        *l = Some(link);
        self.core().uplink = Some(Uplink {
            inbound: BinaryHeap::new(),
            now: 0,
            advanced_to: 0,
            seq: 0,
        });
    }

    /// Tells the switch that every attached device's clock has reached `now`, and runs the
    /// uplink to the safe time that follows. A lockstep runner calls this at the end of each
    /// quantum: a port's clock otherwise moves only when its device touches its link, so an
    /// idle device would hold the safe time back, and whether a busy device found its frames
    /// already queued would depend on which device the host happened to run first.
    ///
    /// From the first call on, the switch knows that every frame arriving before `now +
    /// latency` is queued (devices send at `now` or later; the uplink has run past `now`), and
    /// a port's [`Link::next_arrival`] answers from its own queue, capped at that horizon,
    /// instead of from the uplink's pending events: those depend on how far the other devices'
    /// threads have got, and a device's polling times, and so its cycle count, would too.
    ///
    /// The same as [`Switch::mark_all`] followed by [`Switch::advance_uplink`].
    pub fn sync_all(&self, now: Nanos) {
        self.mark_all(now);
        self.advance_uplink();
    }

    /// The first half of [`Switch::sync_all`]: every attached device's clock has reached
    /// `now`, the horizon becomes `now + latency`; the uplink does not run. A runner calls
    /// [`Switch::advance_uplink`] before the next `mark_all`, and may do so while the devices
    /// run their next quantum (shorter than the latency): what the uplink sends then arrives
    /// after the horizon, so no device can see it before the next `mark_all`, and what the
    /// devices send reaches the uplink after the horizon, where it stops.
    pub fn mark_all(&self, now: Nanos) {
        let mut c = self.core();
        for p in c.ports.iter_mut().filter(|p| p.attached) {
            p.now = p.now.max(now);
        }
        c.flush_capture(false);
        c.horizon = Some(now.saturating_add(c.latency));
        // The safe time at the mark (at least the horizon; more when every device ran past
        // `now`), fixed here so that the uplink's steps do not depend on how far the devices
        // got when it runs.
        c.uplink_limit = Some(c.safe_time());
    }

    /// The second half of [`Switch::sync_all`]: runs the uplink through every event before
    /// the safe time of the last [`Switch::mark_all`] (without one: the safe time now).
    pub fn advance_uplink(&self) {
        let mut link = lock(&self.shared.uplink);
        let limit = {
            let c = self.core();
            c.uplink_limit.unwrap_or_else(|| c.safe_time())
        };
        if let Some(l) = link.as_mut() {
            advance_uplink(&self.shared.core, l.as_mut(), limit);
        }
        drop(link);
        self.core().flush_capture(false);
    }

    /// The run ends with every device's clock at `now`: like [`Switch::sync_all`], but the
    /// uplink runs only through the events before `now + latency` — the frames the devices
    /// sent until `now` reach it and its answers reach the capture — whatever the safe time.
    /// Once no port is attached the safe time is unbounded, and a gateway left to itself keeps
    /// timers for hours of virtual time (an idle flow is reset after 10 minutes; an RST to a
    /// device that has gone asks ARP for it every second): nothing a device could see, but
    /// host time spent on the run's last thread and frames in the capture after the run.
    pub fn finish(&self, now: Nanos) {
        self.mark_all(now);
        {
            let mut c = self.core();
            let end = now.saturating_add(c.latency);
            c.uplink_limit = Some(c.uplink_limit.map_or(end, |l| l.min(end)));
        }
        self.advance_uplink();
    }

    /// Port-to-port latency; devices advanced in lockstep must use quanta shorter than this.
    pub fn latency(&self) -> Nanos {
        self.core().latency
    }

    /// A new plugged-in port whose clock starts at the earliest clock of the other ports.
    pub fn add_port(&self) -> SwitchPort {
        let mut c = self.core();
        let start = c
            .ports
            .iter()
            .filter(|p| p.attached)
            .map(|p| p.now)
            .min()
            .unwrap_or(0);
        c.ports.push(Port {
            attached: true,
            plugged: true,
            now: start,
            seq: 0,
            inbound: BinaryHeap::new(),
        });
        SwitchPort {
            shared: self.shared.clone(),
            index: c.ports.len() - 1,
        }
    }

    /// Plugs or unplugs port `index` (frames to and from an unplugged port are dropped).
    pub fn set_plugged(&self, index: usize, plugged: bool) {
        let mut c = self.core();
        if let Some(p) = c.ports.get_mut(index) {
            p.plugged = plugged;
            if !plugged {
                let n = p.inbound.len() as u64;
                p.inbound.clear();
                c.stats.dropped_unplugged += n;
            }
        }
    }

    /// Captures every frame entering the switch, in timestamp order, to `sink` as pcap.
    pub fn capture(&self, mut sink: Box<dyn Write + Send>) {
        PcapSink::global_header(&mut sink, PcapLinkType::Ethernet);
        self.core().capture = Some(Capture {
            sink,
            pending: BinaryHeap::new(),
        });
    }

    /// Writes every captured frame still held back for ordering, and flushes the sink.
    pub fn flush_capture(&self) {
        self.core().flush_capture(true);
    }

    /// The counters so far.
    pub fn stats(&self) -> SwitchStats {
        self.core().stats.clone()
    }
}

impl SwitchPort {
    /// This port's number.
    pub fn index(&self) -> usize {
        self.index
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        lock(&self.shared.core)
    }
}

impl Link for SwitchPort {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        sync(&self.shared, self.index, now);
        let mut c = self.core();
        let Some(p) = c.ports.get_mut(self.index) else {
            return;
        };
        if !p.plugged {
            c.stats.dropped_unplugged += 1;
            return;
        }
        p.seq += 1;
        let (seq, at) = (p.seq, now.max(p.now));
        c.forward(self.index, seq, at, frame.to_vec());
    }

    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        sync(&self.shared, self.index, now);
        let own = |c: &Core| {
            c.ports
                .get(self.index)
                .and_then(|p| p.inbound.peek().map(|Reverse((t, ..))| *t))
        };
        {
            let c = self.core();
            if let Some(h) = c.horizon {
                return Some(own(&c).map_or(h, |t| t.min(h)));
            }
        }
        // Without a lockstep runner: the uplink's next event may send us a frame one latency
        // later (locks in the order uplink, core).
        let mut link = lock(&self.shared.uplink);
        let mut c = self.core();
        let latency = c.latency;
        let own = own(&c);
        let up = match (c.uplink.as_mut(), link.as_mut()) {
            (Some(u), Some(l)) => {
                let t_in = u.inbound.peek().map(|Reverse((t, ..))| *t);
                let t_out = l.next_arrival(u.now);
                match (t_in, t_out) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
                .map(|t| t.saturating_add(latency))
                // A due uplink event that the switch cannot process yet (a device behind this
                // one may still send something that must reach the uplink first) is no reason
                // to poll again at once: the device would spin on it, and skip no idle time,
                // until the others catch up. Ask again one latency later; a frame that results
                // arrives late at worst, and is counted in `SwitchStats::late`.
                .map(|t| if t <= now { now + latency } else { t })
            }
            _ => None,
        };
        match (own, up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        sync(&self.shared, self.index, now);
        let mut c = self.core();
        let p = c.ports.get_mut(self.index)?;
        match p.inbound.peek() {
            Some(Reverse((t, ..))) if *t <= now => p.inbound.pop().map(|Reverse((.., f))| f),
            _ => None,
        }
    }

    fn carrier(&self) -> bool {
        self.core().ports.get(self.index).is_some_and(|p| p.plugged)
    }
}

impl Drop for SwitchPort {
    fn drop(&mut self) {
        let mut c = self.core();
        if let Some(p) = c.ports.get_mut(self.index) {
            p.attached = false;
            p.inbound.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::test_link;

    fn frame(dst: [u8; 6], src: [u8; 6], tag: u8) -> Vec<u8> {
        let mut f = dst.to_vec();
        f.extend_from_slice(&src);
        f.extend_from_slice(&[0x88, 0xb5, tag]);
        f.resize(60, 0);
        f
    }

    const A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
    const B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];
    const BCAST: [u8; 6] = [0xff; 6];

    #[test]
    fn learns_floods_and_respects_latency_and_plugging() {
        let (up, uph) = test_link();
        let sw = Switch::new(1000);
        sw.set_uplink(Box::new(up));
        let mut a = sw.add_port();
        let mut b = sw.add_port();
        // Unknown destination: flooded to b and the uplink.
        a.transmit(0, &frame(B, A, 1));
        assert_eq!(b.next_arrival(0), Some(1000));
        assert_eq!(b.receive(999), None);
        assert_eq!(b.receive(1000).unwrap()[14], 1);
        // Everyone's clock past 2000: the uplink has seen the frame at 1000.
        a.next_arrival(2000);
        b.next_arrival(2000);
        assert_eq!(uph.sent().len(), 1);
        assert_eq!(uph.sent()[0].0, 1000);
        // b answers a: a is known now, so only a gets it.
        b.transmit(2000, &frame(A, B, 2));
        a.next_arrival(5000);
        b.next_arrival(5000);
        assert_eq!(uph.sent().len(), 1);
        // The uplink broadcasts: both ports get it one latency later.
        uph.inject(5000, frame(BCAST, [2, 0, 0, 0, 0, 0xc], 3));
        a.next_arrival(6000);
        b.next_arrival(6000);
        assert_eq!(a.receive(7000).unwrap()[14], 2);
        assert_eq!(a.receive(7000).unwrap()[14], 3);
        assert_eq!(b.receive(7000).unwrap()[14], 3);
        // Unplugged: carrier off, nothing in or out.
        sw.set_plugged(b.index(), false);
        assert!(!b.carrier());
        a.transmit(8000, &frame(B, A, 4));
        b.transmit(8000, &frame(A, B, 5));
        assert_eq!(b.receive(20_000), None);
        assert_eq!(a.receive(20_000), None);
        sw.set_plugged(b.index(), true);
        assert!(b.carrier());
        let st = sw.stats();
        assert_eq!(st.dropped_unplugged, 2);
        assert_eq!(st.late, 0);
    }

    #[test]
    fn equal_arrivals_are_ordered_by_port_not_by_call_order() {
        let run = |a_first: bool| {
            let sw = Switch::new(1000);
            let mut a = sw.add_port();
            let mut b = sw.add_port();
            let mut c = sw.add_port();
            if a_first {
                a.transmit(0, &frame(BCAST, A, 1));
                b.transmit(0, &frame(BCAST, B, 2));
            } else {
                b.transmit(0, &frame(BCAST, B, 2));
                a.transmit(0, &frame(BCAST, A, 1));
            }
            let mut got = Vec::new();
            while let Some(f) = c.receive(1000) {
                got.push(f[14]);
            }
            got
        };
        assert_eq!(run(true), vec![1, 2]);
        assert_eq!(run(false), vec![1, 2]);
    }

    #[test]
    fn finish_runs_the_uplink_to_the_end_of_the_run_and_no_further() {
        // An uplink with one event inside the run's last latency and one long after it (a
        // gateway's timer for a device that has gone). Every port is detached at the end, so
        // the safe time is unbounded: `sync_all` would run the uplink through both.
        let run = |finish: bool| {
            let (up, uph) = test_link();
            let sw = Switch::new(1000);
            sw.set_uplink(Box::new(up));
            let mut a = sw.add_port();
            uph.inject(2500, frame(BCAST, [2, 0, 0, 0, 0, 0xc], 1));
            uph.inject(600_000_000_000, frame(BCAST, [2, 0, 0, 0, 0, 0xc], 2));
            a.transmit(1900, &frame(BCAST, A, 3));
            drop(a);
            if finish {
                sw.finish(2000);
            } else {
                sw.sync_all(2000);
            }
            (uph.sent(), sw.stats().frames)
        };
        let (sent, frames) = run(true);
        // The device's frame reached the uplink (at 2900) and the uplink's event at 2500 ran;
        // the one 600 s later did not.
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, 2900);
        assert_eq!(frames, 2);
        let (_, frames) = run(false);
        assert_eq!(
            frames, 3,
            "without finish the uplink runs on to its last event"
        );
    }

    #[test]
    fn after_sync_all_an_idle_port_does_not_hold_frames_back_and_hints_do_not_depend_on_others() {
        // The uplink answers at 1500 with a broadcast; port a is busy, port b never calls.
        let (up, uph) = test_link();
        let sw = Switch::new(1000);
        sw.set_uplink(Box::new(up));
        let mut a = sw.add_port();
        let mut b = sw.add_port();
        uph.inject(1500, frame(BCAST, [2, 0, 0, 0, 0, 0xc], 7));
        // Without a sync, b's clock (0) holds the safe time at 1000: a sees nothing yet.
        a.next_arrival(2000);
        assert_eq!(a.receive(2000), None);
        // The runner says everyone reached 2000: the uplink runs to 3000, the frame is queued.
        sw.sync_all(2000);
        assert_eq!(a.next_arrival(2000), Some(2500));
        assert_eq!(a.receive(2500).unwrap()[14], 7);
        // With an empty queue the hint is the horizon (2000 + latency), whatever the uplink
        // has pending and however far the other port got.
        uph.inject(2900, frame(BCAST, [2, 0, 0, 0, 0, 0xc], 8));
        assert_eq!(a.next_arrival(2600), Some(3000));
        b.next_arrival(2900);
        assert_eq!(a.next_arrival(2600), Some(3000));
        assert_eq!(b.receive(2500).unwrap()[14], 7);
        assert_eq!(sw.stats().late, 0);
    }
}
