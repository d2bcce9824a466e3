//! The scenario suite: every `scenarios/*.toml` runs on the firmware built from this checkout
//! and must meet all of its expectations. On a failure the runner's report (each check, the
//! device stops, where the UART logs, pcap and request log were kept) is in the panic message.
//! The figures of every scenario (virtual and host time, instructions, MIPS, requests) go to
//! `target/scenarios/suite-summary.md` and to the test's output.

mod fwbuild;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use scenarios::runner::{
    report, run_scenario, scenario_files, table, Options, Scenario, ScenarioResult,
};

/// What one scenario contributes to the suite's output.
struct Outcome {
    /// Its summary (printed in file order).
    text: String,
    row: table::Row,
    /// The failure report, if it failed.
    failure: Option<String>,
}

fn outcome_of(file: &Path, result: anyhow::Result<ScenarioResult>) -> Outcome {
    match result {
        Ok(r) => {
            let text = report::summary(&r);
            Outcome {
                row: table::Row::of(&r),
                failure: (!r.passed()).then(|| text.clone()),
                text,
            }
        }
        Err(e) => Outcome {
            text: String::new(),
            row: table::Row::error(&file.display().to_string()),
            failure: Some(format!("{}: {e:#}\n", file.display())),
        },
    }
}

#[test]
fn every_scenario_meets_its_expectations() {
    let elf = fwbuild::firmware("dynamodb-client.elf");
    let files = scenario_files(&fwbuild::workspace_root().join("scenarios")).unwrap();
    assert!(
        files.len() >= 10,
        "the suite has {} scenarios, expected at least 10",
        files.len()
    );
    let opts = Options {
        jobs: 2,
        out_root: fwbuild::target_dir().join("scenarios"),
        ..Options::default()
    };
    // One-device scenarios run two at a time (each keeps one host thread busy); fleets run one
    // after the other on `jobs` threads. Results are reported in file order either way.
    let scenarios: Vec<_> = files
        .iter()
        .map(|file| {
            let mut scenario = Scenario::load(file).unwrap_or_else(|e| panic!("{e:#}"));
            // The scenario names the firmware as built by `make -C firmware`; the test uses its
            // own build.
            scenario.firmware = elf.clone();
            scenario
        })
        .collect();
    let outcomes: Vec<Mutex<Option<Outcome>>> = files.iter().map(|_| Mutex::new(None)).collect();
    let run = |i: usize| {
        let outcome = outcome_of(&files[i], run_scenario(scenarios[i].clone(), &opts));
        *outcomes[i].lock().unwrap() = Some(outcome);
    };
    for (i, _) in scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| s.devices.len() > 1)
    {
        run(i);
    }
    let solo: Vec<usize> = (0..scenarios.len())
        .filter(|&i| scenarios[i].devices.len() <= 1)
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1) {
            scope.spawn(|| {
                while let Some(&i) = solo.get(next.fetch_add(1, Ordering::Relaxed)) {
                    run(i);
                }
            });
        }
    });
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for outcome in outcomes {
        let outcome = outcome.into_inner().unwrap().expect("every scenario ran");
        eprint!("{}", outcome.text);
        rows.push(outcome.row);
        if let Some(failure) = outcome.failure {
            failures.push(failure);
        }
    }
    let summary = opts.out_root.join("suite-summary.md");
    table::write(&summary, &rows).unwrap_or_else(|e| panic!("{e:#}"));
    eprint!("{}", table::markdown(&rows));
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
