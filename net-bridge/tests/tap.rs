//! The TAP bridge end to end, inside a network namespace the test creates: a smoltcp guest on a
//! [`TapLink`] resolves the host side by ARP, pings it and talks TCP to a server in the
//! namespace. Only addresses inside the namespace are used (192.168.77.0/24), and the namespace
//! is deleted when the test ends, pass or fail.
//!
//! Needs root (CI runs as root): creating namespaces and TAP devices is privileged. Without
//! root, each test runs again under `unshare -rn` in a private namespace where that works (not
//! the ownership test, which needs real root); otherwise the tests fail with instructions. They
//! never pass silently.
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use common::{pattern, serve_echo, tcp_socket, EchoClient, MS, SEC};
use net_bridge::pcap::{read_records, CaptureBuffer};
use net_bridge::tap::TapError;
use net_bridge::{wire_time_100m, GuestStack, Link, Nanos, Pacer, PcapLink, TapLink};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::socket::icmp;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetFrame, EthernetProtocol, Icmpv4Packet, Icmpv4Repr,
    IpAddress, Ipv4Cidr,
};

const HOST_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 1);
const GUEST_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 2);
const GUEST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x77, 0x02];
/// A guard against a hang, in paced (wall-clock) virtual time; the exchanges take milliseconds.
const HANG_GUARD: Nanos = 60 * SEC;

/// Set in a test process that `unshare -rn` started: it is root of its own user and network
/// namespace, which it uses instead of a named one.
const UNSHARED: &str = "FT9_TAP_TEST_UNSHARED";

/// How this process may make a namespace with TAP devices.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Privilege {
    /// Root: a named namespace (`ip netns add`).
    Root,
    /// Inside `unshare -rn`: the process's own private namespace.
    Unshared,
}

fn privilege() -> Privilege {
    if std::env::var_os(UNSHARED).is_some() {
        Privilege::Unshared
    } else {
        Privilege::Root
    }
}

/// Whether `test` has run elsewhere: without root, it runs again in a private network namespace
/// under `unshare -rn` (the result is checked here); with neither, the test fails saying how to
/// run it. Returns false when the test should run in this process.
fn ran_unshared(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if privilege() == Privilege::Unshared || unsafe { libc::geteuid() } == 0 {
        return false;
    }
    let unshare_works = Command::new("unshare")
        .args(["-rn", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !unshare_works {
        panic!(
            "the TAP tests create a network namespace and TAP devices: they need root (CI runs \
             as root) or unprivileged user namespaces (`unshare -rn`), and this process has \
             neither. Run them as root: `sudo -E cargo test --release -p net-bridge --test tap`"
        );
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new("unshare")
        .arg("-rn")
        .arg(exe)
        .args(["--exact", test, "--test-threads=1", "--nocapture"])
        .env(UNSHARED, "1")
        .output()
        .expect("run the test under unshare -rn");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{test} under `unshare -rn` failed:\n{text}"
    );
    true
}

/// A network namespace, deleted on drop; or, under `unshare -rn`, the process's own.
struct Netns {
    /// `None`: the process's own private namespace.
    name: Option<String>,
}

impl Netns {
    fn create() -> Netns {
        let ns = match privilege() {
            Privilege::Unshared => Netns { name: None },
            Privilege::Root => {
                static N: AtomicUsize = AtomicUsize::new(0);
                let name = format!(
                    "ft9-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                );
                run(Command::new("ip").args(["netns", "add", &name]));
                Netns { name: Some(name) }
            }
        };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip [-n NS] ARGS...`.
    fn ip_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        if let Some(name) = &self.name {
            cmd.arg("-n").arg(name);
        }
        cmd.args(args);
        cmd
    }

    /// Runs `ip -n NS ARGS...`, failing the test with ip's message on error.
    fn ip(&self, args: &[&str]) {
        run(&mut self.ip_cmd(args));
    }

    /// Whether `ip -n NS ARGS...` succeeds.
    fn ip_ok(&self, args: &[&str]) -> bool {
        self.ip_cmd(args).output().is_ok_and(|o| o.status.success())
    }

    /// The standard output of `ip -n NS ARGS...`.
    fn ip_output(&self, args: &[&str]) -> String {
        let mut cmd = self.ip_cmd(args);
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A persistent TAP named `tap` in the namespace, owned by `user` if given.
    fn tap(&self, tap: &str, user: Option<&str>) {
        let mut args = vec!["tuntap", "add", "mode", "tap", "name", tap];
        if let Some(u) = user {
            args.extend(["user", u]);
        }
        self.ip(&args);
    }

    /// Runs `f` on a thread that has entered the namespace. Sockets and file descriptors it
    /// opens stay bound to the namespace after the thread ends.
    fn enter<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = self
            .name
            .as_ref()
            .map(|n| PathBuf::from("/run/netns").join(n));
        let t = thread::spawn(move || {
            if let Some(path) = path {
                let ns = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                // SAFETY: a valid namespace fd; setns affects only this thread.
                let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            }
            f()
        });
        t.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let Some(name) = &self.name else {
            return; // the private namespace ends with the process
        };
        let out = Command::new("ip").args(["netns", "del", name]).output();
        if !out.is_ok_and(|o| o.status.success()) {
            eprintln!("warning: could not delete network namespace {name}");
        }
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (is iproute2 installed?)"));
    let hint = match privilege() {
        Privilege::Unshared => {
            " (under `unshare -rn` /dev/net/tun must be open to your user, as it usually is with \
             mode 0666; or run the tests as root)"
        }
        Privilege::Root => "",
    };
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{hint}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// A namespace with TAP `ft9tap0` at 192.168.77.1/24, up.
fn namespace_with_tap() -> Netns {
    let ns = Netns::create();
    ns.tap("ft9tap0", None);
    ns.ip(&["addr", "add", "192.168.77.1/24", "dev", "ft9tap0"]);
    ns.ip(&["link", "set", "ft9tap0", "up"]);
    ns
}

/// An echo server in the namespace that serves one connection; returns the bytes it echoed.
fn echo_server(ns: &Netns, port: u16) -> thread::JoinHandle<usize> {
    let listener = ns.enter(move || TcpListener::bind(SocketAddrV4::new(HOST_IP, port)).unwrap());
    thread::spawn(move || serve_echo(listener.accept().unwrap().0, Duration::from_secs(60)))
}

/// Pings `to` from `g` (one request every 200 ms, as ping does, until a reply): returns
/// whether the matching echo reply came back.
fn ping(g: &mut GuestStack, pacer: &mut Pacer, to: Ipv4Addr) -> bool {
    let mut s = icmp::Socket::new(
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
    );
    s.bind(icmp::Endpoint::Ident(0x4d77)).unwrap();
    let h = g.sockets.add(s);
    let payload = b"ft900-sim tap ping";
    let caps = ChecksumCapabilities::default();
    let mut ok = false;
    let mut seq_no = 0u16;
    let mut next_send = g.now();
    let deadline = g.now() + HANG_GUARD;
    g.run_paced(pacer, deadline, |g| {
        let now = g.now();
        let s = g.sockets.get_mut::<icmp::Socket>(h);
        if now >= next_send && s.can_send() {
            seq_no += 1;
            let repr = Icmpv4Repr::EchoRequest {
                ident: 0x4d77,
                seq_no,
                data: payload,
            };
            let buf = s.send(repr.buffer_len(), IpAddress::from(to)).unwrap();
            repr.emit(&mut Icmpv4Packet::new_unchecked(buf), &caps);
            next_send = now + 200 * MS;
        }
        while let Ok((data, from)) = s.recv() {
            let p = Icmpv4Packet::new_checked(data).unwrap();
            if let Ok(Icmpv4Repr::EchoReply {
                ident: 0x4d77,
                data,
                ..
            }) = Icmpv4Repr::parse(&p, &caps)
            {
                ok = from == IpAddress::from(to) && data == payload;
            }
        }
        ok
    });
    g.sockets.remove(h);
    ok
}

/// Sends `data` to `remote` over TCP, half-closes, and collects what comes back until the peer
/// closes, on the wall clock. Returns the bytes and whether the connection closed cleanly.
fn tcp_echo(
    g: &mut GuestStack,
    pacer: &mut Pacer,
    remote: SocketAddrV4,
    data: &[u8],
) -> (Vec<u8>, bool) {
    let mut sock = tcp_socket(64 * 1024);
    sock.connect(g.iface.context(), remote, 40_077).unwrap();
    let h = g.sockets.add(sock);
    let mut client = EchoClient::default();
    let deadline = g.now() + HANG_GUARD;
    let done = g.run_paced(pacer, deadline, |g| client.step(g, h, data));
    // Let the last ACK go out before the socket disappears.
    let linger = g.now() + 50 * MS;
    g.run_paced(pacer, linger, |_| false);
    g.sockets.remove(h);
    (client.got, done)
}

fn ethertype(frame: &[u8]) -> Option<EthernetProtocol> {
    EthernetFrame::new_checked(frame)
        .ok()
        .map(|f| f.ethertype())
}

fn arp(frame: &[u8]) -> Option<ArpRepr> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Arp {
        return None;
    }
    ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).ok()?).ok()
}

#[test]
fn arp_ping_and_tcp_through_a_tap_in_a_namespace() {
    if ran_unshared("arp_ping_and_tcp_through_a_tap_in_a_namespace") {
        return;
    }
    let ns = namespace_with_tap();
    let server = echo_server(&ns, 7777);
    let tap = ns
        .enter(|| TapLink::open("ft9tap0"))
        .expect("open the TAP in the namespace");
    let tap_stats = tap.handle();
    let capture = CaptureBuffer::new();
    let link = PcapLink::new(tap, capture.clone());
    let mut g = GuestStack::new(GUEST_MAC, Box::new(link), 77);
    g.set_address(Ipv4Cidr::new(GUEST_IP, 24), None);
    let mut pacer = Pacer::wall(g.now());

    // ICMP echo to the host side (after ARP both ways).
    assert!(
        ping(&mut g, &mut pacer, HOST_IP),
        "no echo reply from 192.168.77.1"
    );

    // ARP: the guest asked for 192.168.77.1 and the kernel answered with the TAP's address.
    let frames = read_records(&capture.bytes()).expect("a readable capture");
    let arps: Vec<ArpRepr> = frames.iter().filter_map(|r| arp(&r.frame)).collect();
    let asked = arps.iter().any(|a| {
        matches!(a, ArpRepr::EthernetIpv4 { operation: ArpOperation::Request, source_hardware_addr, source_protocol_addr, target_protocol_addr, .. }
            if source_hardware_addr.0 == GUEST_MAC && *source_protocol_addr == GUEST_IP && *target_protocol_addr == HOST_IP)
    });
    let answered = arps.iter().any(|a| {
        matches!(a, ArpRepr::EthernetIpv4 { operation: ArpOperation::Reply, source_protocol_addr, target_hardware_addr, .. }
            if *source_protocol_addr == HOST_IP && target_hardware_addr.0 == GUEST_MAC)
    });
    assert!(
        asked && answered,
        "no ARP exchange in the capture: {arps:?}"
    );
    assert!(frames.iter().all(|r| ethertype(&r.frame).is_some()));

    // TCP to the server in the namespace: every byte back intact.
    let data = pattern(256 * 1024, 77);
    let (got, closed) = tcp_echo(&mut g, &mut pacer, SocketAddrV4::new(HOST_IP, 7777), &data);
    assert!(closed, "the TCP connection did not close cleanly");
    assert_eq!(got.len(), data.len());
    assert!(
        got == data,
        "bytes differ after the round trip through the TAP"
    );
    assert_eq!(server.join().unwrap(), data.len());

    // Frames from the host reach the guest one after another at 100 Mbit/s, as from a PHY,
    // even when the kernel sent them in a burst (the capture's clock counts microseconds).
    let inbound: Vec<_> = read_records(&capture.bytes())
        .unwrap()
        .into_iter()
        .filter(|r| r.frame.get(6..12) != Some(&GUEST_MAC[..]))
        .collect();
    assert!(
        inbound.len() > 100,
        "{} frames from the host",
        inbound.len()
    );
    for w in inbound.windows(2) {
        let gap_us = w[1].micros - w[0].micros;
        let wire_us = wire_time_100m(w[1].frame.len()) / 1000;
        assert!(
            gap_us + 1 >= wire_us,
            "{gap_us} µs between frames from the host"
        );
    }

    // The kernel learned the guest's MAC, and the link counted both directions.
    let st = tap_stats.stats();
    assert!(st.tx_frames > 100 && st.rx_frames > 100, "{st:?}");
    assert_eq!((st.tx_dropped, st.rx_errors), (0, 0), "{st:?}");
    let neigh = ns.ip_output(&["neigh", "show", "192.168.77.2"]);
    assert!(
        neigh.contains("lladdr 02:00:00:00:77:02"),
        "the namespace has no neighbour entry for the guest: {neigh:?}"
    );
    drop(g);
}

#[test]
fn a_missing_tap_is_reported_and_never_created() {
    if ran_unshared("a_missing_tap_is_reported_and_never_created") {
        return;
    }
    let ns = Netns::create();
    let e = ns.enter(|| TapLink::open("ft9nosuch0")).unwrap_err();
    assert!(matches!(e, TapError::NoSuchDevice(_)), "{e}");
    assert!(e
        .to_string()
        .contains("create it with `ip tuntap add mode tap user $USER name ft9nosuch0`"));
    // As root the kernel would have made a fresh TAP of that name: it must not exist.
    assert!(!ns.ip_ok(&["link", "show", "ft9nosuch0"]));
}

#[test]
fn a_tun_is_not_a_tap_a_tap_takes_one_reader_and_its_carrier_follows_the_host() {
    if ran_unshared("a_tun_is_not_a_tap_a_tap_takes_one_reader_and_its_carrier_follows_the_host") {
        return;
    }
    let ns = Netns::create();
    ns.ip(&["tuntap", "add", "mode", "tun", "name", "ft9tun0"]);
    ns.tap("ft9tap1", None);
    let (tun, first, second) = ns.enter(|| {
        (
            TapLink::open("ft9tun0").map(|_| ()),
            TapLink::open("ft9tap1"),
            TapLink::open("ft9tap1").map(|_| ()),
        )
    });
    assert!(matches!(tun, Err(TapError::NotTap(_))), "{tun:?}");
    assert!(matches!(second, Err(TapError::Busy(_))), "{second:?}");
    // The carrier follows the host side's up/down state, looked at every 10 ms of virtual time.
    let mut tap = first.expect("the TAP opens");
    assert!(!tap.carrier(), "ft9tap1 is down, yet the carrier is on");
    tap.next_arrival(0);
    ns.ip(&["link", "set", "ft9tap1", "up"]);
    tap.next_arrival(5 * MS);
    assert!(!tap.carrier(), "looked again before 10 ms");
    tap.next_arrival(10 * MS);
    assert!(tap.carrier(), "ft9tap1 is up, yet no carrier");
    ns.ip(&["link", "set", "ft9tap1", "down"]);
    tap.next_arrival(20 * MS);
    assert!(!tap.carrier());
}

/// Drops this thread's privileges to `uid`/`gid` (Linux credentials are per thread; the raw
/// system calls do not broadcast to the other threads as libc's wrappers would).
fn become_user(uid: u32, gid: u32) {
    // SAFETY: plain system calls on this thread's credentials.
    unsafe {
        assert_eq!(
            libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()),
            0
        );
        assert_eq!(libc::syscall(libc::SYS_setresgid, gid, gid, gid), 0);
        assert_eq!(libc::syscall(libc::SYS_setresuid, uid, uid, uid), 0);
    }
}

/// Whether `uid`/`gid` may open /dev/net/tun for reading and writing.
fn tun_node_open_to(uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::metadata("/dev/net/tun") else {
        return false;
    };
    let bits = if m.uid() == uid {
        m.mode() >> 6
    } else if m.gid() == gid {
        m.mode() >> 3
    } else {
        m.mode()
    } & 0o6;
    bits == 0o6
}

#[test]
fn an_unprivileged_user_opens_its_own_tap_and_is_refused_another() {
    // Needs real root: inside `unshare -rn` only one user exists and it has CAP_NET_ADMIN.
    // SAFETY: geteuid has no preconditions.
    if privilege() == Privilege::Unshared || unsafe { libc::geteuid() } != 0 {
        panic!(
            "this test drops from root to another user to check TAP ownership: run it as root \
             (CI does): `sudo -E cargo test --release -p net-bridge --test tap`"
        );
    }
    const NOBODY: u32 = 65534;
    let ns = Netns::create();
    ns.tap("ft9mine0", Some("65534"));
    ns.tap("ft9root0", Some("0"));
    let (mine, other) = ns.enter(|| {
        become_user(NOBODY, NOBODY);
        (
            TapLink::open("ft9mine0").map(|_| ()),
            TapLink::open("ft9root0").map(|_| ()),
        )
    });
    if tun_node_open_to(NOBODY, NOBODY) {
        // The documented set-up: no privilege at run time for one's own TAP.
        assert!(mine.is_ok(), "{mine:?}");
        assert!(matches!(other, Err(TapError::NotOwner(_))), "{other:?}");
    } else {
        // This host keeps /dev/net/tun from unprivileged users: both are refused, saying so.
        for r in [mine, other] {
            let e = r.unwrap_err();
            assert!(matches!(e, TapError::TunNodeDenied), "{e}");
            assert!(e.to_string().contains("/dev/net/tun: permission denied"));
        }
    }
}
