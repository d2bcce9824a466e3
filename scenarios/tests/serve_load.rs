//! Load and fault test of `scenarios serve --data FILE` over TLS on loopback.
//!
//! Phase 1: well-behaved clients (keep-alive TLS, PutItem / GetItem / Query, a fixed count)
//! while hostile clients run beside them: slow readers, trickled heads, half-open connections,
//! 1 MB headers, garbage before the TLS hello, oversized Content-Length, unsigned 4 MiB bodies,
//! unsigned request floods and a connection flood. Every well-behaved request must succeed and
//! the server's peak RSS stay under a fixed bound.
//! Phase 2: writers again, `SIGKILL` part way, a restart on the same file: every write that was
//! acknowledged (a 200 received) is there.
//! Phase 3: durable write rate with `--data` on an empty table and at 4,000 items.
//! Figures are printed; only hang guards, no wall-clock assertions.

mod common;
mod serve_util;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{client_config, signed_request, take_response, wall_unix, Reply, HOST};
use rustls::pki_types::ServerName;
use scenarios::endpoint::Credentials;
use serde_json::{json, Value};
use serve_util::{fresh_dir, memory_kib, Server};

/// Well-behaved client threads, and requests each makes in phase 1.
const CLIENTS: usize = 8;
const OPS_PER_CLIENT: usize = 500;
/// Connection limit of the server under test, and the idle connections of the flood (the
/// flood stays below the limit together with everyone else, as the limit is meant to allow).
const MAX_CONNECTIONS: usize = 64;
const FLOOD: usize = 16;
/// Unsigned requests each carrying a 4 MiB body.
const BIG_BODIES: usize = 25;
/// Peak RSS allowed for the server, KiB.
const RSS_BOUND_KIB: u64 = 96 * 1024;

/// A keep-alive TLS client.
struct Client {
    tls: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: &str, ca: &[u8]) -> std::io::Result<Client> {
        let sock = TcpStream::connect(addr)?;
        // Hang guard only.
        sock.set_read_timeout(Some(Duration::from_secs(60)))?;
        sock.set_nodelay(true)?;
        let conn = rustls::ClientConnection::new(
            client_config(ca, wall_unix()),
            ServerName::try_from(HOST.to_string()).unwrap(),
        )
        .map_err(std::io::Error::other)?;
        Ok(Client {
            tls: rustls::StreamOwned::new(conn, sock),
            buf: Vec::new(),
        })
    }

    fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.tls.write_all(bytes)?;
        self.tls.flush()
    }

    fn read_reply(&mut self) -> std::io::Result<Reply> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(r) = take_response(&mut self.buf) {
                return Ok(r);
            }
            let n = self.tls.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn call(&mut self, op: &str, body: &Value) -> std::io::Result<Reply> {
        let body = serde_json::to_vec(body).unwrap();
        self.send_raw(&signed_request(
            &Credentials::test_key(),
            wall_unix(),
            op,
            &body,
        ))?;
        self.read_reply()
    }
}

fn item(dev: &str, seq: usize) -> Value {
    json!({"deviceId": {"S": dev}, "seq": {"N": seq.to_string()}, "temperature": {"N": "21.5"},
           "note": {"S": "x".repeat(64)}})
}

fn key(dev: &str, seq: usize) -> Value {
    json!({"deviceId": {"S": dev}, "seq": {"N": seq.to_string()}})
}

/// Percentile of sorted latencies, ms.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// Runs `f` in a loop on its own thread until `stop`; counts the rounds.
fn hostile(
    stop: &Arc<AtomicBool>,
    rounds: &Arc<AtomicUsize>,
    mut f: impl FnMut() + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let (stop, rounds) = (stop.clone(), rounds.clone());
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            f();
            rounds.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// Reads until the server closes (or resets) the connection, with a hang guard.
fn until_closed(s: &mut impl Read) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += n,
        }
    }
}

#[test]
fn serve_under_load_and_attack_keeps_serving_bounded_and_loses_no_acknowledged_write() {
    let dir = fresh_dir("load");
    let data = dir.join("tables.log");
    let max = MAX_CONNECTIONS.to_string();
    let args = [
        "--max-connections",
        max.as_str(),
        "--head-timeout",
        "2",
        "--body-timeout",
        "5",
        "--send-timeout",
        "5",
    ];
    let srv = Server::start_with_data(&dir, &data, &args);
    let ca = srv.ca_der.clone().unwrap();
    let addr = srv.addr.clone();
    let (rss0, _) = srv.memory_kib();

    // Hostile clients, all running until the well-behaved ones are done.
    let stop = Arc::new(AtomicBool::new(false));
    let mut hostiles = Vec::new();
    let mut counters = Vec::new();
    let mut spawn_hostile = |name: &'static str, f: Box<dyn FnMut() + Send>| {
        let rounds = Arc::new(AtomicUsize::new(0));
        hostiles.push(hostile(&stop, &rounds, f));
        counters.push((name, rounds));
    };
    {
        let dial = {
            let (addr, ca) = (addr.clone(), ca.clone());
            move || Client::connect(&addr, &ca)
        };
        // A slow reader: pipelines requests and never reads the answers.
        let d = dial.clone();
        spawn_hostile(
            "slow reader (200 pipelined GetItems, never read)",
            Box::new(move || {
                if let Ok(mut c) = d() {
                    let body = serde_json::to_vec(
                        &json!({"TableName": "SensorReadings", "Key": key("x", 1)}),
                    )
                    .unwrap();
                    for _ in 0..200 {
                        let req =
                            signed_request(&Credentials::test_key(), wall_unix(), "GetItem", &body);
                        if c.send_raw(&req).is_err() {
                            break;
                        }
                    }
                    std::thread::sleep(Duration::from_secs(3));
                }
            }),
        );
        // A slow writer: a head trickled a byte every 300 ms until the server gives up.
        let d = dial.clone();
        spawn_hostile(
            "slow writer (head trickled 1 byte / 300 ms)",
            Box::new(move || {
                if let Ok(mut c) = d() {
                    for b in
                        b"POST / HTTP/1.1\r\nHost: dynamodb.us-east-1.amazonaws.com\r\nX-Slow: yes"
                    {
                        if c.send_raw(&[*b]).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(300));
                    }
                }
            }),
        );
        // Half-open: a partial head, then FIN, and the socket kept without reading.
        let d = dial.clone();
        spawn_hostile(
            "half-open (partial head, FIN, never read)",
            Box::new(move || {
                if let Ok(mut c) = d() {
                    let _ = c.send_raw(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n");
                    let _ = c.tls.sock.shutdown(Shutdown::Write);
                    std::thread::sleep(Duration::from_secs(1));
                }
            }),
        );
        // 1 MB of headers.
        let d = dial.clone();
        spawn_hostile(
            "1 MB header (431, closed)",
            Box::new(move || {
                if let Ok(mut c) = d() {
                    let mut head = b"POST / HTTP/1.1\r\nX-Big: ".to_vec();
                    head.extend(std::iter::repeat_n(b'a', 1 << 20));
                    head.extend_from_slice(b"\r\n\r\n");
                    let _ = c.send_raw(&head);
                    let _ = c.read_reply();
                }
            }),
        );
        // Garbage before the TLS hello.
        let addr2 = addr.clone();
        spawn_hostile(
            "garbage before the TLS hello (closed)",
            Box::new(move || {
                if let Ok(mut s) = TcpStream::connect(&addr2) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                    let _ = s.write_all(b"\x00\xffNOT TLS AT ALL\r\n\r\n");
                    until_closed(&mut s);
                }
            }),
        );
        // An oversized Content-Length.
        let d = dial.clone();
        spawn_hostile(
            "Content-Length 10^12 (413)",
            Box::new(move || {
                if let Ok(mut c) = d() {
                    let _ = c.send_raw(
                        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000000\r\n\r\n",
                    );
                    if let Ok(r) = c.read_reply() {
                        assert_eq!(r.status, 413);
                    }
                }
            }),
        );
        // Unsigned requests flooding the request log.
        let d = dial.clone();
        spawn_hostile(
            "unsigned request flood (100 per connection, 400)",
            Box::new(move || {
                if let Ok(mut c) = d() {
                    for _ in 0..100 {
                        let req = b"POST / HTTP/1.1\r\nHost: h\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}";
                        if c.send_raw(req).is_err() {
                            break;
                        }
                        match c.read_reply() {
                            Ok(r) => assert_eq!(r.status, 400),
                            Err(_) => break,
                        }
                    }
                }
            }),
        );
    }
    // Unsigned 4 MiB bodies, all at once: answered from the head, the bodies skipped.
    let big_bodies: Vec<_> = (0..BIG_BODIES)
        .map(|_| {
            let (addr, ca) = (addr.clone(), ca.clone());
            std::thread::spawn(move || {
                let mut c = Client::connect(&addr, &ca).expect("connect");
                let mut req = b"POST / HTTP/1.1\r\nHost: h\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 4194304\r\n\r\n".to_vec();
                req.extend(std::iter::repeat_n(b'{', 4 << 20));
                c.send_raw(&req).expect("the body is taken (and skipped)");
                c.read_reply().expect("an answer").status
            })
        })
        .collect();
    // The connection flood: idle TCP connections up to our share of the limit, held until the
    // server closes them (handshake timeout).
    let flood: Vec<_> = (0..FLOOD)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(&addr).expect("connect");
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                until_closed(&mut s);
            })
        })
        .collect();

    // The well-behaved clients.
    let rss_peak = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (stop, peak, pid) = (stop.clone(), rss_peak.clone(), srv.child.id());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(memory_kib(pid).0 as usize, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let t0 = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|w| {
            let (addr, ca, latencies) = (addr.clone(), ca.clone(), latencies.clone());
            std::thread::spawn(move || {
                let dev = format!("dev-{w}");
                let mut c = Client::connect(&addr, &ca).expect("connect");
                let mut mine = Vec::new();
                let mut timed = |c: &mut Client, op: &str, body: Value| -> Value {
                    let t = Instant::now();
                    let r = c.call(op, &body).unwrap_or_else(|e| panic!("{dev} {op}: {e}"));
                    mine.push(t.elapsed());
                    assert_eq!(r.status, 200, "{dev} {op}: {}", String::from_utf8_lossy(&r.body));
                    r.json()
                };
                let mut puts = 0;
                for i in 0..OPS_PER_CLIENT {
                    match i % 5 {
                        0..=2 => {
                            puts += 1;
                            timed(&mut c, "PutItem", json!({"TableName": "SensorReadings", "Item": item(&dev, puts)}));
                        }
                        3 => {
                            let got = timed(&mut c, "GetItem", json!({"TableName": "SensorReadings", "Key": key(&dev, puts)}));
                            assert_eq!(got["Item"], item(&dev, puts));
                        }
                        _ => {
                            let got = timed(&mut c, "Query", json!({
                                "TableName": "SensorReadings",
                                "KeyConditionExpression": "deviceId = :d AND seq > :s",
                                "ExpressionAttributeValues": {":d": {"S": dev}, ":s": {"N": (puts.saturating_sub(10)).to_string()}}
                            }));
                            assert_eq!(got["Count"], json!(puts.min(10)));
                        }
                    }
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for w in workers {
        w.join().expect("every well-behaved request succeeded");
    }
    let elapsed = t0.elapsed();
    let statuses: Vec<u16> = big_bodies.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(statuses.iter().all(|&s| s == 400), "{statuses:?}");
    let (_, hwm_phase1) = srv.memory_kib();
    stop.store(true, Ordering::Relaxed);
    for h in hostiles {
        h.join().expect("hostile client thread");
    }
    sampler.join().unwrap();
    for f in flood {
        f.join().unwrap();
    }
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    let n = lat.len();
    println!(
        "phase 1: {n} well-behaved requests from {CLIENTS} clients in {:.2} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    for (name, rounds) in &counters {
        println!(
            "  hostile: {name}: {} rounds",
            rounds.load(Ordering::Relaxed)
        );
    }
    println!("  hostile: {BIG_BODIES} unsigned 4 MiB bodies (400 each), {FLOOD} idle connections (closed after the handshake timeout)");
    let sampled = rss_peak.load(Ordering::Relaxed) as u64;
    println!(
        "server memory: RSS at start {rss0} KiB, sampled peak {sampled} KiB, VmHWM {hwm_phase1} KiB (bound {RSS_BOUND_KIB} KiB)"
    );
    assert_eq!(n, CLIENTS * OPS_PER_CLIENT);
    assert!(hwm_phase1 < RSS_BOUND_KIB, "peak RSS {hwm_phase1} KiB");

    // Phase 2: writers, SIGKILL part way, restart, every acknowledged write is there.
    let acked = Arc::new(Mutex::new(Vec::<(String, usize)>::new()));
    let writes = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..CLIENTS)
        .map(|w| {
            let (addr, ca, acked, writes) =
                (addr.clone(), ca.clone(), acked.clone(), writes.clone());
            std::thread::spawn(move || {
                let dev = format!("kill-{w}");
                let Ok(mut c) = Client::connect(&addr, &ca) else {
                    return;
                };
                for seq in 1..=10_000 {
                    let body = json!({"TableName": "SensorReadings", "Item": item(&dev, seq)});
                    match c.call("PutItem", &body) {
                        Ok(r) if r.status == 200 => {
                            acked.lock().unwrap().push((dev.clone(), seq));
                            writes.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => panic!("{dev}: status {}", r.status),
                        Err(_) => return, // the server died
                    }
                }
            })
        })
        .collect();
    while writes.load(Ordering::Relaxed) < 400 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut srv = srv;
    srv.child.kill().expect("SIGKILL");
    srv.child.wait().unwrap();
    for w in writers {
        w.join().unwrap();
    }
    drop(srv);
    let acked = acked.lock().unwrap().clone();
    let srv = Server::start_with_data(&dir, &data, &args);
    let mut c = Client::connect(&srv.addr, srv.ca_der.as_ref().unwrap()).unwrap();
    let mut missing = 0;
    for (dev, seq) in &acked {
        let r = c
            .call(
                "GetItem",
                &json!({"TableName": "SensorReadings", "Key": key(dev, *seq)}),
            )
            .unwrap();
        assert_eq!(r.status, 200);
        if r.json()["Item"] != item(dev, *seq) {
            missing += 1;
        }
    }
    println!(
        "phase 2: SIGKILL after {} acknowledged writes from {CLIENTS} writers; restarted on the same file",
        acked.len()
    );
    println!("acknowledged writes missing after SIGKILL: {missing}");
    assert_eq!(missing, 0);
    // Phase 1's writes survived too (the file was compacted at the restart).
    let got = c
        .call(
            "GetItem",
            &json!({"TableName": "SensorReadings", "Key": key("dev-0", 150)}),
        )
        .unwrap();
    assert_eq!(got.json()["Item"], item("dev-0", 150));
    drop(c);
    drop(srv);

    // Phase 3: the cost of a durable write, empty and at 4,000 items.
    let data3 = dir.join("rate.log");
    let srv = Server::start_with_data(&dir, &data3, &[]);
    let mut c = Client::connect(&srv.addr, srv.ca_der.as_ref().unwrap()).unwrap();
    let rate = |c: &mut Client, dev: &str| {
        let t = Instant::now();
        for seq in 0..200 {
            let r = c
                .call(
                    "PutItem",
                    &json!({"TableName": "SensorReadings", "Item": item(dev, seq)}),
                )
                .unwrap();
            assert_eq!(r.status, 200);
        }
        200.0 / t.elapsed().as_secs_f64()
    };
    let empty = rate(&mut c, "rate-empty");
    for b in 0..160 {
        let reqs: Vec<Value> = (0..25)
            .map(|i| json!({"PutRequest": {"Item": item("bulk", b * 25 + i)}}))
            .collect();
        let r = c
            .call(
                "BatchWriteItem",
                &json!({"RequestItems": {"SensorReadings": reqs}}),
            )
            .unwrap();
        assert_eq!(r.status, 200);
    }
    let full = rate(&mut c, "rate-full");
    println!(
        "durable PutItem with --data: {empty:.0} writes/s on an empty table, {full:.0} writes/s at 4,000 items"
    );
}
