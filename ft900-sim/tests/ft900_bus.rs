//! The `ft900` machine's bus: what firmware sees at reset, how accesses that no model serves are
//! reported (once, with the PC) or fault in strict mode, and clock gating. Hand-assembled code,
//! no toolchain needed.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ft900_sim::profile::ft900::{ChipRevision, Ft900, Ft900Config};
use ft900_sim::{FaultKind, Machine, Profile, RunLimits, StopReason};

/// `lda.l $r0, aa`.
fn lda(aa: u32) -> u32 {
    0x18 << 27 | 2 << 25 | aa
}
/// `sta.l aa, $r1`.
fn sta_r1(aa: u32) -> u32 {
    0x17 << 27 | 2 << 25 | 1 << 20 | aa
}
/// `ldk.l $rd, k`.
fn ldk(rd: u32, k: i32) -> u32 {
    0x0C << 27 | 2 << 25 | rd << 20 | (k as u32 & 0xF_FFFF)
}
/// `sta.l 0x1fffc, $r0`: exit with status r0.
const EXIT: u32 = 0xBC01_FFFC;

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);
impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn machine(code: &[u32], strict: bool) -> (Machine<Ft900>, Sink) {
    machine_on(code, strict, ChipRevision::default())
}

fn machine_on(code: &[u32], strict: bool, chip: ChipRevision) -> (Machine<Ft900>, Sink) {
    let mut profile = Ft900::new(Ft900Config {
        chip,
        strict,
        ..Ft900Config::default()
    });
    let sink = Sink::default();
    profile.set_diagnostics(Box::new(sink.clone()));
    let mut m = Machine::with_standard_memory(profile);
    for (i, w) in code.iter().enumerate() {
        m.mem_write(4 * i as u32, &w.to_le_bytes()).unwrap();
    }
    let Machine { core, profile, .. } = &mut m;
    profile.reset(core, 0);
    (m, sink)
}

#[test]
fn firmware_reads_the_chip_id_at_reset() {
    // Rev C by default (what is sold today), rev B on request.
    let (mut m, _) = machine(&[lda(0x1_0000), EXIT], false);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0x0900_0002));
    let (mut m, _) = machine_on(&[lda(0x1_0000), EXIT], false, ChipRevision::Ft900RevB);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0x0900_0001));
}

#[test]
fn each_revision_has_its_own_rtc_and_the_other_is_reported() {
    // Rev C: the calendar at 0x10900 answers (RTC_CTRL = RTCEN at power-on), the legacy
    // counter at 0x10280 does not exist.
    let (mut m, sink) = machine(&[lda(0x1_0280), lda(0x1_0910), EXIT], false);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(1));
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("unmodelled read of 0x10280 (rtc-legacy (rev B only), 4 bytes)"),
        "{text}"
    );
    // Rev B: the counter answers (COMP_VERSION), the calendar does not exist.
    let (mut m, sink) = machine_on(
        &[lda(0x1_0910), lda(0x1_029C), EXIT],
        false,
        ChipRevision::Ft900RevB,
    );
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0x3230_332A));
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("unmodelled read of 0x10910 (rtc-calendar (rev C only), 4 bytes)"),
        "{text}"
    );
}

#[test]
fn unmodelled_accesses_are_reported_once_with_the_pc() {
    // Two reads of the USB host block at different PCs, a write to it, then exit.
    let code = [
        lda(0x1_0104),
        lda(0x1_0104),
        ldk(1, 7),
        sta_r1(0x1_0104),
        ldk(0, 0),
        EXIT,
    ];
    let (mut m, sink) = machine(&code, false);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    let seen = m.profile.unmodelled_accesses();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].addr, seen[0].write, seen[0].pc),
        (0x1_0104, false, 0x0)
    );
    assert_eq!(seen[0].block, "usb-host");
    assert_eq!(
        (seen[1].addr, seen[1].write, seen[1].pc),
        (0x1_0104, true, 0xC)
    );
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains("unmodelled read of 0x10104 (usb-host, 4 bytes) at pc 0x00000000"),
        "{text}"
    );
}

#[test]
fn strict_mode_turns_an_unmodelled_access_into_a_fault_at_its_pc() {
    let (mut m, _) = machine(&[ldk(0, 1), lda(0x1_0240), EXIT], true);
    match m.run(RunLimits::default()) {
        StopReason::Fault(f) => {
            assert_eq!(f.pc, 4);
            assert_eq!(f.kind, FaultKind::IoRead { addr: 0x1_0240 });
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn a_peripheral_without_its_clock_does_not_respond() {
    // UART0 LSR (0x10325) reads 0x60 when clocked; with CLKCFG bit 4 clear it reads 0 and the
    // access is reported.
    let lsr = 0x1_0325 & !3;
    let (mut m, _) = machine(&[lda(lsr), EXIT], false);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    let seen = m.profile.unmodelled_accesses();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].block.contains("clock off"), "{seen:?}");

    let code = [ldk(1, 1 << 4), sta_r1(0x1_0008), lda(lsr), EXIT];
    let (mut m, _) = machine(&code, false);
    // Byte 1 of the word at 0x10324 is LSR (0x10325) = 0x60 after reset.
    match m.run(RunLimits::default()) {
        StopReason::Exited(v) => assert_eq!((v >> 8) & 0xFF, 0x60, "{v:#x}"),
        other => panic!("{other:?}"),
    }
    assert!(m.profile.unmodelled_accesses().is_empty());
}

#[test]
fn holes_in_the_map_are_reported_too() {
    let (mut m, _) = machine(&[lda(0x1_5000), EXIT], false);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    assert_eq!(
        m.profile.unmodelled_accesses()[0].block,
        "no peripheral here"
    );
}

/// `OP.dw $rd, $r1, $r2` of the fast function unit (the stream operations among them).
fn ffu(op: u32, dw: u32, rd: u32, r1: u32, r2: u32) -> u32 {
    0x1E << 27 | dw << 25 | rd << 20 | r1 << 15 | r2 << 4 | op
}

#[test]
fn stream_operations_move_memory_on_the_ft900() {
    // The reference simulator (gdb 13) implements only streamout; the FT900 has all four.
    // Destination $rd, source $r1, byte count $r2; `in` keeps the source fixed (a FIFO register
    // read repeatedly), `out` the destination, the `i` forms move both.
    const STREAMIN: u32 = 12;
    const STREAMINI: u32 = 13;
    const STREAMOUT: u32 = 14;
    const STREAMOUTI: u32 = 15;
    let code = [
        ldk(1, 0x100),
        ldk(2, 0x200),
        ldk(3, 8),
        ffu(STREAMIN, 2, 2, 1, 3), // streamin.l: 0x200, 0x204 <- word at 0x100
        ldk(1, 0x180),
        ldk(2, 0x300),
        ldk(3, 5),
        ffu(STREAMINI, 0, 2, 1, 3), // streamini.b: 0x300.. <- "ABCDE"
        ldk(2, 0x400),
        ldk(3, 4),
        ffu(STREAMOUT, 1, 2, 1, 3), // streamout.h: 0x400 <- "AB" then "CD"
        ldk(1, 0x181),
        ldk(2, 0x500),
        ldk(3, 3),
        ffu(STREAMOUTI, 0, 2, 1, 3), // streamouti.b: 0x500.. <- "BCD"
        ldk(0, 0),
        EXIT,
    ];
    let (mut m, _) = machine(&code, true);
    const RAM: u32 = 0x80_0000;
    m.mem_write(RAM + 0x100, &0x1122_3344u32.to_le_bytes())
        .unwrap();
    m.mem_write(RAM + 0x180, b"ABCDEFGH").unwrap();
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    let read = |addr: u32, n: usize| {
        let mut b = vec![0u8; n];
        m.mem_read(RAM + addr, &mut b).unwrap();
        b
    };
    assert_eq!(
        read(0x200, 8),
        [0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11]
    );
    assert_eq!(read(0x300, 6), b"ABCDE\0");
    assert_eq!(read(0x400, 3), b"CD\0");
    assert_eq!(read(0x500, 4), b"BCD\0");
}

/// Reset vector `jmp 0x3fffc` (the SDK's crt0: into the bootloader), then at the program entry
/// 0x8c: count the entries in RAM word 0x100; on the first, restart through the bootloader's
/// reset entry (`jmp 0x3fffc`); on the second, exit with the count (2). `jump_elsewhere` puts a
/// `jmp 0x3f800` (into the bootloader area, not an entry) at 0x8c instead.
fn bootloader_machine(strict: bool, jump_elsewhere: bool) -> (Machine<Ft900>, Sink) {
    let (mut m, sink) = machine(&[0x0030_FFFF], strict);
    let entry: &[u32] = if jump_elsewhere {
        &[0x0030_FE00]
    } else {
        &[
            0xC400_0100, // lda.l $r0, 0x100
            0x4400_4010, // add.l $r0, $r0, 1
            0xBC00_0100, // sta.l 0x100, $r0
            0x5DE0_4022, // cmp.l $r0, 2
            0x0028_0029, // jmpc z, 0xa4
            0x0030_FFFF, // jmp 0x3fffc
            EXIT,        // 0xa4
        ]
    };
    for (i, w) in entry.iter().enumerate() {
        m.mem_write(0x8C + 4 * i as u32, &w.to_le_bytes()).unwrap();
    }
    let Machine { core, profile, .. } = &mut m;
    profile.reset(core, 0);
    (m, sink)
}

#[test]
fn without_a_bootloader_reset_enters_the_program_and_a_restart_through_it_is_reported() {
    let (mut m, sink) = bootloader_machine(false, false);
    assert_eq!(
        m.core.pc, 0x8C,
        "reset vector leads to an empty bootloader area"
    );
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(2));
    let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        log.matches("jump to the bootloader's reset entry 0x3fffc")
            .count(),
        1,
        "{log}"
    );
}

#[test]
fn strict_mode_stops_at_a_jump_into_the_bootloader_area() {
    let (mut m, _) = bootloader_machine(true, false);
    match m.run(RunLimits::default()) {
        StopReason::Fault(f) => {
            assert_eq!(f.kind, FaultKind::BootloaderArea);
            assert_eq!(f.pc, 0x3_FFFC);
            assert!(f.kind.to_string().contains("bootloader area"), "{}", f.kind);
        }
        other => panic!("expected a bootloader-area fault, got {other:?}"),
    }
}

#[test]
fn a_jump_elsewhere_into_the_bootloader_area_always_faults() {
    for strict in [false, true] {
        let (mut m, _) = bootloader_machine(strict, true);
        match m.run(RunLimits::default()) {
            StopReason::Fault(f) => {
                assert_eq!(
                    (f.kind, f.pc),
                    (FaultKind::BootloaderArea, 0x3_F800),
                    "{strict}"
                );
            }
            other => panic!("strict {strict}: expected a fault, got {other:?}"),
        }
    }
}

#[test]
fn an_image_with_its_own_bootloader_runs_it_and_is_reported() {
    // Reset vector into the area, where this image has code: at 0x3fffc `jmp 0x3fff0`, there
    // `ldk.l $r0, 9` and exit.
    let (mut m, sink) = machine(&[0x0030_FFFF], true);
    m.mem_write(0x3_FFF0, &ldk(0, 9).to_le_bytes()).unwrap();
    m.mem_write(0x3_FFF4, &EXIT.to_le_bytes()).unwrap();
    m.mem_write(0x3_FFFC, &0x0030_FFFC_u32.to_le_bytes())
        .unwrap();
    let Machine { core, profile, .. } = &mut m;
    profile.reset(core, 0);
    assert_eq!(
        m.core.pc, 0,
        "a present bootloader is entered through the reset vector"
    );
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(9));
    let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("puts code into the bootloader area"), "{log}");
}

#[test]
fn a_wide_write_to_the_flash_controller_is_reported() {
    // The flash controller (AN_324 section 23) takes byte accesses only: a 32-bit write of the
    // word holding its command register (0x10809) is reported with the PC, and strict mode
    // stops.
    let code = [ldk(1, 0xFE00), sta_r1(0x1_0808), ldk(0, 0), EXIT];
    let (mut m, sink) = machine(&code, false);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    let seen = m.profile.unmodelled_accesses();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (
            seen[0].addr,
            seen[0].write,
            seen[0].pc,
            seen[0].block.as_str()
        ),
        (0x1_0808, true, 0x4, "flash-controller")
    );
    let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("flash-controller"), "{log}");
    let (mut m, _) = machine(&code, true);
    match m.run(RunLimits::default()) {
        StopReason::Fault(f) => {
            assert_eq!((f.kind, f.pc), (FaultKind::IoWrite { addr: 0x1_0808 }, 0x4))
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

/// `sta.b aa, $r1`.
fn sta_b_r1(aa: u32) -> u32 {
    0x17 << 27 | 1 << 20 | aa
}

#[test]
fn a_flash_program_into_the_bootloader_area_is_refused_and_stops_in_strict_mode() {
    // FSADDR = 0x3F000, BLENGTH 0 (one byte), COMMAND = D2F1 (RAM to flash).
    let code = [
        ldk(1, 0xF0),
        sta_b_r1(0x1_0804),
        ldk(1, 3),
        sta_b_r1(0x1_0805),
        ldk(1, 0xF8),
        sta_b_r1(0x1_0809),
        ldk(0, 0),
        EXIT,
    ];
    let (mut m, sink) = machine(&code, false);
    let before = m.profile.flash.contents()[0x3_F000];
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    assert_eq!(m.profile.flash.contents()[0x3_F000], before);
    let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains(
            "program of flash 0x3f000..0x3f001 at pc 0x00000014 reaches the bootloader area"
        ),
        "{log}"
    );
    let (mut m, _) = machine(&code, true);
    match m.run(RunLimits::default()) {
        StopReason::Fault(f) => assert_eq!(
            (f.kind, f.pc),
            (FaultKind::BootloaderWrite { addr: 0x3_F000 }, 0x14)
        ),
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn gpio_pins_and_a_boards_led_show_in_monitor_io_gpio_and_to_an_observer() {
    use ft900_sim::board::Board;
    use ft900_sim::gdb::monitor::device_command;
    // GPIO18 as an output (its nibble in 0x10069), then GPIO_VALUE0 bit 18 set, then cleared.
    let code = [
        ldk(1, 0x04),
        sta_b_r1(0x1_0069),
        ldk(1, 1 << 18),
        sta_r1(0x1_0084),
        ldk(1, 0),
        sta_r1(0x1_0084),
        ldk(0, 0),
        EXIT,
    ];
    let (mut m, _) = machine(&code, false);
    let board = Board::parse(
        "name = \"t\"\n[[led]]\nname = \"LED1\"\npin = 18\n",
        "test board",
    )
    .unwrap();
    board.attach(&mut m.profile);
    let changes = Arc::new(Mutex::new(Vec::new()));
    let seen = changes.clone();
    m.profile.gpio.observe(Box::new(move |c| {
        seen.lock().unwrap().push((c.cycle, c.describe()))
    }));
    let monitor = |m: &Machine<Ft900>| {
        device_command(m.profile.inspect(), "ft900", &m.core, &["io", "gpio"]).unwrap()
    };
    assert!(
        monitor(&m)
            .iter()
            .any(|l| l == "gpio18 input  LED1 not driven"),
        "{:?}",
        monitor(&m)
    );
    let limits = |n| RunLimits {
        max_insns: Some(n),
        ..RunLimits::default()
    };
    m.run(limits(4));
    let lines = monitor(&m);
    assert!(
        lines.iter().any(|l| l == "gpio18 output 1  LED1 on"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("GPIO_VALUE0") && l.ends_with("00040000")),
        "{lines:?}"
    );
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    let changes = changes.lock().unwrap().clone();
    let text: Vec<&str> = changes.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(
        text,
        [
            "gpio18 input -> output 0 (LED1 off)",
            "gpio18 output 0 -> output 1 (LED1 on)",
            "gpio18 output 1 -> output 0 (LED1 off)"
        ]
    );
    assert!(
        changes.windows(2).all(|w| w[0].0 < w[1].0),
        "virtual times increase: {changes:?}"
    );
}
