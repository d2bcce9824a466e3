//! `ft900-sim`: run `ft32-elf` programs on the simulated FT32.
//!
//! A thin binary over the `ft900-sim` library (the CPU and the SoC) and `ft900-host` (UARTs and
//! the network on the host). One module per job: [`args`] parses the command line, [`machine`]
//! builds and loads the machine and its board, [`net`] cables the Ethernet port, [`observe`]
//! sets up traces and profiles, [`run`] runs and reports (statistics, exit status), [`debug`]
//! serves gdb, [`tools`] holds the `lockstep` and `provision` subcommands.

mod args;
mod debug;
mod machine;
mod net;
mod observe;
mod run;
mod tools;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// Exit status for errors of the simulator itself (bad ELF, bad options).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Lockstep(args) => tools::lockstep(&args),
        Command::Provision(args) => tools::provision(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ft900-sim: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
