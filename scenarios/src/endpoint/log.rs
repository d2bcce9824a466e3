//! The request log: one record per request (kept in memory, all of them or the last N, and
//! optionally written as JSON lines), with signatures, credentials and session tokens
//! redacted from headers, query strings and messages.

use std::collections::{BTreeMap, VecDeque};
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

/// Query parameters whose values are secret or identify a secret (presigned URLs).
const SECRET_QUERY_PARAMS: [&str; 3] = [
    "x-amz-signature",
    "x-amz-security-token",
    "x-amz-credential",
];

/// Replaces the value after every `Signature=` (any case, so `signature=` and
/// `X-Amz-Signature=` too) with `<redacted>`: up to the next separator (`,`, `&`, `;`,
/// whitespace or a quote).
pub fn redact_signatures(s: &str) -> String {
    const KEY: &str = "signature=";
    let lower = s.to_ascii_lowercase(); // ASCII case folding keeps byte offsets
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    while let Some(i) = lower[pos..].find(KEY) {
        let value = pos + i + KEY.len();
        out.push_str(&s[pos..value]);
        let end = s[value..]
            .find(|c: char| matches!(c, ',' | '&' | ';' | '"' | '\'') || c.is_whitespace())
            .map_or(s.len(), |e| value + e);
        if end > value {
            out.push_str("<redacted>");
        }
        pos = end;
    }
    out.push_str(&s[pos..]);
    out
}

/// A request target with the values of `X-Amz-Signature`, `X-Amz-Security-Token` and
/// `X-Amz-Credential` (any case) in its query string replaced by `<redacted>`.
pub fn redact_target(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return redact_signatures(target);
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if SECRET_QUERY_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                format!("{k}=<redacted>")
            }
            _ => p.to_string(),
        })
        .collect();
    redact_signatures(&format!("{path}?{}", params.join("&")))
}

/// Counts over every request, kept or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    /// Requests answered (including those refused before parsing completed).
    pub total: u64,
    /// Records dropped from memory to keep within the limit.
    pub evicted: u64,
    /// Requests by HTTP status answered.
    pub by_status: BTreeMap<u16, u64>,
}

/// The in-memory records: all of them, or a ring of the last `keep`.
#[derive(Debug)]
pub(crate) struct RequestLog {
    records: VecDeque<RequestRecord>,
    keep: Option<usize>,
    stats: RequestStats,
}

impl RequestLog {
    pub fn new(keep: Option<usize>) -> RequestLog {
        RequestLog {
            records: VecDeque::new(),
            keep,
            stats: RequestStats::default(),
        }
    }

    pub fn push(&mut self, rec: RequestRecord) {
        self.stats.total += 1;
        *self.stats.by_status.entry(rec.status).or_default() += 1;
        if let Some(keep) = self.keep {
            while self.records.len() >= keep.max(1) {
                self.records.pop_front();
                self.stats.evicted += 1;
            }
            if keep == 0 {
                self.stats.evicted += 1;
                return;
            }
        }
        self.records.push_back(rec);
    }

    pub fn records(&self) -> Vec<RequestRecord> {
        self.records.iter().cloned().collect()
    }

    pub fn stats(&self) -> &RequestStats {
        &self.stats
    }
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
        r.path = redact_target(&req.target);
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
    fn query_string_secrets_are_redacted_in_the_path() {
        let t = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDSECRETISH%2F20240101%2Fus-east-1&X-Amz-Date=20240101T000000Z&x-amz-security-token=FQoGZXIvYXdzE&X-Amz-Signature=0123abcd&a=1";
        let r = redact_target(t);
        assert_eq!(
            r,
            "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>&X-Amz-Date=20240101T000000Z&x-amz-security-token=<redacted>&X-Amz-Signature=<redacted>&a=1"
        );
        for secret in ["AKIDSECRETISH", "FQoGZXIvYXdzE", "0123abcd"] {
            assert!(!r.contains(secret), "{r}");
        }
        assert_eq!(redact_target("/plain/path"), "/plain/path");
        assert_eq!(redact_target("/?a=1&b"), "/?a=1&b");
    }

    fn record(status: u16) -> RequestRecord {
        let mut r = RequestRecord::empty(0, "id");
        r.status = status;
        r
    }

    #[test]
    fn the_ring_keeps_the_last_records_and_counts_them_all() {
        let mut log = RequestLog::new(Some(3));
        for i in 0..10u16 {
            log.push(record(200 + i % 2 * 200));
        }
        assert_eq!(log.records().len(), 3);
        assert_eq!(log.stats().total, 10);
        assert_eq!(log.stats().evicted, 7);
        assert_eq!(log.stats().by_status, BTreeMap::from([(200, 5), (400, 5)]));
        let mut none = RequestLog::new(Some(0));
        none.push(record(200));
        assert!(none.records().is_empty());
        assert_eq!(none.stats().total, 1);
        let mut all = RequestLog::new(None);
        for _ in 0..1000 {
            all.push(record(200));
        }
        assert_eq!(all.records().len(), 1000);
        assert_eq!(all.stats().evicted, 0);
    }

    #[test]
    fn redacts_signatures_and_ids_are_deterministic() {
        assert_eq!(
            redact_signatures(
                "AWS4-HMAC-SHA256 Credential=A/B, SignedHeaders=host, Signature=abcdef0123"
            ),
            "AWS4-HMAC-SHA256 Credential=A/B, SignedHeaders=host, Signature=<redacted>"
        );
        assert_eq!(redact_signatures("no sig"), "no sig");
        // Any case, any value up to the next separator.
        assert_eq!(
            redact_signatures(
                "aws4-hmac-sha256 credential=A/B, signedheaders=host, signature=zz99"
            ),
            "aws4-hmac-sha256 credential=A/B, signedheaders=host, signature=<redacted>"
        );
        assert_eq!(
            redact_signatures("SIGNATURE=ab, x"),
            "SIGNATURE=<redacted>, x"
        );
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
