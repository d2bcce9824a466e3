//! What makes two runs of a scenario the same run: every device's cycle and instruction
//! counts, the bytes on the wire (the SHA-256 of the pcap, which holds every frame with its
//! virtual time) and the endpoint's request log. The runner prints this fingerprint for every
//! scenario and, for `expect.deterministic`, runs the scenario twice and names what differs.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use super::world::WorldOutcome;
use crate::endpoint::RequestRecord;

/// One device's counters at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCounts {
    /// Device id.
    pub id: String,
    /// CPU cycles.
    pub cycles: u64,
    /// Instructions executed.
    pub insns: u64,
}

/// The fingerprint of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Every device, in the scenario's order.
    pub devices: Vec<DeviceCounts>,
    /// SHA-256 of the pcap file (hex), if the run had a network.
    pub pcap_sha256: Option<String>,
    /// Requests in the endpoint's log.
    pub requests: usize,
    /// SHA-256 (hex) of the request log as JSON lines (what `requests.jsonl` holds).
    pub requests_sha256: String,
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of a file, hex.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(hex(&h.finalize()))
}

fn log_sha256(records: &[RequestRecord]) -> String {
    let mut h = Sha256::new();
    for r in records {
        h.update(r.to_json_line().as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

impl Fingerprint {
    /// The fingerprint of a finished run (reads its pcap).
    pub fn of(run: &WorldOutcome) -> Result<Fingerprint> {
        let records = run.endpoint.requests();
        Ok(Fingerprint {
            devices: run
                .devices
                .iter()
                .map(|d| DeviceCounts {
                    id: d.id.clone(),
                    cycles: d.cycles,
                    insns: d.insns,
                })
                .collect(),
            pcap_sha256: run.pcap.as_deref().map(file_sha256).transpose()?,
            requests: records.len(),
            requests_sha256: log_sha256(&records),
        })
    }
}

/// What differs between two runs of one scenario (empty: nothing). `a_log` and `b_log` are the
/// two request logs, to name the first record that differs.
pub fn differences(
    a: &Fingerprint,
    b: &Fingerprint,
    a_log: &[RequestRecord],
    b_log: &[RequestRecord],
) -> Vec<String> {
    let mut out = Vec::new();
    for (x, y) in a.devices.iter().zip(&b.devices) {
        if x.cycles != y.cycles {
            out.push(format!("{}: {} cycles, then {}", x.id, x.cycles, y.cycles));
        }
        if x.insns != y.insns {
            out.push(format!(
                "{}: {} instructions, then {}",
                x.id, x.insns, y.insns
            ));
        }
    }
    if a.devices.len() != b.devices.len() {
        out.push(format!(
            "{} devices, then {}",
            a.devices.len(),
            b.devices.len()
        ));
    }
    if a.pcap_sha256 != b.pcap_sha256 {
        out.push(format!(
            "pcap sha256 {}, then {}",
            a.pcap_sha256.as_deref().unwrap_or("(none)"),
            b.pcap_sha256.as_deref().unwrap_or("(none)")
        ));
    }
    if a.requests_sha256 != b.requests_sha256 {
        let first = a_log
            .iter()
            .zip(b_log)
            .position(|(x, y)| x != y)
            .unwrap_or(a_log.len().min(b_log.len()));
        let at = |log: &[RequestRecord]| {
            log.get(first).map_or("none".to_string(), |r| {
                format!(
                    "{} {} at {:.6} s",
                    r.operation,
                    r.status,
                    r.time as f64 / 1e9
                )
            })
        };
        out.push(format!(
            "request log: {} records, then {}; record {} first differs ({}, then {})",
            a.requests,
            b.requests,
            first + 1,
            at(a_log),
            at(b_log)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ms: u64, status: u16) -> RequestRecord {
        let mut r = RequestRecord::empty(ms * 1_000_000, "id");
        r.operation = "PutItem".into();
        r.status = status;
        r
    }

    fn fingerprint(cycles: u64, pcap: &str, log: &[RequestRecord]) -> Fingerprint {
        Fingerprint {
            devices: vec![DeviceCounts {
                id: "hopper".into(),
                cycles,
                insns: cycles / 2,
            }],
            pcap_sha256: Some(pcap.into()),
            requests: log.len(),
            requests_sha256: log_sha256(log),
        }
    }

    #[test]
    fn identical_runs_have_no_differences() {
        let log = [record(1, 200), record(2, 200)];
        let a = fingerprint(100, "ab", &log);
        assert!(differences(&a, &a.clone(), &log, &log).is_empty());
    }

    #[test]
    fn every_kind_of_difference_is_named() {
        let log_a = [record(1, 200), record(2, 200)];
        let log_b = [record(1, 200), record(3, 500)];
        let a = fingerprint(100, "ab", &log_a);
        let b = fingerprint(102, "cd", &log_b);
        let d = differences(&a, &b, &log_a, &log_b);
        assert_eq!(d.len(), 4, "{d:?}");
        assert_eq!(d[0], "hopper: 100 cycles, then 102");
        assert_eq!(d[1], "hopper: 50 instructions, then 51");
        assert_eq!(d[2], "pcap sha256 ab, then cd");
        assert!(
            d[3].contains("record 2 first differs (PutItem 200 at 0.002000 s, then PutItem 500 at 0.003000 s)"),
            "{d:?}"
        );
    }

    #[test]
    fn digests_are_sha256() {
        let dir = std::env::temp_dir().join(format!("run2-digest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x");
        std::fs::write(&f, b"abc").unwrap();
        assert_eq!(
            file_sha256(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(file_sha256(&dir.join("missing")).is_err());
    }
}
