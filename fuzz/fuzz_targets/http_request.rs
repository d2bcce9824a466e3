//! The endpoint's HTTP/1.1 request parser and connection session on arbitrary bytes.
//!
//! Asserts: no panic; the same requests (and whether an error ends them) whether the bytes
//! arrive at once or in arbitrary pieces; every parsed request, serialised again, parses back
//! to itself; a session answers every request it parsed, plus one refusal for an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarios::endpoint::http::{
    Delivery, Handler, HttpError, Request, RequestParser, Response, Session, MAX_HEAD_BYTES,
};

/// Everything the parser yields until it wants more bytes or refuses.
fn drain(p: &mut RequestParser, out: &mut Vec<Request>) -> Option<HttpError> {
    loop {
        match p.next_request() {
            Ok(Some(r)) => out.push(r),
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

fn parse_chunks<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> (Vec<Request>, Option<HttpError>) {
    let mut p = RequestParser::default();
    let mut out = Vec::new();
    for c in chunks {
        assert_eq!(p.push(c), c.len(), "small inputs always fit");
        if let Some(e) = drain(&mut p, &mut out) {
            return (out, Some(e));
        }
    }
    (out, None)
}

fn serialise(r: &Request) -> Vec<u8> {
    let mut w = format!("{} {} HTTP/1.{}\r\n", r.method, r.target, r.minor_version).into_bytes();
    for (n, v) in &r.headers {
        w.extend_from_slice(n.as_bytes());
        w.extend_from_slice(b": ");
        w.extend_from_slice(v);
        w.extend_from_slice(b"\r\n");
    }
    w.extend_from_slice(b"\r\n");
    w.extend_from_slice(&r.body);
    w
}

/// Answers each request with its body, so responses can be counted.
struct Echo;

impl Handler for Echo {
    fn handle(&self, _now: u64, req: &Request) -> (Response, Delivery) {
        let mut r = Response::text(200, "");
        r.body = req.body.clone();
        (r, Delivery::Now)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&stride, wire)) = data.split_first() else {
        return;
    };
    let (whole, whole_err) = parse_chunks(std::iter::once(wire));
    let (pieces, pieces_err) = parse_chunks(wire.chunks(stride.max(1) as usize));
    assert_eq!(whole, pieces, "requests depend on how the bytes were split");
    assert_eq!(whole_err.is_some(), pieces_err.is_some());
    if wire.len() <= MAX_HEAD_BYTES {
        assert_eq!(whole_err, pieces_err);
    }
    for r in &whole {
        let again = serialise(r);
        let (back, err) = parse_chunks(std::iter::once(again.as_slice()));
        assert_eq!(err, None, "a parsed request serialises to a valid one");
        assert_eq!(
            back.as_slice(),
            std::slice::from_ref(r),
            "parse(print(x)) != x"
        );
    }

    let mut s = Session::default();
    let mut consumed = 0;
    let mut answers = 0;
    for c in wire.chunks(stride.max(1) as usize) {
        consumed += s.on_data(0, c, &Echo);
        while let Some(bytes) = s.take_ready(0) {
            assert!(
                bytes.starts_with(b"HTTP/1.1 "),
                "every answer is a response"
            );
            answers += 1;
        }
    }
    s.on_eof();
    assert_eq!(consumed, wire.len());
    // A `Connection: close` request ends reading early, so a session may answer fewer.
    assert!(answers <= whole.len() + usize::from(whole_err.is_some()));
    if whole.iter().all(Request::keep_alive) {
        assert_eq!(answers, whole.len() + usize::from(whole_err.is_some()));
    }
    assert!(s.done());
});
