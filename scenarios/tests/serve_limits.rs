//! `scenarios serve` limits, one at a time: what a client sees past each (connections, head
//! and body sizes, timeouts, garbage), the data file's lock, and keys taken from a file or the
//! environment instead of the command line. Loopback only; timeouts are set short so that the
//! waits are short, and every read has a hang guard.

mod common;
mod serve_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use scenarios::endpoint::Credentials;
use serde_json::json;
use serve_util::{fresh_dir, Server};

/// Reads until EOF (or reset); the bytes read. Panics if the server keeps the connection
/// open past the hang guard.
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("the server kept the connection open ({e})"),
        }
    }
}

fn status_of(reply: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(reply);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"))
}

#[test]
fn plain_http_limits_answer_or_close_as_documented() {
    let dir = fresh_dir("limits-plain");
    let srv = Server::start(
        &dir,
        &[
            "--plain",
            "--max-connections",
            "4",
            "--head-timeout",
            "1",
            "--body-timeout",
            "1",
        ],
    );
    let connect = || TcpStream::connect(&srv.addr).expect("connect");

    // A head trickled a byte at a time is closed once the head timeout has passed.
    let mut slow = connect();
    for b in b"POST / HT" {
        slow.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        read_to_close(&mut slow).is_empty(),
        "closed without an answer"
    );

    // 1 MB of headers: 431 after the first 16 KiB, then the connection is closed.
    let mut big = connect();
    let mut head = b"POST / HTTP/1.1\r\nHost: h\r\nX-Big: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 1 << 20));
    let mut writer = big.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&head); // the server stops reading part way
    });
    let reply = read_to_close(&mut big);
    assert_eq!(status_of(&reply), 431);
    assert!(String::from_utf8_lossy(&reply).contains("larger than 16 KiB"));
    sender.join().unwrap();

    // An oversized Content-Length is refused from the head, before any body byte is sent.
    let mut huge = connect();
    huge.write_all(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000\r\n\r\n")
        .unwrap();
    let reply = read_to_close(&mut huge);
    assert_eq!(status_of(&reply), 413);

    // An unsigned request is answered from its head: its 4 MiB body is never needed.
    let mut unsigned = connect();
    unsigned
        .write_all(
            b"POST / HTTP/1.1\r\nHost: h\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 4194304\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let reply = read_to_close(&mut unsigned);
    assert_eq!(status_of(&reply), 400);
    assert!(String::from_utf8_lossy(&reply).contains("MissingAuthenticationToken"));

    // The connection limit: four held open, the fifth is answered 503 and closed.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = connect();
            // A complete request, so that the connection is surely being served.
            s.write_all(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
            let mut buf = [0u8; 512];
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            assert!(s.read(&mut buf).unwrap() > 0, "health answer");
            s
        })
        .collect();
    let mut fifth = connect();
    let reply = read_to_close(&mut fifth);
    assert_eq!(status_of(&reply), 503);
    assert!(String::from_utf8_lossy(&reply).contains("ServiceUnavailableException"));
    drop(held);
    // Slots come back as the threads notice their clients left.
    let mut served = false;
    for _ in 0..300 {
        let mut s = connect();
        s.write_all(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            .unwrap();
        if status_of(&read_to_close(&mut s)) == 200 {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        served,
        "a connection is served again once the others closed"
    );
}

#[test]
fn tls_garbage_and_idle_handshakes_are_closed_and_others_still_served() {
    let dir = fresh_dir("limits-tls");
    let srv = Server::start(&dir, &["--head-timeout", "1"]);
    // Garbage instead of a ClientHello: an alert at most, then the close.
    let mut g = TcpStream::connect(&srv.addr).unwrap();
    g.write_all(b"GET / HTTP/1.1\r\n\r\n\x00\x01garbage")
        .unwrap();
    let got = read_to_close(&mut g);
    assert!(got.len() < 64, "no HTTP answer over a TLS port: {got:?}");
    // A connection that never starts its handshake is closed after the head timeout.
    let mut idle = TcpStream::connect(&srv.addr).unwrap();
    assert!(read_to_close(&mut idle).is_empty());
    let r = srv.call("ListTables", &json!({}));
    assert_eq!(r.status, 200, "still serving");
}

#[test]
fn a_second_server_on_the_same_data_file_fails_at_once() {
    let dir = fresh_dir("limits-lock");
    let data = dir.join("tables.log");
    let first = Server::start_with_data(&dir, &data, &[]);
    let out = Server::command(&dir, &["--data", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tables.log: in use by another process") && err.contains("tables.log.lock"),
        "{err}"
    );
    // The first is unharmed.
    assert_eq!(first.call("ListTables", &json!({})).status, 200);
    drop(first);
    // Once it is gone, the file is free.
    let again = Server::start_with_data(&dir, &data, &[]);
    assert_eq!(again.call("ListTables", &json!({})).status, 200);
}

fn write_mode(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

const FILE_SECRET: &str = "file/SECRET+never-in-ps";

#[test]
fn keys_come_from_a_private_file_or_the_environment_not_the_command_line() {
    let dir = fresh_dir("limits-keys");
    let keys = dir.join("keys");
    // Readable by others: refused, without echoing the secret.
    write_mode(
        &keys,
        &format!("# test key\nAKIAFILE:{FILE_SECRET}\n"),
        0o644,
    );
    let out = Server::bare_command(&dir)
        .arg("--credentials-file")
        .arg(&keys)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mode 0644") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains(FILE_SECRET), "{err}");
    // A malformed line is refused by number, not by content.
    write_mode(&keys, &format!("AKIAFILE{FILE_SECRET}\n"), 0o600);
    let out = Server::bare_command(&dir)
        .arg("--credentials-file")
        .arg(&keys)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1") && !err.contains(FILE_SECRET),
        "{err}"
    );

    // Mode 0600: served, and the secret is not on the command line.
    write_mode(
        &keys,
        &format!("# test key\nAKIAFILE:{FILE_SECRET}\n"),
        0o600,
    );
    let mut cmd = Server::bare_command(&dir);
    cmd.arg("--credentials-file").arg(&keys);
    let srv = Server::spawn(&dir, &mut cmd);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", srv.child.id())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains("SECRET"));
    let file_key = Credentials::new("AKIAFILE", FILE_SECRET);
    assert_eq!(srv.call_as(&file_key, "ListTables", &json!({})).status, 200);
    // The file's key replaces the default one.
    let r = srv.call_as(&Credentials::test_key(), "ListTables", &json!({}));
    assert_eq!(
        r.error_type().as_deref(),
        Some("UnrecognizedClientException")
    );
    drop(srv);

    // From the environment, on request.
    let mut cmd = Server::bare_command(&dir);
    cmd.arg("--credentials-from-env")
        .env("AWS_ACCESS_KEY_ID", "AKIAENV")
        .env("AWS_SECRET_ACCESS_KEY", "env/SECRET");
    let srv = Server::spawn(&dir, &mut cmd);
    let env_key = Credentials::new("AKIAENV", "env/SECRET");
    assert_eq!(srv.call_as(&env_key, "ListTables", &json!({})).status, 200);
    drop(srv);
    let out = Server::bare_command(&dir)
        .arg("--credentials-from-env")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AWS_SECRET_ACCESS_KEY"));
}

/// Feeds `input` to a fresh plain-HTTP connection of `ep`; the bytes it answers.
fn exchange(ep: &scenarios::endpoint::Endpoint, input: &[u8]) -> Vec<u8> {
    use net_bridge::service::FlowInfo;
    use std::net::{Ipv4Addr, SocketAddrV4};
    let flow = FlowInfo {
        guest: SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 15), 40000),
        server: SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 100), 80),
    };
    let mut conn = ep.plain_http_factory().accept(0, &flow).unwrap();
    let mut off = 0;
    while off < input.len() {
        let n = conn.on_data(0, &input[off..]);
        assert!(n > 0, "the connection stopped taking bytes");
        off += n;
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.poll_output(0, &mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn bodies_past_the_shared_budget_get_503_and_smaller_ones_are_served() {
    use scenarios::endpoint::{Endpoint, EndpointConfig};
    let ep = Endpoint::new(EndpointConfig {
        max_body_memory: 4096,
        ..EndpointConfig::default()
    })
    .unwrap();
    let unix = ep.now_unix(0) as u64;
    let put = |note_len: usize| {
        let body = serde_json::to_vec(&json!({"TableName": "SensorReadings", "Item": {
            "deviceId": {"S": "d"}, "seq": {"N": note_len.to_string()},
            "note": {"S": "n".repeat(note_len)}}}))
        .unwrap();
        common::signed_request(&Credentials::test_key(), unix, "PutItem", &body)
    };
    let big = exchange(&ep, &put(5000));
    assert_eq!(status_of(&big), 503);
    let text = String::from_utf8_lossy(&big);
    assert!(
        text.contains("ServiceUnavailableException") && text.contains("retry"),
        "{text}"
    );
    let small = exchange(&ep, &put(100));
    assert_eq!(
        status_of(&small),
        200,
        "{}",
        String::from_utf8_lossy(&small)
    );
    assert_eq!(
        ep.items("SensorReadings").unwrap().len(),
        1,
        "only the small one"
    );
    let stats = ep.request_stats();
    assert_eq!((stats.by_status[&503], stats.by_status[&200]), (1, 1));
}

#[test]
fn secrets_in_the_query_string_and_authorization_are_redacted_in_the_request_log() {
    let dir = fresh_dir("limits-redact");
    let log = dir.join("requests.jsonl");
    let srv = Server::start(&dir, &["--plain", "--request-log", log.to_str().unwrap()]);
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.write_all(
        b"POST /?X-Amz-Credential=AKIDLEAK%2F20240101&X-Amz-Signature=feedface99&x-amz-security-token=TOKENLEAK&a=1 HTTP/1.1\r\n\
          Host: h\r\nX-Amz-Security-Token: HEADERTOKENLEAK\r\n\
          Authorization: aws4-hmac-sha256 credential=AKIDEXAMPLE/20240101/us-east-1/dynamodb/aws4_request, signedheaders=host, signature=abcdef0123456789\r\n\
          Connection: close\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(status_of(&read_to_close(&mut s)), 400);
    drop(srv);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("X-Amz-Signature=<redacted>"), "{text}");
    for secret in ["AKIDLEAK", "feedface99", "TOKENLEAK", "abcdef0123456789"] {
        assert!(!text.contains(secret), "{secret} in the log: {text}");
    }
}
