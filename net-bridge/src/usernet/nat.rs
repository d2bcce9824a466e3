//! The flow table: guest TCP connections and UDP flows terminated by the gateway and joined to
//! in-process services or host sockets, and host listeners joined to guest ports.
//!
//! TCP: one smoltcp socket per connection, created listening on the exact destination when
//! the guest's SYN is seen. For a host target the SYN is held until the host connection is
//! established (or has failed: then smoltcp, finding no socket, answers RST), as slirp does.
//! Bytes move between the smoltcp socket and the peer without intermediate buffers: a service
//! reads from the receive buffer and writes into the transmit buffer, a host stream is read
//! into and written from them, so TCP windows carry back-pressure both ways.
//!
//! UDP: smoltcp delivers a datagram to the first socket bound to its destination, so there is
//! one socket per destination address:port, shared by the flows (guest address:port) towards
//! it; each flow has its own peer (service instance or connected host socket).
//!
//! All tables are ordered maps, so iteration — and with it the order of frames — depends only
//! on the flows, never on hashing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket,
};

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::IpListenEndpoint;
use socket2::{Domain, Protocol, Socket, Type};
use tracing::{debug, info, warn};

use super::{udp_socket, FlowLimits, Inspect, UserNet, SEC};
use crate::link::Nanos;
use crate::service::{CloseReason, DatagramService, FlowInfo, StreamService, StreamState};

/// The two ends of a flow: the guest's address:port and the address:port it talks to.
pub(super) type FlowKey = FlowInfo;

/// How long a socket may sit listening for a SYN that never reached it.
const LISTEN_TIMEOUT: Nanos = 10 * SEC;
const EPHEMERAL: std::ops::RangeInclusive<u16> = 49152..=65535;

enum TcpPeer {
    Service(Box<dyn StreamService>),
    /// A host connection in progress, with the guest's SYN held until it completes.
    Connecting {
        socket: Socket,
        target: SocketAddr,
        syn: Vec<u8>,
        started: Nanos,
    },
    Host {
        stream: TcpStream,
        eof: bool,
    },
}

struct TcpFlow {
    handle: SocketHandle,
    peer: TcpPeer,
    created: Nanos,
    last_activity: Nanos,
    established: bool,
    guest_eof: bool,
    closing: bool,
    reason: Option<CloseReason>,
    last_state: tcp::State,
}

enum UdpPeer {
    Service(Box<dyn DatagramService>),
    Host(UdpSocket),
}

struct UdpFlow {
    peer: UdpPeer,
    last_activity: Nanos,
}

struct UdpEndpoint {
    handle: SocketHandle,
    users: usize,
}

struct Forwarder {
    listener: TcpListener,
    guest: SocketAddrV4,
}

enum TcpTarget {
    Service(std::sync::Arc<dyn crate::service::StreamServiceFactory>),
    Host(SocketAddr),
}

enum UdpTarget {
    Service(std::sync::Arc<dyn crate::service::DatagramServiceFactory>),
    Host(SocketAddr),
}

/// The flow table.
pub(super) struct Nat {
    tcp: BTreeMap<FlowKey, TcpFlow>,
    udp: BTreeMap<FlowKey, UdpFlow>,
    udp_endpoints: BTreeMap<SocketAddrV4, UdpEndpoint>,
    forwarders: Vec<Forwarder>,
    next_port: u16,
    blocked_logged: BTreeSet<(bool, SocketAddrV4)>,
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

impl Nat {
    pub(super) fn new() -> Nat {
        Nat {
            tcp: BTreeMap::new(),
            udp: BTreeMap::new(),
            udp_endpoints: BTreeMap::new(),
            forwarders: Vec::new(),
            next_port: *EPHEMERAL.start(),
            blocked_logged: BTreeSet::new(),
        }
    }

    /// Opens a host listener for a forward; returns the address it listens on.
    pub(super) fn add_forwarder(
        &mut self,
        host: SocketAddr,
        guest: SocketAddrV4,
    ) -> io::Result<SocketAddr> {
        let listener = TcpListener::bind(host)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        info!(target: "net", "forward: host {addr} -> guest {guest}");
        self.forwarders.push(Forwarder { listener, guest });
        Ok(addr)
    }

    /// The TCP state of a flow's socket.
    pub(super) fn tcp_state(&self, sockets: &SocketSet<'_>, key: &FlowKey) -> Option<tcp::State> {
        let flow = self.tcp.get(key)?;
        Some(sockets.get::<tcp::Socket>(flow.handle).state())
    }

    pub(super) fn flow_count(&self) -> usize {
        self.tcp.len() + self.udp.len()
    }

    /// Whether host sockets are open that need polling.
    pub(super) fn has_host_io(&self) -> bool {
        !self.forwarders.is_empty()
            || self
                .tcp
                .values()
                .any(|f| !matches!(f.peer, TcpPeer::Service(_)))
            || self
                .udp
                .values()
                .any(|f| matches!(f.peer, UdpPeer::Host(_)))
    }

    /// The earliest service wakeup or flow expiry.
    pub(super) fn next_wakeup(&self, limits: &FlowLimits) -> Option<Nanos> {
        let tcp = self.tcp.values().filter_map(|f| {
            let wake = match &f.peer {
                TcpPeer::Service(s) => s.next_wakeup(),
                TcpPeer::Connecting { started, .. } => {
                    Some(started.saturating_add(limits.connect_timeout))
                }
                TcpPeer::Host { .. } => None,
            };
            // Only a flow that `expire` may still reset has an idle deadline. One that is
            // already being closed or reset keeps its last activity: its deadline would stay
            // in the past (an RST to a guest that is gone waits for ARP for ever) and the
            // gateway would be polled every microsecond for nothing.
            let idle = (f.reason.is_none() && !matches!(f.peer, TcpPeer::Connecting { .. }))
                .then(|| f.last_activity.saturating_add(limits.tcp_idle));
            match (wake, idle) {
                (Some(w), Some(i)) => Some(w.min(i)),
                (w, i) => w.or(i),
            }
        });
        let udp = self.udp.values().map(|f| {
            let wake = match &f.peer {
                UdpPeer::Service(s) => s.next_wakeup(),
                UdpPeer::Host(_) => None,
            };
            let idle = f.last_activity.saturating_add(limits.udp_idle);
            wake.map_or(idle, |w| w.min(idle))
        });
        tcp.chain(udp).min()
    }

    fn log_blocked(&mut self, tcp: bool, key: &FlowKey) {
        let first =
            self.blocked_logged.len() < 1024 && self.blocked_logged.insert((tcp, key.server));
        let proto = if tcp { "TCP" } else { "UDP" };
        if first {
            info!(target: "net",
                "blocked {proto} {} -> {}: not served in-process, not in the host allow-list \
                 or the DNS table (restricted mode)", key.guest, key.server);
        } else {
            debug!(target: "net", "blocked {proto} {} -> {}", key.guest, key.server);
        }
    }

    fn alloc_port(&mut self, guest: SocketAddrV4, gateway: Ipv4Addr) -> Option<u16> {
        for _ in EPHEMERAL {
            let p = self.next_port;
            self.next_port = if p == *EPHEMERAL.end() {
                *EPHEMERAL.start()
            } else {
                p + 1
            };
            let key = FlowKey {
                guest,
                server: SocketAddrV4::new(gateway, p),
            };
            if !self.tcp.contains_key(&key) {
                return Some(p);
            }
        }
        None
    }
}

fn connect_nonblocking(target: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(target),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    match socket.connect(&target.into()) {
        Ok(()) => Ok(socket),
        Err(e) if e.raw_os_error() == Some(libc_einprogress()) || would_block(&e) => Ok(socket),
        Err(e) => Err(e),
    }
}

/// EINPROGRESS on the platforms we build for (Linux, and BSD/macOS where it is 36).
fn libc_einprogress() -> i32 {
    if cfg!(any(
        target_os = "macos",
        target_os = "freebsd",
        target_os = "ios"
    )) {
        36
    } else {
        115
    }
}

/// The state of a non-blocking connect: `Some(Ok)` connected, `Some(Err)` failed, `None`
/// still in progress.
fn connect_status(socket: &Socket) -> Option<io::Result<()>> {
    match socket.take_error() {
        Ok(Some(e)) | Err(e) => return Some(Err(e)),
        Ok(None) => {}
    }
    match socket.peer_addr() {
        Ok(_) => Some(Ok(())),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
        Err(e) => Some(Err(e)),
    }
}

impl UserNet {
    fn tcp_target(&self, dst: SocketAddrV4) -> Option<TcpTarget> {
        if let Some(f) = self.cfg.tcp_services.get(&dst) {
            return Some(TcpTarget::Service(f.clone()));
        }
        if let Some(h) = self.cfg.host_tcp.get(&dst) {
            return Some(TcpTarget::Host(*h));
        }
        self.direct_target(dst).map(TcpTarget::Host)
    }

    fn udp_target(&self, dst: SocketAddrV4) -> Option<UdpTarget> {
        if let Some(f) = self.cfg.udp_services.get(&dst) {
            return Some(UdpTarget::Service(f.clone()));
        }
        if let Some(h) = self.cfg.host_udp.get(&dst) {
            return Some(UdpTarget::Host(*h));
        }
        self.direct_target(dst).map(UdpTarget::Host)
    }

    /// A destination reached as itself: any address when unrestricted (the gateway's address
    /// meaning host loopback), or a DNS-table address that no in-process service claims.
    fn direct_target(&self, dst: SocketAddrV4) -> Option<SocketAddr> {
        let ip = *dst.ip();
        if ip == self.cfg.dns_server {
            return None;
        }
        if ip == self.cfg.gateway {
            return (!self.cfg.restricted)
                .then(|| SocketAddr::new(Ipv4Addr::LOCALHOST.into(), dst.port()));
        }
        let in_subnet =
            (u32::from(ip) ^ u32::from(self.cfg.gateway)) >> (32 - self.cfg.prefix_len) == 0;
        if in_subnet {
            return None;
        }
        let named = self.cfg.dns.contains_addr(ip)
            && !self.cfg.tcp_services.keys().any(|a| *a.ip() == ip)
            && !self.cfg.udp_services.keys().any(|a| *a.ip() == ip);
        (!self.cfg.restricted || named).then_some(SocketAddr::V4(dst))
    }

    fn flow_table_full(&mut self, key: &FlowKey, proto: &str) -> bool {
        if self.nat.flow_count() < self.cfg.limits.max_flows {
            return false;
        }
        self.stats.flows_refused += 1;
        warn!(target: "net",
            "flow table full ({} flows): refused {proto} {} -> {}",
            self.cfg.limits.max_flows, key.guest, key.server);
        true
    }

    fn new_tcp_socket(&self) -> tcp::Socket<'static> {
        let n = self.cfg.limits.tcp_buffer;
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; n]),
            tcp::SocketBuffer::new(vec![0; n]),
        );
        s.set_nagle_enabled(false);
        s
    }

    /// A guest SYN for `key`.
    pub(super) fn on_syn(&mut self, now: Nanos, key: FlowKey, frame: &[u8]) -> Inspect {
        if let Some(flow) = self.nat.tcp.get(&key) {
            let state = self.sockets.get::<tcp::Socket>(flow.handle).state();
            match (&flow.peer, state) {
                // Retransmitted SYN while the host connection is being made.
                (TcpPeer::Connecting { .. }, _) => return Inspect::Drop,
                (_, tcp::State::TimeWait | tcp::State::Closed) => self.remove_tcp(now, key),
                _ => return Inspect::Deliver,
            }
        }
        let Some(target) = self.tcp_target(key.server) else {
            self.stats.flows_blocked += 1;
            self.nat.log_blocked(true, &key);
            return Inspect::Deliver; // no socket: smoltcp answers RST
        };
        if self.flow_table_full(&key, "TCP") {
            return Inspect::Deliver;
        }
        let peer = match target {
            TcpTarget::Service(f) => match f.accept(now, &key) {
                Some(s) => TcpPeer::Service(s),
                None => {
                    debug!(target: "net", "service at {} refused {}", key.server, key.guest);
                    return Inspect::Deliver;
                }
            },
            TcpTarget::Host(target) => match connect_nonblocking(target) {
                Ok(socket) => TcpPeer::Connecting {
                    socket,
                    target,
                    syn: frame.to_vec(),
                    started: now,
                },
                Err(e) => {
                    self.stats.host_connect_failures += 1;
                    info!(target: "net", "connect {} -> host {target} failed: {e}", key.guest);
                    return Inspect::Deliver;
                }
            },
        };
        let mut sock = self.new_tcp_socket();
        if let Err(e) = sock.listen(IpListenEndpoint {
            addr: Some((*key.server.ip()).into()),
            port: key.server.port(),
        }) {
            debug!(target: "net", "cannot listen on {}: {e}", key.server);
            return Inspect::Deliver;
        }
        let held = matches!(peer, TcpPeer::Connecting { .. });
        let handle = self.sockets.add(sock);
        self.stats.tcp_flows_opened += 1;
        debug!(target: "net", "tcp flow {} -> {}", key.guest, key.server);
        self.nat.tcp.insert(
            key,
            TcpFlow {
                handle,
                peer,
                created: now,
                last_activity: now,
                established: false,
                guest_eof: false,
                closing: false,
                reason: None,
                last_state: tcp::State::Listen,
            },
        );
        if held {
            Inspect::Held
        } else {
            Inspect::Deliver
        }
    }

    /// A guest UDP datagram for `key` (not to a built-in service).
    pub(super) fn on_udp(&mut self, now: Nanos, key: FlowKey) {
        if let Some(flow) = self.nat.udp.get_mut(&key) {
            flow.last_activity = now;
            return;
        }
        let Some(target) = self.udp_target(key.server) else {
            self.stats.flows_blocked += 1;
            self.nat.log_blocked(false, &key);
            return; // no socket: smoltcp answers ICMP port unreachable
        };
        if self.flow_table_full(&key, "UDP") {
            return;
        }
        let peer = match target {
            UdpTarget::Service(f) => match f.open(now, &key) {
                Some(s) => UdpPeer::Service(s),
                None => return,
            },
            UdpTarget::Host(target) => {
                let bind: SocketAddr = match target {
                    SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
                    SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
                };
                let sock = UdpSocket::bind(bind)
                    .and_then(|s| s.connect(target).map(|_| s))
                    .and_then(|s| s.set_nonblocking(true).map(|_| s));
                match sock {
                    Ok(s) => UdpPeer::Host(s),
                    Err(e) => {
                        self.stats.host_connect_failures += 1;
                        info!(target: "net", "udp {} -> host {target} failed: {e}", key.guest);
                        return;
                    }
                }
            }
        };
        if !self.nat.udp_endpoints.contains_key(&key.server) {
            let mut s = udp_socket(64, 64 * 1024);
            if let Err(e) = s.bind(IpListenEndpoint {
                addr: Some((*key.server.ip()).into()),
                port: key.server.port(),
            }) {
                debug!(target: "net", "cannot bind {}: {e}", key.server);
                return;
            }
            let handle = self.sockets.add(s);
            self.nat
                .udp_endpoints
                .insert(key.server, UdpEndpoint { handle, users: 0 });
        }
        if let Some(ep) = self.nat.udp_endpoints.get_mut(&key.server) {
            ep.users += 1;
        }
        self.stats.udp_flows_opened += 1;
        debug!(target: "net", "udp flow {} -> {}", key.guest, key.server);
        self.nat.udp.insert(
            key,
            UdpFlow {
                peer,
                last_activity: now,
            },
        );
    }

    /// Accepts forwarded host connections and completes host connects.
    pub(super) fn poll_host(&mut self, now: Nanos) {
        // Forwards: each accepted host connection becomes a connection to the guest.
        for i in 0..self.nat.forwarders.len() {
            loop {
                let (stream, from) = match self.nat.forwarders[i].listener.accept() {
                    Ok(x) => x,
                    Err(e) if would_block(&e) => break,
                    Err(e) => {
                        debug!(target: "net", "forward accept failed: {e}");
                        break;
                    }
                };
                let guest = self.nat.forwarders[i].guest;
                let gw = self.cfg.gateway;
                let Some(port) = self.nat.alloc_port(guest, gw) else {
                    warn!(target: "net", "forward: no free gateway port for {from}");
                    continue;
                };
                let key = FlowKey {
                    guest,
                    server: SocketAddrV4::new(gw, port),
                };
                if self.flow_table_full(&key, "TCP forward") {
                    continue;
                }
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let mut sock = self.new_tcp_socket();
                if let Err(e) = sock.connect(self.iface.context(), guest, key.server) {
                    warn!(target: "net", "forward: cannot connect to guest {guest}: {e}");
                    continue;
                }
                let handle = self.sockets.add(sock);
                self.stats.tcp_flows_opened += 1;
                info!(target: "net", "forward: host {from} -> guest {guest} (from {})", key.server);
                self.nat.tcp.insert(
                    key,
                    TcpFlow {
                        handle,
                        peer: TcpPeer::Host { stream, eof: false },
                        created: now,
                        last_activity: now,
                        established: false,
                        guest_eof: false,
                        closing: false,
                        reason: None,
                        last_state: tcp::State::SynSent,
                    },
                );
            }
        }

        // Host connects in progress.
        let timeout = self.cfg.limits.connect_timeout;
        let pending: Vec<FlowKey> = self
            .nat
            .tcp
            .iter()
            .filter(|(_, f)| matches!(f.peer, TcpPeer::Connecting { .. }))
            .map(|(k, _)| *k)
            .collect();
        for key in pending {
            let status = match self.nat.tcp.get(&key).map(|f| &f.peer) {
                Some(TcpPeer::Connecting {
                    socket, started, ..
                }) => match connect_status(socket) {
                    None if now.saturating_sub(*started) > timeout => Some(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection timed out",
                    ))),
                    s => s,
                },
                _ => None,
            };
            let Some(status) = status else { continue };
            let Some(mut flow) = self.nat.tcp.remove(&key) else {
                continue;
            };
            let TcpPeer::Connecting {
                socket,
                target,
                syn,
                ..
            } = flow.peer
            else {
                continue;
            };
            match status {
                Ok(()) => {
                    let stream: TcpStream = socket.into();
                    let _ = stream.set_nodelay(true);
                    flow.peer = TcpPeer::Host { stream, eof: false };
                    flow.last_activity = now;
                    debug!(target: "net", "host {target} connected for {}", key.guest);
                    self.nat.tcp.insert(key, flow);
                    self.dev.push_rx(syn);
                }
                Err(e) => {
                    self.stats.host_connect_failures += 1;
                    info!(target: "net", "connect {} -> host {target} failed: {e}", key.guest);
                    self.sockets.remove(flow.handle);
                    // Without a socket, smoltcp answers the held SYN with RST.
                    self.dev.push_rx(syn);
                }
            }
        }
    }

    /// Moves bytes between sockets and peers. Returns whether anything moved or changed.
    pub(super) fn pump_flows(&mut self, now: Nanos) -> bool {
        let mut progress = false;
        let mut finished = Vec::new();
        for (key, flow) in self.nat.tcp.iter_mut() {
            let sock = self.sockets.get_mut::<tcp::Socket>(flow.handle);
            if pump_tcp(now, flow, sock) {
                progress = true;
                flow.last_activity = now;
            }
            let state = sock.state();
            // A listener is created in LISTEN, so CLOSED means the connection ended. TIME-WAIT
            // is not kept: the gateway's side needs no protection from old duplicates. But an
            // aborted socket is CLOSED with its peer still set until smoltcp has sent the RST:
            // removed before that, the guest would only learn of the reset by retransmitting.
            let rst_pending = state == tcp::State::Closed && sock.remote_endpoint().is_some();
            if matches!(state, tcp::State::Closed | tcp::State::TimeWait)
                && !rst_pending
                && !matches!(flow.peer, TcpPeer::Connecting { .. })
            {
                finished.push(*key);
            }
            if flow.last_state != state {
                debug!(target: "net", "tcp flow {} -> {}: {} -> {state}", key.guest, key.server, flow.last_state);
            }
            flow.last_state = state;
        }
        for key in finished {
            self.remove_tcp(now, key);
            progress = true;
        }

        // UDP: guest → peers.
        for (server, ep) in &self.nat.udp_endpoints {
            let sock = self.sockets.get_mut::<udp::Socket>(ep.handle);
            while let Ok((data, meta)) = sock.recv() {
                let IpAddr::V4(gip) = IpAddr::from(meta.endpoint.addr) else {
                    continue;
                };
                if meta
                    .local_address
                    .is_some_and(|a| IpAddr::from(a) != IpAddr::V4(*server.ip()))
                {
                    continue; // a broadcast that happened to match the port
                }
                let key = FlowKey {
                    guest: SocketAddrV4::new(gip, meta.endpoint.port),
                    server: *server,
                };
                let Some(flow) = self.nat.udp.get_mut(&key) else {
                    continue;
                };
                flow.last_activity = now;
                progress = true;
                match &mut flow.peer {
                    UdpPeer::Service(s) => s.on_datagram(now, data),
                    UdpPeer::Host(h) => {
                        if let Err(e) = h.send(data) {
                            if !would_block(&e) {
                                debug!(target: "net", "udp {} -> host: {e}", key.guest);
                            }
                        }
                    }
                }
            }
        }
        // UDP: peers → guest. The receive buffer for host sockets is allocated only when a
        // host flow exists: this runs on every poll, and zeroing 64 KiB each time dominated
        // the gateway's cost.
        let mut buf = Vec::new();
        for (key, flow) in self.nat.udp.iter_mut() {
            let Some(ep) = self.nat.udp_endpoints.get(&key.server) else {
                continue;
            };
            let sock = self.sockets.get_mut::<udp::Socket>(ep.handle);
            let meta = udp::UdpMetadata {
                local_address: Some((*key.server.ip()).into()),
                ..udp::UdpMetadata::from(key.guest)
            };
            loop {
                if !sock.can_send() {
                    break;
                }
                let sent = match &mut flow.peer {
                    UdpPeer::Service(s) => match s.poll_datagram(now) {
                        Some(d) => sock.send_slice(&d, meta).is_ok(),
                        None => break,
                    },
                    UdpPeer::Host(h) => match h.recv({
                        if buf.is_empty() {
                            buf.resize(65536, 0);
                        }
                        &mut buf
                    }) {
                        Ok(n) => sock.send_slice(&buf[..n], meta).is_ok(),
                        Err(_) => break,
                    },
                };
                if sent {
                    flow.last_activity = now;
                    progress = true;
                }
            }
        }
        progress
    }

    fn remove_tcp(&mut self, now: Nanos, key: FlowKey) {
        let Some(mut flow) = self.nat.tcp.remove(&key) else {
            return;
        };
        let reason = flow.reason.unwrap_or(if flow.guest_eof && flow.closing {
            CloseReason::Closed
        } else {
            CloseReason::Reset
        });
        if let TcpPeer::Service(s) = &mut flow.peer {
            s.on_closed(now, reason);
        }
        if let TcpPeer::Host { stream, .. } = &flow.peer {
            if reason != CloseReason::Closed {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        debug!(target: "net", "tcp flow {} -> {} closed ({reason:?})", key.guest, key.server);
        self.sockets.remove(flow.handle);
    }

    /// Reclaims idle flows and listeners that never got their SYN.
    pub(super) fn expire(&mut self, now: Nanos) {
        let limits = self.cfg.limits;
        let mut dead = Vec::new();
        for (key, flow) in self.nat.tcp.iter_mut() {
            let sock = self.sockets.get_mut::<tcp::Socket>(flow.handle);
            if sock.state() == tcp::State::Listen
                && now.saturating_sub(flow.created) > LISTEN_TIMEOUT
            {
                dead.push(*key);
            } else if now.saturating_sub(flow.last_activity) > limits.tcp_idle
                && flow.reason.is_none()
                && !matches!(flow.peer, TcpPeer::Connecting { .. })
            {
                info!(target: "net", "tcp flow {} -> {} idle, reset", key.guest, key.server);
                sock.abort();
                flow.reason = Some(CloseReason::TimedOut);
                self.stats.flows_expired += 1;
            }
        }
        for key in dead {
            self.remove_tcp(now, key);
        }
        let expired: Vec<FlowKey> = self
            .nat
            .udp
            .iter()
            .filter(|(_, f)| now.saturating_sub(f.last_activity) > limits.udp_idle)
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            self.nat.udp.remove(&key);
            self.stats.flows_expired += 1;
            debug!(target: "net", "udp flow {} -> {} expired", key.guest, key.server);
            if let Some(ep) = self.nat.udp_endpoints.get_mut(&key.server) {
                ep.users -= 1;
                if ep.users == 0 {
                    let handle = ep.handle;
                    self.nat.udp_endpoints.remove(&key.server);
                    self.sockets.remove(handle);
                }
            }
        }
    }
}

/// Moves bytes of one TCP flow. Returns whether anything happened.
fn pump_tcp(now: Nanos, flow: &mut TcpFlow, sock: &mut tcp::Socket<'static>) -> bool {
    let mut progress = false;
    let state = sock.state();
    if state != flow.last_state {
        progress = true;
    }
    if matches!(state, tcp::State::Established | tcp::State::CloseWait) {
        flow.established = true;
    }
    if !flow.established {
        return progress;
    }
    match &mut flow.peer {
        TcpPeer::Connecting { .. } => {}
        TcpPeer::Service(svc) => {
            while sock.can_recv() {
                let n = sock
                    .recv(|b| {
                        let n = svc.on_data(now, b).min(b.len());
                        (n, n)
                    })
                    .unwrap_or(0);
                if n == 0 {
                    break;
                }
                progress = true;
            }
            if !flow.guest_eof && !sock.may_recv() {
                flow.guest_eof = true;
                svc.on_eof(now);
                progress = true;
            }
            if !flow.closing {
                while sock.can_send() {
                    let n = sock
                        .send(|b| {
                            let n = svc.poll_output(now, b).min(b.len());
                            (n, n)
                        })
                        .unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    progress = true;
                }
                match svc.state() {
                    StreamState::Open => {}
                    StreamState::Close => {
                        sock.close();
                        flow.closing = true;
                        progress = true;
                    }
                    StreamState::Abort => {
                        sock.abort();
                        flow.closing = true;
                        flow.reason = Some(CloseReason::Reset);
                        progress = true;
                    }
                }
            }
        }
        TcpPeer::Host { stream, eof } => {
            while sock.can_recv() {
                let r = sock.recv(|b| match stream.write(b) {
                    Ok(n) => (n, Ok(n)),
                    Err(e) => (0, Err(e)),
                });
                match r {
                    Ok(Ok(n)) if n > 0 => progress = true,
                    Ok(Err(e)) if !would_block(&e) => {
                        debug!(target: "net", "host write failed: {e}");
                        sock.abort();
                        flow.reason = Some(CloseReason::Reset);
                        return true;
                    }
                    _ => break,
                }
            }
            if !flow.guest_eof && !sock.may_recv() {
                flow.guest_eof = true;
                let _ = stream.shutdown(Shutdown::Write);
                progress = true;
            }
            while !*eof && sock.can_send() {
                let r = sock.send(|b| match stream.read(b) {
                    Ok(n) => (n, Ok(n)),
                    Err(e) => (0, Err(e)),
                });
                match r {
                    Ok(Ok(0)) => {
                        *eof = true;
                        progress = true;
                    }
                    Ok(Ok(_)) => progress = true,
                    Ok(Err(e)) if !would_block(&e) => {
                        debug!(target: "net", "host read failed: {e}");
                        sock.abort();
                        flow.reason = Some(CloseReason::Reset);
                        return true;
                    }
                    _ => break,
                }
            }
            if *eof && !flow.closing {
                sock.close();
                flow.closing = true;
                progress = true;
            }
        }
    }
    progress
}
