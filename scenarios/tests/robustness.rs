//! Garbage in, never a panic: random and truncated bytes into the endpoint's connection
//! services (plain and TLS), as the gateway would deliver them.

use std::net::{Ipv4Addr, SocketAddrV4};

use net_bridge::service::{FlowInfo, StreamService, StreamState};
use scenarios::endpoint::{Endpoint, EndpointConfig};

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn flow() -> FlowInfo {
    FlowInfo {
        guest: SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 15), 40000),
        server: SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 100), 443),
    }
}

/// Feeds `input` in chunks, drains output; returns the output and the final state.
fn drive(svc: &mut dyn StreamService, input: &[u8], chunk: usize) -> (Vec<u8>, StreamState) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1500];
    for (i, c) in input.chunks(chunk.max(1)).enumerate() {
        let now = i as u64 * 1_000_000;
        let mut off = 0;
        while off < c.len() {
            let n = svc.on_data(now, &c[off..]);
            if n == 0 {
                break;
            }
            off += n;
        }
        loop {
            let n = svc.poll_output(now, &mut buf);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        if svc.state() != StreamState::Open {
            break;
        }
    }
    svc.on_eof(1_000_000_000);
    loop {
        let n = svc.poll_output(1_000_000_000, &mut buf);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    (out, svc.state())
}

#[test]
fn random_bytes_get_a_clean_refusal_and_no_panic() {
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    for seed in 0..200u64 {
        let junk = noise(1 + (seed as usize * 37) % 3000, seed);
        let chunk = 1 + (seed as usize % 17) * 61;
        let mut plain = ep.plain_http_factory().accept(0, &flow()).unwrap();
        let (out, state) = drive(plain.as_mut(), &junk, chunk);
        assert_ne!(
            state,
            StreamState::Open,
            "seed {seed}: connection left open after EOF"
        );
        if !out.is_empty() {
            let head = String::from_utf8_lossy(&out[..out.len().min(12)]).into_owned();
            assert!(
                head.starts_with("HTTP/1.1 4") || head.starts_with("HTTP/1.1 5"),
                "seed {seed}: {head:?}"
            );
        }
        let mut tls = ep.stream_factory().accept(0, &flow()).unwrap();
        let (_out, state) = drive(tls.as_mut(), &junk, chunk);
        assert_ne!(
            state,
            StreamState::Open,
            "seed {seed}: TLS connection left open"
        );
    }
    // Request-like garbage: valid heads with broken bodies and headers.
    let cases: [&[u8]; 5] = [
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n{\"a\"",
        b"POST / HTTP/1.1\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nAuthorization: AWS4-HMAC-SHA256 \r\n\r\n",
        b"POST / HTTP/1.1\r\nAuthorization: \xff\xfe\r\nX-Amz-Date: \xff\r\n\r\n",
        b"POST /%zz?%%=&&== HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;, Signature=\r\nX-Amz-Date: 99999999T999999Z\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    ];
    for c in cases {
        let mut plain = ep.plain_http_factory().accept(0, &flow()).unwrap();
        let (out, _) = drive(plain.as_mut(), c, c.len());
        if c.ends_with(b"{\"a\"") {
            // A body without the JSON content type (and unsigned): refused from its head as the
            // service refuses it, with a bare 404; its body is never waited for.
            assert!(
                out.starts_with(b"HTTP/1.1 404")
                    && String::from_utf8_lossy(&out).contains("<UnknownOperationException/>"),
                "{}",
                String::from_utf8_lossy(&out)
            );
        } else {
            assert!(
                out.starts_with(b"HTTP/1.1 "),
                "{:?}",
                String::from_utf8_lossy(c)
            );
        }
    }
}
