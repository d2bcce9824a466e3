//! The device bench (`scenarios bench` on a one-device scenario, or with `--alone`): how fast a
//! scenario's devices run in it compared with their bench speed.
//!
//! "Its bench MIPS" is measured on exactly the same work: the scenario's device runs a second
//! time, alone, on the same engine, with a recording of what its cable answered in the
//! scenario as its only input ([`super::linklog`]) — no gateway, no endpoint, no pcap, no
//! synchronisation (a fleet's devices one after another, each alone). It executes exactly the
//! same instructions (the bench checks the cycles and instructions), so busy MIPS in the
//! scenario ÷ busy MIPS alone is the share of host time the scenario leaves to the devices. The `cargo bench` guests are the
//! wrong yardstick for that: their code mix (and, under the compiling engine, their compile
//! time per instruction run) differ from the firmware's, so their MIPS would mix the scenario's
//! cost with the engine's speed on other code.
//!
//! Host time is CPU time: the scenario's span on one host thread (its gateway and endpoint
//! included), and the running thread's time alone; each figure the median of interleaved
//! runs.

use std::fmt::Write as _;

use anyhow::{bail, Context, Result};

use ft900_sim::elf::Program;
use ft900_sim::{RunLimits, StopReason};

use super::linklog::{LinkLog, Recorder, Replay};
use super::spec::Scenario;
use super::table::mips;
use super::world::{self, DeviceOutcome, RunOptions, HZ};
use super::{cputime, run_scenario, Options};
use crate::endpoint::{Credentials, Endpoint};

/// The device bench's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceBench {
    /// Scenario name.
    pub scenario: String,
    /// The devices' ids.
    pub devices: Vec<String>,
    /// Engine name.
    pub engine: String,
    /// Instructions executed, idle-loop iterations included.
    pub insns: u64,
    /// Busy instructions (idle-loop iterations the simulator skipped not counted).
    pub busy_insns: u64,
    /// CPU seconds of each run in the scenario (the run's span).
    pub scenario_cpu_s: Vec<f64>,
    /// CPU seconds of each run alone (every device, one after another).
    pub alone_cpu_s: Vec<f64>,
    /// Busy MIPS in the scenario (median run).
    pub scenario_mips: f64,
    /// Busy MIPS alone: the bench MIPS (median run).
    pub alone_mips: f64,
    /// `scenario_mips ÷ alone_mips`.
    pub ratio: f64,
    /// Whether every scenario run passed its expectations.
    pub passed: bool,
    /// What differs between the runs (empty: every run executed the same instructions).
    pub differences: Vec<String>,
    /// Blocks the compiling engine compiled in a run alone, all devices (0 with the
    /// interpreter).
    pub jit_blocks: u64,
}

impl DeviceBench {
    /// Every run passed and executed the same instructions.
    pub fn ok(&self) -> bool {
        self.passed && self.differences.is_empty()
    }

    /// The report as text.
    pub fn text(&self) -> String {
        let runs = |v: &[f64]| {
            v.iter()
                .map(|s| format!("{:.0}", mips(self.busy_insns, *s)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let who = match self.devices.as_slice() {
            [one] => format!("device {one}"),
            all => format!("{} devices (on one host thread in the scenario)", all.len()),
        };
        let mut out = format!(
            "device bench {}: {who}, engine {}, {:.2} M busy instructions (of {:.2} M), {} \
             runs each\n\
             where            cpu s   busy MIPS   (each run)\n",
            self.scenario,
            self.engine,
            self.busy_insns as f64 / 1e6,
            self.insns as f64 / 1e6,
            self.scenario_cpu_s.len()
        );
        for (name, cpu, m) in [
            ("in scenario", &self.scenario_cpu_s, self.scenario_mips),
            ("alone (bench)", &self.alone_cpu_s, self.alone_mips),
        ] {
            let _ = writeln!(
                out,
                "{name:<14} {:>7.3}   {m:>9.1}   ({})",
                median(cpu),
                runs(cpu)
            );
        }
        if self.jit_blocks > 0 {
            let _ = writeln!(out, "blocks compiled per run: {}", self.jit_blocks);
        }
        let _ =
            writeln!(
            out,
            "ratio {:.2}: busy MIPS in the scenario ÷ the same instructions on the same engine \
             alone{}",
            self.ratio,
            if self.passed { "" } else { "   (scenario FAILED)" }
        );
        if self.differences.is_empty() {
            let _ = writeln!(
                out,
                "alone, every device executed exactly its instructions in the scenario (same \
                 cycles and instructions)"
            );
        } else {
            let _ = writeln!(out, "the runs DIFFER: {}", self.differences.join("; "));
        }
        out
    }
}

/// The median of `v` (0 when empty).
fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// What a device did, as the bench compares it.
#[derive(Debug, Clone, Copy)]
struct Counts {
    cycles: u64,
    insns: u64,
    idle_insns: u64,
}

/// Same cycles and instructions. The idle-loop iterations skipped may differ: a fleet's device
/// runs in quanta, and at a quantum's end inside an idle loop an iteration or two are executed
/// rather than skipped (the counters end the same either way); alone it runs to its events.
impl PartialEq for Counts {
    fn eq(&self, other: &Counts) -> bool {
        (self.cycles, self.insns) == (other.cycles, other.insns)
    }
}

impl Counts {
    fn of(d: &DeviceOutcome) -> Counts {
        Counts {
            cycles: d.cycles,
            insns: d.insns,
            idle_insns: d.idle_insns,
        }
    }
}

/// Runs the device bench: `reps` runs of the scenario (its devices on one host thread)
/// interleaved with `reps` runs of each of its devices alone, one after another.
pub fn bench(scenario: &Scenario, opts: &Options, reps: usize) -> Result<DeviceBench> {
    let mut s = scenario.clone();
    if let Some(elf) = &opts.firmware {
        s.firmware = elf.clone();
    }
    if s.devices.is_empty() {
        bail!("{}: no device", s.name);
    }
    if s.endpoint.external.is_some() {
        bail!(
            "{}: the endpoint is outside the simulation (paced by the wall clock)",
            s.name
        );
    }
    let seed = opts.seed.unwrap_or(s.seed);
    let engine = s.engine()?;
    let quiet = Options {
        jobs: 1,
        progress_every: 0.0,
        gdb: None,
        profile: None,
        report: None,
        ..opts.clone()
    };

    // The recording: one more run in the scenario, every cable's answers kept.
    let recorder = Recorder::new();
    let recording_dir = opts.out_root.join(&s.name).join("recording");
    let recorded = world::run_world(
        &s,
        seed,
        &RunOptions {
            out_dir: recording_dir.clone(),
            jobs: 1,
            progress_every: 0.0,
            gdb: None,
            profile: None,
            record: Some(recorder.clone()),
        },
    )
    .with_context(|| format!("scenario {} (recording)", s.name))?;
    let _ = std::fs::remove_dir_all(&recording_dir);
    let want: Vec<(Counts, Option<StopReason>)> = recorded
        .devices
        .iter()
        .map(|d| (Counts::of(d), d.stop))
        .collect();
    let logs: Vec<Option<LinkLog>> = (0..s.devices.len()).map(|i| recorder.take(i)).collect();
    drop(recorded);

    let program = Program::read_file(&s.firmware)
        .with_context(|| format!("{}: cannot read the firmware", s.firmware.display()))?;
    let endpoint = world::endpoint_for(&s, seed)?;
    let creds = world::credentials_for(&s, seed).remove(0);
    let limit = (s.max_virtual_seconds * HZ as f64) as u64;

    let mut differences = Vec::new();
    let mut jit_blocks = 0;
    let mut passed = true;
    let (mut in_scenario, mut alone) = (Vec::new(), Vec::new());
    for rep in 1..=reps.max(1) {
        let r = run_scenario(s.clone(), &quiet)
            .with_context(|| format!("scenario {} (run {rep})", s.name))?;
        passed &= r.passed();
        for (d, (w, _)) in r.outcome.devices.iter().zip(&want) {
            let got = Counts::of(d);
            if got != *w {
                differences.push(format!(
                    "scenario run {rep}, device {}: {got:?}, recorded {w:?}",
                    d.id
                ));
            }
        }
        in_scenario.push(r.outcome.span.as_secs_f64());
        drop(r);

        let mut cpu = 0.0;
        jit_blocks = 0;
        for (index, (w, want_stop)) in want.iter().enumerate() {
            let a = run_alone(
                &s,
                &program,
                (&endpoint, &creds),
                seed,
                index,
                limit,
                logs[index].clone(),
            )?;
            let id = &s.devices[index].id;
            if a.counts != *w || a.stop != *want_stop {
                differences.push(format!(
                    "alone run {rep}, device {id}: {:?} stop {:?}, in the scenario {w:?} stop \
                     {want_stop:?}",
                    a.counts, a.stop
                ));
            }
            if !a.exact {
                differences.push(format!(
                    "alone run {rep}, device {id}: did not ask its cable what it asked in the \
                     scenario"
                ));
            }
            cpu += a.cpu_s;
            jit_blocks += a.jit_blocks;
        }
        alone.push(cpu);
    }
    let insns = want.iter().map(|(c, _)| c.insns).sum();
    let busy = want
        .iter()
        .map(|(c, _)| c.insns.saturating_sub(c.idle_insns))
        .sum();
    let scenario_mips = mips(busy, median(&in_scenario));
    let alone_mips = mips(busy, median(&alone));
    Ok(DeviceBench {
        scenario: s.name.clone(),
        devices: s.devices.iter().map(|d| d.id.clone()).collect(),
        engine: engine.to_string(),
        insns,
        busy_insns: busy,
        scenario_cpu_s: in_scenario,
        alone_cpu_s: alone,
        scenario_mips,
        alone_mips,
        ratio: if alone_mips > 0.0 {
            scenario_mips / alone_mips
        } else {
            0.0
        },
        passed,
        differences,
        jit_blocks,
    })
}

/// One device's run alone.
struct Alone {
    /// CPU seconds.
    cpu_s: f64,
    /// What it did.
    counts: Counts,
    /// How it stopped (`None`: still running at the limit).
    stop: Option<StopReason>,
    /// It asked its cable exactly what it asked in the scenario.
    exact: bool,
    /// Blocks compiled.
    jit_blocks: u64,
}

/// Device `index` alone with its recorded cable as its only input.
fn run_alone(
    s: &Scenario,
    program: &Program,
    (endpoint, creds): (&Endpoint, &Credentials),
    seed: u64,
    index: usize,
    limit: u64,
    log: Option<LinkLog>,
) -> Result<Alone> {
    let (link, end) = match log {
        Some(log) => {
            let (replay, end) = Replay::new(log);
            (
                Some(Box::new(replay) as Box<dyn net_bridge::Link>),
                Some(end),
            )
        }
        None => (None, None),
    };
    let (mut machine, _uart) = world::build_device(s, program, endpoint, creds, index, seed, link)?;
    let started = cputime::thread();
    let stop = machine.run(RunLimits {
        cycle_deadline: Some(limit),
        ..RunLimits::default()
    });
    let cpu = cputime::thread().saturating_sub(started).as_secs_f64();
    let counts = Counts {
        cycles: machine.core.cycles,
        insns: machine.core.insns,
        idle_insns: machine.idle_cycles() / 2,
    };
    let blocks = machine.jit_blocks_compiled();
    drop(machine);
    let exact = match end {
        Some(end) => end
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|e| e.exact()),
        None => true,
    };
    Ok(Alone {
        cpu_s: cpu,
        counts,
        stop: (stop != StopReason::CycleLimit).then_some(stop),
        exact,
        jit_blocks: blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_of_runs() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
