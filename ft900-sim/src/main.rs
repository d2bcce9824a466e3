//! `ft900-sim`: run `ft32-elf` programs on the simulated FT32.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use ft900_sim::board::{Board, EthernetJack};
use ft900_sim::debuginfo::Symbolizer;
use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::gdb::{self, DebugTarget, Outcome, ServeOptions};
use ft900_sim::lockstep::{describe, run_lockstep_detailed, LockstepConfig};
use ft900_sim::profile::ft900::cycles_to_ns;
use ft900_sim::profile::ft900::device::Device;
use ft900_sim::profile::ft900::serial::{self, SerialSpec};
use ft900_sim::profile::ft900::{ChipRevision, Ft900, Ft900Config};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::profiler::Profiler;
use ft900_sim::provision::{self, ConfigBlock};
use ft900_sim::realtime::run_paced;
use ft900_sim::trace::{AddrRange, Trace, TraceKinds, TraceOptions};
use ft900_sim::{report, Engine, Machine, Profile, RunLimits, Signal, StopReason};
use net_bridge::impair::ImpairHandle;
use net_bridge::tap::TapHandle;
use net_bridge::{
    HostForward, Impaired, Link, LoopbackLink, Pacer, PcapLink, TapLink, UserNet, UserNetConfig,
};

mod netopts;
use netopts::{parse_net, ImpairArgs, NetKind};

/// Exit status when `--max-insns` is reached.
const EXIT_LIMIT: u8 = 125;
/// Exit status for errors of the simulator itself (bad ELF, bad options).
const EXIT_USAGE: u8 = 2;
/// Exit status when gdb kills the program (128 + SIGKILL, as a shell reports a killed process).
const EXIT_KILLED: u8 = 137;

#[derive(Parser)]
#[command(
    name = "ft900-sim",
    version,
    about = "Instruction-level simulator of the Bridgetek FT900 (FT32 CPU)",
    long_about = "Runs unmodified ft32-elf executables on a simulated FT32 CPU.\n\n\
        Programs linked for binutils-gdb's reference simulator (`ft32-elf-gcc -msim`) run on \
        the gdb-sim machine: console output goes to stdout and the process exits with the \
        guest's exit status. A guest fault prints the PC, symbol, registers and last \
        instructions to stderr and exits with 128 + the signal number (SIGILL 132, SIGTRAP 133, \
        SIGSEGV 139).",
    after_help = "Examples:\n  \
        ft32-elf-gcc -msim -O2 hello.c -o hello.elf\n  \
        ft900-sim run hello.elf\n  \
        ft900-sim run --stats --max-insns 100000000 hello.elf\n  \
        ft900-sim run --trace insn --trace-file trace.txt hello.elf\n  \
        ft900-sim run --trace insn,mem --trace-func main --trace-file trace.txt hello.elf\n  \
        ft900-sim run --profile prof.txt hello.elf   # and prof.txt.folded for flamegraphs\n  \
        ft900-sim run --gdb 1234 --gdb-wait hello.elf   # then: ft32-elf-gdb hello.elf \
        -ex 'target remote :1234'"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a program until it exits, faults or hits a limit.
    Run(Box<RunArgs>),
    /// Step a `-msim` program in the reference simulator (through ft32-elf-gdb) and in ours
    /// side by side, and report the first instruction after which a register differs.
    Lockstep(LockstepArgs),
    /// Write a device configuration block (the bytes `run --config` puts at PM 0x3C000) to a
    /// file, for a flash programmer.
    Provision(ProvisionArgs),
}

#[derive(clap::Args)]
struct LockstepArgs {
    /// The ft32-elf executable (linked with `ft32-elf-gcc -msim`).
    program: PathBuf,
    /// The reference debugger [default: ft32-elf-gdb from $FT32_TOOLCHAIN/bin, else PATH].
    #[arg(long, value_name = "PATH")]
    gdb: Option<PathBuf>,
    /// Compare at most this many instructions (gdb steps about 5000 per second).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    max_steps: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum MachineKind {
    /// binutils-gdb's reference simulator conventions (console at 0x10000, exit at 0x1FFFC,
    /// cycle counter at 0x1FFF4), for programs linked with `ft32-elf-gcc -msim`.
    GdbSim,
    /// The FT900 chip: its register map, interrupt controller, timers, RTC, UARTs and
    /// Ethernet on virtual time (100 MHz). Firmware starts at the reset vector with empty RAM.
    Ft900,
}

/// `NAME=ADDR` for the gateway's DNS table.
fn parse_dns_entry(s: &str) -> Result<(String, std::net::Ipv4Addr), String> {
    let (name, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=IPV4, e.g. example.com=127.0.0.1"))?;
    let addr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv4 address (in {s:?})"))?;
    Ok((name.to_string(), addr))
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TraceKind {
    /// Every instruction executed: address, word and disassembly.
    Insn,
    /// Data loads and stores: address, width, value (I/O registers named by peripheral).
    Mem,
    /// Interrupt entry (vector, priority, interrupted PC) and `reti`.
    Irq,
    /// Ethernet frames in and out (ft900 with --eth): length, MACs, EtherType, virtual time.
    Eth,
    /// GPIO pin changes (ft900): pin, old and new state, a board's LED, virtual time.
    Gpio,
}

/// `--engine` values ([`Engine`] has no clap derive: the library does not depend on clap's
/// derive features for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    /// The reference interpreter.
    Interp,
    /// Compiled blocks (Cranelift).
    Jit,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Engine {
        match e {
            EngineArg::Interp => Engine::Interp,
            EngineArg::Jit => Engine::Jit,
        }
    }
}

#[derive(clap::Args)]
struct RunArgs {
    /// The ft32-elf executable to run.
    program: PathBuf,
    /// Machine profile: which devices the I/O space holds.
    #[arg(long, value_enum, default_value = "gdb-sim")]
    machine: MachineKind,
    /// Stop after this many instructions (exit status 125).
    #[arg(long, value_name = "N")]
    max_insns: Option<u64>,
    /// Execution engine: `interp` (the reference interpreter) or `jit` (hot blocks compiled
    /// to host code; identical results). Traces, profiles and gdb's stepping use the
    /// interpreter either way. Default: $FT900_ENGINE, else `jit` on x86-64 hosts.
    #[arg(long, value_enum, env = ft900_sim::ENGINE_ENV)]
    engine: Option<EngineArg>,
    /// Trace what the guest does, a comma list of insn, mem, irq, eth, gpio; each line has the
    /// cycle, the PC and `function+offset (file:line)`. See --trace-file.
    #[arg(long, value_enum, value_delimiter = ',')]
    trace: Vec<TraceKind>,
    /// Where traces go (default: stderr).
    #[arg(long, value_name = "FILE")]
    trace_file: Option<PathBuf>,
    /// Trace only while this function or anything it calls runs (interrupts excluded).
    #[arg(long, value_name = "NAME", requires = "trace")]
    trace_func: Option<String>,
    /// Trace only code in this program-address range, e.g. 0x100..0x200 (END excluded).
    #[arg(long, value_name = "START..END", requires = "trace")]
    trace_range: Option<AddrRange>,
    /// Profile the run: cycles and instructions per function to FILE (flat), folded call
    /// stacks (for inferno-flamegraph / flamegraph.pl) to FILE.folded, top 10 on stderr.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// With --profile: where the folded stacks go [default: the --profile FILE + .folded].
    #[arg(long, value_name = "FILE", requires = "profile")]
    profile_folded: Option<PathBuf>,
    /// Print instructions, cycles, host time and MIPS to stderr at the end.
    #[arg(long)]
    stats: bool,
    /// How the ELF is loaded [default: vma for gdb-sim, rom for ft900].
    #[arg(long, value_enum)]
    load: Option<LoadKind>,
    /// ft900: the board around the chip: a built-in board (mm900ev1a) or a board file (TOML:
    /// chip, I2C devices, UART plugs, Ethernet jack, LEDs; see the README). Without it: a bare
    /// chip. --chip, --uart0, --uart1 and --net override what the board says.
    #[arg(long, value_name = "NAME|FILE")]
    board: Option<String>,
    /// ft900: where UART0 is connected: stdio, none, file:PATH, tcp:PORT (127.0.0.1), pty or
    /// loopback (a plug wiring TX to RX) [default: the board's, else stdio].
    #[arg(long, value_name = "SPEC")]
    uart0: Option<SerialSpec>,
    /// ft900: where UART1 is connected (same choices as --uart0) [default: the board's, else
    /// none].
    #[arg(long, value_name = "SPEC")]
    uart1: Option<SerialSpec>,
    /// ft900: what the Ethernet port is plugged into (also spelt --net). `none`: no cable.
    /// `loopback`: every frame sent is received again. `user`: the built-in user-mode gateway
    /// (no root needed): DHCP 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3 (names from --dns),
    /// SNTP from the RTC's start time; restricted: the guest reaches only what --dns names, and
    /// --forward lets host clients reach guest ports. `tap:NAME`: the host TAP device NAME,
    /// which must exist and belong to you (`sudo ip tuntap add mode tap user $USER name NAME`,
    /// then give it an address and `ip link set NAME up`); implies --realtime.
    /// [default: the board's jack, else none]
    #[arg(long, visible_alias = "net", value_name = "none|loopback|user|tap:NAME",
          value_parser = parse_net)]
    eth: Option<NetKind>,
    /// Pace virtual time to the wall clock (never faster), so that firmware timers run as on
    /// silicon for real-time peers; implied by --net tap:NAME. Without it the simulation runs
    /// as fast as it can. With --gdb, virtual time stands still while gdb holds the CPU and
    /// goes on from there when the program resumes (the halt is not made up).
    #[arg(long)]
    realtime: bool,
    #[command(flatten)]
    impair: ImpairArgs,
    /// ft900 with --eth user: a DNS name the gateway answers, NAME=IPV4 (repeatable). The
    /// guest's connections to that address are made from the host to the same address and
    /// port (NAME=127.0.0.1 reaches a service on this host); nothing else is reachable.
    #[arg(long, value_name = "NAME=IPV4", value_parser = parse_dns_entry)]
    dns: Vec<(String, std::net::Ipv4Addr)>,
    /// ft900 with --eth user: host:PORT=guest:PORT, a host listener (127.0.0.1 unless an
    /// address is given) joined to a TCP port of the guest (repeatable).
    #[arg(long, value_name = "HOST:PORT=GUEST:PORT")]
    forward: Vec<HostForward>,
    /// ft900: write every Ethernet frame, both directions, to this pcap file.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// ft900 rev C: the battery-backed calendar RTC at power-on, in seconds since the Unix epoch
    /// (UTC; rev B's RTC has no battery and starts at 0) [default: the host's
    /// clock now].
    #[arg(long, value_name = "SECONDS")]
    rtc_start: Option<u32>,
    /// ft900: the silicon revision to emulate, ft900-revb or ft900-revc (HIPID, the RTC, the
    /// timers' prescalers, the CPU clock divider) [default: ft900-revc, the revision sold today].
    #[arg(long, value_name = "CHIP")]
    chip: Option<ChipRevision>,
    /// ft900: fault on accesses to registers that are not modelled (default: report each
    /// address once on stderr and go on).
    #[arg(long)]
    strict: bool,
    /// Serve gdb's remote protocol on [ADDR:]PORT; a bare port listens on 127.0.0.1 only, port
    /// 0 picks a free one (stderr says `gdb: listening on ADDR:PORT`). Without --gdb-wait the
    /// program runs and gdb may connect at any time (the machine halts then). gdb's `detach`
    /// lets the program run on (gdb may connect again); `kill` ends the simulator with status
    /// 137; a lost connection leaves the program halted until gdb connects again; the
    /// program's exit ends the simulator with the program's status, as without --gdb.
    #[arg(long, value_name = "[ADDR:]PORT", conflicts_with = "max_insns")]
    gdb: Option<String>,
    /// With --gdb: keep the machine halted at reset until gdb connects.
    #[arg(long, requires = "gdb")]
    gdb_wait: bool,
    /// ft900: a field of the device configuration block written into flash at load time,
    /// KEY=VALUE (repeatable; applied after --config-file). `ft900-sim provision --list-keys`
    /// lists the keys.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// ft900: a file of KEY=VALUE lines for the configuration block (`#` comments; `@PATH`
    /// values relative to the file).
    #[arg(long, value_name = "FILE")]
    config_file: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ProvisionArgs {
    /// A field of the configuration block, KEY=VALUE (repeatable; after --config-file).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// A file of KEY=VALUE lines.
    #[arg(long, value_name = "FILE")]
    config_file: Option<PathBuf>,
    /// Where to write the block (raw bytes for PM address 0x3C000, e.g. for a flash programmer).
    #[arg(long, value_name = "FILE", required_unless_present = "list_keys")]
    out: Option<PathBuf>,
    /// List the keys and exit.
    #[arg(long)]
    list_keys: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum LoadKind {
    /// Each segment at its virtual address, like `ft32-elf-run --load-vma`.
    Vma,
    /// Data images at their load address in program memory and also in RAM.
    Flash,
    /// Only what flash holds, at the load addresses in program memory; RAM starts empty
    /// and the start-up code copies `.data`, as on the chip.
    Rom,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Lockstep(args) => lockstep(&args),
        Command::Provision(args) => provision(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ft900-sim: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn load_program(path: &Path) -> Result<Program> {
    Program::read_file(path).with_context(|| format!("{}", path.display()))
}

fn run(args: &RunArgs) -> Result<u8> {
    let program = load_program(&args.program)?;
    let trace = make_trace(args, &program)?;
    let board = match &args.board {
        Some(_) if matches!(args.machine, MachineKind::GdbSim) => {
            anyhow::bail!("--board puts a board around the FT900: add --machine ft900")
        }
        Some(name) => Some(Board::load(name)?),
        None => None,
    };
    // The command line overrides what the board plugs into the jack.
    let eth = match (&args.eth, &board) {
        (Some(kind), _) => kind.clone(),
        (None, Some(b)) => match b.ethernet {
            EthernetJack::None => NetKind::None,
            EthernetJack::Loopback => NetKind::Loopback,
            EthernetJack::User => NetKind::User,
        },
        (None, None) => NetKind::None,
    };
    let net_realtime = matches!(eth, NetKind::Tap(_));
    if trace.is_some() && args.trace.contains(&TraceKind::Gpio) {
        if let MachineKind::GdbSim = args.machine {
            anyhow::bail!("--trace gpio: the gdb-sim machine has no GPIO pins")
        }
    }
    if trace.is_some() && args.trace.contains(&TraceKind::Eth) {
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
    let default_load = match args.machine {
        MachineKind::GdbSim => LoadKind::Vma,
        MachineKind::Ft900 => LoadKind::Rom,
    };
    let policy = match args.load.unwrap_or(default_load) {
        LoadKind::Vma => LoadPolicy::Vma,
        LoadKind::Flash => LoadPolicy::Flash,
        LoadKind::Rom => LoadPolicy::Rom,
    };
    match args.machine {
        MachineKind::Ft900 => {
            let rtc_start = match args.rtc_start {
                Some(s) => s,
                None => std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as u32)
                    .unwrap_or(0),
            };
            let chip = args
                .chip
                .or(board.as_ref().map(|b| b.chip))
                .unwrap_or_default();
            let mut profile = Ft900::new(Ft900Config {
                chip,
                rtc_start_seconds: rtc_start,
                strict: args.strict,
            });
            let mut plugs = [SerialSpec::Stdio, SerialSpec::None];
            if let Some(b) = &board {
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
            if let Some(observer) = trace.as_ref().and_then(|t| t.gpio_observer()) {
                profile.gpio.observe(observer);
            }
            for uart in &profile.uart {
                if let Some(where_) = uart.backend().describe() {
                    eprintln!("{}: {where_}", uart.name());
                }
            }
            if eth != NetKind::User && !(args.dns.is_empty() && args.forward.is_empty()) {
                anyhow::bail!("--dns and --forward configure the gateway: add --net user");
            }
            let mut tap_handle: Option<TapHandle> = None;
            let link: Option<Box<dyn Link>> = match &eth {
                NetKind::None => None,
                NetKind::Loopback => Some(Box::new(LoopbackLink::new(0))),
                NetKind::User => Some(Box::new(user_net(args, rtc_start)?)),
                NetKind::Tap(name) => {
                    let tap = TapLink::open(name)?;
                    tap_handle = Some(tap.handle());
                    eprintln!("eth: TAP {name}, paced to the wall clock");
                    if !tap.carrier() {
                        eprintln!(
                            "eth: TAP {name} is down: no carrier until `ip link set {name} up`"
                        );
                    }
                    Some(Box::new(tap))
                }
            };
            let mut impair_handle: Option<ImpairHandle> = None;
            let link = match (link, args.impair.impairments()) {
                (Some(link), Some(imp)) => {
                    let imp = Impaired::symmetric(link, args.impair.net_seed, imp);
                    impair_handle = Some(imp.handle());
                    Some(Box::new(imp) as Box<dyn Link>)
                }
                (None, Some(_)) => {
                    anyhow::bail!(
                        "the --net-* impairments need a network: add --net user, loopback or tap:NAME"
                    )
                }
                (link, None) => link,
            };
            if let Some(link) = link {
                // Outermost, so the capture shows the frames as the MAC sent and received them.
                let link: Box<dyn Link> = match &args.pcap {
                    Some(path) => {
                        let file = File::create(path).with_context(|| {
                            format!("{}: cannot create the pcap file", path.display())
                        })?;
                        Box::new(PcapLink::new(link, BufWriter::new(file)))
                    }
                    None => link,
                };
                let link = match &trace {
                    Some(t) => t.wrap_link(link),
                    None => link,
                };
                profile.eth.attach_link(link);
            } else if args.pcap.is_some() {
                anyhow::bail!("--pcap needs a network: add --net user, loopback or tap:NAME");
            }
            let mut machine = Machine::with_standard_memory(profile);
            program
                .load_into(&mut machine.core, policy)
                .with_context(|| format!("{}", args.program.display()))?;
            if let Some(block) = config_block(&args.config, args.config_file.as_deref())? {
                let len = provision::write_into(&mut machine, &block)
                    .with_context(|| format!("{}", args.program.display()))?;
                eprintln!(
                    "config: {len} bytes at PM 0x{:05x}: {}",
                    ConfigBlock::ADDRESS,
                    block.summary()
                );
            }
            machine.profile.reset(&mut machine.core, program.entry);
            let code = execute(
                &mut machine,
                &program,
                policy,
                args,
                trace.as_ref(),
                net_realtime,
            )?;
            machine.profile.flush();
            if args.stats {
                for (block, counters) in machine.profile.stats() {
                    if counters.is_empty() {
                        continue;
                    }
                    let list: Vec<String> =
                        counters.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    eprintln!("stats: {block:<7} {}", list.join(", "));
                }
                if let Some(h) = &tap_handle {
                    let st = h.stats();
                    eprintln!(
                        "stats: tap     tx {}, tx dropped {}, rx {}, rx errors {}",
                        st.tx_frames, st.tx_dropped, st.rx_frames, st.rx_errors
                    );
                }
                if let Some(h) = &impair_handle {
                    let st = h.stats();
                    for (dir, d) in [("out", st.outbound), ("in", st.inbound)] {
                        eprintln!(
                            "stats: impair  {dir}: offered {}, delivered {}, lost {}, down {}, \
                             duplicated {}, corrupted {}, reordered {}",
                            d.offered,
                            d.delivered,
                            d.lost,
                            d.lost_down,
                            d.duplicated,
                            d.corrupted,
                            d.reordered
                        );
                    }
                }
            }
            Ok(code)
        }
        MachineKind::GdbSim => {
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
            let profile = GdbSim::new(
                stdout,
                Box::new(std::io::stdin()),
                Box::new(std::io::stderr()),
            );
            let mut machine = Machine::with_standard_memory(profile);
            program
                .load_into(&mut machine.core, policy)
                .with_context(|| format!("{}", args.program.display()))?;
            machine.profile.reset(&mut machine.core, program.entry);
            let code = execute(
                &mut machine,
                &program,
                policy,
                args,
                trace.as_ref(),
                net_realtime,
            )?;
            machine
                .profile
                .flush()
                .context("writing the guest's console output")?;
            Ok(code)
        }
    }
}

/// The configuration block from `--config-file` then `--config` items; `None` if neither.
fn config_block(items: &[String], file: Option<&Path>) -> Result<Option<ConfigBlock>> {
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

/// `ft900-sim provision`: the block's bytes into a file.
fn provision(args: &ProvisionArgs) -> Result<u8> {
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

/// The user-mode gateway for `--eth user`, with SNTP time starting at the RTC's start.
fn user_net(args: &RunArgs, rtc_start: u32) -> Result<UserNet> {
    let mut cfg = UserNetConfig::default();
    cfg.clock.epoch_unix_secs = rtc_start as u64;
    for (name, addr) in &args.dns {
        cfg = cfg.with_dns(name, *addr);
    }
    for fwd in &args.forward {
        cfg = cfg.with_forward(*fwd);
    }
    let net = UserNet::new(cfg).context("--eth user")?;
    for addr in net.forward_addrs() {
        eprintln!("eth: forwarding host {addr} to the guest");
    }
    Ok(net)
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

/// Exit status 0 when both simulators agree, 1 at a divergence.
fn lockstep(args: &LockstepArgs) -> Result<u8> {
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

/// Symbols and DWARF lines of the program (the file is read again: only traces and profiles
/// need the debugging sections).
fn symbolizer(args: &RunArgs, program: &Program) -> Result<Symbolizer> {
    let bytes = ft900_sim::elf::read_checked(&args.program)
        .with_context(|| format!("{}", args.program.display()))?;
    Ok(
        Symbolizer::from_elf(program.symbols.clone(), &bytes).unwrap_or_else(|e| {
            // Symbols still name functions; only file:line is lost.
            eprintln!(
                "ft900-sim: warning: {}: {e}; no file:line information",
                args.program.display()
            );
            Symbolizer::new(program.symbols.clone(), None)
        }),
    )
}

/// The trace that `--trace` asks for, writing to `--trace-file` (buffered) or stderr.
fn make_trace(args: &RunArgs, program: &Program) -> Result<Option<Trace>> {
    if args.trace.is_empty() {
        return Ok(None);
    }
    let kinds = TraceKinds {
        insn: args.trace.contains(&TraceKind::Insn),
        mem: args.trace.contains(&TraceKind::Mem),
        irq: args.trace.contains(&TraceKind::Irq),
        eth: args.trace.contains(&TraceKind::Eth),
        gpio: args.trace.contains(&TraceKind::Gpio),
    };
    let out: Box<dyn Write + Send> = match &args.trace_file {
        Some(p) => Box::new(BufWriter::with_capacity(
            1 << 16,
            File::create(p)
                .with_context(|| format!("{}: cannot create trace file", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stderr())),
    };
    let options = TraceOptions {
        kinds,
        function: args.trace_func.clone(),
        range: args.trace_range,
    };
    Ok(Some(Trace::new(options, symbolizer(args, program)?, out)?))
}

/// Writes the `--profile` files and prints the top functions.
fn write_profile<P: Profile>(
    m: &Machine<P>,
    profiler: &Profiler,
    args: &RunArgs,
    path: &Path,
) -> Result<()> {
    let report = profiler.report(&m.core);
    let title = format!("{} on {}", args.program.display(), m.profile.name());
    let mut flat = BufWriter::new(
        File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
    );
    report
        .write_flat(&mut flat, &title)
        .and_then(|_| flat.flush())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    let folded_path = args.profile_folded.clone().unwrap_or_else(|| {
        let mut p = path.as_os_str().to_owned();
        p.push(".folded");
        PathBuf::from(p)
    });
    let mut folded = BufWriter::new(
        File::create(&folded_path)
            .with_context(|| format!("{}: cannot create", folded_path.display()))?,
    );
    report
        .write_folded(&mut folded)
        .and_then(|_| folded.flush())
        .with_context(|| format!("{}: cannot write", folded_path.display()))?;
    eprint!("{}", report.summary(10));
    eprintln!(
        "profile: flat profile in {}, folded stacks in {}",
        path.display(),
        folded_path.display()
    );
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
    net_realtime: bool,
) -> Result<u8> {
    let symbols = &program.symbols;
    m.set_engine(args.engine.map_or(m.engine(), Engine::from))
        .context("--engine")?;
    if let Some(trace) = trace {
        trace.install(m);
    }
    let profiler = match &args.profile {
        Some(_) => {
            let p = Profiler::new(symbolizer(args, program)?);
            p.install(m);
            Some(p)
        }
        None => None,
    };
    let started = Instant::now();
    let realtime = args.realtime || net_realtime;
    let stop = match &args.gdb {
        None if realtime => {
            let mut pacer = Pacer::wall(cycles_to_ns(m.core.cycles));
            let limits = RunLimits {
                max_insns: args.max_insns,
                ..RunLimits::default()
            };
            run_paced(m, limits, &mut pacer)
        }
        None => m.run(RunLimits {
            max_insns: args.max_insns,
            ..RunLimits::default()
        }),
        Some(spec) => {
            let options = ServeOptions {
                addr: gdb::parse_listen_addr(spec)
                    .map_err(anyhow::Error::msg)
                    .context("--gdb")?,
                wait: args.gdb_wait,
            };
            // `monitor reset`: reload the program as it was loaded, then reset the profile.
            let reset = move |m: &mut Machine<P>| -> Result<(), String> {
                program
                    .load_into(&mut m.core, policy)
                    .map_err(|e| e.to_string())?;
                m.profile.reset(&mut m.core, program.entry);
                Ok(())
            };
            let now = cycles_to_ns(m.core.cycles);
            let mut target = DebugTarget::new(m).with_reset(Box::new(reset));
            if realtime {
                target = target.with_pacer(Pacer::wall(now));
                eprintln!("gdb: paced to the wall clock; a halt in gdb is not made up on resume");
            }
            let outcome = gdb::serve(&mut target, &options).context("--gdb")?;
            match outcome {
                Outcome::Finished(stop) => stop,
                Outcome::Killed => return Ok(EXIT_KILLED),
            }
        }
    };
    let elapsed = started.elapsed();
    if let Some(trace) = trace {
        trace.finish().context("--trace")?;
    }
    if let (Some(profiler), Some(path)) = (&profiler, &args.profile) {
        write_profile(m, profiler, args, path)?;
    }
    if args.stats {
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
    Ok(match stop {
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
    })
}
