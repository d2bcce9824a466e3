//! A smoltcp interface attached to a [`Link`]: a stand-in for a device in tests, benchmarks and
//! scenarios that need extra hosts. It runs on virtual time like everything else: the caller
//! says what time it is, and [`GuestStack::next_event`] says when to call again.

use std::net::Ipv4Addr;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::wire::{EthernetAddress, IpCidr, Ipv4Cidr};

use crate::link::{Link, Nanos};
use crate::pace::{Clock, Pacer};
use crate::phy::{instant, nanos, QueueDevice};
use crate::rescue::{awaiting_fin_ack, FinRescue};
use smoltcp::socket::{tcp, Socket};
use smoltcp::wire::IpAddress;

/// What a guest got from DHCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestLease {
    /// Address and prefix.
    pub address: Ipv4Cidr,
    /// Default router.
    pub router: Option<Ipv4Addr>,
    /// DNS servers.
    pub dns_servers: Vec<Ipv4Addr>,
}

/// A smoltcp `Interface` and `SocketSet` whose device is a [`Link`].
///
/// Frames are sent with the time of the poll that produced them (the stack does not model its
/// own wire time; the far end or an impairment may).
pub struct GuestStack {
    link: Box<dyn Link>,
    /// The interface (addresses, routes).
    pub iface: Interface,
    /// The sockets.
    pub sockets: SocketSet<'static>,
    dev: QueueDevice,
    now: Nanos,
    fin_rescue: FinRescue,
}

impl GuestStack {
    /// A stack with hardware address `mac` on `link`; `seed` seeds smoltcp's randomness
    /// (TCP sequence numbers, DHCP transaction ids), so equal seeds give equal traffic.
    pub fn new(mac: [u8; 6], link: Box<dyn Link>, seed: u64) -> GuestStack {
        let mut dev = QueueDevice::new();
        let mut cfg = Config::new(EthernetAddress(mac).into());
        cfg.random_seed = seed;
        let iface = Interface::new(cfg, &mut dev, instant(0));
        GuestStack {
            link,
            iface,
            sockets: SocketSet::new(Vec::new()),
            dev,
            now: 0,
            fin_rescue: FinRescue::default(),
        }
    }

    /// Gives the interface a static address and default route.
    pub fn set_address(&mut self, address: Ipv4Cidr, router: Option<Ipv4Addr>) {
        self.iface.update_ip_addrs(|a| {
            a.clear();
            let _ = a.push(IpCidr::Ipv4(address));
        });
        self.iface.routes_mut().remove_default_ipv4_route();
        if let Some(r) = router {
            let _ = self.iface.routes_mut().add_default_ipv4_route(r);
        }
    }

    /// The virtual time of the last poll.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The link, e.g. to look at a wrapper's counters.
    pub fn link_mut(&mut self) -> &mut dyn Link {
        &mut *self.link
    }

    /// Processes everything due at `now` (which never goes backwards): frames that arrived,
    /// interface timers, and sends what the interface produced.
    pub fn poll(&mut self, now: Nanos) {
        self.now = self.now.max(now);
        let now = self.now;
        for _ in 0..1024 {
            while let Some(frame) = self.link.receive(now) {
                self.fin_rescue.observe_incoming(&frame);
                self.dev.push_rx(frame);
            }
            self.iface
                .poll(instant(now), &mut self.dev, &mut self.sockets);
            let mut tx = self.dev.take_tx();
            for f in &tx {
                self.fin_rescue.observe(now, f);
            }
            let sockets = &self.sockets;
            tx.extend(self.fin_rescue.due(now, |key| {
                tcp_state(sockets, key).is_some_and(awaiting_fin_ack)
            }));
            if tx.is_empty() {
                break;
            }
            for frame in tx {
                self.link.transmit(now, &frame);
            }
        }
    }

    /// When the stack next needs a poll: a frame arriving or an interface timer. Never earlier
    /// than the next microsecond after the last poll.
    pub fn next_event(&mut self) -> Option<Nanos> {
        let floor = (self.now / 1000 + 1) * 1000;
        let link = self.link.next_arrival(self.now).map(|t| t.max(self.now));
        let timer = self
            .iface
            .poll_at(instant(self.now), &self.sockets)
            .map(|t| nanos(t).max(floor));
        let timer = match (timer, self.fin_rescue.next_wakeup()) {
            (Some(a), Some(b)) => Some(a.min(b.max(floor))),
            (a, b) => a.or(b.map(|b| b.max(floor))),
        };
        match (link, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs from event to event until `done` returns true (checked after every poll) or virtual
    /// time passes `deadline`. Returns whether `done` held.
    pub fn run_until(
        &mut self,
        deadline: Nanos,
        mut done: impl FnMut(&mut GuestStack) -> bool,
    ) -> bool {
        loop {
            let now = self.now;
            self.poll(now);
            if done(self) {
                return true;
            }
            let next = self.next_event().unwrap_or(Nanos::MAX);
            let next = if next <= now { now + 1 } else { next };
            if next > deadline {
                self.poll(deadline);
                return done(self);
            }
            self.now = next;
        }
    }

    /// Like [`GuestStack::run_until`], but never ahead of the wall clock: between events the
    /// stack sleeps on `pacer` instead of jumping. For links with a real-time peer (a TAP).
    pub fn run_paced<C: Clock>(
        &mut self,
        pacer: &mut Pacer<C>,
        deadline: Nanos,
        mut done: impl FnMut(&mut GuestStack) -> bool,
    ) -> bool {
        loop {
            let now = self.now;
            self.poll(now);
            if done(self) {
                return true;
            }
            if now >= deadline {
                return false;
            }
            let next = self
                .next_event()
                .unwrap_or(Nanos::MAX)
                .max(now + 1)
                .min(deadline);
            pacer.wait_until(next);
            self.now = next;
        }
    }

    /// Runs a DHCP client until it has a lease (or `deadline`), applies the address and route,
    /// and removes the client. Returns the lease.
    pub fn dhcp(&mut self, deadline: Nanos) -> Option<GuestLease> {
        let handle: SocketHandle = self.sockets.add(dhcpv4::Socket::new());
        let mut lease = None;
        self.run_until(deadline, |g| {
            let sock = g.sockets.get_mut::<dhcpv4::Socket>(handle);
            if let Some(dhcpv4::Event::Configured(c)) = sock.poll() {
                lease = Some(GuestLease {
                    address: c.address,
                    router: c.router,
                    dns_servers: c.dns_servers.iter().copied().collect(),
                });
                return true;
            }
            false
        });
        self.sockets.remove(handle);
        let l = lease?;
        self.set_address(l.address, l.router);
        Some(l)
    }
}

fn v4(e: smoltcp::wire::IpEndpoint) -> Option<std::net::SocketAddrV4> {
    match e.addr {
        IpAddress::Ipv4(a) => Some(std::net::SocketAddrV4::new(a, e.port)),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The state of the TCP socket with these local and remote endpoints.
fn tcp_state(sockets: &SocketSet<'_>, key: &crate::rescue::ConnKey) -> Option<tcp::State> {
    sockets.iter().find_map(|(_, s)| match s {
        Socket::Tcp(t) => {
            let local = t.local_endpoint().and_then(v4)?;
            let remote = t.remote_endpoint().and_then(v4)?;
            ((local, remote) == *key).then(|| t.state())
        }
        _ => None,
    })
}

/// Runs several stacks in lockstep until `done` holds (checked after every quantum) or
/// `deadline`: each quantum, every stack runs through `[T, T + quantum]`, then the next
/// quantum starts; when every stack is idle, all clocks jump to the earliest next event. With
/// `quantum` below the switch latency, the result does not depend on the order of the stacks
/// (see [`crate::switch`]). Returns whether `done` held.
pub fn run_lockstep(
    stacks: &mut [GuestStack],
    quantum: Nanos,
    deadline: Nanos,
    mut done: impl FnMut(&mut [GuestStack]) -> bool,
) -> bool {
    let quantum = quantum.max(1);
    let mut t = stacks.iter().map(|s| s.now).min().unwrap_or(0);
    loop {
        let end = (t + quantum).min(deadline);
        for s in stacks.iter_mut() {
            s.run_until(end, |_| false);
        }
        if done(stacks) {
            return true;
        }
        if end >= deadline {
            return false;
        }
        let next = stacks
            .iter_mut()
            .filter_map(|s| s.next_event())
            .min()
            .unwrap_or(deadline)
            .clamp(end, deadline);
        if next > end {
            // Everyone is idle until `next`: bring every clock there first, so that no stack
            // runs a whole quantum past `next` while the others still lag behind.
            for s in stacks.iter_mut() {
                s.run_until(next, |_| false);
            }
        }
        t = next;
    }
}
