//! The DynamoDB JSON protocol through the endpoint's request handler: operations, validation
//! with the service's wording, error shapes, response headers, and injected faults.

mod common;

use common::*;
use net_bridge::Nanos;
use scenarios::endpoint::http::{Delivery, Handler, RequestParser};
use scenarios::endpoint::{
    Credentials, Endpoint, EndpointConfig, Fault, FaultAction, FaultPlan, FaultTrigger,
};
use serde_json::{json, Value};

struct T {
    ep: Endpoint,
    now: Nanos,
}

impl T {
    fn new() -> T {
        Self::with(EndpointConfig::default())
    }
    fn with(cfg: EndpointConfig) -> T {
        T {
            ep: Endpoint::new(cfg).unwrap(),
            now: 0,
        }
    }
    fn raw(&mut self, wire: &[u8]) -> (Reply, Delivery) {
        let mut p = RequestParser::default();
        p.push(wire);
        let req = p.next_request().unwrap().expect("complete request");
        let (resp, d) = self.ep.handle(self.now, &req);
        self.now += SEC;
        let mut bytes = resp.to_bytes(false);
        (take_response(&mut bytes).unwrap(), d)
    }
    fn call(&mut self, op: &str, body: Value) -> Reply {
        self.call_d(op, body).0
    }
    fn call_d(&mut self, op: &str, body: Value) -> (Reply, Delivery) {
        let body = serde_json::to_vec(&body).unwrap();
        let unix = self.ep.now_unix(self.now) as u64;
        let wire = signed_request(&Credentials::test_key(), unix, op, &body);
        self.raw(&wire)
    }
    /// Calls and expects an error: returns (status, short type, message).
    fn err(&mut self, op: &str, body: Value) -> (u16, String, String) {
        let r = self.call(op, body);
        assert_ne!(
            r.status,
            200,
            "{op} succeeded: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        (
            r.status,
            r.error_type().unwrap(),
            v["message"].as_str().unwrap_or("").to_string(),
        )
    }
    fn ok(&mut self, op: &str, body: Value) -> Value {
        let r = self.call(op, body);
        assert_eq!(r.status, 200, "{op}: {}", String::from_utf8_lossy(&r.body));
        r.json()
    }
}

fn reading(dev: &str, seq: u32) -> Value {
    json!({"deviceId": {"S": dev}, "seq": {"N": seq.to_string()}, "t": {"N": "20.25"}})
}

fn put(t: &mut T, item: Value) -> Reply {
    t.call(
        "PutItem",
        json!({"TableName": "SensorReadings", "Item": item}),
    )
}

#[test]
fn put_get_delete_with_return_values_and_conditions() {
    let mut t = T::new();
    assert_eq!(put(&mut t, reading("a", 1)).json(), json!({}));
    let cond = json!({
        "TableName": "SensorReadings", "Item": reading("a", 1),
        "ConditionExpression": "attribute_not_exists(#k)",
        "ExpressionAttributeNames": {"#k": "deviceId"}
    });
    assert_eq!(
        t.err("PutItem", cond.clone()),
        (
            400,
            "ConditionalCheckFailedException".into(),
            "The conditional request failed".into()
        )
    );
    let mut fresh = cond.clone();
    fresh["Item"] = reading("a", 2);
    assert_eq!(t.ok("PutItem", fresh), json!({}));
    let mut newer = reading("a", 1);
    newer["t"] = json!({"N": "30"});
    let old = t.ok(
        "PutItem",
        json!({"TableName": "SensorReadings", "Item": newer, "ReturnValues": "ALL_OLD"}),
    );
    assert_eq!(
        old,
        json!({"Attributes": {"deviceId": {"S": "a"}, "seq": {"N": "1"}, "t": {"N": "20.25"}}})
    );
    assert_eq!(
        t.err("PutItem", json!({"TableName": "SensorReadings", "Item": reading("a", 1), "ReturnValues": "ALL_NEW"})).2,
        "Return values set to invalid value"
    );
    let key = json!({"deviceId": {"S": "a"}, "seq": {"N": "1"}});
    let got = t.ok("GetItem", json!({"TableName": "SensorReadings", "Key": key, "ProjectionExpression": "#t, seq", "ExpressionAttributeNames": {"#t": "t"}}));
    assert_eq!(got, json!({"Item": {"seq": {"N": "1"}, "t": {"N": "30"}}}));
    let del = t.ok(
        "DeleteItem",
        json!({"TableName": "SensorReadings", "Key": key, "ReturnValues": "ALL_OLD"}),
    );
    assert_eq!(del["Attributes"]["t"], json!({"N": "30"}));
    assert_eq!(
        t.ok(
            "GetItem",
            json!({"TableName": "SensorReadings", "Key": key})
        ),
        json!({})
    );
    assert_eq!(
        t.err("DeleteItem", json!({"TableName": "SensorReadings", "Key": {"deviceId": {"S": "a"}, "seq": {"N": "2"}},
                                    "ConditionExpression": "attribute_not_exists(seq)"})).1,
        "ConditionalCheckFailedException"
    );
    assert_eq!(t.ep.items("SensorReadings").unwrap().len(), 1);
}

#[test]
fn items_and_keys_are_validated_with_dynamodbs_wording() {
    let mut t = T::new();
    let e = |t: &mut T, item: Value| put(t, item).json()["message"].as_str().unwrap().to_string();
    assert_eq!(
        e(&mut t, json!({"deviceId": {"N": "1"}, "seq": {"N": "1"}})),
        "One or more parameter values were invalid: Type mismatch for key deviceId expected: S actual: N"
    );
    assert_eq!(
        e(&mut t, json!({"deviceId": {"S": "a"}})),
        "One or more parameter values were invalid: Missing the key seq in the item"
    );
    assert_eq!(
        e(&mut t, json!({"deviceId": {"S": ""}, "seq": {"N": "1"}})),
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: deviceId"
    );
    assert_eq!(
        e(
            &mut t,
            json!({"deviceId": {"S": "a"}, "seq": {"N": "1"}, "s": {"NS": []}})
        ),
        "One or more parameter values were invalid: An number set  may not be empty"
    );
    assert_eq!(
        e(&mut t, json!({"deviceId": {"S": "a"}, "seq": {"N": "x1"}})),
        "The parameter cannot be converted to a numeric value: x1"
    );
    assert_eq!(
        e(
            &mut t,
            json!({"deviceId": {"S": "a"}, "seq": {"N": "1"}, "big": {"S": "x".repeat(400 * 1024)}})
        ),
        "Item size has exceeded the maximum allowed size"
    );
    // Just under the limit is fine (name + value = 400 KB minus the key attributes).
    let room = 400 * 1024 - ("deviceId".len() + 1 + "seq".len() + 2 + "big".len());
    assert_eq!(
        put(
            &mut t,
            json!({"deviceId": {"S": "a"}, "seq": {"N": "1"}, "big": {"S": "x".repeat(room)}})
        )
        .status,
        200
    );
    let r = put(
        &mut t,
        json!({"deviceId": {"S": "a"}, "seq": {"N": "1"}, "x": {"S": "a", "N": "1"}}),
    );
    assert_eq!(r.error_type().as_deref(), Some("ValidationException"));
    assert!(
        String::from_utf8_lossy(&r.body).contains("com.amazon.coral.validate#ValidationException")
    );
    // Keys must be exactly the key schema.
    assert_eq!(
        t.err(
            "GetItem",
            json!({"TableName": "SensorReadings", "Key": {"deviceId": {"S": "a"}}})
        )
        .2,
        "The provided key element does not match the schema"
    );
    assert_eq!(
        t.err("GetItem", json!({"TableName": "SensorReadings", "Key": {"deviceId": {"S": "a"}, "seq": {"N": "1"}, "t": {"N": "1"}}})).2,
        "The provided key element does not match the schema"
    );
    // Placeholders: undefined and unused.
    assert_eq!(
        t.err("PutItem", json!({"TableName": "SensorReadings", "Item": reading("b", 1), "ConditionExpression": "attribute_not_exists(#x)"})).2,
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x"
    );
    assert_eq!(
        t.err("PutItem", json!({"TableName": "SensorReadings", "Item": reading("b", 1), "ConditionExpression": "attribute_not_exists(seq)",
                                 "ExpressionAttributeNames": {"#x": "seq"}})).2,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"
    );
    // Unknown table, missing table name.
    let (status, ty, msg) = t.err(
        "PutItem",
        json!({"TableName": "Nope", "Item": reading("a", 1)}),
    );
    assert_eq!(
        (status, ty.as_str(), msg.as_str()),
        (
            400,
            "ResourceNotFoundException",
            "Requested resource not found"
        )
    );
    assert!(t
        .err("PutItem", json!({"Item": reading("a", 1)}))
        .2
        .contains("Value null at 'tableName'"));
    assert_eq!(t.ep.items("SensorReadings").unwrap().len(), 1);
}

#[test]
fn tables_are_created_described_listed_and_deleted() {
    let mut t = T::new();
    let create = json!({
        "TableName": "Events",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "B"}, {"AttributeName": "at", "AttributeType": "N"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}
    });
    let d = t.ok("CreateTable", create.clone())["TableDescription"].clone();
    assert_eq!(d["TableStatus"], "ACTIVE");
    assert_eq!(
        d["TableArn"],
        "arn:aws:dynamodb:us-east-1:000000000000:table/Events"
    );
    assert_eq!(d["ProvisionedThroughput"]["WriteCapacityUnits"], 7);
    assert_eq!(
        t.err("CreateTable", create),
        (
            400,
            "ResourceInUseException".into(),
            "Table already exists: Events".into()
        )
    );
    let desc = t.ok("DescribeTable", json!({"TableName": "Events"}));
    assert_eq!(
        desc["Table"]["KeySchema"][1],
        json!({"AttributeName": "at", "KeyType": "RANGE"})
    );
    assert_eq!(
        t.err("DescribeTable", json!({"TableName": "Gone"})).2,
        "Requested resource not found: Table: Gone not found"
    );
    assert_eq!(
        t.ok("ListTables", json!({})),
        json!({"TableNames": ["Events", "SensorReadings"]})
    );
    assert_eq!(
        t.ok("ListTables", json!({"Limit": 1})),
        json!({"TableNames": ["Events"], "LastEvaluatedTableName": "Events"})
    );
    assert_eq!(
        t.ok("ListTables", json!({"ExclusiveStartTableName": "Events"})),
        json!({"TableNames": ["SensorReadings"]})
    );
    // Binary keys work.
    let item = json!({"id": {"B": "AQID"}, "at": {"N": "5"}});
    assert_eq!(
        t.ok("PutItem", json!({"TableName": "Events", "Item": item})),
        json!({})
    );
    assert_eq!(
        t.ok("GetItem", json!({"TableName": "Events", "Key": item}))["Item"],
        item
    );
    assert_eq!(
        t.ok("DeleteTable", json!({"TableName": "Events"}))["TableDescription"]["TableStatus"],
        "DELETING"
    );
    assert_eq!(
        t.ok("ListTables", json!({})),
        json!({"TableNames": ["SensorReadings"]})
    );
    for bad in [
        json!({"TableName": "x", "KeySchema": [], "AttributeDefinitions": []}),
        json!({"TableName": "bad name!", "KeySchema": [], "AttributeDefinitions": []}),
        json!({"TableName": "NoRange", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
               "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "X"}], "BillingMode": "PAY_PER_REQUEST"}),
        json!({"TableName": "NoDefs", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
               "AttributeDefinitions": [], "BillingMode": "PAY_PER_REQUEST"}),
    ] {
        assert_eq!(
            t.err("CreateTable", bad.clone()).1,
            "ValidationException",
            "{bad}"
        );
    }
}

#[test]
fn batch_write_scan_and_query() {
    let mut t = T::new();
    let puts: Vec<Value> = (1..=6)
        .map(|i| json!({"PutRequest": {"Item": reading(if i % 2 == 0 { "even" } else { "odd" }, i)}}))
        .collect();
    assert_eq!(
        t.ok(
            "BatchWriteItem",
            json!({"RequestItems": {"SensorReadings": puts}})
        ),
        json!({"UnprocessedItems": {}})
    );
    let del = json!({"DeleteRequest": {"Key": {"deviceId": {"S": "odd"}, "seq": {"N": "5"}}}});
    t.ok(
        "BatchWriteItem",
        json!({"RequestItems": {"SensorReadings": [del]}}),
    );
    assert_eq!(t.ep.items("SensorReadings").unwrap().len(), 5);
    let many: Vec<Value> = (0..26)
        .map(|i| json!({"PutRequest": {"Item": reading("x", i)}}))
        .collect();
    assert_eq!(
        t.err(
            "BatchWriteItem",
            json!({"RequestItems": {"SensorReadings": many}})
        )
        .1,
        "ValidationException"
    );
    let dup = vec![json!({"PutRequest": {"Item": reading("x", 1)}}); 2];
    assert_eq!(
        t.err(
            "BatchWriteItem",
            json!({"RequestItems": {"SensorReadings": dup}})
        )
        .2,
        "Provided list of item keys contains duplicates"
    );
    assert_eq!(
        t.err("BatchWriteItem", json!({"RequestItems": {"Nope": [del]}}))
            .1,
        "ResourceNotFoundException"
    );

    // Scan pages with Limit and ExclusiveStartKey.
    let p1 = t.ok("Scan", json!({"TableName": "SensorReadings", "Limit": 3}));
    assert_eq!(
        (p1["Count"].as_u64(), p1["ScannedCount"].as_u64()),
        (Some(3), Some(3))
    );
    let p2 = t.ok(
        "Scan",
        json!({"TableName": "SensorReadings", "ExclusiveStartKey": p1["LastEvaluatedKey"]}),
    );
    assert_eq!(p2["Count"], 2);
    assert!(p2.get("LastEvaluatedKey").is_none());
    let f = t.ok("Scan", json!({"TableName": "SensorReadings", "FilterExpression": "seq > :s", "ExpressionAttributeValues": {":s": {"N": "3"}}}));
    assert_eq!(
        (f["Count"].as_u64(), f["ScannedCount"].as_u64()),
        (Some(2), Some(5))
    );

    // Query the partition, with and without sort-key conditions, both directions.
    let seqs = |v: &Value| -> Vec<u64> {
        v["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["seq"]["N"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let q = json!({"TableName": "SensorReadings", "KeyConditionExpression": "#d = :d",
                   "ExpressionAttributeNames": {"#d": "deviceId"}, "ExpressionAttributeValues": {":d": {"S": "even"}}});
    assert_eq!(seqs(&t.ok("Query", q.clone())), [2, 4, 6]);
    let mut back = q.clone();
    back["ScanIndexForward"] = json!(false);
    back["Limit"] = json!(2);
    let r = t.ok("Query", back);
    assert_eq!(seqs(&r), [6, 4]);
    assert_eq!(
        r["LastEvaluatedKey"],
        json!({"deviceId": {"S": "even"}, "seq": {"N": "4"}})
    );
    let mut sk = q.clone();
    sk["KeyConditionExpression"] = json!("#d = :d AND seq >= :lo");
    sk["ExpressionAttributeValues"][":lo"] = json!({"N": "4"});
    assert_eq!(seqs(&t.ok("Query", sk)), [4, 6]);
    let mut nopk = q.clone();
    nopk["KeyConditionExpression"] = json!("seq = :d");
    nopk.as_object_mut()
        .unwrap()
        .remove("ExpressionAttributeNames");
    assert_eq!(
        t.err("Query", nopk).2,
        "Query condition missed key schema element: deviceId"
    );
}

#[test]
fn protocol_errors_and_response_headers() {
    let mut t = T::new();
    let r = t.call("Frobnicate", json!({}));
    assert_eq!(
        (r.status, r.json()),
        (
            400,
            json!({"__type": "com.amazon.coral.service#UnknownOperationException"})
        )
    );
    // Bad JSON body, correctly signed.
    let unix = t.ep.now_unix(t.now) as u64;
    let (r, _) = t.raw(&signed_request(
        &Credentials::test_key(),
        unix,
        "PutItem",
        b"{not json",
    ));
    assert_eq!(
        (r.status, r.error_type().as_deref()),
        (400, Some("SerializationException"))
    );
    // Health check without authentication, like the real service.
    let (r, _) = t.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, &b"healthy: dynamodb.us-east-1.amazonaws.com "[..])
    );
    // Unsigned request.
    let (r, _) = t.raw(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}");
    assert_eq!(
        r.json(),
        json!({"__type": "com.amazon.coral.service#MissingAuthenticationTokenException", "message": "Request is missing Authentication Token"})
    );
    let r = t.call("ListTables", json!({}));
    assert_eq!(
        r.header("x-amz-crc32").unwrap(),
        crc32fast::hash(&r.body).to_string()
    );
    assert_eq!(r.header("Date").unwrap(), "Mon, 01 Jan 2024 00:00:04 GMT");
    // Request ids are deterministic for a seed, distinct per request.
    let ids = |seed| {
        let mut t = T::with(EndpointConfig {
            seed,
            ..EndpointConfig::default()
        });
        (0..3)
            .map(|_| {
                t.call("ListTables", json!({}))
                    .header("x-amzn-RequestId")
                    .unwrap()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    let a = ids(5);
    assert_eq!(a, ids(5));
    assert_ne!(a, ids(6));
    assert!(a[0] != a[1] && a[1] != a[2]);
    let recs = t.ep.requests();
    assert_eq!(recs.len(), 5);
    assert_eq!(recs[0].operation, "Frobnicate");
    assert_eq!(recs[2].operation, "(health)");
    assert_eq!(
        recs[3].error_type.as_deref(),
        Some("com.amazon.coral.service#MissingAuthenticationTokenException")
    );
}

#[test]
fn the_endpoint_clock_follows_virtual_time_and_its_offset() {
    let mut t = T::with(EndpointConfig {
        clock_offset_secs: 1200,
        ..EndpointConfig::default()
    });
    // A client whose clock is 20 minutes behind the endpoint's is refused with the expiry wording.
    let body = b"{}".to_vec();
    let unix = t.ep.now_unix(t.now) as u64 - 1200;
    let (r, _) = t.raw(&signed_request(
        &Credentials::test_key(),
        unix,
        "ListTables",
        &body,
    ));
    assert_eq!(r.error_type().as_deref(), Some("InvalidSignatureException"));
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("Signature expired: 20240101T000000Z is now earlier than"));
    // The Date header tells the client the endpoint's time.
    assert_eq!(r.header("Date").unwrap(), "Mon, 01 Jan 2024 00:20:00 GMT");
    t.ep.set_clock_offset(0);
    assert_eq!(t.call("ListTables", json!({})).status, 200);
}

#[test]
fn faults_throttle_fail_delay_and_reset() {
    let plan = FaultPlan {
        faults: vec![
            Fault {
                action: FaultAction::Throttle,
                trigger: FaultTrigger::Requests { skip: 0, count: 2 },
                operations: vec!["PutItem".into()],
            },
            Fault {
                action: FaultAction::Throttle,
                trigger: FaultTrigger::Requests { skip: 0, count: 1 },
                operations: vec!["BatchWriteItem".into()],
            },
            Fault {
                action: FaultAction::InternalError,
                trigger: FaultTrigger::Requests { skip: 0, count: 1 },
                operations: vec!["GetItem".into()],
            },
            Fault {
                action: FaultAction::ServiceUnavailable,
                trigger: FaultTrigger::Requests { skip: 1, count: 1 },
                operations: vec!["GetItem".into()],
            },
            Fault {
                action: FaultAction::ThrottlingException,
                trigger: FaultTrigger::Requests { skip: 2, count: 1 },
                operations: vec!["GetItem".into()],
            },
            Fault {
                action: FaultAction::Delay { nanos: 3 * SEC },
                trigger: FaultTrigger::Requests { skip: 0, count: 1 },
                operations: vec!["Scan".into()],
            },
            Fault {
                action: FaultAction::ResetMidResponse,
                trigger: FaultTrigger::Requests { skip: 0, count: 1 },
                operations: vec!["DeleteItem".into()],
            },
        ],
    };
    let mut t = T::with(EndpointConfig {
        faults: plan,
        ..EndpointConfig::default()
    });
    for _ in 0..2 {
        let r = put(&mut t, reading("a", 1));
        assert_eq!(
            (r.status, r.error_type().as_deref()),
            (400, Some("ProvisionedThroughputExceededException"))
        );
    }
    assert!(
        t.ep.items("SensorReadings").unwrap().is_empty(),
        "a throttled write was stored"
    );
    assert_eq!(put(&mut t, reading("a", 1)).status, 200);

    let puts: Vec<Value> = (10..15)
        .map(|i| json!({"PutRequest": {"Item": reading("b", i)}}))
        .collect();
    let r = t.ok(
        "BatchWriteItem",
        json!({"RequestItems": {"SensorReadings": puts.clone()}}),
    );
    assert_eq!(r["UnprocessedItems"]["SensorReadings"], json!(puts[2..]));
    assert_eq!(t.ep.items("SensorReadings").unwrap().len(), 3);
    let r = t.ok(
        "BatchWriteItem",
        json!({"RequestItems": {"SensorReadings": puts[2..]}}),
    );
    assert_eq!(r, json!({"UnprocessedItems": {}}));
    assert_eq!(t.ep.items("SensorReadings").unwrap().len(), 6);

    let key =
        json!({"TableName": "SensorReadings", "Key": {"deviceId": {"S": "a"}, "seq": {"N": "1"}}});
    let r = t.call("GetItem", key.clone());
    assert_eq!(
        (r.status, r.error_type().as_deref()),
        (500, Some("InternalServerError"))
    );
    let r = t.call("GetItem", key.clone());
    assert_eq!(
        (r.status, r.error_type().as_deref()),
        (503, Some("ServiceUnavailableException"))
    );
    let r = t.call("GetItem", key.clone());
    assert_eq!(
        (r.status, r.error_type().as_deref()),
        (400, Some("ThrottlingException"))
    );
    assert_eq!(t.call("GetItem", key.clone()).status, 200);

    let at = t.now;
    let (r, d) = t.call_d("Scan", json!({"TableName": "SensorReadings"}));
    assert_eq!((r.status, d), (200, Delivery::At(at + 3 * SEC)));
    let (r, d) = t.call_d("DeleteItem", key.clone());
    assert_eq!(r.status, 200);
    assert!(matches!(d, Delivery::ResetAfter(n) if n > 0));
    // The delete happened even though the client will not see the answer.
    assert_eq!(t.ep.items("SensorReadings").unwrap().len(), 5);
    let faults: Vec<Option<String>> = t.ep.requests().iter().map(|r| r.fault.clone()).collect();
    assert_eq!(faults.iter().filter(|f| f.is_some()).count(), 8);
}

#[test]
fn a_seeded_fraction_of_requests_is_throttled_reproducibly() {
    let run = |seed| {
        let plan = FaultPlan {
            faults: vec![Fault {
                action: FaultAction::Throttle,
                trigger: FaultTrigger::Fraction { p: 0.25 },
                operations: vec![],
            }],
        };
        let mut t = T::with(EndpointConfig {
            faults: plan,
            seed,
            ..EndpointConfig::default()
        });
        (0..200)
            .map(|i| put(&mut t, reading("f", i)).status)
            .collect::<Vec<u16>>()
    };
    let a = run(3);
    assert_eq!(a, run(3));
    assert_ne!(a, run(4));
    let throttled = a.iter().filter(|&&s| s == 400).count();
    assert!((30..70).contains(&throttled), "{throttled} of 200");
}

#[derive(Clone, Default)]
struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_request_log_is_json_lines_without_secrets() {
    let temp = Credentials {
        session_token: Some("SESSIONTOKENVALUE".into()),
        ..Credentials::new("ASIATEMP", "TEMPSECRETVALUE")
    };
    let mut t = T::with(EndpointConfig {
        credentials: vec![temp.clone()],
        ..EndpointConfig::default()
    });
    let buf = SharedBuf::default();
    t.ep.set_request_log(Box::new(buf.clone()));
    let unix = t.ep.now_unix(t.now) as u64;
    let (r, _) = t.raw(&signed_request(&temp, unix, "ListTables", b"{}"));
    assert_eq!(r.status, 200);
    let (r, _) = t.raw(&signed_request(
        &Credentials {
            secret_access_key: "bad".into(),
            ..temp.clone()
        },
        unix,
        "ListTables",
        b"{}",
    ));
    assert_eq!(r.error_type().as_deref(), Some("InvalidSignatureException"));
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (
            lines[0]["operation"].as_str(),
            lines[0]["status"].as_u64(),
            lines[0]["verdict"].as_str()
        ),
        (Some("ListTables"), Some(200), Some("OK"))
    );
    assert_eq!(lines[0]["access_key_id"], "ASIATEMP");
    assert_eq!(
        lines[1]["error_type"],
        "com.amazon.coral.service#InvalidSignatureException"
    );
    assert!(lines[1]["access_key_id"].is_null());
    for secret in ["SESSIONTOKENVALUE", "TEMPSECRETVALUE"] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
    let sig = signed_request(&temp, unix, "ListTables", b"{}");
    let sig = String::from_utf8_lossy(&sig);
    let hex = sig
        .split("Signature=")
        .nth(1)
        .unwrap()
        .split("\r\n")
        .next()
        .unwrap();
    assert!(!log.contains(hex), "the signature leaked into the log");
    assert!(log.contains("Signature=<redacted>"));
    assert_eq!(t.ep.requests()[0].time, 0);
}

/// Items of about `kb` KiB under partition `dev`, numbered `0..n`.
fn big(dev: &str, seq: usize, kb: usize) -> Value {
    json!({"deviceId": {"S": dev}, "seq": {"N": seq.to_string()},
           "blob": {"S": format!("{seq:06}").repeat(kb * 1024 / 6)}})
}

fn seq_of(item: &Value) -> usize {
    item["seq"]["N"].as_str().unwrap().parse().unwrap()
}

fn put_all(t: &mut T, items: Vec<Value>) {
    // Batches of at most 25 requests and about 3 MB (the endpoint takes bodies up to 4 MiB).
    let per = (3_000_000 / serde_json::to_vec(&items[0]).unwrap().len()).clamp(1, 25);
    for chunk in items.chunks(per) {
        let reqs: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"PutRequest": {"Item": i}}))
            .collect();
        let r = t.ok(
            "BatchWriteItem",
            json!({"RequestItems": {"SensorReadings": reqs}}),
        );
        assert_eq!(r, json!({"UnprocessedItems": {}}));
    }
}

#[test]
fn exclusive_start_key_of_a_deleted_or_missing_item_continues_after_it() {
    let mut t = T::new();
    put_all(&mut t, (1..=6).map(|i| reading("d", i)).collect());
    let p1 = t.ok("Scan", json!({"TableName": "SensorReadings", "Limit": 2}));
    assert_eq!(
        p1["LastEvaluatedKey"],
        json!({"deviceId": {"S": "d"}, "seq": {"N": "2"}})
    );
    // The page's last item is deleted before the next page is asked for.
    t.ok(
        "DeleteItem",
        json!({"TableName": "SensorReadings", "Key": p1["LastEvaluatedKey"]}),
    );
    let p2 = t.ok(
        "Scan",
        json!({"TableName": "SensorReadings", "ExclusiveStartKey": p1["LastEvaluatedKey"]}),
    );
    let seqs: Vec<usize> = p2["Items"].as_array().unwrap().iter().map(seq_of).collect();
    assert_eq!(seqs, [3, 4, 5, 6]);
    // A key that never existed: the scan continues from its place in key order.
    let p = t.ok(
        "Scan",
        json!({"TableName": "SensorReadings", "ExclusiveStartKey": {"deviceId": {"S": "d"}, "seq": {"N": "4.5"}}}),
    );
    let seqs: Vec<usize> = p["Items"].as_array().unwrap().iter().map(seq_of).collect();
    assert_eq!(seqs, [5, 6]);
    // Backwards Query from a missing key.
    let q = t.ok(
        "Query",
        json!({"TableName": "SensorReadings", "KeyConditionExpression": "deviceId = :d",
               "ExpressionAttributeValues": {":d": {"S": "d"}}, "ScanIndexForward": false,
               "ExclusiveStartKey": {"deviceId": {"S": "d"}, "seq": {"N": "2"}}}),
    );
    let seqs: Vec<usize> = q["Items"].as_array().unwrap().iter().map(seq_of).collect();
    assert_eq!(seqs, [1]);
    assert!(q.get("LastEvaluatedKey").is_none());
}

#[test]
fn query_and_scan_pages_stop_at_one_megabyte_and_cover_every_item_once() {
    let mut t = T::new();
    // 300 items of 8 KiB under one partition: about 2.4 MB.
    put_all(&mut t, (0..300).map(|i| big("p", i, 8)).collect());
    for op in ["Query", "Scan"] {
        let mut req = json!({"TableName": "SensorReadings"});
        if op == "Query" {
            req["KeyConditionExpression"] = json!("deviceId = :d");
            req["ExpressionAttributeValues"] = json!({":d": {"S": "p"}});
        }
        let mut seen = Vec::new();
        let mut pages = Vec::new();
        loop {
            let r = t.ok(op, req.clone());
            let items = r["Items"].as_array().unwrap();
            let bytes: usize = items
                .iter()
                .map(|i| i["blob"]["S"].as_str().unwrap().len())
                .sum();
            pages.push((items.len(), bytes));
            seen.extend(items.iter().map(seq_of));
            match r.get("LastEvaluatedKey") {
                Some(k) => req["ExclusiveStartKey"] = k.clone(),
                None => break,
            }
        }
        assert_eq!(seen, (0..300).collect::<Vec<_>>(), "{op}: every item once");
        assert_eq!(pages.len(), 3, "{op}: {pages:?}");
        for (n, bytes) in &pages[..2] {
            // Each full page reads just past 1 MiB of item data, and no more.
            assert!(
                *bytes >= 1024 * 1024 - 8 * 1024 && *bytes < 1024 * 1024 + 9 * 1024,
                "{op}: {n} items, {bytes} bytes"
            );
        }
    }
    // Limit still applies below the size limit.
    let r = t.ok("Scan", json!({"TableName": "SensorReadings", "Limit": 7}));
    assert_eq!(r["Count"], 7);
    assert_eq!(r["LastEvaluatedKey"]["seq"]["N"], "6");
}

#[test]
fn update_item_expressions_conditions_and_return_values() {
    let mut t = T::new();
    let key = json!({"deviceId": {"S": "u"}, "seq": {"N": "1"}});
    let upd = |expr: &str, values: Value, rv: &str| {
        json!({"TableName": "SensorReadings", "Key": key, "UpdateExpression": expr,
               "ExpressionAttributeValues": values, "ReturnValues": rv})
    };
    // Creates the item from its key.
    let r = t.ok(
        "UpdateItem",
        upd(
            "SET n = if_not_exists(n, :zero) + :one, l = list_append(if_not_exists(l, :empty), :l) ADD tags :tags",
            json!({":zero": {"N": "0"}, ":one": {"N": "1"}, ":empty": {"L": []},
                   ":l": {"L": [{"S": "a"}]}, ":tags": {"SS": ["x"]}}),
            "ALL_NEW",
        ),
    );
    assert_eq!(
        r,
        json!({"Attributes": {"deviceId": {"S": "u"}, "seq": {"N": "1"}, "n": {"N": "1"},
                              "l": {"L": [{"S": "a"}]}, "tags": {"SS": ["x"]}}})
    );
    let r = t.ok(
        "UpdateItem",
        upd(
            "SET n = n + :one ADD tags :more",
            json!({":one": {"N": "1.5"}, ":more": {"SS": ["y"]}}),
            "UPDATED_OLD",
        ),
    );
    assert_eq!(
        r,
        json!({"Attributes": {"n": {"N": "1"}, "tags": {"SS": ["x"]}}})
    );
    let r = t.ok(
        "UpdateItem",
        upd(
            "REMOVE l DELETE tags :x SET m = n - :one",
            json!({":x": {"SS": ["x"]}, ":one": {"N": "0.5"}}),
            "UPDATED_NEW",
        ),
    );
    assert_eq!(
        r,
        json!({"Attributes": {"tags": {"SS": ["y"]}, "m": {"N": "2"}}})
    );
    let r = t.ok(
        "UpdateItem",
        upd("ADD n :one", json!({":one": {"N": "1"}}), "ALL_OLD"),
    );
    assert_eq!(r["Attributes"]["n"], json!({"N": "2.5"}));
    assert_eq!(
        t.ok(
            "UpdateItem",
            upd("ADD n :one", json!({":one": {"N": "1"}}), "NONE")
        ),
        json!({})
    );
    let stored = t.ep.items("SensorReadings").unwrap();
    assert_eq!(stored[0]["n"], json!({"N": "4.5"}));

    // Conditions.
    let mut c = upd(
        "SET n = :v",
        json!({":v": {"N": "0"}, ":max": {"N": "3"}}),
        "NONE",
    );
    c["ConditionExpression"] = json!("n < :max");
    let e = t.err("UpdateItem", c);
    assert_eq!(
        (e.1.as_str(), e.2.as_str()),
        (
            "ConditionalCheckFailedException",
            "The conditional request failed"
        )
    );
    // Errors with the service's wording.
    for (req, msg) in [
        (upd("SET seq = :v", json!({":v": {"N": "1"}}), "NONE"),
         "One or more parameter values were invalid: Cannot update attribute seq. This attribute is part of the key"),
        (upd("SET a = nope + :v", json!({":v": {"N": "1"}}), "NONE"),
         "The provided expression refers to an attribute that does not exist in the item"),
        (upd("ADD tags :v", json!({":v": {"N": "1"}}), "NONE"),
         "An operand in the update expression has an incorrect data type"),
        (upd("SET a = :v", json!({":v": {"N": "1"}, ":w": {"N": "2"}}), "NONE"),
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
        (upd("SET a = :v", json!({":v": {"N": "1"}}), "BOGUS"),
         "1 validation error detected: Value 'BOGUS' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"),
        (upd("SET a = :v", json!({":v": {"N": "x"}}), "NONE"),
         "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value: x for key :v"),
        (upd("SET a = :v REMOVE a", json!({":v": {"N": "1"}}), "NONE"),
         "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
    ] {
        let e = t.err("UpdateItem", req);
        assert_eq!((e.1.as_str(), e.2.as_str()), ("ValidationException", msg));
    }
    // The legacy AttributeUpdates is refused, not ignored.
    let legacy = json!({"TableName": "SensorReadings", "Key": key,
                        "AttributeUpdates": {"a": {"Action": "PUT", "Value": {"N": "1"}}}});
    let e = t.err("UpdateItem", legacy);
    assert!(
        e.2.starts_with("AttributeUpdates (a legacy parameter) is not supported"),
        "{}",
        e.2
    );
    let mut missing = upd("SET a = :v", json!({":v": {"N": "1"}}), "NONE");
    missing["TableName"] = json!("Nope");
    assert_eq!(t.err("UpdateItem", missing).1, "ResourceNotFoundException");
}

#[test]
fn batch_get_item_limits_projection_and_unprocessed_keys() {
    let mut t = T::new();
    put_all(&mut t, (0..120).map(|i| reading("b", i)).collect());
    let keys = |r: std::ops::Range<u32>| -> Vec<Value> {
        r.map(|i| json!({"deviceId": {"S": "b"}, "seq": {"N": i.to_string()}}))
            .collect()
    };
    let r = t.ok(
        "BatchGetItem",
        json!({"RequestItems": {"SensorReadings": {"Keys": keys(0..3).into_iter().chain(keys(500..501)).collect::<Vec<_>>(),
               "ProjectionExpression": "seq, #t", "ExpressionAttributeNames": {"#t": "t"}}}}),
    );
    let mut got: Vec<Value> = r["Responses"]["SensorReadings"].as_array().unwrap().clone();
    got.sort_by_key(seq_of);
    assert_eq!(
        got,
        (0..3)
            .map(|i| json!({"seq": {"N": i.to_string()}, "t": {"N": "20.25"}}))
            .collect::<Vec<_>>()
    );
    assert_eq!(r["UnprocessedKeys"], json!({}));
    let e = t.err(
        "BatchGetItem",
        json!({"RequestItems": {"SensorReadings": {"Keys": keys(0..101)}}}),
    );
    assert_eq!(e.1, "ValidationException");
    assert!(
        e.2.contains("Member must have length less than or equal to 100"),
        "{}",
        e.2
    );
    let mut dup = keys(0..2);
    dup.push(dup[0].clone());
    assert_eq!(
        t.err(
            "BatchGetItem",
            json!({"RequestItems": {"SensorReadings": {"Keys": dup}}})
        )
        .2,
        "Provided list of item keys contains duplicates"
    );
    assert_eq!(
        t.err(
            "BatchGetItem",
            json!({"RequestItems": {"Nope": {"Keys": keys(0..1)}}})
        )
        .1,
        "ResourceNotFoundException"
    );
    assert_eq!(
        t.err(
            "BatchGetItem",
            json!({"RequestItems": {"SensorReadings": {"Keys": [{"deviceId": {"S": "b"}}]}}})
        )
        .2,
        "The provided key element does not match the schema"
    );

    // 16 MB: 50 items of about 390 KB (19.5 MB); the response stops past 16 MB, the rest is
    // left in UnprocessedKeys, and asking for those returns them.
    put_all(&mut t, (0..50).map(|i| big("huge", i, 390)).collect());
    let hk: Vec<Value> = (0..50)
        .map(|i| json!({"deviceId": {"S": "huge"}, "seq": {"N": i.to_string()}}))
        .collect();
    let r = t.ok(
        "BatchGetItem",
        json!({"RequestItems": {"SensorReadings": {"Keys": hk}}}),
    );
    let first = r["Responses"]["SensorReadings"].as_array().unwrap().len();
    let left = r["UnprocessedKeys"]["SensorReadings"]["Keys"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(first, 43, "16 MiB / 390 KiB, rounded up");
    assert_eq!(first + left.len(), 50);
    let r2 = t.ok(
        "BatchGetItem",
        json!({"RequestItems": {"SensorReadings": {"Keys": left}}}),
    );
    assert_eq!(
        r2["Responses"]["SensorReadings"].as_array().unwrap().len(),
        7
    );
    assert_eq!(r2["UnprocessedKeys"], json!({}));
}

#[test]
fn batch_write_item_limits_with_the_services_messages() {
    let mut t = T::new();
    let reqs = |n: u32, dev: &str| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"PutRequest": {"Item": reading(dev, i)}}))
            .collect()
    };
    let e = t.err(
        "BatchWriteItem",
        json!({"RequestItems": {"SensorReadings": reqs(26, "a")}}),
    );
    assert_eq!(e.1, "ValidationException");
    assert!(
        e.2.contains(
            "Map value must satisfy constraint: [Member must have length less than or equal to 25"
        ),
        "{}",
        e.2
    );
    // Create a second table: 2 x 13 requests are 26 in all.
    t.ok("CreateTable", json!({"TableName": "Other", "KeySchema": [{"AttributeName": "deviceId", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "deviceId", "AttributeType": "S"}, {"AttributeName": "seq", "AttributeType": "N"}], "BillingMode": "PAY_PER_REQUEST"}));
    let e = t.err(
        "BatchWriteItem",
        json!({"RequestItems": {"SensorReadings": reqs(13, "a"), "Other": reqs(13, "a")}}),
    );
    assert_eq!(e.2, "Too many items requested for the BatchWriteItem call");
    let e = t.err("BatchWriteItem", json!({"RequestItems": {}}));
    assert!(
        e.2.contains("Member must have length greater than or equal to 1"),
        "{}",
        e.2
    );
    let e = t.err(
        "BatchWriteItem",
        json!({"RequestItems": {"SensorReadings": [{"PutRequest": {"Item": big("a", 1, 401)}}]}}),
    );
    assert_eq!(e.2, "Item size has exceeded the maximum allowed size");
    t.ok(
        "BatchWriteItem",
        json!({"RequestItems": {"SensorReadings": reqs(25, "a")}}),
    );
    assert_eq!(t.ep.items("SensorReadings").unwrap().len(), 25);
}

#[test]
fn transactions_are_all_or_nothing_with_cancellation_reasons() {
    let mut t = T::new();
    put_all(&mut t, vec![reading("t", 1), reading("t", 2)]);
    let k = |s: u32| json!({"deviceId": {"S": "t"}, "seq": {"N": s.to_string()}});
    let tx = |check_value: &str| {
        json!({"TransactItems": [
            {"Put": {"TableName": "SensorReadings", "Item": reading("t", 3)}},
            {"Update": {"TableName": "SensorReadings", "Key": k(1), "UpdateExpression": "SET t = :v",
                        "ExpressionAttributeValues": {":v": {"N": "99"}}}},
            {"Delete": {"TableName": "SensorReadings", "Key": k(4)}},
            {"ConditionCheck": {"TableName": "SensorReadings", "Key": k(2),
                                "ConditionExpression": "t = :t", "ExpressionAttributeValues": {":t": {"N": check_value}},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ]})
    };
    let r = t.call("TransactWriteItems", tx("1"));
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(
        v["__type"],
        "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
    );
    assert_eq!(
        v["message"],
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, None, ConditionalCheckFailed]"
    );
    assert_eq!(v["CancellationReasons"][0], json!({"Code": "None"}));
    assert_eq!(
        v["CancellationReasons"][3]["Code"],
        "ConditionalCheckFailed"
    );
    assert_eq!(v["CancellationReasons"][3]["Item"], reading("t", 2));
    let seqs: Vec<usize> =
        t.ep.items("SensorReadings")
            .unwrap()
            .iter()
            .map(seq_of)
            .collect();
    assert_eq!(seqs, [1, 2], "nothing was written");

    assert_eq!(t.ok("TransactWriteItems", tx("20.25")), json!({}));
    let items = t.ep.items("SensorReadings").unwrap();
    let seqs: Vec<usize> = items.iter().map(seq_of).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(items[0]["t"], json!({"N": "99"}));

    let two_on_one = json!({"TransactItems": [
        {"Delete": {"TableName": "SensorReadings", "Key": k(1)}},
        {"ConditionCheck": {"TableName": "SensorReadings", "Key": k(1), "ConditionExpression": "attribute_exists(t)"}}]});
    assert_eq!(
        t.err("TransactWriteItems", two_on_one).2,
        "Transaction request cannot include multiple operations on one item"
    );
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"Delete": {"TableName": "SensorReadings", "Key": k(i)}}))
        .collect();
    assert!(t
        .err("TransactWriteItems", json!({"TransactItems": many}))
        .2
        .contains("Member must have length less than or equal to 100"));
    let both = json!({"TransactItems": [{"Delete": {"TableName": "SensorReadings", "Key": k(1)},
                                         "Put": {"TableName": "SensorReadings", "Item": reading("t", 1)}}]});
    assert_eq!(
        t.err("TransactWriteItems", both).2,
        "TransactItems can only contain one of Check, Put, Update or Delete"
    );

    let r = t.ok(
        "TransactGetItems",
        json!({"TransactItems": [
            {"Get": {"TableName": "SensorReadings", "Key": k(1), "ProjectionExpression": "t"}},
            {"Get": {"TableName": "SensorReadings", "Key": k(5)}}]}),
    );
    assert_eq!(r, json!({"Responses": [{"Item": {"t": {"N": "99"}}}, {}]}));
    assert_eq!(
        t.err(
            "TransactGetItems",
            json!({"TransactItems": [{"Get": {"TableName": "Nope", "Key": k(1)}}]})
        )
        .1,
        "ResourceNotFoundException"
    );
}

#[test]
fn a_body_in_another_content_type_is_refused_with_a_404_before_the_signature() {
    let mut t = T::new();
    let body = br#"{"TableName": "SensorReadings"}"#;
    for ct in ["text/plain", "application/x-amz-json-1.1", ""] {
        let mut headers = dynamo_headers("DescribeTable", body);
        headers.retain(|(k, _)| k != "content-type");
        if !ct.is_empty() {
            headers.push(("content-type".into(), ct.into()));
        }
        let (r, _) = t.raw(&wire("POST", "/", &headers, body));
        assert_eq!(r.status, 404, "{ct}");
        assert_eq!(r.body, b"<UnknownOperationException/>\n");
    }
    // application/json is accepted (and answered as application/json), as the service does.
    let unix = t.ep.now_unix(t.now) as u64;
    let mut headers = dynamo_headers("DescribeTable", body);
    for h in headers.iter_mut() {
        if h.0 == "content-type" {
            h.1 = "application/json".into();
        }
    }
    let signed = aws_sign(
        &Credentials::test_key(),
        ("us-east-1", "dynamodb"),
        unix,
        "POST",
        &format!("https://{HOST}/"),
        &headers,
        body,
    );
    headers.extend(signed);
    let (r, _) = t.raw(&wire("POST", "/", &headers, body));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/json"));
}
