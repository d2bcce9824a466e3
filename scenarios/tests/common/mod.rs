//! Helpers shared by the endpoint tests: an independent signer (the `aws-sigv4` crate), raw
//! request building, and an in-process HTTPS client on a smoltcp guest behind `UserNet`.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use net_bridge::{GuestStack, Nanos, UserNet, UserNetConfig};
use rustls::pki_types::{ServerName, UnixTime};
use scenarios::endpoint::{Credentials, Endpoint};
use serde_json::Value;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::{dns, tcp};
use smoltcp::wire::{DnsQueryType, IpAddress};

pub const MS: Nanos = 1_000_000;
pub const SEC: Nanos = 1_000_000_000;
pub const HOST: &str = "dynamodb.us-east-1.amazonaws.com";
pub const ENDPOINT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);

/// Signs with the independent `aws-sigv4` crate: returns the headers it adds
/// (`x-amz-date`, `authorization`, and `x-amz-security-token` with a session token).
pub fn aws_sign(
    cred: &Credentials,
    (region, service): (&str, &str),
    unix: u64,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity = aws_credential_types::Credentials::new(
        &cred.access_key_id,
        &cred.secret_access_key,
        cred.session_token.clone(),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(UNIX_EPOCH + Duration::from_secs(unix))
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable request");
    let (instructions, _sig) = sign(signable, &params).expect("sign").into_parts();
    instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A DynamoDB request's headers before signing.
pub fn dynamo_headers(op: &str, body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("host".into(), HOST.into()),
        ("content-type".into(), "application/x-amz-json-1.0".into()),
        ("x-amz-target".into(), format!("DynamoDB_20120810.{op}")),
        ("content-length".into(), body.len().to_string()),
    ]
}

/// A complete signed DynamoDB request on the wire.
pub fn signed_request(cred: &Credentials, unix: u64, op: &str, body: &[u8]) -> Vec<u8> {
    let mut headers = dynamo_headers(op, body);
    let extra = aws_sign(
        cred,
        ("us-east-1", "dynamodb"),
        unix,
        "POST",
        &format!("https://{HOST}/"),
        &headers,
        body,
    );
    headers.extend(extra);
    wire("POST", "/", &headers, body)
}

/// Serialises a request.
pub fn wire(method: &str, target: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    /// The short error type (`ValidationException`), if the body has a `__type`.
    pub fn error_type(&self) -> Option<String> {
        let v: Value = serde_json::from_slice(&self.body).ok()?;
        let t = v.get("__type")?.as_str()?;
        Some(t.rsplit('#').next().unwrap_or(t).to_string())
    }
}

/// Parses one complete response from the front of `buf`, removing it.
pub fn take_response(buf: &mut Vec<u8>) -> Option<Reply> {
    let mut hs = [httparse::EMPTY_HEADER; 32];
    let mut r = httparse::Response::new(&mut hs);
    let head = match r.parse(buf).expect("valid HTTP response") {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return None,
    };
    let headers: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().expect("content-length"))
        .unwrap_or(0);
    if buf.len() < head + len {
        return None;
    }
    let reply = Reply {
        status: r.code.unwrap_or(0),
        headers,
        body: buf[head..head + len].to_vec(),
    };
    buf.drain(..head + len);
    Some(reply)
}

/// Certificate validity is checked at the simulation's time, not the host's.
#[derive(Debug)]
struct FixedTime(u64);
impl rustls::time_provider::TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_secs(self.0)))
    }
}

/// A rustls client config trusting `ca_der`, checking certificates at `unix`.
pub fn client_config(ca_der: &[u8], unix: u64) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der.to_vec().into()).expect("CA certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_details(provider, Arc::new(FixedTime(unix)))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A guest on a `UserNet` whose DNS maps the DynamoDB host to the endpoint.
pub struct Sim {
    pub g: GuestStack,
    pub ep: Endpoint,
    next_port: u16,
}

impl Sim {
    /// Gateway with the endpoint's TLS factory on port 443 (and plain HTTP on 80).
    pub fn new(ep: Endpoint, seed: u64) -> Sim {
        let cfg = UserNetConfig::default()
            .with_dns(HOST, ENDPOINT_IP)
            .with_tcp_service(SocketAddrV4::new(ENDPOINT_IP, 443), ep.stream_factory())
            .with_tcp_service(SocketAddrV4::new(ENDPOINT_IP, 80), ep.plain_http_factory());
        let net = UserNet::new(cfg).expect("gateway");
        let mut g = GuestStack::new([2, 0, 0, 0, 0, 1], Box::new(net), seed);
        g.dhcp(30 * SEC).expect("DHCP lease");
        Sim {
            g,
            ep,
            next_port: 40000,
        }
    }

    /// The endpoint clock now (unix seconds).
    pub fn unix(&self) -> u64 {
        self.ep.now_unix(self.g.now()) as u64
    }

    /// Resolves a name through the gateway's DNS.
    pub fn resolve(&mut self, name: &str) -> Option<Ipv4Addr> {
        let servers = [IpAddress::v4(10, 0, 2, 3)];
        let h = self.g.sockets.add(dns::Socket::new(&servers, vec![]));
        let q = {
            let (sock, cx) = (
                self.g.sockets.get_mut::<dns::Socket>(h),
                self.g.iface.context(),
            );
            sock.start_query(cx, name, DnsQueryType::A).expect("query")
        };
        let mut out = None;
        let deadline = self.g.now() + 5 * SEC;
        self.g.run_until(deadline, |g| {
            match g.sockets.get_mut::<dns::Socket>(h).get_query_result(q) {
                Err(dns::GetQueryResultError::Pending) => false,
                Ok(addrs) => {
                    out = addrs
                        .iter()
                        .map(|a| match a {
                            IpAddress::Ipv4(v4) => *v4,
                        })
                        .next();
                    true
                }
                Err(_) => true,
            }
        });
        self.g.sockets.remove(h);
        out
    }

    /// Opens a TCP connection to `addr`.
    pub fn connect(&mut self, addr: SocketAddrV4) -> SocketHandle {
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 64 * 1024]),
            tcp::SocketBuffer::new(vec![0; 64 * 1024]),
        );
        self.next_port += 1;
        s.connect(self.g.iface.context(), addr, self.next_port)
            .expect("connect");
        self.g.sockets.add(s)
    }
}

/// An HTTPS (or plain) client connection on the guest.
pub struct Conn {
    pub h: SocketHandle,
    pub tls: Option<rustls::ClientConnection>,
    out: Vec<u8>,
    inp: Vec<u8>,
    pub tls_error: Option<String>,
    /// Every byte received from the socket (TLS records included).
    pub raw_in: Vec<u8>,
}

impl Conn {
    pub fn https(sim: &mut Sim, addr: Ipv4Addr, name: &str, ca_der: &[u8]) -> Conn {
        let h = sim.connect(SocketAddrV4::new(addr, 443));
        let cfg = client_config(ca_der, sim.unix());
        let tls = rustls::ClientConnection::new(
            cfg,
            ServerName::try_from(name.to_string()).expect("name"),
        )
        .expect("client");
        Conn {
            h,
            tls: Some(tls),
            out: Vec::new(),
            inp: Vec::new(),
            tls_error: None,
            raw_in: Vec::new(),
        }
    }

    pub fn plain(sim: &mut Sim, addr: Ipv4Addr) -> Conn {
        let h = sim.connect(SocketAddrV4::new(addr, 80));
        Conn {
            h,
            tls: None,
            out: Vec::new(),
            inp: Vec::new(),
            tls_error: None,
            raw_in: Vec::new(),
        }
    }

    /// Moves bytes between the TLS engine and the socket; returns false once the socket closed.
    fn pump(&mut self, g: &mut GuestStack) -> bool {
        let s = g.sockets.get_mut::<tcp::Socket>(self.h);
        if let Some(tls) = self.tls.as_mut() {
            while tls.wants_write() {
                if tls.write_tls(&mut self.out).is_err() {
                    break;
                }
            }
        }
        if s.can_send() && !self.out.is_empty() {
            let n = s.send_slice(&self.out).unwrap_or(0);
            self.out.drain(..n);
        }
        while s.can_recv() {
            let tls = &mut self.tls;
            let inp = &mut self.inp;
            let err = &mut self.tls_error;
            let raw = &mut self.raw_in;
            let _ = s.recv(|b| {
                let before = b.len();
                let n = match tls.as_mut() {
                    Some(t) => {
                        let mut rd: &[u8] = b;
                        let n = t.read_tls(&mut rd).unwrap_or(0);
                        if let Err(e) = t.process_new_packets() {
                            *err = Some(e.to_string());
                        }
                        let mut buf = [0u8; 4096];
                        while let Ok(k) = std::io::Read::read(&mut t.reader(), &mut buf) {
                            if k == 0 {
                                break;
                            }
                            inp.extend_from_slice(&buf[..k]);
                        }
                        n
                    }
                    None => {
                        inp.extend_from_slice(b);
                        b.len()
                    }
                };
                raw.extend_from_slice(&b[..n.min(before)]);
                (n, ())
            });
            if self.tls_error.is_some() {
                break;
            }
        }
        s.is_open()
    }

    /// Sends raw request bytes (through TLS if any).
    pub fn send(&mut self, data: &[u8]) {
        match self.tls.as_mut() {
            Some(t) => std::io::Write::write_all(&mut t.writer(), data).expect("TLS write"),
            None => self.out.extend_from_slice(data),
        }
    }

    /// Runs until a full response arrived (or `timeout` virtual ns passed).
    pub fn recv(&mut self, g: &mut GuestStack, timeout: Nanos) -> Option<Reply> {
        let deadline = g.now() + timeout;
        let mut reply = None;
        g.run_until(deadline, |g| {
            let open = self.pump(g);
            reply = take_response(&mut self.inp);
            reply.is_some() || !open || self.tls_error.is_some()
        });
        reply
    }

    /// Sends a request and waits for the response.
    pub fn call(&mut self, g: &mut GuestStack, data: &[u8]) -> Reply {
        self.send(data);
        self.recv(g, 30 * SEC)
            .expect("a response within 30 virtual seconds")
    }

    /// Runs until the socket is closed or reset; returns whether it did in `timeout`.
    pub fn wait_closed(&mut self, g: &mut GuestStack, timeout: Nanos) -> bool {
        let deadline = g.now() + timeout;
        g.run_until(deadline, |g| {
            self.pump(g);
            let s = g.sockets.get_mut::<tcp::Socket>(self.h);
            matches!(
                s.state(),
                tcp::State::Closed | tcp::State::TimeWait | tcp::State::CloseWait
            )
        })
    }

    /// The socket's state.
    pub fn state(&self, g: &mut GuestStack) -> tcp::State {
        g.sockets.get::<tcp::Socket>(self.h).state()
    }
}

/// The host's current unix time (only for the standalone tests, which run on the host clock).
pub fn wall_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// One signed request to a standalone endpoint at `addr` over a fresh TLS connection (trusting
/// `ca_der`, signed at the host's time); the parsed response.
pub fn https_call(addr: &str, ca_der: &[u8], cred: &Credentials, op: &str, body: &Value) -> Reply {
    use std::io::{Read, Write};
    let unix = wall_unix();
    let conn = rustls::ClientConnection::new(
        client_config(ca_der, unix),
        ServerName::try_from(HOST.to_string()).expect("name"),
    )
    .expect("client");
    let sock = std::net::TcpStream::connect(addr).expect("connect to the endpoint");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let body = serde_json::to_vec(body).unwrap();
    tls.write_all(&signed_request(cred, unix, op, &body))
        .expect("request sent");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(r) = take_response(&mut buf) {
            return r;
        }
        let n = tls.read(&mut chunk).expect("response bytes");
        assert!(n > 0, "connection closed before a whole response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The DER of the first certificate in a PEM file.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM base64")
}

/// Starts `scenarios serve` as `cmd` describes (stdout piped here) and returns the child with
/// the URL it prints on its first line (`https://127.0.0.1:PORT` or `http://...`).
pub fn spawn_serve(cmd: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("scenarios serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("scenarios serve prints its address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (child, url)
}
