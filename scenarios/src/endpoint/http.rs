//! HTTP/1.1 server side, sans-IO: a request parser with limits (header section, header count,
//! `Content-Length`), response serialisation, and a per-connection session that queues
//! responses (optionally delayed or cut off by a fault) in request order.
//!
//! A session reads a request's body only after its head has been admitted by the handler
//! ([`Handler::admit`]: the endpoint checks the signature's headers and reserves the body's
//! size from a shared [`BodyBudget`]), so unauthenticated requests cost no body memory and the
//! bodies held at once are bounded in total, not only per request.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use net_bridge::Nanos;

/// Largest request head (request line plus headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most headers in one request.
pub const MAX_HEADERS: usize = 64;
/// Largest body accepted (DynamoDB's own request limit is 16 MB for batches; items are 400 KB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method as sent.
    pub method: String,
    /// Request target (path and query) as sent.
    pub target: String,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Header names as sent and raw values, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (exactly `Content-Length` bytes).
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of a header as text (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// Whether the connection stays open after this request's response.
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").map(str::to_ascii_lowercase);
        match conn.as_deref() {
            Some(c) if c.split(',').any(|t| t.trim() == "close") => false,
            Some(c) if c.split(',').any(|t| t.trim() == "keep-alive") => true,
            _ => self.minor_version >= 1,
        }
    }
}

/// A response to serialise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers (Content-Length is added when serialising).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// The reason phrase for a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

impl Response {
    /// A plain-text response (used for HTTP-level errors).
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The response on the wire.
    pub fn to_bytes(&self, close: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).into_bytes();
        for (n, v) in &self.headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        if close {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// A request the parser refuses; the connection answers it and closes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}: {message}")]
pub struct HttpError {
    /// Status to answer with.
    pub status: u16,
    /// What was wrong, for the response body.
    pub message: String,
}

fn http_err(status: u16, message: impl Into<String>) -> HttpError {
    HttpError {
        status,
        message: message.into(),
    }
}

/// Accumulates bytes and yields complete requests.
#[derive(Debug, Default)]
pub struct RequestParser {
    buf: Vec<u8>,
}

impl RequestParser {
    /// Most bytes buffered before `push` stops taking more (back-pressure).
    pub const CAPACITY: usize = MAX_HEAD_BYTES + MAX_BODY_BYTES;

    /// Takes as much of `data` as fits; returns how many bytes were taken.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(Self::CAPACITY - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        n
    }

    /// Bytes buffered but not yet part of a returned request.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Takes at most `limit - buffered()` bytes of `data` (none if the buffer is that full);
    /// returns how many were taken.
    fn push_upto(&mut self, data: &[u8], limit: usize) -> usize {
        let n = data.len().min(limit.saturating_sub(self.buf.len()));
        self.push(&data[..n])
    }

    /// Drops up to `n` buffered bytes from the front; returns how many were dropped.
    fn discard(&mut self, n: usize) -> usize {
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
        n
    }

    /// The next complete request, `Ok(None)` if more bytes are needed.
    pub fn next_request(&mut self) -> Result<Option<Request>, HttpError> {
        let Some((mut req, head_len, len)) = self.head()? else {
            return Ok(None);
        };
        if self.buf.len() < head_len + len {
            return Ok(None);
        }
        req.body = self.take(head_len, len);
        Ok(Some(req))
    }

    /// Removes a request of `head_len` + `len` bytes from the buffer; returns its body.
    fn take(&mut self, head_len: usize, len: usize) -> Vec<u8> {
        let body = self.buf[head_len..head_len + len].to_vec();
        self.buf.drain(..head_len + len);
        body
    }

    /// The next request's head (with an empty body), its length and the body's length, once
    /// the whole head is buffered; nothing is removed from the buffer.
    pub fn head(&mut self) -> Result<Option<(Request, usize, usize)>, HttpError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let head_len = match req.parse(&self.buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if self.buf.len() > MAX_HEAD_BYTES {
                    return Err(http_err(431, "request head larger than 16 KiB"));
                }
                return Ok(None);
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(http_err(431, format!("more than {MAX_HEADERS} headers")))
            }
            Err(e) => return Err(http_err(400, format!("malformed HTTP request: {e}"))),
        };
        if head_len > MAX_HEAD_BYTES {
            return Err(http_err(431, "request head larger than 16 KiB"));
        }
        let method = req.method.unwrap_or_default().to_string();
        let target = req.path.unwrap_or_default().to_string();
        let minor_version = req.version.unwrap_or(1);
        let headers: Vec<(String, Vec<u8>)> = req
            .headers
            .iter()
            .map(|h| (h.name.to_string(), h.value.to_vec()))
            .collect();
        let mut len = None;
        for (n, v) in &headers {
            if n.eq_ignore_ascii_case("transfer-encoding") {
                return Err(http_err(
                    501,
                    "Transfer-Encoding is not supported; send the body with Content-Length",
                ));
            }
            if n.eq_ignore_ascii_case("content-length") {
                let parsed = std::str::from_utf8(v)
                    .ok()
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
                    .and_then(|s| s.parse::<usize>().ok())
                    .ok_or_else(|| http_err(400, "invalid Content-Length"))?;
                if len.is_some_and(|l| l != parsed) {
                    return Err(http_err(400, "conflicting Content-Length headers"));
                }
                len = Some(parsed);
            }
        }
        let len = len.unwrap_or(0);
        if len > MAX_BODY_BYTES {
            return Err(http_err(
                413,
                format!("body of {len} bytes exceeds the limit of {MAX_BODY_BYTES}"),
            ));
        }
        let req = Request {
            method,
            target,
            minor_version,
            headers,
            body: Vec::new(),
        };
        Ok(Some((req, head_len, len)))
    }
}

/// What a handler wants done with a response beyond sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Send it now.
    #[default]
    Now,
    /// Hold it until this virtual time.
    At(Nanos),
    /// Send only this many bytes of it, then reset the connection.
    ResetAfter(usize),
}

/// The bytes of request bodies being read, shared by every connection of an endpoint: a body
/// is read only once its `Content-Length` has been reserved here, so the bodies held in
/// memory at once (before their signatures can be checked) stay under the limit.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    limit: usize,
    used: Arc<AtomicUsize>,
}

impl BodyBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> BodyBudget {
        BodyBudget {
            limit,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Reserves `n` bytes, or `None` if that would exceed the limit.
    pub fn try_reserve(&self, n: usize) -> Option<BodyReservation> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|&t| t <= self.limit)
            })
            .ok()?;
        Some(BodyReservation {
            used: self.used.clone(),
            n,
        })
    }

    /// Bytes reserved now.
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The limit, bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Bytes of a [`BodyBudget`], given back when dropped (the request handled, or its connection
/// gone).
#[derive(Debug)]
pub struct BodyReservation {
    used: Arc<AtomicUsize>,
    n: usize,
}

impl Drop for BodyReservation {
    fn drop(&mut self) {
        self.used.fetch_sub(self.n, Ordering::AcqRel);
    }
}

/// What becomes of a request whose head has arrived.
#[derive(Debug)]
pub enum Admission {
    /// Read its body (holding this reservation, if any), then handle it.
    Read(Option<BodyReservation>),
    /// Answer it with this response without reading its body (the body's bytes are skipped).
    Answer(Response),
}

/// What a connection is partway through reading, for timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The TLS handshake (since the connection was accepted).
    Handshake,
    /// A request head, since its first byte arrived (virtual time).
    Head(Nanos),
    /// A request body, since its head was complete (virtual time).
    Body(Nanos),
}

/// Produces a response for each request; the endpoint implements this.
pub trait Handler {
    /// Decides, from its head alone, whether a request's body is read (`req.body` is empty;
    /// `body_len` is its `Content-Length`). By default every body is read.
    fn admit(&self, now: Nanos, req: &Request, body_len: usize) -> Admission {
        let _ = (now, req, body_len);
        Admission::Read(None)
    }
    /// Handles one request at virtual time `now`.
    fn handle(&self, now: Nanos, req: &Request) -> (Response, Delivery);
    /// Handles a request the parser refused.
    fn refused(&self, now: Nanos, err: &HttpError) -> Response {
        let _ = now;
        Response::text(err.status, &format!("{}\n", err.message))
    }
}

#[derive(Debug)]
struct Pending {
    ready_at: Nanos,
    bytes: Vec<u8>,
    close: bool,
    reset: bool,
}

/// Response bytes queued per connection beyond which no further pipelined request is handled
/// until the queue drains (so a client that pipelines without reading cannot make the server
/// hold more than this plus one response).
pub const MAX_QUEUED_RESPONSE_BYTES: usize = 256 * 1024;

/// Where a session is in the request it is reading.
#[derive(Debug, Default)]
enum Phase {
    /// Reading a head (since the virtual time its first byte came, if one has).
    #[default]
    Head,
    /// The head was admitted; reading its body.
    Body {
        req: Request,
        head_len: usize,
        len: usize,
        since: Nanos,
        reservation: Option<BodyReservation>,
    },
    /// The request was answered from its head; this many body bytes are skipped.
    Skip { left: usize, since: Nanos },
}

/// One connection's HTTP state: parser, queued responses, and whether to close or reset.
#[derive(Debug, Default)]
pub struct Session {
    parser: RequestParser,
    phase: Phase,
    /// When the first byte of the head being read arrived.
    head_since: Option<Nanos>,
    queue: VecDeque<Pending>,
    /// Bytes of all responses in `queue`.
    queued_bytes: usize,
    /// No more requests are read (an error or `Connection: close` was seen).
    stop_reading: bool,
    /// Close once the queue is flushed.
    pub close_after_flush: bool,
    /// Reset once the queue is flushed.
    pub reset_after_flush: bool,
    /// The peer sent EOF.
    pub peer_eof: bool,
}

impl Session {
    /// Feeds received bytes; handles complete requests while the queued responses stay under
    /// [`MAX_QUEUED_RESPONSE_BYTES`]. Returns bytes consumed: a head is taken only up to
    /// [`MAX_HEAD_BYTES`], a body only once admitted, and nothing more while responses are
    /// held back, so what is not taken waits (in the caller's buffer or in TCP); call again
    /// once the queue drained.
    pub fn on_data(&mut self, now: Nanos, data: &[u8], h: &dyn Handler) -> usize {
        let mut used = 0;
        loop {
            if self.stop_reading {
                // Discard what comes after a request we will not answer.
                return data.len();
            }
            if self.queued_bytes >= MAX_QUEUED_RESPONSE_BYTES && matches!(self.phase, Phase::Head) {
                // Back-pressure: the client is not reading its responses.
                return used;
            }
            let rest = &data[used..];
            match &mut self.phase {
                Phase::Skip { left, .. } => {
                    *left -= self.parser.discard(*left);
                    let k = (*left).min(rest.len());
                    *left -= k;
                    used += k;
                    if *left > 0 {
                        return used;
                    }
                    self.phase = Phase::Head;
                }
                Phase::Head => {
                    used += self.parser.push_upto(rest, MAX_HEAD_BYTES + 1);
                    if self.parser.buffered() > 0 {
                        self.head_since.get_or_insert(now);
                    }
                    match self.parser.head() {
                        Ok(None) => return used,
                        Err(e) => {
                            let resp = h.refused(now, &e);
                            self.enqueue(now, resp, Delivery::Now, true);
                        }
                        Ok(Some((req, head_len, len))) => {
                            self.head_since = None;
                            match h.admit(now, &req, len) {
                                Admission::Answer(resp) => {
                                    self.parser.discard(head_len);
                                    self.phase = Phase::Skip {
                                        left: len,
                                        since: now,
                                    };
                                    self.enqueue(now, resp, Delivery::Now, !req.keep_alive());
                                }
                                Admission::Read(reservation) => {
                                    self.phase = Phase::Body {
                                        req,
                                        head_len,
                                        len,
                                        since: now,
                                        reservation,
                                    };
                                }
                            }
                        }
                    }
                }
                Phase::Body { head_len, len, .. } => {
                    let want = *head_len + *len;
                    used += self.parser.push_upto(rest, want);
                    if self.parser.buffered() < want {
                        return used;
                    }
                    let Phase::Body {
                        mut req,
                        head_len,
                        len,
                        reservation,
                        ..
                    } = std::mem::take(&mut self.phase)
                    else {
                        unreachable!("matched above")
                    };
                    req.body = self.parser.take(head_len, len);
                    let keep = req.keep_alive();
                    let (resp, delivery) = h.handle(now, &req);
                    drop(reservation); // the body is handled: its bytes are free again
                    self.enqueue(now, resp, delivery, !keep);
                }
            }
        }
    }

    /// What the session is partway through reading, if anything.
    pub fn reading(&self) -> Option<Reading> {
        if self.stop_reading {
            return None;
        }
        match &self.phase {
            Phase::Head => self.head_since.map(Reading::Head),
            Phase::Body { since, .. } | Phase::Skip { since, .. } => Some(Reading::Body(*since)),
        }
    }

    fn enqueue(&mut self, now: Nanos, resp: Response, delivery: Delivery, close: bool) {
        let mut bytes = resp.to_bytes(close);
        let (ready_at, reset) = match delivery {
            Delivery::Now => (now, false),
            Delivery::At(t) => (t.max(now), false),
            Delivery::ResetAfter(n) => {
                bytes.truncate(n);
                (now, true)
            }
        };
        if close || reset {
            self.stop_reading = true;
        }
        self.queued_bytes += bytes.len();
        self.queue.push_back(Pending {
            ready_at,
            bytes,
            close,
            reset,
        });
    }

    /// The next response ready at `now`, in order; sets the close/reset flags it carries.
    pub fn take_ready(&mut self, now: Nanos) -> Option<Vec<u8>> {
        if self.queue.front()?.ready_at > now {
            return None;
        }
        let p = self.queue.pop_front()?;
        self.queued_bytes -= p.bytes.len();
        self.close_after_flush |= p.close;
        self.reset_after_flush |= p.reset;
        Some(p.bytes)
    }

    /// When the head of the queue becomes ready, if it is waiting.
    pub fn next_wakeup(&self) -> Option<Nanos> {
        self.queue.front().map(|p| p.ready_at)
    }

    /// Whether responses are still queued.
    pub fn has_pending(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Whether complete or partial requests wait in the parser (held back while responses
    /// were queued).
    pub fn has_buffered_requests(&self) -> bool {
        !self.stop_reading && self.parser.buffered() > 0
    }

    /// The peer closed its side: close once everything queued has gone out.
    pub fn on_eof(&mut self) {
        self.peer_eof = true;
        self.stop_reading = true;
    }

    /// Whether the session has nothing more to send and should end (close).
    pub fn done(&self) -> bool {
        self.queue.is_empty() && (self.close_after_flush || self.peer_eof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pipelined_requests_split_anywhere() {
        let wire = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /x?y=1 HTTP/1.0\r\n\r\n";
        for split in 0..wire.len() {
            let mut p = RequestParser::default();
            let mut got = Vec::new();
            for chunk in [&wire[..split], &wire[split..]] {
                assert_eq!(p.push(chunk), chunk.len());
                while let Some(r) = p.next_request().unwrap() {
                    got.push(r);
                }
            }
            assert_eq!(got.len(), 2, "split at {split}");
            assert_eq!(got[0].body, b"hello");
            assert!(got[0].keep_alive());
            assert_eq!(got[1].target, "/x?y=1");
            assert!(!got[1].keep_alive());
            assert_eq!(p.buffered(), 0);
        }
    }

    #[test]
    fn refuses_bad_requests_with_clear_errors() {
        let cases: &[(&[u8], u16)] = &[
            (b"BLAH\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                400,
            ),
            (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
                413,
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                400,
            ),
        ];
        for (wire, status) in cases {
            let mut p = RequestParser::default();
            p.push(wire);
            let e = p.next_request().unwrap_err();
            assert_eq!(e.status, *status, "{}", String::from_utf8_lossy(wire));
        }
        let mut p = RequestParser::default();
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..70 {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        p.push(&many);
        assert_eq!(p.next_request().unwrap_err().status, 431);
        let mut p = RequestParser::default();
        p.push(b"GET / HTTP/1.1\r\nX: ");
        p.push(&vec![b'a'; MAX_HEAD_BYTES]);
        assert_eq!(p.next_request().unwrap_err().status, 431);
    }
}
