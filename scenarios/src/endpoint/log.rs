//! The request log: one record per request (kept in memory, optionally written as JSON
//! lines), with signatures and session tokens redacted.

use std::io::Write;

use net_bridge::Nanos;
use serde::Serialize;

use super::faults::mix;
use super::http::Request;
use super::State;

/// Longest body kept in a record.
const MAX_LOGGED_BODY: usize = 8 * 1024;

/// One request as the endpoint saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// Virtual time of arrival, ns.
    pub time: Nanos,
    /// The `x-amzn-RequestId` answered.
    pub request_id: String,
    /// HTTP method.
    pub method: String,
    /// Request target.
    pub path: String,
    /// Operation from `X-Amz-Target` (`PutItem`, ...), empty if none.
    pub operation: String,
    /// HTTP status answered.
    pub status: u16,
    /// The error `__type`, if the answer was an error.
    pub error_type: Option<String>,
    /// `OK` or the error message (signatures redacted).
    pub verdict: String,
    /// The access key that signed, once verified.
    pub access_key_id: Option<String>,
    /// The injected fault, if one applied.
    pub fault: Option<String>,
    /// Headers, with the signature and session token redacted.
    pub headers: Vec<(String, String)>,
    /// The body as text (truncated to 8 KiB).
    pub body: String,
}

/// Replaces the hex after every `Signature=` with `<redacted>`.
pub fn redact_signatures(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("Signature=") {
        out.push_str(&rest[..i + 10]);
        rest = &rest[i + 10..];
        let end = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        if end > 0 {
            out.push_str("<redacted>");
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

impl RequestRecord {
    pub(crate) fn empty(now: Nanos, request_id: &str) -> RequestRecord {
        RequestRecord {
            time: now,
            request_id: request_id.into(),
            method: String::new(),
            path: String::new(),
            operation: String::new(),
            status: 0,
            error_type: None,
            verdict: String::new(),
            access_key_id: None,
            fault: None,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub(crate) fn new(now: Nanos, request_id: &str, req: &Request) -> RequestRecord {
        let mut r = Self::empty(now, request_id);
        r.method = req.method.clone();
        r.path = req.target.clone();
        r.headers = req
            .headers
            .iter()
            .map(|(n, v)| {
                let v = String::from_utf8_lossy(v);
                let v = if n.eq_ignore_ascii_case("x-amz-security-token") {
                    "<redacted>".to_string()
                } else {
                    redact_signatures(&v)
                };
                (n.clone(), v)
            })
            .collect();
        let body = &req.body[..req.body.len().min(MAX_LOGGED_BODY)];
        r.body = String::from_utf8_lossy(body).into_owned();
        r
    }

    pub(crate) fn finish(&mut self, status: u16, error_type: Option<String>, verdict: String) {
        self.status = status;
        self.error_type = error_type;
        self.verdict = redact_signatures(&verdict);
    }

    /// The record as one JSON line (no newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("records serialise")
    }
}

/// A DynamoDB-style request id (52 upper-case letters and digits), from the seed and index.
pub fn request_id(seed: u64, n: u64) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut x = mix(seed ^ mix(n));
    (0..52)
        .map(|i| {
            if i % 12 == 0 {
                x = mix(x ^ i as u64);
            }
            let c = ALPHA[(x % 36) as usize] as char;
            x /= 36;
            c
        })
        .collect()
}

pub(crate) fn emit(st: &mut State, rec: RequestRecord) {
    tracing::debug!(op = %rec.operation, status = rec.status, verdict = %rec.verdict, "request");
    if let Some(sink) = st.sink.as_mut() {
        // A failing log sink must not take the endpoint down; report it once per failure.
        if let Err(e) = writeln!(sink, "{}", rec.to_json_line()).and_then(|_| sink.flush()) {
            tracing::warn!(%e, "request log write failed");
        }
    }
    st.log.push(rec);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_signatures_and_ids_are_deterministic() {
        assert_eq!(
            redact_signatures(
                "AWS4-HMAC-SHA256 Credential=A/B, SignedHeaders=host, Signature=abcdef0123"
            ),
            "AWS4-HMAC-SHA256 Credential=A/B, SignedHeaders=host, Signature=<redacted>"
        );
        assert_eq!(redact_signatures("no sig"), "no sig");
        let a = request_id(1, 0);
        assert_eq!(a.len(), 52);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(a, request_id(1, 0));
        assert_ne!(a, request_id(1, 1));
        assert_ne!(a, request_id(2, 0));
    }
}
