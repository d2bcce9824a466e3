//! The `lockstep` and `provision` subcommands.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ft900_sim::elf::LoadPolicy;
use ft900_sim::lockstep::{describe, run_lockstep_detailed, LockstepConfig};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::provision::ConfigBlock;
use ft900_sim::{Machine, Profile};

use crate::args::{LockstepArgs, ProvisionArgs};
use crate::machine::{config_block, load_program};

/// `ft900-sim provision`: the block's bytes into a file.
pub fn provision(args: &ProvisionArgs) -> Result<u8> {
    if args.list_keys {
        print!("{}", ConfigBlock::key_help());
        return Ok(0);
    }
    let block = config_block(&args.config, args.config_file.as_deref())?.unwrap_or_default();
    let bytes = block.encode()?;
    let out = args.out.as_ref().expect("clap requires --out");
    std::fs::write(out, &bytes).with_context(|| format!("{}: cannot write", out.display()))?;
    eprintln!(
        "config: {} bytes for PM 0x{:05x} written to {}: {}",
        bytes.len(),
        ConfigBlock::ADDRESS,
        out.display(),
        block.summary()
    );
    Ok(0)
}

/// Where a tool of the ft32-elf toolchain is: `$FT32_TOOLCHAIN/bin`, else the `PATH`.
fn toolchain_tool(name: &str) -> PathBuf {
    if let Some(prefix) = std::env::var_os("FT32_TOOLCHAIN") {
        let p = Path::new(&prefix).join("bin").join(name);
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// `ft900-sim lockstep`: exit status 0 when both simulators agree, 1 at a divergence.
pub fn lockstep(args: &LockstepArgs) -> Result<u8> {
    let program = load_program(&args.program)?;
    // Same state as gdb's `run`: loaded at the VMAs, console input at EOF, output discarded.
    let profile = GdbSim::new(
        Box::new(std::io::sink()),
        Box::new(std::io::empty()),
        Box::new(std::io::sink()),
    );
    let mut machine = Machine::with_standard_memory(profile);
    program
        .load_into(&mut machine.core, LoadPolicy::Vma)
        .with_context(|| format!("{}", args.program.display()))?;
    machine.profile.reset(&mut machine.core, program.entry);
    let gdb = args
        .gdb
        .clone()
        .unwrap_or_else(|| toolchain_tool("ft32-elf-gdb"));
    let mut config = LockstepConfig::new(gdb);
    config.max_steps = args.max_steps;
    let run = run_lockstep_detailed(&args.program, &config, &mut machine)?;
    let objdump = toolchain_tool("ft32-elf-objdump");
    print!("{}", describe(&run, &args.program, Some(&objdump)));
    Ok(if run.outcome.agrees() { 0 } else { 1 })
}
