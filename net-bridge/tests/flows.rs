//! The flow table: limits, idle timeouts, services with timers, DNS forwarding.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use common::*;
use net_bridge::service::{Echo, FlowInfo, StreamService, StreamServiceFactory, StreamState};
use net_bridge::usernet::FlowLimits;
use net_bridge::{GuestStack, Nanos, UserNetConfig};
use smoltcp::socket::{dns, tcp};
use smoltcp::wire::{DnsQueryType, IpAddress};

const SVC: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 100), 7);

fn state(g: &GuestStack, h: smoltcp::iface::SocketHandle) -> tcp::State {
    g.sockets.get::<tcp::Socket>(h).state()
}

#[test]
fn a_full_flow_table_refuses_new_flows_without_panicking() {
    let cfg = UserNetConfig {
        limits: FlowLimits {
            max_flows: 2,
            ..FlowLimits::default()
        },
        ..UserNetConfig::default().with_tcp_service(SVC, Echo::factory())
    };
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 21);
    let hs: Vec<_> = (0..3).map(|i| connect(&mut g, SVC, 42000 + i)).collect();
    g.run_until(g.now() + 2 * SEC, |_| false);
    assert_eq!(state(&g, hs[0]), tcp::State::Established);
    assert_eq!(state(&g, hs[1]), tcp::State::Established);
    assert_eq!(
        state(&g, hs[2]),
        tcp::State::Closed,
        "third flow was not refused"
    );
    let st = mon.stats();
    assert_eq!((st.flows_refused, st.flows_active), (1, 2));
    // Closing one makes room again.
    g.sockets.get_mut::<tcp::Socket>(hs[0]).close();
    g.run_until(g.now() + 2 * SEC, |_| false);
    let h = connect(&mut g, SVC, 42010);
    g.run_until(g.now() + SEC, |_| false);
    assert_eq!(state(&g, h), tcp::State::Established);
}

#[test]
fn idle_tcp_flows_are_reset_and_reclaimed() {
    let cfg = UserNetConfig {
        limits: FlowLimits {
            tcp_idle: 5 * SEC,
            ..FlowLimits::default()
        },
        ..UserNetConfig::default().with_tcp_service(SVC, Echo::factory())
    };
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 22);
    let h = connect(&mut g, SVC, 42100);
    g.run_until(g.now() + SEC, |_| false);
    assert_eq!(state(&g, h), tcp::State::Established);
    let reset = g.run_until(g.now() + 10 * SEC, |g| state(g, h) == tcp::State::Closed);
    assert!(reset, "idle flow was not reset");
    let st = mon.stats();
    assert_eq!((st.flows_expired, st.flows_active), (1, 0));
}

#[test]
fn a_flow_reset_for_a_guest_that_has_gone_does_not_poll_the_gateway_every_microsecond() {
    // The idle limit is past the neighbour cache's lifetime (60 s): when the flow is reset,
    // the RST waits for an ARP answer that never comes, and the flow stays. The reset counts
    // as activity, so its idle deadline comes round once more, 120 s later, and then stays in
    // the past: as a wakeup, it had the gateway ask to be polled every µs from then on.
    let cfg = UserNetConfig {
        limits: FlowLimits {
            tcp_idle: 120 * SEC,
            ..FlowLimits::default()
        },
        ..UserNetConfig::default().with_tcp_service(SVC, Echo::factory())
    };
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 23);
    let h = connect(&mut g, SVC, 42200);
    g.run_until(g.now() + SEC, |_| false);
    assert_eq!(state(&g, h), tcp::State::Established);
    // The guest goes away: only the gateway runs on, at the times it asks for.
    let mut now = g.now();
    let end = now + 300 * SEC;
    let link = g.link_mut();
    let mut polls = 0;
    while let Some(t) = link.next_arrival(now) {
        if t > end {
            break;
        }
        now = now.max(t);
        while link.receive(now).is_some() {}
        polls += 1;
        assert!(
            polls < 10_000,
            "the gateway asked to be polled {polls} times by {now} ns"
        );
    }
    assert_eq!(mon.stats().flows_expired, 1, "the idle flow was not reset");
}

/// Sends a greeting one virtual second after the connection opens, then closes.
struct DelayedGreeting {
    at: Nanos,
    sent: bool,
}

impl StreamService for DelayedGreeting {
    fn on_data(&mut self, _now: Nanos, data: &[u8]) -> usize {
        data.len()
    }

    fn poll_output(&mut self, now: Nanos, buf: &mut [u8]) -> usize {
        if self.sent || now < self.at {
            return 0;
        }
        let msg = b"hello after a second";
        buf[..msg.len()].copy_from_slice(msg);
        self.sent = true;
        msg.len()
    }

    fn next_wakeup(&self) -> Option<Nanos> {
        (!self.sent).then_some(self.at)
    }

    fn state(&self) -> StreamState {
        if self.sent {
            StreamState::Close
        } else {
            StreamState::Open
        }
    }
}

#[test]
fn services_are_woken_at_the_time_they_ask_for() {
    let factory: Arc<dyn StreamServiceFactory> = Arc::new(|now: Nanos, _: &FlowInfo| {
        Some(Box::new(DelayedGreeting {
            at: now + SEC,
            sent: false,
        }) as Box<dyn StreamService>)
    });
    let cfg = UserNetConfig::default().with_tcp_service(SVC, factory);
    let (net, _mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 23);
    let t0 = g.now();
    let h = connect(&mut g, SVC, 42200);
    let mut got = Vec::new();
    let mut at = 0;
    let ok = g.run_until(t0 + 10 * SEC, |g| {
        let s = g.sockets.get_mut::<tcp::Socket>(h);
        if s.can_recv() {
            s.recv(|b| {
                got.extend_from_slice(b);
                (b.len(), ())
            })
            .unwrap();
            at = g.now();
        }
        !g.sockets.get::<tcp::Socket>(h).may_recv() && !got.is_empty()
    });
    assert!(ok);
    assert_eq!(got, b"hello after a second");
    let delay = at - t0;
    assert!(
        (SEC..SEC + 10 * MS).contains(&delay),
        "greeting after {delay} ns"
    );
}

#[test]
fn dns_forwarding_asks_the_host_resolver() {
    // "localhost" resolves from the host's files, without any network.
    let cfg = UserNetConfig {
        dns_forward: true,
        ..UserNetConfig::default()
    };
    let (net, _mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 24);
    let servers = [IpAddress::v4(10, 0, 2, 3)];
    let h = g.sockets.add(dns::Socket::new(&servers, vec![]));
    let q = {
        let (sock, cx) = (g.sockets.get_mut::<dns::Socket>(h), g.iface.context());
        sock.start_query(cx, "localhost", DnsQueryType::A).unwrap()
    };
    let mut result = None;
    let wall = std::time::Instant::now();
    g.run_until(g.now() + 60 * SEC, |g| {
        match g.sockets.get_mut::<dns::Socket>(h).get_query_result(q) {
            Err(dns::GetQueryResultError::Pending) => {
                if wall.elapsed() > std::time::Duration::from_secs(10) {
                    return true;
                }
                std::thread::yield_now();
                false
            }
            r => {
                result = Some(r.map(|v| v.to_vec()));
                true
            }
        }
    });
    assert_eq!(result, Some(Ok(vec![IpAddress::v4(127, 0, 0, 1)])));
}

/// Resets its connection at a set time, whether or not anything is being sent (as a server
/// that crashes does).
struct AbortAt {
    at: Nanos,
    now: Nanos,
}

impl StreamService for AbortAt {
    fn on_data(&mut self, now: Nanos, data: &[u8]) -> usize {
        self.now = now;
        data.len()
    }

    fn poll_output(&mut self, now: Nanos, _buf: &mut [u8]) -> usize {
        self.now = now;
        0
    }

    fn next_wakeup(&self) -> Option<Nanos> {
        (self.now < self.at).then_some(self.at)
    }

    fn state(&self) -> StreamState {
        if self.now >= self.at {
            StreamState::Abort
        } else {
            StreamState::Open
        }
    }
}

#[test]
fn a_service_abort_reaches_an_idle_guest_as_rst_at_once() {
    let factory: Arc<dyn StreamServiceFactory> = Arc::new(|now: Nanos, _: &FlowInfo| {
        Some(Box::new(AbortAt { at: now + SEC, now }) as Box<dyn StreamService>)
    });
    let cfg = UserNetConfig::default().with_tcp_service(SVC, factory);
    let (net, mon) = gateway(cfg);
    let mut g = leased_guest(Box::new(net), GUEST_MAC, 24);
    let t0 = g.now();
    let h = connect(&mut g, SVC, 42300);
    g.run_until(t0 + 500 * MS, |_| false);
    assert_eq!(state(&g, h), tcp::State::Established);
    // The guest sends nothing: only the gateway's RST can tell it.
    let reset = g.run_until(t0 + 5 * SEC, |g| state(g, h) == tcp::State::Closed);
    assert!(reset, "the guest never heard of the abort");
    let after = g.now() - t0;
    assert!(
        (SEC..SEC + 5 * MS).contains(&after),
        "reset after {after} ns, expected just after 1 s"
    );
    assert_eq!(
        mon.stats().flows_active,
        0,
        "the flow is reclaimed once the RST is out"
    );
}
