//! The scenario runner: reads a scenario file ([`spec`]), builds and runs its world on virtual
//! time ([`world`]), checks the expectations ([`expect`]), keeps the evidence and reports
//! ([`report`]).
//!
//! Artefacts go to `OUT/<scenario name>/`: `<device>.uart.log` (each line with its virtual
//! time), `network.pcap` (every frame; tshark/Wireshark read it), `requests.jsonl` (the
//! endpoint's request log, without secrets), `summary.txt` and `report.html` (the page of
//! [`report_html`]: timeline, requests, figures). They are kept when a check fails (or with
//! `keep`, or when a report is asked for elsewhere) and removed otherwise. The determinism check's second run writes to
//! `OUT/<scenario name>/rerun/`, kept only when the runs differ.

pub mod backoff;
pub mod bench;
pub mod cli;
pub mod cputime;
pub mod determinism;
pub mod devbench;
pub mod expect;
pub mod linklog;
pub mod lockstep;
pub mod readings;
pub mod report;
pub mod report_html;
pub mod spec;
pub mod table;
pub mod world;

/// The former name of [`world`], kept for code written against it.
pub use world as fleet;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

pub use determinism::Fingerprint;
pub use expect::Check;
pub use spec::Scenario;
pub use world::{RunOptions, WorldOutcome};

/// How to run scenarios.
#[derive(Debug, Clone)]
pub struct Options {
    /// Overrides every scenario's seed.
    pub seed: Option<u64>,
    /// Host threads for a fleet's devices.
    pub jobs: usize,
    /// Keep the artefacts even when every check passes.
    pub keep: bool,
    /// Parent of the per-scenario output directories.
    pub out_root: PathBuf,
    /// Progress lines every this many virtual seconds (0 = none).
    pub progress_every: f64,
    /// Serve gdb for one device: (device id or empty for the first, `[ADDR:]PORT`).
    pub gdb: Option<(String, String)>,
    /// Run this firmware instead of the scenario's.
    pub firmware: Option<PathBuf>,
    /// Profile one device: (device id or empty for the first, flat-profile file; the folded
    /// stacks go to the same path + `.folded`).
    pub profile: Option<(String, PathBuf)>,
    /// Also write the HTML report here (the artefacts are then kept: it links to the pcap).
    pub report: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: None,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            keep: false,
            out_root: PathBuf::from("target/scenarios"),
            progress_every: 0.0,
            gdb: None,
            firmware: None,
            profile: None,
            report: None,
        }
    }
}

/// The result of one scenario.
pub struct ScenarioResult {
    /// The scenario as run.
    pub scenario: Scenario,
    /// The seed used.
    pub seed: u64,
    /// What happened.
    pub outcome: WorldOutcome,
    /// The verdicts.
    pub checks: Vec<Check>,
    /// Where the artefacts are, if kept.
    pub kept: Option<PathBuf>,
    /// Cycles, instructions, pcap and request-log digests of the run.
    pub fingerprint: Fingerprint,
    /// Host time of the second run of `expect.deterministic`.
    pub rerun_host: Option<Duration>,
}

impl ScenarioResult {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// Host time of all runs of the scenario.
    pub fn host_total(&self) -> Duration {
        self.outcome.host + self.rerun_host.unwrap_or_default()
    }
}

/// Runs one scenario file.
pub fn run_file(path: &Path, opts: &Options) -> Result<ScenarioResult> {
    let scenario = Scenario::load(path)?;
    run_scenario(scenario, opts)
}

/// Runs a loaded scenario.
pub fn run_scenario(mut scenario: Scenario, opts: &Options) -> Result<ScenarioResult> {
    if let Some(elf) = &opts.firmware {
        scenario.firmware = elf.clone();
    }
    let seed = opts.seed.unwrap_or(scenario.seed);
    let out_dir = opts.out_root.join(&scenario.name);
    // A device named by id (empty: the first) as an index.
    let device_index = |device: &str, option: &str| -> Result<usize> {
        if device.is_empty() {
            return Ok(0);
        }
        scenario
            .devices
            .iter()
            .position(|d| d.id == device)
            .with_context(|| format!("{option} {device:?}: no such device"))
    };
    let gdb = match &opts.gdb {
        None => None,
        Some((device, addr)) => Some((device_index(device, "--gdb-device")?, addr.clone())),
    };
    let profile = match &opts.profile {
        None => None,
        Some((device, file)) => Some((device_index(device, "--profile-device")?, file.clone())),
    };
    let run_opts = RunOptions {
        out_dir: out_dir.clone(),
        jobs: opts.jobs,
        progress_every: opts.progress_every,
        gdb,
        profile,
        record: None,
    };
    let outcome = world::run_world(&scenario, seed, &run_opts)
        .with_context(|| format!("scenario {}", scenario.name))?;
    let mut checks = expect::check_all(&scenario, &outcome);
    let fingerprint = Fingerprint::of(&outcome)?;
    let mut rerun_host = None;
    if scenario.expect.deterministic {
        // The second run keeps its own artefacts beside the first run's, for diffing. It runs
        // on another number of host threads, so that a result that depends on how the host
        // schedules the devices shows up as a difference.
        let rerun_dir = out_dir.join("rerun");
        let jobs = if run_opts.jobs > 1 { 1 } else { 2 };
        let again = world::run_world(
            &scenario,
            seed,
            &RunOptions {
                out_dir: rerun_dir.clone(),
                jobs,
                ..run_opts
            },
        )
        .with_context(|| format!("scenario {} (second run)", scenario.name))?;
        rerun_host = Some(again.host);
        let check = check_same(&fingerprint, &outcome, &again, seed, jobs)?;
        if check.ok {
            std::fs::remove_dir_all(&rerun_dir)
                .with_context(|| format!("{}: cannot remove", rerun_dir.display()))?;
        } else {
            write_logs(&again, &rerun_dir)?;
        }
        checks.push(check);
    }
    let mut result = ScenarioResult {
        scenario,
        seed,
        outcome,
        checks,
        kept: None,
        fingerprint,
        rerun_host,
    };
    write_artefacts(&result, &out_dir)?;
    if let Some(path) = &opts.report {
        report_html::write(&result, path)?;
    }
    if !result.passed() || opts.keep || opts.report.is_some() {
        result.kept = Some(out_dir);
    } else {
        std::fs::remove_dir_all(&out_dir)
            .with_context(|| format!("{}: cannot remove", out_dir.display()))?;
    }
    Ok(result)
}

/// The determinism check: a second run's fingerprint against the first's.
fn check_same(
    first: &Fingerprint,
    a: &WorldOutcome,
    b: &WorldOutcome,
    seed: u64,
    jobs: usize,
) -> Result<Check> {
    let second = Fingerprint::of(b)?;
    let diffs = determinism::differences(
        first,
        &second,
        &a.endpoint.requests(),
        &b.endpoint.requests(),
    );
    let cycles: Vec<String> = first
        .devices
        .iter()
        .map(|d| format!("{} {}", d.id, d.cycles))
        .collect();
    Ok(Check {
        what: format!(
            "deterministic: a second run with seed {seed} (on {jobs} host thread{}) gives the \
             same cycles ({}), instructions, pcap (sha256 {}) and request log ({} records)",
            if jobs == 1 { "" } else { "s" },
            cycles.join(", "),
            first.pcap_sha256.as_deref().unwrap_or("none: no network"),
            first.requests
        ),
        ok: diffs.is_empty(),
        detail: diffs.join("; "),
    })
}

fn write_artefacts(r: &ScenarioResult, dir: &Path) -> Result<()> {
    write_logs(&r.outcome, dir)?;
    let path = dir.join("summary.txt");
    std::fs::write(&path, report::summary(r))
        .with_context(|| format!("{}: cannot write", path.display()))?;
    report_html::write(r, &dir.join(report_html::FILE_NAME))
}

/// The UART logs and the request log of a run (its pcap is written while it runs).
fn write_logs(run: &WorldOutcome, dir: &Path) -> Result<()> {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display()))
    };
    for d in &run.devices {
        let mut log = String::new();
        for (t, line) in d.lines() {
            let _ = writeln!(log, "[{:>12.6}] {line}", t as f64 / 1e9);
        }
        if let Some(report) = &d.fault_report {
            let _ = writeln!(log, "\n--- fault ---\n{report}");
        }
        write(&format!("{}.uart.log", d.id), &log)?;
    }
    let mut jsonl = String::new();
    for record in run.endpoint.requests() {
        let _ = writeln!(jsonl, "{}", serde_json::to_string(&record)?);
    }
    write("requests.jsonl", &jsonl)
}

/// Every `*.toml` in directory `path` except `Cargo.toml` (sorted), or `path` itself if it
/// is a file.
pub fn scenario_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("{}: cannot read", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        // The crate's manifest lives beside the scenarios.
        .filter(|p| p.file_name().is_some_and(|n| n != "Cargo.toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!("{}: no scenario files (*.toml)", path.display());
    }
    Ok(files)
}
