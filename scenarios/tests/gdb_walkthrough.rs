//! The README's "step-debug the DynamoDB client" walkthrough, as a test: a scenario run with
//! `--gdb` halts the device at reset; `ft32-elf-gdb` (batch mode, the README's commands) breaks
//! in the SigV4 signer, reads its arguments, steps through its lines with `next`, runs to its
//! end with `finish` and reads the returned value, watches a global of the application and
//! continues to the write (old and new value), reads the backtrace and registers and detaches;
//! then the upload completes and every expectation of the scenario is met.
//!
//! The firmware is the debug build (`make -C firmware debug`): gdb 13 cannot unwind the frames
//! of the -Os product build (see `firmware/Makefile`), which `finish` and `bt` need.

mod fwbuild;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The README's gdb session, command for command.
const SCRIPT: &str = "\
set pagination off
set confirm off
set print entry-values no
break sigv4_sign
continue
info args
print req->method
print req->path
next
next
finish
delete
watch app.acked
continue
bt
info registers pc sp fp
delete
detach
";

#[test]
fn gdb_steps_through_an_upload_and_the_upload_still_completes() {
    let elf = fwbuild::debug_firmware();
    let root = fwbuild::workspace_root();
    let out_dir = fwbuild::target_dir().join("gdb-walkthrough");

    let mut sim = Command::new(env!("CARGO_BIN_EXE_scenarios"))
        .args(["run", "--progress", "0", "--gdb", "0", "--firmware"])
        .arg(&elf)
        .arg("--out")
        .arg(&out_dir)
        .arg(root.join("scenarios/single-device.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // "gdb: listening on 127.0.0.1:PORT" names the port the stub picked.
    let mut stderr = BufReader::new(sim.stderr.take().unwrap());
    let mut port = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(addr) = line.trim().strip_prefix("gdb: listening on ") {
            port = addr.rsplit(':').next().map(str::to_string);
            break;
        }
        line.clear();
    }
    let port = port.expect("the runner did not say where gdb listens");
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));

    let gdb = fwbuild::toolchain_prefix().join("bin/ft32-elf-gdb");
    let out = Command::new(&gdb)
        .args(["-nx", "-batch", "-ex"])
        .arg(format!("target remote 127.0.0.1:{port}"))
        .args(SCRIPT.lines().flat_map(|c| ["-ex", c]))
        .arg(&elf)
        // Source paths in the ELF are relative to the repository (-ffile-prefix-map).
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", gdb.display()));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let sim_out = sim.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&sim_out.stdout).into_owned();
    let context = format!("--- gdb ---\n{text}\n--- scenario ---\n{report}");

    // In the order gdb prints them.
    let expected = [
        // break, continue, info args, print
        "Breakpoint 1, sigv4_sign (req=0x80",
        "req = 0x80",
        "$1 = 0x80",
        "\"POST\"",
        "$2 = 0x80",
        "\"/\"",
        // next, next: the first lines of the body
        "sigv4_sign (req=0x80",
        "at firmware/aws/sigv4.c:",
        // finish: back in the caller, with the signer's result (SIGV4_OK)
        "in attempt (",
        "at firmware/aws/dynamodb.c:",
        "Value returned is $3 = 0",
        // watch a global, continue to the write
        "Hardware watchpoint 2: app.acked",
        "Old value = 0",
        "New value = 1",
        // bt: the watchpoint stopped in upload(), called by main()
        "#0  upload () at firmware/app/main.c:",
        "#1  0x",
        "in main () at firmware/app/main.c:",
        // registers
        "pc             0x",
        "sp             0x",
        "fp             0x",
        "[Inferior 1 (process 1) detached]",
    ];
    let mut from = 0;
    for needle in expected {
        match text[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("gdb output lacks {needle:?} (after byte {from})\n{context}"),
        }
    }
    // Each `next` printed a new source line (`N<tab>text`) of the signer before `finish`.
    let stepping = &text[text.find("$2 = ").unwrap_or(0)..text.find("in attempt (").unwrap_or(0)];
    let lines: Vec<u32> = stepping
        .lines()
        .filter_map(|l| l.split_once('\t')?.0.parse().ok())
        .collect();
    assert!(
        lines.len() == 2 && lines[0] < lines[1],
        "`next` did not step through two lines: {lines:?}\n{context}"
    );
    assert!(
        !text.contains("__prolog") && !text.contains("corrupt stack"),
        "gdb lost the frame\n{context}"
    );
    assert!(
        sim_out.status.success(),
        "the scenario failed after detach\n{context}"
    );
    assert!(
        report.contains("ok   5 items, every (deviceId, seq) for 1..=5 exactly once"),
        "{context}"
    );
}
