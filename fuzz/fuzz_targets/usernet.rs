//! The user-mode gateway on arbitrary Ethernet frames: ARP, ICMP, DHCP, DNS, SNTP and the NAT
//! flow table (TCP and UDP flows to in-process services, refused destinations), on virtual
//! time; and the DHCP, DNS and SNTP message handlers on their own.
//!
//! Input: records `kind, len (u16, little-endian), payload[len], gap`. Kind 0 sends the payload as a raw frame;
//! the others wrap it in valid Ethernet/IPv4/UDP or TCP headers (checksums right, so the
//! payload reaches the service): DHCP, DNS, SNTP, a UDP echo, a TCP echo (the first payload
//! bytes give flags, sequence and acknowledgement numbers), a UDP or TCP destination taken
//! from the payload, or an IPv4 packet of a protocol taken from the payload. `gap` advances
//! virtual time (10 µs units, cubed, so that idle timeouts are reached too).
//!
//! Asserts: no panic; the gateway's frames are well-formed Ethernet (14..=1514 bytes, sent
//! from its MAC), stamped in order and not in the past; the DNS answer to a query for a
//! known name parses back to that name's address; an SNTP packet re-emitted parses to itself.
#![no_main]

use std::net::{Ipv4Addr, SocketAddrV4};

use libfuzzer_sys::fuzz_target;
use net_bridge::service::{DatagramEcho, Echo};
use net_bridge::usernet::{dhcp::DhcpServer, dns, sntp, DnsOutcome};
use net_bridge::wire::sntp::{Packet as NtpPacket, Repr as NtpRepr};
use net_bridge::{Link, Nanos, UserNet, UserNetConfig};

const GUEST_MAC: [u8; 6] = [0x02, 0xf9, 0, 0, 0, 1];
const GUEST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
const SERVICE: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);
const KNOWN: &str = "dynamodb.us-east-1.amazonaws.com";

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Ethernet + IPv4 around `l4` (whose checksum, for TCP/UDP, is filled in here).
fn ipv4_frame(
    dst_mac: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    mut l4: Vec<u8>,
) -> Vec<u8> {
    let csum_at = match proto {
        6 if l4.len() >= 20 => Some(16),
        17 if l4.len() >= 8 => Some(6),
        _ => None,
    };
    if let Some(at) = csum_at {
        l4[at] = 0;
        l4[at + 1] = 0;
        let mut pseudo = Vec::with_capacity(12);
        pseudo.extend_from_slice(&src.octets());
        pseudo.extend_from_slice(&dst.octets());
        pseudo.extend_from_slice(&[0, proto]);
        pseudo.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        let c = fold(sum16(&l4, sum16(&pseudo, 0)));
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    let total = (20 + l4.len()).min(0xffff) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = fold(sum16(&ip, 0));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = dst_mac.to_vec();
    f.extend_from_slice(&GUEST_MAC);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&l4);
    f
}

fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&src_port.to_be_bytes());
    u.extend_from_slice(&dst_port.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// A TCP segment: `p[0]` flags, `p[1..5]` seq, `p[5..9]` ack (missing bytes are 0), rest data.
fn tcp(src_port: u16, dst_port: u16, p: &[u8]) -> Vec<u8> {
    let b = |i: usize| p.get(i).copied().unwrap_or(0);
    let mut t = Vec::with_capacity(20 + p.len());
    t.extend_from_slice(&src_port.to_be_bytes());
    t.extend_from_slice(&dst_port.to_be_bytes());
    t.extend_from_slice(&[b(1), b(2), b(3), b(4), b(5), b(6), b(7), b(8)]);
    t.extend_from_slice(&[0x50, b(0), 0x10, 0x00, 0, 0, 0, 0]);
    t.extend_from_slice(p.get(9..).unwrap_or(&[]));
    t
}

fn frame(kind: u8, p: &[u8], gw_mac: [u8; 6]) -> Vec<u8> {
    let gw = Ipv4Addr::new(10, 0, 2, 2);
    let dns_ip = Ipv4Addr::new(10, 0, 2, 3);
    let port = |i: usize| {
        u16::from_be_bytes([
            p.get(i).copied().unwrap_or(0),
            p.get(i + 1).copied().unwrap_or(0),
        ])
    };
    match kind % 9 {
        0 => p.to_vec(),
        1 => ipv4_frame(
            [0xff; 6],
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            17,
            udp(68, 67, p),
        ),
        2 => ipv4_frame(gw_mac, GUEST, dns_ip, 17, udp(40000, 53, p)),
        3 => ipv4_frame(gw_mac, GUEST, gw, 17, udp(123, 123, p)),
        4 => ipv4_frame(gw_mac, GUEST, SERVICE, 17, udp(40001, 7, p)),
        5 => ipv4_frame(gw_mac, GUEST, SERVICE, 6, tcp(40002, 7, p)),
        6 => {
            let dst = Ipv4Addr::new(10, 0, 2, p.first().copied().unwrap_or(0));
            let rest = p.get(3..).unwrap_or(&[]);
            if p.get(1).is_some_and(|b| b & 1 == 1) {
                ipv4_frame(gw_mac, GUEST, dst, 6, tcp(40003, port(1), rest))
            } else {
                ipv4_frame(gw_mac, GUEST, dst, 17, udp(40003, port(1), rest))
            }
        }
        7 => {
            let proto = p.first().copied().unwrap_or(1);
            ipv4_frame(gw_mac, GUEST, gw, proto, p.get(1..).unwrap_or(&[]).to_vec())
        }
        _ => {
            // ARP: the payload after a valid Ethernet header.
            let mut f = vec![0xff; 6];
            f.extend_from_slice(&GUEST_MAC);
            f.extend_from_slice(&[0x08, 0x06]);
            f.extend_from_slice(p);
            f
        }
    }
}

/// The message handlers on their own, with their round trips.
fn handlers(kind: u8, p: &[u8]) {
    let mut table = dns::DnsTable::new();
    table.insert(KNOWN, Ipv4Addr::new(10, 0, 2, 50));
    match kind % 4 {
        0 => {
            let mut server = DhcpServer::new(UserNetConfig::default().dhcp);
            let _ = server.handle(0, p);
            let _ = server.handle(1, p);
        }
        1 => {
            let _ = dns::answer(&table, p, 60, true);
            let _ = dns::parse_response(p);
            let _ = dns::reply_from_addresses(p, &[Ipv4Addr::LOCALHOST], 1);
            // A query for a known name, whatever its case and id, answers with its address.
            let id = u16::from_be_bytes([p.first().copied().unwrap_or(0), 7]);
            let name: String = KNOWN
                .chars()
                .zip(p.iter().chain(std::iter::repeat(&0)))
                .map(|(c, b)| {
                    if b & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            let q = dns::query(id, &name).expect("a valid name makes a query");
            let DnsOutcome::Reply(r) = dns::answer(&table, &q, 60, false) else {
                panic!("no reply to a query for a known name");
            };
            let (rid, _, addrs) = dns::parse_response(&r).expect("our reply parses");
            assert_eq!((rid, addrs), (id, vec![Ipv4Addr::new(10, 0, 2, 50)]));
        }
        _ => {
            let _ = sntp::answer(&sntp::SimClock::default(), 5, p);
            if let Ok(repr) = NtpPacket::new_checked(p).and_then(|pk| NtpRepr::parse(&pk)) {
                let bytes = repr.to_bytes();
                let back = NtpRepr::parse(&NtpPacket::new_checked(&bytes[..]).unwrap()).unwrap();
                assert_eq!(back, repr, "SNTP parse(emit(x)) != x");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let cfg = UserNetConfig::default()
        .with_dns(KNOWN, SERVICE)
        .with_tcp_service(SocketAddrV4::new(SERVICE, 7), Echo::factory())
        .with_udp_service(SocketAddrV4::new(SERVICE, 7), DatagramEcho::factory());
    let gw_mac = cfg.gateway_mac;
    let mut net = UserNet::new(cfg).expect("the gateway starts");
    let mut now: Nanos = 0;
    let mut last_stamp: Nanos = 0;
    let mut check = |net: &mut UserNet, now: Nanos| {
        let mut n = 0;
        while let Some(f) = net.receive(now) {
            assert!((14..=1514).contains(&f.len()), "frame of {} bytes", f.len());
            assert_eq!(f[6..12], gw_mac, "a frame not from the gateway's MAC");
            n += 1;
            assert!(n < 10_000, "the gateway keeps sending");
        }
        if let Some(t) = net.next_arrival(now) {
            assert!(t >= last_stamp.min(now), "next arrival in the past");
            last_stamp = t;
        }
    };
    let mut rest = data;
    while let [kind, lo, hi, tail @ ..] = rest {
        let len = (u16::from_le_bytes([*lo, *hi]) as usize).min(tail.len());
        let (payload, after) = tail.split_at(len);
        handlers(*kind, payload);
        net.transmit(now, &frame(*kind, payload, gw_mac));
        check(&mut net, now);
        let gap = after.first().copied().unwrap_or(0) as u64;
        now += gap * gap * gap * 10_000;
        check(&mut net, now);
        rest = after.get(1..).unwrap_or(&[]);
    }
    // Let timers and idle flows run out.
    for _ in 0..64 {
        match net.next_arrival(now) {
            Some(t) if t > now => now = t,
            Some(_) => now += 1_000,
            None => break,
        }
        check(&mut net, now);
    }
});
