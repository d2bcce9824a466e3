//! Traces and profiles (`--trace insn,mem,irq,eth`, `--trace-func`, `--trace-range`,
//! `--profile`), through the CLI and the library:
//!
//! * `ft900-sim/tests/guest/calls.c` (built here at -O1 -g for the `gdb-sim` machine) has a known call
//!   structure: `middle` calls `leaf` in a loop, `through_pointer` calls it through `calli`,
//!   `bail` recurses and leaves by `longjmp`, and `main` stores 0x5EED1234 to a global. The
//!   traces must name functions with their source lines, the filters must keep exactly the
//!   instructions of the function (tree) or range, and the profile must show exactly that call
//!   structure with instruction counts that an independent hook confirms;
//! * `timer_tick.elf` on the `ft900` machine: the irq trace shows the tick interrupt entries and
//!   their `reti`, and the profile puts the handler under `[interrupt]` frames, once per entry;
//! * `net_dhcp.elf` with `--eth user`: the eth trace shows the DHCP exchange;
//! * `sigv4_vectors.elf` and the `tls_handshake`/`tls_peer_server` pair: the profile of one
//!   SigV4 signature and of one TLS handshake (printed: the figures of the README).
//!
//! Virtual time only. Needs the ft32-elf toolchain, GNU make, lwIP and mbedTLS sources (the
//! firmware build fetches them) and the SigV4 test vectors in `../shared/testdata/sigv4`.

mod cli;
#[path = "../../ft900-sim/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use ft900_sim::debuginfo::Symbolizer;
use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::profiler::{Profiler, Report};
use ft900_sim::trace::{Trace, TraceError, TraceKinds, TraceOptions};
use ft900_sim::{HookAction, Machine, Profile, RunLimits, StopReason};

const HZ: u64 = 100_000_000;

// ---- building -----------------------------------------------------------------------------

fn work_dir() -> PathBuf {
    let dir = support::target_dir().join("trace-tests");
    std::fs::create_dir_all(&dir).expect("create target/trace-tests");
    dir
}

fn calls_source() -> PathBuf {
    support::workspace_root().join("ft900-sim/tests/guest/calls.c")
}

/// `calls.c` built with `ft32-elf-gcc -msim -O1 -g` (-O1: no sibling-call optimisation, so the
/// call structure is the source's).
fn calls_elf() -> &'static Path {
    static ELF: OnceLock<PathBuf> = OnceLock::new();
    ELF.get_or_init(|| {
        let tc = support::Toolchain::require();
        let out = work_dir().join("calls.elf");
        let status = Command::new(&tc.gcc)
            .args(["-msim", "-O1", "-g", "-o"])
            .arg(&out)
            .arg(calls_source())
            .status()
            .expect("run ft32-elf-gcc");
        assert!(status.success(), "ft32-elf-gcc failed on calls.c");
        out
    })
}

/// Firmware ELFs, built once by `make` into `target/firmware`.
fn firmware(name: &str) -> PathBuf {
    static BUILD: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILD.get_or_init(|| {
        let dir = support::target_dir().join("firmware");
        let elfs: Vec<PathBuf> = [
            "timer_tick",
            "net_dhcp",
            "sigv4_vectors",
            "tls_handshake",
            "tls_peer_server",
        ]
        .iter()
        .map(|e| dir.join(format!("{e}.elf")))
        .collect();
        support::make_firmware(&dir, &elfs)?;
        Ok(dir)
    });
    match dir {
        Ok(d) => d.join(format!("{name}.elf")),
        Err(msg) => panic!("\n{msg}\n"),
    }
}

fn program(path: &Path) -> (Program, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let p = Program::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (p, bytes)
}

fn symbolizer(path: &Path) -> Symbolizer {
    let (p, bytes) = program(path);
    Symbolizer::from_elf(p.symbols, &bytes).expect("DWARF readable")
}

/// The line of calls.c containing `needle` (1-based).
fn source_line(needle: &str) -> usize {
    let text = std::fs::read_to_string(calls_source()).expect("read calls.c");
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("calls.c has no line with {needle:?}"))
        + 1
}

/// (address, size) of a function.
fn function(p: &Program, name: &str) -> (u32, u32) {
    let s = p
        .symbols
        .code_symbol(name)
        .unwrap_or_else(|| panic!("no function {name}"));
    (s.addr, s.size)
}

// ---- running ------------------------------------------------------------------------------

fn sim(args: &[&str], elf: &Path) -> Output {
    Command::new(cli::sim_binary())
        .args(args)
        .arg(elf)
        .stdin(Stdio::null())
        .output()
        .expect("run ft900-sim")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs the CLI with a trace file; returns the trace's lines (the run must exit 0).
fn trace_lines(args: &[&str], elf: &Path, file: &str) -> Vec<String> {
    trace_lines_status(args, elf, file, Some(0))
}

/// [`trace_lines`] with the exit status expected (`None`: any status of the guest, not a
/// simulator error).
fn trace_lines_status(args: &[&str], elf: &Path, file: &str, status: Option<i32>) -> Vec<String> {
    let path = work_dir().join(file);
    let _ = std::fs::remove_file(&path);
    let mut all = args.to_vec();
    let p = path.to_str().expect("UTF-8 path");
    all.extend(["--trace-file", p]);
    let out = sim(&all, elf);
    let context = format!(
        "ft900-sim {all:?}: {}\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    match status {
        Some(s) => assert_eq!(out.status.code(), Some(s), "{context}"),
        // The guest's own status; the simulator's errors start with "ft900-sim: ".
        None => assert!(
            out.status.code().is_some() && !text(&out.stderr).contains("ft900-sim: "),
            "{context}"
        ),
    }
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

/// `kind` of a trace line (second column).
fn kind(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap_or("")
}

/// The location column of a trace line: `func+off (file:line)` (the text after the detail
/// column, which is padded to 40 characters after the 12+1+4+1+8+2 = 28-character prefix).
fn location(line: &str) -> &str {
    line.get(28 + 41..).unwrap_or("").trim()
}

/// A gdb-sim machine with calls.elf loaded, console discarded.
fn calls_machine() -> (Machine<GdbSim>, Program) {
    let (p, _) = program(calls_elf());
    let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(std::io::sink())));
    p.load_into(&mut m.core, LoadPolicy::Vma).expect("load");
    m.profile.reset(&mut m.core, p.entry);
    (m, p)
}

/// An ft900 machine with a firmware loaded as on the chip, UART0 captured.
fn ft900_machine(elf: &Path) -> (Machine<Ft900>, Program, Capture) {
    let (p, _) = program(elf);
    let mut profile = Ft900::new(Ft900Config {
        rtc_start_seconds: 1_767_225_600,
        ..Ft900Config::default()
    });
    let uart = Capture::new();
    profile.uart[0].set_backend(Box::new(uart.clone()));
    let mut m = Machine::with_standard_memory(profile);
    p.load_into(&mut m.core, LoadPolicy::Rom).expect("load");
    m.profile.reset(&mut m.core, p.entry);
    (m, p, uart)
}

/// A `Write` into shared memory, for library-level traces.
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
    fn lines(&self) -> Vec<String> {
        text(&self.0.lock().unwrap())
            .lines()
            .map(str::to_string)
            .collect()
    }
}

// ---- traces of calls.c --------------------------------------------------------------------

#[test]
fn insn_trace_names_every_instruction_with_function_and_source_line() {
    let elf = calls_elf();
    let (p, _) = program(elf);
    let lines = trace_lines(&["run", "--trace", "insn"], elf, "insn.txt");
    // One line per instruction, as many as the machine executes.
    let (mut m, _) = calls_machine();
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    assert_eq!(lines.len() as u64, m.core.insns, "one line per instruction");
    assert!(lines.iter().all(|l| kind(l) == "insn"), "{:?}", &lines[..3]);

    let (leaf, _) = function(&p, "leaf");
    let leaf_line = source_line("unsigned leaf(");
    let first = lines
        .iter()
        .find(|l| l.contains(&format!(" insn {leaf:08x} ")))
        .expect("leaf's first instruction is traced");
    assert_eq!(
        location(first),
        format!("leaf (calls.c:{leaf_line})"),
        "{first}"
    );
    // The disassembly column names the instruction.
    assert!(
        first.contains("ashl.l") || first.contains("add.l"),
        "{first}"
    );
    let second = lines
        .iter()
        .find(|l| l.contains(&format!(" insn {:08x} ", leaf + 4)))
        .unwrap();
    assert_eq!(
        location(second),
        format!("leaf+0x4 (calls.c:{leaf_line})"),
        "{second}"
    );
    // Cycle stamps never go back.
    let cycles: Vec<u64> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(cycles.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn trace_func_keeps_the_call_tree_and_trace_range_the_range() {
    let elf = calls_elf();
    let (p, _) = program(elf);
    let (_, leaf_size) = function(&p, "leaf");
    let leaf_insns = (leaf_size / 4) as usize; // straight-line code
    let (_, middle_size) = function(&p, "middle");

    // middle(10) and middle(2): 12 calls of leaf inside; main and the rest outside.
    let lines = trace_lines(
        &["run", "--trace", "insn", "--trace-func", "middle"],
        elf,
        "func.txt",
    );
    let leaf_lines = lines
        .iter()
        .filter(|l| location(l).starts_with("leaf"))
        .count();
    let middle_lines = lines
        .iter()
        .filter(|l| location(l).starts_with("middle"))
        .count();
    assert_eq!(
        leaf_lines,
        12 * leaf_insns,
        "leaf's instructions under middle"
    );
    assert_eq!(
        leaf_lines + middle_lines,
        lines.len(),
        "only middle and its callees: {:?}",
        lines
            .iter()
            .find(|l| !location(l).starts_with("leaf") && !location(l).starts_with("middle"))
    );
    // middle's own instructions: exactly what the profiler counts for it.
    let (mut m, _) = calls_machine();
    let profiler = Profiler::new(symbolizer(elf));
    profiler.install(&mut m);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    let report = profiler.report(&m.core);
    assert_eq!(
        middle_lines as u64,
        report.function("middle").unwrap().self_insns
    );
    assert!(middle_lines > 2 * (middle_size / 4) as usize / 2);

    // The range of leaf: its 13 calls (12 from middle, 1 through the pointer), nothing else.
    let (leaf, _) = function(&p, "leaf");
    let range = format!("{leaf:#x}..{:#x}", leaf + leaf_size);
    let lines = trace_lines(
        &["run", "--trace", "insn", "--trace-range", &range],
        elf,
        "range.txt",
    );
    assert_eq!(lines.len(), 13 * leaf_insns);
    assert!(lines.iter().all(|l| location(l).starts_with("leaf")));
    // Both: leaf's range while middle runs (its entry lies outside the range).
    let lines = trace_lines(
        &[
            "run",
            "--trace",
            "insn",
            "--trace-range",
            &range,
            "--trace-func",
            "middle",
        ],
        elf,
        "range-func.txt",
    );
    assert_eq!(lines.len(), 12 * leaf_insns);

    // A name that is not a function is an error, not an empty trace.
    let out = sim(
        &["run", "--trace", "insn", "--trace-func", "no_such_fn"],
        elf,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no function \"no_such_fn\""),
        "{}",
        text(&out.stderr)
    );
    let out = sim(
        &["run", "--trace", "insn", "--trace-range", "0x200..0x100"],
        elf,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = sim(&["run", "--trace", "insn,bogus"], elf);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn mem_trace_shows_the_known_store_with_its_source_line() {
    let elf = calls_elf();
    let (p, _) = program(elf);
    let sink = p.symbols.address_of("calls_sink").expect("calls_sink");
    let lines = trace_lines(&["run", "--trace", "mem"], elf, "mem.txt");
    assert!(lines.iter().all(|l| kind(l) == "mem"));
    let store = format!("store.l {sink:#010x} = 0x5eed1234");
    let hits: Vec<&String> = lines.iter().filter(|l| l.contains(&store)).collect();
    assert_eq!(hits.len(), 1, "one store of 0x5eed1234 to calls_sink");
    let at = source_line("calls_sink = 0x5EED1234u;");
    assert!(
        location(hits[0]).starts_with("main+0x")
            && location(hits[0]).ends_with(&format!("(calls.c:{at})")),
        "{}",
        hits[0]
    );
    // The console write (gdb-sim's port at 0x10000) is named.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("store.b 0x00810000 console+0x0 = 0x61")),
        "the 'a' of \"a=145\" goes to the console port"
    );
    // With the function filter, only main's tree: main's store is there, exit's are not.
    let lines = trace_lines(
        &["run", "--trace", "mem", "--trace-func", "bail"],
        elf,
        "mem-bail.txt",
    );
    assert!(!lines.iter().any(|l| l.contains(&store)));
    assert!(
        lines
            .iter()
            .all(|l| location(l).starts_with("bail") || location(l).starts_with("longjmp")),
        "{lines:?}"
    );
    // bail pushes 3 return addresses (4 frames, the innermost calls longjmp).
    let pushes = lines
        .iter()
        .filter(|l| location(l).starts_with("bail") && l.contains("store.l"))
        .count();
    assert!(pushes >= 4, "{lines:?}");
    // Only the accesses of middle and leaf (its return's pop): not main's call of
    // through_pointer right after middle returned, though the stack is as deep again then.
    let lines = trace_lines(
        &["run", "--trace", "mem", "--trace-func", "middle"],
        elf,
        "mem-middle.txt",
    );
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| location(l).starts_with("middle") || location(l).starts_with("leaf")),
        "{lines:?}"
    );
}

// ---- interrupts and Ethernet on the ft900 machine -----------------------------------------

#[test]
fn irq_trace_shows_timer_tick_interrupts_and_their_returns() {
    let elf = firmware("timer_tick");
    let lines = trace_lines(
        &[
            "run",
            "--machine",
            "ft900",
            "--rtc-start",
            "0",
            "--trace",
            "irq",
        ],
        &elf,
        "irq.txt",
    );
    let entries: Vec<&String> = lines.iter().filter(|l| kind(l) == "irq").collect();
    let returns = lines.iter().filter(|l| kind(l) == "reti").count();
    // Timer A is input 17 at its reset priority 17: vector 0x08 + 4 * 17.
    let ticks: Vec<&&String> = entries
        .iter()
        .filter(|l| l.contains("enter vector 0x4c (priority 17) -> __irq_stub_17"))
        .collect();
    assert!(ticks.len() >= 100, "{} tick entries", ticks.len());
    assert_eq!(entries.len(), returns, "every entry returns");
    // The tick period is 100000 cycles (1 ms at 100 MHz). Interrupts are taken at instruction
    // boundaries, so an entry may come one cycle late (the second cycle of a branch or load):
    // entry k is within one cycle of entry 0 + k * 100000, with no drift.
    let at: Vec<u64> = ticks
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(
        at.iter()
            .take(50)
            .enumerate()
            .all(|(k, &t)| (t + 1).abs_diff(at[0] + 1 + k as u64 * 100_000) <= 1),
        "{:?}",
        &at[..5]
    );
    // The interrupted code is named: main's wait loop in timer_tick.c.
    assert!(
        ticks[0].contains("main+0x") && ticks[0].contains("(timer_tick.c:"),
        "{}",
        ticks[0]
    );
}

#[test]
fn eth_trace_shows_the_dhcp_exchange() {
    let elf = firmware("net_dhcp");
    // (Exits with the firmware's count of failed checks: the CLI's gateway has no echo
    // service for its TCP test; DHCP, DNS and SNTP work.)
    let lines = trace_lines_status(
        &[
            "run",
            "--machine",
            "ft900",
            "--eth",
            "user",
            "--uart0",
            "none",
            "--rtc-start",
            "1767225600",
            "--max-insns",
            "400000000",
            "--dns",
            "dynamodb.us-east-1.amazonaws.com=203.0.113.10",
            "--trace",
            "eth",
        ],
        &elf,
        "eth.txt",
        None,
    );
    assert!(lines.iter().all(|l| kind(l) == "eth"));
    // DHCPDISCOVER from the device's MAC, broadcast, then the gateway's offer.
    assert!(
        lines[0].contains(
            "eth  tx 350 bytes 02:f9:00:00:00:01 > ff:ff:ff:ff:ff:ff ipv4 0.0.0.0:68 > 255.255.255.255:67 udp t="
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("eth  rx ") && lines[1].contains("10.0.2.2:67 > 255.255.255.255:68 udp"),
        "{}",
        lines[1]
    );
    // A DNS query to the gateway's resolver.
    assert!(lines
        .iter()
        .any(|l| l.contains("tx ") && l.contains("> 10.0.2.3:53 udp")));
    // The cycle column is the virtual time / 10 ns.
    let l = &lines[0];
    let cycles: u64 = l.split_whitespace().next().unwrap().parse().unwrap();
    let t = l.rsplit("t=").next().unwrap().trim_end_matches('s');
    let ns: u64 = t.replace('.', "").parse().unwrap();
    assert_eq!(cycles * 10, ns);
    // eth needs a network.
    let out = sim(&["run", "--machine", "ft900", "--trace", "eth"], &elf);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--trace eth needs a network"));
}

#[test]
fn library_trace_wraps_links_and_rejects_unknown_functions() {
    let elf = calls_elf();
    let out = SharedText::default();
    let options = TraceOptions {
        kinds: TraceKinds {
            eth: true,
            ..TraceKinds::default()
        },
        ..TraceOptions::default()
    };
    let trace = Trace::new(options, symbolizer(elf), Box::new(out.clone())).unwrap();
    let mut link = trace.wrap_link(Box::new(sim_link::LoopbackLink::new(1_000)));
    let mut frame = vec![0xFF; 6];
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
    frame.resize(60, 0);
    link.transmit(5_000, &frame);
    assert_eq!(link.receive(5_500), None);
    assert_eq!(link.receive(6_000).as_deref(), Some(&frame[..]));
    trace.finish().unwrap();
    assert_eq!(
        out.lines(),
        [
            "         500 eth  tx 60 bytes 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff arp t=0.000005000s",
            "         600 eth  rx 60 bytes 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff arp t=0.000006000s",
        ]
    );
    assert_eq!(trace.lines(), 2);

    let options = TraceOptions {
        function: Some("nope".into()),
        ..TraceOptions::default()
    };
    assert!(matches!(
        Trace::new(options, symbolizer(elf), Box::new(std::io::sink())),
        Err(TraceError::NoSuchFunction(n)) if n == "nope"
    ));
}

// ---- profiles -----------------------------------------------------------------------------

/// The folded stacks under `__start;main` that do not go into the C library's printf.
fn main_stacks(report: &Report) -> BTreeMap<String, u64> {
    report
        .folded
        .iter()
        .filter(|(s, _)| s.starts_with("__start;main") && !s.starts_with("__start;main;printf"))
        .map(|(s, c)| (s.clone(), *c))
        .collect()
}

#[test]
fn profile_follows_calls_indirect_calls_and_longjmp_exactly() {
    let elf = calls_elf();
    let (mut m, p) = calls_machine();
    let profiler = Profiler::new(symbolizer(elf));
    profiler.install(&mut m);
    // An independent count: instructions and cycles spent at leaf's addresses.
    let (leaf, leaf_size) = function(&p, "leaf");
    let seen = Arc::new(Mutex::new((0u64, 0u64, None::<(u32, u64)>)));
    let s = seen.clone();
    m.add_code_hook(0, u32::MAX, move |core, pc| {
        let mut s = s.lock().unwrap();
        if let Some((prev, at)) = s.2 {
            if (leaf..leaf + leaf_size).contains(&prev) {
                s.0 += 1;
                s.1 += core.cycles - at;
            }
        }
        s.2 = Some((pc, core.cycles));
        HookAction::Continue
    });
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    let report = profiler.report(&m.core);

    // Every instruction and cycle is charged once.
    assert_eq!(report.insns, m.core.insns);
    assert_eq!(report.cycles, m.core.cycles);
    let self_sum: u64 = report.functions.iter().map(|f| f.self_cycles).sum();
    assert_eq!(self_sum, m.core.cycles);

    // The call structure of calls.c, as folded stacks (printf's subtree aside).
    let stacks = main_stacks(&report);
    let names: Vec<&str> = stacks.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "__start;main",
            "__start;main;bail",
            "__start;main;bail;bail",
            "__start;main;bail;bail;bail",
            "__start;main;bail;bail;bail;bail",
            "__start;main;bail;bail;bail;bail;longjmp",
            "__start;main;middle",
            "__start;main;middle;leaf",
            "__start;main;setjmp",
            "__start;main;through_pointer",
            "__start;main;through_pointer;leaf",
        ],
        "after the longjmp, middle(2) is main's child again"
    );
    // leaf is straight-line code: 12 calls under middle, 1 through the pointer.
    let per_call = (leaf_size / 4) as u64;
    let leaf_stats = report.function("leaf").unwrap();
    assert_eq!(leaf_stats.calls, 13);
    assert_eq!(leaf_stats.self_insns, 13 * per_call);
    let (insns, cycles, _) = *seen.lock().unwrap();
    assert_eq!(leaf_stats.self_insns, insns);
    assert_eq!(leaf_stats.self_cycles, cycles);
    assert_eq!(
        stacks["__start;main;middle;leaf"] + stacks["__start;main;through_pointer;leaf"],
        cycles
    );
    assert_eq!(stacks["__start;main;middle;leaf"], cycles / 13 * 12);
    for (name, calls) in [
        ("middle", 2),
        ("bail", 4),
        ("through_pointer", 1),
        ("longjmp", 1),
        ("setjmp", 1),
        ("main", 1),
    ] {
        assert_eq!(report.function(name).unwrap().calls, calls, "{name}");
    }
    // Inclusive cycles: middle's include its leaf calls; main's include everything under it.
    let middle = report.function("middle").unwrap();
    assert_eq!(
        middle.total_cycles,
        middle.self_cycles + stacks["__start;main;middle;leaf"]
    );
    let main_total: u64 = report
        .folded
        .iter()
        .filter(|(s, _)| s.starts_with("__start;main"))
        .map(|(_, c)| c)
        .sum();
    assert_eq!(report.function("main").unwrap().total_cycles, main_total);
}

#[test]
fn cli_profile_writes_flat_and_folded_files_and_a_summary() {
    let elf = calls_elf();
    let flat = work_dir().join("calls.prof");
    let folded = work_dir().join("calls.prof.folded");
    let _ = std::fs::remove_file(&flat);
    let _ = std::fs::remove_file(&folded);
    let out = sim(&["run", "--profile", flat.to_str().unwrap()], elf);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "a=145 b=16 r=7 c=5 sink=0x5eed1234\n");

    // The same numbers as the library's profiler.
    let (mut m, _) = calls_machine();
    let profiler = Profiler::new(symbolizer(elf));
    profiler.install(&mut m);
    m.run(RunLimits::default());
    let report = profiler.report(&m.core);

    let folded_text = std::fs::read_to_string(&folded).expect("FILE.folded written");
    let expected: String = report
        .folded
        .iter()
        .map(|(s, c)| format!("{s} {c}\n"))
        .collect();
    assert_eq!(folded_text, expected);
    assert!(folded_text.contains("__start;main;middle;leaf "));

    let flat_text = std::fs::read_to_string(&flat).expect("FILE written");
    assert!(flat_text.starts_with("# ft900-sim flat profile: "));
    let leaf_row = flat_text
        .lines()
        .find(|l| l.ends_with("  leaf"))
        .expect("a row for leaf");
    let cols: Vec<&str> = leaf_row.split_whitespace().collect();
    let leaf = report.function("leaf").unwrap();
    assert_eq!(cols[0], leaf.self_cycles.to_string());
    assert_eq!(cols[2], leaf.self_insns.to_string());
    assert_eq!(cols[5], "13", "calls of leaf: {leaf_row}");

    let stderr = text(&out.stderr);
    assert!(stderr.contains("top 10 by cycles:"), "{stderr}");
    let top = &report.functions[0];
    let first_row = stderr
        .lines()
        .skip_while(|l| !l.contains("top 10 by cycles"))
        .nth(2)
        .unwrap();
    assert!(
        first_row
            .trim_start()
            .starts_with(&top.self_cycles.to_string())
            && first_row.ends_with(&top.name),
        "{first_row}"
    );

    // --profile-folded puts the stacks elsewhere.
    let other = work_dir().join("calls-other.folded");
    let _ = std::fs::remove_file(&other);
    let out = sim(
        &[
            "run",
            "--profile",
            flat.to_str().unwrap(),
            "--profile-folded",
            other.to_str().unwrap(),
        ],
        elf,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&other).unwrap(), expected);
}

#[test]
fn cli_profile_works_on_the_ft900_machine() {
    let elf = firmware("timer_tick");
    let flat = work_dir().join("timer_tick.prof");
    let folded = work_dir().join("timer_tick.prof.folded");
    let _ = std::fs::remove_file(&folded);
    let out = sim(
        &[
            "run",
            "--machine",
            "ft900",
            "--rtc-start",
            "0",
            "--uart0",
            "none",
            "--max-insns",
            "20000000",
            "--profile",
            flat.to_str().unwrap(),
        ],
        &elf,
    );
    // The first 20 M instructions (a few hundred ticks) are enough; the profile is written
    // at the instruction limit too (exit status 125).
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    let folded = std::fs::read_to_string(&folded).expect("FILE.folded written");
    assert!(
        folded
            .lines()
            .any(|l| l.starts_with("_start;main;") && l.contains(";[interrupt];__irq_stub_17")),
        "{folded}"
    );
    let flat = std::fs::read_to_string(&flat).unwrap();
    assert!(flat.contains("on ft900"), "{flat}");
    assert!(flat.lines().any(|l| l.ends_with("  tick_hook")), "{flat}");
}

#[test]
fn profile_on_the_ft900_puts_handlers_under_interrupt_frames() {
    let elf = firmware("timer_tick");
    let (mut m, _, uart) = ft900_machine(&elf);
    let profiler = Profiler::new(symbolizer(&elf));
    profiler.install(&mut m);
    // The irq trace of the same run counts the entries independently.
    let irq = SharedText::default();
    let trace = Trace::new(
        TraceOptions {
            kinds: TraceKinds {
                irq: true,
                ..TraceKinds::default()
            },
            ..TraceOptions::default()
        },
        symbolizer(&elf),
        Box::new(irq.clone()),
    )
    .unwrap();
    trace.install(&mut m);
    let stop = m.run(RunLimits {
        cycle_deadline: Some(10 * HZ),
        ..RunLimits::default()
    });
    m.profile.flush();
    assert_eq!(stop, StopReason::Exited(0), "{}", uart.text());
    assert!(uart.text().contains("timer_tick: PASS"), "{}", uart.text());
    trace.finish().unwrap();
    let entries = irq
        .lines()
        .iter()
        .filter(|l| l.contains(" irq ") && l.contains("-> __irq_stub_17"))
        .count() as u64;

    // The interrupt controller counted the same entries of input 17.
    let taken = m
        .profile
        .stats()
        .into_iter()
        .flat_map(|(_, counters)| counters)
        .find(|(k, _)| k == "irq17")
        .map(|(_, n)| n);
    assert_eq!(taken, Some(entries));

    let report = profiler.report(&m.core);
    assert_eq!(report.cycles, m.core.cycles);
    assert_eq!(report.insns, m.core.insns);
    // The stub of vector 17 runs only as an interrupt handler, once per entry.
    assert_eq!(report.function("__irq_stub_17").unwrap().calls, entries);
    assert!(entries >= 100);
    let under_interrupt: Vec<&String> = report
        .folded
        .iter()
        .map(|(s, _)| s)
        .filter(|s| s.contains("__irq_stub_17"))
        .collect();
    assert!(
        under_interrupt
            .iter()
            .all(|s| s.contains(";[interrupt];__irq_stub_17")),
        "{under_interrupt:?}"
    );
    // The C handler (tick_hook, called by the HAL's timer ISR) is in the interrupt's tree.
    assert!(
        report
            .folded
            .iter()
            .any(|(s, _)| s.contains("[interrupt];") && s.ends_with(";tick_hook")),
        "{:?}",
        report.folded
    );
}

// ---- figures: one SigV4 signature, one TLS handshake --------------------------------------

/// One case of the AWS SigV4 suite: `get-vanilla`.
fn sigv4_case() -> (String, Vec<u8>) {
    let dir = support::workspace_root().join("../shared/testdata/sigv4");
    let found = walk(&dir, "get-vanilla").unwrap_or_else(|| {
        panic!(
            "the AWS SigV4 test vectors are missing: no get-vanilla/get-vanilla.req under {}",
            dir.display()
        )
    });
    (
        "get-vanilla".into(),
        std::fs::read(found.join("get-vanilla.req")).unwrap(),
    )
}

fn walk(dir: &Path, name: &str) -> Option<PathBuf> {
    if dir.file_name().is_some_and(|n| n == name) && dir.join(format!("{name}.req")).is_file() {
        return Some(dir.to_path_buf());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    entries.into_iter().find_map(|p| walk(&p, name))
}

#[test]
fn profile_of_one_sigv4_signature() {
    let elf = firmware("sigv4_vectors");
    let (mut m, p, uart) = ft900_machine(&elf);
    let profiler = Profiler::new(symbolizer(&elf));
    let sign = p.symbols.address_of("sigv4_sign").expect("sigv4_sign");
    let done = p
        .symbols
        .address_of("sigv4_vectors_signed")
        .expect("sigv4_vectors_signed");
    // Profile from the entry of sigv4_sign to the firmware's end-of-signature mark.
    let report = Arc::new(Mutex::new(None::<Report>));
    let pr = profiler.clone();
    m.add_code_hook(sign, sign, move |core, _| {
        pr.clear(core);
        HookAction::Continue
    });
    // Installed after the hook above, so that the call of sigv4_sign is counted after clear.
    profiler.install(&mut m);
    let (pr, out) = (profiler.clone(), report.clone());
    m.add_code_hook(done, done, move |core, _| {
        *out.lock().unwrap() = Some(pr.report(core));
        HookAction::Stop
    });
    let (name, req) = sigv4_case();
    let mut fed = false;
    let stop = loop {
        if !fed && uart.text().contains("READY\n") {
            let mut frame = format!("CASE {name} {} 0\n", req.len()).into_bytes();
            frame.extend_from_slice(&req);
            uart.feed(&frame);
            fed = true;
        }
        let next = m.core.cycles + HZ / 1000;
        assert!(next < 20 * HZ, "no signature in 20 s\n{}", uart.text());
        match m.run(RunLimits {
            cycle_deadline: Some(next),
            ..RunLimits::default()
        }) {
            StopReason::CycleLimit => continue,
            other => break other,
        }
    };
    assert_eq!(stop, StopReason::Stopped, "{}", uart.text());
    let report = report
        .lock()
        .unwrap()
        .take()
        .expect("a signature was profiled");
    assert!(uart.text().contains("BEGIN get-vanilla"), "{}", uart.text());
    // A signature is mostly SHA-256: the compression function leads.
    let top: Vec<&str> = report
        .functions
        .iter()
        .take(3)
        .map(|f| f.name.as_str())
        .collect();
    assert!(
        top.iter().any(|n| n.contains("sha256")),
        "top functions of a signature: {top:?}"
    );
    assert_eq!(report.function("sigv4_sign").unwrap().calls, 1);
    let sign_total = report.function("sigv4_sign").unwrap().total_cycles;
    assert!(
        sign_total * 10 >= report.cycles * 9,
        "sigv4_sign covers the span"
    );
    println!(
        "one SigV4 signature (get-vanilla) on the ft900 at 100 MHz:\n{}",
        report.summary(10)
    );
}

// The TLS pair: the client and the server each on their own FT900, bytes moved between their
// RAM mailboxes (firmware/tests/tls_mailbox.h) while one of them waits, as tests/tls.rs does.
const MB_RING: usize = 4;
const MB_CTL_OUT: usize = 8;
const MB_CTL_IN: usize = 12;
const MB_TX_HEAD: usize = 16;
const MB_TX_TAIL: usize = 20;
const MB_RX_HEAD: usize = 24;
const MB_RX_TAIL: usize = 28;
const MB_DATA: usize = 32;

struct Chip {
    m: Machine<Ft900>,
    uart: Capture,
    mailbox: usize,
}

impl Chip {
    fn new(name: &str) -> Chip {
        let elf = firmware(name);
        let (mut m, p, uart) = ft900_machine(&elf);
        let mailbox =
            (p.symbols.address_of("tls_mailbox").expect("tls_mailbox") - 0x80_0000) as usize;
        let idle = p
            .symbols
            .address_of("tls_mailbox_idle")
            .expect("tls_mailbox_idle");
        let mut stopped_at = u64::MAX;
        m.add_code_hook(idle, idle, move |core, _| {
            if core.insns == stopped_at {
                HookAction::Continue
            } else {
                stopped_at = core.insns;
                HookAction::Stop
            }
        });
        Chip { m, uart, mailbox }
    }

    fn get(&self, field: usize) -> u32 {
        let at = self.mailbox + field;
        u32::from_le_bytes(self.m.core.ram()[at..at + 4].try_into().unwrap())
    }

    fn set(&mut self, field: usize, v: u32) {
        let at = self.mailbox + field;
        self.m.core.ram_mut()[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn run(&mut self) -> StopReason {
        let deadline = self.m.core.cycles + 120 * HZ;
        let stop = self.m.run(RunLimits {
            cycle_deadline: Some(deadline),
            ..RunLimits::default()
        });
        self.m.profile.flush();
        stop
    }
}

fn relay(from: &mut Chip, to: &mut Chip) -> usize {
    let ring = from.get(MB_RING);
    let (head, tail) = (from.get(MB_TX_HEAD), from.get(MB_TX_TAIL));
    let rx_head = to.get(MB_RX_HEAD);
    let room = ring - rx_head.wrapping_sub(to.get(MB_RX_TAIL));
    let n = head.wrapping_sub(tail).min(room);
    for i in 0..n {
        let b = from.m.core.ram()[from.mailbox + MB_DATA + (tail.wrapping_add(i) % ring) as usize];
        let at = to.mailbox + MB_DATA + ring as usize + (rx_head.wrapping_add(i) % ring) as usize;
        to.m.core.ram_mut()[at] = b;
    }
    from.set(MB_TX_TAIL, tail.wrapping_add(n));
    to.set(MB_RX_HEAD, rx_head.wrapping_add(n));
    n as usize
}

fn relay_control(client: &mut Chip, server: &mut Chip) {
    let ctl = client.get(MB_CTL_OUT);
    if ctl != server.get(MB_CTL_IN) {
        for chip in [&mut *client, &mut *server] {
            for f in [MB_TX_HEAD, MB_TX_TAIL, MB_RX_HEAD, MB_RX_TAIL] {
                chip.set(f, 0);
            }
        }
        server.set(MB_CTL_IN, ctl);
    }
}

#[test]
fn profile_of_tls_handshakes() {
    let mut server = Chip::new("tls_peer_server");
    let mut client = Chip::new("tls_handshake");
    let elf = firmware("tls_handshake");
    let (p, _) = program(&elf);
    let profiler = Profiler::new(symbolizer(&elf));
    profiler.install(&mut client.m);
    profiler.set_paused(&client.m.core, true);
    // tls_bench_mark(id << 1 | end) brackets each client call of a measured operation (a
    // handshake is several calls, between which the client waits for the peer); ids 0 and 1
    // are the two handshakes (tls_handshake.c). Count only inside the brackets, per id.
    let mark = p
        .symbols
        .address_of("tls_bench_mark")
        .expect("tls_bench_mark");
    #[derive(Default)]
    struct Spans {
        current: Option<u32>,
        started_at: u64,
        cycles: BTreeMap<u32, u64>,
        reports: BTreeMap<u32, Report>,
    }
    let spans = Arc::new(Mutex::new(Spans::default()));
    let (pr, sp) = (profiler.clone(), spans.clone());
    client.m.add_code_hook(mark, mark, move |core, _| {
        let (id, end) = (core.regs[0] >> 1, core.regs[0] & 1 == 1);
        let mut s = sp.lock().unwrap();
        if end {
            pr.set_paused(core, true);
            *s.cycles.entry(id).or_default() += core.cycles - s.started_at;
            s.reports.insert(id, pr.report(core));
        } else {
            if s.current != Some(id) {
                pr.clear(core);
                s.current = Some(id);
            }
            s.started_at = core.cycles;
            pr.set_paused(core, false);
        }
        HookAction::Continue
    });
    assert_eq!(server.run(), StopReason::Stopped);
    assert_eq!(client.run(), StopReason::Stopped);
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 100_000, "too many rounds");
        relay_control(&mut client, &mut server);
        relay(&mut client, &mut server);
        assert_eq!(server.run(), StopReason::Stopped, "{}", server.uart.text());
        relay(&mut server, &mut client);
        match client.run() {
            StopReason::Stopped => {}
            StopReason::Exited(0) => break,
            other => panic!("client: {other}\n{}", client.uart.text()),
        }
        // Both handshakes are over once the third measured operation starts.
        if spans.lock().unwrap().current.is_some_and(|id| id >= 2) {
            break;
        }
    }
    let text = client.uart.text();
    let spans = spans.lock().unwrap();
    for (id, name) in [
        (0, "client_handshake_ecdhe_ecdsa"),
        (1, "client_handshake_ecdhe_rsa_mtls"),
    ] {
        let report = spans
            .reports
            .get(&id)
            .unwrap_or_else(|| panic!("{name} was not profiled\n{text}"));
        // The profile covers exactly the bracketed spans (the boundaries are the mark's
        // instructions: a few cycles per span).
        let spanned = spans.cycles[&id];
        assert!(
            report.cycles.abs_diff(spanned) <= 200,
            "{name}: profiled {} cycles, spans {spanned}",
            report.cycles
        );
        // A handshake's cycles go to big-number arithmetic (ECDHE, ECDSA/RSA).
        let top = &report.functions[0].name;
        assert!(top.contains("mpi"), "{name}: top function {top}");
        assert!(report.function("mbedtls_ssl_handshake_step").is_some());
        println!(
            "{name} (the client's own work, 100 MHz):\n{}",
            report.summary(10)
        );
    }
}

/// At -Os, gcc saves callee-saved registers with the `__prolog_$rN` millicode, which is called
/// and returns with a jump (`jmpi $r13`) that leaves the stack below its return address. The
/// profiler ends its frame there: stacks read `main;middle;leaf`, never `main;main;...`.
#[test]
fn profile_of_os_code_ends_the_prolog_millicode_frame_at_its_jump_back() {
    let tc = support::Toolchain::require();
    let elf = work_dir().join("calls-os.elf");
    let status = Command::new(&tc.gcc)
        .args(["-msim", "-Os", "-g", "-o"])
        .arg(&elf)
        .arg(calls_source())
        .status()
        .expect("run ft32-elf-gcc");
    assert!(status.success(), "ft32-elf-gcc failed on calls.c");
    let (p, _) = program(&elf);
    let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(std::io::sink())));
    p.load_into(&mut m.core, LoadPolicy::Vma).expect("load");
    m.profile.reset(&mut m.core, p.entry);
    let profiler = Profiler::new(symbolizer(&elf));
    profiler.install(&mut m);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    let report = profiler.report(&m.core);
    let stacks: Vec<&str> = report.folded.iter().map(|(s, _)| s.as_str()).collect();
    assert!(
        stacks
            .iter()
            .any(|s| s.starts_with("__start;main;__prolog_$r")),
        "main saves registers with the millicode: {stacks:#?}"
    );
    for s in &stacks {
        let names: Vec<&str> = s.split(';').collect();
        for pair in names.windows(2) {
            // bail() is really recursive.
            assert!(
                pair[0] != pair[1] || pair[0] == "bail",
                "{} twice in a row: {s}",
                pair[0]
            );
        }
        if let Some(i) = names.iter().position(|n| n.starts_with("__prolog_")) {
            assert_eq!(i, names.len() - 1, "the millicode calls nothing: {s}");
        }
    }
    assert!(stacks.contains(&"__start;main;middle;leaf"), "{stacks:#?}");
    let calls = |name: &str| report.function(name).map_or(0, |f| f.calls);
    assert_eq!(calls("middle"), 2);
    assert_eq!(
        calls("leaf"),
        13,
        "10 + 2 from middle, 1 through the pointer"
    );
    assert_eq!(calls("main"), 1);
}
