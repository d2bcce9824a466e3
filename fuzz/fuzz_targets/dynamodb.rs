//! The DynamoDB JSON protocol: a sequence of whole request bodies through the endpoint's
//! operation dispatcher, against an in-memory table set that lives for the sequence.
//!
//! Input: requests separated by 0xFF (a byte UTF-8 JSON never holds); each starts with one
//! byte choosing the operation, the rest is the body.
//!
//! Asserts: no panic; every answer is a 200 body or a 4xx DynamoDB error (a client's bytes never
//! cause a 500), and serialises; stored items stay filed under their own keys and within the
//! item size limit; for an item the client put, get(put(get(x))) == get(x) (the stored form is a
//! fixed point).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarios::endpoint::fuzzing::Dispatcher;
use serde_json::{json, Map, Value};

/// Every operation name a client may send, implemented or not (unknown ones must be refused
/// cleanly too, and new ones are fuzzed as soon as they exist).
const OPS: &[&str] = &[
    "PutItem",
    "GetItem",
    "DeleteItem",
    "UpdateItem",
    "Query",
    "Scan",
    "BatchWriteItem",
    "BatchGetItem",
    "TransactWriteItems",
    "TransactGetItems",
    "CreateTable",
    "DescribeTable",
    "ListTables",
    "DeleteTable",
    "UpdateTable",
    "DescribeEndpoints",
    "",
];

/// Key attribute names of the dispatcher's tables.
fn key_names(table: &str) -> Option<&'static [&'static str]> {
    match table {
        "SensorReadings" => Some(&["deviceId", "seq"]),
        "Blobs" => Some(&["k"]),
        _ => None,
    }
}

fn get(d: &mut Dispatcher, table: &str, key: &Map<String, Value>) -> Option<Value> {
    let body = json!({"TableName": table, "Key": key, "ConsistentRead": true});
    let out = d
        .dispatch("GetItem", body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("GetItem of a stored key fails: {e:?}"));
    out.get("Item").cloned()
}

/// After a successful PutItem: the stored form reads back, and putting it again changes nothing.
fn check_put_round_trip(d: &mut Dispatcher, body: &[u8]) {
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let Some(table) = req.get("TableName").and_then(Value::as_str) else {
        return;
    };
    let (Some(names), Some(Value::Object(item))) = (key_names(table), req.get("Item")) else {
        return;
    };
    let key: Map<String, Value> = names
        .iter()
        .filter_map(|n| Some((n.to_string(), item.get(*n)?.clone())))
        .collect();
    let first = get(d, table, &key).expect("a put item is there");
    let put = json!({"TableName": table, "Item": first});
    if let Err(e) = d.dispatch("PutItem", put.to_string().as_bytes()) {
        panic!("the stored form of an item is refused by PutItem: {e:?}");
    }
    let second = get(d, table, &key).expect("a put item is there");
    assert_eq!(first, second, "get(put(get(x))) != get(x)");
}

fuzz_target!(|data: &[u8]| {
    let mut d = Dispatcher::new();
    for req in data.split(|&b| b == 0xFF).take(16) {
        let Some((&sel, body)) = req.split_first() else {
            continue;
        };
        let op = OPS[sel as usize % OPS.len()];
        match d.dispatch(op, body) {
            Ok(v) => {
                serde_json::to_vec(&v).expect("answers serialise");
                if op == "PutItem" {
                    check_put_round_trip(&mut d, body);
                }
            }
            Err(e) => {
                assert!(
                    (400..500).contains(&e.status),
                    "{op}: a request body caused status {}: {e:?}",
                    e.status
                );
                serde_json::to_vec(&e.body()).expect("errors serialise");
            }
        }
        if let Err(e) = d.check_invariants() {
            panic!("after {op}: {e}");
        }
    }
});
