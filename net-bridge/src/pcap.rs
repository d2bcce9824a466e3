//! Packet capture: a [`Link`] wrapper that writes every frame, both directions, to a pcap file
//! with its virtual timestamp. The format is written by smoltcp's [`PcapSink`] (classic pcap,
//! Ethernet link type, microsecond timestamps), readable by Wireshark and tshark.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use smoltcp::phy::{PcapLinkType, PcapSink};

use crate::link::{Link, Nanos};
use crate::phy::instant;

/// A link that records every frame it carries.
pub struct PcapLink<L: Link, W: Write + Send> {
    inner: L,
    sink: W,
}

impl<L: Link, W: Write + Send> PcapLink<L, W> {
    /// Wraps `inner`, writing the pcap global header to `sink` now.
    pub fn new(inner: L, mut sink: W) -> PcapLink<L, W> {
        PcapSink::global_header(&mut sink, PcapLinkType::Ethernet);
        PcapLink { inner, sink }
    }

    /// The wrapped link.
    pub fn inner_mut(&mut self) -> &mut L {
        &mut self.inner
    }

    /// Flushes the sink.
    pub fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }

    /// Unwraps, returning the link and the sink.
    pub fn into_parts(self) -> (L, W) {
        (self.inner, self.sink)
    }
}

impl<L: Link, W: Write + Send> Link for PcapLink<L, W> {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        PcapSink::packet(&mut self.sink, instant(now), frame);
        self.inner.transmit(now, frame);
    }

    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        self.inner.next_arrival(now)
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        // Stamp the frame with its arrival time where the link knows it.
        let at = self.inner.next_arrival(now).map_or(now, |t| t.min(now));
        let frame = self.inner.receive(now)?;
        PcapSink::packet(&mut self.sink, instant(at), &frame);
        Some(frame)
    }

    fn carrier(&self) -> bool {
        self.inner.carrier()
    }
}

/// An in-memory capture file that can be shared: one clone goes into a [`PcapLink`] (or a
/// switch), the other reads the bytes.
#[derive(Debug, Clone, Default)]
pub struct CaptureBuffer(Arc<Mutex<Vec<u8>>>);

impl CaptureBuffer {
    /// An empty buffer.
    pub fn new() -> CaptureBuffer {
        CaptureBuffer::default()
    }

    /// A copy of everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Write for CaptureBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One record read back from a capture (for tests and tools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapRecord {
    /// Timestamp in microseconds.
    pub micros: u64,
    /// The frame.
    pub frame: Vec<u8>,
}

/// Reads a classic little- or big-endian microsecond pcap written by this module. Returns
/// `None` if the bytes are not such a file.
pub fn read_records(bytes: &[u8]) -> Option<Vec<PcapRecord>> {
    if bytes.len() < 24 {
        return None;
    }
    let le = match bytes[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] => false,
        _ => return None,
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    if u32_at(20)? != 1 {
        return None; // not Ethernet
    }
    let mut out = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let secs = u32_at(at)? as u64;
        let micros = u32_at(at + 4)? as u64;
        let incl = u32_at(at + 8)? as usize;
        let frame = bytes.get(at + 16..at + 16 + incl)?.to_vec();
        out.push(PcapRecord {
            micros: secs * 1_000_000 + micros,
            frame,
        });
        at += 16 + incl;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::LoopbackLink;

    #[test]
    fn both_directions_are_recorded_with_virtual_time() {
        let buf = CaptureBuffer::new();
        let mut l = PcapLink::new(LoopbackLink::new(5_000), buf.clone());
        l.transmit(1_000_000, &[0xaa; 60]);
        assert_eq!(l.receive(1_005_000).unwrap(), vec![0xaa; 60]);
        let recs = read_records(&buf.bytes()).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].micros, 1000);
        assert_eq!(recs[1].micros, 1005);
        assert_eq!(recs[1].frame, vec![0xaa; 60]);
    }
}
