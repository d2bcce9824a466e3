//! Cross-checks stored items against what each device said it measured.
//!
//! The firmware prints every reading it takes on UART0 (`reading seq=N temperature=T
//! humidity=H time=ISO ...`, see `firmware/app/main.c`) and stores it as an item with the
//! device id (S) and the sequence number (N) as keys, `temperature` and `humidity` as N strings
//! with two decimals and `timestamp` as an ISO-8601 S string, formatted exactly as printed
//! (`firmware/aws/dynamodb.c`). DynamoDB keeps numbers in canonical form (`17.30` is stored and
//! returned as `17.3`). So every stored item must equal one reading line of its device,
//! attribute for attribute: the timestamp character for character, each number as the exact
//! canonical N string of the printed one; and every reading line must have its item. A value
//! altered, rounded or re-formatted anywhere between the sensor and the table shows up here.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::world::DeviceOutcome;
use crate::endpoint::Number;

/// One reading as the device printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Sequence number.
    pub seq: u64,
    /// Temperature as printed (`21.07`).
    pub temperature: String,
    /// Humidity as printed (`45.30`).
    pub humidity: String,
    /// Time as printed (`2026-01-01T00:00:01Z`).
    pub time: String,
}

/// The item attributes of a reading besides the two keys, with their DynamoDB types.
const VALUE_ATTRIBUTES: [(&str, &str); 3] =
    [("temperature", "N"), ("humidity", "N"), ("timestamp", "S")];

/// A device's reading lines by sequence number, and problems (a sequence number printed
/// twice) found while reading them.
pub fn readings_of(d: &DeviceOutcome) -> (BTreeMap<u64, Reading>, Vec<String>) {
    // `\S+` rather than a number pattern: a malformed value must reach the comparison (and
    // fail it there, with both texts shown) instead of hiding the whole line.
    let re = Regex::new(r"^reading seq=(\d+) temperature=(\S+) humidity=(\S+) time=(\S+)")
        .expect("a valid pattern");
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (_, line) in d.lines() {
        let Some(c) = re.captures(&line) else {
            continue;
        };
        let Ok(seq) = c[1].parse::<u64>() else {
            problems.push(format!("{}: sequence number out of range: {line:?}", d.id));
            continue;
        };
        let r = Reading {
            seq,
            temperature: c[2].to_string(),
            humidity: c[3].to_string(),
            time: c[4].to_string(),
        };
        if out.insert(seq, r).is_some() {
            problems.push(format!("{}: reading seq={seq} printed twice", d.id));
        }
    }
    (out, problems)
}

/// `item[name]` when it is `{ TYPE: "text" }`.
fn typed<'a>(item: &'a Map<String, Value>, name: &str, ty: &str) -> Option<&'a str> {
    item.get(name)?.get(ty)?.as_str()
}

/// Checks `items` (DynamoDB JSON, as the endpoint stores them) against the devices' reading
/// lines: each item is its device's reading, attribute for attribute, with nothing else in it,
/// and each reading is stored. `partition_key`/`sort_key` name the device id (S) and sequence
/// number (N) attributes. Returns the problems found (empty: all good).
pub fn check_against_uart(
    items: &[Value],
    devices: &[DeviceOutcome],
    partition_key: &str,
    sort_key: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut printed: BTreeMap<&str, BTreeMap<u64, Reading>> = BTreeMap::new();
    for d in devices {
        let (readings, mut p) = readings_of(d);
        problems.append(&mut p);
        printed.insert(d.id.as_str(), readings);
    }
    let mut stored: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for item in items {
        let Some(item) = item.as_object() else {
            problems.push(format!("not an item: {item}"));
            continue;
        };
        let device = typed(item, partition_key, "S");
        let seq = typed(item, sort_key, "N").and_then(|n| n.parse::<u64>().ok());
        let (Some(device), Some(seq)) = (device, seq) else {
            problems.push(format!(
                "item without {partition_key} (S) and {sort_key} (N): {}",
                Value::Object(item.clone())
            ));
            continue;
        };
        *stored.entry((device.to_string(), seq)).or_default() += 1;
        let Some(readings) = printed.get(device) else {
            problems.push(format!("item of unknown device {device:?} (seq {seq})"));
            continue;
        };
        let Some(reading) = readings.get(&seq) else {
            problems.push(format!(
                "{device}: item seq {seq} has no reading line on the UART"
            ));
            continue;
        };
        let want = [&reading.temperature, &reading.humidity, &reading.time];
        for ((name, ty), printed) in VALUE_ATTRIBUTES.iter().zip(want) {
            // A printed number that is not one stays as printed and cannot match an N.
            let want = match *ty {
                "N" => Number::parse(printed).map_or_else(|_| printed.clone(), |n| n.to_text()),
                _ => printed.clone(),
            };
            match typed(item, name, ty) {
                Some(got) if got == want => {}
                Some(got) => problems.push(format!(
                    "{device} seq {seq}: {name} stored {ty} {got:?}, the device printed {printed:?}"
                )),
                None => problems.push(format!(
                    "{device} seq {seq}: no {name} ({ty}) in {}",
                    Value::Object(item.clone())
                )),
            }
        }
        let known = |k: &String| {
            k == partition_key || k == sort_key || VALUE_ATTRIBUTES.iter().any(|(n, _)| n == k)
        };
        let extra: Vec<&String> = item.keys().filter(|k| !known(k)).collect();
        if !extra.is_empty() {
            problems.push(format!(
                "{device} seq {seq}: attributes the firmware does not write: {extra:?}"
            ));
        }
    }
    for (device, readings) in &printed {
        let missing: Vec<u64> = readings
            .keys()
            .filter(|seq| !stored.contains_key(&(device.to_string(), **seq)))
            .copied()
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{device}: readings printed but not stored: seq {missing:?}"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(id: &str, text: &str) -> DeviceOutcome {
        DeviceOutcome::exited_with_uart(id, text.as_bytes().to_vec(), vec![0; text.len()])
    }

    const HOPPER: &str = "dhcp 10.0.2.15\n\
        reading seq=1 temperature=27.04 humidity=37.51 time=2026-01-01T00:00:00Z queued=1\n\
        put seq=1 status=200 attempts=1 ms=13\n\
        reading seq=2 temperature=17.30 humidity=45.37 time=2026-01-01T00:00:01Z queued=1\n";

    fn item(seq: &str, t: &str, h: &str, ts: &str) -> Value {
        json!({
            "deviceId": { "S": "hopper" },
            "seq": { "N": seq },
            "temperature": { "N": t },
            "humidity": { "N": h },
            "timestamp": { "S": ts },
        })
    }

    fn good() -> Vec<Value> {
        vec![
            item("1", "27.04", "37.51", "2026-01-01T00:00:00Z"),
            // DynamoDB's canonical form of the printed 17.30.
            item("2", "17.3", "45.37", "2026-01-01T00:00:01Z"),
        ]
    }

    fn check(items: &[Value]) -> Vec<String> {
        check_against_uart(items, &[device("hopper", HOPPER)], "deviceId", "seq")
    }

    #[test]
    fn items_equal_to_the_printed_readings_pass() {
        assert_eq!(check(&good()), Vec::<String>::new());
    }

    #[test]
    fn a_tampered_value_is_caught_and_named() {
        let mut items = good();
        items[1]["temperature"]["N"] = json!("17.31");
        let p = check(&items);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains(
                "hopper seq 2: temperature stored N \"17.31\", the device printed \"17.30\""
            ),
            "{p:?}"
        );
        // DynamoDB never stores a number in another form than its canonical one.
        let mut items = good();
        items[1]["temperature"]["N"] = json!("17.30");
        assert!(check(&items)[0].contains("temperature"));
        let mut items = good();
        items[0]["humidity"]["N"] = json!("-37.51");
        assert!(check(&items)[0].contains("humidity"));
        let mut items = good();
        items[0]["timestamp"]["S"] = json!("2026-01-01T00:00:01Z");
        assert!(check(&items)[0].contains("timestamp"));
        let mut items = good();
        items[0]["humidity"] = json!({ "S": "37.51" });
        assert!(check(&items)[0].contains("no humidity (N)"));
    }

    #[test]
    fn items_without_a_reading_and_readings_without_an_item_are_caught() {
        let mut items = good();
        items.push(item("3", "20.00", "40.00", "2026-01-01T00:00:02Z"));
        let p = check(&items);
        assert!(
            p.iter()
                .any(|p| p.contains("item seq 3 has no reading line")),
            "{p:?}"
        );
        let p = check(&good()[..1]);
        assert!(
            p.iter()
                .any(|p| p.contains("printed but not stored: seq [2]")),
            "{p:?}"
        );
        let mut items = good();
        items[0]["deviceId"]["S"] = json!("knuth");
        let p = check(&items);
        assert!(
            p.iter().any(|p| p.contains("unknown device \"knuth\"")),
            "{p:?}"
        );
    }

    #[test]
    fn extra_attributes_and_repeated_lines_are_caught() {
        let mut items = good();
        items[0]["battery"] = json!({ "N": "3.3" });
        assert!(check(&items)[0].contains("\"battery\""));
        let twice = format!("{HOPPER}reading seq=2 temperature=1.00 humidity=2.00 time=x\n");
        let p = check_against_uart(&good(), &[device("hopper", &twice)], "deviceId", "seq");
        assert!(p.iter().any(|p| p.contains("seq=2 printed twice")), "{p:?}");
    }
}
