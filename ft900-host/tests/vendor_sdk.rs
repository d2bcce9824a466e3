//! The vendor's FT9xx SDK examples that need the host side of the simulator: the FreeRTOS lwIP
//! Example behind net-bridge's user-mode gateway, and an example using an unmodelled block
//! through the `ft900-sim` binary (`--strict`). Built with `sdk/build.sh` and run unmodified;
//! the other examples, on the library's machine alone, are in `ft900-sim/tests/vendor_sdk.rs`.
//!
//! A missing SDK, toolchain or lwIP fails these tests (with build.sh's message); they never
//! skip. See sdk/README.md.

mod cli;
#[path = "../../ft900-sim/tests/support/mod.rs"]
mod support;
#[path = "../../ft900-sim/tests/vendor_support/mod.rs"]
mod vendor_support;

use vendor_support::{build_example, Chip, RunOpts, Session, MS};

// ---- FreeRTOS + lwIP ------------------------------------------------------------------------

/// The one-line fix of the SDK's lwIP port that the FreeRTOS lwIP Example needs (a bug of the
/// vendor's code, on silicon too; docs/hardware/vendor-sdk.md §1): `net_packet_available()` runs in
/// the Ethernet interrupt but notifies the input task with `xTaskNotify`, whose task switch
/// inside the ISR leaves the port's in-interrupt flag set, so lwIP's semaphore waits return at
/// once and `accept` fails. The ISR form is what the port's own comment ("at ISR level") calls
/// for. The fix is applied to the unpacked copy by pattern (no line of the SDK is kept here):
/// the one `xTaskNotify(...)` call becomes `xTaskNotifyFromISR(..., NULL)`.
const NOTIFY_CALL: &str = "xTaskNotify(";

/// `source` with its only [`NOTIFY_CALL`] turned into the ISR form; `None` unless there is
/// exactly one such call, closed by `);` on its line.
fn with_notify_fix(source: &str) -> Option<String> {
    if source.matches(NOTIFY_CALL).count() != 1 {
        return None;
    }
    let start = source.find(NOTIFY_CALL)?;
    let end = start + source[start..].find(");")?;
    if source[start..end].contains('\n') {
        return None;
    }
    let args = &source[start + NOTIFY_CALL.len()..end];
    Some(format!(
        "{}xTaskNotifyFromISR({args}, NULL{}",
        &source[..start],
        &source[end..]
    ))
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap_or_else(|e| {
                panic!("{} -> {}: {e}", entry.path().display(), dest.display())
            });
        }
    }
}

/// A copy of the unpacked SDK (its `Source/` and the example) with [`with_notify_fix`] applied to
/// `Source/3rdparty/lwip/src/arch/net.c`, once per test process.
fn sdk_with_notify_fix() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let sdk = vendor_support::sdk_dir();
        let dir = support::target_dir()
            .join("sdk")
            .join("ft9xx-sdk-lwip-notify-fix");
        let _ = std::fs::remove_dir_all(&dir);
        copy_tree(&sdk.join("Source"), &dir.join("Source"));
        let example = std::path::Path::new("Examples").join("FreeRTOS lwIP Example");
        copy_tree(&sdk.join(&example), &dir.join(&example));
        let net_c = dir.join("Source/3rdparty/lwip/src/arch/net.c");
        let text =
            std::fs::read_to_string(&net_c).unwrap_or_else(|e| panic!("{}: {e}", net_c.display()));
        let fixed = with_notify_fix(&text).unwrap_or_else(|| {
            panic!(
                "{} no longer has the one {NOTIFY_CALL}...); call the fix rewrites",
                net_c.display()
            )
        });
        std::fs::write(&net_c, fixed).unwrap();
        dir
    })
    .clone()
}

/// FreeRTOS lwIP Example (TCP server on port 80) on an MM900EV1A behind the user-mode gateway:
/// it reads its MAC from the board's EEPROM, gets its address by DHCP, and a host client that connects to a `--forward`ed port reaches the
/// example's server, which prints what it received and answers "Hello client\n".
fn freertos_lwip_example(chip: Chip) {
    use std::io::{Read, Write};
    let elf = vendor_support::build_with(
        "FreeRTOS lwIP Example",
        &vendor_support::BuildOpts {
            sdk: Some(sdk_with_notify_fix()),
            name: Some("freertos-lwip-example-notify-fix".into()),
            ..Default::default()
        },
    );
    let cfg = net_bridge::UserNetConfig::default().with_forward(net_bridge::HostForward {
        host: "127.0.0.1:0".parse().unwrap(),
        guest_addr: None,
        guest_port: 80,
    });
    let net = net_bridge::UserNet::new(cfg).expect("the gateway starts");
    let forward = net.forward_addrs()[0];
    let monitor = net.monitor();
    let mut opts = RunOpts::new(chip);
    opts.eth = Some(Box::new(net));
    // The SDK's net.c reads the MAC from the board's I2C EEPROM: on the MM900EV1A.
    opts.board = Some("mm900ev1a".into());
    opts.max_virtual_secs = 60;
    let mut s = Session::new(&elf, opts);
    s.expect_text("Server 10.0.2.15:80\r\n");
    s.expect_text("Waiting for connection...\r\n");

    let client = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
        let mut c = std::net::TcpStream::connect(forward)?;
        // A guard against a hang, not a timing check: the simulation runs meanwhile.
        c.set_read_timeout(Some(std::time::Duration::from_secs(120)))?;
        c.write_all(b"Hello server\n")?;
        let mut reply = Vec::new();
        c.read_to_end(&mut reply)?;
        Ok(reply)
    });
    while !client.is_finished() {
        if let Some(stop) = s.run_for(MS) {
            let t = s.transcript(stop);
            panic!("the host client got no answer\n{}", t.context());
        }
    }
    let reply = client.join().unwrap().expect("the host client's exchange");
    s.expect_text("Connection closed!\r\n");
    let t = s.transcript(ft900_sim::StopReason::Stopped);
    // The server sends `sizeof(msg)` of "Hello client\n\0": its two NULs included.
    assert_eq!(
        reply,
        b"Hello client\n\0\0",
        "the reply through the forward\n{}",
        t.context()
    );
    t.assert_line(">> Hello server");
    t.assert_line(">> Hello client");
    assert!(
        t.lines()
            .iter()
            .any(|(_, l)| l.starts_with(">> Received 13 bytes from: ('10.0.2.2'")),
        "{}",
        t.context()
    );
    assert!(
        t.lines()
            .iter()
            .any(|(_, l)| l.starts_with(">> Sent 15 bytes to: ('10.0.2.2'")),
        "{}",
        t.context()
    );
    let leases = monitor.leases();
    assert_eq!(leases.len(), 1, "one DHCP lease: {leases:?}");
    assert_eq!(leases[0].ip.to_string(), "10.0.2.15", "{leases:?}");
    assert!(leases[0].bound, "the lease was acknowledged: {leases:?}");
    // The lease is for the EUI-48 in the board's EEPROM, which the SDK's net.c read.
    let board = ft900_sim::board::Board::load("mm900ev1a").unwrap();
    let (eui, _) = board.i2c[0]
        .eeprom
        .eui48
        .expect("the MM900EV1A's EEPROM has an EUI-48");
    assert_eq!(leases[0].mac, eui, "{leases:?}");
    eprintln!(
        "FreeRTOS lwIP Example on {chip}: lease {} for MAC {:02x?}",
        leases[0].ip, leases[0].mac
    );
}

#[test]
fn freertos_lwip_example_serves_a_host_client_through_the_gateway_rev_b() {
    freertos_lwip_example(Chip::RevB);
}

#[test]
fn freertos_lwip_example_serves_a_host_client_through_the_gateway_rev_c() {
    freertos_lwip_example(Chip::RevC);
}

// ---- unmodelled blocks ----------------------------------------------------------------------

/// ADC Example 1 (the ADC is out of the model's scope) through the `ft900-sim` binary: each
/// unmodelled register it touches is reported once, by block and address, with the PC, and the
/// example goes on (its banner printed); `--strict` stops at the first such access instead, with
/// the register and the PC (and the function) of the access.
#[test]
fn an_example_using_the_adc_is_reported_and_stopped_by_strict() {
    let elf = build_example("ADC Example 1");
    let elf = elf.to_str().expect("a UTF-8 path");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--machine", "ft900", "--max-insns", "20000000"];
        args.extend_from_slice(extra);
        args.push(elf);
        cli::run_cli(&args, b"", 300)
    };

    let lenient = run(&[]);
    let (out, err) = (
        String::from_utf8_lossy(&lenient.stdout),
        lenient.stderr_text(),
    );
    assert_eq!(
        lenient.code(),
        Some(125),
        "runs to --max-insns\n{out}\n{err}"
    );
    assert!(out.contains("Welcome to ADC Example 1... "), "{out}\n{err}");
    // sys_enable(sys_device_adc) powers the ADC up: ADC_CONF at 0x100B1 (the SDK's ADCDAC).
    let first = err
        .lines()
        .find(|l| l.starts_with("ft900: unmodelled "))
        .unwrap_or_else(|| panic!("no report of an unmodelled access\n{err}"));
    assert!(
        first.starts_with("ft900: unmodelled read of 0x100b1 (adc-dac, 1 bytes) at pc 0x")
            && first.ends_with("; reads as 0"),
        "{first}"
    );
    assert_eq!(
        err.matches("unmodelled read of 0x100b1 ").count(),
        1,
        "each address is reported once\n{err}"
    );

    let strict = run(&["--strict"]);
    let err = strict.stderr_text();
    // A read of an unmodelled register is SIGILL: 128 + 4.
    assert_eq!(strict.code(), Some(132), "{err}");
    assert!(
        err.contains("ft900: unmodelled read of 0x100b1 (adc-dac, 1 bytes) at pc 0x")
            && err.contains("; stopped (--strict)"),
        "{err}"
    );
    assert!(
        err.contains("guest fault: read of undecoded I/O address 0x100b1"),
        "{err}"
    );
    assert!(
        err.contains("(sys_enable+0x"),
        "the PC named by function\n{err}"
    );
}

// ---- a user's project -----------------------------------------------------------------------

#[test]
fn the_notify_fix_rewrites_exactly_one_call() {
    let src = "a;\n    xTaskNotify(t, (uint32_t)1, eSetValueWithOverwrite);\nb;\n";
    assert_eq!(
        with_notify_fix(src).unwrap(),
        "a;\n    xTaskNotifyFromISR(t, (uint32_t)1, eSetValueWithOverwrite, NULL);\nb;\n"
    );
    assert_eq!(with_notify_fix("xTaskNotify(a);\nxTaskNotify(b);\n"), None);
    assert_eq!(with_notify_fix("no call here\n"), None);
}
