//! Backoff as the endpoint saw it: after a retryable failure a device must wait before it asks
//! again, and the wait must come from an exponentially growing window.
//!
//! The firmware (`firmware/aws/dynamodb.c`) retries with *full jitter*: after the k-th
//! consecutive failure of one call it sleeps a backoff drawn uniformly from
//! `[0, min(cap, base · 2^(k-1)))` (base 100 ms, cap 20 s) and announces it on its UART before
//! sleeping (`retry <op> attempt=k status=S type=T backoff=B ms`). Full jitter has no positive
//! lower bound on a single wait and does not make every wait longer than the previous one, so
//! the check holds the firmware to what full jitter does promise:
//!
//! - every retryable failure in the request log (5xx, 429, a throttling error type, a throttle
//!   or reset injected on a 200) is followed by a `retry` line of its device, unless the device
//!   gave up on that call (`ERROR ... gave up`): no failure is retried silently;
//! - the device's next request reaches the endpoint no sooner than the announced backoff after
//!   the failed one (the log's own timing: the device really slept);
//! - within a streak the attempt counter goes up by one per failure and each announced backoff
//!   lies inside its window `[0, min(cap, base · 2^(k-1)))`: the window doubles;
//! - with `growing`, some backoff at attempt 2 or later exceeds the whole first window, so the
//!   growth shows in the timing, not only in the counters. (With full jitter a streak of k
//!   failures misses this with probability 1/2 · 1/4 · ... · 1/2^(k-1); scenarios give it a few
//!   long streaks, and a fixed seed makes the outcome the same on every run.)
//!
//! Requests are attributed to devices by the partition key in their body (every item a device
//! writes carries its id).

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::spec::BackoffExpectation;
use super::world::DeviceOutcome;
use crate::endpoint::RequestRecord;

/// Error types the firmware retries (`ddb_classify`).
const RETRYABLE_TYPES: [&str; 6] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// Whether the device must have seen this request fail in a way it retries.
pub fn is_retryable_failure(r: &RequestRecord) -> bool {
    let type_retryable = r.error_type.as_deref().is_some_and(|t| {
        let short = t.rsplit('#').next().unwrap_or(t);
        RETRYABLE_TYPES.contains(&short)
    });
    // A throttle on a BatchWriteItem answers 200 with UnprocessedItems; a reset cuts a 200
    // off: the device retries both.
    let injected = matches!(r.fault.as_deref(), Some("Throttle" | "ResetMidResponse"));
    r.status >= 500 || r.status == 429 || type_retryable || injected
}

/// The device a request came from: the partition key of the (first) item in its body.
pub fn device_of(r: &RequestRecord, partition_key: &str) -> Option<String> {
    let from_item = |item: &Value| {
        item.get(partition_key)?
            .get("S")?
            .as_str()
            .map(str::to_string)
    };
    if let Ok(body) = serde_json::from_str::<Value>(&r.body) {
        if let Some(item) = body.get("Item") {
            return from_item(item);
        }
        let first = body
            .get("RequestItems")?
            .as_object()?
            .values()
            .next()?
            .get(0)?;
        return from_item(first.get("PutRequest")?.get("Item")?);
    }
    // A body cut at the log's size limit is not JSON any more; the firmware writes the key
    // first and compactly, so its text still names the device.
    let needle = format!("\"{partition_key}\":{{\"S\":\"");
    let start = r.body.find(&needle)? + needle.len();
    let len = r.body[start..].find('"')?;
    Some(r.body[start..start + len].to_string())
}

/// One `retry` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Retry {
    /// Virtual ns of the line.
    time: u64,
    attempt: u32,
    status: i32,
    backoff_ms: u64,
}

fn retries_of(d: &DeviceOutcome) -> Vec<Retry> {
    let re = Regex::new(r"^retry \S+ attempt=(\d+) status=(-?\d+) type=\S+ backoff=(\d+) ms")
        .expect("a valid pattern");
    d.lines()
        .into_iter()
        .filter_map(|(time, line)| {
            let c = re.captures(&line)?;
            Some(Retry {
                time,
                attempt: c[1].parse().ok()?,
                status: c[2].parse().ok()?,
                backoff_ms: c[3].parse().ok()?,
            })
        })
        .collect()
}

/// The full-jitter window of attempt `k` (≥ 1), ms: `min(cap, base · 2^(k-1))`.
pub fn window_ms(base_ms: u64, cap_ms: u64, attempt: u32) -> u64 {
    let shift = attempt.saturating_sub(1).min(40);
    base_ms.saturating_mul(1u64 << shift).min(cap_ms)
}

/// What the check found: problems, and figures for the report.
#[derive(Debug, Default)]
pub struct BackoffFindings {
    /// What is wrong (empty: all good).
    pub problems: Vec<String>,
    /// Retries measured in the log (failure → next request).
    pub measured: usize,
    /// Longest streak (highest attempt number announced).
    pub longest_streak: u32,
    /// `(attempt, announced ms, gap in the log ms)` of every measured retry, in order.
    pub gaps: Vec<(u32, u64, f64)>,
}

/// Checks the devices' retries against the request log.
pub fn check(
    e: &BackoffExpectation,
    requests: &[RequestRecord],
    devices: &[DeviceOutcome],
    partition_key: &str,
) -> BackoffFindings {
    let mut f = BackoffFindings::default();
    let mut by_device: BTreeMap<String, Vec<&RequestRecord>> = BTreeMap::new();
    for r in requests {
        if let Some(d) = device_of(r, partition_key) {
            by_device.entry(d).or_default().push(r);
        }
    }
    let gave_up = Regex::new(r"^ERROR .*gave up").expect("a valid pattern");
    for d in devices
        .iter()
        .filter(|d| e.device == "*" || d.id == e.device)
    {
        let log: &[&RequestRecord] = by_device.get(&d.id).map_or(&[], |v| v.as_slice());
        let retries = retries_of(d);
        let gave_up_at: Vec<u64> = d
            .lines()
            .into_iter()
            .filter(|(_, l)| gave_up.is_match(l))
            .map(|(t, _)| t)
            .collect();
        let mut announced = vec![false; log.len()];
        let mut previous_attempt = 0;
        for r in &retries {
            f.longest_streak = f.longest_streak.max(r.attempt);
            if r.attempt != 1 && r.attempt != previous_attempt + 1 {
                f.problems.push(format!(
                    "{}: retry attempt={} at {:.3} s follows attempt={previous_attempt}",
                    d.id,
                    r.attempt,
                    secs(r.time)
                ));
            }
            previous_attempt = r.attempt;
            let window = window_ms(e.base_ms, e.cap_ms, r.attempt);
            if r.backoff_ms >= window {
                f.problems.push(format!(
                    "{}: backoff {} ms at attempt {} is outside the full-jitter window [0, {window}) ms",
                    d.id, r.backoff_ms, r.attempt
                ));
            }
            // The failed request: the device's last one to arrive before it printed the line.
            let Some(i) = log.iter().rposition(|q| q.time <= r.time) else {
                continue; // failed before any request reached the endpoint (connection)
            };
            if !is_retryable_failure(log[i]) || (r.status > 0 && log[i].status != r.status as u16) {
                // A connection-level failure after an answered request: nothing to time here.
                if r.status > 0 {
                    f.problems.push(format!(
                        "{}: retry with status={} at {:.3} s, but its last request ({:.3} s) was answered {}",
                        d.id, r.status, secs(r.time), secs(log[i].time), log[i].status
                    ));
                }
                continue;
            }
            announced[i] = true;
            let Some(next) = log.get(i + 1) else {
                if d.stop.is_some() {
                    f.problems.push(format!(
                        "{}: no request after the failure at {:.3} s",
                        d.id,
                        secs(log[i].time)
                    ));
                }
                continue;
            };
            let gap_ms = (next.time - log[i].time) as f64 / 1e6;
            f.measured += 1;
            f.gaps.push((r.attempt, r.backoff_ms, gap_ms));
            if gap_ms < r.backoff_ms as f64 {
                f.problems.push(format!(
                    "{}: asked again {gap_ms:.1} ms after the failure at {:.3} s, before the announced backoff of {} ms",
                    d.id,
                    secs(log[i].time),
                    r.backoff_ms
                ));
            }
            if gap_ms < e.min_gap_ms {
                f.problems.push(format!(
                    "{}: asked again {gap_ms:.1} ms after the failure at {:.3} s (minimum {} ms)",
                    d.id,
                    secs(log[i].time),
                    e.min_gap_ms
                ));
            }
        }
        for (i, r) in log.iter().enumerate() {
            if announced[i] || !is_retryable_failure(r) {
                continue;
            }
            let next = log.get(i + 1).map_or(u64::MAX, |n| n.time);
            if gave_up_at.iter().any(|t| *t >= r.time && *t <= next) {
                continue;
            }
            f.problems.push(format!(
                "{}: the failure at {:.3} s ({} {}) was retried without an announced backoff",
                d.id,
                secs(r.time),
                r.status,
                r.error_type
                    .as_deref()
                    .or(r.fault.as_deref())
                    .unwrap_or("-")
            ));
        }
    }
    if f.measured < e.min_retries {
        f.problems.push(format!(
            "{} retries timed in the log, expected at least {}",
            f.measured, e.min_retries
        ));
    }
    if e.growing {
        let grown = f
            .gaps
            .iter()
            .filter(|(k, _, _)| *k >= 2)
            .map(|(_, b, _)| *b)
            .max();
        match grown {
            None => f
                .problems
                .push("no streak of two or more failures: growth cannot be observed".to_string()),
            Some(b) if b < e.base_ms => f.problems.push(format!(
                "no backoff after a repeated failure exceeded the first window ({b} ms < {} ms)",
                e.base_ms
            )),
            Some(_) => {}
        }
    }
    f
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expectation(growing: bool) -> BackoffExpectation {
        BackoffExpectation {
            device: "*".into(),
            base_ms: 100,
            cap_ms: 20_000,
            min_gap_ms: 0.0,
            min_retries: 1,
            growing,
        }
    }

    fn request(ms: f64, status: u16, error: Option<&str>) -> RequestRecord {
        let mut r = RequestRecord::empty((ms * 1e6) as u64, "id");
        r.operation = "PutItem".into();
        r.status = status;
        r.error_type = error.map(|e| format!("com.amazonaws.dynamodb.v20120810#{e}"));
        r.body =
            r#"{"TableName":"SensorReadings","Item":{"deviceId":{"S":"hopper"},"seq":{"N":"1"}}}"#
                .into();
        r
    }

    /// A device whose lines are `(ms, text)`.
    fn device(lines: &[(f64, &str)]) -> DeviceOutcome {
        let mut uart = Vec::new();
        let mut times = Vec::new();
        for (ms, text) in lines {
            let line = format!("{text}\n");
            times.extend(std::iter::repeat_n((ms * 1e6) as u64, line.len()));
            uart.extend_from_slice(line.as_bytes());
        }
        DeviceOutcome::exited_with_uart("hopper", uart, times)
    }

    const THROTTLE: Option<&str> = Some("ProvisionedThroughputExceededException");

    /// The throttling scenario as it ran: three throttles, backoffs 80, 163, 325 ms.
    fn throttled() -> (Vec<RequestRecord>, DeviceOutcome) {
        let log = vec![
            request(1647.6, 400, THROTTLE),
            request(1741.4, 400, THROTTLE),
            request(1918.4, 400, THROTTLE),
            request(2257.4, 200, None),
        ];
        let d = device(&[
            (
                1649.3,
                "retry PutItem attempt=1 status=400 type=X backoff=80 ms",
            ),
            (
                1743.0,
                "retry PutItem attempt=2 status=400 type=X backoff=163 ms",
            ),
            (
                1920.0,
                "retry PutItem attempt=3 status=400 type=X backoff=325 ms",
            ),
            (2258.3, "put seq=1 status=200 attempts=4 ms=2144"),
        ]);
        (log, d)
    }

    #[test]
    fn a_real_backoff_passes_with_its_figures() {
        let (log, d) = throttled();
        let f = check(&expectation(true), &log, &[d], "deviceId");
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        assert_eq!(f.measured, 3);
        assert_eq!(f.longest_streak, 3);
        assert_eq!(f.gaps[2].1, 325);
        assert!((f.gaps[2].2 - 339.0).abs() < 0.01);
    }

    #[test]
    fn a_retry_sooner_than_announced_is_caught() {
        let (mut log, d) = throttled();
        // The third retry comes 100 ms after the failure although 163 ms were announced.
        let t = log[1].time + 100_000_000;
        log[2].time = t;
        let f = check(&expectation(false), &log, &[d], "deviceId");
        assert!(
            f.problems
                .iter()
                .any(|p| p.contains("before the announced backoff of 163 ms")),
            "{:?}",
            f.problems
        );
    }

    #[test]
    fn a_backoff_outside_its_window_or_a_silent_retry_is_caught() {
        let (log, _) = throttled();
        // attempt 2 may wait at most 199 ms.
        let d = device(&[
            (
                1649.3,
                "retry PutItem attempt=1 status=400 type=X backoff=80 ms",
            ),
            (
                1743.0,
                "retry PutItem attempt=2 status=400 type=X backoff=250 ms",
            ),
            (
                1920.0,
                "retry PutItem attempt=3 status=400 type=X backoff=325 ms",
            ),
        ]);
        let f = check(&expectation(false), &log, &[d], "deviceId");
        assert!(
            f.problems
                .iter()
                .any(|p| p.contains("outside the full-jitter window [0, 200)")),
            "{:?}",
            f.problems
        );
        // No retry line for the second throttle: a retry without backoff.
        let d = device(&[
            (
                1649.3,
                "retry PutItem attempt=1 status=400 type=X backoff=80 ms",
            ),
            (
                1920.0,
                "retry PutItem attempt=3 status=400 type=X backoff=325 ms",
            ),
        ]);
        let f = check(&expectation(false), &log, &[d], "deviceId");
        assert!(
            f.problems.iter().any(|p| p.contains("1.741 s (400 com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException) was retried without an announced backoff")),
            "{:?}",
            f.problems
        );
        assert!(f
            .problems
            .iter()
            .any(|p| p.contains("attempt=3 at 1.920 s follows attempt=1")));
    }

    #[test]
    fn a_backoff_that_never_grows_fails_growing() {
        let (log, _) = throttled();
        // Every wait inside the first window: a constant-window retry loop.
        let d = device(&[
            (
                1649.3,
                "retry PutItem attempt=1 status=400 type=X backoff=80 ms",
            ),
            (
                1743.0,
                "retry PutItem attempt=2 status=400 type=X backoff=80 ms",
            ),
            (
                1920.0,
                "retry PutItem attempt=3 status=400 type=X backoff=80 ms",
            ),
        ]);
        let f = check(
            &expectation(true),
            &log,
            std::slice::from_ref(&d),
            "deviceId",
        );
        assert!(
            f.problems
                .iter()
                .any(|p| p.contains("exceeded the first window (80 ms < 100 ms)")),
            "{:?}",
            f.problems
        );
        assert!(check(&expectation(false), &log, &[d], "deviceId")
            .problems
            .is_empty());
    }

    #[test]
    fn no_failures_means_nothing_measured_and_a_failed_check() {
        let log = vec![request(1000.0, 200, None)];
        let d = device(&[(1001.0, "put seq=1 status=200 attempts=1 ms=13")]);
        let f = check(&expectation(false), &log, &[d], "deviceId");
        assert!(
            f.problems.iter().any(|p| p.contains("0 retries timed")),
            "{:?}",
            f.problems
        );
    }

    #[test]
    fn giving_up_is_not_a_silent_retry() {
        let log = vec![
            request(1000.0, 500, Some("InternalServerError")),
            request(2000.0, 200, None),
        ];
        let d = device(&[(
            1001.0,
            "ERROR put seq=1 failed: gave up status=500 attempts=5 type=InternalServerError message=-",
        )]);
        let mut e = expectation(false);
        e.min_retries = 0;
        assert!(check(&e, &log, &[d], "deviceId").problems.is_empty());
    }

    #[test]
    fn requests_are_attributed_by_their_partition_key() {
        let mut r = request(0.0, 200, None);
        assert_eq!(device_of(&r, "deviceId").as_deref(), Some("hopper"));
        r.body = r#"{"RequestItems":{"SensorReadings":[{"PutRequest":{"Item":{"deviceId":{"S":"knuth"}}}}]}}"#.into();
        assert_eq!(device_of(&r, "deviceId").as_deref(), Some("knuth"));
        r.body = r#"{"RequestItems":{"T":[{"PutRequest":{"Item":{"deviceId":{"S":"turing"},"seq":{"N":"1"#.into();
        assert_eq!(device_of(&r, "deviceId").as_deref(), Some("turing"));
        r.body = String::new();
        assert_eq!(device_of(&r, "deviceId"), None);
        assert_eq!(window_ms(100, 20_000, 1), 100);
        assert_eq!(window_ms(100, 20_000, 4), 800);
        assert_eq!(window_ms(100, 20_000, 30), 20_000);
    }
}
