//! The scenario suite: every `scenarios/*.toml` runs on the firmware built from this checkout
//! and must meet all of its expectations. On a failure the runner's report (each check, the
//! device stops, where the UART logs, pcap and request log were kept) is in the panic message.
//! The figures of every scenario (virtual and host time, instructions, MIPS, requests) go to
//! `target/scenarios/suite-summary.md` and to the test's output.

mod fwbuild;

use scenarios::runner::{report, run_scenario, scenario_files, table, Options, Scenario};

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
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for file in &files {
        let mut scenario = Scenario::load(file).unwrap_or_else(|e| panic!("{e:#}"));
        // The scenario names the firmware as built by `make -C firmware`; the test uses its own build.
        scenario.firmware = elf.clone();
        match run_scenario(scenario, &opts) {
            Ok(r) => {
                let text = report::summary(&r);
                eprint!("{text}");
                rows.push(table::Row::of(&r));
                if !r.passed() {
                    failures.push(text);
                }
            }
            Err(e) => {
                rows.push(table::Row::error(&file.display().to_string()));
                failures.push(format!("{}: {e:#}\n", file.display()));
            }
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
