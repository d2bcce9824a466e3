//! SigV4: `Authorization` header parsing and signature verification on arbitrary requests, and
//! the canonical request built from arbitrary method, path, query and headers.
//!
//! Input: an HTTP request as it arrives (the endpoint's parser reads it); the endpoint's clock
//! is the request's own `X-Amz-Date` when it has a valid one, so real signed requests verify.
//! Bytes that are not a request are used as the `Authorization` value of a fixed request.
//!
//! Asserts: no panic; once re-signed with the test key, the same method, target, headers and
//! body verify (sign, then verify, is the identity); a signature made with another secret is
//! refused as a mismatch; the canonical path and query are a fixed point (canonicalising them
//! again changes nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarios::endpoint::http::{Request, RequestParser};
use scenarios::endpoint::sigv4::{
    authorization, canonical_request, AuthErrorKind, RequestView, Verifier,
};
use scenarios::endpoint::time::{format_amz_date, parse_amz_date};
use scenarios::endpoint::Credentials;

/// 2015-08-30T12:36:00Z, the date of AWS's SigV4 examples.
const DEFAULT_NOW: i64 = 1_440_938_160;

/// Headers the round trip sets itself.
const OWN: &[&str] = &[
    "authorization",
    "host",
    "x-amz-date",
    "date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

fn view(r: &Request) -> RequestView<'_> {
    RequestView {
        method: &r.method,
        target: &r.target,
        headers: &r.headers,
        body: &r.body,
    }
}

fn with_auth(r: &Request, auth: String) -> Request {
    let mut r = r.clone();
    r.headers.push(("Authorization".into(), auth.into_bytes()));
    r
}

fuzz_target!(|data: &[u8]| {
    let creds = [Credentials::test_key()];
    let verifier = Verifier {
        region: "us-east-1",
        service: "dynamodb",
        credentials: &creds,
    };
    let mut parser = RequestParser::default();
    parser.push(data);
    let Ok(Some(req)) = parser.next_request() else {
        // Not a request: the bytes are an Authorization value.
        let r = Request {
            method: "POST".into(),
            target: "/".into(),
            minor_version: 1,
            headers: vec![
                ("Host".into(), b"localhost".to_vec()),
                (
                    "X-Amz-Date".into(),
                    format_amz_date(DEFAULT_NOW).into_bytes(),
                ),
                ("Authorization".into(), data.to_vec()),
            ],
            body: Vec::new(),
        };
        let _ = verifier.verify(&view(&r), DEFAULT_NOW);
        return;
    };
    let now = req
        .header("x-amz-date")
        .and_then(parse_amz_date)
        .unwrap_or(DEFAULT_NOW);

    // 1. As it came: an answer, never a panic.
    let _ = verifier.verify(&view(&req), now);
    let names: Vec<String> = req
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let _ = canonical_request(&view(&req), &names, "UNSIGNED-PAYLOAD");

    // 2. Re-signed with the test key: it verifies.
    let stamp = format_amz_date(now);
    let mut base = req.clone();
    base.headers
        .retain(|(n, _)| !OWN.contains(&n.to_ascii_lowercase().as_str()));
    base.headers
        .push(("Host".into(), b"dynamodb.us-east-1.amazonaws.com".to_vec()));
    base.headers
        .push(("X-Amz-Date".into(), stamp.clone().into_bytes()));
    let auth = authorization(&view(&base), &creds[0], "us-east-1", "dynamodb", &stamp);
    let signed = with_auth(&base, auth);
    if let Err(e) = verifier.verify(&view(&signed), now) {
        panic!("a request signed with the test key is refused: {e:?}");
    }

    // A signature made with another secret is a mismatch.
    let other = Credentials::new("AKIDEXAMPLE", "not-the-secret");
    let wrong = authorization(&view(&base), &other, "us-east-1", "dynamodb", &stamp);
    let err = verifier
        .verify(&view(&with_auth(&base, wrong)), now)
        .expect_err("a signature made with another secret verifies");
    assert_eq!(err.kind, AuthErrorKind::InvalidSignature);
    assert!(err.message.contains("does not match"), "{err:?}");

    // 3. The canonical path and query are a fixed point of canonicalisation.
    let creq = canonical_request(&view(&base), &[], "-").expect("no signed headers to miss");
    let text = String::from_utf8(creq).expect("canonical requests are text");
    let lines: Vec<&str> = text.splitn(4, '\n').collect();
    let mut again = base.clone();
    again.target = format!("{}?{}", lines[1], lines[2]);
    let creq2 = canonical_request(&view(&again), &[], "-").unwrap();
    assert_eq!(
        text.as_bytes(),
        creq2.as_slice(),
        "canonicalisation is not idempotent"
    );
});
