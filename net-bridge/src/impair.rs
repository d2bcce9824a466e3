//! Network impairments as a [`Link`] wrapper: loss, duplication, corruption, delay and jitter,
//! reordering, a bandwidth limit and link-down intervals, each direction with its own settings
//! and its own seeded random stream, so a seed reproduces the same faults frame for frame.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

use crate::link::{Link, Nanos};

/// SplitMix64: a small, fast, seedable generator (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `true` with probability `p`. Always draws, so the stream does not depend on `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        let x = ((self.next_u64() >> 11) as f64) / ((1u64 << 53) as f64);
        x < p
    }

    /// A uniform value in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == 0 {
            0
        } else {
            self.next_u64() % (max + 1)
        }
    }
}

/// What happens to frames going one way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Impairments {
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a frame is delivered twice.
    pub duplicate: f64,
    /// Probability that one bit of a frame's payload (after the Ethernet header) is flipped,
    /// so that IP/TCP/UDP checksums, not the FCS, must catch it.
    pub corrupt: f64,
    /// Fixed extra delay.
    pub delay: Nanos,
    /// Extra delay drawn uniformly from `0..=jitter` per frame. Jitter keeps frames in order
    /// (a frame never overtakes the one before it); use `reorder` for reordering.
    pub jitter: Nanos,
    /// Probability that a frame is held back by `reorder_delay`, letting later frames pass.
    pub reorder: f64,
    /// How long a reordered frame is held back.
    pub reorder_delay: Nanos,
    /// Bandwidth limit in bits per second (frames queue behind each other).
    pub rate_bps: Option<u64>,
    /// Intervals `[start, end)` of virtual time during which the link is down: frames sent or
    /// due to arrive then are lost, and the carrier is off.
    pub down: Vec<(Nanos, Nanos)>,
}

impl Impairments {
    /// Only loss, with probability `p`.
    pub fn loss(p: f64) -> Impairments {
        Impairments {
            loss: p,
            ..Impairments::default()
        }
    }

    fn is_down(&self, t: Nanos) -> bool {
        self.down.iter().any(|(a, b)| *a <= t && t < *b)
    }
}

/// Counters of one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectionStats {
    /// Frames offered.
    pub offered: u64,
    /// Frames delivered (duplicates included).
    pub delivered: u64,
    /// Frames lost at random.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Frames with a flipped bit.
    pub corrupted: u64,
    /// Frames held back to reorder.
    pub reordered: u64,
    /// Frames lost because the link was down.
    pub lost_down: u64,
}

/// Counters of both directions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImpairStats {
    /// From the device into the wrapped link.
    pub outbound: DirectionStats,
    /// From the wrapped link to the device.
    pub inbound: DirectionStats,
}

struct Direction {
    cfg: Impairments,
    rng: SplitMix64,
    busy_until: Nanos,
    /// Arrival time of the last in-order frame.
    fifo_tail: Nanos,
    seq: u64,
    queue: BinaryHeap<Reverse<(Nanos, u64, Vec<u8>)>>,
}

impl Direction {
    fn new(cfg: Impairments, seed: u64) -> Direction {
        Direction {
            cfg,
            rng: SplitMix64::new(seed),
            busy_until: 0,
            fifo_tail: 0,
            seq: 0,
            queue: BinaryHeap::new(),
        }
    }

    /// Applies the impairments to a frame that entered at `t`.
    fn offer(&mut self, t: Nanos, mut frame: Vec<u8>, st: &mut DirectionStats) {
        st.offered += 1;
        if self.cfg.is_down(t) {
            st.lost_down += 1;
            return;
        }
        // Draw every decision for every frame, so that changing one probability does not
        // shift the random stream of the others.
        let lost = self.rng.chance(self.cfg.loss);
        let dup = self.rng.chance(self.cfg.duplicate);
        let corrupt = self.rng.chance(self.cfg.corrupt);
        let bit = self.rng.next_u64();
        let jitter = self.rng.up_to(self.cfg.jitter);
        let reorder = self.rng.chance(self.cfg.reorder);
        if lost {
            st.lost += 1;
            return;
        }
        let mut at = t;
        if let Some(rate) = self.cfg.rate_bps.filter(|r| *r > 0) {
            let bits = (frame.len() as u128 + 24) * 8; // preamble, FCS, gap
            let ser = (bits * 1_000_000_000 / rate as u128) as Nanos;
            at = at.max(self.busy_until) + ser;
            self.busy_until = at;
        }
        at = (at + self.cfg.delay + jitter).max(self.fifo_tail);
        if reorder {
            at += self.cfg.reorder_delay;
            st.reordered += 1;
        } else {
            self.fifo_tail = at;
        }
        if corrupt && frame.len() > 14 {
            let nbits = (frame.len() - 14) as u64 * 8;
            let b = bit % nbits;
            frame[14 + (b / 8) as usize] ^= 1 << (b % 8);
            st.corrupted += 1;
        }
        if dup {
            st.duplicated += 1;
            self.push(at, frame.clone());
        }
        self.push(at, frame);
    }

    fn push(&mut self, at: Nanos, frame: Vec<u8>) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, frame)));
    }

    fn next_time(&self) -> Option<Nanos> {
        self.queue.peek().map(|Reverse((t, _, _))| *t)
    }

    /// The next frame due at or before `now`, with its time; frames due while the link is down
    /// are lost.
    fn pop_due(&mut self, now: Nanos, st: &mut DirectionStats) -> Option<(Nanos, Vec<u8>)> {
        while self.next_time().is_some_and(|t| t <= now) {
            let Reverse((t, _, f)) = self.queue.pop()?;
            if self.cfg.is_down(t) {
                st.lost_down += 1;
                continue;
            }
            st.delivered += 1;
            return Some((t, f));
        }
        None
    }
}

/// A handle on an [`Impaired`] link's counters, kept by the caller. Cloneable.
#[derive(Debug, Clone, Default)]
pub struct ImpairHandle(Arc<Mutex<ImpairStats>>);

impl ImpairHandle {
    /// The counters so far.
    pub fn stats(&self) -> ImpairStats {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A link wrapper that impairs frames in both directions.
pub struct Impaired<L: Link> {
    inner: L,
    outbound: Direction,
    inbound: Direction,
    stats: ImpairStats,
    handle: ImpairHandle,
    now: Nanos,
}

impl<L: Link> Impaired<L> {
    /// Wraps `inner`: `outbound` applies to frames the device sends, `inbound` to frames it
    /// receives. Each direction draws from its own stream derived from `seed`.
    pub fn new(inner: L, seed: u64, outbound: Impairments, inbound: Impairments) -> Impaired<L> {
        let mut s = SplitMix64::new(seed);
        Impaired {
            inner,
            outbound: Direction::new(outbound, s.next_u64()),
            inbound: Direction::new(inbound, s.next_u64()),
            stats: ImpairStats::default(),
            handle: ImpairHandle::default(),
            now: 0,
        }
    }

    /// The same impairments both ways.
    pub fn symmetric(inner: L, seed: u64, both: Impairments) -> Impaired<L> {
        Impaired::new(inner, seed, both.clone(), both)
    }

    /// A handle on the counters.
    pub fn handle(&self) -> ImpairHandle {
        self.handle.clone()
    }

    /// The wrapped link.
    pub fn inner_mut(&mut self) -> &mut L {
        &mut self.inner
    }

    /// Moves everything due by `now`: outbound frames into the inner link, inner frames into
    /// the inbound queue.
    fn advance(&mut self, now: Nanos) {
        self.now = self.now.max(now);
        let now = self.now;
        while let Some((t, f)) = self.outbound.pop_due(now, &mut self.stats.outbound) {
            self.inner.transmit(t, &f);
        }
        for _ in 0..100_000 {
            match self.inner.next_arrival(now) {
                Some(t) if t <= now => {}
                _ => break,
            }
            let at = self.inner.next_arrival(now).unwrap_or(now).min(now);
            let Some(f) = self.inner.receive(now) else {
                break;
            };
            self.inbound.offer(at, f, &mut self.stats.inbound);
        }
        *self.handle.0.lock().unwrap_or_else(|e| e.into_inner()) = self.stats.clone();
    }
}

impl<L: Link> Link for Impaired<L> {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        self.advance(now);
        self.outbound
            .offer(now, frame.to_vec(), &mut self.stats.outbound);
        self.advance(now);
    }

    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        self.advance(now);
        [
            self.outbound.next_time(),
            self.inbound.next_time(),
            self.inner.next_arrival(self.now),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        self.advance(now);
        let r = self
            .inbound
            .pop_due(self.now, &mut self.stats.inbound)
            .map(|(_, f)| f);
        *self.handle.0.lock().unwrap_or_else(|e| e.into_inner()) = self.stats.clone();
        r
    }

    fn carrier(&self) -> bool {
        self.inner.carrier() && !self.outbound.cfg.is_down(self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::LoopbackLink;

    fn run(imp: Impairments, seed: u64, n: usize) -> (Vec<(Nanos, Vec<u8>)>, ImpairStats) {
        let mut l = Impaired::new(LoopbackLink::new(0), seed, imp, Impairments::default());
        let h = l.handle();
        let mut got = Vec::new();
        for i in 0..n {
            let t = i as Nanos * 10_000;
            l.transmit(t, &[i as u8; 64]);
            while let Some(f) = l.receive(t) {
                got.push((t, f));
            }
        }
        let end = n as Nanos * 10_000 + 1_000_000_000;
        while let Some(t) = l.next_arrival(end) {
            if t > end {
                break;
            }
            while let Some(f) = l.receive(t) {
                got.push((t, f));
            }
        }
        (got, h.stats())
    }

    #[test]
    fn same_seed_same_faults_different_seed_different_faults() {
        let imp = Impairments {
            loss: 0.1,
            duplicate: 0.05,
            corrupt: 0.05,
            jitter: 50_000,
            reorder: 0.05,
            reorder_delay: 100_000,
            ..Impairments::default()
        };
        let a = run(imp.clone(), 7, 1000);
        let b = run(imp.clone(), 7, 1000);
        let c = run(imp, 8, 1000);
        assert_eq!(a, b);
        assert_ne!(a.0, c.0);
        let st = a.1.outbound;
        assert_eq!(st.offered, 1000);
        assert!((60..=140).contains(&st.lost), "{st:?}");
        assert!(
            st.duplicated > 20 && st.corrupted > 20 && st.reordered > 20,
            "{st:?}"
        );
        assert_eq!(st.delivered, st.offered - st.lost + st.duplicated);
    }

    #[test]
    fn bandwidth_limit_and_down_intervals() {
        let imp = Impairments {
            rate_bps: Some(8_000_000), // 1 byte per µs
            down: vec![(5_000_000, 6_000_000)],
            ..Impairments::default()
        };
        let mut l = Impaired::new(LoopbackLink::new(0), 1, imp, Impairments::default());
        // Two back-to-back 976-byte frames (1000 bytes on the wire each).
        l.transmit(0, &[1; 976]);
        l.transmit(0, &[2; 976]);
        assert_eq!(l.next_arrival(0), Some(1_000_000));
        assert_eq!(l.receive(1_000_000).unwrap()[0], 1);
        assert_eq!(l.next_arrival(1_000_000), Some(2_000_000));
        assert_eq!(l.receive(2_000_000).unwrap()[0], 2);
        assert!(l.carrier());
        l.transmit(5_500_000, &[3; 60]);
        assert!(!l.carrier());
        assert_eq!(l.next_arrival(5_500_000), None);
        assert_eq!(l.handle().stats().outbound.lost_down, 1);
    }
}
