//! Moves 10 MiB from a smoltcp guest through the gateway, once to an in-process sink and once
//! to a host loopback socket, and reports throughput (per host second and per virtual second)
//! and the gateway's own time per MiB.
//!
//! `cargo bench -p net-bridge --bench throughput` (set `NB_BENCH_MIB` to change the size).

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use net_bridge::service::Sink;
use net_bridge::{GuestStack, Impaired, Impairments, Link, Nanos, UserNet, UserNetConfig};
use smoltcp::socket::tcp;

const SEC: Nanos = 1_000_000_000;

/// A link wrapper that adds up the host time spent inside the wrapped link.
struct Timed<L: Link> {
    inner: L,
    spent: std::sync::Arc<std::sync::Mutex<Duration>>,
}

impl<L: Link> Timed<L> {
    fn time<R>(&mut self, f: impl FnOnce(&mut L) -> R) -> R {
        let t = Instant::now();
        let r = f(&mut self.inner);
        *self.spent.lock().unwrap() += t.elapsed();
        r
    }
}

impl<L: Link> Link for Timed<L> {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        self.time(|l| l.transmit(now, frame))
    }
    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        self.time(|l| l.next_arrival(now))
    }
    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        self.time(|l| l.receive(now))
    }
}

struct Result {
    wall: Duration,
    gateway: Duration,
    virt: Nanos,
}

fn run(
    cfg: UserNetConfig,
    dst: SocketAddrV4,
    total: usize,
    wire: bool,
    done: impl Fn() -> bool,
) -> Result {
    let spent = std::sync::Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let net = UserNet::new(cfg).expect("gateway");
    let link = Timed {
        inner: net,
        spent: spent.clone(),
    };
    let link: Box<dyn Link> = if wire {
        // The guest's side of a 100 Mbit/s cable (the gateway models its own side).
        let up = Impairments {
            rate_bps: Some(100_000_000),
            ..Impairments::default()
        };
        Box::new(Impaired::new(link, 0, up, Impairments::default()))
    } else {
        Box::new(link)
    };
    let mut g = GuestStack::new([2, 0, 0, 0, 0, 1], link, 1);
    g.dhcp(10 * SEC).expect("lease");
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 256 * 1024]),
        tcp::SocketBuffer::new(vec![0; 256 * 1024]),
    );
    s.set_nagle_enabled(false);
    s.connect(g.iface.context(), dst, 50000).unwrap();
    let h = g.sockets.add(s);
    let chunk = vec![0x5au8; 64 * 1024];
    let mut sent = 0usize;
    let mut closed = false;
    *spent.lock().unwrap() = Duration::ZERO;
    let v0 = g.now();
    let t0 = Instant::now();
    let ok = g.run_until(v0 + 3600 * SEC, |g| {
        let s = g.sockets.get_mut::<tcp::Socket>(h);
        while sent < total && s.can_send() {
            let n = (total - sent).min(chunk.len());
            sent += s.send_slice(&chunk[..n]).unwrap_or(0);
        }
        if sent == total && !closed && s.send_queue() == 0 {
            s.close();
            closed = true;
        }
        closed && done()
    });
    assert!(ok, "transfer did not finish");
    let wall = t0.elapsed();
    let gateway = *spent.lock().unwrap();
    Result {
        wall,
        gateway,
        virt: g.now() - v0,
    }
}

fn report(name: &str, total: usize, r: &Result) {
    let mib = total as f64 / (1024.0 * 1024.0);
    println!(
        "{name:<46} {:>8.1} MiB/s host   {:>7.1} MiB/s virtual   gateway {:>6.1} ms/MiB   (host {:.2} s, virtual {:.3} s)",
        mib / r.wall.as_secs_f64(),
        mib / (r.virt as f64 / 1e9),
        r.gateway.as_secs_f64() * 1000.0 / mib,
        r.wall.as_secs_f64(),
        r.virt as f64 / 1e9,
    );
}

fn main() {
    let mib: usize = std::env::var("NB_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let total = mib * 1024 * 1024;

    // In-process sink, without and with the guest's wire time.
    let svc = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 100), 9);
    for wire in [false, true] {
        let (factory, count) = Sink::factory();
        let cfg = UserNetConfig::default().with_tcp_service(svc, factory);
        let r = run(cfg, svc, total, wire, || {
            count.load(Ordering::Relaxed) as usize == total
        });
        let how = if wire { " (100 Mbit/s wire)" } else { "" };
        report(&format!("{mib} MiB -> in-process sink{how}"), total, &r);
    }

    // Host loopback socket, drained by a thread.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = l.local_addr().unwrap();
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let rc = received.clone();
    let t = thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = vec![0u8; 256 * 1024];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            rc.fetch_add(n, Ordering::Relaxed);
        }
    });
    let visible = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 2), host.port());
    let cfg = UserNetConfig::default().allow_host_tcp(visible, host);
    let r = run(cfg, visible, total, false, || {
        received.load(Ordering::Relaxed) == total
    });
    report(&format!("{mib} MiB -> host loopback"), total, &r);
    t.join().unwrap();
}
