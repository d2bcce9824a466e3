//! A guard against a smoltcp (0.14) TCP stall: when only the FIN is unacknowledged and three
//! duplicate ACKs arrive, the fast-retransmit path disarms the retransmission timer without
//! sending anything (it only resends data), so a lost FIN is never sent again and the
//! connection hangs half-closed.
//!
//! The guard watches the frames a stack sends, remembers the last FIN-carrying segment of each
//! connection, and — while the socket still waits for its FIN to be acknowledged (FIN-WAIT-1,
//! CLOSING, LAST-ACK) and the stack itself has not sent a FIN for a while — sends a copy again,
//! with exponential backoff. The copy carries the acknowledgement number and window of the
//! stack's latest segment on that connection (a stale ACK would make the peer discard it), and
//! once the peer has acknowledged all data before the FIN it is a bare FIN (smoltcp ignores a
//! FIN riding on data it already has).
//! Any FIN the stack sends itself resets the backoff, so a healthy connection only ever sees
//! the stack's own retransmissions. Driven by virtual time only.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;

use smoltcp::socket::tcp;
use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpAddress, IpProtocol, Ipv4Packet, TcpPacket, TcpSeqNumber,
};

use crate::link::Nanos;

/// First wait after the last FIN before a copy is sent.
const FIRST: Nanos = 2_000_000_000;
/// Longest wait between copies.
const MAX: Nanos = 32_000_000_000;

/// Local and remote endpoint of a connection.
pub(crate) type ConnKey = (SocketAddrV4, SocketAddrV4);

struct Record {
    frame: Vec<u8>,
    /// Sequence number of the FIN.
    fin_seq: TcpSeqNumber,
    /// Highest acknowledgement number the peer sent.
    peer_ack: Option<TcpSeqNumber>,
    /// Acknowledgement number and window of the latest segment sent on the connection.
    ack: Option<(TcpSeqNumber, u16)>,
    next_try: Nanos,
    wait: Nanos,
}

/// The remembered FIN segments.
#[derive(Default)]
pub(crate) struct FinRescue {
    records: BTreeMap<ConnKey, Record>,
}

/// Whether a socket in `state` still waits for its FIN to be acknowledged.
pub(crate) fn awaiting_fin_ack(state: tcp::State) -> bool {
    matches!(
        state,
        tcp::State::FinWait1 | tcp::State::Closing | tcp::State::LastAck
    )
}

struct SegInfo {
    key: ConnKey,
    fin: bool,
    ack: Option<(TcpSeqNumber, u16)>,
    /// Sequence number after the payload (where a FIN sits).
    end_seq: TcpSeqNumber,
}

/// Connection, FIN flag, ACK number + window and end of a TCP segment in an Ethernet frame.
fn tcp_info(frame: &[u8]) -> Option<SegInfo> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    if tcp.rst() {
        return None;
    }
    let key = (
        SocketAddrV4::new(ip.src_addr(), tcp.src_port()),
        SocketAddrV4::new(ip.dst_addr(), tcp.dst_port()),
    );
    let ack = tcp.ack().then(|| (tcp.ack_number(), tcp.window_len()));
    let end_seq = tcp.seq_number() + tcp.payload().len();
    Some(SegInfo {
        key,
        fin: tcp.fin(),
        ack,
        end_seq,
    })
}

/// A copy of a FIN frame without its payload: the FIN alone at `fin_seq`.
fn bare_fin(frame: &[u8], fin_seq: TcpSeqNumber) -> Option<Vec<u8>> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    let ip_hl = ip.header_len() as usize;
    let tcp_hl = tcp.header_len() as usize;
    let mut out = frame[..14 + ip_hl + tcp_hl].to_vec();
    let mut eth = EthernetFrame::new_unchecked(&mut out[..]);
    let mut ip = Ipv4Packet::new_unchecked(eth.payload_mut());
    ip.set_total_len((ip_hl + tcp_hl) as u16);
    ip.fill_checksum();
    let mut tcp = TcpPacket::new_unchecked(ip.payload_mut());
    tcp.set_seq_number(fin_seq);
    Some(out)
}

/// A copy of `frame` with its ACK number and window replaced and the checksum redone.
fn refresh(frame: &[u8], ack: Option<(TcpSeqNumber, u16)>) -> Vec<u8> {
    let mut out = frame.to_vec();
    let Some((ack, win)) = ack else {
        return out;
    };
    let mut eth = EthernetFrame::new_unchecked(&mut out[..]);
    let mut ip = Ipv4Packet::new_unchecked(eth.payload_mut());
    let (src, dst) = (
        IpAddress::from(ip.src_addr()),
        IpAddress::from(ip.dst_addr()),
    );
    let mut tcp = TcpPacket::new_unchecked(ip.payload_mut());
    tcp.set_ack_number(ack);
    tcp.set_window_len(win);
    tcp.fill_checksum(&src, &dst);
    out
}

impl FinRescue {
    /// Notes a frame the stack sent at `now`.
    pub(crate) fn observe(&mut self, now: Nanos, frame: &[u8]) {
        let Some(SegInfo {
            key,
            fin,
            ack,
            end_seq,
        }) = tcp_info(frame)
        else {
            return;
        };
        if fin {
            let peer_ack = self.records.get(&key).and_then(|r| r.peer_ack);
            self.records.insert(
                key,
                Record {
                    frame: frame.to_vec(),
                    fin_seq: end_seq,
                    peer_ack,
                    ack,
                    next_try: now + FIRST,
                    wait: FIRST,
                },
            );
        } else if let Some(r) = self.records.get_mut(&key) {
            if ack.is_some() {
                r.ack = ack;
            }
        }
    }

    /// Notes a frame the stack received (the peer's acknowledgements).
    pub(crate) fn observe_incoming(&mut self, frame: &[u8]) {
        if self.records.is_empty() {
            return;
        }
        let Some(seg) = tcp_info(frame) else {
            return;
        };
        let key = (seg.key.1, seg.key.0);
        if let (Some(r), Some((ack, _))) = (self.records.get_mut(&key), seg.ack) {
            if r.peer_ack.is_none_or(|a| ack > a) {
                r.peer_ack = Some(ack);
            }
        }
    }

    /// Copies of FIN segments to send again at `now`. `waiting` tells, for a connection,
    /// whether its socket still waits for the FIN's acknowledgement; records of connections
    /// that do not are dropped.
    pub(crate) fn due(
        &mut self,
        now: Nanos,
        mut waiting: impl FnMut(&ConnKey) -> bool,
    ) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.records.retain(|key, r| {
            if !waiting(key) {
                return false;
            }
            if r.next_try <= now {
                let data_acked = r.peer_ack.is_some_and(|a| a >= r.fin_seq);
                let frame = if data_acked {
                    bare_fin(&r.frame, r.fin_seq).unwrap_or_else(|| r.frame.clone())
                } else {
                    r.frame.clone()
                };
                out.push(refresh(&frame, r.ack));
                r.wait = (r.wait * 2).min(MAX);
                r.next_try = now + r.wait;
            }
            true
        });
        out
    }

    /// The earliest time a copy may be due.
    pub(crate) fn next_wakeup(&self) -> Option<Nanos> {
        self.records.values().map(|r| r.next_try).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{
        EthernetAddress, EthernetRepr, IpAddress, Ipv4Repr, TcpControl, TcpRepr, TcpSeqNumber,
    };

    fn fin_frame() -> Vec<u8> {
        let tcp = TcpRepr {
            src_port: 7,
            dst_port: 4000,
            control: TcpControl::Fin,
            seq_number: TcpSeqNumber(100),
            ack_number: Some(TcpSeqNumber(200)),
            window_len: 1000,
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None; 3],
            timestamp: None,
            payload: &[],
        };
        let (src, dst) = (
            std::net::Ipv4Addr::new(10, 0, 2, 100),
            std::net::Ipv4Addr::new(10, 0, 2, 15),
        );
        let ip = Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: IpProtocol::Tcp,
            payload_len: tcp.buffer_len(),
            hop_limit: 64,
        };
        let eth = EthernetRepr {
            src_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
            dst_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            ethertype: EthernetProtocol::Ipv4,
        };
        let mut buf = vec![0u8; 14 + 20 + tcp.buffer_len()];
        let caps = ChecksumCapabilities::default();
        let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
        eth.emit(&mut f);
        let mut p = Ipv4Packet::new_unchecked(f.payload_mut());
        ip.emit(&mut p, &caps);
        tcp.emit(
            &mut TcpPacket::new_unchecked(p.payload_mut()),
            &IpAddress::from(src),
            &IpAddress::from(dst),
            &caps,
        );
        buf
    }

    #[test]
    fn resends_with_backoff_while_waiting_and_forgets_after() {
        let mut r = FinRescue::default();
        let f = fin_frame();
        r.observe(1000, &f[..]);
        assert_eq!(r.next_wakeup(), Some(1000 + FIRST));
        assert!(r.due(1000 + FIRST - 1, |_| true).is_empty());
        assert_eq!(r.due(1000 + FIRST, |_| true), vec![f.clone()]);
        // A later segment's ACK number goes into the copy.
        let later = refresh(&f, Some((TcpSeqNumber(300), 500)));
        r.observe(2000, &later);
        let copy = r.due(1000 + 3 * FIRST, |_| true).pop().unwrap();
        assert_eq!(copy, later);
        let seg = tcp_info(&copy).unwrap();
        assert!(seg.fin && seg.ack == Some((TcpSeqNumber(300), 500)));
        let eth = EthernetFrame::new_checked(&copy[..]).unwrap();
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
        assert!(tcp.verify_checksum(&ip.src_addr().into(), &ip.dst_addr().into()));
        // Once the socket no longer waits, the record is forgotten.
        assert!(r.due(1000 + 9 * FIRST, |_| false).is_empty());
        assert_eq!(r.next_wakeup(), None);
        // Non-TCP frames are ignored.
        r.observe(0, &f[..20]);
        assert_eq!(r.next_wakeup(), None);
    }

    #[test]
    fn bare_fin_once_the_peer_acknowledged_the_data() {
        let mut r = FinRescue::default();
        // A FIN riding on 4 bytes of data: seq 100..104, FIN at 104.
        let mut f = fin_frame();
        let hl = 14 + 20 + 20;
        f.extend_from_slice(b"data");
        {
            let mut eth = EthernetFrame::new_unchecked(&mut f[..]);
            let mut ip = Ipv4Packet::new_unchecked(eth.payload_mut());
            ip.set_total_len(20 + 20 + 4);
            ip.fill_checksum();
        }
        let f = refresh(&f, Some((TcpSeqNumber(200), 1000)));
        r.observe(0, &f);
        // The peer has not acknowledged the data: the copy keeps it.
        let copy = r.due(FIRST, |_| true).pop().unwrap();
        assert_eq!(copy.len(), hl + 4);
        // The peer acknowledges the data (not the FIN): the copy is a bare FIN at 104.
        let mut ack = fin_frame();
        {
            let mut eth = EthernetFrame::new_unchecked(&mut ack[..]);
            let mut ip = Ipv4Packet::new_unchecked(eth.payload_mut());
            let (s, d) = (ip.src_addr(), ip.dst_addr());
            ip.set_src_addr(d);
            ip.set_dst_addr(s);
            let mut tcp = TcpPacket::new_unchecked(ip.payload_mut());
            let (sp, dp) = (tcp.src_port(), tcp.dst_port());
            tcp.set_src_port(dp);
            tcp.set_dst_port(sp);
            tcp.set_fin(false);
            tcp.set_ack_number(TcpSeqNumber(104));
        }
        r.observe_incoming(&ack);
        let copy = r.due(10 * FIRST, |_| true).pop().unwrap();
        assert_eq!(copy.len(), hl);
        let eth = EthernetFrame::new_checked(&copy[..]).unwrap();
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
        assert!(tcp.fin() && tcp.seq_number() == TcpSeqNumber(104));
        assert!(tcp.verify_checksum(&ip.src_addr().into(), &ip.dst_addr().into()));
    }
}
