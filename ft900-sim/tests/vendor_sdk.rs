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
