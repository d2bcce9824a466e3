//! The vendor's FT9xx SDK examples, unmodified, on the `ft900` machine: each is built with
//! `sdk/build.sh` (the SDK from `../shared/vendor` or `FT9XX_SDK`, libft900 built once) and
//! run from its reset vector with RAM empty, on each silicon revision it supports, and what it
//! prints on UART0 is checked against what it prints on a board, in virtual time.
//!
//! A missing SDK, toolchain or lwIP fails these tests (with build.sh's message); they never
//! skip. See sdk/README.md.

mod support;
mod vendor_support;

use vendor_support::{build_example, Chip, RunOpts, Session, MS};

/// The SDK examples print this first (after clearing the terminal on some).
const COPYRIGHT: &str = "Copyright (C) Bridgetek Pte Ltd";

// ---- UART -----------------------------------------------------------------------------------

/// UART Example 1: a banner at 19200 baud, then every byte typed is echoed back.
fn uart_example_1(chip: Chip) {
    let elf = build_example("UART Example 1");
    let mut s = Session::new(&elf, RunOpts::new(chip));
    // The banner's last line, complete: input typed before the banner is out would overrun
    // the receiver (the example reads only after printing it), as on the board.
    let rule = "-".repeat(69);
    s.expect_text(&format!("serial port. \r\n{rule} \r\n"));
    let banner = s.uart0.output().len();
    // 16450 mode (no FIFO): typed one byte at a time, as a person types, not pasted.
    let typed = b"Hello, FT900! 0123456789\r";
    for &b in typed {
        s.feed(&[b]);
        let want = s.uart0.output().len() + 1;
        s.expect(&format!("the echo of {:?}", b as char), |out| {
            out.len() >= want
        });
        s.run_for(2 * MS);
    }
    let t = s.transcript(ft900_sim::StopReason::Stopped);
    t.assert_all_modelled();
    assert_eq!(
        &t.uart0[banner..],
        typed,
        "the echo differs from what was typed\n{}",
        t.context()
    );
    assert!(t.text().contains(COPYRIGHT), "{}", t.context());
}

#[test]
fn uart_example_1_echoes_what_is_typed_rev_b() {
    uart_example_1(Chip::RevB);
}

#[test]
fn uart_example_1_echoes_what_is_typed_rev_c() {
    uart_example_1(Chip::RevC);
}

/// UART Example 2: the same echo from UART0's receive interrupt; a line pasted at once (the
/// UART delivers a byte per character time) comes back whole, each byte after its input.
fn uart_example_2(chip: Chip) {
    let elf = build_example("UART Example 2");
    let mut s = Session::new(&elf, RunOpts::new(chip));
    let rule = "-".repeat(69);
    s.expect_text(&format!("via an interrupt \r\n{rule} \r\n"));
    let banner = s.uart0.output().len();
    let pasted = b"The quick brown fox jumps over the lazy dog 0123456789\r\n";
    let fed_at = s.now();
    s.feed(pasted);
    let want = banner + pasted.len();
    s.expect("the pasted line echoed", |out| out.len() >= want);
    s.run_for(20 * MS);
    let t = s.transcript(ft900_sim::StopReason::Stopped);
    t.assert_all_modelled();
    assert_eq!(
        &t.uart0[banner..],
        pasted,
        "the echo differs from the input\n{}",
        t.context()
    );
    // 19200 baud, 10 bits a character: 520 833 ns. The host's byte i is complete in the
    // receiver i character times after the feed; its echo takes another character time.
    let char_ns = 1_000_000_000 / 1920;
    for (i, &at) in t.uart0_times[banner..].iter().enumerate() {
        let earliest = fed_at + (i as u64 + 1) * char_ns - 1_000;
        assert!(
            at >= earliest,
            "echo byte {i} at {at} ns, before its input could have arrived ({earliest} ns)\n{}",
            t.context()
        );
    }
}

#[test]
fn uart_example_2_echoes_from_the_receive_interrupt_rev_b() {
    uart_example_2(Chip::RevB);
}

#[test]
fn uart_example_2_echoes_from_the_receive_interrupt_rev_c() {
    uart_example_2(Chip::RevC);
}

// ---- GPIO -----------------------------------------------------------------------------------

/// GPIO Example 1: GPIO18 is made an output and toggled every `delayms(1000)`.
fn gpio_example_1(chip: Chip) {
    let elf = build_example("GPIO Example 1");
    let mut opts = RunOpts::new(chip);
    opts.max_virtual_secs = 5;
    let mut s = Session::new(&elf, opts);
    s.expect_text("Toggling GPIO18\r\n");
    // GPIO18's output value: bit 18 of GPIO_VALUE0 (0x10084), sampled every millisecond.
    let pin = |s: &Session| {
        let regs = s.m.profile.sys.registers();
        let v = regs
            .iter()
            .find(|(name, _, _)| *name == "GPIO_VALUE0")
            .map(|(_, _, v)| *v)
            .expect("the sys block lists GPIO_VALUE0");
        v >> 18 & 1
    };
    let mut level = pin(&s);
    let mut edges = Vec::new();
    while s.run_for(MS).is_none() {
        let now = pin(&s);
        if now != level {
            edges.push((s.now(), now));
            level = now;
        }
    }
    let t = s.transcript(ft900_sim::StopReason::CycleLimit);
    t.assert_all_modelled();
    t.assert_line("Welcome to GPIO Example 1... ");
    assert!(
        edges.len() >= 3,
        "GPIO18 changed {} times in 5 s: {edges:?}\n{}",
        edges.len(),
        t.context()
    );
    // delayms(1000) between writes. The SDK's delayus counts 100 cycles a microsecond down by
    // 3 per pass of a `sub; cmp; jmpc` loop that its own comment says takes 4 cycles (as the
    // reference simulator's cycle model has it: a taken jump costs one more), so a "second"
    // lasts 4/3 s, here as on the board by the SDK's own account of its loop.
    for w in edges.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(
            (1_320 * MS..=1_345 * MS).contains(&gap),
            "GPIO18 edges {gap} ns apart (expected 4/3 s): {edges:?}"
        );
        assert_ne!(w[0].1, w[1].1);
    }
    eprintln!(
        "GPIO Example 1 on {chip}: GPIO18 edges at {:?} ms",
        edges.iter().map(|(t, v)| (t / MS, *v)).collect::<Vec<_>>()
    );
}

#[test]
fn gpio_example_1_toggles_gpio18_every_second_rev_b() {
    gpio_example_1(Chip::RevB);
}

#[test]
fn gpio_example_1_toggles_gpio18_every_second_rev_c() {
    gpio_example_1(Chip::RevC);
}

// ---- FreeRTOS -------------------------------------------------------------------------------

/// FreeRTOS Example 2: FreeRTOS's standard demo tasks (queues, semaphores, dynamic priorities,
/// events) run, and a check task looks at them every 3 s, creating a MEM_CHECK task each time
/// (the port prints `C <name> ...` for every task it creates) and printing an error line if
/// any has stalled or seen an error.
fn freertos_example_2(chip: Chip) {
    let elf = build_example("FreeRTOS Example 2");
    let mut opts = RunOpts::new(chip);
    opts.max_virtual_secs = 4;
    let t = vendor_support::run_example(&elf, opts);
    t.assert_all_modelled();
    // The demo tasks announce themselves with "<task> started." lines. Which lines exist is
    // read from the example's own sources in the SDK (no SDK text is kept in this repository):
    // every such line printed must be one of them, and main() starts eleven of the demos.
    let announced = start_messages_in_sources("FreeRTOS Example 2");
    let printed: std::collections::BTreeSet<String> = t
        .lines()
        .into_iter()
        .map(|(_, l)| l)
        .filter(|l| l.ends_with(" started."))
        .collect();
    let unknown: Vec<&String> = printed.difference(&announced).collect();
    assert!(
        unknown.is_empty(),
        "start lines not in the example's sources: {unknown:?}\n{}",
        t.context()
    );
    assert!(
        printed.len() >= 11,
        "{} demo tasks announced their start, expected the 11 main() starts: {printed:?}\n{}",
        printed.len(),
        t.context()
    );
    let text = t.text();
    assert!(
        !text.contains("ERROR") && !text.contains("Error"),
        "a demo task reported an error\n{}",
        t.context()
    );
    // The check task creates a MEM_CHECK task, waits 3 s, checks every demo task (printing the
    // error line above if one stalled or failed), and creates the next: a second MEM_CHECK
    // means the check at 3 s ran.
    let checks: Vec<u64> = t
        .lines()
        .iter()
        .filter(|(_, l)| l.starts_with("C MEM_CHECK"))
        .map(|(at, _)| *at)
        .collect();
    assert!(
        checks.len() >= 2,
        "the check task created {} MEM_CHECK tasks in 4 s\n{}",
        checks.len(),
        t.context()
    );
}

/// The `"... started.\r\n"` string literals of an SDK example's C sources (its demo tasks'
/// start messages), without the line end.
fn start_messages_in_sources(example: &str) -> std::collections::BTreeSet<String> {
    const END: &str = " started.\\r\\n\"";
    let dir = vendor_support::sdk_dir()
        .join("Examples")
        .join(example)
        .join("Sources");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut found = std::collections::BTreeSet::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "c") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in String::from_utf8_lossy(&bytes).lines() {
            let Some(end) = line.find(END) else { continue };
            let Some(open) = line[..end].rfind('"') else {
                continue;
            };
            found.insert(line[open + 1..end + " started.".len()].to_string());
        }
    }
    assert!(
        !found.is_empty(),
        "no start messages in {}: is this the FT9xx SDK 2.7.0?",
        dir.display()
    );
    found
}

#[test]
fn freertos_example_2_demo_tasks_pass_their_checks_rev_b() {
    freertos_example_2(Chip::RevB);
}

#[test]
fn freertos_example_2_demo_tasks_pass_their_checks_rev_c() {
    freertos_example_2(Chip::RevC);
}

/// FreeRTOS Example 3 (its demo 1, time slicing): three tasks of equal priority print their
/// names and spin; the 1 ms tick shares the CPU between them in turn.
fn freertos_example_3(chip: Chip) {
    let elf = build_example("FreeRTOS Example 3");
    let mut opts = RunOpts::new(chip);
    opts.max_virtual_secs = 2;
    let t = vendor_support::run_example(&elf, opts);
    t.assert_all_modelled();
    t.assert_line("Demonstrate FreeRTOS Time-slicing");
    let names: Vec<String> = t
        .lines()
        .into_iter()
        .map(|(_, l)| l)
        .filter(|l| l.starts_with("Task"))
        .collect();
    let count = |n: &str| names.iter().filter(|l| l.as_str() == n).count();
    let counts = [count("Task1"), count("Task2"), count("Task3")];
    assert!(
        counts.iter().all(|&c| c >= 5),
        "each task should print several times in 2 s: {counts:?}\n{}",
        t.context()
    );
    let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(
        max - min <= 2,
        "equal priorities get equal turns: {counts:?}\n{}",
        t.context()
    );
    // In turn: no task prints twice in a row while the others are ready.
    assert!(
        names.windows(2).all(|w| w[0] != w[1]),
        "a task printed twice in a row: {names:?}"
    );
}

#[test]
fn freertos_example_3_time_slices_three_equal_tasks_rev_b() {
    freertos_example_3(Chip::RevB);
}

#[test]
fn freertos_example_3_time_slices_three_equal_tasks_rev_c() {
    freertos_example_3(Chip::RevC);
}

/// FreeRTOS Example 4 (kernel-aware debugging): tables of the tasks, queues, timers and heap,
/// read from the kernel's own structures. Built with `-DpvContainer=pxContainer`: the example
/// uses the field's pre-10.1 name (docs/hardware/vendor-sdk.md §3).
fn freertos_example_4(chip: Chip) {
    let elf = vendor_support::build_with(
        "FreeRTOS Example 4",
        &vendor_support::BuildOpts {
            cflags: "-DpvContainer=pxContainer".into(),
            ..Default::default()
        },
    );
    let mut opts = RunOpts::new(chip);
    opts.max_virtual_secs = 3;
    let t = vendor_support::run_example(&elf, opts);
    t.assert_all_modelled();
    t.assert_line("Demonstrate FreeRTOS kernel-aware debugging feature");
    t.assert_line("TotalBytes 51200");
    t.assert_line("FreeRTOS Tasks");
    t.assert_line("FreeRTOS Queues");
    t.assert_line("FreeRTOS Timers");
    let lines = t.lines();
    let has = |pred: &dyn Fn(&str) -> bool| lines.iter().any(|(_, l)| pred(l));
    // Print0..Print6 at priorities 1, 1, 2, 3, 4, 5, 6, the idle task and the timer service.
    for (i, prio) in [1, 1, 2, 3, 4, 5, 6].iter().enumerate() {
        let name = format!("Print{i}");
        assert!(
            has(&|l: &str| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1] == name && f[3] == prio.to_string()
            }),
            "no task line for {name} at priority {prio}\n{}",
            t.context()
        );
    }
    assert!(has(&|l: &str| l.contains("IDLE 0x") && l.contains(" 0 ")));
    assert!(has(&|l: &str| l.contains("Tmr Svc 0x")));
    // The six software timers and their periods in ticks (ms).
    for (name, period) in [
        ("OneShotTmr1", "001000"),
        ("OneShotTmr2", "010000"),
        ("OneShotTmr3", "030000"),
        ("AutoReload1", "005000"),
        ("AutoReload2", "100000"),
        ("AutoReload3", "300000"),
    ] {
        assert!(
            has(&|l: &str| l.contains(&format!(" {name} ")) && l.contains(&format!(" {period} "))),
            "no timer line for {name} with period {period}\n{}",
            t.context()
        );
    }
    for q in [
        "QU1", "QU2", "QU3", "CS1", "CS2", "CS3", "MU1", "MU2", "MU3", "TmrQ",
    ] {
        assert!(
            has(&|l: &str| l.starts_with(&format!("{q} 0x"))),
            "no queue line for {q}\n{}",
            t.context()
        );
    }
    // OneShotTmr1 fires once, 1000 ticks after the scheduler started.
    let started = t.time_of("C Tmr Svc").expect("the timer task is created");
    let fired = t
        .time_of("timer oneshot")
        .unwrap_or_else(|| panic!("the 1 s one-shot timer did not fire\n{}", t.context()));
    assert!(
        fired >= started + 1000 * MS,
        "the 1 s one-shot timer fired {} ms after the scheduler started",
        (fired - started) / MS
    );
}

#[test]
fn freertos_example_4_shows_the_kernel_tables_rev_b() {
    freertos_example_4(Chip::RevB);
}

#[test]
fn freertos_example_4_shows_the_kernel_tables_rev_c() {
    freertos_example_4(Chip::RevC);
}

// ---- Ethernet -------------------------------------------------------------------------------

/// What Ethernet Example 1 is built with (`my_mac`, `my_ip` in its source).
const ETH1_MAC: [u8; 6] = [0x00, 0xF7, 0xD1, 0x00, 0x00, 0x01];
const ETH1_IP: [u8; 4] = [192, 168, 1, 55];
/// The pinging host on the other end of the cable.
const HOST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
const HOST_IP: [u8; 4] = [192, 168, 1, 1];

/// The Internet checksum (RFC 1071) of `bytes`.
fn inet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in bytes.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Pads a frame to Ethernet's 60-byte minimum (without FCS).
fn padded(mut f: Vec<u8>) -> Vec<u8> {
    f.resize(f.len().max(60), 0);
    f
}

/// An ARP request from the host: who has `ETH1_IP`?
fn arp_request() -> Vec<u8> {
    let mut f = vec![0xFF; 6];
    f.extend_from_slice(&HOST_MAC);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    f.extend_from_slice(&HOST_MAC);
    f.extend_from_slice(&HOST_IP);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&ETH1_IP);
    padded(f)
}

/// An ICMP echo request (ping) from the host with `payload`, identifier `id`, sequence `seq`.
fn echo_request(id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0];
    icmp.extend_from_slice(&id.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(payload);
    let c = inet_checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let total = (20 + icmp.len()) as u16;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&(0x1234 + seq).to_be_bytes());
    ip.extend_from_slice(&[0x40, 0, 64, 1, 0, 0]);
    ip.extend_from_slice(&HOST_IP);
    ip.extend_from_slice(&ETH1_IP);
    let c = inet_checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = ETH1_MAC.to_vec();
    f.extend_from_slice(&HOST_MAC);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&icmp);
    padded(f)
}

fn hex(f: &[u8]) -> String {
    f.iter()
        .take(64)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ethernet Example 1: answers ARP and ICMP echo for 192.168.1.55 with hand-built frames. The
/// host end of the cable (an in-process test link, so the run stays in virtual time) asks for
/// the device's MAC, then pings it three times; every reply must be well formed: addresses
/// swapped, checksums right, identifier, sequence and payload returned.
fn ethernet_example_1(chip: Chip) {
    let elf = build_example("Ethernet Example 1");
    let (link, host) = sim_link::test_link();
    let mut opts = RunOpts::new(chip);
    opts.eth = Some(Box::new(link));
    let mut s = Session::new(&elf, opts);
    s.expect_text("Sending gratuitous ARP\r\n");
    s.expect("the gratuitous ARP", |_| !host.sent().is_empty());
    let inject = |s: &mut Session, frame: Vec<u8>| {
        host.inject(s.now() + MS, frame);
        let now = s.m.core.cycles;
        s.m.profile.poll_eth(now);
    };

    // Who has 192.168.1.55?
    inject(&mut s, arp_request());
    s.expect("the ARP reply", |_| host.sent().len() >= 2);
    let reply = host.sent()[1].1.clone();
    let mut want = HOST_MAC.to_vec();
    want.extend_from_slice(&ETH1_MAC);
    want.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 2]);
    want.extend_from_slice(&ETH1_MAC);
    want.extend_from_slice(&ETH1_IP);
    want.extend_from_slice(&HOST_MAC);
    want.extend_from_slice(&HOST_IP);
    assert_eq!(
        &reply[..want.len()],
        &want[..],
        "ARP reply\n got  {}\n want {}",
        hex(&reply),
        hex(&want)
    );

    // Three pings, 56 bytes of payload as ping(8) sends.
    for seq in 1..=3u16 {
        let payload: Vec<u8> = (0..56u8)
            .map(|i| i.wrapping_mul(seq as u8) ^ 0x5A)
            .collect();
        let before = host.sent().len();
        inject(&mut s, echo_request(0x4242, seq, &payload));
        s.expect(&format!("the reply to ping {seq}"), |_| {
            host.sent().len() > before
        });
        let f = host.sent()[before].1.clone();
        let ctx = || format!("ping {seq} reply: {}", hex(&f));
        assert_eq!(&f[0..6], &HOST_MAC, "{}", ctx());
        assert_eq!(&f[6..12], &ETH1_MAC, "{}", ctx());
        assert_eq!(&f[12..14], &[0x08, 0x00], "{}", ctx());
        let ip = &f[14..];
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        assert_eq!(total, 20 + 8 + 56, "{}", ctx());
        assert_eq!(ip[9], 1, "protocol ICMP: {}", ctx());
        assert_eq!(&ip[12..16], &ETH1_IP, "{}", ctx());
        assert_eq!(&ip[16..20], &HOST_IP, "{}", ctx());
        assert_eq!(inet_checksum(&ip[..20]), 0, "IP header checksum: {}", ctx());
        let icmp = &ip[20..total];
        assert_eq!(icmp[0], 0, "echo reply type: {}", ctx());
        assert_eq!(inet_checksum(icmp), 0, "ICMP checksum: {}", ctx());
        assert_eq!(&icmp[4..6], &0x4242u16.to_be_bytes(), "{}", ctx());
        assert_eq!(&icmp[6..8], &seq.to_be_bytes(), "{}", ctx());
        assert_eq!(&icmp[8..], &payload[..], "{}", ctx());
    }
    s.expect_text("Sending ICMP Echo Reply\r\n");
    let t = s.transcript(ft900_sim::StopReason::Stopped);
    t.assert_all_modelled();
    t.assert_line("MAC address = 00:F7:D1:00:00:01");
    t.assert_line("IP address = 192.168.1.55");
    t.assert_line("Ethernet Link Up");
    t.assert_line("Got an ARP Packet");
    t.assert_line("Sending Reply ARP");
    t.assert_line("Got an ICMP Packet");
    // The gratuitous ARP announced the address first, to everyone.
    let g = &host.sent()[0].1;
    assert_eq!(&g[0..6], &[0xFF; 6], "gratuitous ARP: {}", hex(g));
    assert_eq!(&g[12..14], &[0x08, 0x06], "gratuitous ARP: {}", hex(g));
    assert_eq!(&g[28..32], &ETH1_IP, "gratuitous ARP: {}", hex(g));
}

#[test]
fn ethernet_example_1_answers_arp_and_ping_rev_b() {
    ethernet_example_1(Chip::RevB);
}

#[test]
fn ethernet_example_1_answers_arp_and_ping_rev_c() {
    ethernet_example_1(Chip::RevC);
}

/// A user's project in the SDK's layout (only `Sources/`, no start-up code or linker script of
/// its own, newlib's printf): sdk/build.sh builds it with the SDK's plain crt0.S and
/// ldscript.ld, and `printf` reaches UART0 through sdk/support's `_write`.
#[test]
fn a_user_project_builds_with_the_plain_startup_code_and_printf_reaches_uart0() {
    let dir = support::target_dir().join("sdk-user-project");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("Sources")).unwrap();
    std::fs::write(
        dir.join("Sources").join("main.c"),
        r#"#include <stdio.h>
#include <stdlib.h>
#include "ft900.h"

int main(void)
{
    sys_enable(sys_device_uart0);
    gpio_function(48, pad_uart0_txd);
    gpio_function(49, pad_uart0_rxd);
    uart_open(UART0, 1, UART_DIVIDER_115200_BAUD, uart_data_bits_8, uart_parity_none,
              uart_stop_bits_1);
    char *heap = malloc(1000);
    printf("hello from a user project, chip %s, heap %s\r\n",
           sys_check_ft900_revB() ? "rev B" : "rev C", heap ? "ok" : "none");
    fflush(stdout);
    for (;;) {
    }
}
"#,
    )
    .unwrap();
    let elf = vendor_support::build_with(
        dir.to_str().unwrap(),
        &vendor_support::BuildOpts {
            name: Some("user-project".into()),
            ..Default::default()
        },
    );
    for (chip, rev) in [(Chip::RevB, "rev B"), (Chip::RevC, "rev C")] {
        let mut opts = RunOpts::new(chip);
        opts.max_virtual_secs = 1;
        let t = vendor_support::run_example(&elf, opts);
        t.assert_all_modelled();
        t.assert_line(&format!("hello from a user project, chip {rev}, heap ok"));
    }
}
