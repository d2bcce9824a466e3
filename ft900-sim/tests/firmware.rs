//! The C firmware under `firmware/` on the `ft900` machine: builds it with `make` (start-up
//! code, HAL library, one ELF per firmware test), runs every test ELF in-process from its reset
//! vector with RAM empty (`LoadPolicy::Rom`), feeds UART0 and the Ethernet test link, and checks
//! what the firmware prints, sends and returns. Virtual time only: no wall-clock limits, no
//! network.
//!
//! Also checked: two runs of a firmware that echoes UART input and exchanges Ethernet frames
//! are identical (cycles, UART bytes and their times, frames and their times); the 1 ms tick
//! comes every 100 000 cycles; the firmware build is reproducible and prints a size report.
//!
//! Needs the ft32-elf toolchain (see `support::Toolchain`) and GNU make.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{ChipRevision, Ft900, Ft900Config};
use ft900_sim::{HookAction, Machine, Profile, RunLimits, StopReason};
use sim_link::{test_link, wire_time_100m, Nanos, TestLinkHandle};

/// The firmware tests `make` builds (firmware/Makefile `TESTS`).
const TESTS: &[&str] = &[
    "hello",
    "uart_echo",
    "timer_tick",
    "nested_irq",
    "eth_frames",
    "eth_overflow",
    "phy_link",
    "idle_wait",
];

/// CPU cycles per second (100 MHz) and nanoseconds per cycle.
const HZ: u64 = 100_000_000;
const NS_PER_CYCLE: u64 = 10;
/// Longest virtual time any firmware test may take.
const MAX_VIRTUAL_SECONDS: u64 = 10;

/// MAC addresses and EtherTypes shared with firmware/tests/eth_common.h.
const DEVICE_MAC: [u8; 6] = [0x02, 0xF9, 0x00, 0x00, 0x00, 0x01];
const HOST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
const BROADCAST: [u8; 6] = [0xFF; 6];
const ETHERTYPE_TEST: u16 = 0x88B5;
const ETHERTYPE_ECHO: u16 = 0x88B6;

// ---- building ---------------------------------------------------------------------------

use support::MakeOutput;

/// `make -C firmware BUILD=<dir> <extra>` (see [`support::make_firmware`]).
fn make(dir: &Path, extra: &[&str]) -> Result<MakeOutput, String> {
    support::make_firmware(dir, extra)
}

/// The firmware built once for all tests of this binary, in `target/firmware`.
fn firmware() -> &'static MakeOutput {
    static BUILD: OnceLock<Result<MakeOutput, String>> = OnceLock::new();
    let built = BUILD.get_or_init(|| make(&support::target_dir().join("firmware"), &[]));
    match built {
        Ok(b) => b,
        Err(msg) => panic!("\n{msg}\n"),
    }
}

fn elf_path(name: &str) -> PathBuf {
    firmware().dir.join(format!("{name}.elf"))
}

// ---- running ----------------------------------------------------------------------------

/// A `Write` that keeps what the simulator reports (unmodelled accesses, resets).
#[derive(Clone, Default)]
struct SharedText(Arc<Mutex<Vec<u8>>>);

impl Write for SharedText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedText {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// One firmware test ELF on a fresh FT900: UART0 captured, the Ethernet port on a test link.
struct Board {
    name: String,
    m: Machine<Ft900>,
    uart: Capture,
    link: TestLinkHandle,
    diagnostics: SharedText,
}

/// What a finished run leaves behind (compared across runs for determinism).
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    stop: StopReason,
    cycles: u64,
    insns: u64,
    uart: Vec<u8>,
    uart_times: Vec<u64>,
    sent: Vec<(Nanos, Vec<u8>)>,
}

impl Board {
    /// `name`'s firmware on the default chip (rev C).
    fn new(name: &str) -> Board {
        Board::on(name, ChipRevision::default())
    }

    /// `name`'s firmware on a chip of revision `chip`.
    fn on(name: &str, chip: ChipRevision) -> Board {
        let path = elf_path(name);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
        let program = Program::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut profile = Ft900::new(Ft900Config {
            chip,
            ..Ft900Config::default()
        });
        let diagnostics = SharedText::default();
        profile.set_diagnostics(Box::new(diagnostics.clone()));
        let uart = Capture::new();
        profile.uart[0].set_backend(Box::new(uart.clone()));
        let (link, handle) = test_link();
        profile.eth.attach_link(Box::new(link));
        let mut m = Machine::with_standard_memory(profile);
        program
            .load_into(&mut m.core, LoadPolicy::Rom)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        m.profile.reset(&mut m.core, program.entry);
        Board {
            name: name.to_string(),
            m,
            uart,
            link: handle,
            diagnostics,
        }
    }

    fn now_ns(&self) -> Nanos {
        self.m.core.cycles * NS_PER_CYCLE
    }

    /// Everything a failure message needs: the UART output and the simulator's reports.
    fn context(&self) -> String {
        format!(
            "firmware test {} at cycle {} (pc {:#x})\n--- UART0 ---\n{}\n--- simulator reports ---\n{}",
            self.name,
            self.m.core.cycles,
            self.m.core.pc,
            self.uart.text(),
            self.diagnostics.text()
        )
    }

    /// Runs until the cycle counter reaches `cycle`; returns the stop if the run ended.
    fn run_to(&mut self, cycle: u64) -> Option<StopReason> {
        match self.m.run(RunLimits {
            cycle_deadline: Some(cycle),
            ..RunLimits::default()
        }) {
            StopReason::CycleLimit => None,
            other => Some(other),
        }
    }

    /// Runs in 1 ms slices until `done` holds; panics (with the UART output) if the firmware
    /// stops first or the virtual time limit passes.
    fn run_until(&mut self, what: &str, mut done: impl FnMut(&Board) -> bool) {
        let limit = MAX_VIRTUAL_SECONDS * HZ;
        while !done(self) {
            let next = self.m.core.cycles + HZ / 1000;
            if next > limit {
                panic!(
                    "waited {MAX_VIRTUAL_SECONDS} s (virtual) for {what}\n{}",
                    self.context()
                );
            }
            if let Some(stop) = self.run_to(next) {
                panic!(
                    "the firmware stopped ({stop}) while waiting for {what}\n{}",
                    self.context()
                );
            }
        }
    }

    /// Delivers `frame` to the device at virtual time `at`.
    fn inject(&mut self, at: Nanos, frame: Vec<u8>) {
        self.link.inject(at, frame);
        let now = self.m.core.cycles;
        self.m.profile.poll_eth(now);
    }

    /// Runs to the end and returns what happened; asserts the firmware exited with status 0
    /// and touched no unmodelled register.
    fn finish(mut self) -> Outcome {
        let stop = self
            .run_to(MAX_VIRTUAL_SECONDS * HZ)
            .unwrap_or(StopReason::CycleLimit);
        self.m.profile.flush();
        assert_eq!(
            stop,
            StopReason::Exited(0),
            "the firmware must exit with status 0 (= number of failed checks)\n{}",
            self.context()
        );
        assert!(
            self.m.profile.unmodelled_accesses().is_empty(),
            "the firmware touched registers that are not modelled: {:?}\n{}",
            self.m.profile.unmodelled_accesses(),
            self.context()
        );
        let text = self.uart.text();
        let pass = format!("{}: PASS", self.name);
        assert!(
            text.contains(&pass),
            "no \"{pass}\" line\n{}",
            self.context()
        );
        Outcome {
            stop,
            cycles: self.m.core.cycles,
            insns: self.m.core.insns,
            uart: self.uart.output(),
            uart_times: self.uart.output_times(),
            sent: self.link.sent(),
        }
    }
}

/// Runs a firmware test that needs no input and checks it passes; returns its UART text.
fn run_simple(name: &str) -> String {
    run_simple_on(name, ChipRevision::default())
}

/// [`run_simple`] on a chip of revision `chip`.
fn run_simple_on(name: &str, chip: ChipRevision) -> String {
    let board = Board::on(name, chip);
    let outcome = board.finish();
    String::from_utf8_lossy(&outcome.uart).into_owned()
}

/// Asserts that each of `lines` is a line of `text`; a pattern ending in `…` only has to
/// start a line (for lines with timings that are not the point of the test).
fn assert_lines(text: &str, lines: &[&str]) {
    for line in lines {
        let found = match line.strip_suffix('…') {
            Some(prefix) => text.lines().any(|l| l.starts_with(prefix)),
            None => text.lines().any(|l| l == *line),
        };
        assert!(
            found,
            "expected the UART line {line:?}\n--- UART0 ---\n{text}"
        );
    }
}

// ---- Ethernet helpers -------------------------------------------------------------------

fn header(dst: &[u8; 6], src: &[u8; 6], ethertype: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(1514);
    f.extend_from_slice(dst);
    f.extend_from_slice(src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f
}

/// A host test frame: payload[0] = seq, payload[1] = 0x5A, payload[i] = seq + i.
fn test_frame(dst: &[u8; 6], seq: u8, payload_len: usize) -> Vec<u8> {
    let mut f = header(dst, &HOST_MAC, ETHERTYPE_TEST);
    for i in 0..payload_len {
        f.push(match i {
            0 => seq,
            1 => 0x5A,
            _ => seq.wrapping_add(i as u8),
        });
    }
    f
}

fn show_frame(f: &[u8]) -> String {
    let hex: Vec<String> = f.iter().take(32).map(|b| format!("{b:02x}")).collect();
    format!(
        "{} bytes: {}{}",
        f.len(),
        hex.join(" "),
        if f.len() > 32 { " …" } else { "" }
    )
}

/// The eth_frames scenario: UART tag line, three frames from the device, six injected
/// (two of them filtered), four echoes. Returns the outcome and the injected frames.
fn eth_frames_scenario() -> (Outcome, Vec<Vec<u8>>) {
    let mut board = Board::new("eth_frames");
    board.uart.feed(b"tag=ft900-sim\n");
    board.run_until("the device's three frames", |b| b.link.sent().len() >= 3);

    let inbound = vec![
        test_frame(&BROADCAST, 0, 46),
        test_frame(&DEVICE_MAC, 1, 200),
        test_frame(&[0x02, 0, 0, 0, 0, 0x99], 7, 100), // another station: filtered
        test_frame(&[0x01, 0x00, 0x5E, 0, 0, 1], 8, 100), // multicast: filtered
        test_frame(&DEVICE_MAC, 2, 1500),
        test_frame(&DEVICE_MAC, 3, 50),
    ];
    let mut at = board.now_ns() + 200_000;
    for f in &inbound {
        board.inject(at, f.clone());
        at += wire_time_100m(f.len()) + 10_000;
    }
    (board.finish(), inbound)
}

// ---- tests ------------------------------------------------------------------------------

#[test]
fn hello_boots_with_data_copied_and_bss_cleared() {
    let text = run_simple("hello");
    assert_lines(
        &text,
        &[
            "hello from the FT900",
            "HIPID 09000002: model 0900 revision 0002",
            "ok   revision C (0002)",
            "ok   .data string = \"initialised data\"",
            "ok   interrupts masked at boot (0x100E3 = 80)",
        ],
    );
}

#[test]
fn hello_boots_on_rev_b_and_tells_the_revision() {
    let text = run_simple_on("hello", ChipRevision::Ft900RevB);
    assert_lines(
        &text,
        &[
            "HIPID 09000001: model 0900 revision 0001",
            "ok   revision B (0001)",
            "ok   .data string = \"initialised data\"",
        ],
    );
}

#[test]
fn uart_echo_echoes_the_lines_fed_to_uart0() {
    let long = "the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let board = Board::new("uart_echo");
    board
        .uart
        .feed(format!("hello\nworld 123\n{long}\r\nquit\nnot read\n").as_bytes());
    let outcome = board.finish();
    let text = String::from_utf8_lossy(&outcome.uart).into_owned();
    assert_lines(
        &text,
        &[
            "echo ready",
            "echo: hello",
            "echo: world 123",
            &format!("echo: {long}"),
            "3 lines echoed, longest 81 bytes, 104 bytes received in …",
        ],
    );
    assert!(
        !text.contains("echo: quit") && !text.contains("not read"),
        "{text}"
    );
    // Echoes come after the input that caused them, at 115200 baud: 8680 cycles per byte.
    let times = outcome.uart_times;
    assert!(
        times.windows(2).all(|w| w[1] - w[0] >= 8680 * NS_PER_CYCLE),
        "bytes closer than one character time at 115200 baud"
    );
}

#[test]
fn idle_waits_are_skipped_not_executed() {
    // No hooks here: a code hook puts the machine on its slow path, which runs idle loops.
    let mut board = Board::new("idle_wait");
    // The firmware prints its name (< 2 ms), then waits 201 ticks (~201 ms), then prints the
    // checks. Sample the counters 100 ticks apart inside the waiting phase.
    let sample = |board: &mut Board, ms: u64| {
        if let Some(stop) = board.run_to(ms * HZ / 1000) {
            panic!("stopped at {ms} ms: {stop}\n{}", board.context());
        }
        (board.m.idle_cycles(), board.uart.output().len())
    };
    let (idle_a, uart_a) = sample(&mut board, 50);
    let (idle_b, uart_b) = sample(&mut board, 150);
    assert_eq!(
        uart_a,
        uart_b,
        "the firmware printed while it should be idle\n{}",
        board.context()
    );
    // 100 ticks of 100 000 cycles: all but the tick handler's few hundred cycles per tick
    // must have been skipped rather than executed.
    let skipped = idle_b - idle_a;
    assert!(
        skipped > 100 * 99_000 && skipped <= 100 * 100_000,
        "{skipped} of 10 000 000 cycles skipped as idle: sys_wait_for_interrupt does not idle"
    );
    let outcome = board.finish();
    eprintln!(
        "idle_wait: {skipped} of 10 000 000 cycles skipped in 100 idle ticks; whole run {} \
         instructions, {} cycles",
        outcome.insns, outcome.cycles
    );
}

#[test]
fn timer_tick_period_is_exactly_100000_cycles() {
    let text = timer_tick_on(ChipRevision::default());
    assert_lines(&text, &["ok   rev C RTC_TIME 00001640 RTC_DATE 70010105"]);
}

/// Rev B: one shared prescaler, the legacy RTC counting 32 times per second (the driver
/// divides), its component version.
#[test]
fn timer_tick_on_rev_b_shares_the_prescaler_and_counts_rtc_32nds() {
    let text = timer_tick_on(ChipRevision::Ft900RevB);
    assert_lines(&text, &["ok   rev B RTC_COMP_VERSION = 3230332a"]);
}

/// Runs timer_tick on `chip`: checks the tick's period at the vector and the firmware's own
/// checks (per-timer prescalers on rev C given the same divisor, RTC matches one second
/// apart); returns the UART text.
fn timer_tick_on(chip: ChipRevision) -> String {
    const TICK: u64 = 100_000;
    let mut board = Board::on("timer_tick", chip);
    // Vector of priority 17 (the tick's IRQ 17): PM 0x08 + 4 * 17.
    let vector = 0x08 + 4 * 17;
    let entries = Arc::new(Mutex::new(Vec::<u64>::new()));
    let seen = entries.clone();
    let hook = board.m.add_code_hook(vector, vector, move |core, _pc| {
        seen.lock().unwrap().push(core.cycles);
        HookAction::Continue
    });
    // The firmware's first measurement covers 100 ticks; look at the first 150 ms.
    if let Some(stop) = board.run_to(150 * TICK) {
        panic!("stopped early: {stop}\n{}", board.context());
    }
    board.m.hook_del(hook);
    let entries = entries.lock().unwrap().clone();
    let outcome = board.finish();
    let text = String::from_utf8_lossy(&outcome.uart).into_owned();

    assert!(
        entries.len() >= 100,
        "only {} tick interrupts in 150 ms\n{text}",
        entries.len()
    );
    // The timer rolls over every 100 000 cycles exactly; the CPU enters the vector at the first
    // instruction boundary after that, so an entry may come one cycle late (the second cycle of
    // a load or taken branch). No drift: entry k is within one cycle of entry 0 + k * 100 000.
    let first = entries[0];
    for (k, &t) in entries.iter().enumerate() {
        let ideal = first + k as u64 * TICK;
        assert!(
            t + 1 >= ideal && t <= ideal + 1,
            "tick {k} entered at cycle {t}, expected {ideal} (+/- 1): entries {:?}",
            &entries[..entries.len().min(k + 2)]
        );
    }
    let n = entries.len() as u64 - 1;
    let span = entries[entries.len() - 1] - first;
    assert_eq!(
        (span + n / 2) / n,
        TICK,
        "mean tick period over {n} ticks: {span} cycles"
    );
    let worst = entries
        .windows(2)
        .map(|w| (w[1] - w[0]).abs_diff(TICK))
        .max()
        .unwrap_or(0);
    eprintln!(
        "timer_tick: {} tick entries, first at cycle {first}, period {TICK} cycles (largest \
         entry latency difference {worst} cycle)",
        entries.len()
    );
    assert_lines(
        &text,
        &[
            "timer B over 100 ticks: 200000 counts (min 2000, max 2000 per tick)",
            "ok   RTC counted 1001, 1002, 1003",
            "ok   1000 ticks per RTC second (1000, 1000)",
            "ok   unkicked watchdog fired once after 21 ms",
        ],
    );
    text
}

#[test]
fn nested_irq_orders_handlers_by_priority_and_nesting() {
    let text = run_simple("nested_irq");
    assert_lines(
        &text,
        &[
            "ok   phase A: order TtUu (expected TtUu)",
            "ok   phase B: order TUut (expected TUut)",
            "ok   phase C: order UuTt (expected UuTt)",
            "ok   phase D: order UTtu (expected UTtu)",
            "ok   phase F: order TUuEt (expected TUuEt)",
            "ok   phase G: order TUEut (expected TUEut)",
        ],
    );
}

#[test]
fn phy_link_resets_negotiates_and_reports_the_link() {
    let text = run_simple("phy_link");
    assert_lines(
        &text,
        &[
            "ok   BMCR after reset 3100 (100 Mbit/s, auto-negotiation, full duplex)",
            "ok   auto-negotiation complete and link up …",
            "ok   link mode 100 Mbit/s full duplex",
            "ok   link down while the PHY is powered down",
        ],
    );
}

#[test]
fn eth_frames_are_sent_received_and_echoed_through_the_test_link() {
    let (outcome, inbound) = eth_frames_scenario();
    let text = String::from_utf8_lossy(&outcome.uart).into_owned();
    let sent = &outcome.sent;
    let frames: Vec<&Vec<u8>> = sent.iter().map(|(_, f)| f).collect();
    let all = || {
        let list: Vec<String> = frames.iter().map(|f| show_frame(f)).collect();
        format!("sent frames:\n{}\n--- UART0 ---\n{text}", list.join("\n"))
    };
    assert_eq!(frames.len(), 7, "3 frames and 4 echoes\n{}", all());

    // #0: broadcast, short payload padded by the MAC to 60 bytes.
    let f0 = frames[0];
    assert_eq!(f0.len(), 60, "{}", all());
    assert_eq!(
        &f0[..14],
        &header(&BROADCAST, &DEVICE_MAC, ETHERTYPE_TEST)[..]
    );
    assert!(f0[14..].starts_with(b"FT900 tag=ft900-sim #0"), "{}", all());
    // #1, #2: patterns to the host.
    for (f, len, mul, add) in [(frames[1], 100usize, 3u32, 1u32), (frames[2], 1500, 7, 3)] {
        let mut want = header(&HOST_MAC, &DEVICE_MAC, ETHERTYPE_TEST);
        want.extend((0..len as u32).map(|i| (i * mul + add) as u8));
        assert!(
            *f == want,
            "pattern frame of {len} bytes differs\n{}",
            all()
        );
    }
    // Echoes of the four accepted frames (seq 0, 1, 2, 3): addresses swapped, payload inverted.
    let accepted: Vec<&Vec<u8>> = inbound.iter().filter(|f| f[14] <= 3).collect();
    for (echo, orig) in frames[3..].iter().zip(accepted) {
        let mut want = header(&HOST_MAC, &DEVICE_MAC, ETHERTYPE_ECHO);
        want.extend(orig[14..].iter().map(|b| !b));
        assert!(
            **echo == want,
            "echo of seq {} differs\n{}",
            orig[14],
            all()
        );
    }
    assert!(
        sent.windows(2).all(|w| w[0].0 < w[1].0),
        "frames leave in order, one at a time"
    );
    assert!(text.contains(" ms: 100 Mbit/s, full duplex\n"), "{}", all());
    assert_lines(
        &text,
        &[
            "ok   link up after …",
            "ok   tag from UART: \"tag=ft900-sim\"",
            "ok   received 4 frames (the other station's and the multicast one filtered)",
            "ok   FCS in the FIFO matches the CRC-32 of every frame",
        ],
    );
}

#[test]
fn eth_overflow_drops_what_does_not_fit_in_the_rx_fifo() {
    let mut board = Board::new("eth_overflow");
    let payload_is =
        |f: &[u8], text: &[u8]| f.len() >= 14 + text.len() && &f[14..14 + text.len()] == text;
    board.run_until("the \"overflow ready\" frame", |b| {
        b.link
            .sent()
            .iter()
            .any(|(_, f)| payload_is(f, b"overflow ready"))
    });
    // Ten 314-byte frames (308-byte records: six fit in 2048 bytes), then a 60-byte frame
    // (68-byte record) that fits in the 200 bytes left. Back to back at 100 Mbit/s.
    let mut at = board.now_ns() + 100_000;
    for seq in 0..11u8 {
        let f = test_frame(&DEVICE_MAC, seq, if seq < 10 { 300 } else { 46 });
        let len = f.len();
        board.inject(at, f);
        at += wire_time_100m(len);
    }
    board.run_until("the \"drained\" frame", |b| {
        b.link.sent().iter().any(|(_, f)| payload_is(f, b"drained"))
    });
    let at = board.now_ns() + 100_000;
    board.inject(at, test_frame(&DEVICE_MAC, 100, 1000));
    let outcome = board.finish();
    let text = String::from_utf8_lossy(&outcome.uart).into_owned();
    assert_lines(
        &text,
        &[
            "after the burst: ETH_INT_STATUS 09, NUM_PKT 7 (expected 7: 6 big + 1 small)",
            "ok   NUM_PKT = 7, the records that fit (7)",
            "ok   frame after the overflow received by interrupt (1014 bytes, seq 100)",
        ],
    );
}

#[test]
fn firmware_with_uart_and_ethernet_runs_deterministically() {
    let (a, _) = eth_frames_scenario();
    let (b, _) = eth_frames_scenario();
    assert_eq!(a.cycles, b.cycles, "cycle counts differ");
    assert_eq!(a.insns, b.insns, "instruction counts differ");
    assert_eq!(a.uart, b.uart, "UART output differs");
    assert_eq!(a.uart_times, b.uart_times, "UART byte times differ");
    assert_eq!(a.sent, b.sent, "frames or their times differ");
    assert_eq!(a, b);
    eprintln!(
        "eth_frames twice: {} cycles, {} instructions, {} UART bytes, {} frames sent, identical",
        a.cycles,
        a.insns,
        a.uart.len(),
        a.sent.len()
    );
}

#[test]
fn firmware_build_is_reproducible_and_reports_sizes() {
    let root = support::target_dir().join("firmware-repro");
    let _ = std::fs::remove_dir_all(&root);
    let a = make(&root.join("a"), &[]).unwrap_or_else(|e| panic!("\n{e}\n"));
    let b = make(&root.join("b"), &[]).unwrap_or_else(|e| panic!("\n{e}\n"));
    // Every ELF `make` builds (the HAL tests here and those of aws/, net/, tls/), not only ours.
    let mut elfs: Vec<String> = std::fs::read_dir(&a.dir)
        .expect("build directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".elf"))
        .collect();
    elfs.sort();
    for name in TESTS {
        assert!(
            elfs.contains(&format!("{name}.elf")),
            "{name}.elf not built"
        );
    }
    for elf in elfs {
        let x = std::fs::read(a.dir.join(&elf)).expect("first build");
        let y = std::fs::read(b.dir.join(&elf)).expect("second build");
        assert!(
            x == y,
            "{elf} differs between two builds of the same sources ({} and {})",
            a.dir.display(),
            b.dir.display()
        );
        let report = a
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("size: {elf} ")))
            .unwrap_or_else(|| panic!("no size report for {elf} in:\n{}", a.stdout));
        assert!(
            report.contains("/ 262144")
                && report.contains("/ 65536")
                && report.contains("stack headroom"),
            "{report}"
        );
        eprintln!("{report}");
    }
    // The shared build used by the other tests is the same as well.
    for name in TESTS {
        let elf = format!("{name}.elf");
        let shared = std::fs::read(elf_path(name)).expect("shared build");
        let fresh = std::fs::read(a.dir.join(&elf)).expect("fresh build");
        assert!(
            shared == fresh,
            "{elf}: target/firmware differs from a fresh build"
        );
    }
}
