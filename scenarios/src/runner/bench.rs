//! `scenarios bench`: the fleet benchmark (a one-device scenario gets the device bench
//! instead, [`super::devbench`]: the device in its scenario against the same device alone).
//! The fleet benchmark runs one scenario on 1 host thread and on N, checks
//! that both runs pass and agree (cycles, pcap and request-log digests), and reports readings
//! stored (devices × readings) per host second and the threads' efficiency: busy MIPS on N
//! threads ÷ busy MIPS on one.
//!
//! Host time is given twice: wall clock, and the run's span in CPU time (per quantum the
//! busiest thread's CPU time, plus the serial work between quanta; see [`super::lockstep`]).
//! The span is what the run takes on cores of its own; on a host shared with other work the
//! wall clock measures the other work too, so the efficiency is computed from the span.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::{determinism, devbench, run_scenario, table::mips, Options, Scenario, ScenarioResult};

/// Arguments of `scenarios bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The fleet scenario to run (e.g. `scenarios/fleet-50.toml`).
    pub scenario: PathBuf,
    /// Host threads of the parallel run [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Use this seed instead of the scenario's own.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Parent directory of the artefacts (removed when the runs pass).
    #[arg(long, value_name = "DIR", default_value = "target/scenarios/bench")]
    pub out: PathBuf,
    /// Also write the figures as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Run every device on this engine (`interp` or `jit`) instead of the scenario's.
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
    /// The device bench for a fleet too: the scenario on one thread against its devices run
    /// alone, one after another (a one-device scenario always gets the device bench).
    #[arg(long)]
    pub alone: bool,
    /// The device bench: runs in the scenario and alone, each figure the median.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub reps: u16,
}

/// The figures of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchRun {
    /// Host threads.
    pub threads: usize,
    /// Whether every expectation held.
    pub passed: bool,
    /// Readings stored (items in the scenario's tables at the end).
    pub readings: usize,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// CPU seconds, all threads.
    pub cpu_s: f64,
    /// Span in CPU seconds.
    pub span_s: f64,
    /// Busy instructions (idle-loop iterations the simulator skipped not counted).
    pub busy_instructions: u64,
    /// Busy instructions per microsecond of span.
    pub busy_mips_span: f64,
    /// Busy instructions per wall-clock microsecond.
    pub busy_mips_wall: f64,
    /// Readings per second of span.
    pub readings_per_span_s: f64,
    /// Readings per wall-clock second.
    pub readings_per_wall_s: f64,
}

/// The benchmark's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// Scenario name.
    pub scenario: String,
    /// Devices in the fleet.
    pub devices: usize,
    /// The run on one thread, then the run on N.
    pub runs: Vec<BenchRun>,
    /// Busy MIPS (span) on N threads ÷ on one.
    pub efficiency_span: f64,
    /// The same from the wall clock (meaningful on an otherwise idle host only).
    pub efficiency_wall: f64,
    /// What differs between the two runs' fingerprints (empty: nothing).
    pub differences: Vec<String>,
}

impl BenchReport {
    /// Both runs passed and agree.
    pub fn ok(&self) -> bool {
        self.runs.iter().all(|r| r.passed) && self.differences.is_empty()
    }

    /// The report as text.
    pub fn text(&self) -> String {
        let mut out = format!(
            "fleet bench {}: {} devices\n\
             threads   readings   wall s    cpu s   span s   busy MIPS (span, wall)   readings/s (span, wall)\n",
            self.scenario, self.devices
        );
        for r in &self.runs {
            let _ = writeln!(
                out,
                "{:>7}   {:>8}  {:>7.2}  {:>7.2}  {:>7.2}   {:>9.0} {:>9.0}        {:>9.2} {:>9.2}{}",
                r.threads,
                r.readings,
                r.wall_s,
                r.cpu_s,
                r.span_s,
                r.busy_mips_span,
                r.busy_mips_wall,
                r.readings_per_span_s,
                r.readings_per_wall_s,
                if r.passed { "" } else { "   FAIL" }
            );
        }
        let n = self.runs.last().map_or(1, |r| r.threads);
        let _ = writeln!(
            out,
            "efficiency on {n} threads (busy MIPS ÷ one thread's): {:.2} from the span, {:.2} \
             from the wall clock (a shared host makes the wall clock noise)",
            self.efficiency_span, self.efficiency_wall
        );
        if self.differences.is_empty() {
            let _ = writeln!(
                out,
                "same cycles, pcap and request log on 1 and {n} threads"
            );
        } else {
            let _ = writeln!(out, "the runs DIFFER: {}", self.differences.join("; "));
        }
        out
    }
}

fn figures(r: &ScenarioResult, threads: usize) -> BenchRun {
    let o = &r.outcome;
    let readings = r
        .scenario
        .endpoint
        .tables
        .iter()
        .filter_map(|t| o.endpoint.items(&t.name))
        .map(|items| items.len())
        .sum();
    let wall = o.host.as_secs_f64();
    let span = o.span.as_secs_f64();
    let per = |n: usize, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    BenchRun {
        threads,
        passed: r.passed(),
        readings,
        wall_s: wall,
        cpu_s: o.cpu.as_secs_f64(),
        span_s: span,
        busy_instructions: o.busy_insns(),
        busy_mips_span: mips(o.busy_insns(), span),
        busy_mips_wall: mips(o.busy_insns(), wall),
        readings_per_span_s: per(readings, span),
        readings_per_wall_s: per(readings, wall),
    }
}

/// Runs the benchmark: `scenario` on 1 thread, then on `threads`.
pub fn bench(scenario: &Scenario, threads: usize, opts: &Options) -> Result<BenchReport> {
    let mut results = Vec::new();
    for n in [1, threads.max(1)] {
        let out_root = opts.out_root.join(format!("threads-{n}"));
        let r = run_scenario(
            scenario.clone(),
            &Options {
                jobs: n,
                out_root,
                ..opts.clone()
            },
        )
        .with_context(|| format!("{} on {n} thread(s)", scenario.name))?;
        results.push((n, r));
    }
    let (one, many) = (&results[0].1, &results[1].1);
    let differences = determinism::differences(
        &one.fingerprint,
        &many.fingerprint,
        &one.outcome.endpoint.requests(),
        &many.outcome.endpoint.requests(),
    );
    let runs: Vec<BenchRun> = results.iter().map(|(n, r)| figures(r, *n)).collect();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Ok(BenchReport {
        scenario: scenario.name.clone(),
        devices: scenario.devices.len(),
        efficiency_span: ratio(runs[1].busy_mips_span, runs[0].busy_mips_span),
        efficiency_wall: ratio(runs[1].busy_mips_wall, runs[0].busy_mips_wall),
        runs,
        differences,
    })
}

/// `scenarios bench`: exit status 0 if both runs passed and agree.
pub fn run(args: &BenchArgs) -> Result<u8> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(engine) = &args.engine {
        engine.parse::<ft900_sim::Engine>().context("--engine")?;
        scenario.engine = Some(engine.clone());
    }
    let defaults = Options::default();
    if scenario.devices.len() == 1 || args.alone {
        // One device: nothing to spread over threads; compare it with itself alone.
        let opts = Options {
            seed: args.seed,
            out_root: args.out.clone(),
            ..defaults
        };
        let report = devbench::bench(&scenario, &opts, usize::from(args.reps))?;
        print!("{}", report.text());
        if let Some(path) = &args.json {
            std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
                .with_context(|| format!("{}: cannot write", path.display()))?;
        }
        return Ok(if report.ok() { 0 } else { 1 });
    }
    let threads = args.threads.map_or(defaults.jobs, usize::from);
    let opts = Options {
        seed: args.seed,
        out_root: args.out.clone(),
        ..defaults
    };
    let report = bench(&scenario, threads, &opts)?;
    print!("{}", report.text());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(if report.ok() { 0 } else { 1 })
}
