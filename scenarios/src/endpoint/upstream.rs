//! Forwarding to a DynamoDB-compatible engine (`scenarios serve --upstream URL`): a request
//! that passed this endpoint's checks (SigV4 with the local keys, faults) is re-signed with
//! the upstream's credentials and sent on; the engine's status and body are the answer. The
//! local endpoint then adds what the engine lacks (strict SigV4 as AWS does it, injected
//! faults, the request log) in front of a real table store (DynamoDB Local, moto).
//!
//! Plain HTTP only, one connection per request, blocking: meant for the standalone server
//! (each client connection has its own thread), not for in-process runs on virtual time.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::http::Request;
use super::sigv4::{self, RequestView};
use super::time::format_amz_date;
use super::Credentials;

/// Largest upstream response accepted.
const MAX_RESPONSE: usize = 8 * 1024 * 1024;
/// Connect, read and write timeout towards the upstream.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where requests go, and as whom.
#[derive(Clone)]
pub struct Upstream {
    /// `host:port` to connect to.
    pub authority: String,
    /// Region signed for.
    pub region: String,
    /// The upstream's credentials (never logged).
    pub credentials: Credentials,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("authority", &self.authority)
            .field("region", &self.region)
            .field("access_key_id", &self.credentials.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// Reads `http://HOST:PORT` (a path, if any, must be `/`).
    pub fn new(url: &str, region: &str, credentials: Credentials) -> Result<Upstream, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!(
                "upstream {url:?}: expected http://HOST:PORT (https upstreams are not supported)"
            )
        })?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') || !authority.contains(':') {
            return Err(format!("upstream {url:?}: expected http://HOST:PORT"));
        }
        Ok(Upstream {
            authority: authority.to_string(),
            region: region.to_string(),
            credentials,
        })
    }

    /// Sends `req` (already checked) re-signed at `now_unix`; the upstream's status and body.
    pub fn forward(&self, req: &Request, now_unix: i64) -> Result<(u16, Vec<u8>), String> {
        let stamp = format_amz_date(now_unix);
        let mut headers: Vec<(String, Vec<u8>)> = vec![
            ("host".into(), self.authority.as_bytes().to_vec()),
            ("x-amz-date".into(), stamp.as_bytes().to_vec()),
        ];
        for name in ["content-type", "x-amz-target"] {
            if let Some(v) = req.header(name) {
                headers.push((name.into(), v.as_bytes().to_vec()));
            }
        }
        if let Some(t) = &self.credentials.session_token {
            headers.push(("x-amz-security-token".into(), t.as_bytes().to_vec()));
        }
        let view = RequestView {
            method: &req.method,
            target: &req.target,
            headers: &headers,
            body: &req.body,
        };
        let auth = sigv4::authorization(&view, &self.credentials, &self.region, "dynamodb", &stamp);
        let mut wire = format!("{} {} HTTP/1.1\r\n", req.method, req.target).into_bytes();
        for (n, v) in &headers {
            wire.extend_from_slice(n.as_bytes());
            wire.extend_from_slice(b": ");
            wire.extend_from_slice(v);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(
            format!(
                "authorization: {auth}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                req.body.len()
            )
            .as_bytes(),
        );
        wire.extend_from_slice(&req.body);
        self.exchange(&wire)
    }

    fn exchange(&self, wire: &[u8]) -> Result<(u16, Vec<u8>), String> {
        let who = &self.authority;
        let addr = who
            .to_socket_addrs()
            .map_err(|e| format!("upstream {who}: {e}"))?
            .next()
            .ok_or_else(|| format!("upstream {who}: no address"))?;
        let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)
            .map_err(|e| format!("upstream {who}: {e}"))?;
        let io = |e: std::io::Error| format!("upstream {who}: {e}");
        s.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
        s.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
        s.write_all(wire).map_err(io)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(done) = parse_response(&buf).map_err(|e| format!("upstream {who}: {e}"))? {
                return Ok(done);
            }
            let n = s.read(&mut chunk).map_err(io)?;
            if n == 0 {
                return match parse_response_at_eof(&buf) {
                    Some(done) => Ok(done),
                    None => Err(format!("upstream {who}: connection closed mid-response")),
                };
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > MAX_RESPONSE {
                return Err(format!(
                    "upstream {who}: response over {MAX_RESPONSE} bytes"
                ));
            }
        }
    }
}

/// A whole response with `Content-Length` in `buf`: its status and body.
fn parse_response(buf: &[u8]) -> Result<Option<(u16, Vec<u8>)>, String> {
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut hs);
    let head = match r.parse(buf).map_err(|e| format!("bad response: {e}"))? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let status = r.code.unwrap_or(0);
    let mut length = None;
    for h in r.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err("chunked responses are not supported".into());
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            length = Some(
                std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .ok_or("bad Content-Length")?,
            );
        }
    }
    match length {
        // The upstream is not trusted to be sane: a length past what we accept is refused
        // before any arithmetic on it, so `head + n` cannot overflow.
        Some(n) if n > MAX_RESPONSE => Err(format!(
            "Content-Length {n} is over the {MAX_RESPONSE}-byte limit"
        )),
        Some(n) if buf.len() - head >= n => Ok(Some((status, buf[head..head + n].to_vec()))),
        _ => Ok(None),
    }
}

/// A response without `Content-Length` ends with the connection.
fn parse_response_at_eof(buf: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut hs);
    match r.parse(buf) {
        Ok(httparse::Status::Complete(head)) => Some((r.code.unwrap_or(0), buf[head..].to_vec())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_responses() {
        let c = Credentials::new("A", "S");
        assert_eq!(
            Upstream::new("http://127.0.0.1:5000/", "us-east-1", c.clone())
                .unwrap()
                .authority,
            "127.0.0.1:5000"
        );
        assert!(Upstream::new("https://x:1", "r", c.clone())
            .unwrap_err()
            .contains("https"));
        assert!(Upstream::new("http://x/path", "r", c).is_err());
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{"),
            Ok(None)
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 400 Bad\r\ncontent-length: 2\r\n\r\n{}"),
            Ok(Some((400, b"{}".to_vec())))
        );
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
        // A huge length is refused, not added to the head's size (which overflowed and panicked).
        let huge = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", usize::MAX);
        assert!(parse_response(huge.as_bytes())
            .unwrap_err()
            .contains("limit"));
        let over = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_RESPONSE + 1
        );
        assert!(parse_response(over.as_bytes()).is_err());
        assert_eq!(
            parse_response_at_eof(b"HTTP/1.0 200 OK\r\n\r\nabc"),
            Some((200, b"abc".to_vec()))
        );
    }
}
