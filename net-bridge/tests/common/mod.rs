//! Helpers shared by the integration tests: guests on a gateway, TCP and UDP drivers.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};

use net_bridge::{GuestStack, Link, Nanos, UserNet, UserNetConfig, UserNetMonitor};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::{IpAddress, IpEndpoint};

pub const MS: Nanos = 1_000_000;
pub const SEC: Nanos = 1_000_000_000;
pub const GUEST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
pub const GW: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

pub fn gateway(cfg: UserNetConfig) -> (UserNet, UserNetMonitor) {
    let net = UserNet::new(cfg).expect("gateway starts");
    let mon = net.monitor();
    (net, mon)
}

/// A guest on `link` with a DHCP lease.
pub fn leased_guest(link: Box<dyn Link>, mac: [u8; 6], seed: u64) -> GuestStack {
    let mut g = GuestStack::new(mac, link, seed);
    let deadline = g.now() + 30 * SEC;
    g.dhcp(deadline).expect("DHCP lease");
    g
}

pub fn tcp_socket(buf: usize) -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; buf]),
        tcp::SocketBuffer::new(vec![0; buf]),
    )
}

pub fn udp_socket() -> udp::Socket<'static> {
    udp::Socket::new(
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 16], vec![0; 16384]),
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 16], vec![0; 16384]),
    )
}

pub fn connect(g: &mut GuestStack, remote: SocketAddrV4, local_port: u16) -> SocketHandle {
    let mut s = tcp_socket(64 * 1024);
    s.connect(g.iface.context(), remote, local_port)
        .expect("connect");
    g.sockets.add(s)
}

/// Sends `data` over a new connection to `remote`, closes, and collects everything received
/// until the peer closes. Returns the received bytes and whether the exchange finished.
pub fn tcp_exchange(
    g: &mut GuestStack,
    remote: SocketAddrV4,
    local_port: u16,
    data: &[u8],
    timeout: Nanos,
) -> (Vec<u8>, bool) {
    let deadline = g.now() + timeout;
    let h = connect(g, remote, local_port);
    let mut client = EchoClient::default();
    let done = g.run_until(deadline, |g| client.step(g, h, data));
    // Let the last (delayed) ACK go out before the socket disappears.
    let linger = g.now() + 100 * MS;
    g.run_until(linger, |_| false);
    g.sockets.remove(h);
    (client.got, done)
}

/// The client side of a TCP echo exchange, one poll at a time: sends `data`, half-closes,
/// collects what comes back. Shared by the virtual-time and the wall-clock (TAP) tests.
#[derive(Default)]
pub struct EchoClient {
    sent: usize,
    closed: bool,
    /// Everything received so far.
    pub got: Vec<u8>,
}

impl EchoClient {
    /// One step after a poll; true once the connection is closed.
    pub fn step(&mut self, g: &mut GuestStack, h: SocketHandle, data: &[u8]) -> bool {
        let s = g.sockets.get_mut::<tcp::Socket>(h);
        if s.can_send() && self.sent < data.len() {
            self.sent += s.send_slice(&data[self.sent..]).unwrap_or(0);
        }
        if self.sent == data.len() && !self.closed && s.may_send() {
            s.close();
            self.closed = true;
        }
        while s.can_recv() {
            s.recv(|b| {
                self.got.extend_from_slice(b);
                (b.len(), ())
            })
            .ok();
        }
        matches!(s.state(), tcp::State::Closed | tcp::State::TimeWait)
    }
}

/// Echoes everything read from `s` until EOF or an error; returns the bytes echoed.
pub fn serve_echo(mut s: std::net::TcpStream, timeout: std::time::Duration) -> usize {
    use std::io::{Read, Write};
    s.set_read_timeout(Some(timeout)).unwrap();
    let mut buf = [0u8; 16384];
    let mut total = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                s.write_all(&buf[..n]).unwrap();
                total += n;
            }
        }
    }
    total
}

/// Sends one datagram from `local_port` to `remote` and waits (up to `timeout`) for one reply.
pub fn udp_request(
    g: &mut GuestStack,
    local_port: u16,
    remote: SocketAddrV4,
    payload: &[u8],
    timeout: Nanos,
) -> Option<Vec<u8>> {
    let deadline = g.now() + timeout;
    let mut s = udp_socket();
    s.bind(local_port).unwrap();
    let h = g.sockets.add(s);
    g.sockets
        .get_mut::<udp::Socket>(h)
        .send_slice(payload, IpEndpoint::from(remote))
        .unwrap();
    let mut reply = None;
    g.run_until(deadline, |g| {
        let s = g.sockets.get_mut::<udp::Socket>(h);
        if let Ok((d, meta)) = s.recv() {
            assert_eq!(meta.endpoint.addr, IpAddress::from(*remote.ip()));
            reply = Some(d.to_vec());
            return true;
        }
        false
    });
    g.sockets.remove(h);
    reply
}

/// Deterministic test data.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
