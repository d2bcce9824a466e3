//! The SigV4 verifier against AWS's published test vectors, against requests signed by the
//! independent `aws-sigv4` crate, and against tampered requests (each field changed ⇒ the
//! error DynamoDB gives).

mod common;

use std::path::PathBuf;

use common::aws_sign;
use scenarios::endpoint::sigv4::{
    authorization, canonical_request, hex, string_to_sign, AuthErrorKind, RequestView, Verifier,
};
use scenarios::endpoint::time::parse_amz_date;
use scenarios::endpoint::Credentials;
use sha2::{Digest, Sha256};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/sigv4")
}

/// Suite cases the shared directory lacks (`get-header-value-multiline`).
fn extra_vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../firmware/aws/tests/vectors")
}

/// A `.req` file: request line, `Name:value` headers (LF-separated), blank line, body.
type Headers = Vec<(String, Vec<u8>)>;

fn parse_req(text: &str) -> (String, String, Headers, Vec<u8>) {
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h, b.as_bytes().to_vec()),
        None => (text, Vec::new()),
    };
    let mut lines = head.lines();
    let first = lines.next().unwrap();
    let method = first.split(' ').next().unwrap().to_string();
    let target = first[method.len() + 1..first.rfind(" HTTP/").unwrap()].to_string();
    let mut headers: Headers = Vec::new();
    for l in lines {
        if l.starts_with([' ', '\t']) {
            // Obsolete line folding: the line continues the previous value, joined by a space.
            let (_, v) = headers.last_mut().expect("a folded line after a header");
            v.truncate(v.trim_ascii_end().len());
            v.push(b' ');
            v.extend_from_slice(l.trim_start().as_bytes());
        } else {
            let (k, v) = l.split_once(':').unwrap();
            headers.push((k.to_string(), v.as_bytes().to_vec()));
        }
    }
    (method, target, headers, body)
}

#[test]
fn verifies_the_aws_test_vectors_and_rebuilds_their_canonical_requests() {
    let list = |dir: &PathBuf| -> Vec<(PathBuf, String)> {
        let mut cases: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("SigV4 vectors missing at {}: {e}", dir.display()))
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| (dir.clone(), e.file_name().into_string().unwrap()))
            .collect();
        cases.sort();
        cases
    };
    let mut cases = list(&vectors_dir());
    assert_eq!(cases.len(), 10, "{cases:?}");
    // The suite's cases kept in the repository (folded header lines).
    let extra = list(&extra_vectors_dir());
    assert!(
        extra.iter().any(|(_, c)| c == "get-header-value-multiline"),
        "{extra:?}"
    );
    cases.extend(extra);
    let now = parse_amz_date("20150830T123600Z").unwrap();
    for (dir, case) in &cases {
        let path = |ext: &str| dir.join(case).join(format!("{case}.{ext}"));
        let read = |ext: &str| std::fs::read_to_string(path(ext)).unwrap();
        let (method, target, mut headers, body) = parse_req(&read("req"));
        // The session-token case carries its token only in the signed request (.sreq; the
        // repository's cases have none).
        if let Some(t) = std::fs::read_to_string(path("sreq"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("X-Amz-Security-Token:"))
        {
            headers.push(("X-Amz-Security-Token".into(), t.as_bytes().to_vec()));
        }
        let token = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-security-token"))
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap());
        let cred = Credentials {
            session_token: token,
            ..Credentials::test_key()
        };
        let authz = read("authz");
        // The canonical request and string to sign, exactly as published.
        let signed: Vec<String> = authz
            .split("SignedHeaders=")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .split(';')
            .map(String::from)
            .collect();
        let signed: Vec<&str> = signed.iter().map(String::as_str).collect();
        let view = RequestView {
            method: &method,
            target: &target,
            headers: &headers,
            body: &body,
        };
        let creq = canonical_request(&view, &signed, &hex(&Sha256::digest(&body))).unwrap();
        assert_eq!(
            String::from_utf8(creq.clone()).unwrap(),
            read("creq"),
            "{case}: canonical request"
        );
        let scope = "20150830/us-east-1/service/aws4_request";
        assert_eq!(
            string_to_sign("20150830T123600Z", scope, &creq),
            read("sts"),
            "{case}: string to sign"
        );

        headers.push(("Authorization".into(), authz.clone().into_bytes()));
        let view = RequestView {
            method: &method,
            target: &target,
            headers: &headers,
            body: &body,
        };
        let creds = [cred.clone()];
        let v = Verifier {
            region: "us-east-1",
            service: "service",
            credentials: &creds,
        };
        let ok = v.verify(&view, now);
        assert!(ok.is_ok(), "{case}: {ok:?}");
        // Our signer produces the published Authorization too.
        let unsigned: Vec<_> = headers
            .iter()
            .filter(|(k, _)| k != "Authorization")
            .cloned()
            .collect();
        let uview = RequestView {
            headers: &unsigned,
            ..view
        };
        assert_eq!(
            authorization(&uview, &cred, "us-east-1", "service", "20150830T123600Z"),
            authz,
            "{case}"
        );
        // The same request is not valid for DynamoDB's scope.
        let v = Verifier {
            service: "dynamodb",
            ..v
        };
        assert_eq!(
            v.verify(&view, now).unwrap_err().kind,
            AuthErrorKind::InvalidSignature,
            "{case}"
        );
    }
}

const URL: &str = "https://dynamodb.us-east-1.amazonaws.com/";
const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn base_headers(body: &[u8]) -> Vec<(String, String)> {
    common::dynamo_headers("PutItem", body)
}

/// Headers of a request signed by aws-sigv4 with the given parameters.
fn signed(
    cred: &Credentials,
    scope: (&str, &str),
    unix: i64,
    body: &[u8],
) -> Vec<(String, Vec<u8>)> {
    let mut h = base_headers(body);
    h.extend(aws_sign(
        cred,
        scope,
        unix as u64,
        "POST",
        URL,
        &h.clone(),
        body,
    ));
    h.into_iter().map(|(k, v)| (k, v.into_bytes())).collect()
}

fn verify(
    creds: &[Credentials],
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    now: i64,
) -> Result<(), (AuthErrorKind, String)> {
    let view = RequestView {
        method: "POST",
        target: "/",
        headers,
        body,
    };
    Verifier {
        region: "us-east-1",
        service: "dynamodb",
        credentials: creds,
    }
    .verify(&view, now)
    .map(|_| ())
    .map_err(|e| (e.kind, e.message))
}

fn set(headers: &mut [(String, Vec<u8>)], name: &str, value: &str) {
    let h = headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .unwrap();
    h.1 = value.as_bytes().to_vec();
}

fn get(headers: &[(String, Vec<u8>)], name: &str) -> String {
    let h = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .unwrap();
    String::from_utf8(h.1.clone()).unwrap()
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

#[test]
fn accepts_what_aws_sigv4_signs() {
    let key = Credentials::test_key();
    let other = Credentials::new("AKIAOTHER", "another/secret+key");
    let creds = [key.clone(), other.clone()];
    for (i, body) in [
        &b"{}"[..],
        b"",
        br#"{"TableName":"SensorReadings","Item":{"deviceId":{"S":"caf\u00e9"}}}"#,
        &[b'x'; 70_000][..],
    ]
    .iter()
    .enumerate()
    {
        for cred in [&key, &other] {
            let h = signed(cred, ("us-east-1", "dynamodb"), NOW + i as i64, body);
            assert_eq!(verify(&creds, &h, body, NOW), Ok(()), "body {i}");
        }
    }
    // Extra headers with odd whitespace and case, and a query string.
    let mut h = base_headers(b"{}");
    h.push(("X-Custom".into(), "  a   b\tc  ".into()));
    h.push(("X-Amz-Target".into(), "DynamoDB_20120810.GetItem".into()));
    h.retain(|(k, _)| k != "x-amz-target");
    let url = "https://dynamodb.us-east-1.amazonaws.com/?b=2&a=%2F1";
    h.extend(aws_sign(
        &key,
        ("us-east-1", "dynamodb"),
        NOW as u64,
        "POST",
        url,
        &h.clone(),
        b"{}",
    ));
    let hb: Vec<(String, Vec<u8>)> = h.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    let view = RequestView {
        method: "POST",
        target: "/?b=2&a=%2F1",
        headers: &hb,
        body: b"{}",
    };
    let r = Verifier {
        region: "us-east-1",
        service: "dynamodb",
        credentials: &creds,
    }
    .verify(&view, NOW);
    assert!(r.is_ok(), "{r:?}");
    // Skew within five minutes either way is fine.
    for d in [-299, 299] {
        let h = signed(&key, ("us-east-1", "dynamodb"), NOW + d, b"{}");
        assert_eq!(verify(&creds, &h, b"{}", NOW), Ok(()), "skew {d}");
    }
}

#[test]
fn every_tampered_field_gets_dynamodbs_error() {
    use AuthErrorKind::*;
    let key = Credentials::test_key();
    let creds = [key.clone()];
    let body = br#"{"TableName":"SensorReadings"}"#;
    let good = signed(&key, ("us-east-1", "dynamodb"), NOW, body);
    assert_eq!(verify(&creds, &good, body, NOW), Ok(()));
    let err = |h: &[(String, Vec<u8>)], b: &[u8]| verify(&creds, h, b, NOW).unwrap_err();

    // Body, signed header, signature, secret.
    assert_eq!(
        err(&good, br#"{"TableName":"SensorReadingz"}"#),
        (InvalidSignature, MISMATCH.into())
    );
    let mut h = good.clone();
    set(&mut h, "x-amz-target", "DynamoDB_20120810.DeleteTable");
    assert_eq!(err(&h, body), (InvalidSignature, MISMATCH.into()));
    let mut h = good.clone();
    let auth = get(&h, "authorization");
    let last = auth.chars().last().unwrap();
    let flipped = format!(
        "{}{}",
        &auth[..auth.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    set(&mut h, "authorization", &flipped);
    assert_eq!(err(&h, body), (InvalidSignature, MISMATCH.into()));
    let wrong = signed(
        &Credentials {
            secret_access_key: "wrong".into(),
            ..key.clone()
        },
        ("us-east-1", "dynamodb"),
        NOW,
        body,
    );
    assert_eq!(err(&wrong, body), (InvalidSignature, MISMATCH.into()));

    // Unknown key.
    let h = signed(
        &Credentials::new("AKIAUNKNOWN", "x"),
        ("us-east-1", "dynamodb"),
        NOW,
        body,
    );
    assert_eq!(
        err(&h, body),
        (
            UnrecognizedClient,
            "The security token included in the request is invalid.".into()
        )
    );

    // Scope: region, service, date, terminator.
    let h = signed(&key, ("us-west-2", "dynamodb"), NOW, body);
    assert_eq!(
        err(&h, body),
        (
            InvalidSignature,
            "Credential should be scoped to a valid region, not 'us-west-2'. ".into()
        )
    );
    let h = signed(&key, ("us-east-1", "s3"), NOW, body);
    assert_eq!(
        err(&h, body),
        (
            InvalidSignature,
            "Credential should be scoped to correct service: 'dynamodb'. ".into()
        )
    );
    let mut h = good.clone();
    set(
        &mut h,
        "authorization",
        &get(&good, "authorization").replace("/20260101/", "/20251231/"),
    );
    assert_eq!(
        err(&h, body),
        (InvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != '20260101', from '20260101T000000Z'.".into())
    );
    let mut h = good.clone();
    set(
        &mut h,
        "authorization",
        &get(&good, "authorization").replace("aws4_request", "aws5_request"),
    );
    assert_eq!(
        err(&h, body).1,
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "
    );

    // Time window.
    let h = signed(&key, ("us-east-1", "dynamodb"), NOW - 360, body);
    assert_eq!(
        err(&h, body),
        (InvalidSignature, "Signature expired: 20251231T235400Z is now earlier than 20251231T235500Z (20260101T000000Z - 5 min.)".into())
    );
    let h = signed(&key, ("us-east-1", "dynamodb"), NOW + 360, body);
    assert_eq!(
        err(&h, body),
        (InvalidSignature, "Signature not yet current: 20260101T000600Z is still later than 20260101T000500Z (20260101T000000Z + 5 min.)".into())
    );
    let mut h = good.clone();
    set(&mut h, "x-amz-date", "2026-01-01T00:00:00Z");
    assert!(err(&h, body)
        .1
        .starts_with("Date must be in ISO-8601 'basic format'. Got '2026-01-01T00:00:00Z'"));

    // Malformed or incomplete Authorization headers.
    let h: Vec<_> = good
        .iter()
        .filter(|(k, _)| k != "authorization")
        .cloned()
        .collect();
    assert_eq!(
        err(&h, body),
        (
            MissingAuthenticationToken,
            "Request is missing Authentication Token".into()
        )
    );
    let auth = get(&good, "authorization");
    let no_sig = auth[..auth.find(", Signature=").unwrap()].to_string();
    let mut h = good.clone();
    set(&mut h, "authorization", &no_sig);
    assert_eq!(
        err(&h, body),
        (
            IncompleteSignature,
            format!("Authorization header requires 'Signature' parameter. Authorization={no_sig}")
        )
    );
    let mut h = good.clone();
    set(
        &mut h,
        "authorization",
        &auth.replace("Credential=", "Credential "),
    );
    assert!(err(&h, body)
        .1
        .contains("not a valid key=value pair (missing equal-sign) in Authorization header"));
    let mut h = good.clone();
    set(
        &mut h,
        "authorization",
        &auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
    );
    assert_eq!(err(&h, body).0, IncompleteSignature);
    let mut h = good.clone();
    set(
        &mut h,
        "authorization",
        &auth.replace("Credential=AKIDEXAMPLE/", "Credential="),
    );
    assert!(err(&h, body)
        .1
        .starts_with("Credential must have exactly 5 slash-delimited elements"));
    let mut h = good.clone();
    set(
        &mut h,
        "authorization",
        &auth.replace(
            "SignedHeaders=content-length;content-type;host;",
            "SignedHeaders=content-length;content-type;",
        ),
    );
    assert_eq!(
        err(&h, body),
        (
            IncompleteSignature,
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".into()
        )
    );
    let mut h = good.clone();
    set(
        &mut h,
        "authorization",
        &auth.replace("SignedHeaders=", "SignedHeaders=x-missing;"),
    );
    assert_eq!(
        err(&h, body),
        (
            IncompleteSignature,
            "'x-missing' is named as a SignedHeader, but it does not exist in the HTTP request."
                .into()
        )
    );
    let h: Vec<_> = good
        .iter()
        .filter(|(k, _)| k != "x-amz-date")
        .cloned()
        .collect();
    assert!(err(&h, body).1.contains(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    ));

    // A payload hash header that does not match the body.
    let mut h = good.clone();
    h.push((
        "x-amz-content-sha256".into(),
        hex(&Sha256::digest(b"other")).into_bytes(),
    ));
    assert_eq!(err(&h, body).0, InvalidSignature);
}

#[test]
fn session_tokens_must_match_and_be_signed() {
    use AuthErrorKind::*;
    let temp = Credentials {
        session_token: Some("FwoGZXIvYXdzEJr//token".into()),
        ..Credentials::new("ASIATEMP", "tempsecret")
    };
    let creds = [temp.clone(), Credentials::test_key()];
    let body = b"{}";
    let ok = signed(&temp, ("us-east-1", "dynamodb"), NOW, body);
    assert_eq!(get(&ok, "x-amz-security-token"), "FwoGZXIvYXdzEJr//token");
    assert_eq!(verify(&creds, &ok, body, NOW), Ok(()));
    let unrecognized = (
        UnrecognizedClient,
        "The security token included in the request is invalid.".to_string(),
    );
    // Without the token, or with another one (re-signed, so only the token is wrong).
    let none = signed(
        &Credentials {
            session_token: None,
            ..temp.clone()
        },
        ("us-east-1", "dynamodb"),
        NOW,
        body,
    );
    assert_eq!(verify(&creds, &none, body, NOW), Err(unrecognized.clone()));
    let other = signed(
        &Credentials {
            session_token: Some("other".into()),
            ..temp.clone()
        },
        ("us-east-1", "dynamodb"),
        NOW,
        body,
    );
    assert_eq!(verify(&creds, &other, body, NOW), Err(unrecognized.clone()));
    // A token on a long-term key.
    let extra = signed(
        &Credentials {
            session_token: Some("x".into()),
            ..Credentials::test_key()
        },
        ("us-east-1", "dynamodb"),
        NOW,
        body,
    );
    assert_eq!(verify(&creds, &extra, body, NOW), Err(unrecognized));
    // A token that is sent but not signed.
    let mut h = ok.clone();
    let auth = get(&ok, "authorization").replace(";x-amz-security-token", "");
    set(&mut h, "authorization", &auth);
    assert_eq!(
        verify(&creds, &h, body, NOW).unwrap_err().0,
        IncompleteSignature
    );
}

#[test]
fn a_signed_date_header_works_instead_of_x_amz_date() {
    let key = Credentials::test_key();
    let mut h: Vec<(String, Vec<u8>)> = base_headers(b"{}")
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    h.push(("Date".into(), b"Thu, 01 Jan 2026 00:00:00 GMT".to_vec()));
    let view = RequestView {
        method: "POST",
        target: "/",
        headers: &h,
        body: b"{}",
    };
    let auth = authorization(&view, &key, "us-east-1", "dynamodb", "20260101T000000Z");
    h.push(("Authorization".into(), auth.into_bytes()));
    assert_eq!(
        verify(std::slice::from_ref(&key), &h, b"{}", NOW + 10),
        Ok(())
    );
    assert!(verify(&[key], &h, b"{}", NOW + 301)
        .unwrap_err()
        .1
        .starts_with("Signature expired"));
}
