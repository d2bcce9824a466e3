//! The configuration-block provisioning through the CLI: `ft900-sim provision` writes the
//! bytes `run --config` puts into flash, and bad input fails with a message naming the key.

use std::process::Command;

use ft900_sim::provision::ConfigBlock;

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ft900-sim"))
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ft9-provision-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn provision_writes_a_block_the_library_decodes_and_never_prints_secrets() {
    let conf = scratch("device.conf");
    std::fs::write(&conf, "device.id = knuth\naws.region=eu-west-1\n").unwrap();
    let out = scratch("block.bin");
    let run = sim()
        .args(["provision", "--config-file"])
        .arg(&conf)
        .args([
            "--config",
            "aws.secret_access_key=TOPSECRETKEY",
            "--config",
            "device.id=hopper",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("TOPSECRETKEY"), "{stderr}");
    assert!(
        stderr.contains("aws.secret_access_key=<secret>"),
        "{stderr}"
    );
    let block = ConfigBlock::decode(&std::fs::read(&out).unwrap()).unwrap();
    // --config comes after the file, so it wins.
    assert_eq!(block.get("device.id"), Some(&b"hopper"[..]));
    assert_eq!(block.get("aws.region"), Some(&b"eu-west-1"[..]));
    assert_eq!(
        block.get("aws.secret_access_key"),
        Some(&b"TOPSECRETKEY"[..])
    );
}

#[test]
fn bad_configuration_fails_with_status_2_and_names_the_problem() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--config", "endpoint.port=70000"],
            "endpoint.port: 70000 is outside 1..=65535",
        ),
        (
            &["--config", "device.idd=x"],
            "unknown configuration key \"device.idd\"",
        ),
        (&["--config", "device.id"], "expected KEY=VALUE"),
    ];
    for (args, expected) in cases {
        let run = sim()
            .arg("provision")
            .args(args)
            .arg("--out")
            .arg(scratch("unused.bin"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
