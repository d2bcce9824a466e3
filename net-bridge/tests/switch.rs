//! Several guests on a switch with the gateway as uplink: leases, direct traffic, unplugging,
//! and determinism of the switch capture whatever order the guests are run in.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use common::*;
use net_bridge::pcap::{read_records, CaptureBuffer};
use net_bridge::{run_lockstep, GuestStack, Switch, UserNetConfig};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::{dhcpv4, udp};
use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Cidr};

fn mac(i: usize) -> [u8; 6] {
    [0x02, 0x00, 0x00, 0x00, 0x01, i as u8]
}

/// Starts DHCP on every guest and runs them in lockstep until all have a lease.
fn lockstep_dhcp(guests: &mut [GuestStack], quantum: u64) -> Vec<Ipv4Cidr> {
    let handles: Vec<SocketHandle> = guests
        .iter_mut()
        .map(|g| g.sockets.add(dhcpv4::Socket::new()))
        .collect();
    let mut leases: Vec<Option<Ipv4Cidr>> = vec![None; guests.len()];
    let ok = run_lockstep(guests, quantum, 30 * SEC, |gs| {
        for (i, g) in gs.iter_mut().enumerate() {
            let conf = match g.sockets.get_mut::<dhcpv4::Socket>(handles[i]).poll() {
                Some(dhcpv4::Event::Configured(c)) => Some((c.address, c.router)),
                _ => None,
            };
            if let Some((address, router)) = conf {
                leases[i] = Some(address);
                g.set_address(address, router);
            }
        }
        leases.iter().all(|l| l.is_some())
    });
    assert!(ok, "not every guest got a lease: {leases:?}");
    leases.into_iter().flatten().collect()
}

/// Four guests on a switch; returns their leases, the gateway's view, and the capture.
fn four_guests(reverse: bool) -> (Vec<Ipv4Cidr>, usize, Vec<u8>) {
    let (net, mon) = gateway(UserNetConfig::default());
    let sw = Switch::with_uplink(Box::new(net));
    let cap = CaptureBuffer::new();
    sw.capture(Box::new(cap.clone()));
    let mut guests: Vec<GuestStack> = (0..4)
        .map(|i| GuestStack::new(mac(i), Box::new(sw.add_port()), 100 + i as u64))
        .collect();
    if reverse {
        guests.reverse();
    }
    let q = sw.latency() - 1;
    let mut leases = lockstep_dhcp(&mut guests, q);
    if reverse {
        leases.reverse();
    }
    drop(guests);
    sw.flush_capture();
    assert_eq!(sw.stats().late, 0);
    (leases, mon.leases().len(), cap.bytes())
}

#[test]
fn many_clients_get_distinct_leases_and_the_capture_is_order_independent() {
    let (leases, n, cap) = four_guests(false);
    let addrs: BTreeSet<Ipv4Addr> = leases.iter().map(|c| c.address()).collect();
    assert_eq!(addrs.len(), 4, "{leases:?}");
    for a in &addrs {
        let v = u32::from(*a);
        assert!(
            (u32::from(Ipv4Addr::new(10, 0, 2, 15))..u32::from(Ipv4Addr::new(10, 0, 2, 31)))
                .contains(&v)
        );
    }
    assert_eq!(n, 4);
    let recs = read_records(&cap).expect("pcap");
    assert!(recs.len() >= 16, "{} frames", recs.len());
    assert!(
        recs.windows(2).all(|w| w[0].micros <= w[1].micros),
        "capture out of order"
    );
    // Running the guests in the opposite order changes nothing on the wire.
    let (leases2, _, cap2) = four_guests(true);
    assert_eq!(leases, leases2);
    assert!(cap == cap2, "captures differ with the run order");
}

#[test]
fn guests_talk_directly_and_unplugged_ports_hear_nothing() {
    let (net, _mon) = gateway(UserNetConfig::default());
    let sw = Switch::with_uplink(Box::new(net));
    let mut guests: Vec<GuestStack> = (0..2)
        .map(|i| GuestStack::new(mac(i), Box::new(sw.add_port()), 7 + i as u64))
        .collect();
    let q = sw.latency() - 1;
    let leases = lockstep_dhcp(&mut guests, q);
    let b_addr = leases[1].address();
    let ha = guests[0].sockets.add(udp_socket());
    let hb = guests[1].sockets.add(udp_socket());
    guests[0]
        .sockets
        .get_mut::<udp::Socket>(ha)
        .bind(1000)
        .unwrap();
    guests[1]
        .sockets
        .get_mut::<udp::Socket>(hb)
        .bind(2000)
        .unwrap();
    let b_ep = IpEndpoint::new(IpAddress::from(b_addr), 2000);
    guests[0]
        .sockets
        .get_mut::<udp::Socket>(ha)
        .send_slice(b"ping", b_ep)
        .unwrap();
    let mut reply = None;
    let ok = run_lockstep(&mut guests, q, 40 * SEC, |gs| {
        let b = gs[1].sockets.get_mut::<udp::Socket>(hb);
        if let Ok((d, meta)) = b.recv() {
            let d = d.to_vec();
            b.send_slice(&d, meta.endpoint).unwrap();
        }
        if let Ok((d, _)) = gs[0].sockets.get_mut::<udp::Socket>(ha).recv() {
            reply = Some(d.to_vec());
        }
        reply.is_some()
    });
    assert!(ok);
    assert_eq!(reply.as_deref(), Some(&b"ping"[..]));

    // Unplug B: nothing reaches it, and its carrier is down.
    sw.set_plugged(1, false);
    assert!(!guests[1].link_mut().carrier());
    guests[0]
        .sockets
        .get_mut::<udp::Socket>(ha)
        .send_slice(b"again", b_ep)
        .unwrap();
    let now = guests[0].now();
    let got = run_lockstep(&mut guests, q, now + SEC, |gs| {
        gs[1].sockets.get_mut::<udp::Socket>(hb).recv().is_ok()
    });
    assert!(!got);
    sw.set_plugged(1, true);
    assert!(guests[1].link_mut().carrier());
}
