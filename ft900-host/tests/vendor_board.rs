//! The vendor's SDK examples on a board through the `ft900-sim` binary: `--board` errors and
//! board files on the command line. (The examples on the library's machine are in
//! `ft900-sim/tests/vendor_board.rs`.) A missing SDK or toolchain fails these tests; they never
//! skip.

mod cli;
#[path = "../../ft900-sim/tests/support/mod.rs"]
mod support;
#[path = "../../ft900-sim/tests/vendor_support/mod.rs"]
mod vendor_support;

use vendor_support::{build_example, dump_line};

// ---- the command line ---------------------------------------------------------------------

/// `--board` with a name that is no board, and with a file that is not a board, ends with a
/// one-line error naming what is wrong (exit 2), before anything runs; a good board file and
/// `--trace gpio` are taken.
#[test]
fn the_cli_refuses_bad_boards_with_a_clear_message() {
    let elf = build_example("I2C Master Example 1");
    let elf = elf.to_str().unwrap();
    let out = cli::run_cli(
        &["run", "--machine", "ft900", "--board", "no-such-board", elf],
        b"",
        60,
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.and_then(|s| s.code()), Some(2), "{err}");
    assert!(
        err.contains("no board \"no-such-board\"") && err.contains("mm900ev1a"),
        "{err}"
    );

    let dir = support::target_dir().join("vendor_board");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad-board.toml");
    std::fs::write(
        &bad,
        "name = \"b\"\n[[i2c]]\nchannel = 3\npart = \"24LC01\"\naddress = 0x50\n",
    )
    .unwrap();
    let out = cli::run_cli(
        &[
            "run",
            "--machine",
            "ft900",
            "--board",
            bad.to_str().unwrap(),
            elf,
        ],
        b"",
        60,
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.and_then(|s| s.code()), Some(2), "{err}");
    assert!(err.contains("i2c device 1: channel 3"), "{err}");

    let out = cli::run_cli(&["run", "--board", "mm900ev1a", elf], b"", 60);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("--board puts a board around the FT900"),
        "{err}"
    );

    // A board file of our own: the EEPROM on channel 1 with a given EUI-48, GPIO traced; the
    // example's first dump comes out on UART0 (a file) within 100 M instructions.
    let good = dir.join("good-board.toml");
    std::fs::write(
        &good,
        "name = \"mine\"\nchip = \"ft900-revb\"\nuart1 = \"loopback\"\n[[i2c]]\nchannel = 1\n\
         part = \"24AA02E48\"\naddress = 0x50\neui48 = \"00:04:a3:00:00:01\"\n",
    )
    .unwrap();
    let uart0 = dir.join("uart0.txt");
    let uart0_arg = format!("file:{}", uart0.display());
    let out = cli::run_cli(
        &[
            "run",
            "--machine",
            "ft900",
            "--board",
            good.to_str().unwrap(),
            "--uart0",
            &uart0_arg,
            "--trace",
            "gpio",
            "--max-insns",
            "100000000",
            elf,
        ],
        b"",
        120,
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("board mine: ft900-revb"), "{err}");
    assert!(err.contains("EUI-48 00:04:a3:00:00:01 at 0xfa"), "{err}");
    assert!(err.contains("uart1: loop-back plug"), "{err}");
    let text = std::fs::read_to_string(&uart0).unwrap();
    assert!(text.contains(&dump_line(0, &[0xFF; 16])), "{text}\n{err}");
}
