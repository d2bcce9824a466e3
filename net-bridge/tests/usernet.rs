//! The user-mode gateway seen from a smoltcp guest: DHCP, ARP/ICMP, DNS, SNTP, NAT to services.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use net_bridge::service::{DatagramEcho, Echo};
use net_bridge::usernet::SimClock;
use net_bridge::wire::sntp;
use net_bridge::{GuestStack, Link, UserNetConfig};
use smoltcp::socket::{dns, icmp, tcp};
use smoltcp::wire::{DnsQueryType, Icmpv4Packet, Icmpv4Repr, IpAddress, Ipv4Cidr};

#[test]
fn dhcp_gives_the_qemu_defaults() {
    let (net, mon) = gateway(UserNetConfig::default());
    let mut g = GuestStack::new(GUEST_MAC, Box::new(net), 1);
    let lease = g.dhcp(10 * SEC).expect("lease");
    assert_eq!(
        lease.address,
        Ipv4Cidr::new(Ipv4Addr::new(10, 0, 2, 15), 24)
    );
    assert_eq!(lease.router, Some(GW));
    assert_eq!(lease.dns_servers, vec![Ipv4Addr::new(10, 0, 2, 3)]);
    assert!(g.now() < SEC, "lease took {} ns", g.now());
    let leases = mon.leases();
    assert_eq!(leases.len(), 1);
    assert!(leases[0].bound);
    assert_eq!(leases[0].mac, GUEST_MAC);
    assert_eq!(mon.stats().dhcp_replies, 2);
}

#[test]
fn gateway_answers_ping() {
    let (net, _mon) = gateway(UserNetConfig::default());
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 2);
    let mut s = icmp::Socket::new(
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
    );
    s.bind(icmp::Endpoint::Ident(0x1234)).unwrap();
    let h = g.sockets.add(s);
    let repr = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 1,
        data: b"ping",
    };
    let caps = smoltcp::phy::ChecksumCapabilities::default();
    {
        let s = g.sockets.get_mut::<icmp::Socket>(h);
        let buf = s.send(repr.buffer_len(), IpAddress::from(GW)).unwrap();
        repr.emit(&mut Icmpv4Packet::new_unchecked(buf), &caps);
    }
    let mut ok = false;
    g.run_until(g.now() + SEC, |g| {
        let s = g.sockets.get_mut::<icmp::Socket>(h);
        if let Ok((data, from)) = s.recv() {
            let p = Icmpv4Packet::new_checked(data).unwrap();
            let r = Icmpv4Repr::parse(&p, &caps).unwrap();
            ok = from == IpAddress::from(GW)
                && matches!(r, Icmpv4Repr::EchoReply { ident: 0x1234, seq_no: 1, data } if data == b"ping");
            return true;
        }
        false
    });
    assert!(ok, "no echo reply from the gateway");
}

fn resolve(g: &mut GuestStack, name: &str) -> Result<Vec<IpAddress>, dns::GetQueryResultError> {
    let servers = [IpAddress::v4(10, 0, 2, 3)];
    let h = g.sockets.add(dns::Socket::new(&servers, vec![]));
    let q = {
        let (sock, cx) = (g.sockets.get_mut::<dns::Socket>(h), g.iface.context());
        sock.start_query(cx, name, DnsQueryType::A).unwrap()
    };
    let mut result = None;
    g.run_until(g.now() + 5 * SEC, |g| {
        match g.sockets.get_mut::<dns::Socket>(h).get_query_result(q) {
            Err(dns::GetQueryResultError::Pending) => false,
            r => {
                result = Some(r.map(|v| v.to_vec()));
                true
            }
        }
    });
    g.sockets.remove(h);
    result.expect("DNS query finished")
}

#[test]
fn dns_answers_from_the_table_and_nxdomain_otherwise() {
    let cfg = UserNetConfig::default().with_dns(
        "dynamodb.us-east-1.amazonaws.com",
        Ipv4Addr::new(10, 0, 2, 100),
    );
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 3);
    assert_eq!(
        resolve(&mut g, "dynamodb.us-east-1.amazonaws.com").unwrap(),
        vec![IpAddress::v4(10, 0, 2, 100)]
    );
    assert_eq!(
        resolve(&mut g, "DynamoDB.US-EAST-1.amazonaws.com").unwrap(),
        vec![IpAddress::v4(10, 0, 2, 100)]
    );
    assert_eq!(
        resolve(&mut g, "nonexistent.example"),
        Err(dns::GetQueryResultError::Failed)
    );
    assert_eq!(mon.stats().dns_replies, 3);
}

#[test]
fn dns_changes_take_effect_at_their_time() {
    let name = "dynamodb.us-east-1.amazonaws.com";
    let cfg = UserNetConfig::default()
        .with_dns(name, Ipv4Addr::new(10, 0, 2, 100))
        .with_dns_change(5 * SEC, name, Ipv4Addr::new(10, 0, 2, 101));
    let (net, _mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 3);
    assert!(g.now() < 5 * SEC);
    assert_eq!(
        resolve(&mut g, name).unwrap(),
        vec![IpAddress::v4(10, 0, 2, 100)]
    );
    g.run_until(6 * SEC, |_| false);
    assert_eq!(
        resolve(&mut g, name).unwrap(),
        vec![IpAddress::v4(10, 0, 2, 101)],
        "the name moved at 5 s"
    );
}

#[test]
fn sntp_reports_virtual_time_plus_offset() {
    let clock = SimClock {
        epoch_unix_secs: 1_750_000_000,
        offset_ns: -3_600_000_000_000, // an hour behind
    };
    let cfg = UserNetConfig {
        clock,
        ..UserNetConfig::default()
    };
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 4);
    // Let some virtual time pass first.
    g.run_until(5 * SEC, |_| false);
    let req = sntp::Repr::client_request(sntp::Timestamp(0xdead_beef)).to_bytes();
    let sent_at = g.now();
    let reply =
        udp_request(&mut g, 40123, SocketAddrV4::new(GW, 123), &req, SEC).expect("SNTP reply");
    let r = sntp::Repr::parse(&sntp::Packet::new_checked(&reply[..]).unwrap()).unwrap();
    assert_eq!(r.mode, sntp::Mode::Server);
    assert_eq!(r.stratum, 1);
    assert_eq!(r.originate, sntp::Timestamp(0xdead_beef));
    let expected = clock.unix_nanos(sent_at);
    let got = r.transmit.to_unix_nanos();
    assert!(
        got >= expected && got - expected < 10_000_000,
        "server time {got} vs virtual {expected}"
    );
    assert_eq!(mon.stats().sntp_replies, 1);
}

#[test]
fn tcp_to_an_in_process_echo_service() {
    let svc = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 100), 7);
    let cfg = UserNetConfig::default().with_tcp_service(svc, Echo::factory());
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 5);
    let data = pattern(200_000, 5);
    let (got, done) = tcp_exchange(&mut g, svc, 40000, &data, 60 * SEC);
    assert!(done, "connection did not finish");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "echoed bytes differ");
    // The flow is reclaimed once both sides closed.
    g.run_until(g.now() + SEC, |_| false);
    let st = mon.stats();
    assert_eq!(st.tcp_flows_opened, 1);
    assert_eq!(st.flows_active, 0);
}

#[test]
fn udp_flows_expire_when_idle() {
    let svc = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 101), 9999);
    let cfg = UserNetConfig::default().with_udp_service(svc, DatagramEcho::factory());
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 6);
    let t0 = g.now();
    let reply = udp_request(&mut g, 5000, svc, b"hello", SEC).expect("echo");
    assert_eq!(reply, b"hello");
    let reply = udp_request(&mut g, 5001, svc, b"again", SEC).expect("echo");
    assert_eq!(reply, b"again");
    let st = mon.stats();
    assert_eq!((st.udp_flows_opened, st.flows_active), (2, 2));
    // Idle for longer than the UDP timeout (60 s): both flows go.
    g.run_until(t0 + 62 * SEC, |_| false);
    let st = mon.stats();
    assert_eq!((st.flows_expired, st.flows_active), (2, 0));
    // A new datagram opens a new flow.
    let reply = udp_request(&mut g, 5000, svc, b"back", SEC).expect("echo");
    assert_eq!(reply, b"back");
    assert_eq!(mon.stats().udp_flows_opened, 3);
}

#[test]
fn restricted_mode_resets_unlisted_destinations() {
    let (net, mon) = gateway(UserNetConfig::default());
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 7);
    let h = connect(
        &mut g,
        SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 80),
        40001,
    );
    let closed = g.run_until(g.now() + 5 * SEC, |g| {
        g.sockets.get::<tcp::Socket>(h).state() == tcp::State::Closed
    });
    assert!(closed, "connection to an unlisted address was not reset");
    // UDP to an unlisted destination gets no answer.
    let r = udp_request(
        &mut g,
        5002,
        SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 53),
        b"x",
        SEC,
    );
    assert!(r.is_none());
    let st = mon.stats();
    assert_eq!(st.flows_blocked, 2);
    assert_eq!(st.flows_active, 0);
}

#[test]
fn garbage_frames_are_counted_and_dropped() {
    let (mut net, mon) = gateway(UserNetConfig::default());
    let gw_mac = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];
    let mut t = 1000;
    // Truncated.
    net.transmit(t, &[1, 2, 3]);
    // Oversized.
    net.transmit(t, &vec![0u8; 2000]);
    // IPv4 with a broken header (bad checksum / length).
    let mut f = Vec::new();
    f.extend_from_slice(&gw_mac);
    f.extend_from_slice(&GUEST_MAC);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&[
        0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0xde, 0xad, 10, 0, 2, 15, 10, 0, 2, 2,
    ]);
    f.extend_from_slice(&[0u8; 20]);
    net.transmit(t, &f);
    // ARP too short.
    let mut a = f[..12].to_vec();
    a.extend_from_slice(&[0x08, 0x06, 0, 1, 8]);
    net.transmit(t, &a);
    // IPv6: unsupported.
    let mut v6 = f[..12].to_vec();
    v6.extend_from_slice(&[0x86, 0xdd]);
    v6.extend_from_slice(&[0u8; 40]);
    net.transmit(t, &v6);
    // Random garbage of many sizes, deterministic.
    for (i, len) in [14usize, 15, 33, 60, 64, 100, 500, 1514].iter().enumerate() {
        let mut g = pattern(*len, i as u32 + 1);
        g[..6].copy_from_slice(&gw_mac);
        g[12] = 0x08;
        g[13] = 0x00;
        t += 1000;
        net.transmit(t, &g);
    }
    while net.receive(t + SEC).is_some() {}
    let st = net.stats();
    assert_eq!(st.dropped_truncated, 1);
    assert_eq!(st.dropped_oversized, 1);
    assert_eq!(st.dropped_unsupported, 1);
    assert!(st.dropped_malformed >= 2 + 8 - 1, "{st:?}");
    assert_eq!(st.frames_out, 0, "garbage got an answer: {st:?}");
    // Still works afterwards.
    let mut g = GuestStack::new(GUEST_MAC, Box::new(net), 8);
    assert!(g.dhcp(10 * SEC).is_some());
    assert_eq!(mon.stats().dropped_truncated, 1);
}

#[test]
fn tcp_echo_survives_loss_reordering_and_corruption() {
    // Without the FIN rescue (src/rescue.rs), seed 11 hangs half-closed on smoltcp's lost-FIN stall.
    for seed in [2u64, 6, 7, 9, 11] {
        let svc = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 100), 7);
        let cfg = UserNetConfig::default().with_tcp_service(svc, Echo::factory());
        let (net, mon) = gateway(cfg);
        let imp = net_bridge::Impairments {
            loss: 0.05,
            duplicate: 0.02,
            corrupt: 0.02,
            reorder: 0.02,
            reorder_delay: 300_000,
            jitter: 20_000,
            ..Default::default()
        };
        let link = net_bridge::Impaired::symmetric(net, seed, imp);
        let h = link.handle();
        let mut g = leased_guest(Box::new(link), GUEST_MAC, seed);
        let data = pattern(200_000, seed as u32);
        let (got, done) = tcp_exchange(&mut g, svc, 40002, &data, 600 * SEC);
        assert!(done, "seed {seed}: connection did not finish");
        assert!(got == data, "seed {seed}: bytes differ");
        g.run_until(g.now() + 5 * SEC, |_| false);
        assert_eq!(
            mon.stats().flows_active,
            0,
            "seed {seed}: flow not reclaimed"
        );
        let st = h.stats();
        assert!(st.inbound.lost + st.outbound.lost > 0);
        assert!(st.inbound.corrupted + st.outbound.corrupted > 0);
    }
}
