//! Building the machine the options describe: the gdb-sim profile or the FT900 chip with its
//! board (silicon revision, I2C devices, LEDs) and UART plugs, then loading the program and the
//! device configuration block.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use ft900_host::serial;
use ft900_sim::board::Board;
use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::device::Device;
use ft900_sim::profile::ft900::serial::SerialSpec;
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::provision::{self, ConfigBlock};
use ft900_sim::trace::Trace;
use ft900_sim::{Machine, Profile};

use crate::args::RunArgs;

/// Reads and parses the ELF file, naming it in errors.
pub fn load_program(path: &Path) -> Result<Program> {
    Program::read_file(path).with_context(|| format!("{}", path.display()))
}

/// The RTC's start time: `--rtc-start`, else the host's clock now.
pub fn rtc_start(args: &RunArgs) -> u32 {
    match args.rtc_start {
        Some(s) => s,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0),
    }
}

/// The FT900 chip per the options and the board around it: its revision, the board's devices,
/// each UART on the host end its plug names (`--uart0/1` over the board's), GPIO changes to
/// the trace. Says on stderr what the board is and where each UART is connected.
pub fn ft900(
    args: &RunArgs,
    board: Option<&Board>,
    rtc_start: u32,
    trace: Option<&Trace>,
) -> Result<Ft900> {
    let chip = args.chip.or(board.map(|b| b.chip)).unwrap_or_default();
    let mut profile = Ft900::new(Ft900Config {
        chip,
        rtc_start_seconds: rtc_start,
        strict: args.strict,
    });
    let mut plugs = [SerialSpec::Stdio, SerialSpec::None];
    if let Some(b) = board {
        plugs = b.uarts.clone();
        b.attach(&mut profile);
        for line in b.summary(chip) {
            eprintln!("{line}");
        }
    }
    for (i, arg) in [&args.uart0, &args.uart1].into_iter().enumerate() {
        if let Some(spec) = arg {
            plugs[i] = spec.clone();
        }
    }
    profile.uart[0].set_backend(serial::open(&plugs[0]).context("--uart0")?);
    profile.uart[1].set_backend(serial::open(&plugs[1]).context("--uart1")?);
    if let Some(observer) = trace.and_then(|t| t.gpio_observer()) {
        profile.gpio.observe(observer);
    }
    for uart in &profile.uart {
        if let Some(where_) = uart.backend().describe() {
            eprintln!("{}: {where_}", uart.name());
        }
    }
    Ok(profile)
}

/// binutils-gdb's reference simulator conventions on the process's standard streams.
pub fn gdbsim(args: &RunArgs) -> Result<GdbSim> {
    if !args.config.is_empty() || args.config_file.is_some() {
        anyhow::bail!("--config and --config-file need --machine ft900");
    }
    if let Some(chip) = args.chip {
        anyhow::bail!("--chip {chip} needs --machine ft900");
    }
    // Under gdb, console output must show up while the program is halted.
    let stdout: Box<dyn Write + Send> = if args.gdb.is_some() {
        Box::new(std::io::stdout())
    } else {
        Box::new(BufWriter::with_capacity(1 << 16, std::io::stdout()))
    };
    Ok(GdbSim::new(
        stdout,
        Box::new(std::io::stdin()),
        Box::new(std::io::stderr()),
    ))
}

/// A machine of `profile` with the program loaded per `policy` (and, with `config`, the
/// configuration block written into flash), reset to the program's entry.
pub fn load<P: Profile>(
    profile: P,
    program: &Program,
    policy: LoadPolicy,
    args: &RunArgs,
    config: Option<&ConfigBlock>,
) -> Result<Machine<P>> {
    let mut machine = Machine::with_standard_memory(profile);
    program
        .load_into(&mut machine.core, policy)
        .with_context(|| format!("{}", args.program.display()))?;
    if let Some(block) = config {
        let len = provision::write_into(&mut machine, block)
            .with_context(|| format!("{}", args.program.display()))?;
        eprintln!(
            "config: {len} bytes at PM 0x{:05x}: {}",
            ConfigBlock::ADDRESS,
            block.summary()
        );
    }
    machine.profile.reset(&mut machine.core, program.entry);
    Ok(machine)
}

/// The configuration block from `--config-file` then `--config` items; `None` if neither.
pub fn config_block(items: &[String], file: Option<&Path>) -> Result<Option<ConfigBlock>> {
    if items.is_empty() && file.is_none() {
        return Ok(None);
    }
    let mut block = ConfigBlock::new();
    if let Some(file) = file {
        block.insert_file(file).context("--config-file")?;
    }
    for item in items {
        block.insert_pair(item).context("--config")?;
    }
    Ok(Some(block))
}
