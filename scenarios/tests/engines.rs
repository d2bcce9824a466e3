//! Engine against engine in whole scenarios: `single-device` and `determinism`'s three-device
//! fleet run once with the interpreter and once with the compiling engine (the scenario's
//! `engine` key, which wins over `FT900_ENGINE`), and must give the same run: every device's
//! cycles and instructions, the pcap's SHA-256 and the request log's digest (the fingerprint
//! the runner computes for `expect.deterministic`). Both runs must also meet the scenario's
//! own expectations.

// Both engines are needed: nothing to compare in a build without the `jit` feature.
#![cfg(feature = "jit")]

mod fwbuild;

use ft900_sim::Engine;
use scenarios::runner::{determinism, report, run_scenario, Options, Scenario, ScenarioResult};

fn run(file: &str, engine: Engine) -> ScenarioResult {
    let path = fwbuild::workspace_root().join("scenarios").join(file);
    let mut scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
    scenario.firmware = fwbuild::firmware("dynamodb-client.elf");
    scenario.engine = Some(engine.name().to_string());
    // The engine comparison is the second run here; the scenario's own rerun would only
    // repeat it.
    scenario.expect.deterministic = false;
    let opts = Options {
        jobs: 2,
        out_root: fwbuild::target_dir()
            .join("scenario-engines")
            .join(engine.name()),
        ..Options::default()
    };
    let r = run_scenario(scenario, &opts).unwrap_or_else(|e| panic!("{file} ({engine}): {e:#}"));
    assert!(r.passed(), "{file} ({engine}):\n{}", report::summary(&r));
    r
}

fn same_under_both_engines(file: &str) {
    let a = run(file, Engine::Interp);
    let b = run(file, Engine::Jit);
    assert!(
        a.fingerprint.devices.iter().all(|d| d.insns > 0),
        "{file}: {:?}",
        a.fingerprint
    );
    assert!(
        a.fingerprint.requests > 0,
        "{file}: no request reached the endpoint"
    );
    let diffs = determinism::differences(
        &a.fingerprint,
        &b.fingerprint,
        &a.outcome.endpoint.requests(),
        &b.outcome.endpoint.requests(),
    );
    assert!(
        diffs.is_empty(),
        "{file}: interp, then jit: {}",
        diffs.join("; ")
    );
    assert_eq!(a.fingerprint, b.fingerprint, "{file}");
    eprintln!(
        "{file}: identical under interp and jit: {:?}",
        a.fingerprint
    );
}

#[test]
fn single_device_is_the_same_run_under_both_engines() {
    same_under_both_engines("single-device.toml");
}

#[test]
fn a_small_fleet_is_the_same_run_under_both_engines() {
    same_under_both_engines("determinism.toml");
}
