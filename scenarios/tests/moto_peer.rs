//! An independent peer accepts what the firmware sends: `moto_server` (PyPI `moto[server]`)
//! on a loopback port stands in for DynamoDB. The scenario `scenarios/peers/moto-peer.toml`
//! maps the DynamoDB host name through the user-mode gateway to it (`[endpoint] external`);
//! moto serves TLS with the scenario's own certificate (the devices trust the scenario's CA)
//! and, with `INITIAL_NO_AUTH_ACTION_COUNT=3`, checks every SigV4 signature after the three
//! requests that create its IAM user, policy and key. boto3 then reads the table back.
//!
//! moto answers on the host's clock, so the run is paced to the wall clock and starts at the
//! host's current time (`epoch_unix`): the firmware's SNTP time, its `X-Amz-Date` and its
//! readings' timestamps are then real times, as they would be against AWS.
//!
//! Without moto (python3 -c "import moto.server") the test says so and passes, except in CI
//! (`CI` set), where it fails: `.ci/run` installs `moto[server]`.

mod fwbuild;
mod moto;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use moto::{helper, moto_present, start_moto};

use scenarios::runner::spec::{CredentialSpec, Expectations, UartExpectation};
use scenarios::runner::{report, run_scenario, world, Options, Scenario};
use serde_json::Value;

const TABLE: &str = "SensorReadings";

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// `value` of `key=value` in a log line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// A DynamoDB number, compared by value ("21.50" and "21.5" are the same number).
fn number(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|_| panic!("{s:?} is not a number"))
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` into unix seconds.
fn iso_to_unix(ts: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| -> i64 { ts[r].parse().expect("digits") };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

#[test]
fn firmware_readings_land_in_moto_server_and_a_wrong_secret_stores_nothing() {
    if !moto_present() {
        return;
    }
    let elf = fwbuild::firmware("dynamodb-client.elf");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("moto-peer");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let file = fwbuild::workspace_root().join("scenarios/peers/moto-peer.toml");
    let mut s = Scenario::load(&file).unwrap_or_else(|e| panic!("{e:#}"));
    s.firmware = elf;
    // The certificates' validity derives from the year of `epoch_unix`: take it from the
    // host's clock before deriving the identity, as the run will.
    s.epoch_unix = unix_now();
    let readings: u64 = s.config["device.readings"].parse().unwrap();

    // The scenario's identity, exactly as the runner derives it from the seed: moto presents
    // it, the devices trust its CA.
    let ep = world::endpoint_for(&s, s.seed).unwrap();
    let (cert, key) = ep.server_identity_pem();
    std::fs::write(dir.join("ca.pem"), ep.ca_cert_pem()).unwrap();
    std::fs::write(dir.join("server.pem"), cert).unwrap();
    std::fs::write(dir.join("server.key"), key).unwrap();

    let moto = start_moto(Some(&dir));
    let url = format!("https://localhost:{}", moto.addr.port());
    let ca = dir.join("ca.pem");
    let ca = ca.to_str().unwrap();
    let keys = helper(&["setup", &url, ca, TABLE]);
    let (akid, secret) = (
        keys["access_key_id"].as_str().unwrap().to_string(),
        keys["secret_access_key"].as_str().unwrap().to_string(),
    );
    // The peer really checks signatures: otherwise the rest proves nothing.
    assert_eq!(
        keys["wrong_secret"], "SignatureDoesNotMatch",
        "moto must refuse a wrong secret once authentication is on"
    );

    s.endpoint.external = Some(moto.addr.to_string());
    s.endpoint.credentials = vec![CredentialSpec {
        access_key_id: akid.clone(),
        secret_access_key: secret.clone(),
        session_token: None,
    }];
    let opts = Options {
        jobs: 1,
        out_root: fwbuild::target_dir().join("scenarios"),
        ..Options::default()
    };

    // 1. The readings land in moto, each once, with the values the device logged. moto dates
    //    its answers by the host's clock: so do the devices (the certificate's validity only
    //    depends on the year of `epoch_unix`).
    s.epoch_unix = unix_now();
    let wall_start = s.epoch_unix as i64;
    let refused_before = moto.responses_with(403);
    let r = run_scenario(s.clone(), &opts).unwrap_or_else(|e| panic!("{e:#}"));
    let wall_end = unix_now() as i64;
    let text = report::summary(&r);
    eprint!("{text}");
    assert!(r.passed(), "{text}\n--- moto ---\n{}", moto.log());
    assert_eq!(
        moto.responses_with(403),
        refused_before,
        "moto refused none of the device's requests"
    );
    let dev = &r.outcome.devices[0];
    let lines: Vec<String> = dev.lines().into_iter().map(|(_, l)| l).collect();
    let items = helper(&["scan", &url, ca, &akid, &secret, TABLE]);
    let mut by_seq: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for it in items.as_array().expect("a list of items") {
        assert_eq!(it["deviceId"]["S"], "hopper", "foreign item {it}");
        let seq: u64 = it["seq"]["N"].as_str().unwrap().parse().unwrap();
        by_seq.entry(seq).or_default().push(it);
    }
    assert_eq!(
        by_seq.keys().copied().collect::<Vec<_>>(),
        (1..=readings).collect::<Vec<_>>(),
        "every sequence number in moto: {items}"
    );
    for (seq, found) in &by_seq {
        assert_eq!(found.len(), 1, "seq {seq} once");
        let it = found[0];
        let logged = lines
            .iter()
            .find(|l| l.starts_with(&format!("reading seq={seq} ")))
            .unwrap_or_else(|| panic!("no reading line for seq {seq}"));
        for (attr, key) in [("temperature", "temperature"), ("humidity", "humidity")] {
            let stored = it[attr]["N"].as_str().expect("a number attribute");
            assert_eq!(
                number(stored),
                number(field(logged, key).unwrap()),
                "{attr} of seq {seq}: {it} vs {logged}"
            );
        }
        let ts = it["timestamp"]["S"].as_str().expect("timestamp S");
        assert_eq!(Some(ts), field(logged, "time"), "timestamp of seq {seq}");
        // Virtual time starts at `epoch_unix` and never runs ahead of the wall clock, so the
        // readings carry times inside the run's span (late by the run's set-up at most).
        let t = iso_to_unix(ts);
        assert!(
            (wall_start..=wall_end).contains(&t),
            "reading {seq} at {ts} ({t}) outside the run's wall-clock span {wall_start}..={wall_end}"
        );
    }
    // How far the devices' clock (epoch + virtual time) trails the host's at the end: the
    // run's set-up (key generation) plus any time the simulator fell behind.
    let behind = wall_end as f64 - (s.epoch_unix as f64 + r.outcome.virtual_ns as f64 / 1e9);
    eprintln!(
        "moto-peer: {} items in moto, virtual {:.1} s, host {:.1} s, device clock {behind:.0} s \
         behind the host's at the end",
        by_seq.len(),
        r.outcome.virtual_ns as f64 / 1e9,
        r.outcome.host.as_secs_f64()
    );

    // 2. The same key with a wrong secret: moto refuses, nothing of that device is stored,
    //    the firmware keeps its readings and says why.
    let mut bad = s.clone();
    bad.name = "moto-peer-wrong-secret".into();
    bad.devices[0].id = "lovelace".into();
    let mut wrong = secret.clone();
    wrong.replace_range(0..1, if wrong.starts_with('A') { "B" } else { "A" });
    bad.endpoint.credentials[0].secret_access_key = wrong;
    bad.max_virtual_seconds = 12.0;
    bad.epoch_unix = unix_now();
    bad.expect = Expectations {
        still_running: true,
        uart: vec![UartExpectation {
            regex: "^ERROR .*rejected status=403".into(),
            device: "*".into(),
            present: true,
            within_virtual_seconds: None,
            min_count: None,
            max_count: None,
        }],
        ..Expectations::default()
    };
    let started = Instant::now();
    let r = run_scenario(bad, &opts).unwrap_or_else(|e| panic!("{e:#}"));
    let text = report::summary(&r);
    eprint!("{text}");
    assert!(r.passed(), "{text}\n--- moto ---\n{}", moto.log());
    let refusal = r.outcome.devices[0]
        .lines()
        .into_iter()
        .find(|(_, l)| l.contains("ERROR"))
        .map(|(_, l)| l)
        .unwrap_or_default();
    eprintln!("  the firmware: {refusal}");
    // moto refuses IAM authentication with 403 and an XML body (AWS's DynamoDB answers 400
    // InvalidSignatureException in JSON, which the firmware names; moto's XML it does not).
    assert!(
        refusal.contains("rejected status=403"),
        "the firmware reports moto's refusal: {refusal}"
    );
    assert!(
        moto.responses_with(403) > refused_before,
        "moto logged the refusals"
    );
    let after = helper(&["scan", &url, ca, &akid, &secret, TABLE]);
    assert!(
        after
            .as_array()
            .unwrap()
            .iter()
            .all(|it| it["deviceId"]["S"] == "hopper"),
        "nothing of the device with the wrong secret is stored: {after}"
    );
    assert_eq!(after.as_array().unwrap().len(), by_seq.len());
    eprintln!(
        "moto-peer-wrong-secret: refused, nothing stored (host {:.1} s)",
        started.elapsed().as_secs_f64()
    );
}
