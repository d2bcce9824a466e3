//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) verification as DynamoDB does it, and the
//! matching signer (used by tests and by in-process clients).
//!
//! The verifier rebuilds the canonical request from what arrived on the wire (method, URI
//! without double encoding, sorted query, the signed headers lower-cased with folded
//! whitespace, the payload hash), derives the signing key from the credential's secret and
//! compares signatures in constant time. Every refusal carries the `__type` and message text
//! the real service answers with, so clients' error handling sees what it would see in AWS.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::time::{format_amz_date, parse_amz_date, parse_http_date};
use super::Credentials;

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Largest accepted difference between the request's time and the endpoint's clock.
pub const MAX_SKEW_SECS: i64 = 300;
/// The credential scope's terminator.
pub const TERMINATOR: &str = "aws4_request";

/// The class of an authentication failure; each maps to one DynamoDB error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthErrorKind {
    /// No `Authorization` header at all.
    MissingAuthenticationToken,
    /// The header is malformed or lacks a required part.
    IncompleteSignature,
    /// Scope, time window or signature do not check out.
    InvalidSignature,
    /// Unknown access key, or a session token that does not belong to it.
    UnrecognizedClient,
}

impl AuthErrorKind {
    /// The `__type` DynamoDB puts in the error body.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => {
                "com.amazon.coral.service#MissingAuthenticationTokenException"
            }
            Self::IncompleteSignature => "com.amazon.coral.service#IncompleteSignatureException",
            Self::InvalidSignature => "com.amazon.coral.service#InvalidSignatureException",
            Self::UnrecognizedClient => "com.amazon.coral.service#UnrecognizedClientException",
        }
    }
}

/// Why a request was refused, with DynamoDB's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.type_name())]
pub struct AuthError {
    /// The class of failure.
    pub kind: AuthErrorKind,
    /// The message text as the service words it.
    pub message: String,
}

impl AuthError {
    fn new(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        AuthError {
            kind,
            message: message.into(),
        }
    }

    fn mismatch() -> Self {
        Self::new(
            AuthErrorKind::InvalidSignature,
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.",
        )
    }
}

/// The parts of an HTTP request that SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The request target as sent: path and optional `?query`.
    pub target: &'a str,
    /// Header names as sent and raw values, in arrival order.
    pub headers: &'a [(String, Vec<u8>)],
    /// The body.
    pub body: &'a [u8],
}

impl<'a> RequestView<'a> {
    /// All values of a header (case-insensitive name), in order.
    pub fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of a header as text, if present and UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name)
            .next()
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// A request that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Index of the matching entry in the verifier's credentials.
    pub credential_index: usize,
    /// The access key that signed.
    pub access_key_id: String,
}

/// Checks signatures for one region and service against a set of known credentials.
#[derive(Debug, Clone, Copy)]
pub struct Verifier<'a> {
    /// The region the endpoint serves (`us-east-1`).
    pub region: &'a str,
    /// The service name in the scope (`dynamodb`).
    pub service: &'a str,
    /// The known keys.
    pub credentials: &'a [Credentials],
}

struct ParsedAuth<'a> {
    key_id: &'a str,
    scope_date: &'a str,
    scope_region: &'a str,
    scope_service: &'a str,
    scope_term: &'a str,
    signed_headers: Vec<String>,
    signature: &'a str,
}

fn incomplete(msg: impl Into<String>) -> AuthError {
    AuthError::new(AuthErrorKind::IncompleteSignature, msg)
}

fn invalid(msg: impl Into<String>) -> AuthError {
    AuthError::new(AuthErrorKind::InvalidSignature, msg)
}

fn unrecognized() -> AuthError {
    AuthError::new(
        AuthErrorKind::UnrecognizedClient,
        "The security token included in the request is invalid.",
    )
}

fn parse_authorization<'a>(auth: &'a str, has_date: bool) -> Result<ParsedAuth<'a>, AuthError> {
    let (alg, rest) = auth.trim().split_once(' ').unwrap_or((auth.trim(), ""));
    if alg != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{alg}'. Authorization={auth}"
        )));
    }
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{auth}'."
            )));
        };
        match k.trim() {
            "Credential" => cred = Some(v.trim()),
            "SignedHeaders" => signed = Some(v.trim()),
            "Signature" => sig = Some(v.trim()),
            _ => {}
        }
    }
    let mut missing = String::new();
    if cred.is_none() {
        missing += "Authorization header requires 'Credential' parameter. ";
    }
    if sig.is_none() {
        missing += "Authorization header requires 'Signature' parameter. ";
    }
    if signed.is_none() {
        missing += "Authorization header requires 'SignedHeaders' parameter. ";
    }
    if !has_date {
        missing +=
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
    }
    if !missing.is_empty() {
        return Err(incomplete(format!("{missing}Authorization={auth}")));
    }
    let (cred, signed, signature) = (cred.unwrap_or(""), signed.unwrap_or(""), sig.unwrap_or(""));
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() != 5 {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{cred}'"
        )));
    }
    Ok(ParsedAuth {
        key_id: parts[0],
        scope_date: parts[1],
        scope_region: parts[2],
        scope_service: parts[3],
        scope_term: parts[4],
        signed_headers: signed.split(';').map(|h| h.to_ascii_lowercase()).collect(),
        signature,
    })
}

impl Verifier<'_> {
    /// Every check that does not need the body: the `Authorization` header's form, the signed
    /// headers present, the scope, a known key (and session token), the clock skew. A request
    /// that fails here fails [`Verifier::verify`] with the same error, so a server can refuse it
    /// before reading its body. `req.body` is not used.
    pub fn verify_head(&self, req: &RequestView<'_>, now_unix: i64) -> Result<(), AuthError> {
        self.check_head(req, now_unix).map(|_| ())
    }

    /// The checks of [`Verifier::verify_head`]; the parsed header, the key's index and the
    /// request's time stamp for the rest of [`Verifier::verify`].
    fn check_head<'r>(
        &self,
        req: &'r RequestView<'_>,
        now_unix: i64,
    ) -> Result<(ParsedAuth<'r>, usize, String), AuthError> {
        let Some(auth) = req.header("authorization") else {
            return Err(AuthError::new(
                AuthErrorKind::MissingAuthenticationToken,
                "Request is missing Authentication Token",
            ));
        };
        let amz_date = req.header("x-amz-date");
        let http_date = req.header("date");
        let p = parse_authorization(auth, amz_date.is_some() || http_date.is_some())?;

        // The request's time: X-Amz-Date wins over Date.
        let (req_time, date_header) = match (amz_date, http_date) {
            (Some(d), _) => (parse_amz_date(d), ("x-amz-date", d)),
            (None, Some(d)) => (parse_http_date(d), ("date", d)),
            (None, None) => unreachable!("checked by parse_authorization"),
        };
        let Some(req_time) = req_time else {
            return Err(incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                date_header.1
            )));
        };
        let stamp = format_amz_date(req_time);

        if !p.signed_headers.iter().any(|h| h == "host") {
            return Err(incomplete(
                "'Host' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        if !p.signed_headers.iter().any(|h| h == date_header.0) {
            let shown = if date_header.0 == "date" {
                "Date"
            } else {
                "X-Amz-Date"
            };
            return Err(incomplete(format!(
                "'{shown}' must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
        let token = req.header("x-amz-security-token");
        if token.is_some() && !p.signed_headers.iter().any(|h| h == "x-amz-security-token") {
            return Err(incomplete(
                "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        for h in &p.signed_headers {
            if req.header_values(h).next().is_none() {
                return Err(incomplete(format!(
                    "'{h}' is named as a SignedHeader, but it does not exist in the HTTP request."
                )));
            }
        }

        if p.scope_date != &stamp[..8] {
            return Err(invalid(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
                p.scope_date,
                &stamp[..8],
                date_header.1
            )));
        }
        if p.scope_region != self.region {
            return Err(invalid(format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                p.scope_region
            )));
        }
        if p.scope_service != self.service {
            return Err(invalid(format!(
                "Credential should be scoped to correct service: '{}'. ",
                self.service
            )));
        }
        if p.scope_term != TERMINATOR {
            return Err(invalid(format!(
                "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'. ",
                p.scope_term
            )));
        }

        let Some(idx) = self
            .credentials
            .iter()
            .position(|c| c.access_key_id == p.key_id)
        else {
            return Err(unrecognized());
        };
        match (&self.credentials[idx].session_token, token) {
            (None, None) => {}
            (Some(want), Some(got)) if bool::from(want.as_bytes().ct_eq(got.as_bytes())) => {}
            _ => return Err(unrecognized()),
        }

        if req_time < now_unix - MAX_SKEW_SECS {
            return Err(invalid(format!(
                "Signature expired: {stamp} is now earlier than {} ({} - 5 min.)",
                format_amz_date(now_unix - MAX_SKEW_SECS),
                format_amz_date(now_unix)
            )));
        }
        if req_time > now_unix + MAX_SKEW_SECS {
            return Err(invalid(format!(
                "Signature not yet current: {stamp} is still later than {} ({} + 5 min.)",
                format_amz_date(now_unix + MAX_SKEW_SECS),
                format_amz_date(now_unix)
            )));
        }
        Ok((p, idx, stamp))
    }

    /// Verifies `req` against the endpoint clock `now_unix` (unix seconds).
    pub fn verify(&self, req: &RequestView<'_>, now_unix: i64) -> Result<Verified, AuthError> {
        let (p, idx, stamp) = self.check_head(req, now_unix)?;
        let cred = &self.credentials[idx];
        let body_hash = hex(&Sha256::digest(req.body));
        let payload_hash =
            match req.header("x-amz-content-sha256") {
                Some(claimed) if claimed != body_hash => return Err(invalid(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                )),
                _ => body_hash,
            };
        let signed: Vec<&str> = p.signed_headers.iter().map(String::as_str).collect();
        let creq = canonical_request(req, &signed, &payload_hash)?;
        let scope = format!(
            "{}/{}/{}/{}",
            p.scope_date, p.scope_region, p.scope_service, p.scope_term
        );
        let sts = string_to_sign(&stamp, &scope, &creq);
        let key = signing_key(
            &cred.secret_access_key,
            p.scope_date,
            p.scope_region,
            p.scope_service,
        );
        let expected = hex(&hmac(&key, sts.as_bytes()));
        if !bool::from(expected.as_bytes().ct_eq(p.signature.as_bytes())) {
            return Err(AuthError::mismatch());
        }
        Ok(Verified {
            credential_index: idx,
            access_key_id: cred.access_key_id.clone(),
        })
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

/// The SigV4 signing key for a day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, TERMINATOR.as_bytes())
}

/// The string to sign for a canonical request.
pub fn string_to_sign(stamp: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{stamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request))
    )
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hexval = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn uri_encode(bytes: &[u8], keep_slash: bool, out: &mut String) {
    for &c in bytes {
        if c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && c == b'/')
        {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
}

/// The canonical URI and query of a request target (path not double-encoded, as DynamoDB).
fn canonical_target(target: &str) -> (String, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut cpath = String::new();
    uri_encode(
        &percent_decode(if path.is_empty() { "/" } else { path }),
        true,
        &mut cpath,
    );
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let (mut ek, mut ev) = (String::new(), String::new());
            uri_encode(&percent_decode(k), false, &mut ek);
            uri_encode(&percent_decode(v), false, &mut ev);
            (ek, ev)
        })
        .collect();
    params.sort();
    let cquery = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    (cpath, cquery)
}

/// Trims spaces and tabs at both ends and folds runs of spaces to one space (AWS's "trimall";
/// tabs inside a value are kept, as the AWS SDKs' signers keep them).
fn fold_value(v: &[u8], out: &mut Vec<u8>) {
    let is_ws = |c: &u8| *c == b' ' || *c == b'\t';
    let start = v.iter().position(|c| !is_ws(c)).unwrap_or(v.len());
    let end = v.iter().rposition(|c| !is_ws(c)).map_or(start, |e| e + 1);
    let mut prev_space = false;
    for &c in &v[start..end] {
        if c == b' ' && prev_space {
            continue;
        }
        prev_space = c == b' ';
        out.push(c);
    }
}

/// The canonical request for `signed` headers (lower-case names, in the given order).
pub fn canonical_request(
    req: &RequestView<'_>,
    signed: &[&str],
    payload_hash: &str,
) -> Result<Vec<u8>, AuthError> {
    let (path, query) = canonical_target(req.target);
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(path.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(query.as_bytes());
    out.push(b'\n');
    for h in signed {
        let mut any = false;
        out.extend_from_slice(h.as_bytes());
        out.push(b':');
        for v in req.header_values(h) {
            if any {
                out.push(b',');
            }
            any = true;
            fold_value(v, &mut out);
        }
        if !any {
            return Err(incomplete(format!(
                "'{h}' is named as a SignedHeader, but it does not exist in the HTTP request."
            )));
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    Ok(out)
}

/// Signs `req` (every header it carries is signed) and returns the `Authorization` value.
/// `stamp` is the `X-Amz-Date` the request carries.
pub fn authorization(
    req: &RequestView<'_>,
    cred: &Credentials,
    region: &str,
    service: &str,
    stamp: &str,
) -> String {
    let mut names: Vec<String> = req
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| n != "authorization")
        .collect();
    names.sort();
    names.dedup();
    let signed: Vec<&str> = names.iter().map(String::as_str).collect();
    let payload_hash = hex(&Sha256::digest(req.body));
    // Every name comes from the request itself, so none can be missing.
    let creq = canonical_request(req, &signed, &payload_hash).expect("headers present");
    let date = &stamp[..8.min(stamp.len())];
    let scope = format!("{date}/{region}/{service}/{TERMINATOR}");
    let sts = string_to_sign(stamp, &scope, &creq);
    let key = signing_key(&cred.secret_access_key, date, region, service);
    format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={}",
        cred.access_key_id,
        signed.join(";"),
        hex(&hmac(&key, sts.as_bytes()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_target_encodes_once_and_sorts_the_query() {
        assert_eq!(canonical_target("/"), ("/".into(), String::new()));
        assert_eq!(canonical_target(""), ("/".into(), String::new()));
        assert_eq!(
            canonical_target("/a%20b/c d?b=2&a=1&a=0&e"),
            ("/a%20b/c%20d".into(), "a=0&a=1&b=2&e=".into())
        );
        assert_eq!(
            canonical_target("/%E1%88%B4"),
            canonical_target("/\u{1234}")
        );
    }

    #[test]
    fn folds_header_whitespace() {
        let mut out = Vec::new();
        fold_value(b" \t \"a   b \t  c\"  \t", &mut out);
        assert_eq!(out, b"\"a b \t c\"");
    }
}
