//! `scenarios bench` on a one-device scenario (the device bench): the device in its scenario
//! against the same device alone, its cable replayed from a recording. Checks, on both
//! engines, that the run alone executes exactly the scenario's instructions (so the two
//! figures measure the same work) and that the ratio is computed from the figures and
//! reported. No speed is asserted: host speed is not a test's business.

mod fwbuild;

use scenarios::runner::devbench;
use scenarios::runner::{Options, Scenario};

/// The single-device scenario cut down to one reading.
fn one_reading(elf: &std::path::Path, engine: &str) -> Scenario {
    let file = fwbuild::workspace_root().join("scenarios/single-device.toml");
    let mut s = Scenario::load(&file).unwrap_or_else(|e| panic!("{e:#}"));
    s.firmware = elf.to_path_buf();
    s.engine = Some(engine.into());
    s.config.insert("device.readings".into(), "1".into());
    for items in &mut s.expect.items {
        items.count = Some(1);
        if let Some(seq) = &mut items.sequence {
            seq.to = 1;
        }
    }
    s
}

#[test]
fn the_device_alone_runs_the_scenarios_instructions_and_the_ratio_is_reported() {
    let elf = fwbuild::firmware("dynamodb-client.elf");
    let opts = Options {
        out_root: fwbuild::target_dir().join("device-bench"),
        ..Options::default()
    };
    for engine in ["interp", "jit"] {
        let b = devbench::bench(&one_reading(&elf, engine), &opts, 2)
            .unwrap_or_else(|e| panic!("{engine}: {e:#}"));
        let text = b.text();
        assert!(b.passed, "{engine}: the scenario failed\n{text}");
        assert!(
            b.differences.is_empty(),
            "{engine}: alone, the device did something else: {:?}",
            b.differences
        );
        assert_eq!(b.engine, engine);
        assert_eq!(b.devices, ["hopper"]);
        assert_eq!((b.scenario_cpu_s.len(), b.alone_cpu_s.len()), (2, 2));
        // An upload is mostly idle waiting: the busy share is real work, but not all of it.
        assert!(
            b.busy_insns > 1_000_000 && b.busy_insns < b.insns,
            "{engine}: busy {} of {}",
            b.busy_insns,
            b.insns
        );
        // The figures are what the runs measured, and the ratio is theirs.
        let median = |v: &[f64]| (v[0] + v[1]) / 2.0;
        let mips = |cpu: f64| b.busy_insns as f64 / cpu / 1e6;
        assert!((b.scenario_mips - mips(median(&b.scenario_cpu_s))).abs() < 1e-6);
        assert!((b.alone_mips - mips(median(&b.alone_cpu_s))).abs() < 1e-6);
        assert!(b.ratio > 0.0 && (b.ratio - b.scenario_mips / b.alone_mips).abs() < 1e-9);
        assert!(text.contains(&format!("ratio {:.2}", b.ratio)), "{text}");
        assert!(text.contains("exactly its instructions"), "{text}");
        assert_eq!(
            b.jit_blocks > 0,
            engine == "jit",
            "{engine}: {} blocks compiled",
            b.jit_blocks
        );
        assert!(b.ok());
    }
}
