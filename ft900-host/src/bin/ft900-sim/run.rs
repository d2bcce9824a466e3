//! The `run` subcommand: checks the options against each other, builds the machine, runs it
//! (free, paced to the wall clock, or under gdb), and reports: statistics, the profile, how
//! the guest stopped, and the exit status.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ft900_host::netopts::NetKind;
use ft900_sim::board::Board;
use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::gdb::Outcome;
use ft900_sim::profile::ft900::cycles_to_ns;
use ft900_sim::realtime::run_paced;
use ft900_sim::trace::Trace;
use ft900_sim::{report, Engine, Machine, Profile, RunLimits, Signal, StopReason};
use net_bridge::Pacer;

use crate::args::{LoadKind, MachineKind, RunArgs, TraceKind};
use crate::{debug, machine, net, observe};

/// Exit status when `--max-insns` is reached.
const EXIT_LIMIT: u8 = 125;
/// Exit status when gdb kills the program (128 + SIGKILL, as a shell reports a killed process).
const EXIT_KILLED: u8 = 137;

/// `ft900-sim run`: the guest's exit status, or 128 + a signal, or [`EXIT_LIMIT`].
pub fn run(args: &RunArgs) -> Result<u8> {
    let program = machine::load_program(&args.program)?;
    let trace = observe::make_trace(args, &program)?;
    let board = match &args.board {
        Some(_) if matches!(args.machine, MachineKind::GdbSim) => {
            anyhow::bail!("--board puts a board around the FT900: add --machine ft900")
        }
        Some(name) => Some(Board::load(name)?),
        None => None,
    };
    let eth = net::kind(args, board.as_ref());
    let net_realtime = matches!(eth, NetKind::Tap(_));
    check_trace_kinds(args, trace.as_ref(), &eth)?;
    let default_load = match args.machine {
        MachineKind::GdbSim => LoadKind::Vma,
        MachineKind::Ft900 => LoadKind::Rom,
    };
    let policy = args.load.unwrap_or(default_load).policy();
    let realtime = args.realtime || net_realtime;
    match args.machine {
        MachineKind::Ft900 => {
            let rtc_start = machine::rtc_start(args);
            let mut profile = machine::ft900(args, board.as_ref(), rtc_start, trace.as_ref())?;
            let network = net::attach(&mut profile, args, eth, rtc_start, trace.as_ref())?;
            let config = machine::config_block(&args.config, args.config_file.as_deref())?;
            let mut m = machine::load(profile, &program, policy, args, config.as_ref())?;
            let code = execute(&mut m, &program, policy, args, trace.as_ref(), realtime)?;
            m.profile.flush();
            if args.stats {
                for (block, counters) in m.profile.stats() {
                    if counters.is_empty() {
                        continue;
                    }
                    let list: Vec<String> =
                        counters.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    eprintln!("stats: {block:<7} {}", list.join(", "));
                }
                for line in network.stats_lines() {
                    eprintln!("{line}");
                }
            }
            Ok(code)
        }
        MachineKind::GdbSim => {
            let profile = machine::gdbsim(args)?;
            let mut m = machine::load(profile, &program, policy, args, None)?;
            let code = execute(&mut m, &program, policy, args, trace.as_ref(), realtime)?;
            m.profile
                .flush()
                .context("writing the guest's console output")?;
            Ok(code)
        }
    }
}

/// `--trace gpio` and `--trace eth` need a machine (and a network) that has them.
fn check_trace_kinds(args: &RunArgs, trace: Option<&Trace>, eth: &NetKind) -> Result<()> {
    if trace.is_none() {
        return Ok(());
    }
    if args.trace.contains(&TraceKind::Gpio) {
        if let MachineKind::GdbSim = args.machine {
            anyhow::bail!("--trace gpio: the gdb-sim machine has no GPIO pins")
        }
    }
    if args.trace.contains(&TraceKind::Eth) {
        match args.machine {
            MachineKind::GdbSim => {
                anyhow::bail!("--trace eth: the gdb-sim machine has no Ethernet")
            }
            MachineKind::Ft900 if matches!(eth, NetKind::None) => {
                anyhow::bail!("--trace eth needs a network: add --eth user or --eth loopback")
            }
            MachineKind::Ft900 => {}
        }
    }
    Ok(())
}

/// Runs a loaded machine per the options (under gdb with `--gdb`), reports the outcome, and
/// returns the exit status.
fn execute<P: Profile>(
    m: &mut Machine<P>,
    program: &Program,
    policy: LoadPolicy,
    args: &RunArgs,
    trace: Option<&Trace>,
    realtime: bool,
) -> Result<u8> {
    m.set_engine(args.engine.map_or(m.engine(), Engine::from))
        .context("--engine")?;
    if let Some(trace) = trace {
        trace.install(m);
    }
    let profiler = observe::install_profiler(m, args, program)?;
    let started = Instant::now();
    let limits = RunLimits {
        max_insns: args.max_insns,
        ..RunLimits::default()
    };
    let stop = match &args.gdb {
        None if realtime => run_paced(m, limits, &mut Pacer::wall(cycles_to_ns(m.core.cycles))),
        None => m.run(limits),
        Some(spec) => match debug::serve(m, program, policy, spec, args.gdb_wait, realtime)? {
            Outcome::Finished(stop) => stop,
            Outcome::Killed => return Ok(EXIT_KILLED),
        },
    };
    let elapsed = started.elapsed();
    if let Some(trace) = trace {
        trace.finish().context("--trace")?;
    }
    if let (Some(profiler), Some(path)) = (&profiler, &args.profile) {
        observe::write_profile(m, profiler, args, path)?;
    }
    if args.stats {
        print_stats(m, elapsed);
    }
    Ok(exit_status(m, program, stop))
}

/// `--stats`: instructions, cycles, host time and speed; idle cycles skipped; JIT blocks.
fn print_stats<P: Profile>(m: &Machine<P>, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    eprintln!(
        "stats: {} instructions, {} cycles ({:.6} s virtual at 100 MHz), {:.3} s host time, {:.1} MIPS",
        m.core.insns,
        m.core.cycles,
        m.core.cycles as f64 / 1e8,
        secs,
        m.core.insns as f64 / secs.max(1e-9) / 1e6
    );
    if m.idle_cycles() > 0 {
        eprintln!(
            "stats: idle    {} cycles ({:.1}%) skipped in `jmp .` loops rather than executed",
            m.idle_cycles(),
            100.0 * m.idle_cycles() as f64 / m.core.cycles.max(1) as f64
        );
    }
    if m.engine() == Engine::Jit {
        eprintln!("stats: jit     {} blocks compiled", m.jit_blocks_compiled());
    }
}

/// The process's exit status for how the guest stopped, explaining anything but an exit on
/// stderr.
fn exit_status<P: Profile>(m: &Machine<P>, program: &Program, stop: StopReason) -> u8 {
    let symbols = &program.symbols;
    match stop {
        StopReason::Exited(status) => status as u8,
        StopReason::Fault(fault) => {
            eprint!("{}", report::fault(m, &fault, symbols));
            128 + fault.kind.signal() as u8
        }
        StopReason::Breakpoint(pc) => {
            eprintln!(
                "guest stopped: breakpoint instruction (call 8) at {pc:#010x} ({}), SIGTRAP",
                symbols.describe_code(pc)
            );
            128 + Signal::Trap as u8
        }
        StopReason::Halted(pc) => {
            // The reference simulator has no halt and stops with SIGILL there.
            eprintln!(
                "guest stopped: halt instruction at {pc:#010x} ({}), SIGILL",
                symbols.describe_code(pc)
            );
            128 + Signal::Ill as u8
        }
        StopReason::CountReached => {
            eprintln!(
                "ft900-sim: instruction limit reached ({} instructions) at pc {:#010x} ({})",
                m.core.insns,
                m.core.pc,
                symbols.describe_code(m.core.pc)
            );
            EXIT_LIMIT
        }
        other => {
            eprintln!("ft900-sim: stopped: {other:?}");
            EXIT_LIMIT
        }
    }
}
