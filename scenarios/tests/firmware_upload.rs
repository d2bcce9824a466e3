//! The product end to end: `firmware/build/dynamodb-client.elf` (built with `make`) on the
//! simulated FT900, its configuration block provisioned into flash as a factory programmer would
//! (`ft900_sim::provision`), its Ethernet port cabled to net-bridge's user-mode gateway, whose
//! DNS maps `dynamodb.us-east-1.amazonaws.com` to the local DynamoDB endpoint
//! (`scenarios::endpoint`, HTTPS on virtual time). The firmware takes a DHCP lease, syncs the
//! RTC by SNTP, takes its readings, uploads them with PutItem / BatchWriteItem over TLS signed
//! with SigV4, and exits after the configured number is acknowledged.
//!
//! Checked: exit status 0; the table holds exactly the readings (seq 1..N once each) with the
//! attributes the firmware's sensor model gives; the endpoint saw only well-signed requests;
//! the UART log has the expected lines and no `ERROR`; the secret key never appears; with the
//! endpoint throttling, the firmware retries and still delivers everything; with the endpoint's
//! clock an hour ahead, the firmware corrects its clock from the `Date` header.
//!
//! Virtual time only: the same run gives the same bytes. Needs the ft32-elf toolchain
//! (`$FT32_TOOLCHAIN/bin`, `~/.local/ft32-elf/bin` or `PATH`; `toolchain/install.sh`), GNU make,
//! and lwIP/mbedTLS (`firmware/third_party/fetch.sh`, which the build runs when missing).

mod fwbuild;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::Command;
use std::sync::OnceLock;

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::provision::{self, ConfigBlock};
use ft900_sim::{Machine, Profile, RunLimits, StopReason};
use net_bridge::usernet::SimClock;
use net_bridge::{UserNet, UserNetConfig};
use scenarios::endpoint::{
    Credentials, Endpoint, EndpointConfig, Fault, FaultAction, FaultPlan, FaultTrigger, ServerKey,
};
use serde_json::Value;

const HOST: &str = "dynamodb.us-east-1.amazonaws.com";
const ENDPOINT_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 20);
const HZ: u64 = 100_000_000;
/// A run takes a few virtual seconds (one TLS handshake is ~1.5 s of CPU); the firmware gives
/// up on nothing before 60 s.
const MAX_VIRTUAL_SECONDS: u64 = 120;
const SEED_HEX: &str = "5eed00112233445566778899aabbccddeeff00112233445566778899aabbccdd";

// ---- building -------------------------------------------------------------------------------

/// `make -C firmware BUILD=<target>/firmware <that>/dynamodb-client.elf`, once per test binary:
/// the ELF's bytes and its size line.
fn firmware() -> &'static (Vec<u8>, String) {
    static BUILT: OnceLock<(Vec<u8>, String)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let (elf, size) = fwbuild::firmware_and_size("dynamodb-client.elf");
        (std::fs::read(&elf).expect("the ELF make built"), size)
    })
}

// ---- running --------------------------------------------------------------------------------

struct Run {
    stop: StopReason,
    cycles: u64,
    insns: u64,
    uart: String,
    /// Virtual time (ns) at which each byte of `uart` left UART0.
    uart_times: Vec<u64>,
}

impl Run {
    fn lines(&self) -> impl Iterator<Item = &str> {
        self.uart.lines()
    }

    fn line(&self, prefix: &str) -> &str {
        self.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| {
                panic!(
                    "no line starting with {prefix:?}\n--- UART0 ---\n{}",
                    self.uart
                )
            })
    }

    /// Virtual time (ns) of the first line starting with `prefix`.
    fn time_of(&self, prefix: &str) -> u64 {
        let mut offset = 0;
        for l in self.uart.split_inclusive('\n') {
            if l.starts_with(prefix) {
                return self.uart_times[offset];
            }
            offset += l.len();
        }
        panic!("no line starting with {prefix:?}");
    }

    /// `key=value` of a line.
    fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
    }
}

/// The device configuration: the endpoint's CA, the test key, `readings` readings every
/// `period_ms`.
fn config(ep: &Endpoint, readings: u32, period_ms: u32) -> ConfigBlock {
    let key = Credentials::test_key();
    let mut block = ConfigBlock::new()
        .set("aws.access_key_id", &key.access_key_id)
        .and_then(|b| b.set("aws.secret_access_key", &key.secret_access_key))
        .and_then(|b| b.set("aws.region", "us-east-1"))
        .and_then(|b| b.set("endpoint.host", HOST))
        .and_then(|b| b.set("dynamodb.table", "SensorReadings"))
        .and_then(|b| b.set("dynamodb.partition_key", "deviceId"))
        .and_then(|b| b.set("dynamodb.sort_key", "seq"))
        .and_then(|b| b.set("device.id", "hopper"))
        .and_then(|b| b.set("device.period_ms", &period_ms.to_string()))
        .and_then(|b| b.set("device.readings", &readings.to_string()))
        .and_then(|b| b.set("entropy.seed", SEED_HEX))
        .expect("a valid configuration");
    block.add_certificate_der(ep.ca_cert_der());
    block
}

fn run(ep: &Endpoint, block: &ConfigBlock) -> Run {
    let (elf, _) = firmware();
    let program = Program::parse(elf).expect("dynamodb-client.elf parses");
    let mut profile = Ft900::new(Ft900Config {
        rtc_start_seconds: 0,
        ..Ft900Config::default()
    });
    let uart = Capture::new();
    profile.uart[0].set_backend(Box::new(uart.clone()));
    let net = UserNet::new(
        UserNetConfig {
            clock: SimClock {
                epoch_unix_secs: ep.config().epoch_unix,
                offset_ns: 0,
            },
            ..UserNetConfig::default()
        }
        .with_dns(HOST, ENDPOINT_IP)
        .with_tcp_service(SocketAddrV4::new(ENDPOINT_IP, 443), ep.stream_factory()),
    )
    .expect("the gateway starts");
    profile.eth.attach_link(Box::new(net));
    let mut m = Machine::with_standard_memory(profile);
    program
        .load_into(&mut m.core, LoadPolicy::Rom)
        .expect("the ELF loads");
    provision::write_into(&mut m, block).expect("the configuration block fits at 0x3C000");
    m.profile.reset(&mut m.core, program.entry);
    let stop = m.run(RunLimits {
        cycle_deadline: Some(MAX_VIRTUAL_SECONDS * HZ),
        ..RunLimits::default()
    });
    m.profile.flush();
    assert!(
        m.profile.unmodelled_accesses().is_empty(),
        "the firmware touched registers that are not modelled: {:?}",
        m.profile.unmodelled_accesses()
    );
    Run {
        stop,
        cycles: m.core.cycles,
        insns: m.core.insns,
        uart: uart.text(),
        uart_times: uart.output_times(),
    }
}

/// The firmware's simulated sensor (app/main.c `sense`), to check the stored values.
fn sensor(device: &str, seq: u32) -> (String, String) {
    let mut h: u32 = 2_166_136_261;
    for b in device.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
    }
    h ^= seq.wrapping_mul(0x9E37_79B1);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    let temp = 1500 + h % 1500;
    let hum = 3000 + (h >> 11) % 4000;
    (
        format!("{}.{:02}", temp / 100, temp % 100),
        format!("{}.{:02}", hum / 100, hum % 100),
    )
}

/// A DynamoDB number in canonical form (DynamoDB stores "17.30" as "17.3").
fn canonical(n: &str) -> String {
    if n.contains('.') {
        n.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        n.to_string()
    }
}

/// The stored items of the device, by seq; panics on a duplicate or a foreign item.
fn items_by_seq(ep: &Endpoint) -> Vec<(u32, Value)> {
    let mut items: Vec<(u32, Value)> = ep
        .items("SensorReadings")
        .expect("the table exists")
        .into_iter()
        .map(|it| {
            assert_eq!(it["deviceId"]["S"], "hopper", "foreign item {it}");
            let seq: u32 = it["seq"]["N"].as_str().unwrap().parse().unwrap();
            (seq, it)
        })
        .collect();
    items.sort_by_key(|(s, _)| *s);
    items
}

/// What every run must show: exit 0, the readings stored once each with the right values, a
/// clean log without secrets, and no request refused except with the `expected` error types.
fn assert_delivered(r: &Run, ep: &Endpoint, readings: u32, expected: &[&str]) {
    assert_eq!(
        r.stop,
        StopReason::Exited(0),
        "dynamodb-client must exit 0 after {readings} acknowledged readings\n--- UART0 ---\n{}",
        r.uart
    );
    let items = items_by_seq(ep);
    let seqs: Vec<u32> = items.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=readings).collect::<Vec<_>>(),
        "seq 1..{readings} exactly once"
    );
    for (seq, it) in &items {
        let (t, h) = sensor("hopper", *seq);
        let stored = |k: &str| canonical(it[k]["N"].as_str().unwrap_or_default());
        assert_eq!(
            stored("temperature"),
            canonical(&t),
            "temperature of seq {seq}: {it}"
        );
        assert_eq!(
            stored("humidity"),
            canonical(&h),
            "humidity of seq {seq}: {it}"
        );
        let ts = it["timestamp"]["S"].as_str().expect("timestamp S");
        assert!(
            ts.len() == 20 && ts.starts_with("20") && ts.ends_with('Z') && &ts[10..11] == "T",
            "timestamp {ts:?}"
        );
        // The reading's line in the log gives the same values and time.
        let reading = r.line(&format!("reading seq={seq} "));
        assert_eq!(Run::field(reading, "temperature"), Some(t.as_str()));
        assert_eq!(Run::field(reading, "humidity"), Some(h.as_str()));
        assert_eq!(Run::field(reading, "time"), Some(ts));
        // And one acknowledgement line.
        let acks = r
            .lines()
            .filter(|l| l.starts_with(&format!("put seq={seq} ")))
            .count();
        assert_eq!(acks, 1, "one put line for seq {seq}\n{}", r.uart);
    }
    assert!(
        !r.uart.contains("ERROR"),
        "an ERROR line\n--- UART0 ---\n{}",
        r.uart
    );
    let secret = Credentials::test_key().secret_access_key;
    assert!(!r.uart.contains(&secret), "the secret key was printed");
    for q in ep.requests() {
        let t = q.error_type.as_deref().unwrap_or("");
        assert!(
            q.status == 200 || expected.iter().any(|e| t.ends_with(e)),
            "request refused with {} {t}: {}\n{q:?}",
            q.status,
            q.verdict
        );
    }
    let stats = r.line("stats: readings=");
    assert_eq!(
        Run::field(stats, "acked"),
        Some(readings.to_string().as_str())
    );
    assert_eq!(Run::field(stats, "dropped"), Some("0"));
}

// ---- tests ----------------------------------------------------------------------------------

/// The host unit tests of the firmware's portable parts (`make -C firmware host-test`: the
/// configuration parser, the HTTP pieces, the DynamoDB client against a scripted connection;
/// ASan and UBSan when the host compiler has them) pass.
#[test]
fn firmware_host_unit_tests_pass() {
    let dir = fwbuild::target_dir().join("firmware-host");
    let out = Command::new("make")
        .arg("-C")
        .arg(fwbuild::workspace_root().join("firmware"))
        .arg(format!("BUILD={}", dir.display()))
        .arg("host-test")
        .output()
        .expect("cannot run make");
    assert!(
        out.status.success(),
        "make host-test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, min) in [
        ("config_test", 40),
        ("http_test", 40),
        ("dynamodb_test", 40),
        ("holdoff_test", 20),
        ("refusals_test", 10),
    ] {
        let run = Command::new(dir.join("host").join(name))
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = String::from_utf8_lossy(&run.stdout).into_owned();
        let summary = text.lines().last().unwrap_or("").to_string();
        let passed: u32 = summary
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            run.status.success() && summary.ends_with(" passed, 0 failed") && passed >= min,
            "{name}: {summary}\n{text}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        eprintln!("{summary}");
    }
}

#[test]
fn firmware_uploads_three_readings_through_the_gateway_to_the_endpoint() {
    let ep = Endpoint::new(EndpointConfig::default()).unwrap();
    // 500 ms between readings: each is acknowledged before the next (PutItem); the first
    // waits for the TLS handshake (~1.5 s of CPU). Backlogs (BatchWriteItem): see the
    // throttling test.
    let r = run(&ep, &config(&ep, 3, 500));
    assert_delivered(&r, &ep, 3, &[]);

    assert!(
        r.uart.contains("config: ok, key id AKIDEXAMPLE"),
        "{}",
        r.uart
    );
    assert_eq!(
        r.line("dhcp ").split(" in ").next(),
        Some("dhcp 10.0.2.15 gw 10.0.2.2 dns 10.0.2.3")
    );
    assert!(r.line("sntp ok ").contains(" from 10.0.2.2 in "));
    assert_eq!(r.line("dns "), format!("dns {HOST} {ENDPOINT_IP}"));
    let tls = r.line("tls ");
    assert!(
        tls.starts_with("tls TLS-ECDHE-") && tls.contains("-WITH-AES-128-GCM-SHA256 in "),
        "{tls}"
    );
    let ops: Vec<String> = ep.requests().iter().map(|q| q.operation.clone()).collect();
    assert!(
        ops.iter().all(|o| o == "PutItem" || o == "BatchWriteItem"),
        "operations {ops:?}"
    );
    assert!(ep.requests().iter().all(|q| q.status == 200));
    let stats = r.line("stats: readings=");
    assert_eq!(
        Run::field(stats, "connects"),
        Some("1"),
        "one connection, kept alive"
    );
    assert_eq!(Run::field(stats, "retries"), Some("0"));

    // Figures for the record.
    let hs: Vec<u64> = tls
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let first_put = r.time_of("put seq=1 ");
    let tls_at = r.time_of("tls ");
    eprintln!("{}", firmware().1);
    eprintln!("--- UART0 ---\n{}---", r.uart);
    eprintln!(
        "dynamodb-client: {} instructions, {} cycles ({:.3} s virtual); TLS handshake line {:?} \
         (numbers {hs:?}); first put acknowledged {:.1} ms after the handshake line",
        r.insns,
        r.cycles,
        r.cycles as f64 / HZ as f64,
        tls,
        (first_put - tls_at) as f64 / 1e6
    );
    eprintln!("{}", r.line("stats: stack"));
    let (peak, size) = tls_heap_peak_and_size(&r);
    assert!(
        peak + TLS_HEAP_MARGIN <= size,
        "ECDSA handshake: TLS heap peak {peak} of {size}"
    );
    assert_stack_within_the_recorded_high_water(&r);
}

/// The numbers of `... tls heap peak P of S, ...` in the final statistics line.
fn tls_heap_peak_and_size(r: &Run) -> (u32, u32) {
    let stats = r.line("stats: stack high-water ");
    let rest = stats
        .split("tls heap peak ")
        .nth(1)
        .unwrap_or_else(|| panic!("no tls heap peak in {stats:?}"));
    let mut n = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().expect("a number"));
    (
        n.next().expect("the peak"),
        n.next().expect("the heap size"),
    )
}

/// The run's stack high-water mark (`stats: stack high-water N bytes ...`) is at most the figure
/// `make` prints on the size line (`measured high-water N`: `APP_STACK_HIGH_WATER` of
/// firmware/app/module.mk), so that the printed figure is never an understatement.
fn assert_stack_within_the_recorded_high_water(r: &Run) {
    let mk = fwbuild::workspace_root().join("firmware/app/module.mk");
    let text = std::fs::read_to_string(&mk).expect("firmware/app/module.mk");
    let recorded: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix("APP_STACK_HIGH_WATER := "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `APP_STACK_HIGH_WATER := N` in {}", mk.display()));
    let line = r.line("stats: stack high-water ");
    let used: u32 = line["stats: stack high-water ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no high-water in {line:?}"));
    assert!(
        used <= recorded,
        "the stack reached {used} bytes, deeper than the {recorded} make prints \
         (APP_STACK_HIGH_WATER in firmware/app/module.mk): measure and update it"
    );
}

/// Bytes of the TLS heap that must stay unused at the peak of the AWS-shaped RSA handshake:
/// room for a longer server certificate (more host names) or a session token. Sizing the heap
/// below that fails here, not in the field.
const TLS_HEAP_MARGIN: u32 = 1024;

#[test]
fn firmware_verifies_an_aws_shaped_rsa_chain_within_its_tls_heap() {
    // The endpoint's RSA-2048 identity sends a chain shaped like DynamoDB's (4 certificates,
    // ~5.5 KiB); the device trusts its root and, like a product, Amazon Root CA 1 and 3 (the
    // PEM bundle of scenarios/rsa-chain.toml).
    let ep = Endpoint::new(EndpointConfig {
        server_key: ServerKey::Rsa2048,
        ..EndpointConfig::default()
    })
    .unwrap();
    let scenario = scenarios::runner::Scenario::load(
        &fwbuild::workspace_root().join("scenarios/rsa-chain.toml"),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let amazon_roots = scenario
        .config
        .get("tls.ca_cert")
        .expect("rsa-chain.toml provisions the Amazon roots");
    let block = config(&ep, 2, 500)
        .set("tls.ca_cert", amazon_roots)
        .expect("the Amazon roots parse");
    let r = run(&ep, &block);
    assert_delivered(&r, &ep, 2, &[]);
    assert!(r.line("config: ok").contains(", 3 CA,"), "{}", r.uart);
    let tls = r.line("tls ");
    assert!(
        tls.starts_with("tls TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256 in "),
        "{tls}"
    );
    let (peak, size) = tls_heap_peak_and_size(&r);
    assert_eq!(
        tls.rsplit("heap peak ").next().and_then(|p| p.parse().ok()),
        Some(peak),
        "the handshake line reports the peak the statistics repeat: {tls}"
    );
    eprintln!("{tls}\n{}", r.line("stats: stack high-water "));
    assert!(
        peak + TLS_HEAP_MARGIN <= size,
        "the AWS-shaped RSA handshake leaves {} bytes of the {size}-byte TLS heap unused at its \
         peak ({peak}); at least {TLS_HEAP_MARGIN} must stay free",
        size.saturating_sub(peak)
    );
    assert_stack_within_the_recorded_high_water(&r);
}

#[test]
fn firmware_retries_through_throttling_and_delivers_everything() {
    let ep = Endpoint::new(EndpointConfig {
        faults: FaultPlan::throttle_first(2),
        ..EndpointConfig::default()
    })
    .unwrap();
    // A reading every 40 ms: while the first one's PutItem waits out its backoffs, the next
    // ones queue up and then go in one BatchWriteItem.
    let r = run(&ep, &config(&ep, 4, 40));
    assert_delivered(
        &r,
        &ep,
        4,
        &[
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
        ],
    );
    let retries: Vec<&str> = r.lines().filter(|l| l.starts_with("retry ")).collect();
    assert_eq!(
        retries.len(),
        2,
        "two throttled attempts retried\n{}",
        r.uart
    );
    assert!(
        retries.iter().all(|l| l.contains("status=400")
            && (l.contains("type=ThrottlingException")
                || l.contains("type=ProvisionedThroughputExceededException"))),
        "{retries:?}"
    );
    let throttled = ep.requests().iter().filter(|q| q.fault.is_some()).count();
    assert_eq!(throttled, 2, "{:?}", ep.requests());
    let ops: Vec<String> = ep.requests().iter().map(|q| q.operation.clone()).collect();
    assert!(
        ops.contains(&"BatchWriteItem".to_string()),
        "the backlog goes as a BatchWriteItem: {ops:?}\n{}",
        r.uart
    );
    let batch = r.line("batch ");
    assert!(
        Run::field(batch, "n").is_some_and(|n| n.parse::<u32>().unwrap() >= 2)
            && Run::field(batch, "n") == Run::field(batch, "acked")
            && Run::field(batch, "status") == Some("200"),
        "{batch}"
    );
}

#[test]
fn firmware_corrects_its_clock_from_the_date_header() {
    // The endpoint's clock runs an hour ahead of the SNTP time the device gets: the first
    // request's signature is "expired"; the device takes the offset from Date and retries.
    let ep = Endpoint::new(EndpointConfig {
        clock_offset_secs: 3600,
        ..EndpointConfig::default()
    })
    .unwrap();
    let r = run(&ep, &config(&ep, 1, 1000));
    assert_delivered(&r, &ep, 1, &["InvalidSignatureException"]);
    let skew = r.line("clock skew: offset ");
    let offset: i64 = skew
        .trim_start_matches("clock skew: offset ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (3595..=3605).contains(&offset),
        "offset {offset} s, expected about 3600: {skew}"
    );
    let stats = r.line("stats: readings=");
    assert_eq!(Run::field(stats, "skew_corrections"), Some("1"));
    let reqs = ep.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].status, 400);
    assert!(
        reqs[0].verdict.starts_with("Signature expired"),
        "{}",
        reqs[0].verdict
    );
    assert_eq!(reqs[1].status, 200);
}

#[test]
fn firmware_signs_with_a_session_token() {
    // Temporary credentials: the endpoint knows the key only together with its token, which
    // the firmware must send as X-Amz-Security-Token and sign.
    let creds = Credentials {
        access_key_id: "ASIAFIRMWARETEST0001".into(),
        secret_access_key: "tempSecretKeyForTheFirmwareTest/0000000001".into(),
        session_token: Some("FwoGZXIvYXdzEFIRMWARE//session+token/0001==".into()),
    };
    let ep = Endpoint::new(EndpointConfig {
        credentials: vec![creds.clone()],
        ..EndpointConfig::default()
    })
    .unwrap();
    // Keys given again replace the test key's.
    let block = config(&ep, 1, 1000)
        .set("aws.access_key_id", &creds.access_key_id)
        .and_then(|b| b.set("aws.secret_access_key", &creds.secret_access_key))
        .and_then(|b| b.set("aws.session_token", creds.session_token.as_deref().unwrap()))
        .expect("a valid configuration");
    let r = run(&ep, &block);
    assert_delivered(&r, &ep, 1, &[]);
    let req = &ep.requests()[0];
    let token = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-security-token"))
        .map(|(_, v)| v.as_str());
    // The endpoint logs the token redacted; it accepted the request only with the right one.
    assert!(token.is_some() && req.status == 200, "{req:?}");
    let authz = req
        .headers
        .iter()
        .find(|(k, _)| k == "Authorization")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    assert!(
        authz.contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"
        ),
        "{authz}"
    );
    assert!(
        !r.uart.contains(creds.session_token.as_deref().unwrap()),
        "token printed"
    );
    assert!(!r.uart.contains(&creds.secret_access_key), "secret printed");
}

#[test]
fn firmware_drops_the_oldest_readings_when_the_queue_is_full_and_says_so() {
    // The endpoint throttles the first 5 requests: the first PutItem gives up after 5 attempts
    // (~0.75 s of backoff) while a reading is taken every 5 ms (as fast as the log allows): the
    // 32-reading queue overflows. Every dropped reading is reported, the others are stored,
    // and the firmware exits with status 4 (readings lost).
    let ep = Endpoint::new(EndpointConfig {
        faults: FaultPlan::throttle_first(5),
        ..EndpointConfig::default()
    })
    .unwrap();
    let total = 100u32;
    let r = run(&ep, &config(&ep, total, 5));
    assert_eq!(r.stop, StopReason::Exited(4), "--- UART0 ---\n{}", r.uart);
    let dropped: Vec<u32> = r
        .lines()
        .filter_map(|l| l.strip_prefix("ERROR queue full: dropped seq="))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(!dropped.is_empty(), "no reading dropped\n{}", r.uart);
    let stats = r.line("stats: readings=");
    assert_eq!(
        Run::field(stats, "dropped"),
        Some(dropped.len().to_string().as_str())
    );
    assert!(r
        .uart
        .contains(&format!("ERROR {} of {total} readings lost", dropped.len())));
    // The oldest go first: the dropped ones are a run of the earliest seqs after the one being
    // uploaded, and nothing dropped is stored, everything else is (once).
    let stored: Vec<u32> = items_by_seq(&ep).into_iter().map(|(s, _)| s).collect();
    let expected: Vec<u32> = (1..=total).filter(|s| !dropped.contains(s)).collect();
    assert_eq!(
        stored, expected,
        "stored = all readings minus the dropped ones"
    );
    let acked = r.lines().filter(|l| l.starts_with("put seq=")).count();
    assert_eq!(acked + dropped.len(), total as usize);
    // Only the injected throttling was refused: readings dropped while a request was being
    // hashed and sent must not change what it carries (its signature would not match).
    for q in ep.requests() {
        assert!(q.status == 200 || q.fault.is_some(), "{q:?}\n{}", r.uart);
    }
    // While seq 1 is in flight the queue drops the readings after it; once its PutItem has
    // given up it is the oldest and may go too. Each reading is dropped at most once.
    let mut unique = dropped.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), dropped.len(), "{dropped:?}");
    assert_eq!(dropped[0], 2, "{dropped:?}");
    let failed: Vec<&str> = r.lines().filter(|l| l.starts_with("ERROR put ")).collect();
    assert!(
        failed.len() == 1 && failed[0].starts_with("ERROR put seq=1 failed: gave up status=400"),
        "{failed:?}"
    );
    assert!(
        r.lines()
            .any(|l| l.starts_with("batch n=25 acked=25 status=200")),
        "the backlog went as full batches\n{}",
        r.uart
    );
    for l in r.lines().filter(|l| {
        !l.starts_with("reading ") && !l.starts_with("put ") && !l.starts_with("ERROR queue")
    }) {
        eprintln!("{l}");
    }
}

#[test]
fn firmware_recovers_from_a_reset_connection_and_resends_unprocessed_items() {
    // The first PutItem is processed but its connection is reset halfway through the
    // response: the device cannot know, reconnects (a second handshake) and puts the same item
    // again (idempotent: same key, same values). The first BatchWriteItem gets part of its
    // items back as UnprocessedItems: the device sends those again.
    let fault = |action, op: &str| Fault {
        action,
        trigger: FaultTrigger::Requests { skip: 0, count: 1 },
        operations: vec![op.to_string()],
    };
    let ep = Endpoint::new(EndpointConfig {
        faults: FaultPlan {
            faults: vec![
                fault(FaultAction::ResetMidResponse, "PutItem"),
                fault(FaultAction::Throttle, "BatchWriteItem"),
            ],
        },
        ..EndpointConfig::default()
    })
    .unwrap();
    let r = run(&ep, &config(&ep, 6, 20));
    assert_delivered(&r, &ep, 6, &[]);
    let stats = r.line("stats: readings=");
    assert_eq!(Run::field(stats, "connects"), Some("2"), "{stats}");
    assert_eq!(Run::field(stats, "handshakes"), Some("2"), "{stats}");
    // The reconnect resumed the first session (TLS 1.2 session id): the endpoint counted one
    // full and one abbreviated handshake, and the device's second handshake says so.
    assert_eq!(Run::field(stats, "resumed"), Some("1"), "{stats}");
    assert_eq!(
        ep.tls_handshakes(),
        scenarios::endpoint::TlsHandshakes {
            full: 1,
            resumed: 1
        }
    );
    let cycles = |resumed: bool| -> u64 {
        let l = r
            .lines()
            .find(|l| l.starts_with("tls TLS-") && l.contains(" resumed in ") == resumed)
            .unwrap_or_else(|| panic!("no tls line (resumed: {resumed})\n{}", r.uart));
        l.split(" (")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no cycle count in {l:?}"))
    };
    let (full, resumed) = (cycles(false), cycles(true));
    assert!(
        resumed * 10 < full,
        "a resumed handshake ({resumed} cycles) costs a fraction of a full one ({full})"
    );
    eprintln!("TLS handshake: full {full} cycles, resumed {resumed} cycles");
    assert!(
        r.lines()
            .any(|l| l.starts_with("retry PutItem attempt=1 status=0 type=ReceiveError")),
        "the reset is retried\n{}",
        r.uart
    );
    let reqs = ep.requests();
    let batches: Vec<_> = reqs
        .iter()
        .filter(|q| q.operation == "BatchWriteItem")
        .collect();
    assert!(
        batches.len() >= 2 && batches[0].fault.is_some(),
        "a partial batch, then the rest: {reqs:?}\n{}",
        r.uart
    );
    assert!(
        r.lines()
            .any(|l| l
                .starts_with("retry BatchWriteItem attempt=1 status=200 type=UnprocessedItems")),
        "{}",
        r.uart
    );
    // The re-sent batch carries only what was unprocessed.
    let first: usize = batches[0].body.matches("PutRequest").count();
    let second: usize = batches[1].body.matches("PutRequest").count();
    assert!(second < first, "{first} then {second} items");
}
