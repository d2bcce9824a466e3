//! `scenarios run --profile`: the profile of one device over a whole scenario run — here one
//! reading uploaded by the single device (DHCP, DNS, SNTP, a TLS handshake, one signed
//! PutItem) — names the SigV4 signer and mbedTLS's handshake with their real costs, and
//! profiling does not change what the device does or when; the run's HTML report embeds the
//! flame graph of its stacks.

mod fwbuild;

use scenarios::runner::{run_scenario, Options, Scenario};

/// The single-device scenario cut down to one reading.
fn one_reading(elf: &std::path::Path) -> Scenario {
    let file = fwbuild::workspace_root().join("scenarios/single-device.toml");
    let mut s = Scenario::load(&file).unwrap_or_else(|e| panic!("{e:#}"));
    s.firmware = elf.to_path_buf();
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
fn the_profile_of_an_upload_names_the_signer_and_the_handshake() {
    let elf = fwbuild::firmware("dynamodb-client.elf");
    let out = fwbuild::target_dir().join("scenario-profile");
    let flat = out.join("upload.prof");
    std::fs::create_dir_all(&out).unwrap();
    let opts = Options {
        out_root: out.clone(),
        ..Options::default()
    };
    let plain = run_scenario(one_reading(&elf), &opts).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        plain.passed(),
        "{}",
        scenarios::runner::report::summary(&plain)
    );
    let profiled = run_scenario(
        one_reading(&elf),
        &Options {
            profile: Some((String::new(), flat.clone())),
            ..opts
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let summary = scenarios::runner::report::summary(&profiled);
    assert!(profiled.passed(), "{summary}");

    // Profiling takes the hooked path of the interpreter, which executes idle loops instead
    // of skipping them; what the device does and when must not change.
    let (a, b) = (&plain.outcome.devices[0], &profiled.outcome.devices[0]);
    assert_eq!(a.end_ns, b.end_ns, "profiling changed virtual time");
    assert_eq!(a.insns, b.insns);
    assert_eq!(a.uart, b.uart);

    let report = profiled.outcome.profile.as_ref().expect("a profile");
    // Every cycle of the run is in the profile (100 MHz: 10 ns per cycle).
    assert_eq!(report.cycles, b.end_ns / 10, "{summary}");
    assert_eq!(report.insns, b.insns);
    let f = |name: &str| {
        report
            .function(name)
            .unwrap_or_else(|| panic!("no {name} in the profile:\n{}", report.summary(30)))
    };
    let sign = f("sigv4_sign");
    assert_eq!(sign.calls, 1, "one reading, one PutItem, one signature");
    assert!(sign.self_insns > 0 && sign.total_cycles > sign.self_cycles);
    let handshake = f("mbedtls_ssl_handshake");
    assert!(handshake.calls > 0 && handshake.total_cycles > 0);
    for name in [
        "mbedtls_ssl_handshake_step",
        "mbedtls_ecdh_compute_shared",
        "mbedtls_x509_crt_verify_restartable",
        "mpi_mul_hlp",
    ] {
        let g = f(name);
        assert!(g.calls > 0 && g.total_cycles > 0, "{name}: {g:?}");
        assert!(
            g.total_cycles <= handshake.total_cycles,
            "{name} runs inside the handshake"
        );
    }
    // A handshake is public-key arithmetic and costs far more than signing a request.
    assert!(
        handshake.total_cycles > 100 * sign.total_cycles,
        "handshake {} cycles, signature {}",
        handshake.total_cycles,
        sign.total_cycles
    );

    // The files: the flat profile and the folded stacks.
    let text = std::fs::read_to_string(&flat).unwrap();
    assert!(text.starts_with("# ft900-sim flat profile: device hopper"));
    let line = text
        .lines()
        .find(|l| l.ends_with("  sigv4_sign"))
        .expect("sigv4_sign in the flat profile");
    assert!(line.contains(&sign.total_cycles.to_string()), "{line}");
    let folded = std::fs::read_to_string(out.join("upload.prof.folded")).unwrap();
    assert!(folded
        .lines()
        .any(|l| l.contains(";mbedtls_ssl_handshake;") && l.contains(";mpi_mul_hlp ")));
    assert!(folded.lines().any(|l| l.contains(";sigv4_sign;")));

    // The HTML report embeds the flame graph of those stacks (an SVG in a data: URL).
    let page = scenarios::runner::report_html::render(&profiled, &out);
    let url =
        regex::Regex::new(r#"<iframe class="flame" [^>]*src="data:image/svg\+xml;base64,([^"]+)""#)
            .unwrap()
            .captures(&page)
            .expect("a flame graph frame in the report")[1]
            .to_string();
    use base64::Engine as _;
    let svg = base64::engine::general_purpose::STANDARD
        .decode(url)
        .unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("device hopper: CPU cycles by call stack"));
    for name in ["sigv4_sign", "mbedtls_ssl_handshake", "mpi_mul_hlp"] {
        assert!(svg.contains(name), "{name} missing from the flame graph");
    }
}
