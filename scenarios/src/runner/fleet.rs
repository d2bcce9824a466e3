//! Builds a scenario's world — the endpoint, the gateway, the cable(s), the devices with their
//! configuration blocks — and runs it on virtual time.
//!
//! One device is cabled straight to the gateway (its Ethernet model asks the gateway for the
//! next frame's time, so nothing is ever late). A fleet shares a [`Switch`] whose latency is
//! the lockstep quantum: every device runs through `[T, T + Q)` before any runs on, so a frame
//! sent inside a quantum always arrives in a later one and the order in which devices run
//! inside a quantum cannot change what anyone receives. That is what lets the devices of a
//! quantum run in parallel on the host's cores and still give the same result every time
//! ([`super::lockstep`] spreads them over the threads).

use std::fs::File;
use std::io::BufWriter;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use ft900_sim::debuginfo::Symbolizer;
use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::gdb::{self, DebugTarget, Outcome, ServeOptions};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::profiler::{Profiler, Report};
use ft900_sim::provision::{self, ConfigBlock};
use ft900_sim::realtime::run_paced;
use ft900_sim::{report, Machine, Profile, RunLimits, StopReason};
use net_bridge::impair::SplitMix64;
use net_bridge::service::FlowInfo;
use net_bridge::usernet::SimClock;
use net_bridge::{
    Impaired, Impairments, Link, Nanos, Pacer, PcapLink, Switch, UserNet, UserNetConfig,
};

use super::linklog::Recorder;
use super::spec::{self, NetMode, Scenario};
use super::{cputime, lockstep};
use crate::endpoint::{
    Credentials, Endpoint, EndpointConfig, FaultPlan, KeyType, Restart, ServerKey, TableSpec,
};

/// CPU cycles per second (100 MHz).
pub const HZ: u64 = 100_000_000;
/// Nanoseconds per CPU cycle.
const NS_PER_CYCLE: u64 = 1_000_000_000 / HZ;
/// Where the endpoint lives on the simulated internet (TEST-NET-3).
pub const ENDPOINT_ADDR: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
/// The endpoint's address after it moved (`endpoint.move_at_seconds`).
pub const ENDPOINT_MOVED_ADDR: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 11);
/// Switch latency of a fleet, and so the lockstep quantum: a LAN hop plus some.
const FLEET_LATENCY: Nanos = 500_000;
/// Gateway flows provisioned per device (DNS, SNTP, the endpoint, and reconnects).
const FLOWS_PER_DEVICE: usize = 8;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the UART logs, the pcap and the request log go.
    pub out_dir: PathBuf,
    /// Host threads for the devices of a fleet (1 = one after the other).
    pub jobs: usize,
    /// Print progress lines to stderr every this many virtual seconds (0 = never).
    pub progress_every: f64,
    /// Serve gdb for this device (index) on this address, halted at reset.
    pub gdb: Option<(usize, String)>,
    /// Profile this device (index) over the whole run; the flat profile goes to this file,
    /// folded stacks to the same path + `.folded`.
    pub profile: Option<(usize, PathBuf)>,
    /// Record what each device's cable answers it, for a replay without the network
    /// ([`super::linklog`]; the device bench).
    pub record: Option<Recorder>,
}

/// What one device did.
#[derive(Debug, Clone)]
pub struct DeviceOutcome {
    /// Its id.
    pub id: String,
    /// How it stopped; `None` if it still ran at the scenario's time limit.
    pub stop: Option<StopReason>,
    /// A fault report (PC, symbol, registers), if it faulted.
    pub fault_report: Option<String>,
    /// Virtual ns when it stopped (or the limit).
    pub end_ns: Nanos,
    /// CPU cycles when it stopped (or the limit).
    pub cycles: u64,
    /// Instructions executed, counting the iterations of idle loops (`jmp .`) that the
    /// simulator skipped (the counters end as if it had run them).
    pub insns: u64,
    /// Of `insns`, the idle-loop iterations skipped.
    pub idle_insns: u64,
    /// Host time spent running this device's CPU (its share of the run; a fleet's devices run
    /// in parallel, so these add up to more than the run's host time with `jobs` > 1).
    pub host: Duration,
    /// UART0 output.
    pub uart: Vec<u8>,
    /// Virtual ns at which each byte of `uart` left the UART.
    pub uart_times: Vec<u64>,
}

#[cfg(test)]
impl DeviceOutcome {
    /// A device that exited 0 after printing `uart`, byte i leaving at `uart_times[i]` (the
    /// expectation checks' unit tests).
    pub(crate) fn exited_with_uart(id: &str, uart: Vec<u8>, uart_times: Vec<u64>) -> Self {
        DeviceOutcome {
            id: id.into(),
            stop: Some(StopReason::Exited(0)),
            fault_report: None,
            end_ns: 0,
            cycles: 0,
            insns: 0,
            idle_insns: 0,
            host: Duration::ZERO,
            uart,
            uart_times,
        }
    }
}

impl DeviceOutcome {
    /// UART0 lines with the virtual time (ns) of their first byte.
    pub fn lines(&self) -> Vec<(Nanos, String)> {
        let text = String::from_utf8_lossy(&self.uart);
        let mut offset = 0;
        let mut out = Vec::new();
        for line in text.split_inclusive('\n') {
            let t = self.uart_times.get(offset).copied().unwrap_or(0);
            out.push((t, line.trim_end_matches(['\r', '\n']).to_string()));
            offset += line.len();
        }
        out
    }
}

/// What a run left behind.
pub struct WorldOutcome {
    /// Every device, in the scenario's order.
    pub devices: Vec<DeviceOutcome>,
    /// The endpoint (tables and request log).
    pub endpoint: Endpoint,
    /// Virtual time at the end.
    pub virtual_ns: Nanos,
    /// Host time the run took (wall clock).
    pub host: Duration,
    /// CPU time the run took, all threads together.
    pub cpu: Duration,
    /// The run's span in CPU time: what it takes on cores of its own (see
    /// [`super::lockstep`]); the host-time figure that does not depend on what else the host
    /// runs. A single device's span is its thread's CPU time.
    pub span: Duration,
    /// Host threads the devices ran on.
    pub threads: usize,
    /// The pcap file, if a network was attached.
    pub pcap: Option<PathBuf>,
    /// The profile of the device asked for with [`RunOptions::profile`].
    pub profile: Option<Report>,
    /// Which device (index) `profile` is of.
    pub profiled_device: Option<usize>,
}

impl WorldOutcome {
    /// Instructions executed by all devices.
    pub fn insns(&self) -> u64 {
        self.devices.iter().map(|d| d.insns).sum()
    }

    /// Instructions the interpreter really ran (idle-loop iterations skipped not counted).
    pub fn busy_insns(&self) -> u64 {
        self.devices
            .iter()
            .map(|d| d.insns.saturating_sub(d.idle_insns))
            .sum()
    }

    /// Busy instructions per microsecond of the span: the simulator's speed on this run,
    /// measured in CPU time (see [`WorldOutcome::span`]).
    pub fn busy_mips_cpu(&self) -> f64 {
        super::table::mips(self.busy_insns(), self.span.as_secs_f64())
    }
}

/// A device being run.
struct Device {
    id: String,
    machine: Machine<Ft900>,
    uart: Capture,
    stop: Option<StopReason>,
    /// Host time spent in `advance`.
    host: Duration,
}

impl Device {
    /// Runs to `deadline_cycles`; `true` if the device stopped in this call.
    fn advance(&mut self, deadline_cycles: u64) -> bool {
        let running = self.stop.is_none();
        self.advance_paced(deadline_cycles, None);
        running && self.stop.is_some()
    }

    /// Runs to `deadline_cycles`; with a pacer, never ahead of the wall clock.
    fn advance_paced(&mut self, deadline_cycles: u64, pacer: Option<&mut Pacer>) {
        if self.stop.is_some() {
            return;
        }
        let limits = RunLimits {
            cycle_deadline: Some(deadline_cycles),
            ..RunLimits::default()
        };
        let started = Instant::now();
        let stop = match pacer {
            Some(p) => run_paced(&mut self.machine, limits, p),
            None => self.machine.run(limits),
        };
        self.host += started.elapsed();
        if stop != StopReason::CycleLimit {
            self.stop = Some(stop);
            // A stopped device's clock no longer advances: unplug it, or the switch would keep
            // waiting for it and hold every frame to the gateway from then on.
            drop(self.machine.profile.eth.detach_link());
        }
    }
}

/// The endpoint as the scenario describes it.
pub fn endpoint_for(s: &Scenario, seed: u64) -> Result<Endpoint> {
    let mut cfg = EndpointConfig {
        region: s.endpoint.region.clone(),
        host_names: s.endpoint.host_names.clone(),
        epoch_unix: s.epoch_unix,
        clock_offset_secs: s.endpoint.clock_offset_seconds,
        seed,
        server_key: match s.endpoint.server_key {
            spec::ServerKeySpec::EcdsaP256 => ServerKey::EcdsaP256,
            spec::ServerKeySpec::Rsa2048 => ServerKey::Rsa2048,
        },
        cert_validity: s.endpoint.certificate,
        ..EndpointConfig::default()
    };
    cfg.credentials = credentials_for(s, seed);
    cfg.tables = s
        .endpoint
        .tables
        .iter()
        .map(|t| -> Result<TableSpec> {
            let key = |k: &str| -> Result<(String, KeyType)> {
                let (name, t) = spec::parse_key(k)?;
                Ok((
                    name,
                    match t {
                        'N' => KeyType::N,
                        'B' => KeyType::B,
                        _ => KeyType::S,
                    },
                ))
            };
            Ok(TableSpec {
                name: t.name.clone(),
                partition_key: key(&t.partition_key)?,
                sort_key: t.sort_key.as_deref().map(key).transpose()?,
            })
        })
        .collect::<Result<_>>()?;
    cfg.faults = FaultPlan {
        faults: s.endpoint.faults.clone(),
    };
    let ns = |secs: f64| (secs * 1e9) as Nanos;
    cfg.restarts = s
        .endpoint
        .restarts
        .iter()
        .map(|r| Restart {
            at: ns(r.at_seconds),
            down: ns(r.down_seconds),
        })
        .collect();
    Endpoint::new(cfg).context("the endpoint does not start")
}

/// The scenario's credentials, or one test key derived from the seed.
pub(crate) fn credentials_for(s: &Scenario, seed: u64) -> Vec<Credentials> {
    if !s.endpoint.credentials.is_empty() {
        return s
            .endpoint
            .credentials
            .iter()
            .map(|c| Credentials {
                access_key_id: c.access_key_id.clone(),
                secret_access_key: c.secret_access_key.clone(),
                session_token: c.session_token.clone(),
            })
            .collect();
    }
    let mut rng = SplitMix64::new(seed ^ 0xC4ED_0000);
    let akid = format!("AKIDFT900{:011X}", rng.next_u64() & 0xFFF_FFFF_FFFF);
    let secret: String = (0..40)
        .map(|_| {
            let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            table[(rng.next_u64() % 64) as usize] as char
        })
        .collect();
    vec![Credentials {
        access_key_id: akid,
        secret_access_key: secret,
        session_token: None,
    }]
}

/// Device `index`'s configuration block: what the world decides (endpoint, CA, credentials,
/// table, MAC, entropy seed), then the scenario's `[config]`, then the device's own keys.
fn config_for(
    s: &Scenario,
    endpoint: &Endpoint,
    creds: &Credentials,
    index: usize,
    seed: u64,
) -> Result<ConfigBlock> {
    let d = &s.devices[index];
    let mut block = ConfigBlock::new();
    let table = s.endpoint.tables.first();
    let mut rng = SplitMix64::new(seed ^ ((index as u64 + 1) << 32));
    let entropy: String = (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect();
    let mut defaults: Vec<(&str, String)> = vec![
        ("device.id", d.id.clone()),
        ("device.mac", default_mac(index)),
        ("entropy.seed", entropy),
        ("aws.region", s.endpoint.region.clone()),
        ("endpoint.host", s.endpoint.host_names[0].clone()),
        ("endpoint.port", "443".into()),
        ("aws.access_key_id", creds.access_key_id.clone()),
        ("aws.secret_access_key", creds.secret_access_key.clone()),
    ];
    if let Some(token) = &creds.session_token {
        defaults.push(("aws.session_token", token.clone()));
    }
    if let Some(t) = table {
        defaults.push(("dynamodb.table", t.name.clone()));
        defaults.push((
            "dynamodb.partition_key",
            spec::parse_key(&t.partition_key)?.0,
        ));
        if let Some(k) = &t.sort_key {
            defaults.push(("dynamodb.sort_key", spec::parse_key(k)?.0));
        }
    }
    for (k, v) in defaults {
        block.insert(k, &v)?;
    }
    if s.endpoint.devices_trust_ca {
        block.add_certificate_der(endpoint.ca_cert_der());
    } else {
        // A CA the endpoint's certificate does not chain to: another endpoint's, generated
        // from another seed, as a device provisioned for the wrong service would have.
        let decoy = Endpoint::new(EndpointConfig {
            seed: seed ^ 0xDEC0_7000,
            ..EndpointConfig::default()
        })
        .context("the decoy CA")?;
        block.add_certificate_der(decoy.ca_cert_der());
    }
    for (k, v) in s.config.iter().chain(d.config.iter()) {
        block
            .insert(k, v)
            .with_context(|| format!("device {:?}: config {k}", d.id))?;
    }
    Ok(block)
}

/// The MAC address the world gives device `index` (locally administered, `02:f9:00:00:..`).
fn default_mac(index: usize) -> String {
    format!(
        "02:f9:00:00:{:02x}:{:02x}",
        (index + 1) >> 8,
        (index + 1) & 0xFF
    )
}

/// Device `index`'s MAC address as configured: its own `device.mac`, else the scenario's
/// `[config]`, else the world's default. (The report uses it to count a device's frames.)
pub fn device_mac(s: &Scenario, index: usize) -> String {
    let own = s
        .devices
        .get(index)
        .and_then(|d| d.config.get("device.mac"));
    own.or_else(|| s.config.get("device.mac"))
        .cloned()
        .unwrap_or_else(|| default_mac(index))
}

/// The gateway: QEMU-like addresses, the endpoint's names and the scenario's DNS table, the
/// endpoint on ports 443 (TLS) and 80 (plain HTTP) — or, with `endpoint.external`, port 443
/// joined to that host socket — SNTP from the scenario's epoch.
fn gateway_for(s: &Scenario, endpoint: &Endpoint, seed: u64) -> Result<UserNet> {
    let mut cfg = UserNetConfig {
        clock: SimClock {
            epoch_unix_secs: s.epoch_unix,
            offset_ns: 0,
        },
        seed: seed ^ 0x6A7E_0000,
        ..UserNetConfig::default()
    };
    // QEMU's defaults (16 leases, 256 flows) are for one guest: a fleet needs a lease per
    // device and room for each device's flows (DNS, SNTP, the endpoint, a reconnect or two).
    cfg.dhcp.pool_size = cfg.dhcp.pool_size.max(s.devices.len() as u32);
    cfg.limits.max_flows = cfg.limits.max_flows.max(s.devices.len() * FLOWS_PER_DEVICE);
    cfg = match s.endpoint.external_addr() {
        Some(host) => cfg.allow_host_tcp(SocketAddrV4::new(ENDPOINT_ADDR, 443), host),
        None => cfg
            .with_tcp_service(
                SocketAddrV4::new(ENDPOINT_ADDR, 443),
                endpoint.stream_factory(),
            )
            .with_tcp_service(
                SocketAddrV4::new(ENDPOINT_ADDR, 80),
                endpoint.plain_http_factory(),
            ),
    };
    for name in &s.endpoint.host_names {
        cfg = cfg.with_dns(name, ENDPOINT_ADDR);
    }
    if let (Some(t), None) = (s.endpoint.move_at_seconds, s.endpoint.external_addr()) {
        // The endpoint moves: its old address refuses connections from `at` on, the new one
        // serves, and the names point to the new one.
        let at = (t * 1e9) as Nanos;
        let old = cfg
            .tcp_services
            .get(&SocketAddrV4::new(ENDPOINT_ADDR, 443))
            .cloned();
        if let Some(old) = old {
            let until_move = move |now: Nanos, flow: &FlowInfo| {
                if now >= at {
                    None
                } else {
                    old.accept(now, flow)
                }
            };
            cfg = cfg.with_tcp_service(SocketAddrV4::new(ENDPOINT_ADDR, 443), Arc::new(until_move));
        }
        cfg = cfg.with_tcp_service(
            SocketAddrV4::new(ENDPOINT_MOVED_ADDR, 443),
            endpoint.stream_factory(),
        );
        for name in &s.endpoint.host_names {
            cfg = cfg.with_dns_change(at, name, ENDPOINT_MOVED_ADDR);
        }
    }
    for (name, target) in &s.network.dns {
        let addr = match target.as_str() {
            "endpoint" => ENDPOINT_ADDR,
            other => other.parse()?,
        };
        cfg = cfg.with_dns(name, addr);
    }
    UserNet::new(cfg).context("the gateway does not start")
}

fn impairments_for(spec: &spec::ImpairmentSpec) -> Impairments {
    let ms = |v: f64| (v * 1e6) as Nanos;
    Impairments {
        loss: spec.loss,
        duplicate: spec.duplicate,
        corrupt: spec.corrupt,
        delay: ms(spec.delay_ms),
        jitter: ms(spec.jitter_ms),
        reorder: spec.reorder,
        reorder_delay: ms(spec.delay_ms.max(1.0) * 2.0),
        rate_bps: spec.rate_mbit.map(|m| (m * 1e6) as u64),
        down: spec
            .down
            .iter()
            .map(|[a, b]| ((a * 1e9) as Nanos, (b * 1e9) as Nanos))
            .collect(),
    }
}

/// Device `index` of the scenario at reset: firmware loaded, configuration block written,
/// UART0 captured, `link` as its cable. (The device bench builds its replay this way too.)
pub(crate) fn build_device(
    s: &Scenario,
    program: &Program,
    endpoint: &Endpoint,
    creds: &Credentials,
    index: usize,
    seed: u64,
    link: Option<Box<dyn Link>>,
) -> Result<(Machine<Ft900>, Capture)> {
    let d = &s.devices[index];
    let mut profile = Ft900::new(Ft900Config {
        chip: d.chip_in(s),
        rtc_start_seconds: u32::try_from(s.epoch_unix).unwrap_or(u32::MAX),
        ..Ft900Config::default()
    });
    let uart = Capture::new();
    profile.uart[0].set_backend(Box::new(uart.clone()));
    if let Some(link) = link {
        profile.eth.attach_link(link);
    }
    let mut machine = Machine::with_standard_memory(profile);
    machine.set_engine(s.engine()?).context("engine")?;
    program
        .load_into(&mut machine.core, LoadPolicy::Rom)
        .with_context(|| format!("{}", s.firmware.display()))?;
    let block = config_for(s, endpoint, creds, index, seed)?;
    provision::write_into(&mut machine, &block).with_context(|| format!("device {:?}", d.id))?;
    machine.profile.reset(&mut machine.core, program.entry);
    Ok((machine, uart))
}

/// Builds the world and runs it until every device has stopped or the time limit.
pub fn run_world(s: &Scenario, seed: u64, opts: &RunOptions) -> Result<WorldOutcome> {
    let program = match Program::read_file(&s.firmware) {
        Ok(p) => p,
        Err(ft900_sim::elf::ElfError::Io(e)) => anyhow::bail!(
            "{}: cannot read the firmware (build it with `make -C firmware`): {e}",
            s.firmware.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("{}", s.firmware.display())),
    };
    let endpoint = endpoint_for(s, seed)?;
    if let Some(addr) = s.endpoint.external_addr() {
        // Fail fast, rather than let the devices retry against nothing until the time limit.
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).with_context(|| {
            format!(
                "endpoint.external {addr}: nothing answers; start the server first, with the \
                 identity `scenarios identity FILE.toml --out DIR` writes"
            )
        })?;
    }
    let creds = credentials_for(s, seed).remove(0);
    std::fs::create_dir_all(&opts.out_dir)
        .with_context(|| format!("{}: cannot create", opts.out_dir.display()))?;

    // The network: one device straight to the gateway, a fleet through a switch.
    let mut links: Vec<Option<Box<dyn Link>>> = Vec::new();
    let mut switch = None;
    let mut pcap = None;
    if s.network.mode == NetMode::User {
        let gateway = gateway_for(s, &endpoint, seed)?;
        let uplink: Box<dyn Link> = if s.network.impairments.is_active() {
            let imp = impairments_for(&s.network.impairments);
            Box::new(Impaired::symmetric(gateway, seed ^ 0x1A9A_0000, imp))
        } else {
            Box::new(gateway)
        };
        let pcap_path = opts.out_dir.join("network.pcap");
        let pcap_file = BufWriter::new(
            File::create(&pcap_path)
                .with_context(|| format!("{}: cannot create", pcap_path.display()))?,
        );
        pcap = Some(pcap_path);
        if s.devices.len() == 1 {
            links.push(Some(Box::new(PcapLink::new(uplink, pcap_file))));
        } else {
            let sw = Switch::new(FLEET_LATENCY);
            sw.set_uplink(uplink);
            sw.capture(Box::new(pcap_file));
            for _ in &s.devices {
                links.push(Some(Box::new(sw.add_port())));
            }
            switch = Some(sw);
        }
    } else {
        links.resize_with(s.devices.len(), || None);
    }

    let mut devices = Vec::new();
    for (index, d) in s.devices.iter().enumerate() {
        let mut link = links[index].take();
        if let Some(recorder) = &opts.record {
            link = link.map(|l| recorder.wrap(index, l));
        }
        let (machine, uart) = build_device(s, &program, &endpoint, &creds, index, seed, link)?;
        devices.push(Device {
            id: d.id.clone(),
            machine,
            uart,
            stop: None,
            host: Duration::ZERO,
        });
    }

    // Function names come from the symbol table; file:line is not needed for a profile.
    let profiler = match &opts.profile {
        Some((index, _)) => {
            let d = devices
                .get_mut(*index)
                .context("--profile-device: no such device")?;
            let profiler = Profiler::new(Symbolizer::new(program.symbols.clone(), None));
            profiler.install(&mut d.machine);
            Some((*index, profiler))
        }
        None => None,
    };

    let started = Instant::now();
    let cpu_started = cputime::process();
    let main_cpu_started = cputime::thread();
    let threads = opts.jobs.clamp(1, devices.len().max(1));
    let mut span = None;
    let limit = (s.max_virtual_seconds * HZ as f64) as u64;
    // A server outside the simulation answers on the wall clock: virtual time must not run
    // ahead of it, or the firmware's timeouts would expire while the server is still working.
    let mut pacer = s.endpoint.external.is_some().then(|| Pacer::wall(0));
    if let Some((index, addr)) = &opts.gdb {
        run_under_gdb(&mut devices, *index, addr, &program)?;
    } else if devices.len() == 1 {
        run_single(&mut devices[0], limit, opts.progress_every, pacer.as_mut());
    } else {
        let quantum = (FLEET_LATENCY / NS_PER_CYCLE).saturating_sub(1).max(1);
        span = Some(run_fleet(
            &mut devices,
            limit,
            quantum,
            opts,
            switch.as_ref(),
            pacer.as_mut(),
        ));
    }
    let host = started.elapsed();
    let cpu = cputime::process().saturating_sub(cpu_started);
    let span = span.unwrap_or_else(|| cputime::thread().saturating_sub(main_cpu_started));
    if let Some(sw) = &switch {
        sw.flush_capture();
    }
    let profile = match (&profiler, &opts.profile) {
        (Some((index, profiler)), Some((_, path))) => {
            let d = &devices[*index];
            let report = profiler.report(&d.machine.core);
            let title = format!(
                "device {} of scenario {} ({})",
                d.id,
                s.name,
                s.firmware.display()
            );
            write_profile(&report, &title, path)?;
            Some(report)
        }
        _ => None,
    };

    let mut outcomes = Vec::new();
    let mut virtual_ns = 0;
    for mut d in devices {
        d.machine.profile.flush();
        let end_ns = d.machine.core.cycles * NS_PER_CYCLE;
        virtual_ns = virtual_ns.max(end_ns);
        let fault_report = match &d.stop {
            Some(StopReason::Fault(f)) => Some(report::fault(&d.machine, f, &program.symbols)),
            _ => None,
        };
        outcomes.push(DeviceOutcome {
            id: d.id,
            stop: d.stop,
            fault_report,
            end_ns,
            cycles: d.machine.core.cycles,
            insns: d.machine.core.insns,
            // An idle iteration is one two-cycle jump.
            idle_insns: d.machine.idle_cycles() / 2,
            host: d.host,
            uart: d.uart.output(),
            uart_times: d.uart.output_times(),
        });
    }
    drop(switch);
    Ok(WorldOutcome {
        devices: outcomes,
        endpoint,
        virtual_ns,
        host,
        cpu,
        span,
        threads: if s.devices.len() > 1 { threads } else { 1 },
        pcap,
        profiled_device: profile.as_ref().and(opts.profile.as_ref()).map(|p| p.0),
        profile,
    })
}

/// Writes a profile as `ft900-sim run --profile` does: the flat profile to `path`, folded
/// stacks to `path.folded`, the top 10 functions to stderr.
fn write_profile(report: &Report, title: &str, path: &std::path::Path) -> Result<()> {
    let mut folded_path = path.as_os_str().to_owned();
    folded_path.push(".folded");
    let folded_path = PathBuf::from(folded_path);
    let mut flat = Vec::new();
    report.write_flat(&mut flat, title)?;
    std::fs::write(path, flat).with_context(|| format!("{}: cannot write", path.display()))?;
    let mut folded = Vec::new();
    report.write_folded(&mut folded)?;
    std::fs::write(&folded_path, folded)
        .with_context(|| format!("{}: cannot write", folded_path.display()))?;
    eprint!("{}", report.summary(10));
    eprintln!(
        "profile: flat profile in {}, folded stacks in {}",
        path.display(),
        folded_path.display()
    );
    Ok(())
}

/// One device: run in slices only to print progress.
fn run_single(d: &mut Device, limit: u64, progress_every: f64, mut pacer: Option<&mut Pacer>) {
    let slice = if progress_every > 0.0 {
        ((progress_every * HZ as f64) as u64).max(1)
    } else {
        limit
    };
    let started = Instant::now();
    let mut t = 0;
    while d.stop.is_none() && t < limit {
        t = (t + slice).min(limit);
        d.advance_paced(t, pacer.as_deref_mut());
        if progress_every > 0.0 && d.stop.is_none() {
            progress(t, 0, 1, started);
        }
    }
}

/// A fleet in lockstep quanta, its devices spread over `opts.jobs` threads
/// ([`lockstep::run`]). With a pacer, no quantum starts before the wall clock has reached it.
/// Returns the run's span in CPU time.
fn run_fleet(
    devices: &mut [Device],
    limit: u64,
    quantum: u64,
    opts: &RunOptions,
    switch: Option<&Switch>,
    mut pacer: Option<&mut Pacer>,
) -> Duration {
    let total = devices.len();
    let running = AtomicUsize::new(devices.iter().filter(|d| d.stop.is_none()).count());
    let progress_cycles = (opts.progress_every * HZ as f64) as u64;
    let mut next_progress = progress_cycles;
    let started = Instant::now();
    let advance = |d: &mut Device, t: u64| {
        if d.advance(t) {
            running.fetch_sub(1, Ordering::Relaxed);
        }
    };
    // Every device has reached `t`: the switch learns it (see `Switch::sync_all`) before
    // anyone runs on. The gateway and the endpoint then run to the next horizon while the
    // devices run the next quantum (`Switch::mark_all`), or at once after the last one.
    let between = |t: u64| {
        let still = running.load(Ordering::Relaxed);
        let next = (still > 0 && t < limit).then(|| (t + quantum).min(limit));
        if let Some(sw) = switch {
            sw.mark_all(t * NS_PER_CYCLE);
            if next.is_none() {
                sw.advance_uplink();
            }
        }
        if let Some(p) = pacer.as_deref_mut() {
            p.wait_until(t * NS_PER_CYCLE);
        }
        if progress_cycles > 0 && t >= next_progress {
            progress(t, total - still, total, started);
            next_progress += progress_cycles;
        }
        next
    };
    let overlap = || {
        if let Some(sw) = switch {
            sw.advance_uplink();
        }
    };
    lockstep::run(
        devices,
        opts.jobs,
        quantum.min(limit),
        advance,
        between,
        overlap,
    )
}

/// A progress line: virtual time, devices finished, host time so far.
fn progress(t: u64, done: usize, total: usize, started: Instant) {
    eprintln!(
        "  ... virtual {:.1} s, {done}/{total} devices finished, host {:.1} s",
        t as f64 / HZ as f64,
        started.elapsed().as_secs_f64()
    );
}

/// One device under gdb (single-device scenarios only): the gateway and endpoint live inside
/// its link, so virtual time — theirs included — stands still while gdb holds the CPU.
fn run_under_gdb(
    devices: &mut [Device],
    index: usize,
    addr: &str,
    program: &Program,
) -> Result<()> {
    if devices.len() != 1 {
        bail!(
            "--gdb needs a single-device scenario (this one has {} devices)",
            devices.len()
        );
    }
    let d = &mut devices[index];
    let options = ServeOptions {
        addr: gdb::parse_listen_addr(addr)
            .map_err(anyhow::Error::msg)
            .context("--gdb")?,
        wait: true,
    };
    let entry = program.entry;
    let reset = move |m: &mut Machine<Ft900>| -> Result<(), String> {
        m.profile.reset(&mut m.core, entry);
        Ok(())
    };
    let mut target = DebugTarget::new(&mut d.machine).with_reset(Box::new(reset));
    // Host time under gdb includes the time the CPU was halted: its MIPS figure says how long
    // the session took, not how fast the interpreter is.
    let started = Instant::now();
    let outcome = gdb::serve(&mut target, &options).context("--gdb")?;
    d.host = started.elapsed();
    d.stop = Some(match outcome {
        Outcome::Finished(stop) => stop,
        Outcome::Killed => StopReason::Stopped,
    });
    Ok(())
}
