//! Checks a finished run against the scenario's expectations, one verdict per expectation.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use ft900_sim::StopReason;

use super::spec::{
    self, BackoffExpectation, ItemsExpectation, RequestsExpectation, Scenario, UartExpectation,
};
use super::world::{DeviceOutcome, WorldOutcome};
use super::{backoff, readings};

/// One expectation's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was expected, in words.
    pub what: String,
    /// Whether it held.
    pub ok: bool,
    /// Why not (or a short confirmation).
    pub detail: String,
}

impl Check {
    fn new(what: impl Into<String>, ok: bool, detail: impl Into<String>) -> Check {
        Check {
            what: what.into(),
            ok,
            detail: detail.into(),
        }
    }
}

/// Every verdict, in the order: exits, time bound, UART, items, requests.
pub fn check_all(s: &Scenario, run: &WorldOutcome) -> Vec<Check> {
    let mut checks = vec![check_exits(s, run)];
    if let Some(secs) = s.expect.within_virtual_seconds {
        let late: Vec<String> = run
            .devices
            .iter()
            .filter(|d| d.stop.is_none() || d.end_ns as f64 > secs * 1e9)
            .map(|d| format!("{} at {:.3} s", d.id, d.end_ns as f64 / 1e9))
            .collect();
        checks.push(Check::new(
            format!("every device done within {secs} s (virtual)"),
            late.is_empty(),
            if late.is_empty() {
                String::new()
            } else {
                format!("late: {}", late.join(", "))
            },
        ));
    }
    for u in &s.expect.uart {
        checks.push(check_uart(u, &run.devices));
    }
    for i in &s.expect.items {
        checks.push(check_items(i, s, run));
    }
    for r in &s.expect.requests {
        checks.push(check_requests(r, run));
    }
    for b in &s.expect.backoff {
        checks.push(check_backoff(b, s, run));
    }
    checks
}

/// The partition and sort key names of table `name`, if the scenario has it.
fn table_keys(s: &Scenario, name: &str) -> Option<(String, String)> {
    let t = s.endpoint.tables.iter().find(|t| t.name == name)?;
    let pk = spec::parse_key(&t.partition_key).ok()?.0;
    let sk = spec::parse_key(t.sort_key.as_deref()?).ok()?.0;
    Some((pk, sk))
}

fn check_backoff(e: &BackoffExpectation, s: &Scenario, run: &WorldOutcome) -> Check {
    let who = if e.device == "*" {
        "every device".to_string()
    } else {
        e.device.clone()
    };
    // Devices write to the first table (the configuration block names it).
    let pk = s
        .endpoint
        .tables
        .first()
        .and_then(|t| spec::parse_key(&t.partition_key).ok())
        .map_or_else(|| "deviceId".to_string(), |k| k.0);
    let f = backoff::check(e, &run.endpoint.requests(), &run.devices, &pk);
    const SHOWN: usize = 6;
    let mut gaps: Vec<String> = f
        .gaps
        .iter()
        .take(SHOWN)
        .map(|(k, b, g)| format!("#{k} {b}/{g:.1}"))
        .collect();
    if f.gaps.len() > SHOWN {
        gaps.push("...".into());
    }
    let what = format!(
        "backoff ({who}): {} retries timed in the request log, each gap ≥ its announced backoff \
         (attempt announced/gap ms: {}), windows {} ms doubling to {} ms{}, longest streak {}",
        f.measured,
        gaps.join(", "),
        e.base_ms,
        e.cap_ms,
        if e.growing { ", growing" } else { "" },
        f.longest_streak
    );
    Check::new(what, f.problems.is_empty(), truncate(f.problems.join("; ")))
}

fn describe_stop(d: &DeviceOutcome) -> String {
    match &d.stop {
        None => "still running at the time limit".into(),
        Some(StopReason::Exited(code)) => format!("exit {code}"),
        Some(other) => format!("{other:?}"),
    }
}

fn check_exits(s: &Scenario, run: &WorldOutcome) -> Check {
    if s.expect.still_running {
        let stopped: Vec<String> = run
            .devices
            .iter()
            .filter(|d| d.stop.is_some())
            .map(|d| format!("{}: {}", d.id, describe_stop(d)))
            .collect();
        return Check::new(
            format!("every device still running at {} s", s.max_virtual_seconds),
            stopped.is_empty(),
            stopped.join("; "),
        );
    }
    let want = s.expect.exit_status.unwrap_or(0);
    let bad: Vec<String> = run
        .devices
        .iter()
        .filter(|d| d.stop != Some(StopReason::Exited(want)))
        .map(|d| format!("{}: {}", d.id, describe_stop(d)))
        .collect();
    Check::new(
        format!("every device exits with status {want}"),
        bad.is_empty(),
        bad.join("; "),
    )
}

fn check_uart(u: &UartExpectation, devices: &[DeviceOutcome]) -> Check {
    // The regex was checked when the scenario was loaded.
    let re = match Regex::new(&u.regex) {
        Ok(re) => re,
        Err(e) => return Check::new(format!("uart /{}/", u.regex), false, e.to_string()),
    };
    let chosen: Vec<&DeviceOutcome> = devices
        .iter()
        .filter(|d| u.device == "*" || d.id == u.device)
        .collect();
    let who = if u.device == "*" {
        "every device".to_string()
    } else {
        u.device.clone()
    };
    let mut problems = Vec::new();
    for d in &chosen {
        let matches: Vec<(u64, String)> = d
            .lines()
            .into_iter()
            .filter(|(_, l)| re.is_match(l))
            .collect();
        if !u.present {
            if let Some((t, line)) = matches.first() {
                problems.push(format!("{}: {line:?} at {:.3} s", d.id, *t as f64 / 1e9));
            }
            continue;
        }
        let min = u.min_count.unwrap_or(1);
        if matches.len() < min {
            problems.push(format!(
                "{}: {} matching lines, expected at least {min}",
                d.id,
                matches.len()
            ));
        } else if u.max_count.is_some_and(|max| matches.len() > max) {
            problems.push(format!(
                "{}: {} matching lines, expected at most {}",
                d.id,
                matches.len(),
                u.max_count.unwrap_or_default()
            ));
        } else if let Some(limit) = u.within_virtual_seconds {
            let first = matches[0].0 as f64 / 1e9;
            if first > limit {
                problems.push(format!("{}: first match at {first:.3} s", d.id));
            }
        }
    }
    let what = match (u.present, u.within_virtual_seconds) {
        (false, _) => format!("uart: no line /{}/ ({who})", u.regex),
        (true, Some(t)) => format!("uart: /{}/ within {t} s ({who})", u.regex),
        (true, None) => format!("uart: /{}/ ({who})", u.regex),
    };
    Check::new(what, problems.is_empty(), problems.join("; "))
}

fn check_items(e: &ItemsExpectation, s: &Scenario, run: &WorldOutcome) -> Check {
    let Some(items) = run.endpoint.items(&e.table) else {
        return Check::new(format!("items in {}", e.table), false, "no such table");
    };
    let mut problems = Vec::new();
    let mut said = Vec::new();
    if let Some(count) = e.count {
        said.push(format!("{count} items"));
        if items.len() != count {
            problems.push(format!("{} items, expected {count}", items.len()));
        }
    }
    if let Some(seq) = &e.sequence {
        said.push(format!(
            "every ({}, {}) for {}..={} exactly once",
            seq.partition_key, seq.sort_key, seq.from, seq.to
        ));
        let mut seen: BTreeMap<(String, u64), usize> = BTreeMap::new();
        for item in &items {
            let device = item
                .get(&seq.partition_key)
                .and_then(|v| v.get("S"))
                .and_then(Value::as_str);
            let n = item
                .get(&seq.sort_key)
                .and_then(|v| v.get("N"))
                .and_then(Value::as_str)
                .and_then(|n| n.parse::<u64>().ok());
            match (device, n) {
                (Some(d), Some(n)) => *seen.entry((d.to_string(), n)).or_default() += 1,
                _ => problems.push(format!(
                    "item without {} (S) and {} (N): {item}",
                    seq.partition_key, seq.sort_key
                )),
            }
        }
        for d in &s.devices {
            let missing: Vec<u64> = (seq.from..=seq.to)
                .filter(|n| !seen.contains_key(&(d.id.clone(), *n)))
                .collect();
            if !missing.is_empty() {
                problems.push(format!("{}: missing seq {}", d.id, ranges(&missing)));
            }
        }
        for ((d, n), times) in &seen {
            let known = s.devices.iter().any(|x| &x.id == d);
            if *times > 1 {
                problems.push(format!("{d}: seq {n} stored {times} times"));
            }
            if !known || *n < seq.from || *n > seq.to {
                problems.push(format!("unexpected item ({d}, {n})"));
            }
        }
    }
    if e.match_uart_readings {
        said.push("each item equal to its device's `reading` line and every reading stored".into());
        match table_keys(s, &e.table) {
            Some((pk, sk)) => {
                problems.extend(readings::check_against_uart(&items, &run.devices, &pk, &sk))
            }
            None => problems.push(format!("table {} has no sort key", e.table)),
        }
    }
    for wanted in &e.contains {
        let wanted = match serde_json::to_value(wanted) {
            Ok(Value::Object(map)) => map,
            _ => {
                problems.push("contains: not a table".into());
                continue;
            }
        };
        said.push(format!("an item with {}", Value::Object(wanted.clone())));
        let found = items
            .iter()
            .any(|item| wanted.iter().all(|(k, v)| item.get(k) == Some(v)));
        if !found {
            problems.push(format!("no item has {}", Value::Object(wanted.clone())));
        }
    }
    Check::new(
        format!("{} in table {}", said.join(", "), e.table),
        problems.is_empty(),
        truncate(problems.join("; ")),
    )
}

fn check_requests(e: &RequestsExpectation, run: &WorldOutcome) -> Check {
    let n = run
        .endpoint
        .requests()
        .iter()
        .filter(|r| e.operation.as_deref().is_none_or(|op| r.operation == op))
        .filter(|r| e.status.is_none_or(|st| r.status == st))
        .count();
    let mut what = format!(
        "requests {} status {}",
        e.operation.as_deref().unwrap_or("(any operation)"),
        e.status.map_or("any".to_string(), |s| s.to_string())
    );
    let mut ok = true;
    if let Some(min) = e.min {
        what.push_str(&format!(" ≥ {min}"));
        ok &= n >= min;
    }
    if let Some(max) = e.max {
        what.push_str(&format!(" ≤ {max}"));
        ok &= n <= max;
    }
    Check::new(what, ok, format!("{n} seen"))
}

/// `1-3, 7` for `[1, 2, 3, 7]`.
fn ranges(ns: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ns.len() {
        let mut j = i;
        while j + 1 < ns.len() && ns[j + 1] == ns[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            ns[i].to_string()
        } else {
            format!("{}-{}", ns[i], ns[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

fn truncate(mut s: String) -> String {
    const MAX: usize = 600;
    if s.len() > MAX {
        let cut = (0..=MAX)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        s.truncate(cut);
        s.push_str(" ...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_compact() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(ranges(&[]), "");
    }

    fn device(text: &str) -> DeviceOutcome {
        DeviceOutcome::exited_with_uart(
            "hopper",
            text.as_bytes().to_vec(),
            (0..text.len() as u64).map(|i| i * 1_000_000_000).collect(),
        )
    }

    fn uart(regex: &str, present: bool, within: Option<f64>) -> UartExpectation {
        UartExpectation {
            regex: regex.into(),
            device: "*".into(),
            present,
            within_virtual_seconds: within,
            min_count: None,
            max_count: None,
        }
    }

    #[test]
    fn uart_checks_match_lines_and_times() {
        // Byte i leaves at i seconds: "ok\n" at 0 s, "ERROR x\n" at 3 s.
        let d = [device("ok\nERROR x\n")];
        assert!(check_uart(&uart("^ok$", true, None), &d).ok);
        assert!(!check_uart(&uart("^ERROR", false, None), &d).ok);
        assert!(check_uart(&uart("^ERROR", true, Some(3.5)), &d).ok);
        let late = check_uart(&uart("^ERROR", true, Some(2.0)), &d);
        assert!(
            !late.ok && late.detail.contains("first match at 3.000 s"),
            "{late:?}"
        );
        assert!(!check_uart(&uart("^missing", true, None), &d).ok);
    }

    #[test]
    fn uart_max_count_catches_a_repeated_error() {
        let d = [device("ERROR a\nok\nERROR b\n")];
        let mut once = uart("^ERROR", true, None);
        once.max_count = Some(1);
        let c = check_uart(&once, &d);
        assert!(
            !c.ok && c.detail.contains("2 matching lines, expected at most 1"),
            "{c:?}"
        );
        once.max_count = Some(2);
        assert!(check_uart(&once, &d).ok);
    }
}
