//! What each device did on virtual time, for the timeline: the firmware's milestones read from
//! its UART lines (boot, DHCP, SNTP, DNS, TLS handshakes, link changes, retries and their
//! backoffs, errors) and the endpoint's requests attributed to it.
//!
//! The milestones are the lines `firmware/app` prints (`dhcp ... in N ms`, `tls SUITE in N ms`,
//! `retry OP attempt=K status=S type=T backoff=B ms`, ...). A line that ends with its duration
//! is drawn as a span ending at the line. Firmware that prints none of them still gets its UART
//! lines and requests on the timeline.

use regex::Regex;

use crate::endpoint::RequestRecord;
use crate::runner::backoff::device_of;
use crate::runner::world::DeviceOutcome;
use net_bridge::Nanos;

/// What a span or point on a device's lane is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// From reset to the start of networking (or the firmware's first line).
    Boot,
    /// Getting a DHCP lease.
    Dhcp,
    /// Setting the clock by SNTP.
    Sntp,
    /// Resolving the endpoint's name.
    Dns,
    /// A TLS handshake.
    Tls,
    /// The link is down (from `link down` to `link up`).
    LinkDown,
    /// Waiting before a retry or a reconnect.
    Backoff,
    /// A line starting with `ERROR`.
    Error,
}

impl Kind {
    /// Every kind, in the legend's order.
    pub const ALL: [Kind; 8] = [
        Kind::Boot,
        Kind::Dhcp,
        Kind::Sntp,
        Kind::Dns,
        Kind::Tls,
        Kind::LinkDown,
        Kind::Backoff,
        Kind::Error,
    ];

    /// The CSS class that colours it.
    pub fn class(self) -> &'static str {
        match self {
            Kind::Boot => "k-boot",
            Kind::Dhcp => "k-dhcp",
            Kind::Sntp => "k-sntp",
            Kind::Dns => "k-dns",
            Kind::Tls => "k-tls",
            Kind::LinkDown => "k-linkdown",
            Kind::Backoff => "k-backoff",
            Kind::Error => "k-error",
        }
    }

    /// The legend's word for it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Boot => "boot",
            Kind::Dhcp => "DHCP",
            Kind::Sntp => "SNTP",
            Kind::Dns => "DNS",
            Kind::Tls => "TLS handshake",
            Kind::LinkDown => "link down",
            Kind::Backoff => "backoff / wait",
            Kind::Error => "ERROR line",
        }
    }
}

/// A span (or a point: `start == end`) on a device's lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What it is.
    pub kind: Kind,
    /// Virtual ns.
    pub start: Nanos,
    /// Virtual ns (≥ `start`).
    pub end: Nanos,
    /// What the hover shows: the UART line(s) it comes from.
    pub text: String,
}

/// A `retry` line: the device announces it will ask again after a backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Virtual ns of the line.
    pub at: Nanos,
    /// The operation retried.
    pub operation: String,
    /// The attempt that failed (1 = the first).
    pub attempt: u32,
    /// The status the device saw (0: no answer).
    pub status: i32,
    /// The error type the device saw.
    pub error_type: String,
    /// The announced backoff, ms.
    pub backoff_ms: u64,
}

/// One request of the log as the report shows it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Its record in the endpoint's log.
    pub record: RequestRecord,
    /// The device that sent it (`None`: its body names none).
    pub device: Option<String>,
    /// The device's `retry` line that followed it, if the device retried this request.
    pub retry: Option<Retry>,
}

/// One device's lane.
#[derive(Debug, Clone)]
pub struct Lane {
    /// Device id (or a name for the requests no device claims).
    pub id: String,
    /// Virtual ns when it stopped (or the run's end).
    pub end: Nanos,
    /// Spans and points from its UART lines.
    pub events: Vec<Event>,
    /// Indices into the request list of the requests it sent.
    pub requests: Vec<usize>,
    /// Its UART lines with their virtual times.
    pub uart: Vec<(Nanos, String)>,
}

/// The timeline's per-device content.
#[derive(Debug, Clone)]
pub struct Activity {
    /// A lane per device (in the scenario's order), then one for unattributed requests if any.
    pub lanes: Vec<Lane>,
    /// Every request of the log, in log order.
    pub requests: Vec<Request>,
}

/// Patterns of the milestone lines.
struct Patterns {
    with_ms: Regex,
    retry: Regex,
    wait: Regex,
}

impl Patterns {
    fn new() -> Patterns {
        let re = |s: &str| Regex::new(s).expect("a valid pattern");
        Patterns {
            with_ms: re(r"^(dhcp|sntp ok|tls) .* in (\d+) ms"),
            retry: re(r"^retry (\S+) attempt=(\d+) status=(-?\d+) type=(\S+) backoff=(\d+) ms"),
            wait: re(r"^upload: no connection, next try in (\d+) ms"),
        }
    }
}

const MS: Nanos = 1_000_000;

/// The events of one device's UART lines, and its retries. `end` closes a link-down span the
/// device never saw end.
pub fn device_events(lines: &[(Nanos, String)], end: Nanos) -> (Vec<Event>, Vec<Retry>) {
    let p = Patterns::new();
    let mut events = Vec::new();
    let mut retries = Vec::new();
    let mut link_down: Option<(Nanos, String)> = None;
    let span = |kind, start: Nanos, end: Nanos, text: &str| Event {
        kind,
        start,
        end: end.max(start),
        text: text.to_string(),
    };
    for (t, line) in lines {
        let t = *t;
        if let Some(c) = p.with_ms.captures(line) {
            let ms: Nanos = c[2].parse().unwrap_or(0);
            let kind = match &c[1] {
                "dhcp" => Kind::Dhcp,
                "tls" => Kind::Tls,
                _ => Kind::Sntp,
            };
            events.push(span(kind, t.saturating_sub(ms * MS), t, line));
        } else if line.starts_with("dns ") {
            events.push(span(Kind::Dns, t, t, line));
        } else if let Some(c) = p.retry.captures(line) {
            let backoff_ms: u64 = c[5].parse().unwrap_or(0);
            events.push(span(Kind::Backoff, t, t + backoff_ms * MS, line));
            retries.push(Retry {
                at: t,
                operation: c[1].to_string(),
                attempt: c[2].parse().unwrap_or(0),
                status: c[3].parse().unwrap_or(0),
                error_type: c[4].to_string(),
                backoff_ms,
            });
        } else if let Some(c) = p.wait.captures(line) {
            let ms: Nanos = c[1].parse().unwrap_or(0);
            events.push(span(Kind::Backoff, t, t + ms * MS, line));
        } else if line.starts_with("link down") {
            link_down.get_or_insert((t, line.clone()));
        } else if line.starts_with("link up") {
            if let Some((from, text)) = link_down.take() {
                events.push(span(Kind::LinkDown, from, t, &format!("{text}\n{line}")));
            }
        } else if line.starts_with("ERROR") {
            events.push(span(Kind::Error, t, t, line));
        }
    }
    if let Some((from, text)) = link_down {
        events.push(span(Kind::LinkDown, from, end, &text));
    }
    // Boot: from reset until networking starts (the first span), or the first line.
    let first_net = events
        .iter()
        .filter(|e| e.kind == Kind::Dhcp)
        .map(|e| e.start)
        .min();
    if let Some(boot_end) = first_net.or_else(|| lines.first().map(|l| l.0)) {
        events.insert(
            0,
            span(
                Kind::Boot,
                0,
                boot_end,
                &format!("boot: reset to {:.3} s", boot_end as f64 / 1e9),
            ),
        );
    }
    (events, retries)
}

/// Whether the logged request `r` can be the attempt that `retry` follows: the device saw the
/// status the endpoint answered, or, when it saw no answer (status 0), the endpoint's answer
/// was held back, cut or reset by an injected fault (or never given).
fn could_be_retried(r: &RequestRecord, retry: &Retry) -> bool {
    if retry.status > 0 {
        i32::from(r.status) == retry.status
    } else {
        r.fault.is_some() || r.status == 0
    }
}

/// Gives each retry to the request it retries: the device's latest request of that operation
/// at or before the `retry` line whose outcome matches what the device saw, if it has no retry
/// yet. A retry after a failure that never reached the endpoint (no connection, a request cut
/// off on its way) or whose answer was lost on the network has no such request and is left
/// out: it shows as its backoff only, never on an earlier request that succeeded.
fn attach_retries(requests: &mut [Request], mine: &[usize], retries: Vec<Retry>) {
    for retry in retries {
        let candidate = mine
            .iter()
            .copied()
            .filter(|&i| {
                let r = &requests[i].record;
                r.time <= retry.at && r.operation == retry.operation
            })
            .max_by_key(|&i| requests[i].record.time)
            .filter(|&i| could_be_retried(&requests[i].record, &retry));
        if let Some(i) = candidate {
            if requests[i].retry.is_none() {
                requests[i].retry = Some(retry);
            }
        }
    }
}

/// Name of the lane of requests that no device's id claims.
pub const UNATTRIBUTED: &str = "(no device)";

/// The lanes of a run: each device's milestones and requests (attributed by the partition key
/// `partition_key` of the items they write).
pub fn activity(
    devices: &[DeviceOutcome],
    records: Vec<RequestRecord>,
    partition_key: &str,
    run_end: Nanos,
) -> Activity {
    let ids: Vec<&str> = devices.iter().map(|d| d.id.as_str()).collect();
    let mut requests: Vec<Request> = records
        .into_iter()
        .map(|record| {
            let device = device_of(&record, partition_key).filter(|d| ids.contains(&d.as_str()));
            Request {
                record,
                device,
                retry: None,
            }
        })
        .collect();
    let mut lanes = Vec::new();
    for d in devices {
        let uart = d.lines();
        let end = if d.stop.is_some() { d.end_ns } else { run_end };
        let (events, retries) = device_events(&uart, end);
        let mine: Vec<usize> = (0..requests.len())
            .filter(|&i| requests[i].device.as_deref() == Some(d.id.as_str()))
            .collect();
        attach_retries(&mut requests, &mine, retries);
        lanes.push(Lane {
            id: d.id.clone(),
            end,
            events,
            requests: mine,
            uart,
        });
    }
    let orphans: Vec<usize> = (0..requests.len())
        .filter(|&i| requests[i].device.is_none())
        .collect();
    if !orphans.is_empty() {
        lanes.push(Lane {
            id: UNATTRIBUTED.into(),
            end: run_end,
            events: Vec::new(),
            requests: orphans,
            uart: Vec::new(),
        });
    }
    Activity { lanes, requests }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[(f64, &str)]) -> Vec<(Nanos, String)> {
        v.iter()
            .map(|(s, l)| ((s * 1e9) as Nanos, l.to_string()))
            .collect()
    }

    #[test]
    fn milestones_become_spans_ending_at_their_line() {
        let l = lines(&[
            (0.001, "dynamodb-client: FT900 DynamoDB client"),
            (0.5, "dhcp 10.0.2.15 gw 10.0.2.2 dns 10.0.2.3 in 300 ms"),
            (
                0.6,
                "sntp ok 1767225600 2026-01-01T00:00:00Z from 10.0.2.2 in 0 ms",
            ),
            (0.7, "dns dynamodb.us-east-1.amazonaws.com 203.0.113.10"),
            (
                2.2,
                "tls TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256 in 1500 ms (1 cycles)",
            ),
            (
                3.0,
                "retry PutItem attempt=2 status=503 type=ServiceUnavailable backoff=150 ms",
            ),
            (
                4.0,
                "link down: connection dropped, readings wait in the queue",
            ),
            (9.0, "link up"),
            (9.5, "ERROR sntp: no answer"),
            (10.0, "link down"),
        ]);
        let (ev, retries) = device_events(&l, 12_000_000_000);
        let kinds: Vec<Kind> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Boot,
                Kind::Dhcp,
                Kind::Sntp,
                Kind::Dns,
                Kind::Tls,
                Kind::Backoff,
                Kind::LinkDown,
                Kind::Error,
                Kind::LinkDown
            ]
        );
        assert_eq!(
            (ev[0].start, ev[0].end),
            (0, 200_000_000),
            "boot to DHCP start"
        );
        assert_eq!((ev[4].start, ev[4].end), (700_000_000, 2_200_000_000));
        assert_eq!((ev[5].start, ev[5].end), (3_000_000_000, 3_150_000_000));
        assert_eq!((ev[6].start, ev[6].end), (4_000_000_000, 9_000_000_000));
        assert_eq!(
            ev[8].end, 12_000_000_000,
            "an unfinished outage runs to the end"
        );
        assert_eq!(retries.len(), 1);
        assert_eq!(
            (retries[0].attempt, retries[0].status, retries[0].backoff_ms),
            (2, 503, 150)
        );
    }

    fn record(t: f64, op: &str, device: &str) -> RequestRecord {
        let mut r = RequestRecord::empty((t * 1e9) as Nanos, "id");
        r.operation = op.into();
        r.status = 200;
        r.body = format!(r#"{{"Item":{{"deviceId":{{"S":"{device}"}}}}}}"#);
        r
    }

    #[test]
    fn requests_go_to_their_device_and_retries_to_the_request_retried() {
        let a = DeviceOutcome::exited_with_uart(
            "a",
            b"retry PutItem attempt=1 status=500 type=InternalServerError backoff=80 ms\n".to_vec(),
            vec![2_000_000_000; 80],
        );
        let b = DeviceOutcome::exited_with_uart("b", Vec::new(), Vec::new());
        let mut stranger = record(0.5, "PutItem", "x");
        stranger.body = "not json".into();
        let act = activity(
            &[a, b],
            vec![
                record(1.0, "PutItem", "a"),
                record(1.5, "PutItem", "b"),
                {
                    let mut r = record(1.9, "PutItem", "a");
                    r.status = 500;
                    r
                },
                stranger,
                record(2.1, "PutItem", "a"),
            ],
            "deviceId",
            5_000_000_000,
        );
        assert_eq!(act.lanes.len(), 3);
        assert_eq!(act.lanes[0].requests, [0, 2, 4]);
        assert_eq!(act.lanes[1].requests, [1]);
        assert_eq!(act.lanes[2].id, UNATTRIBUTED);
        assert_eq!(act.lanes[2].requests, [3]);
        let retried: Vec<usize> = (0..5)
            .filter(|&i| act.requests[i].retry.is_some())
            .collect();
        assert_eq!(
            retried,
            [2],
            "the latest PutItem of a before its retry line"
        );
    }

    #[test]
    fn a_retry_goes_only_to_a_request_whose_outcome_the_device_saw() {
        // `a` saw no answer (status 0) at 3 s: its latest PutItem (2 s) was answered 200 with
        // no fault, so the retried attempt never reached the endpoint; `b` saw no answer and
        // its latest PutItem's answer was cut by an injected restart.
        let a = DeviceOutcome::exited_with_uart(
            "a",
            b"retry PutItem attempt=1 status=0 type=ReceiveError backoff=80 ms\n".to_vec(),
            vec![3_000_000_000; 80],
        );
        let b = DeviceOutcome::exited_with_uart(
            "b",
            b"retry PutItem attempt=1 status=0 type=ReceiveError backoff=60 ms\n".to_vec(),
            vec![3_000_000_000; 80],
        );
        let mut cut = record(2.5, "PutItem", "b");
        cut.fault = Some("Restart".into());
        let act = activity(
            &[a, b],
            vec![record(2.0, "PutItem", "a"), cut],
            "deviceId",
            5_000_000_000,
        );
        assert!(act.requests[0].retry.is_none(), "a's answered request");
        assert_eq!(
            act.requests[1].retry.as_ref().map(|r| r.backoff_ms),
            Some(60)
        );
    }
}
