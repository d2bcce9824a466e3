//! A scenario's world — the endpoint, the network, the devices — built and run on virtual
//! time, one concern per module:
//!
//! - `endpoint`: the DynamoDB endpoint and the credentials the devices sign with;
//! - `network`: the gateway, the impairments, the pcap, and each device's cable (one device
//!   straight to the gateway, a fleet through a switch);
//! - `config`: each device's configuration block;
//! - `devices`: the devices at reset, advanced to a deadline, and what each did;
//! - `run_loop`: one device, a fleet in lockstep quanta over the host's threads, or a device
//!   under gdb;
//! - `profile`: one device's profile over the run;
//! - `outcome`: what a run left behind.
//!
//! [`run_world`] puts them together.

mod config;
mod devices;
mod endpoint;
mod network;
mod outcome;
mod profile;
mod run_loop;

use std::path::PathBuf;

use anyhow::{Context, Result};

pub use config::device_mac;
pub(crate) use devices::build_device;
pub(crate) use endpoint::credentials_for;
pub use endpoint::{endpoint_for, ENDPOINT_ADDR, ENDPOINT_MOVED_ADDR};
pub use outcome::{DeviceOutcome, WorldOutcome};

use super::linklog::Recorder;
use super::spec::Scenario;
use network::Network;
use profile::Profiling;

/// CPU cycles per second (100 MHz).
pub const HZ: u64 = 100_000_000;
/// Nanoseconds per CPU cycle.
const NS_PER_CYCLE: u64 = 1_000_000_000 / HZ;

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

/// Builds the world and runs it until every device has stopped or the time limit.
pub fn run_world(s: &Scenario, seed: u64, opts: &RunOptions) -> Result<WorldOutcome> {
    let program = devices::read_firmware(s)?;
    let endpoint = endpoint_for(s, seed)?;
    endpoint::check_external(s)?;
    let creds = credentials_for(s, seed).remove(0);
    std::fs::create_dir_all(&opts.out_dir)
        .with_context(|| format!("{}: cannot create", opts.out_dir.display()))?;

    let mut network = Network::build(s, &endpoint, seed, &opts.out_dir)?;
    let mut devices = devices::build_all(
        s,
        &program,
        &endpoint,
        &creds,
        seed,
        &mut network.links,
        opts.record.as_ref(),
    )?;
    let profiling = match &opts.profile {
        Some((index, _)) => Some(Profiling::install(&mut devices, *index, &program)?),
        None => None,
    };

    let timing = run_loop::run(s, &mut devices, &program, network.switch.as_ref(), opts)?;
    network.flush_capture();
    let profile = match (&profiling, &opts.profile) {
        (Some(p), Some((_, path))) => Some(p.finish(&devices, s, path)?),
        _ => None,
    };
    let (outcomes, virtual_ns) = devices::outcomes(devices, &program);
    // The switch (and the gateway behind it) goes after the devices, whose ports it serves.
    drop(network.switch);
    Ok(WorldOutcome {
        devices: outcomes,
        endpoint,
        virtual_ns,
        host: timing.host,
        cpu: timing.cpu,
        span: timing.span,
        threads: timing.threads,
        pcap: network.pcap,
        profiled_device: profile.as_ref().and(opts.profile.as_ref()).map(|p| p.0),
        profile,
    })
}
