//! The expression language: condition, filter, key-condition, projection and update
//! expressions, with `#name` / `:value` placeholders bound to whatever the text references.
//!
//! Input: one byte choosing where the expression goes, then the expression text.
//!
//! Asserts: no panic (deep nesting included); parsing is deterministic (a second parse of the
//! same text gives the same verdict); through the dispatcher, an expression gets a 200 or a
//! 4xx validation error, never a 500.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarios::endpoint::fuzzing::{condition, Dispatcher};
use serde_json::{json, Map, Value};

/// Attribute names a `#placeholder` may stand for.
const NAMES: &[&str] = &[
    "deviceId", "seq", "temp", "tags", "raw", "ok", "m", "missing", "a.b", "",
];

/// Values a `:placeholder` may stand for (valid and invalid ones).
fn value(i: usize) -> Value {
    let all = [
        json!({"S": "hopper"}),
        json!({"N": "1"}),
        json!({"N": "-3.5e2"}),
        json!({"B": "AAE="}),
        json!({"SS": ["a", "b"]}),
        json!({"NS": ["1", "2"]}),
        json!({"L": [{"S": "x"}]}),
        json!({"M": {"x": {"N": "1"}}}),
        json!({"BOOL": true}),
        json!({"NULL": true}),
        json!({"S": ""}),
        json!({"N": "not a number"}),
        json!("bare"),
    ];
    all[i % all.len()].clone()
}

fn hash(s: &str) -> usize {
    s.bytes()
        .fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
}

/// The placeholder maps for every `#name` and `:value` the text mentions.
fn placeholders(src: &str) -> (Map<String, Value>, Map<String, Value>) {
    let (mut names, mut values) = (Map::new(), Map::new());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'#' || b[i] == b':' {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > i + 1 {
                let p = &src[i..j];
                if b[i] == b'#' {
                    names.insert(p.into(), NAMES[hash(p) % NAMES.len()].into());
                } else {
                    values.insert(p.into(), value(hash(p)));
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    (names, values)
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, text)) = data.split_first() else {
        return;
    };
    let src = String::from_utf8_lossy(text);
    let (names, values) = placeholders(&src);
    let opt = |m: &Map<String, Value>| (!m.is_empty()).then(|| m.clone());
    let (n, v) = (opt(&names), opt(&values));

    // Directly: parse, check placeholders, evaluate on a stored-like item.
    let item = json!({"deviceId": {"S": "hopper"}, "seq": {"N": "1"}, "temp": {"N": "21.5"},
        "tags": {"SS": ["a"]}, "raw": {"B": "AAE="}});
    let item = item.as_object().unwrap();
    let kind = [
        "ConditionExpression",
        "FilterExpression",
        "KeyConditionExpression",
    ][sel as usize % 3];
    let first = condition(n.as_ref(), v.as_ref(), &src, kind, item);
    let second = condition(n.as_ref(), v.as_ref(), &src, kind, item);
    assert_eq!(first, second, "parsing the same text twice differs");

    // Through the dispatcher, in each place an expression goes.
    let mut body = json!({"TableName": "SensorReadings"});
    let key = json!({"deviceId": {"S": "hopper"}, "seq": {"N": "1"}});
    let op = match sel % 8 {
        0 => {
            body["Item"] = json!({"deviceId": {"S": "hopper"}, "seq": {"N": "9"}});
            body["ConditionExpression"] = json!(src);
            "PutItem"
        }
        1 => {
            body["Key"] = key;
            body["ConditionExpression"] = json!(src);
            "DeleteItem"
        }
        2 => {
            body["KeyConditionExpression"] = json!(src);
            "Query"
        }
        3 => {
            body["KeyConditionExpression"] = json!("deviceId = :kc");
            body["FilterExpression"] = json!(src);
            values_add(&mut body, ":kc", json!({"S": "hopper"}));
            "Query"
        }
        4 => {
            body["FilterExpression"] = json!(src);
            "Scan"
        }
        5 => {
            body["Key"] = key;
            body["ProjectionExpression"] = json!(src);
            "GetItem"
        }
        6 => {
            body["ProjectionExpression"] = json!(src);
            "Scan"
        }
        _ => {
            body["Key"] = key;
            body["UpdateExpression"] = json!(src);
            body["ReturnValues"] = json!("ALL_NEW");
            "UpdateItem"
        }
    };
    if let Some(n) = n {
        body["ExpressionAttributeNames"] = Value::Object(n);
    }
    if let Some(v) = v {
        for (k, x) in v {
            values_add(&mut body, &k, x);
        }
    }
    let mut d = Dispatcher::new();
    if let Err(e) = d.dispatch(op, body.to_string().as_bytes()) {
        assert!(
            (400..500).contains(&e.status),
            "{op}: status {}: {e:?}",
            e.status
        );
    }
    if let Err(e) = d.check_invariants() {
        panic!("after {op}: {e}");
    }
});

fn values_add(body: &mut Value, k: &str, v: Value) {
    if !body["ExpressionAttributeValues"].is_object() {
        body["ExpressionAttributeValues"] = json!({});
    }
    body["ExpressionAttributeValues"][k] = v;
}
