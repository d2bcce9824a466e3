//! A DHCPv4 server as a sans-IO state machine: a request's UDP payload in, a reply payload and
//! its destination out. Messages are read and written with smoltcp's `DhcpPacket`/`DhcpRepr`.
//!
//! Leases are keyed by the client's hardware address, so every MAC gets its own address and
//! keeps it across DISCOVERs and reboots while the lease lasts.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use smoltcp::wire::{DhcpMessageType, DhcpOption, DhcpPacket, DhcpRepr, EthernetAddress};
use tracing::{debug, info, warn};

use crate::link::Nanos;

/// DHCP server port.
pub const SERVER_PORT: u16 = 67;
/// DHCP client port.
pub const CLIENT_PORT: u16 = 68;

const NANOS_PER_SEC: u64 = 1_000_000_000;
/// How long an OFFER reserves its address for the client that was offered it.
const OFFER_HOLD: Nanos = 60 * NANOS_PER_SEC;
const OPT_RENEWAL_TIME: u8 = 58;
const OPT_REBINDING_TIME: u8 = 59;

/// What the server hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpServerConfig {
    /// The server's own address (server identifier, source of replies).
    pub server: Ipv4Addr,
    /// Subnet mask given to clients.
    pub subnet_mask: Ipv4Addr,
    /// Default router given to clients.
    pub router: Option<Ipv4Addr>,
    /// DNS servers given to clients (at most 3 are sent).
    pub dns_servers: Vec<Ipv4Addr>,
    /// First address of the pool.
    pub pool_start: Ipv4Addr,
    /// Number of addresses in the pool.
    pub pool_size: u32,
    /// Lease time in seconds.
    pub lease_secs: u32,
}

impl Default for DhcpServerConfig {
    /// QEMU's user-mode defaults: server 10.0.2.2, pool 10.0.2.15 and up, DNS 10.0.2.3,
    /// one-day leases.
    fn default() -> DhcpServerConfig {
        DhcpServerConfig {
            server: Ipv4Addr::new(10, 0, 2, 2),
            subnet_mask: Ipv4Addr::new(255, 255, 255, 0),
            router: Some(Ipv4Addr::new(10, 0, 2, 2)),
            dns_servers: vec![Ipv4Addr::new(10, 0, 2, 3)],
            pool_start: Ipv4Addr::new(10, 0, 2, 15),
            pool_size: 16,
            lease_secs: 86_400,
        }
    }
}

/// One client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The client's hardware address.
    pub mac: [u8; 6],
    /// The address leased or offered.
    pub ip: Ipv4Addr,
    /// Virtual time the lease (or the offer) runs out.
    pub expires: Nanos,
    /// `true` once ACKed, `false` while only offered.
    pub bound: bool,
}

/// A reply to send: UDP payload and destination address (port 68).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpReply {
    /// The DHCP message.
    pub payload: Vec<u8>,
    /// Where to send it: the broadcast address or the client's current address.
    pub dst: Ipv4Addr,
    /// The message type sent.
    pub kind: DhcpMessageType,
}

/// The DHCP server state: configuration and leases.
#[derive(Debug, Clone)]
pub struct DhcpServer {
    cfg: DhcpServerConfig,
    leases: BTreeMap<[u8; 6], Lease>,
    declined: BTreeSet<Ipv4Addr>,
}

impl DhcpServer {
    /// A server with no leases.
    pub fn new(cfg: DhcpServerConfig) -> DhcpServer {
        DhcpServer {
            cfg,
            leases: BTreeMap::new(),
            declined: BTreeSet::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DhcpServerConfig {
        &self.cfg
    }

    /// Current leases and offers, by MAC.
    pub fn leases(&self) -> Vec<Lease> {
        self.leases.values().copied().collect()
    }

    fn in_pool(&self, ip: Ipv4Addr) -> bool {
        let start = u32::from(self.cfg.pool_start);
        let v = u32::from(ip);
        v >= start && v - start < self.cfg.pool_size
    }

    /// Whether `ip` is free for `mac` at `now`.
    fn available(&self, now: Nanos, ip: Ipv4Addr, mac: [u8; 6]) -> bool {
        self.in_pool(ip)
            && !self.declined.contains(&ip)
            && self
                .leases
                .values()
                .all(|l| l.ip != ip || l.mac == mac || l.expires <= now)
    }

    fn allocate(&mut self, now: Nanos, mac: [u8; 6], wanted: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        if let Some(l) = self.leases.get(&mac) {
            if self.available(now, l.ip, mac) {
                return Some(l.ip);
            }
        }
        if let Some(ip) = wanted.filter(|ip| self.available(now, *ip, mac)) {
            return Some(ip);
        }
        let start = u32::from(self.cfg.pool_start);
        let ip = (0..self.cfg.pool_size)
            .map(|i| Ipv4Addr::from(start + i))
            .find(|ip| self.available(now, *ip, mac))?;
        // An address reclaimed from an expired lease: forget that lease.
        self.leases.retain(|_, l| l.ip != ip || l.mac == mac);
        Some(ip)
    }

    /// Handles one DHCP message (a UDP payload to port 67) received at `now`. Returns the reply,
    /// if the message calls for one. Malformed messages are ignored.
    pub fn handle(&mut self, now: Nanos, payload: &[u8]) -> Option<DhcpReply> {
        let packet = match DhcpPacket::new_checked(payload) {
            Ok(p) => p,
            Err(_) => {
                debug!(target: "net", "dhcp: truncated message ({} bytes) ignored", payload.len());
                return None;
            }
        };
        let req = match DhcpRepr::parse(&packet) {
            Ok(r) => r,
            Err(e) => {
                debug!(target: "net", "dhcp: malformed message ignored: {e}");
                return None;
            }
        };
        if packet.opcode() != smoltcp::wire::DhcpOpCode::Request {
            return None;
        }
        let mac = req.client_hardware_address.0;
        match req.message_type {
            DhcpMessageType::Discover => {
                let Some(ip) = self.allocate(now, mac, req.requested_ip) else {
                    warn!(target: "net", "dhcp: pool exhausted, no offer for {}",
                        req.client_hardware_address);
                    return None;
                };
                let bound = self.leases.get(&mac).is_some_and(|l| l.ip == ip && l.bound);
                let expires = if bound {
                    self.leases[&mac].expires
                } else {
                    now + OFFER_HOLD
                };
                self.leases.insert(
                    mac,
                    Lease {
                        mac,
                        ip,
                        expires,
                        bound,
                    },
                );
                debug!(target: "net", "dhcp: OFFER {ip} to {}", req.client_hardware_address);
                Some(self.reply(&req, DhcpMessageType::Offer, ip))
            }
            DhcpMessageType::Request => {
                if let Some(sid) = req.server_identifier {
                    if sid != self.cfg.server {
                        // The client took another server's offer.
                        if self.leases.get(&mac).is_some_and(|l| !l.bound) {
                            self.leases.remove(&mac);
                        }
                        return None;
                    }
                }
                let wanted = req
                    .requested_ip
                    .or((!req.client_ip.is_unspecified()).then_some(req.client_ip));
                let ok = wanted.filter(|ip| {
                    self.leases.get(&mac).is_some_and(|l| l.ip == *ip)
                        || self.available(now, *ip, mac)
                });
                match ok {
                    Some(ip) => {
                        self.leases.retain(|m, l| *m == mac || l.ip != ip);
                        self.leases.insert(
                            mac,
                            Lease {
                                mac,
                                ip,
                                expires: now + self.cfg.lease_secs as u64 * NANOS_PER_SEC,
                                bound: true,
                            },
                        );
                        info!(target: "net", "dhcp: lease {ip} to {} for {} s",
                            req.client_hardware_address, self.cfg.lease_secs);
                        Some(self.reply(&req, DhcpMessageType::Ack, ip))
                    }
                    None => {
                        info!(target: "net", "dhcp: NAK {} for {:?}",
                            req.client_hardware_address, wanted);
                        Some(self.reply(&req, DhcpMessageType::Nak, Ipv4Addr::UNSPECIFIED))
                    }
                }
            }
            DhcpMessageType::Release => {
                if self.leases.get(&mac).is_some_and(|l| l.ip == req.client_ip) {
                    info!(target: "net", "dhcp: {} released {}",
                        req.client_hardware_address, req.client_ip);
                    self.leases.remove(&mac);
                }
                None
            }
            DhcpMessageType::Decline => {
                if let Some(l) = self.leases.remove(&mac) {
                    warn!(target: "net", "dhcp: {} declined {} (address in use?)",
                        req.client_hardware_address, l.ip);
                    self.declined.insert(l.ip);
                }
                None
            }
            DhcpMessageType::Inform => {
                Some(self.reply(&req, DhcpMessageType::Ack, Ipv4Addr::UNSPECIFIED))
            }
            _ => None,
        }
    }

    fn reply(&self, req: &DhcpRepr<'_>, kind: DhcpMessageType, your_ip: Ipv4Addr) -> DhcpReply {
        let nak = kind == DhcpMessageType::Nak;
        let inform = req.message_type == DhcpMessageType::Inform;
        let lease = self.cfg.lease_secs;
        let t1 = (lease / 2).to_be_bytes();
        let t2 = (lease / 8 * 7).to_be_bytes();
        let timers = [
            DhcpOption {
                kind: OPT_RENEWAL_TIME,
                data: &t1,
            },
            DhcpOption {
                kind: OPT_REBINDING_TIME,
                data: &t2,
            },
        ];
        let mut dns = None;
        if !nak && !self.cfg.dns_servers.is_empty() {
            dns = Some(self.cfg.dns_servers.iter().take(3).copied().collect());
        }
        let repr = DhcpRepr {
            message_type: kind,
            transaction_id: req.transaction_id,
            secs: 0,
            client_hardware_address: req.client_hardware_address,
            client_ip: if kind == DhcpMessageType::Ack {
                req.client_ip
            } else {
                Ipv4Addr::UNSPECIFIED
            },
            your_ip,
            server_ip: Ipv4Addr::UNSPECIFIED,
            router: if nak { None } else { self.cfg.router },
            subnet_mask: (!nak).then_some(self.cfg.subnet_mask),
            relay_agent_ip: req.relay_agent_ip,
            broadcast: req.broadcast,
            requested_ip: None,
            client_identifier: None,
            server_identifier: Some(self.cfg.server),
            parameter_request_list: None,
            dns_servers: dns,
            max_size: None,
            lease_duration: (!nak && !inform).then_some(lease),
            renew_duration: None,
            rebind_duration: None,
            additional_options: if nak || inform { &[] } else { &timers },
        };
        let mut payload = vec![0u8; repr.buffer_len()];
        let mut packet = DhcpPacket::new_unchecked(&mut payload[..]);
        // The buffer is sized by `buffer_len`, so emitting cannot run out of room.
        let _ = repr.emit(&mut packet);
        let dst = if !req.relay_agent_ip.is_unspecified() {
            req.relay_agent_ip
        } else if !nak && !req.client_ip.is_unspecified() {
            req.client_ip
        } else {
            // No address yet (or a NAK): the client can only hear a broadcast, since the
            // gateway cannot resolve an address the client does not have.
            Ipv4Addr::BROADCAST
        };
        DhcpReply { payload, dst, kind }
    }
}

/// Builds a client message (for tests and tools): `kind` from `mac` with transaction `xid`.
pub fn client_message(
    kind: DhcpMessageType,
    mac: [u8; 6],
    xid: u32,
    requested: Option<Ipv4Addr>,
    server: Option<Ipv4Addr>,
    client_ip: Ipv4Addr,
) -> Vec<u8> {
    let repr = DhcpRepr {
        message_type: kind,
        transaction_id: xid,
        secs: 0,
        client_hardware_address: EthernetAddress(mac),
        client_ip,
        your_ip: Ipv4Addr::UNSPECIFIED,
        server_ip: Ipv4Addr::UNSPECIFIED,
        router: None,
        subnet_mask: None,
        relay_agent_ip: Ipv4Addr::UNSPECIFIED,
        broadcast: false,
        requested_ip: requested,
        client_identifier: Some(EthernetAddress(mac)),
        server_identifier: server,
        parameter_request_list: Some(&[1, 3, 6, 51]),
        dns_servers: None,
        max_size: None,
        lease_duration: None,
        renew_duration: None,
        rebind_duration: None,
        additional_options: &[],
    };
    let mut payload = vec![0u8; repr.buffer_len()];
    let _ = repr.emit(&mut DhcpPacket::new_unchecked(&mut payload[..]));
    payload
}

/// Addresses a DHCP reply the way RFC 2131 §4.1 asks of a server: a reply to a client with no
/// address yet that did not set the BROADCAST flag goes to the client's hardware address
/// (`chaddr`), not to every port of the LAN. `frame` is the Ethernet frame the gateway's stack
/// built (IP destination 255.255.255.255, Ethernet destination broadcast); only its Ethernet
/// destination changes (no checksum covers it). Returns whether the frame was rewritten; any
/// other frame is left alone.
///
/// Why it matters: with a fleet booting at once, broadcast offers reach every device, and a
/// device whose receive FIFO is full of other devices' offers loses its own.
pub fn unicast_reply_to_client(frame: &mut [u8]) -> bool {
    const ETH: usize = 14;
    if frame.len() < ETH + 20 || frame[0..6] != [0xff; 6] || frame[12..14] != [0x08, 0x00] {
        return false;
    }
    let ihl = usize::from(frame[ETH] & 0x0f) * 4;
    let udp = ETH + ihl;
    if frame[ETH] >> 4 != 4 || ihl < 20 || frame[ETH + 9] != 17 || frame.len() < udp + 8 {
        return false;
    }
    let port = |at: usize| u16::from_be_bytes([frame[at], frame[at + 1]]);
    if port(udp) != SERVER_PORT || port(udp + 2) != CLIENT_PORT {
        return false;
    }
    let bootp = udp + 8;
    // op, htype, hlen, hops, xid (4), secs (2), flags (2), ciaddr, yiaddr, siaddr, giaddr,
    // chaddr (16).
    if frame.len() < bootp + 44
        || frame[bootp] != 2
        || frame[bootp + 1] != 1
        || frame[bootp + 2] != 6
    {
        return false;
    }
    let broadcast_flag = frame[bootp + 10] & 0x80 != 0;
    let chaddr = bootp + 28;
    if broadcast_flag || frame[chaddr] & 1 != 0 {
        return false;
    }
    frame.copy_within(chaddr..chaddr + 6, 0);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(reply: &DhcpReply) -> (DhcpMessageType, Ipv4Addr, Option<u32>) {
        let p = DhcpPacket::new_checked(&reply.payload[..]).unwrap();
        let r = DhcpRepr::parse(&p).unwrap();
        (r.message_type, r.your_ip, r.lease_duration)
    }

    const A: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const B: [u8; 6] = [2, 0, 0, 0, 0, 2];
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
    const ZERO: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

    #[test]
    fn discover_request_ack_and_distinct_leases_by_mac() {
        let mut s = DhcpServer::new(DhcpServerConfig::default());
        let offer = s
            .handle(
                0,
                &client_message(DhcpMessageType::Discover, A, 1, None, None, ZERO),
            )
            .unwrap();
        assert_eq!(parse(&offer).0, DhcpMessageType::Offer);
        assert_eq!(parse(&offer).1, Ipv4Addr::new(10, 0, 2, 15));
        assert_eq!(offer.dst, Ipv4Addr::BROADCAST);
        let offer_b = s
            .handle(
                0,
                &client_message(DhcpMessageType::Discover, B, 2, None, None, ZERO),
            )
            .unwrap();
        assert_eq!(parse(&offer_b).1, Ipv4Addr::new(10, 0, 2, 16));
        let ack = s
            .handle(
                1,
                &client_message(
                    DhcpMessageType::Request,
                    A,
                    1,
                    Some(Ipv4Addr::new(10, 0, 2, 15)),
                    Some(SERVER),
                    ZERO,
                ),
            )
            .unwrap();
        assert_eq!(
            parse(&ack),
            (
                DhcpMessageType::Ack,
                Ipv4Addr::new(10, 0, 2, 15),
                Some(86_400)
            )
        );
        // B asks for A's address: NAK.
        let nak = s
            .handle(
                2,
                &client_message(
                    DhcpMessageType::Request,
                    B,
                    2,
                    Some(Ipv4Addr::new(10, 0, 2, 15)),
                    Some(SERVER),
                    ZERO,
                ),
            )
            .unwrap();
        assert_eq!(parse(&nak).0, DhcpMessageType::Nak);
        // A renews by unicast.
        let renew = s
            .handle(
                3,
                &client_message(
                    DhcpMessageType::Request,
                    A,
                    9,
                    None,
                    None,
                    Ipv4Addr::new(10, 0, 2, 15),
                ),
            )
            .unwrap();
        assert_eq!(parse(&renew).0, DhcpMessageType::Ack);
        assert_eq!(renew.dst, Ipv4Addr::new(10, 0, 2, 15));
        // A releases; the address becomes free for B.
        assert!(s
            .handle(
                4,
                &client_message(
                    DhcpMessageType::Release,
                    A,
                    10,
                    None,
                    Some(SERVER),
                    Ipv4Addr::new(10, 0, 2, 15)
                )
            )
            .is_none());
        let offer_b2 = s
            .handle(
                5,
                &client_message(
                    DhcpMessageType::Discover,
                    B,
                    3,
                    Some(Ipv4Addr::new(10, 0, 2, 15)),
                    None,
                    ZERO,
                ),
            )
            .unwrap();
        // B keeps its own offer rather than jumping to the requested address.
        assert_eq!(parse(&offer_b2).1, Ipv4Addr::new(10, 0, 2, 16));
    }

    #[test]
    fn exhausted_pool_gives_no_offer_and_garbage_is_ignored() {
        let mut s = DhcpServer::new(DhcpServerConfig {
            pool_size: 1,
            ..DhcpServerConfig::default()
        });
        assert!(s
            .handle(
                0,
                &client_message(DhcpMessageType::Discover, A, 1, None, None, ZERO)
            )
            .is_some());
        assert!(s
            .handle(
                0,
                &client_message(DhcpMessageType::Discover, B, 1, None, None, ZERO)
            )
            .is_none());
        // After the offer hold runs out, B can have the address.
        assert!(s
            .handle(
                OFFER_HOLD + 1,
                &client_message(DhcpMessageType::Discover, B, 1, None, None, ZERO)
            )
            .is_some());
        assert!(s.handle(0, b"junk").is_none());
        assert!(s.handle(0, &[0u8; 300]).is_none());
    }
    #[test]
    fn replies_go_to_the_clients_hardware_address_unless_it_asks_for_a_broadcast() {
        let mac = [0x02, 0xf9, 0, 0, 0, 7];
        // Ethernet (broadcast) + IPv4 (20) + UDP 67 -> 68 + a BOOTREPLY for `mac`.
        let frame = |flags: u16, sport: u16| {
            let mut f = vec![0xff; 6];
            f.extend_from_slice(&[0x52, 0x55, 0x0a, 0, 2, 2, 0x08, 0x00]);
            let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 2, 2];
            ip.extend_from_slice(&[255; 4]);
            f.extend_from_slice(&ip);
            f.extend_from_slice(&sport.to_be_bytes());
            f.extend_from_slice(&CLIENT_PORT.to_be_bytes());
            f.extend_from_slice(&[0; 4]);
            let mut bootp = vec![0u8; 240];
            bootp[0] = 2;
            bootp[1] = 1;
            bootp[2] = 6;
            bootp[10..12].copy_from_slice(&flags.to_be_bytes());
            bootp[28..34].copy_from_slice(&mac);
            f.extend_from_slice(&bootp);
            f
        };
        let mut f = frame(0, SERVER_PORT);
        let before = f.clone();
        assert!(unicast_reply_to_client(&mut f));
        assert_eq!(f[0..6], mac);
        assert_eq!(f[6..], before[6..]);
        let mut f = frame(0x8000, SERVER_PORT);
        assert!(!unicast_reply_to_client(&mut f));
        assert_eq!(f[0..6], [0xff; 6]);
        let mut f = frame(0, 53);
        assert!(!unicast_reply_to_client(&mut f));
        let mut short = frame(0, SERVER_PORT);
        short.truncate(60);
        assert!(!unicast_reply_to_client(&mut short));
    }
}
