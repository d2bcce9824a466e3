//! Entry points for the fuzz targets in `fuzz/` (hidden, not a stable API): the operation
//! dispatcher and the expression parser are private to the endpoint, so the targets reach them
//! through here, against in-memory tables and without certificates, sockets or a request log.

use serde_json::{json, Map, Value};

use super::attr::{item_size, MAX_ITEM_BYTES};
use super::expr::{check_unused, Parser};
use super::protocol::{self, ApiError, Context};
use super::tables::{Table, Tables};
use super::{KeyType, TableSpec};

/// An in-memory table set behind the DynamoDB operation dispatcher, as the endpoint has it.
#[derive(Debug)]
pub struct Dispatcher {
    tables: Tables,
}

impl Default for Dispatcher {
    fn default() -> Dispatcher {
        Dispatcher::new()
    }
}

impl Dispatcher {
    /// Two tables: the firmware's `SensorReadings` (`deviceId` S, `seq` N) with three items,
    /// and `Blobs` keyed by a binary `k` alone, empty.
    pub fn new() -> Dispatcher {
        let mut tables = Tables::default();
        let blobs = TableSpec {
            name: "Blobs".into(),
            partition_key: ("k".into(), KeyType::B),
            sort_key: None,
        };
        for spec in [TableSpec::sensor_readings(), blobs] {
            tables.by_name.insert(
                spec.name.clone(),
                Table {
                    name: spec.name,
                    hash: spec.partition_key,
                    range: spec.sort_key,
                    items: Default::default(),
                    created_unix: 1.7e9,
                    billing_mode: "PAY_PER_REQUEST".into(),
                    throughput: (0, 0),
                },
            );
        }
        let mut d = Dispatcher { tables };
        for (dev, seq, temp) in [
            ("hopper", "1", "21.5"),
            ("hopper", "2", "-3"),
            ("lovelace", "1", "0.5"),
        ] {
            let item = json!({"TableName": "SensorReadings", "Item": {
                "deviceId": {"S": dev}, "seq": {"N": seq}, "temp": {"N": temp},
                "tags": {"SS": ["a", "b"]}, "raw": {"B": "AAEC"}, "ok": {"BOOL": true},
                "m": {"M": {"x": {"L": [{"N": "1"}, {"NULL": true}]}}}}});
            d.dispatch("PutItem", item.to_string().as_bytes())
                .expect("the seed items are valid");
        }
        d
    }

    /// Runs operation `op` (`PutItem`, `Query`, ...) with request body `body`.
    pub fn dispatch(&mut self, op: &str, body: &[u8]) -> Result<Value, ApiError> {
        let cx = Context {
            region: "us-east-1",
            now_unix: 1.7e9,
            throttled: false,
        };
        protocol::dispatch(&mut self.tables, &cx, op, body)
    }

    /// Checks what every operation must preserve: each stored item is filed under its own
    /// primary key and fits DynamoDB's item size limit.
    pub fn check_invariants(&self) -> Result<(), String> {
        for t in self.tables.by_name.values() {
            for (k, item) in &t.items {
                match t.item_key(item) {
                    Ok(own) if own == *k => {}
                    Ok(own) => {
                        return Err(format!("{}: item filed under {k:?}, has {own:?}", t.name))
                    }
                    Err(e) => return Err(format!("{}: stored item without its key: {e}", t.name)),
                }
                if item_size(item) > MAX_ITEM_BYTES {
                    return Err(format!(
                        "{}: item of {} bytes stored",
                        t.name,
                        item_size(item)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Parses `src` as a condition, filter or key-condition expression (`kind` names it) with
/// these placeholder maps, checks unused placeholders, and evaluates it on `item`. `Ok` holds
/// the verdict.
pub fn condition(
    names: Option<&Map<String, Value>>,
    values: Option<&Map<String, Value>>,
    src: &str,
    kind: &str,
    item: &Map<String, Value>,
) -> Result<bool, String> {
    let mut p = Parser::new(names, values);
    let cond = p.parse(src, kind)?;
    check_unused(&p.usage, names, values)?;
    let mut paths = std::collections::BTreeSet::new();
    cond.paths(&mut paths);
    Ok(cond.eval(item))
}
