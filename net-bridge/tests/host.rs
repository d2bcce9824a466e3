//! The gateway joined to real host sockets on the loopback interface. Timing here depends on
//! the host, so these tests check bytes and outcomes, never exact times.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use net_bridge::{GuestStack, Impaired, Impairments, UserNetConfig};
use smoltcp::socket::tcp;

/// A host echo server on 127.0.0.1 that serves one connection.
fn host_echo() -> (SocketAddr, thread::JoinHandle<usize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let t =
        thread::spawn(move || common::serve_echo(l.accept().unwrap().0, Duration::from_secs(30)));
    (addr, t)
}

#[test]
fn tcp_through_nat_to_a_host_listener_survives_5_percent_loss() {
    let (host, server) = host_echo();
    let visible = SocketAddrV4::new(GW, host.port());
    let cfg = UserNetConfig::default().allow_host_tcp(visible, host);
    let (net, mon) = gateway(cfg);
    let link = Impaired::symmetric(net, 42, Impairments::loss(0.05));
    let imp = link.handle();
    let mut g = leased_guest(Box::new(link), GUEST_MAC, 11);
    let data = pattern(300_000, 11);
    let (got, done) = tcp_exchange(&mut g, visible, 41000, &data, 3600 * SEC);
    assert!(done, "exchange did not finish");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "bytes differ after the NAT");
    assert_eq!(server.join().unwrap(), data.len());
    let st = imp.stats();
    assert!(st.outbound.lost > 0 && st.inbound.lost > 0, "{st:?}");
    assert_eq!(mon.stats().tcp_flows_opened, 1);
}

#[test]
fn restricted_mode_blocks_an_unlisted_host_port() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (net, mon) = gateway(UserNetConfig::default());
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 12);
    let h = connect(&mut g, SocketAddrV4::new(GW, port), 41001);
    let reset = g.run_until(g.now() + 5 * SEC, |g| {
        g.sockets.get::<tcp::Socket>(h).state() == tcp::State::Closed
    });
    assert!(reset);
    assert!(listener.accept().is_err(), "the host listener was reached");
    assert_eq!(mon.stats().flows_blocked, 1);
}

#[test]
fn unrestricted_gateway_address_is_host_loopback() {
    let (host, server) = host_echo();
    let (net, _mon) = gateway(UserNetConfig::default().unrestricted());
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 13);
    let (got, done) = tcp_exchange(
        &mut g,
        SocketAddrV4::new(GW, host.port()),
        41002,
        b"hi there",
        60 * SEC,
    );
    assert!(done);
    assert_eq!(got, b"hi there");
    assert_eq!(server.join().unwrap(), 8);
}

#[test]
fn refused_host_connection_resets_the_guest() {
    // A port nobody listens on: bind and drop to find one.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let visible = SocketAddrV4::new(GW, port);
    let cfg =
        UserNetConfig::default().allow_host_tcp(visible, SocketAddr::from(([127, 0, 0, 1], port)));
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 14);
    let h = connect(&mut g, visible, 41003);
    let wall = Instant::now();
    let reset = g.run_until(g.now() + 30 * SEC, |g| {
        g.sockets.get::<tcp::Socket>(h).state() == tcp::State::Closed
            || wall.elapsed() > Duration::from_secs(10)
    });
    assert!(reset && g.sockets.get::<tcp::Socket>(h).state() == tcp::State::Closed);
    assert_eq!(mon.stats().host_connect_failures, 1);
    assert_eq!(mon.stats().flows_active, 0);
}

#[test]
fn host_forward_reaches_a_guest_listener() {
    let cfg = UserNetConfig::default().with_forward("127.0.0.1:0=guest:8080".parse().unwrap());
    let (net, mon) = gateway(cfg);
    let fwd = mon.forward_addrs()[0];
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 15);
    assert_eq!(g.iface.ipv4_addr(), Some(Ipv4Addr::new(10, 0, 2, 15)));
    // A guest echo server on port 8080.
    let mut s = tcp_socket(16384);
    s.listen(8080).unwrap();
    let h = g.sockets.add(s);

    let mut client = TcpStream::connect(fwd).unwrap();
    let msg = pattern(50_000, 15);
    client.write_all(&msg).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    client.set_nonblocking(true).unwrap();
    let mut got = Vec::new();
    let mut host_eof = false;
    let wall = Instant::now();
    let done = g.run_until(g.now() + 600 * SEC, |g| {
        let s = g.sockets.get_mut::<tcp::Socket>(h);
        while s.can_recv() && s.can_send() {
            let mut tmp = [0u8; 4096];
            let n = s.recv_slice(&mut tmp).unwrap();
            let mut off = 0;
            while off < n {
                off += s.send_slice(&tmp[off..n]).unwrap();
            }
        }
        if s.state() == tcp::State::CloseWait && s.send_queue() == 0 {
            s.close();
        }
        let mut buf = [0u8; 8192];
        loop {
            match client.read(&mut buf) {
                Ok(0) => {
                    host_eof = true;
                    break;
                }
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        host_eof || wall.elapsed() > Duration::from_secs(20)
    });
    assert!(
        done && host_eof,
        "forwarded connection did not finish ({} bytes back)",
        got.len()
    );
    assert!(
        got == msg,
        "echo through the forward differs ({} of {} bytes)",
        got.len(),
        msg.len()
    );
    assert_eq!(mon.stats().tcp_flows_opened, 1);
}

#[test]
fn forward_to_a_busy_port_is_an_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let spec = format!("127.0.0.1:{}=guest:80", taken.local_addr().unwrap().port());
    let err =
        net_bridge::UserNet::new(UserNetConfig::default().with_forward(spec.parse().unwrap()))
            .err()
            .expect("bind must fail");
    assert!(
        err.to_string().contains("cannot listen on 127.0.0.1:"),
        "{err}"
    );
    let _ = GuestStack::new; // keep the import used in every configuration
}

#[test]
fn udp_through_nat_to_a_host_socket() {
    let host = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    host.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let addr = host.local_addr().unwrap();
    let t = thread::spawn(move || {
        let mut buf = [0u8; 1500];
        let (n, from) = host.recv_from(&mut buf).unwrap();
        host.send_to(&buf[..n], from).unwrap();
        n
    });
    let visible = SocketAddrV4::new(GW, addr.port());
    let (net, mon) = gateway(UserNetConfig::default().allow_host_udp(visible, addr));
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 16);
    let wall = Instant::now();
    let mut reply = None;
    while reply.is_none() && wall.elapsed() < Duration::from_secs(10) {
        reply = udp_request(&mut g, 6000, visible, b"datagram", SEC);
    }
    assert_eq!(reply.as_deref(), Some(&b"datagram"[..]));
    assert_eq!(t.join().unwrap(), 8);
    assert_eq!(mon.stats().udp_flows_opened, 1);
}
