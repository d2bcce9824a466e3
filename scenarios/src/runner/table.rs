//! The figures of a set of scenario runs, one row per scenario: as a Markdown table (for a
//! person or a closing note) or as JSON (for a script). `scenarios run --summary FILE` writes
//! it; the format follows the file's extension (`.json`, else Markdown).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::ScenarioResult;

/// One scenario's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Scenario name (or file, if it could not run).
    pub scenario: String,
    /// `pass`, `FAIL` or `error`.
    pub result: String,
    /// Devices in the fleet.
    pub devices: usize,
    /// Virtual seconds the run took (the last device's end).
    pub virtual_s: f64,
    /// Host seconds of the run.
    pub host_s: f64,
    /// Host seconds of all runs (a deterministic scenario runs twice).
    pub host_total_s: f64,
    /// Instructions executed by all devices.
    pub instructions: u64,
    /// Simulated MIPS: instructions / host seconds of the run.
    pub mips: f64,
    /// Instructions the interpreter ran: without the idle-loop iterations it skipped.
    pub busy_instructions: u64,
    /// Busy instructions / host seconds: the interpreter's own speed.
    pub busy_mips: f64,
    /// CPU seconds of the run, all threads.
    pub cpu_s: f64,
    /// The run's span in CPU seconds (what it takes on cores of its own, see
    /// `runner::lockstep`).
    pub span_s: f64,
    /// Busy instructions / span: the speed in CPU time, which a shared host does not blur.
    pub busy_mips_cpu: f64,
    /// Host threads of the run.
    pub threads: usize,
    /// Requests the endpoint answered.
    pub requests: usize,
    /// SHA-256 of the run's pcap.
    pub pcap_sha256: Option<String>,
}

impl Row {
    /// The row of a scenario that ran.
    pub fn of(r: &ScenarioResult) -> Row {
        let host = r.outcome.host.as_secs_f64();
        let insns = r.outcome.insns();
        Row {
            scenario: r.scenario.name.clone(),
            result: if r.passed() { "pass" } else { "FAIL" }.into(),
            devices: r.outcome.devices.len(),
            virtual_s: r.outcome.virtual_ns as f64 / 1e9,
            host_s: host,
            host_total_s: r.host_total().as_secs_f64(),
            instructions: insns,
            mips: mips(insns, host),
            busy_instructions: r.outcome.busy_insns(),
            busy_mips: mips(r.outcome.busy_insns(), host),
            cpu_s: r.outcome.cpu.as_secs_f64(),
            span_s: r.outcome.span.as_secs_f64(),
            busy_mips_cpu: r.outcome.busy_mips_cpu(),
            threads: r.outcome.threads,
            requests: r.fingerprint.requests,
            pcap_sha256: r.fingerprint.pcap_sha256.clone(),
        }
    }

    /// The row of a scenario that could not run.
    pub fn error(file: &str) -> Row {
        Row {
            scenario: file.into(),
            result: "error".into(),
            devices: 0,
            virtual_s: 0.0,
            host_s: 0.0,
            host_total_s: 0.0,
            instructions: 0,
            mips: 0.0,
            busy_instructions: 0,
            busy_mips: 0.0,
            cpu_s: 0.0,
            span_s: 0.0,
            busy_mips_cpu: 0.0,
            threads: 0,
            requests: 0,
            pcap_sha256: None,
        }
    }
}

/// Instructions per host microsecond; 0 for no host time.
pub fn mips(insns: u64, host_s: f64) -> f64 {
    if host_s > 0.0 {
        insns as f64 / host_s / 1e6
    } else {
        0.0
    }
}

/// The rows as a Markdown table with a total line.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | result | devices | virtual s | host s | instructions | MIPS \
         | busy instructions | busy MIPS | span s (CPU) | busy MIPS (CPU) | requests |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let host = if r.host_total_s > r.host_s {
            format!("{:.2} (×2: {:.2})", r.host_s, r.host_total_s)
        } else {
            format!("{:.2}", r.host_s)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} | {host} | {} | {:.0} | {} | {:.0} | {:.2} | {:.0} | {} |",
            r.scenario,
            r.result,
            r.devices,
            r.virtual_s,
            r.instructions,
            r.mips,
            r.busy_instructions,
            r.busy_mips,
            r.span_s,
            r.busy_mips_cpu,
            r.requests
        );
    }
    let insns: u64 = rows.iter().map(|r| r.instructions).sum();
    let busy: u64 = rows.iter().map(|r| r.busy_instructions).sum();
    let host: f64 = rows.iter().map(|r| r.host_s).sum();
    let total: f64 = rows.iter().map(|r| r.host_total_s).sum();
    let span: f64 = rows.iter().map(|r| r.span_s).sum();
    let _ = writeln!(
        out,
        "| **total** ({} scenarios, {} passed) | | {} | {:.2} | {:.2} (all runs: {total:.2}) | {insns} | {:.0} | {busy} | {:.0} | {span:.2} | {:.0} | {} |",
        rows.len(),
        rows.iter().filter(|r| r.result == "pass").count(),
        rows.iter().map(|r| r.devices).sum::<usize>(),
        rows.iter().map(|r| r.virtual_s).sum::<f64>(),
        host,
        mips(insns, host),
        mips(busy, host),
        mips(busy, span),
        rows.iter().map(|r| r.requests).sum::<usize>(),
    );
    out
}

/// Writes the rows to `path`: JSON if it ends in `.json`, else Markdown.
pub fn write(path: &Path, rows: &[Row]) -> Result<()> {
    let text = if path.extension().is_some_and(|e| e == "json") {
        serde_json::to_string_pretty(rows)? + "\n"
    } else {
        markdown(rows)
    };
    std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, host: f64, total: f64) -> Row {
        Row {
            scenario: name.into(),
            result: "pass".into(),
            devices: 3,
            virtual_s: 9.2,
            host_s: host,
            host_total_s: total,
            instructions: 1_500_000_000,
            mips: mips(1_500_000_000, host),
            busy_instructions: 1_000_000_000,
            busy_mips: mips(1_000_000_000, host),
            cpu_s: host,
            span_s: host / 2.0,
            busy_mips_cpu: mips(1_000_000_000, host / 2.0),
            threads: 2,
            requests: 12,
            pcap_sha256: Some("ab".into()),
        }
    }

    #[test]
    fn markdown_has_a_row_per_scenario_and_totals() {
        let mut failed = Row::error("broken.toml");
        failed.result = "error".into();
        let md = markdown(&[row("a", 2.0, 2.0), row("b", 1.0, 2.0), failed]);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 6, "{md}");
        assert_eq!(
            lines[2],
            "| a | pass | 3 | 9.20 | 2.00 | 1500000000 | 750 | 1000000000 | 500 | 1.00 | 1000 | 12 |"
        );
        assert!(lines[3].contains("| 1.00 (×2: 2.00) |"), "{md}");
        assert!(lines[4].starts_with("| broken.toml | error | 0 |"), "{md}");
        assert!(
            lines[5].contains("(3 scenarios, 2 passed)")
                && lines[5].contains("| 3000000000 | 1000 | 2000000000 | 667 | 1.50 | 1333 | 24 |"),
            "{md}"
        );
    }

    #[test]
    fn the_extension_picks_the_format() {
        let dir = std::env::temp_dir().join(format!("run2-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write(&dir.join("s.json"), &[row("a", 2.0, 2.0)]).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("s.json")).unwrap()).unwrap();
        assert_eq!(v[0]["scenario"], "a");
        assert_eq!(v[0]["mips"], 750.0);
        write(&dir.join("s.md"), &[row("a", 2.0, 2.0)]).unwrap();
        assert!(std::fs::read_to_string(dir.join("s.md"))
            .unwrap()
            .starts_with("| scenario |"));
        assert!(write(&dir.join("missing/s.md"), &[]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(mips(10, 0.0), 0.0);
    }
}
