//! Running the `ft900-sim` binary from the tests of the package that builds it (the toolchain
//! and process helpers shared with the library's tests are in `ft900-sim/tests/support`).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use crate::support;

/// The simulator under test: `$FT900_SIM_BIN` if set, else the binary cargo built for this package.
pub fn sim_binary() -> PathBuf {
    match std::env::var_os("FT900_SIM_BIN") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_ft900-sim")),
    }
}

/// Runs the `ft900-sim` binary with `args` (a wall-clock limit of `limit_secs` against hangs;
/// the program's own limits are in virtual time, e.g. `--max-insns`).
pub fn run_cli(args: &[&str], stdin: &[u8], limit_secs: u64) -> support::ProcOutput {
    let mut cmd = Command::new(sim_binary());
    cmd.args(args);
    support::run_with_timeout(
        &mut cmd,
        stdin,
        std::time::Duration::from_secs(limit_secs),
        1 << 20,
    )
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", sim_binary().display()))
}
