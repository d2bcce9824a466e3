//! The user-mode gateway: a QEMU-slirp-class router on smoltcp that a device's MAC reaches
//! through the [`Link`] trait.
//!
//! The gateway answers ARP and ICMP echo for its addresses, serves DHCP, DNS (from a table) and
//! SNTP (from virtual time), and terminates every TCP connection and UDP flow the guest opens,
//! joining it to an in-process [`service`](crate::service) or to a host socket. Host listeners
//! (`--forward`) are joined to connections the gateway opens to the guest.
//!
//! # Time
//! The device's calls drive the gateway: each call first advances the gateway to the call's
//! `now` (smoltcp's clock is the virtual time, in microseconds), polls host sockets, runs the
//! interface and the services, and stamps every frame the gateway sends with the time its last
//! bit leaves a 100 Mbit/s wire. [`Link::next_arrival`] reports the earliest of: the next queued
//! frame, smoltcp's next timer, a service's wakeup, a flow's expiry, and — while host sockets are
//! open — a polling time. With only in-process peers, the same calls give the same frames.
//!
//! # Flows
//! smoltcp has no wildcard listen, so the gateway looks at each frame before the interface does:
//! a TCP SYN or the first UDP datagram towards an allowed destination creates a socket bound to
//! that destination address and port, and the interface accepts any destination (`any_ip` with
//! a default route through the gateway's own address). Destinations not allowed get no socket,
//! so smoltcp answers with RST (TCP) or ICMP port unreachable (UDP); the first attempt per
//! destination is logged. Flows are reclaimed when closed or idle too long; past
//! [`FlowLimits::max_flows`] new flows are refused with a warning.

pub mod dhcp;
pub mod dns;
mod nat;
pub mod sntp;

pub use dhcp::{DhcpServer, DhcpServerConfig, Lease};
pub use dns::{DnsOutcome, DnsTable};
pub use sntp::SimClock;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::wire::{
    ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol, IpCidr, IpListenEndpoint,
    IpProtocol, Ipv4Packet, TcpPacket, UdpPacket,
};
use tracing::{debug, warn};

use crate::link::{wire_time_100m, Link, Nanos};
use crate::phy::{instant, nanos, QueueDevice, MAX_FRAME};
use crate::rescue::{awaiting_fin_ack, FinRescue};
use crate::service::{DatagramServiceFactory, StreamServiceFactory};

const SEC: Nanos = 1_000_000_000;

/// Limits and timeouts of the flow table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowLimits {
    /// Most TCP + UDP flows at once; further flows are refused (RST / dropped) and logged.
    pub max_flows: usize,
    /// A TCP flow with no traffic this long (virtual ns) is reset and reclaimed.
    pub tcp_idle: Nanos,
    /// A UDP flow with no traffic this long (virtual ns) is reclaimed.
    pub udp_idle: Nanos,
    /// How long (virtual ns) a connection to a host address may take before the guest gets RST.
    pub connect_timeout: Nanos,
    /// Receive and transmit buffer of each TCP flow, bytes.
    pub tcp_buffer: usize,
    /// While host sockets are open, how often (virtual ns) the gateway asks to be polled.
    pub host_poll_interval: Nanos,
}

impl Default for FlowLimits {
    /// 256 flows, TCP idle 10 min, UDP idle 60 s, connect 10 s, 64 KiB buffers, 200 µs polling.
    fn default() -> FlowLimits {
        FlowLimits {
            max_flows: 256,
            tcp_idle: 600 * SEC,
            udp_idle: 60 * SEC,
            connect_timeout: 10 * SEC,
            tcp_buffer: 64 * 1024,
            host_poll_interval: 200_000,
        }
    }
}

/// A host listener joined to a guest port (QEMU's `hostfwd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostForward {
    /// Where the host listens (port 0 picks a free port; see [`UserNet::forward_addrs`]).
    pub host: SocketAddr,
    /// Guest address to connect to; `None` means the first DHCP address (10.0.2.15).
    pub guest_addr: Option<Ipv4Addr>,
    /// Guest port to connect to.
    pub guest_port: u16,
}

/// A `--forward` argument that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad forward {text:?}: {why}; expected host:PORT=guest:PORT (or ADDR:PORT=ADDR:PORT)")]
pub struct ParseForwardError {
    text: String,
    why: &'static str,
}

impl FromStr for HostForward {
    type Err = ParseForwardError;

    /// Reads `host:PORT=guest:PORT`; either side may name an address instead of `host`/`guest`
    /// (`127.0.0.1:8080=10.0.2.15:80`) or give only a port (`8080=80`).
    fn from_str(s: &str) -> Result<HostForward, ParseForwardError> {
        let err = |why| ParseForwardError {
            text: s.to_string(),
            why,
        };
        let (left, right) = s.split_once('=').ok_or(err("no '='"))?;
        let split = |side: &str| -> (Option<String>, String) {
            match side.rsplit_once(':') {
                Some((a, p)) => (Some(a.to_string()), p.to_string()),
                None => (None, side.to_string()),
            }
        };
        let (haddr, hport) = split(left);
        let (gaddr, gport) = split(right);
        let hport: u16 = hport
            .parse()
            .map_err(|_| err("host port is not a number"))?;
        let gport: u16 = gport
            .parse()
            .map_err(|_| err("guest port is not a number"))?;
        if gport == 0 {
            return Err(err("guest port 0"));
        }
        let host_ip: IpAddr = match haddr.as_deref() {
            None | Some("") | Some("host") | Some("localhost") => Ipv4Addr::LOCALHOST.into(),
            Some(a) => a
                .trim_matches(|c| c == '[' || c == ']')
                .parse()
                .map_err(|_| err("host address is not an IP address"))?,
        };
        let guest_addr = match gaddr.as_deref() {
            None | Some("") | Some("guest") => None,
            Some(a) => Some(
                a.parse()
                    .map_err(|_| err("guest address is not an IPv4 address"))?,
            ),
        };
        Ok(HostForward {
            host: SocketAddr::new(host_ip, hport),
            guest_addr,
            guest_port: gport,
        })
    }
}

/// A change of the gateway's DNS table at a virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsChange {
    /// When, virtual ns.
    pub at: Nanos,
    /// The name.
    pub name: String,
    /// Its address from then on.
    pub addr: Ipv4Addr,
}

/// Everything the gateway is: addresses, services, allow-list, forwards, limits.
#[derive(Clone)]
pub struct UserNetConfig {
    /// The gateway's MAC address.
    pub gateway_mac: [u8; 6],
    /// The gateway's address (router, DHCP and SNTP server).
    pub gateway: Ipv4Addr,
    /// The DNS server's address (a second address of the gateway).
    pub dns_server: Ipv4Addr,
    /// Prefix length of the guest network.
    pub prefix_len: u8,
    /// DHCP pool and lease time (router, DNS and server fields are filled from the addresses
    /// above when the gateway starts).
    pub dhcp: DhcpServerConfig,
    /// Names the DNS server answers.
    pub dns: DnsTable,
    /// Changes of the DNS table at virtual times (a service that moves): from `at` on, `name`
    /// resolves to `addr`.
    pub dns_changes: Vec<DnsChange>,
    /// TTL of DNS answers, seconds.
    pub dns_ttl: u32,
    /// Forward names not in the table to the host resolver (off by default).
    pub dns_forward: bool,
    /// Virtual time → wall-clock time for SNTP.
    pub clock: SimClock,
    /// Only destinations named by services, the allow-list or the DNS table are reachable.
    pub restricted: bool,
    /// In-process TCP services by the address:port the guest connects to.
    pub tcp_services: BTreeMap<SocketAddrV4, Arc<dyn StreamServiceFactory>>,
    /// In-process UDP services by the address:port the guest sends to.
    pub udp_services: BTreeMap<SocketAddrV4, Arc<dyn DatagramServiceFactory>>,
    /// Allowed host TCP targets: guest-visible address:port → host address.
    pub host_tcp: BTreeMap<SocketAddrV4, SocketAddr>,
    /// Allowed host UDP targets: guest-visible address:port → host address.
    pub host_udp: BTreeMap<SocketAddrV4, SocketAddr>,
    /// Host listeners joined to guest ports.
    pub forwards: Vec<HostForward>,
    /// Flow table limits.
    pub limits: FlowLimits,
    /// Seed of the gateway's smoltcp interface (TCP initial sequence numbers).
    pub seed: u64,
}

impl fmt::Debug for UserNetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserNetConfig")
            .field("gateway", &self.gateway)
            .field("dns_server", &self.dns_server)
            .field("dhcp", &self.dhcp)
            .field("dns", &self.dns)
            .field("restricted", &self.restricted)
            .field(
                "tcp_services",
                &self.tcp_services.keys().collect::<Vec<_>>(),
            )
            .field(
                "udp_services",
                &self.udp_services.keys().collect::<Vec<_>>(),
            )
            .field("host_tcp", &self.host_tcp)
            .field("host_udp", &self.host_udp)
            .field("forwards", &self.forwards)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for UserNetConfig {
    /// 10.0.2.0/24, gateway 10.0.2.2 (MAC 52:55:0a:00:02:02), DNS 10.0.2.3, leases from
    /// 10.0.2.15, restricted, no services, no forwards.
    fn default() -> UserNetConfig {
        UserNetConfig {
            gateway_mac: [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02],
            gateway: Ipv4Addr::new(10, 0, 2, 2),
            dns_server: Ipv4Addr::new(10, 0, 2, 3),
            prefix_len: 24,
            dhcp: DhcpServerConfig::default(),
            dns: DnsTable::new(),
            dns_changes: Vec::new(),
            dns_ttl: 60,
            dns_forward: false,
            clock: SimClock::default(),
            restricted: true,
            tcp_services: BTreeMap::new(),
            udp_services: BTreeMap::new(),
            host_tcp: BTreeMap::new(),
            host_udp: BTreeMap::new(),
            forwards: Vec::new(),
            limits: FlowLimits::default(),
            seed: 0x5eed_0002,
        }
    }
}

impl UserNetConfig {
    /// Adds a DNS name.
    pub fn with_dns(mut self, name: &str, addr: Ipv4Addr) -> Self {
        self.dns.insert(name, addr);
        self
    }

    /// From virtual time `at` on, `name` resolves to `addr`.
    pub fn with_dns_change(mut self, at: Nanos, name: &str, addr: Ipv4Addr) -> Self {
        self.dns_changes.push(DnsChange {
            at,
            name: name.to_string(),
            addr,
        });
        self
    }

    /// Serves TCP connections to `addr` in-process.
    pub fn with_tcp_service(
        mut self,
        addr: SocketAddrV4,
        factory: Arc<dyn StreamServiceFactory>,
    ) -> Self {
        self.tcp_services.insert(addr, factory);
        self
    }

    /// Serves UDP flows to `addr` in-process.
    pub fn with_udp_service(
        mut self,
        addr: SocketAddrV4,
        factory: Arc<dyn DatagramServiceFactory>,
    ) -> Self {
        self.udp_services.insert(addr, factory);
        self
    }

    /// Lets TCP connections to the guest-visible `addr` reach the host address `host`.
    pub fn allow_host_tcp(mut self, addr: SocketAddrV4, host: SocketAddr) -> Self {
        self.host_tcp.insert(addr, host);
        self
    }

    /// Lets UDP flows to the guest-visible `addr` reach the host address `host`.
    pub fn allow_host_udp(mut self, addr: SocketAddrV4, host: SocketAddr) -> Self {
        self.host_udp.insert(addr, host);
        self
    }

    /// Adds a host listener joined to a guest port.
    pub fn with_forward(mut self, fwd: HostForward) -> Self {
        self.forwards.push(fwd);
        self
    }

    /// Lets the guest reach any address (the gateway's own address means host loopback).
    pub fn unrestricted(mut self) -> Self {
        self.restricted = false;
        self
    }

    /// The address the guest gets first from DHCP.
    pub fn guest_addr(&self) -> Ipv4Addr {
        self.dhcp.pool_start
    }
}

/// Counters of what the gateway saw and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserNetStats {
    /// Frames received from the guest.
    pub frames_in: u64,
    /// Frames sent to the guest.
    pub frames_out: u64,
    /// Bytes received from the guest.
    pub bytes_in: u64,
    /// Bytes sent to the guest.
    pub bytes_out: u64,
    /// Frames shorter than an Ethernet header, dropped.
    pub dropped_truncated: u64,
    /// Frames longer than 1514 bytes, dropped.
    pub dropped_oversized: u64,
    /// Frames whose ARP/IPv4/TCP/UDP headers or checksums are bad, dropped.
    pub dropped_malformed: u64,
    /// Frames of other protocols (IPv6, ...), dropped.
    pub dropped_unsupported: u64,
    /// TCP flows opened (guest connections and forwards).
    pub tcp_flows_opened: u64,
    /// UDP flows opened.
    pub udp_flows_opened: u64,
    /// Attempts to reach destinations that are not allowed.
    pub flows_blocked: u64,
    /// Flows refused because the table was full.
    pub flows_refused: u64,
    /// Flows reclaimed because they were idle too long.
    pub flows_expired: u64,
    /// Flows open now.
    pub flows_active: u64,
    /// Connections to host addresses that failed.
    pub host_connect_failures: u64,
    /// DHCP replies sent.
    pub dhcp_replies: u64,
    /// DNS queries answered (including NXDOMAIN).
    pub dns_replies: u64,
    /// SNTP replies sent.
    pub sntp_replies: u64,
}

#[derive(Default)]
struct Shared {
    stats: UserNetStats,
    leases: Vec<Lease>,
}

/// A view of a running gateway's counters and leases, kept by the caller while the device
/// owns the gateway. Cloneable.
#[derive(Clone)]
pub struct UserNetMonitor {
    shared: Arc<Mutex<Shared>>,
    forward_addrs: Vec<SocketAddr>,
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl UserNetMonitor {
    /// The counters as of the gateway's last call.
    pub fn stats(&self) -> UserNetStats {
        lock(&self.shared).stats.clone()
    }

    /// DHCP leases and offers as of the gateway's last call.
    pub fn leases(&self) -> Vec<Lease> {
        lock(&self.shared).leases.clone()
    }

    /// Where the host forwards listen, in configuration order.
    pub fn forward_addrs(&self) -> &[SocketAddr] {
        &self.forward_addrs
    }
}

/// The gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum UserNetError {
    /// A forward's host listener could not be opened.
    #[error("cannot listen on {addr} for a forward to guest port {guest_port}: {source}")]
    Listen {
        /// The host address.
        addr: SocketAddr,
        /// The guest port it forwards to.
        guest_port: u16,
        /// The OS error.
        source: std::io::Error,
    },
    /// The configuration is inconsistent.
    #[error("invalid gateway configuration: {0}")]
    Config(String),
}

struct PendingDns {
    query: Vec<u8>,
    guest: SocketAddrV4,
    result: mpsc::Receiver<Vec<Ipv4Addr>>,
}

/// The user-mode gateway; implements [`Link`] as the device's side of the cable.
pub struct UserNet {
    cfg: UserNetConfig,
    iface: Interface,
    sockets: SocketSet<'static>,
    dev: QueueDevice,
    now: Nanos,
    out: VecDeque<(Nanos, Vec<u8>)>,
    tx_busy_until: Nanos,
    dhcp: DhcpServer,
    dhcp_sock: SocketHandle,
    dns_sock: SocketHandle,
    sntp_sock: SocketHandle,
    dns_pending: Vec<PendingDns>,
    nat: nat::Nat,
    stats: UserNetStats,
    shared: Arc<Mutex<Shared>>,
    forward_addrs: Vec<SocketAddr>,
    leases_dirty: bool,
    /// Addresses in the guest subnet the gateway answers ARP for.
    arp_addrs: BTreeSet<Ipv4Addr>,
    fin_rescue: FinRescue,
    /// The wakeups [`Link::next_arrival`] last computed (interface, flows, FIN rescue), while
    /// nothing has happened since: until the earliest of them, a step does nothing, so the
    /// gateway need not step (nor ask smoltcp, whose `poll_at` scans every socket's
    /// neighbour) on every poll of a fleet's quantum. `None` after any step.
    quiet: Option<Wakeups>,
}

/// A gateway's timer wakeups, as of its last step.
#[derive(Debug, Clone, Copy)]
struct Wakeups {
    iface: Option<Nanos>,
    nat: Option<Nanos>,
    rescue: Option<Nanos>,
}

impl Wakeups {
    /// A step at `now` would do nothing: no timer is due (nor asked for "now").
    fn quiet_at(&self, now: Nanos) -> bool {
        [self.iface, self.nat, self.rescue]
            .into_iter()
            .flatten()
            .all(|t| now < t)
    }
}

fn udp_socket(packets: usize, bytes: usize) -> udp::Socket<'static> {
    udp::Socket::new(
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; packets], vec![0; bytes]),
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; packets], vec![0; bytes]),
    )
}

impl UserNet {
    /// Starts a gateway: opens the forwards' host listeners and sets up the interface.
    pub fn new(mut cfg: UserNetConfig) -> Result<UserNet, UserNetError> {
        if cfg.prefix_len == 0 || cfg.prefix_len > 30 {
            return Err(UserNetError::Config(format!(
                "prefix length {} (expected 1..=30)",
                cfg.prefix_len
            )));
        }
        if cfg.gateway == cfg.dns_server {
            return Err(UserNetError::Config(
                "gateway and DNS server need distinct addresses".into(),
            ));
        }
        let mask = Ipv4Addr::from(u32::MAX << (32 - cfg.prefix_len));
        cfg.dhcp.server = cfg.gateway;
        cfg.dhcp.router = Some(cfg.gateway);
        cfg.dhcp.dns_servers = vec![cfg.dns_server];
        cfg.dhcp.subnet_mask = mask;

        let mut dev = QueueDevice::new();
        let mut icfg = Config::new(EthernetAddress(cfg.gateway_mac).into());
        icfg.random_seed = cfg.seed;
        let mut iface = Interface::new(icfg, &mut dev, instant(0));
        iface.update_ip_addrs(|addrs| {
            // Room for two addresses is smoltcp's default (IFACE_MAX_ADDR_COUNT = 2).
            let _ = addrs.push(IpCidr::new(cfg.gateway.into(), cfg.prefix_len));
            let _ = addrs.push(IpCidr::new(cfg.dns_server.into(), cfg.prefix_len));
        });
        // With a default route through one of our own addresses, any_ip makes the interface
        // accept packets for every destination: the NAT sockets decide which are served.
        iface
            .routes_mut()
            .add_default_ipv4_route(cfg.gateway)
            .map_err(|_| UserNetError::Config("route table full".into()))?;
        iface.set_any_ip(true);

        let mut sockets = SocketSet::new(Vec::new());
        let mut bind = |addr: Ipv4Addr, port: u16| -> Result<SocketHandle, UserNetError> {
            // DHCP, DNS and SNTP requests of a whole fleet booting at once can arrive in one
            // step: room for two per lease.
            let packets = (cfg.dhcp.pool_size as usize * 2).max(16);
            let mut s = udp_socket(packets, packets * 1024);
            s.bind(IpListenEndpoint {
                addr: Some(addr.into()),
                port,
            })
            .map_err(|e| UserNetError::Config(format!("bind {addr}:{port}: {e}")))?;
            Ok(sockets.add(s))
        };
        let dhcp_sock = bind(cfg.gateway, dhcp::SERVER_PORT)?;
        let dns_sock = bind(cfg.dns_server, dns::PORT)?;
        let sntp_sock = bind(cfg.gateway, sntp::PORT)?;

        let mut nat = nat::Nat::new();
        let mut forward_addrs = Vec::new();
        for f in &cfg.forwards {
            let guest =
                SocketAddrV4::new(f.guest_addr.unwrap_or(cfg.dhcp.pool_start), f.guest_port);
            let addr = nat
                .add_forwarder(f.host, guest)
                .map_err(|source| UserNetError::Listen {
                    addr: f.host,
                    guest_port: f.guest_port,
                    source,
                })?;
            forward_addrs.push(addr);
        }

        // The gateway answers ARP for its own addresses and for every address in the subnet that
        // names something it serves (services, allow-list, DNS table), except the DHCP pool.
        let in_subnet =
            |ip: &Ipv4Addr| (u32::from(*ip) ^ u32::from(cfg.gateway)) >> (32 - cfg.prefix_len) == 0;
        let pool_start = u32::from(cfg.dhcp.pool_start);
        let in_pool = |ip: &Ipv4Addr| {
            let v = u32::from(*ip);
            v >= pool_start && v - pool_start < cfg.dhcp.pool_size
        };
        let mut arp_addrs: BTreeSet<Ipv4Addr> = [cfg.gateway, cfg.dns_server].into();
        let named = cfg
            .tcp_services
            .keys()
            .chain(cfg.udp_services.keys())
            .chain(cfg.host_tcp.keys())
            .chain(cfg.host_udp.keys())
            .map(|a| *a.ip())
            .chain(cfg.dns.iter().map(|(_, a)| a));
        for ip in named.filter(in_subnet) {
            if in_pool(&ip) {
                warn!(target: "net", "{ip} is in the DHCP pool; the gateway will not answer ARP for it");
            } else {
                arp_addrs.insert(ip);
            }
        }

        let shared = Arc::new(Mutex::new(Shared::default()));
        Ok(UserNet {
            arp_addrs,
            fin_rescue: FinRescue::default(),
            dhcp: DhcpServer::new(cfg.dhcp.clone()),
            cfg,
            iface,
            sockets,
            dev,
            now: 0,
            out: VecDeque::new(),
            tx_busy_until: 0,
            dhcp_sock,
            dns_sock,
            sntp_sock,
            dns_pending: Vec::new(),
            nat,
            stats: UserNetStats::default(),
            shared,
            forward_addrs,
            leases_dirty: false,
            quiet: None,
        })
    }

    /// A handle on the counters and leases that stays with the caller.
    pub fn monitor(&self) -> UserNetMonitor {
        UserNetMonitor {
            shared: self.shared.clone(),
            forward_addrs: self.forward_addrs.clone(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> UserNetStats {
        self.stats.clone()
    }

    /// Where the host forwards listen, in configuration order.
    pub fn forward_addrs(&self) -> &[SocketAddr] {
        &self.forward_addrs
    }

    /// The configuration in use.
    pub fn config(&self) -> &UserNetConfig {
        &self.cfg
    }

    /// Advances the gateway to `now`: host sockets, interface, services, timeouts.
    fn step(&mut self, now: Nanos) {
        let now = now.max(self.now);
        self.now = now;
        self.quiet = None;
        let t = instant(now);
        self.poll_host(now);
        for _ in 0..32 {
            self.iface.poll(t, &mut self.dev, &mut self.sockets);
            let mut progress = self.serve_builtin(now);
            progress |= self.pump_flows(now);
            if !progress && self.dev.rx_len() == 0 {
                break;
            }
        }
        self.expire(now);
        self.iface.poll(t, &mut self.dev, &mut self.sockets);
        let mut frames = self.dev.take_tx();
        for f in &frames {
            self.fin_rescue.observe(now, f);
        }
        frames.extend(self.fin_rescue.due(now, |(local, remote)| {
            let key = nat::FlowKey {
                guest: *remote,
                server: *local,
            };
            self.nat
                .tcp_state(&self.sockets, &key)
                .is_some_and(awaiting_fin_ack)
        }));
        for mut frame in frames {
            dhcp::unicast_reply_to_client(&mut frame);
            let at = now.max(self.tx_busy_until) + wire_time_100m(frame.len());
            self.tx_busy_until = at;
            self.stats.frames_out += 1;
            self.stats.bytes_out += frame.len() as u64;
            self.out.push_back((at, frame));
        }
        self.publish();
    }

    fn publish(&mut self) {
        self.stats.flows_active = self.nat.flow_count() as u64;
        let mut s = lock(&self.shared);
        s.stats.clone_from(&self.stats);
        if self.leases_dirty {
            s.leases = self.dhcp.leases();
            self.leases_dirty = false;
        }
    }

    /// DHCP, DNS and SNTP. Returns whether anything was sent.
    fn serve_builtin(&mut self, now: Nanos) -> bool {
        let mut progress = false;
        let gw = self.cfg.gateway;

        let sock = self.sockets.get_mut::<udp::Socket>(self.dhcp_sock);
        while let Ok((data, _meta)) = sock.recv() {
            if let Some(reply) = self.dhcp.handle(now, data) {
                let meta = udp::UdpMetadata {
                    local_address: Some(gw.into()),
                    ..udp::UdpMetadata::from(SocketAddrV4::new(reply.dst, dhcp::CLIENT_PORT))
                };
                if sock.send_slice(&reply.payload, meta).is_ok() {
                    self.stats.dhcp_replies += 1;
                    progress = true;
                }
            }
            self.leases_dirty = true;
        }

        // Scheduled DNS changes that are due, before the queries they may answer.
        for c in self.cfg.dns_changes.iter().filter(|c| c.at <= now) {
            self.cfg.dns.insert(&c.name, c.addr);
        }
        self.cfg.dns_changes.retain(|c| c.at > now);

        let sock = self.sockets.get_mut::<udp::Socket>(self.dns_sock);
        while let Ok((data, meta)) = sock.recv() {
            let std::net::IpAddr::V4(gip) = IpAddr::from(meta.endpoint.addr) else {
                continue;
            };
            let guest = SocketAddrV4::new(gip, meta.endpoint.port);
            match dns::answer(&self.cfg.dns, data, self.cfg.dns_ttl, self.cfg.dns_forward) {
                DnsOutcome::Reply(reply) => {
                    if sock.send_slice(&reply, meta.endpoint).is_ok() {
                        self.stats.dns_replies += 1;
                        progress = true;
                    }
                }
                DnsOutcome::Forward { name } => {
                    if self.dns_pending.len() < 64 {
                        let (tx, rx) = mpsc::channel();
                        let query = data.to_vec();
                        std::thread::spawn(move || {
                            use std::net::ToSocketAddrs;
                            let addrs = (name.as_str(), 0)
                                .to_socket_addrs()
                                .map(|it| {
                                    it.filter_map(|a| match a {
                                        SocketAddr::V4(v4) => Some(*v4.ip()),
                                        SocketAddr::V6(_) => None,
                                    })
                                    .collect()
                                })
                                .unwrap_or_default();
                            let _ = tx.send(addrs);
                        });
                        self.dns_pending.push(PendingDns {
                            query,
                            guest,
                            result: rx,
                        });
                    } else {
                        warn!(target: "net", "dns: too many forwarded queries pending, dropped one");
                    }
                }
                DnsOutcome::Ignore => {}
            }
        }
        let ttl = self.cfg.dns_ttl;
        let mut i = 0;
        while i < self.dns_pending.len() {
            let done = match self.dns_pending[i].result.try_recv() {
                Ok(addrs) => Some(addrs),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => Some(Vec::new()),
            };
            if let Some(addrs) = done {
                let p = self.dns_pending.swap_remove(i);
                if let Some(reply) = dns::reply_from_addresses(&p.query, &addrs, ttl) {
                    if sock.send_slice(&reply, p.guest).is_ok() {
                        self.stats.dns_replies += 1;
                        progress = true;
                    }
                }
            } else {
                i += 1;
            }
        }

        let sock = self.sockets.get_mut::<udp::Socket>(self.sntp_sock);
        while let Ok((data, meta)) = sock.recv() {
            if let Some(reply) = sntp::answer(&self.cfg.clock, now, data) {
                if sock.send_slice(&reply, meta.endpoint).is_ok() {
                    self.stats.sntp_replies += 1;
                    progress = true;
                }
            }
        }
        progress
    }

    /// Looks at a guest frame before the interface does: counts and drops bad frames, keeps ARP
    /// for other addresses away from smoltcp (which would answer it under any_ip), and opens
    /// flows for new connections. Returns the frame to hand to the interface, if any.
    fn inspect(&mut self, now: Nanos, frame: &[u8]) -> Inspect {
        if frame.len() < 14 {
            self.stats.dropped_truncated += 1;
            debug!(target: "net", "dropped truncated frame ({} bytes)", frame.len());
            return Inspect::Drop;
        }
        if frame.len() > MAX_FRAME {
            self.stats.dropped_oversized += 1;
            debug!(target: "net", "dropped oversized frame ({} bytes)", frame.len());
            return Inspect::Drop;
        }
        let eth = EthernetFrame::new_unchecked(frame);
        let dst_mac = eth.dst_addr();
        if dst_mac.is_unicast() && dst_mac != EthernetAddress(self.cfg.gateway_mac) {
            // Another station's frame (flooded by a switch): not for the gateway.
            return Inspect::Drop;
        }
        match eth.ethertype() {
            EthernetProtocol::Arp => {
                let Ok(arp) = ArpPacket::new_checked(eth.payload()) else {
                    return self.malformed("ARP");
                };
                let Ok(ArpRepr::EthernetIpv4 {
                    target_protocol_addr,
                    ..
                }) = ArpRepr::parse(&arp)
                else {
                    return self.malformed("ARP");
                };
                if self.arp_addrs.contains(&target_protocol_addr) {
                    Inspect::Deliver
                } else {
                    // Another host's address (or the guest's own probe/announcement).
                    Inspect::Drop
                }
            }
            EthernetProtocol::Ipv4 => {
                let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
                    return self.malformed("IPv4 header");
                };
                if !ip.verify_checksum() {
                    return self.malformed("IPv4 checksum");
                }
                let (src, dst) = (ip.src_addr(), ip.dst_addr());
                let first_fragment = ip.frag_offset() == 0;
                match ip.next_header() {
                    IpProtocol::Tcp if first_fragment => {
                        let Ok(tcp) = TcpPacket::new_checked(ip.payload()) else {
                            return self.malformed("TCP header");
                        };
                        if !tcp.verify_checksum(&src.into(), &dst.into()) {
                            return self.malformed("TCP checksum");
                        }
                        if tcp.syn() && !tcp.ack() && !tcp.rst() {
                            let key = nat::FlowKey {
                                guest: SocketAddrV4::new(src, tcp.src_port()),
                                server: SocketAddrV4::new(dst, tcp.dst_port()),
                            };
                            return self.on_syn(now, key, frame);
                        }
                        Inspect::Deliver
                    }
                    IpProtocol::Udp if first_fragment => {
                        let Ok(udp) = UdpPacket::new_checked(ip.payload()) else {
                            return self.malformed("UDP header");
                        };
                        if !udp.verify_checksum(&src.into(), &dst.into()) {
                            return self.malformed("UDP checksum");
                        }
                        let key = nat::FlowKey {
                            guest: SocketAddrV4::new(src, udp.src_port()),
                            server: SocketAddrV4::new(dst, udp.dst_port()),
                        };
                        if self.is_builtin_udp(key.server) || !self.is_unicast(dst) {
                            return Inspect::Deliver;
                        }
                        self.on_udp(now, key);
                        Inspect::Deliver
                    }
                    // Echo is answered for the gateway's own and served addresses only; under
                    // any_ip smoltcp would answer for every address.
                    IpProtocol::Icmp if !self.arp_addrs.contains(&dst) && self.is_unicast(dst) => {
                        debug!(target: "net", "dropped ICMP from {src} to unserved {dst}");
                        Inspect::Drop
                    }
                    _ => Inspect::Deliver,
                }
            }
            other => {
                self.stats.dropped_unsupported += 1;
                debug!(target: "net", "dropped frame of unsupported type {other}");
                Inspect::Drop
            }
        }
    }

    fn malformed(&mut self, what: &str) -> Inspect {
        self.stats.dropped_malformed += 1;
        debug!(target: "net", "dropped frame with bad {what}");
        Inspect::Drop
    }

    fn is_builtin_udp(&self, server: SocketAddrV4) -> bool {
        (*server.ip() == self.cfg.gateway
            && (server.port() == dhcp::SERVER_PORT || server.port() == sntp::PORT))
            || (*server.ip() == self.cfg.dns_server && server.port() == dns::PORT)
    }

    fn is_unicast(&self, ip: Ipv4Addr) -> bool {
        let host_bits = u32::MAX >> self.cfg.prefix_len;
        let subnet_broadcast = (u32::from(self.cfg.gateway) | host_bits) == u32::from(ip);
        !(ip.is_broadcast() || ip.is_multicast() || ip.is_unspecified() || subnet_broadcast)
    }
}

enum Inspect {
    Deliver,
    Drop,
    /// The frame was kept by a flow (a SYN waiting for a host connection).
    Held,
}

impl Link for UserNet {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        let now = now.max(self.now);
        self.now = now;
        self.stats.frames_in += 1;
        self.stats.bytes_in += frame.len() as u64;
        match self.inspect(now, frame) {
            Inspect::Deliver => {
                self.fin_rescue.observe_incoming(frame);
                self.dev.push_rx(frame.to_vec())
            }
            Inspect::Drop | Inspect::Held => {}
        }
        self.step(now);
    }

    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        let wake = match self.quiet {
            Some(w) if w.quiet_at(now.max(self.now)) => {
                self.now = now.max(self.now);
                w
            }
            _ => {
                self.step(now);
                let w = Wakeups {
                    iface: self
                        .iface
                        .poll_at(instant(self.now), &self.sockets)
                        .map(nanos),
                    nat: self.nat.next_wakeup(&self.cfg.limits),
                    rescue: self.fin_rescue.next_wakeup(),
                };
                // Host sockets and lookups are polled on the wall clock: never quiet.
                if !self.nat.has_host_io() && self.dns_pending.is_empty() {
                    self.quiet = Some(w);
                }
                w
            }
        };
        let now = self.now;
        let mut next = self.out.front().map(|(t, _)| *t);
        let mut consider = |t: Option<Nanos>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        // Timers never ask for "now" again: we just polled at now.
        let floor = now + 1000;
        consider(wake.iface.map(|t| t.max(floor)));
        consider(wake.nat.map(|t| t.max(floor)));
        consider(wake.rescue.map(|t| t.max(floor)));
        if self.nat.has_host_io() || !self.dns_pending.is_empty() {
            consider(Some(now + self.cfg.limits.host_poll_interval.max(1000)));
        }
        next
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        if self.out.front().is_none_or(|(t, _)| *t > now) {
            match self.quiet {
                Some(w) if w.quiet_at(now.max(self.now)) => self.now = now.max(self.now),
                _ => self.step(now),
            }
        }
        match self.out.front() {
            Some((t, _)) if *t <= now => self.out.pop_front().map(|(_, f)| f),
            _ => None,
        }
    }
}

impl Drop for UserNet {
    fn drop(&mut self) {
        self.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_parse_in_every_form() {
        let f: HostForward = "host:8080=guest:80".parse().unwrap();
        assert_eq!(f.host, "127.0.0.1:8080".parse().unwrap());
        assert_eq!((f.guest_addr, f.guest_port), (None, 80));
        let f: HostForward = "0.0.0.0:2222=10.0.2.16:22".parse().unwrap();
        assert_eq!(f.host, "0.0.0.0:2222".parse().unwrap());
        assert_eq!(f.guest_addr, Some(Ipv4Addr::new(10, 0, 2, 16)));
        let f: HostForward = "0=7".parse().unwrap();
        assert_eq!((f.host.port(), f.guest_port), (0, 7));
        for bad in ["host:80", "host:x=guest:1", "host:1=guest:0", "nothost:1=2"] {
            let e = bad.parse::<HostForward>().unwrap_err();
            assert!(
                e.to_string().contains("expected host:PORT=guest:PORT"),
                "{e}"
            );
        }
    }

    #[test]
    fn bad_configuration_is_an_error() {
        let cfg = UserNetConfig {
            dns_server: Ipv4Addr::new(10, 0, 2, 2),
            ..UserNetConfig::default()
        };
        assert!(matches!(UserNet::new(cfg), Err(UserNetError::Config(_))));
    }
}
