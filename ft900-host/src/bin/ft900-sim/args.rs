//! The command line: subcommands and their options (clap derive), and the small parsers of
//! option values that only the CLI has.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use ft900_host::netopts::{parse_net, ImpairArgs, NetKind};
use ft900_sim::elf::LoadPolicy;
use ft900_sim::profile::ft900::serial::SerialSpec;
use ft900_sim::profile::ft900::ChipRevision;
use ft900_sim::trace::AddrRange;
use ft900_sim::Engine;
use net_bridge::HostForward;

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
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
pub struct LockstepArgs {
    /// The ft32-elf executable (linked with `ft32-elf-gcc -msim`).
    pub program: PathBuf,
    /// The reference debugger [default: ft32-elf-gdb from $FT32_TOOLCHAIN/bin, else PATH].
    #[arg(long, value_name = "PATH")]
    pub gdb: Option<PathBuf>,
    /// Compare at most this many instructions (gdb steps about 5000 per second).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_steps: u64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MachineKind {
    /// binutils-gdb's reference simulator conventions (console at 0x10000, exit at 0x1FFFC,
    /// cycle counter at 0x1FFF4), for programs linked with `ft32-elf-gcc -msim`.
    GdbSim,
    /// The FT900 chip: its register map, interrupt controller, timers, RTC, UARTs and
    /// Ethernet on virtual time (100 MHz). Firmware starts at the reset vector with empty RAM.
    Ft900,
}

/// `NAME=ADDR` for the gateway's DNS table.
pub fn parse_dns_entry(s: &str) -> Result<(String, std::net::Ipv4Addr), String> {
    let (name, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=IPV4, e.g. example.com=127.0.0.1"))?;
    let addr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv4 address (in {s:?})"))?;
    Ok((name.to_string(), addr))
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceKind {
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
pub enum EngineArg {
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
pub struct RunArgs {
    /// The ft32-elf executable to run.
    pub program: PathBuf,
    /// Machine profile: which devices the I/O space holds.
    #[arg(long, value_enum, default_value = "gdb-sim")]
    pub machine: MachineKind,
    /// Stop after this many instructions (exit status 125).
    #[arg(long, value_name = "N")]
    pub max_insns: Option<u64>,
    /// Execution engine: `interp` (the reference interpreter) or `jit` (hot blocks compiled
    /// to host code; identical results). Traces, profiles and gdb's stepping use the
    /// interpreter either way. Default: $FT900_ENGINE, else `jit` on x86-64 hosts (`interp`
    /// elsewhere).
    #[arg(long, value_enum, env = ft900_sim::ENGINE_ENV)]
    pub engine: Option<EngineArg>,
    /// Trace what the guest does, a comma list of insn, mem, irq, eth, gpio; each line has the
    /// cycle, the PC and `function+offset (file:line)`. See --trace-file.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub trace: Vec<TraceKind>,
    /// Where traces go (default: stderr).
    #[arg(long, value_name = "FILE")]
    pub trace_file: Option<PathBuf>,
    /// Trace only while this function or anything it calls runs (interrupts excluded).
    #[arg(long, value_name = "NAME", requires = "trace")]
    pub trace_func: Option<String>,
    /// Trace only code in this program-address range, e.g. 0x100..0x200 (END excluded).
    #[arg(long, value_name = "START..END", requires = "trace")]
    pub trace_range: Option<AddrRange>,
    /// Profile the run: cycles and instructions per function to FILE (flat), folded call
    /// stacks (for inferno-flamegraph / flamegraph.pl) to FILE.folded, top 10 on stderr.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// With --profile: where the folded stacks go [default: the --profile FILE + .folded].
    #[arg(long, value_name = "FILE", requires = "profile")]
    pub profile_folded: Option<PathBuf>,
    /// Print instructions, cycles, host time and MIPS to stderr at the end.
    #[arg(long)]
    pub stats: bool,
    /// How the ELF is loaded [default: vma for gdb-sim, rom for ft900].
    #[arg(long, value_enum)]
    pub load: Option<LoadKind>,
    /// ft900: the board around the chip: a built-in board (mm900ev1a) or a board file (TOML:
    /// chip, I2C devices, UART plugs, Ethernet jack, LEDs; see the README). Without it: a bare
    /// chip. --chip, --uart0, --uart1 and --net override what the board says.
    #[arg(long, value_name = "NAME|FILE")]
    pub board: Option<String>,
    /// ft900: where UART0 is connected: stdio, none, file:PATH, tcp:PORT (127.0.0.1), pty or
    /// loopback (a plug wiring TX to RX) [default: the board's, else stdio].
    #[arg(long, value_name = "SPEC")]
    pub uart0: Option<SerialSpec>,
    /// ft900: where UART1 is connected (same choices as --uart0) [default: the board's, else
    /// none].
    #[arg(long, value_name = "SPEC")]
    pub uart1: Option<SerialSpec>,
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
    pub eth: Option<NetKind>,
    /// Pace virtual time to the wall clock (never faster), so that firmware timers run as on
    /// silicon for real-time peers; implied by --net tap:NAME. Without it the simulation runs
    /// as fast as it can. With --gdb, virtual time stands still while gdb holds the CPU and
    /// goes on from there when the program resumes (the halt is not made up).
    #[arg(long)]
    pub realtime: bool,
    #[command(flatten)]
    pub impair: ImpairArgs,
    /// ft900 with --eth user: a DNS name the gateway answers, NAME=IPV4 (repeatable). The
    /// guest's connections to that address are made from the host to the same address and
    /// port (NAME=127.0.0.1 reaches a service on this host); nothing else is reachable.
    #[arg(long, value_name = "NAME=IPV4", value_parser = parse_dns_entry)]
    pub dns: Vec<(String, std::net::Ipv4Addr)>,
    /// ft900 with --eth user: host:PORT=guest:PORT, a host listener (127.0.0.1 unless an
    /// address is given) joined to a TCP port of the guest (repeatable).
    #[arg(long, value_name = "HOST:PORT=GUEST:PORT")]
    pub forward: Vec<HostForward>,
    /// ft900: write every Ethernet frame, both directions, to this pcap file.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// ft900 rev C: the battery-backed calendar RTC at power-on, in seconds since the Unix epoch
    /// (UTC; rev B's RTC has no battery and starts at 0) [default: the host's
    /// clock now].
    #[arg(long, value_name = "SECONDS")]
    pub rtc_start: Option<u32>,
    /// ft900: the silicon revision to emulate, ft900-revb or ft900-revc (HIPID, the RTC, the
    /// timers' prescalers, the CPU clock divider) [default: ft900-revc, the revision sold today].
    #[arg(long, value_name = "CHIP")]
    pub chip: Option<ChipRevision>,
    /// ft900: fault on accesses to registers that are not modelled (default: report each
    /// address once on stderr and go on).
    #[arg(long)]
    pub strict: bool,
    /// Serve gdb's remote protocol on [ADDR:]PORT; a bare port listens on 127.0.0.1 only, port
    /// 0 picks a free one (stderr says `gdb: listening on ADDR:PORT`). Without --gdb-wait the
    /// program runs and gdb may connect at any time (the machine halts then). gdb's `detach`
    /// lets the program run on (gdb may connect again); `kill` ends the simulator with status
    /// 137; a lost connection leaves the program halted until gdb connects again; the
    /// program's exit ends the simulator with the program's status, as without --gdb.
    #[arg(long, value_name = "[ADDR:]PORT", conflicts_with = "max_insns")]
    pub gdb: Option<String>,
    /// With --gdb: keep the machine halted at reset until gdb connects.
    #[arg(long, requires = "gdb")]
    pub gdb_wait: bool,
    /// ft900: a field of the device configuration block written into flash at load time,
    /// KEY=VALUE (repeatable; applied after --config-file). `ft900-sim provision --list-keys`
    /// lists the keys.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// ft900: a file of KEY=VALUE lines for the configuration block (`#` comments; `@PATH`
    /// values relative to the file).
    #[arg(long, value_name = "FILE")]
    pub config_file: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ProvisionArgs {
    /// A field of the configuration block, KEY=VALUE (repeatable; after --config-file).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// A file of KEY=VALUE lines.
    #[arg(long, value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Where to write the block (raw bytes for PM address 0x3C000, e.g. for a flash programmer).
    #[arg(long, value_name = "FILE", required_unless_present = "list_keys")]
    pub out: Option<PathBuf>,
    /// List the keys and exit.
    #[arg(long)]
    pub list_keys: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LoadKind {
    /// Each segment at its virtual address, like `ft32-elf-run --load-vma`.
    Vma,
    /// Data images at their load address in program memory and also in RAM.
    Flash,
    /// Only what flash holds, at the load addresses in program memory; RAM starts empty
    /// and the start-up code copies `.data`, as on the chip.
    Rom,
}

impl LoadKind {
    /// The loader's policy for this choice.
    pub fn policy(self) -> LoadPolicy {
        match self {
            LoadKind::Vma => LoadPolicy::Vma,
            LoadKind::Flash => LoadPolicy::Flash,
            LoadKind::Rom => LoadPolicy::Rom,
        }
    }
}
