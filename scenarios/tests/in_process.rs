//! The endpoint in-process on virtual time: a rustls client on a smoltcp guest talks HTTPS
//! through `UserNet` (DNS name → in-process service) and does DynamoDB calls.

mod common;

use common::*;
use scenarios::endpoint::{Credentials, Endpoint, EndpointConfig};
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
