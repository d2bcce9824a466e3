//! The TLS client of the firmware (`firmware/tls`, mbedTLS 2.28) on the `ft900` machine. Builds
//! the firmware tests with `make` and runs them from the reset vector with RAM empty, UART0
//! captured:
//!
//! * `tls_selftest.elf`: mbedTLS's self tests, known answers, X.509 verification, the entropy
//!   sources, and the cost of each primitive of a TLS 1.2 handshake;
//! * `tls_handshake.elf` (the device's client) against `tls_peer_server.elf` (an mbedTLS
//!   server) on a second FT900: full handshakes (ECDHE-ECDSA; ECDHE-RSA with an AWS-sized
//!   chain and a client certificate; a wrong name; an untrusted chain), the bytes moved between
//!   the two chips' RAM mailboxes (`firmware/tests/tls_mailbox.h`) whenever one of them waits.
//!
//! Costs are measured twice: by the firmware (the 1 ms tick, 50-cycle resolution, printed as
//! `cost <id> <name>: <cycles> cycles`) and here, exactly, by a code hook on
//! `tls_bench_mark(id << 1 | end)`, which the firmware calls around each measured span (the
//! spans of one id are added up). Virtual time only: nothing depends on the host's speed.
//!
//! Needs the ft32-elf toolchain (see `support::Toolchain`), GNU make and mbedTLS
//! (`firmware/third_party/fetch.sh`, which the build runs when it is missing).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::{HookAction, Machine, Profile, RunLimits, StopReason};

/// CPU cycles per second (100 MHz).
const HZ: u64 = 100_000_000;
/// Generous limits: the self test takes about 1.3 G cycles (13 s virtual), 1 G instructions.
const MAX_VIRTUAL_SECONDS: u64 = 120;
const MAX_INSNS: u64 = 10_000_000_000;
/// The firmware ELFs of this test (firmware/tls/module.mk).
const ELFS: &[&str] = &["tls_selftest", "tls_handshake", "tls_peer_server"];
/// RAM addresses in the ELF are biased by this (the FT32 toolchain's data space).
const RAM_BIAS: u32 = 0x80_0000;

// ---- building -----------------------------------------------------------------------------

/// `make -C firmware BUILD=<target>/firmware <the ELFs>`, once per test binary; returns the
/// build directory.
fn build() -> &'static Path {
    static BUILD: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILD.get_or_init(|| {
        let dir = support::target_dir().join("firmware");
        let elfs: Vec<PathBuf> = ELFS.iter().map(|e| dir.join(format!("{e}.elf"))).collect();
        support::make_firmware(&dir, &elfs)?;
        Ok(dir)
    });
    match built {
        Ok(dir) => dir,
        Err(msg) => panic!("\n{msg}\n"),
    }
}

fn elf(name: &str) -> PathBuf {
    build().join(format!("{name}.elf"))
}

/// Program memory and RAM of a firmware ELF, from the linker script's symbols
/// (firmware/startup/ft900.ld): (PM bytes, .data bytes, .bss bytes, RAM bytes).
fn elf_size(name: &str) -> (u32, u32, u32, u32) {
    let path = elf(name);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
    let program = Program::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let sym = |s: &str| {
        program
            .symbols
            .address_of(s)
            .unwrap_or_else(|| panic!("{name}.elf has no {s}"))
    };
    (
        sym("__data_load_end"),
        sym("__data_end") - sym("__data_start"),
        sym("__bss_end") - sym("__bss_start"),
        sym("_end") - RAM_BIAS,
    )
}

fn size_line(name: &str) -> String {
    let (pm, data, bss, ram) = elf_size(name);
    format!(
        "size: {name}.elf PM {pm} / 262144 ({:.1}%), RAM {ram} / 65536 ({:.1}%: data {data} + bss {bss}), {} bytes left for the stack",
        100.0 * pm as f64 / 262144.0,
        100.0 * ram as f64 / 65536.0,
        65536 - ram
    )
}

// ---- one chip -----------------------------------------------------------------------------

/// One `tls_bench_mark` call seen by the hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mark {
    arg: u32,
    cycles: u64,
    insns: u64,
}

/// An FT900 running one firmware ELF, UART0 captured, `tls_bench_mark` hooked, and (for the
/// handshake firmware) a stop at each `tls_mailbox_idle` call.
struct Chip {
    name: String,
    m: Machine<Ft900>,
    uart: Capture,
    marks: Arc<Mutex<Vec<Mark>>>,
    /// RAM offset of `tls_mailbox`, if the firmware has one.
    mailbox: Option<usize>,
}

impl Chip {
    fn new(name: &str) -> Chip {
        let path = elf(name);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
        let program = Program::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut profile = Ft900::new(Ft900Config::default());
        let uart = Capture::new();
        profile.uart[0].set_backend(Box::new(uart.clone()));
        let mut m = Machine::with_standard_memory(profile);
        program
            .load_into(&mut m.core, LoadPolicy::Rom)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        m.profile.reset(&mut m.core, program.entry);

        let marks = Arc::new(Mutex::new(Vec::new()));
        if let Some(at) = program.symbols.address_of("tls_bench_mark") {
            let seen = marks.clone();
            m.add_code_hook(at, at, move |core, _pc| {
                seen.lock().unwrap().push(Mark {
                    arg: core.regs[0],
                    cycles: core.cycles,
                    insns: core.insns,
                });
                HookAction::Continue
            });
        }
        let mailbox = program.symbols.address_of("tls_mailbox").map(|a| {
            assert!(a >= RAM_BIAS, "tls_mailbox is not in RAM");
            (a - RAM_BIAS) as usize
        });
        if let Some(at) = program.symbols.address_of("tls_mailbox_idle") {
            // Stop on entry; when the run resumes at the same instruction, let it go.
            let mut stopped_at = u64::MAX;
            m.add_code_hook(at, at, move |core, _pc| {
                if core.insns == stopped_at {
                    HookAction::Continue
                } else {
                    stopped_at = core.insns;
                    HookAction::Stop
                }
            });
        }
        Chip {
            name: name.to_string(),
            m,
            uart,
            marks,
            mailbox,
        }
    }

    /// Runs until the firmware exits, waits (mailbox idle: `Stopped`) or a limit.
    fn run(&mut self, virtual_seconds: u64) -> StopReason {
        let deadline = self.m.core.cycles + virtual_seconds * HZ;
        let stop = self.m.run(RunLimits {
            max_insns: Some(MAX_INSNS),
            cycle_deadline: Some(deadline),
            ..RunLimits::default()
        });
        self.m.profile.flush();
        stop
    }

    fn text(&self) -> String {
        self.uart.text()
    }

    fn marks(&self) -> Vec<Mark> {
        self.marks.lock().unwrap().clone()
    }

    fn context(&self) -> String {
        format!(
            "--- {} UART0 (cycle {}, pc {:#x}) ---\n{}",
            self.name,
            self.m.core.cycles,
            self.m.core.pc,
            self.text()
        )
    }

    // Mailbox fields (tls_mailbox.h): magic 0, ring_size 4, ctl_out 8, ctl_in 12,
    // tx_head 16, tx_tail 20, rx_head 24, rx_tail 28, tx 32, rx 32 + ring_size.
    fn mb_get(&self, field: usize) -> u32 {
        let at = self.mailbox.expect("firmware has a tls_mailbox") + field;
        let ram = self.m.core.ram();
        u32::from_le_bytes(ram[at..at + 4].try_into().unwrap())
    }

    fn mb_set(&mut self, field: usize, value: u32) {
        let at = self.mailbox.expect("firmware has a tls_mailbox") + field;
        self.m.core.ram_mut()[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }
}

const MB_MAGIC: usize = 0;
const MB_RING: usize = 4;
const MB_CTL_OUT: usize = 8;
const MB_CTL_IN: usize = 12;
const MB_TX_HEAD: usize = 16;
const MB_TX_TAIL: usize = 20;
const MB_RX_HEAD: usize = 24;
const MB_RX_TAIL: usize = 28;
const MB_DATA: usize = 32;
const MAILBOX_MAGIC: u32 = 0x4D53_4C54;

/// Moves what `from` has sent into `to`'s receive ring (as much as fits); returns the bytes
/// moved.
fn relay(from: &mut Chip, to: &mut Chip) -> usize {
    let ring = from.mb_get(MB_RING);
    assert_eq!(ring, to.mb_get(MB_RING), "ring sizes differ");
    let (head, tail) = (from.mb_get(MB_TX_HEAD), from.mb_get(MB_TX_TAIL));
    let (rx_head, rx_tail) = (to.mb_get(MB_RX_HEAD), to.mb_get(MB_RX_TAIL));
    let pending = head.wrapping_sub(tail);
    let room = ring - rx_head.wrapping_sub(rx_tail);
    let n = pending.min(room);
    let from_base = from.mailbox.unwrap() + MB_DATA;
    let to_base = to.mailbox.unwrap() + MB_DATA + ring as usize;
    for i in 0..n {
        let b = from.m.core.ram()[from_base + (tail.wrapping_add(i) % ring) as usize];
        to.m.core.ram_mut()[to_base + (rx_head.wrapping_add(i) % ring) as usize] = b;
    }
    from.mb_set(MB_TX_TAIL, tail.wrapping_add(n));
    to.mb_set(MB_RX_HEAD, rx_head.wrapping_add(n));
    n as usize
}

/// A new connection announced by the client: empty every ring and tell the server.
fn relay_control(client: &mut Chip, server: &mut Chip) -> bool {
    let ctl = client.mb_get(MB_CTL_OUT);
    if ctl == server.mb_get(MB_CTL_IN) {
        return false;
    }
    for chip in [&mut *client, &mut *server] {
        for f in [MB_TX_HEAD, MB_TX_TAIL, MB_RX_HEAD, MB_RX_TAIL] {
            chip.mb_set(f, 0);
        }
    }
    server.mb_set(MB_CTL_IN, ctl);
    true
}

// ---- reading the results ------------------------------------------------------------------

/// `cost <id> <name>: <cycles> cycles (...)` lines: id -> (name, firmware-measured cycles).
fn firmware_costs(uart: &str) -> BTreeMap<u32, (String, u64)> {
    let mut costs = BTreeMap::new();
    for line in uart.lines() {
        let Some(rest) = line.strip_prefix("cost ") else {
            continue;
        };
        let (id, rest) = rest.split_once(' ').expect("cost <id> <name>: ...");
        let (name, rest) = rest.split_once(": ").expect("cost <id> <name>: <cycles>");
        let cycles = rest
            .split_whitespace()
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no cycle count in {line:?}"));
        costs.insert(id.parse().expect("numeric id"), (name.to_string(), cycles));
    }
    costs
}

/// The hook's measurements of one id: the spans from start mark to end mark, added up.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    cycles: u64,
    insns: u64,
    count: u64,
}

fn hook_spans(marks: &[Mark]) -> BTreeMap<u32, Span> {
    let mut open: BTreeMap<u32, Mark> = BTreeMap::new();
    let mut spans: BTreeMap<u32, Span> = BTreeMap::new();
    for m in marks {
        let id = m.arg >> 1;
        if m.arg & 1 == 0 {
            assert!(open.insert(id, *m).is_none(), "span {id} started twice");
        } else {
            let start = open
                .remove(&id)
                .unwrap_or_else(|| panic!("end mark of span {id} without a start"));
            let s = spans.entry(id).or_default();
            s.cycles += m.cycles - start.cycles;
            s.insns += m.insns - start.insns;
            s.count += 1;
        }
    }
    assert!(open.is_empty(), "spans without an end mark: {open:?}");
    spans
}

fn ms(cycles: u64) -> f64 {
    cycles as f64 * 1000.0 / HZ as f64
}

/// Prints the cost table and checks that the firmware's and the hook's figures agree (the
/// tick has a 50-cycle resolution and the hook's spans also hold the tls_cycles() calls: a few
/// hundred cycles per span). Returns name -> hook cycles.
fn report_costs(
    title: &str,
    uart: &str,
    marks: &[Mark],
    expected: &[&str],
) -> BTreeMap<String, u64> {
    let fw = firmware_costs(uart);
    let spans = hook_spans(marks);
    let names: Vec<&str> = fw.values().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, expected, "cost lines\n{uart}");
    println!("{title}");
    println!(
        "  {:<32} {:>12} {:>12} {:>10} {:>5} {:>6} {:>12}",
        "operation", "cycles", "insns", "ms", "CPI", "calls", "firmware"
    );
    let mut by_name = BTreeMap::new();
    for (id, (name, fw_cycles)) in &fw {
        let s = *spans
            .get(id)
            .unwrap_or_else(|| panic!("no hook span for cost {id} {name}"));
        println!(
            "  {:<32} {:>12} {:>12} {:>10.2} {:>5.2} {:>6} {:>12}",
            name,
            s.cycles,
            s.insns,
            ms(s.cycles),
            s.cycles as f64 / s.insns as f64,
            s.count,
            fw_cycles
        );
        let diff = s.cycles.abs_diff(*fw_cycles);
        assert!(
            diff <= 1_000 + 500 * s.count,
            "{name}: the firmware measured {fw_cycles} cycles, the hook {} over {} spans",
            s.cycles,
            s.count
        );
        by_name.insert(name.clone(), s.cycles);
    }
    by_name
}

fn assert_passed(chip: &Chip, stop: &StopReason, test: &str) {
    assert_eq!(
        *stop,
        StopReason::Exited(0),
        "{test} must exit with 0 (= failed checks)\n{}",
        chip.context()
    );
    assert!(
        chip.m.profile.unmodelled_accesses().is_empty(),
        "unmodelled register accesses: {:?}\n{}",
        chip.m.profile.unmodelled_accesses(),
        chip.context()
    );
    let text = chip.text();
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{test}: PASS"))),
        "no PASS line\n{}",
        chip.context()
    );
    assert!(
        !text.lines().any(|l| l.starts_with("FAIL")),
        "a check failed\n{}",
        chip.context()
    );
}

// ---- tests --------------------------------------------------------------------------------

/// What one run of the self test leaves behind (compared across runs).
#[derive(Debug, PartialEq, Eq)]
struct Run {
    stop: StopReason,
    cycles: u64,
    insns: u64,
    uart: String,
    marks: Vec<Mark>,
}

fn run_selftest() -> (Chip, Run) {
    let mut chip = Chip::new("tls_selftest");
    let stop = chip.run(MAX_VIRTUAL_SECONDS);
    let run = Run {
        stop,
        cycles: chip.m.core.cycles,
        insns: chip.m.core.insns,
        uart: chip.text(),
        marks: chip.marks(),
    };
    (chip, run)
}

#[test]
fn tls_selftest_passes_and_reports_the_costs_of_the_primitives() {
    let (chip, run) = run_selftest();
    assert_passed(&chip, &run.stop, "tls_selftest");
    let uart = &run.uart;
    for t in [
        "sha256", "aes", "gcm", "ctr_drbg", "base64", "mpi", "ecp", "rsa", "entropy",
    ] {
        let prefix = format!("ok   self test {t}: PASS");
        assert!(
            uart.lines().any(|l| l.starts_with(&prefix)),
            "mbedTLS self test {t} did not pass\n{uart}"
        );
    }
    let cost = report_costs(
        "tls_selftest on the ft900 machine (100 MHz), one operation each:",
        uart,
        &run.marks,
        &[
            "sha256_1k",
            "aes128_gcm_setkey",
            "aes128_gcm_encrypt_1k",
            "ctr_drbg_seed",
            "ecdh_p256_keygen",
            "ecdh_p256_shared",
            "ecdsa_p256_verify",
            "ecdsa_p256_sign",
            "rsa2048_verify",
            "x509_parse_pem_root",
            "x509_verify_ec_chain",
        ],
    );
    // Wide bounds: they catch a configuration gone wrong (no NIST reduction, a runaway loop),
    // not small changes.
    assert!(cost["sha256_1k"] < 1_000_000);
    assert!(cost["aes128_gcm_encrypt_1k"] < 2_000_000);
    assert!(cost["ecdh_p256_keygen"] < 100_000_000);
    assert!(cost["ecdsa_p256_verify"] < 200_000_000);
    assert!(cost["rsa2048_verify"] < 50_000_000);

    for line in uart
        .lines()
        .filter(|l| l.starts_with("heap:") || l.starts_with("ram:"))
    {
        println!("  {line}");
    }
    println!("  {}", size_line("tls_selftest"));
    println!(
        "  whole run: {} cycles ({:.2} s virtual), {} instructions",
        run.cycles,
        run.cycles as f64 / HZ as f64,
        run.insns
    );
}

#[test]
fn tls_selftest_is_deterministic() {
    // Same seed, same virtual time: the same random bytes, cycles and output, run after run.
    let (_, a) = run_selftest();
    let (_, b) = run_selftest();
    assert_eq!(a.stop, StopReason::Exited(0), "{}", a.uart);
    assert!(a.uart.contains("drbg seed A: "), "{}", a.uart);
    assert_eq!(a, b, "two runs of tls_selftest differ");
}

#[test]
fn tls_client_handshakes_with_a_server_on_a_second_ft900() {
    let mut server = Chip::new("tls_peer_server");
    let mut client = Chip::new("tls_handshake");

    // The server initialises its mailbox and waits for the first connection.
    let stop = server.run(10);
    assert_eq!(stop, StopReason::Stopped, "{}", server.context());
    let stop = client.run(10);
    assert_eq!(stop, StopReason::Stopped, "{}", client.context());
    for chip in [&server, &client] {
        assert_eq!(chip.mb_get(MB_MAGIC), MAILBOX_MAGIC, "{}", chip.context());
    }

    let mut rounds = 0u64;
    let mut idle_rounds = 0;
    let mut moved_total = 0usize;
    let client_stop = loop {
        rounds += 1;
        let mut progress = relay_control(&mut client, &mut server);
        let up = relay(&mut client, &mut server);
        let stop = server.run(MAX_VIRTUAL_SECONDS);
        assert_eq!(
            stop,
            StopReason::Stopped,
            "the server stopped\n{}\n{}",
            server.context(),
            client.context()
        );
        let down = relay(&mut server, &mut client);
        let stop = client.run(MAX_VIRTUAL_SECONDS);
        progress |= up + down > 0;
        moved_total += up + down;
        match stop {
            StopReason::Stopped => {}
            StopReason::Exited(_) => break stop,
            other => panic!(
                "the client stopped ({other})\n{}\n{}",
                client.context(),
                server.context()
            ),
        }
        idle_rounds = if progress { 0 } else { idle_rounds + 1 };
        assert!(
            idle_rounds < 5,
            "no bytes moved for 5 rounds: both chips wait\n{}\n{}",
            client.context(),
            server.context()
        );
        assert!(rounds < 100_000, "too many rounds");
    };
    // The server takes the client's last words (the alert of the refused chain).
    relay(&mut client, &mut server);
    let stop = server.run(MAX_VIRTUAL_SECONDS);
    assert_eq!(stop, StopReason::Stopped, "{}", server.context());
    assert_passed(&client, &client_stop, "tls_handshake");

    let uart = client.text();
    for line in uart
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("FAIL"))
    {
        println!("  {line}");
    }
    report_costs(
        "tls_handshake: the device's client (100 MHz; its own work, the server's excluded):",
        &uart,
        &client.marks(),
        &[
            "client_handshake_ecdhe_ecdsa",
            "client_handshake_ecdhe_rsa_mtls",
            "client_read_6000_bytes",
        ],
    );
    for line in uart
        .lines()
        .filter(|l| l.starts_with("heap ") || l.starts_with("ram:"))
    {
        println!("  {line}");
    }
    for line in server.text().lines().filter(|l| l.starts_with("server ")) {
        println!("  peer {line}");
    }
    for name in ["tls_handshake", "tls_peer_server"] {
        println!("  {}", size_line(name));
    }
    println!(
        "  {rounds} rounds, {moved_total} bytes relayed; client {} cycles ({:.2} s virtual), server {} cycles",
        client.m.core.cycles,
        client.m.core.cycles as f64 / HZ as f64,
        server.m.core.cycles
    );
    // The server saw every scenario through.
    let server_text = server.text();
    for s in 1..=4 {
        assert!(
            server_text.contains(&format!("server {s}: handshake")),
            "the server did not run scenario {s}\n{server_text}"
        );
    }
}

#[test]
fn tls_elfs_fit_the_chip() {
    // The link already fails beyond 256 KiB of PM or 64 KiB of RAM minus the 4 KiB stack
    // minimum (ft900.ld); this says by how much they fit, and keeps the self test's stack room.
    for name in ELFS {
        let (pm, _, _, ram) = elf_size(name);
        println!("{}", size_line(name));
        assert!(pm <= 256 * 1024, "{name}: PM {pm}");
        assert!(ram + 4096 <= 64 * 1024, "{name}: RAM {ram}");
    }
}
