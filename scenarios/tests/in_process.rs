//! The endpoint in-process on virtual time: a rustls client on a smoltcp guest talks HTTPS
//! through `UserNet` (DNS name → in-process service) and does DynamoDB calls.

mod common;

use common::*;
use scenarios::endpoint::{
    Credentials, Endpoint, EndpointConfig, Fault, FaultAction, FaultPlan, FaultTrigger, ServerKey,
};
use serde_json::json;

fn call(sim: &mut Sim, conn: &mut Conn, op: &str, body: serde_json::Value) -> Reply {
    let body = serde_json::to_vec(&body).unwrap();
    let req = signed_request(&Credentials::test_key(), sim.unix(), op, &body);
    conn.call(&mut sim.g, &req)
}

#[test]
fn https_create_put_get_through_the_gateway() {
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    let mut sim = Sim::new(ep.clone(), 1);
    let addr = sim.resolve(HOST).expect("DNS answer");
    assert_eq!(addr, ENDPOINT_IP);
    let mut conn = Conn::https(&mut sim, addr, HOST, &ep.ca_cert_der());

    let r = call(
        &mut sim,
        &mut conn,
        "CreateTable",
        json!({
            "TableName": "Things",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["TableDescription"]["TableStatus"], "ACTIVE");
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    assert_eq!(
        r.header("x-amz-crc32").unwrap(),
        crc32fast::hash(&r.body).to_string()
    );
    assert_eq!(r.header("x-amzn-RequestId").unwrap().len(), 52);

    let item = json!({"deviceId": {"S": "hopper"}, "seq": {"N": "1"}, "temp": {"N": "21.50"}});
    let r = call(
        &mut sim,
        &mut conn,
        "PutItem",
        json!({"TableName": "SensorReadings", "Item": item}),
    );
    assert_eq!((r.status, r.json()), (200, json!({})));
    let r = call(
        &mut sim,
        &mut conn,
        "GetItem",
        json!({
            "TableName": "SensorReadings",
            "Key": {"deviceId": {"S": "hopper"}, "seq": {"N": "1.0"}}
        }),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"Item": {"deviceId": {"S": "hopper"}, "seq": {"N": "1"}, "temp": {"N": "21.5"}}})
    );
    let stored = ep.items("SensorReadings").unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["temp"], json!({"N": "21.5"}));
    assert!(ep.items("Nope").is_none());
    let ops: Vec<(String, u16)> = ep
        .requests()
        .iter()
        .map(|r| (r.operation.clone(), r.status))
        .collect();
    assert_eq!(
        ops,
        [
            ("CreateTable".to_string(), 200),
            ("PutItem".into(), 200),
            ("GetItem".into(), 200)
        ]
    );
    assert!(ep.tls_errors().is_empty());
}

fn tls12_firmware_like(ca_der: &[u8], unix: u64) -> std::sync::Arc<rustls::ClientConfig> {
    tls12_firmware_like_with(rustls::crypto::ring::default_provider(), ca_der, unix)
}

fn tls12_firmware_like_with(
    base: rustls::crypto::CryptoProvider,
    ca_der: &[u8],
    unix: u64,
) -> std::sync::Arc<rustls::ClientConfig> {
    // What the firmware's mbedTLS offers: TLS 1.2 only, ECDHE with AES-128-GCM, P-256.
    use rustls::crypto::ring as p;
    let p256 = *base
        .kx_groups
        .iter()
        .find(|g| g.name() == rustls::NamedGroup::secp256r1)
        .unwrap();
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            p::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            p::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: vec![p256],
        ..base
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der.to_vec().into()).unwrap();
    #[derive(Debug)]
    struct At(u64);
    impl rustls::time_provider::TimeProvider for At {
        fn current_time(&self) -> Option<rustls::pki_types::UnixTime> {
            Some(rustls::pki_types::UnixTime::since_unix_epoch(
                std::time::Duration::from_secs(self.0),
            ))
        }
    }
    std::sync::Arc::new(
        rustls::ClientConfig::builder_with_details(
            std::sync::Arc::new(provider),
            std::sync::Arc::new(At(unix)),
        )
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

#[test]
fn tls12_ecdhe_ecdsa_aes128_gcm_as_the_firmware_offers_and_tls13_by_default() {
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    let mut sim = Sim::new(ep.clone(), 2);
    let mut conn = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ep.ca_cert_der());
    let cfg = tls12_firmware_like(&ep.ca_cert_der(), sim.unix());
    conn.tls = Some(rustls::ClientConnection::new(cfg, HOST.try_into().unwrap()).unwrap());
    let item = json!({"deviceId": {"S": "d12"}, "seq": {"N": "7"}});
    let r = call(
        &mut sim,
        &mut conn,
        "PutItem",
        json!({"TableName": "SensorReadings", "Item": item}),
    );
    assert_eq!(r.status, 200);
    let tls = conn.tls.as_ref().unwrap();
    assert_eq!(
        tls.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(
        tls.negotiated_cipher_suite().unwrap().suite(),
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    );
    assert_eq!(ep.items("SensorReadings").unwrap(), vec![item]);

    let mut conn13 = Conn::https(&mut sim, ENDPOINT_IP, "localhost", &ep.ca_cert_der());
    let r = call(&mut sim, &mut conn13, "ListTables", json!({}));
    assert_eq!(r.json(), json!({"TableNames": ["SensorReadings"]}));
    assert_eq!(
        conn13.tls.as_ref().unwrap().protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

#[test]
fn a_client_that_does_not_trust_the_ca_sends_nothing() {
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    let other = Endpoint::new(EndpointConfig {
        seed: 2,
        ..EndpointConfig::default()
    })
    .unwrap();
    let mut sim = Sim::new(ep.clone(), 3);
    let mut conn = Conn::https(&mut sim, ENDPOINT_IP, HOST, &other.ca_cert_der());
    conn.send(&signed_request(
        &Credentials::test_key(),
        sim.unix(),
        "ListTables",
        b"{}",
    ));
    assert!(conn.recv(&mut sim.g, 10 * SEC).is_none());
    let err = conn
        .tls_error
        .clone()
        .expect("the client refuses the certificate");
    assert!(err.contains("UnknownIssuer"), "{err}");
    // The client's alert reaches the endpoint, which closes.
    assert!(conn.wait_closed(&mut sim.g, 5 * SEC));
    assert!(ep.requests().is_empty());
    let errs = ep.tls_errors();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].1.contains("alert"), "{errs:?}");
    // A name not in the certificate is refused too.
    let mut conn = Conn::https(
        &mut sim,
        ENDPOINT_IP,
        "dynamodb.eu-west-1.amazonaws.com",
        &ep.ca_cert_der(),
    );
    conn.send(b"x");
    assert!(conn.recv(&mut sim.g, 10 * SEC).is_none());
    assert!(
        conn.tls_error
            .clone()
            .unwrap()
            .contains("certificate not valid for name"),
        "{:?}",
        conn.tls_error
    );
}

#[test]
fn keep_alive_pipelining_and_connection_close_over_plain_http() {
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    let mut sim = Sim::new(ep.clone(), 4);
    let mut conn = Conn::plain(&mut sim, ENDPOINT_IP);
    let unix = sim.unix();
    let mut both = signed_request(&Credentials::test_key(), unix, "ListTables", b"{}");
    both.extend(signed_request(
        &Credentials::test_key(),
        unix,
        "DescribeTable",
        br#"{"TableName":"SensorReadings"}"#,
    ));
    conn.send(&both);
    let a = conn.recv(&mut sim.g, 10 * SEC).unwrap();
    let b = conn.recv(&mut sim.g, 10 * SEC).unwrap();
    assert_eq!(a.json()["TableNames"], json!(["SensorReadings"]));
    assert_eq!(b.json()["Table"]["TableName"], "SensorReadings");
    // A request with Connection: close is answered, then the endpoint closes.
    let body = b"{}";
    let mut h = dynamo_headers("ListTables", body);
    h.push(("connection".into(), "close".into()));
    let extra = aws_sign(
        &Credentials::test_key(),
        ("us-east-1", "dynamodb"),
        sim.unix(),
        "POST",
        &format!("https://{HOST}/"),
        &h,
        body,
    );
    h.extend(extra);
    let r = conn.call(&mut sim.g, &wire("POST", "/", &h, body));
    assert_eq!((r.status, r.header("connection")), (200, Some("close")));
    assert!(conn.wait_closed(&mut sim.g, 5 * SEC));
}

#[test]
fn bad_http_gets_a_400_and_the_connection_closes() {
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    let mut sim = Sim::new(ep.clone(), 5);
    let mut conn = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ep.ca_cert_der());
    let r = conn.call(
        &mut sim.g,
        b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
    );
    assert_eq!(r.status, 400);
    assert_eq!(String::from_utf8_lossy(&r.body), "invalid Content-Length\n");
    assert!(conn.wait_closed(&mut sim.g, 5 * SEC));
    let recs = ep.requests();
    assert_eq!(
        (recs.len(), recs[0].operation.as_str(), recs[0].status),
        (1, "(bad HTTP)", 400)
    );
}

#[test]
fn delayed_and_reset_responses_on_virtual_time() {
    let plan = FaultPlan {
        faults: vec![
            Fault {
                action: FaultAction::Delay { nanos: 4 * SEC },
                trigger: FaultTrigger::Requests { skip: 0, count: 1 },
                operations: vec!["ListTables".into()],
            },
            Fault {
                action: FaultAction::ResetMidResponse,
                trigger: FaultTrigger::Requests { skip: 0, count: 1 },
                operations: vec!["PutItem".into()],
            },
        ],
    };
    let ep = Endpoint::new(EndpointConfig {
        faults: plan,
        ..EndpointConfig::default()
    })
    .unwrap();
    let mut sim = Sim::new(ep.clone(), 6);
    let mut conn = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ep.ca_cert_der());
    // Handshake first, so the timing below is the delay alone.
    assert_eq!(
        call(
            &mut sim,
            &mut conn,
            "DescribeTable",
            json!({"TableName": "SensorReadings"})
        )
        .status,
        200
    );
    let t0 = sim.g.now();
    let r = call(&mut sim, &mut conn, "ListTables", json!({}));
    let took = sim.g.now() - t0;
    assert_eq!(r.status, 200);
    assert!(
        (4 * SEC..4 * SEC + 200 * MS).contains(&took),
        "took {took} ns"
    );

    let item = json!({"deviceId": {"S": "r"}, "seq": {"N": "1"}});
    let body = serde_json::to_vec(&json!({"TableName": "SensorReadings", "Item": item})).unwrap();
    conn.send(&signed_request(
        &Credentials::test_key(),
        sim.unix(),
        "PutItem",
        &body,
    ));
    assert!(
        conn.recv(&mut sim.g, 10 * SEC).is_none(),
        "a reset response arrived whole"
    );
    assert_eq!(conn.state(&mut sim.g), smoltcp::socket::tcp::State::Closed);
    // The write happened: a client retrying must cope with that (idempotent puts).
    assert_eq!(ep.items("SensorReadings").unwrap(), vec![item]);
}

/// One firmware-like session (deterministic client) against an endpoint with `seed`:
/// everything the client received, and the CA.
fn session_bytes(seed: u64) -> (Vec<u8>, Vec<u8>, Vec<serde_json::Value>) {
    session_bytes_with(seed, ServerKey::EcdsaP256).0
}

type Session = (Vec<u8>, Vec<u8>, Vec<serde_json::Value>);

/// Like `session_bytes`, with a choice of server key; also returns the negotiated suite.
fn session_bytes_with(seed: u64, server_key: ServerKey) -> (Session, rustls::CipherSuite) {
    use scenarios::endpoint::seeded::deterministic_provider;
    let ep = Endpoint::new(EndpointConfig {
        seed,
        server_key,
        ..EndpointConfig::default()
    })
    .unwrap();
    let mut sim = Sim::new(ep.clone(), 9);
    let mut conn = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ep.ca_cert_der());
    let client = (*deterministic_provider(77, 0)).clone();
    let cfg = tls12_firmware_like_with(client, &ep.ca_cert_der(), sim.unix());
    conn.tls = Some(rustls::ClientConnection::new(cfg, HOST.try_into().unwrap()).unwrap());
    let item = json!({"deviceId": {"S": "det"}, "seq": {"N": "1"}});
    let r = call(
        &mut sim,
        &mut conn,
        "PutItem",
        json!({"TableName": "SensorReadings", "Item": item}),
    );
    assert_eq!(r.status, 200);
    let suite = conn
        .tls
        .as_ref()
        .unwrap()
        .negotiated_cipher_suite()
        .unwrap()
        .suite();
    (
        (
            conn.raw_in,
            ep.ca_cert_der(),
            ep.items("SensorReadings").unwrap(),
        ),
        suite,
    )
}

#[test]
fn an_rsa_2048_identity_serves_ecdhe_rsa_deterministically() {
    let (a, suite) = session_bytes_with(21, ServerKey::Rsa2048);
    assert_eq!(
        suite,
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    );
    let (b, _) = session_bytes_with(21, ServerKey::Rsa2048);
    assert_eq!(a.1, b.1, "RSA CA differs for one seed");
    assert!(a.0 == b.0, "server bytes differ for one seed");
    assert_eq!(a.2, b.2);
    // TLS 1.3 with the RSA identity works too (PSS signatures).
    let ep = Endpoint::new(EndpointConfig {
        seed: 21,
        server_key: ServerKey::Rsa2048,
        ..EndpointConfig::default()
    })
    .unwrap();
    // The chain is shaped like DynamoDB's (server certificate, intermediate, two cross-signed
    // roots: ~5.5 KiB), which the firmware's TLS heap is sized for.
    let (chain_pem, _) = ep.server_identity_pem();
    let sizes: Vec<usize> = chain_pem
        .split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|block| {
            use base64::Engine as _;
            let b64: String = block
                .split("-----END")
                .next()
                .unwrap()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes.len(), 4, "{sizes:?}");
    let total: usize = sizes.iter().sum();
    assert!(
        (5400..=5600).contains(&total) && sizes[0] >= 1900,
        "chain sizes {sizes:?}"
    );
    let mut sim = Sim::new(ep.clone(), 8);
    let mut conn = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ep.ca_cert_der());
    assert_eq!(
        call(&mut sim, &mut conn, "ListTables", json!({})).status,
        200
    );
    assert_eq!(
        conn.tls.as_ref().unwrap().protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

#[test]
fn one_seed_gives_the_same_certificates_and_the_same_server_bytes() {
    let (a, ca_a, items_a) = session_bytes(11);
    let (b, ca_b, items_b) = session_bytes(11);
    assert!(a.len() > 500, "only {} bytes received", a.len());
    assert_eq!(ca_a, ca_b, "CA differs for one seed");
    assert!(a == b, "server bytes differ for one seed");
    assert_eq!(items_a, items_b);
    let (c, ca_c, _) = session_bytes(12);
    assert_ne!(ca_a, ca_c);
    assert!(a != c);
}

/// 200 items of 4 KiB in `SensorReadings` (a Scan page of about 820 KB), written with
/// BatchWriteItem over `conn` (10 a request: the test client hands rustls whole requests, and
/// rustls buffers at most 64 KiB).
fn fill(sim: &mut Sim, conn: &mut Conn) {
    for b in 0..20 {
        let reqs: Vec<serde_json::Value> = (0..10)
            .map(|i| {
                json!({"PutRequest": {"Item": {"deviceId": {"S": "big"}, "seq": {"N": (b * 10 + i).to_string()},
                                                "blob": {"S": "x".repeat(4096)}}}})
            })
            .collect();
        let r = call(
            sim,
            conn,
            "BatchWriteItem",
            json!({"RequestItems": {"SensorReadings": reqs}}),
        );
        assert_eq!(r.status, 200);
    }
}

#[test]
fn responses_larger_than_64_kib_arrive_whole_over_https_and_plain_http() {
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    let mut sim = Sim::new(ep.clone(), 3);
    let addr = sim.resolve(HOST).unwrap();
    let mut conn = Conn::https(&mut sim, addr, HOST, &ep.ca_cert_der());
    fill(&mut sim, &mut conn);
    let scan = json!({"TableName": "SensorReadings"});
    let r = call(&mut sim, &mut conn, "Scan", scan.clone());
    assert_eq!(r.status, 200);
    assert!(r.body.len() > 800_000, "{} bytes", r.body.len());
    assert_eq!(
        r.header("x-amz-crc32").unwrap(),
        crc32fast::hash(&r.body).to_string()
    );
    assert_eq!(r.json()["Count"], 200);
    // The connection still works after it.
    let r = call(&mut sim, &mut conn, "ListTables", json!({}));
    assert_eq!(r.json()["TableNames"], json!(["SensorReadings"]));

    // Plain HTTP, two large responses pipelined.
    let mut plain = Conn::plain(&mut sim, addr);
    let body = serde_json::to_vec(&scan).unwrap();
    let req = signed_request(&Credentials::test_key(), sim.unix(), "Scan", &body);
    plain.send(&req);
    plain.send(&req);
    let r1 = plain.recv(&mut sim.g, 60 * SEC).expect("first response");
    let r2 = plain.recv(&mut sim.g, 60 * SEC).expect("second response");
    assert_eq!((r1.status, r2.status), (200, 200));
    assert_eq!(r1.json()["Count"], 200);
    assert_eq!(r1.body, r2.body);
}

#[test]
fn a_client_that_pipelines_and_never_reads_holds_about_one_response() {
    use net_bridge::service::FlowInfo;
    use std::net::SocketAddrV4;
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    let mut sim = Sim::new(ep.clone(), 4);
    let addr = sim.resolve(HOST).unwrap();
    let mut conn = Conn::plain(&mut sim, addr);
    fill(&mut sim, &mut conn);
    let handled = |ep: &Endpoint| {
        ep.requests()
            .iter()
            .filter(|r| r.operation == "Scan")
            .count()
    };

    let flow = FlowInfo {
        guest: SocketAddrV4::new([10, 0, 2, 15].into(), 40000),
        server: SocketAddrV4::new(ENDPOINT_IP, 80),
    };
    let now = sim.g.now();
    let mut svc = ep.plain_http_factory().accept(now, &flow).unwrap();
    let body = serde_json::to_vec(&json!({"TableName": "SensorReadings"})).unwrap();
    let one = signed_request(&Credentials::test_key(), sim.unix(), "Scan", &body);
    let all: Vec<u8> = one.repeat(50);
    // The client sends 50 Scans (about 40 MB of answers) and reads nothing.
    let mut sent = 0;
    while sent < all.len() {
        let n = svc.on_data(now, &all[sent..]);
        if n == 0 {
            break;
        }
        sent += n;
    }
    assert!(
        handled(&ep) <= 2,
        "{} Scans answered while nothing was read",
        handled(&ep)
    );
    // Reading drains them one by one: every response arrives, whole and in order.
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut replies = Vec::new();
    for _ in 0..100_000 {
        if sent < all.len() {
            sent += svc.on_data(now, &all[sent..]);
        }
        let n = svc.poll_output(now, &mut buf);
        out.extend_from_slice(&buf[..n]);
        while let Some(r) = take_response(&mut out) {
            replies.push(r);
        }
        if replies.len() == 50 {
            break;
        }
        assert!(
            handled(&ep) <= replies.len() + 2,
            "output ran ahead of the reader"
        );
    }
    assert_eq!(replies.len(), 50);
    assert!(replies
        .iter()
        .all(|r| r.status == 200 && r.body.len() > 800_000));
}
