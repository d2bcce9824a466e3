//! The vendor's SDK examples that need a board around the chip: the MM900EV1A's I2C EEPROM
//! (I2C Master Example 1), the flash controller and a watchdog reset (Watchdog Example 1), a
//! loop-back plug on UART1 (FreeRTOS Example 1). Built with `sdk/build.sh`, run unmodified on
//! rev B and rev C, and checked against what they print on UART0 as on the board, in virtual
//! time. A missing SDK or toolchain fails these tests; they never skip.

mod support;
mod vendor_support;

use ft900_sim::board::Board;
use ft900_sim::profile::ft900::device::Device;
use ft900_sim::profile::ft900::serial::LoopbackPlug;
use vendor_support::{build_example, dump_line, Chip, RunOpts, Session, SECOND};

/// Example `name` on `chip`, on the built-in MM900EV1A board, with `secs` of virtual time.
fn on_mm900ev1a(name: &str, chip: Chip, secs: u64) -> Session {
    let elf = build_example(name);
    let mut opts = RunOpts::new(chip);
    opts.max_virtual_secs = secs;
    let mut s = Session::new(&elf, opts);
    Board::load("mm900ev1a").unwrap().attach(&mut s.m.profile);
    s
}

// ---- I2C Master Example 1 -----------------------------------------------------------------

/// I2C Master Example 1 (written for a 24LC01 at 0xA0, run on the MM900EV1A whose 24AA02E48
/// answers there on channel 1): it dumps the erased EEPROM, fills it with 0xFF, writes 0x01 to
/// every even location, then writes its text, dumping 128 bytes after each step.
fn i2c_master_example_1(chip: Chip) {
    let mut s = on_mm900ev1a("I2C Master Example 1", chip, 10);
    s.expect_text("Filling the EEPROM with example text\r\n");
    let filled = s.uart0.output().len();
    s.expect("the last dump line", |out| {
        out[filled..].matches("\r\n").count() >= 8
    });
    let t = s.transcript(ft900_sim::StopReason::Stopped);
    t.assert_all_modelled();
    t.assert_line("Reading all 128 bytes of EEPROM");
    let lines: Vec<String> = t.lines().into_iter().map(|(_, l)| l).collect();
    let dump_after = |heading: &str| -> Vec<String> {
        let i = lines
            .iter()
            .position(|l| l == heading)
            .unwrap_or_else(|| panic!("no {heading:?}\n{}", t.context()));
        lines[i + 1..i + 9].to_vec()
    };
    let erased: Vec<String> = (0..8).map(|k| dump_line(16 * k, &[0xFF; 16])).collect();
    assert_eq!(
        dump_after("Reading all 128 bytes of EEPROM"),
        erased,
        "{}",
        t.context()
    );
    assert_eq!(
        dump_after("Setting the EEPROM to 0xFF"),
        erased,
        "{}",
        t.context()
    );
    let even: Vec<u8> = (0..16).map(|i| if i % 2 == 0 { 1 } else { 0xFF }).collect();
    let evens: Vec<String> = (0..8).map(|k| dump_line(16 * k, &even)).collect();
    assert_eq!(
        dump_after("Set all even numbered locations to 0x01"),
        evens,
        "{}",
        t.context()
    );
    let lorem = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit. Aliquam interdum \
                  eros sit amet lorem pulvinar, vel posuere leo posuere.";
    assert_eq!(lorem.len(), 128);
    let text: Vec<String> = (0..8)
        .map(|k| dump_line(16 * k, &lorem[16 * k..16 * k + 16]))
        .collect();
    assert_eq!(
        dump_after("Filling the EEPROM with example text"),
        text,
        "{}",
        t.context()
    );
    // 128 + 64 + 128 byte writes, each followed by the example's 5 ms wait: at least 1.6 s.
    let done = t.time_of("0x0070: 65 72 65").expect("last line");
    assert!(
        done > 16 * SECOND / 10,
        "finished at {done} ns\n{}",
        t.context()
    );
    // The board's EEPROM keeps what was written, and its EUI-48 half untouched.
    let ch1 = s.m.profile.i2cm.buses().channel(1);
    assert_eq!(ch1.len(), 1);
}

#[test]
fn i2c_master_example_1_writes_and_reads_the_boards_eeprom_rev_b() {
    i2c_master_example_1(Chip::RevB);
}

#[test]
fn i2c_master_example_1_writes_and_reads_the_boards_eeprom_rev_c() {
    i2c_master_example_1(Chip::RevC);
}

// ---- Watchdog Example 1 -------------------------------------------------------------------

/// Watchdog Example 1: kicks the watchdog ten times, lets it expire, saves a page of "context"
/// to the DLOG partition through the flash controller in the first-level handler; the chip
/// resets (rev B: the handler reboots it with the flash controller's F2D3 command; rev C: the
/// second expiry), and the example, started again, reads the page back and prints it: every
/// byte one more than what it read at its previous start.
fn watchdog_example_1(chip: Chip) {
    let mut s = on_mm900ev1a("Watchdog Example 1", chip, 40);
    s.expect_text("WDT Kick 10\r\n");
    s.expect_text("Level 1 watchdog timeout...\n");
    s.expect("the example's start after the reset", |out| {
        out.matches("Welcome to WDT Example 1...").count() == 2
    });
    s.expect("the second start's dump", |out| {
        out.matches("Wait for 10 Seconds").count() == 2
    });
    let t = s.transcript(ft900_sim::StopReason::Stopped);
    t.assert_all_modelled();
    let second = t.text().rfind("Welcome to WDT Example 1...").unwrap();
    let after = &t.text()[second..];
    // What the saved page holds: rev B reads the image's erased page (0xFF) at its first start
    // and saves 0xFF + 1 = 0x00; rev C reads only after a watchdog reset, so its buffer is
    // still zero and it saves 0x01.
    let (reset_by, byte, seen_as) = match chip {
        Chip::RevB => (
            "chip reset by the flash controller's reboot command",
            "00",
            "last saved context on a watchdog reset:",
        ),
        Chip::RevC => (
            "chip reset by the watchdog",
            "01",
            "!!!WATCHDOG Power-On-Reset!!!",
        ),
    };
    assert!(t.diagnostics.contains(reset_by), "{}", t.context());
    assert!(after.contains(seen_as), "{}", t.context());
    let row = |k: usize| format!("0x{:02x}: {}", 16 * k, [byte; 16].join(" "));
    for k in 0..16 {
        assert!(
            after.contains(&row(k)),
            "missing {:?}\n{}",
            row(k),
            t.context()
        );
    }
    // The page went through the flash: DLOG page 1 of the partition at 0x3E000.
    let page = &s.m.profile.flash.contents()[0x3_E200..0x3_E300];
    let want = u8::from_str_radix(byte, 16).unwrap();
    assert!(page.iter().all(|&b| b == want), "flash page 1: {page:02x?}");
    assert_eq!(
        &s.m.profile.flash.contents()[0x3_E000..0x3_E004],
        &0xF7D1_D106u32.to_le_bytes(),
        "dlog_erase wrote the partition's signature"
    );
}

#[test]
fn watchdog_example_1_resets_the_chip_and_reads_its_saved_page_rev_b() {
    watchdog_example_1(Chip::RevB);
}

#[test]
fn watchdog_example_1_resets_the_chip_and_reads_its_saved_page_rev_c() {
    watchdog_example_1(Chip::RevC);
}

// ---- FreeRTOS Example 1 -------------------------------------------------------------------

/// FreeRTOS Example 1 with the loop-back plug on UART1: its check task looks at every demo
/// task each 3 s and prints a `... Failed` line when one stopped or saw an error (the comm test
/// fails without the plug); it prints nothing on success. Three checks without a failure,
/// with bytes looped through UART1, pass.
///
/// The vendor's README names a `vPortYield` bug (the stack pointer saved before interrupts are
/// masked) that may show under loop-back traffic as "Math Task Tests Failed!"; in these runs
/// (fixed seeds, virtual time) it does not occur, so the example runs unmodified.
fn freertos_example_1(chip: Chip) {
    let mut s = on_mm900ev1a("FreeRTOS Example 1", chip, 20);
    s.m.profile.uart[1].set_backend(Box::new(LoopbackPlug::new()));
    s.expect_text("Welcome to Free RTOS Test Example 1...");
    let start = s.uart0.output().len();
    s.expect("three checks of the demo tasks", |out| {
        out[start..].matches("C MEM_CHECK").count() >= 3
    });
    let t = s.transcript(ft900_sim::StopReason::Stopped);
    t.assert_all_modelled();
    assert!(
        !t.text().contains("Failed") && !t.text().contains("ERROR"),
        "{}",
        t.context()
    );
    let uart1 = s.m.profile.uart[1].stats();
    let count = |name: &str| {
        uart1
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(0, |(_, v)| *v)
    };
    assert!(count("tx-bytes") > 1000, "{uart1:?}");
    assert!(
        count("rx-bytes") + 16 >= count("tx-bytes"),
        "what UART1 sent came back: {uart1:?}"
    );
}

#[test]
fn freertos_example_1_passes_its_checks_with_the_loopback_plug_rev_b() {
    freertos_example_1(Chip::RevB);
}

#[test]
fn freertos_example_1_passes_its_checks_with_the_loopback_plug_rev_c() {
    freertos_example_1(Chip::RevC);
}
