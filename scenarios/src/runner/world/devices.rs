//! The world's devices: each FT900 at reset (firmware loaded, configuration block written,
//! UART0 captured, its cable plugged in), advanced to a deadline while it runs, and what it
//! did when the run ends.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::provision;
use ft900_sim::realtime::run_paced;
use ft900_sim::{report, Machine, Profile, RunLimits, StopReason};
use net_bridge::{Link, Nanos, Pacer};

use super::config::config_for;
use super::outcome::DeviceOutcome;
use super::NS_PER_CYCLE;
use crate::endpoint::{Credentials, Endpoint};
use crate::runner::linklog::Recorder;
use crate::runner::spec::Scenario;

/// A device being run.
pub(super) struct Device {
    pub id: String,
    pub machine: Machine<Ft900>,
    uart: Capture,
    /// How it stopped; `None` while it runs.
    pub stop: Option<StopReason>,
    /// Host time spent in `advance`.
    pub host: Duration,
}

impl Device {
    /// Runs to `deadline_cycles`; `true` if the device stopped in this call.
    pub fn advance(&mut self, deadline_cycles: u64) -> bool {
        let running = self.stop.is_none();
        self.advance_paced(deadline_cycles, None);
        running && self.stop.is_some()
    }

    /// Runs to `deadline_cycles`; with a pacer, never ahead of the wall clock.
    pub fn advance_paced(&mut self, deadline_cycles: u64, pacer: Option<&mut Pacer>) {
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

    /// What the device did, its peripherals' buffered output flushed; `program` names the
    /// functions of a fault report.
    pub fn into_outcome(mut self, program: &Program) -> DeviceOutcome {
        self.machine.profile.flush();
        let fault_report = match &self.stop {
            Some(StopReason::Fault(f)) => Some(report::fault(&self.machine, f, &program.symbols)),
            _ => None,
        };
        DeviceOutcome {
            id: self.id,
            stop: self.stop,
            fault_report,
            end_ns: self.machine.core.cycles * NS_PER_CYCLE,
            cycles: self.machine.core.cycles,
            insns: self.machine.core.insns,
            // An idle iteration is one two-cycle jump.
            idle_insns: self.machine.idle_cycles() / 2,
            host: self.host,
            uart: self.uart.output(),
            uart_times: self.uart.output_times(),
        }
    }
}

/// The scenario's firmware, with a hint to build it when it is missing.
pub(super) fn read_firmware(s: &Scenario) -> Result<Program> {
    match Program::read_file(&s.firmware) {
        Ok(p) => Ok(p),
        Err(ft900_sim::elf::ElfError::Io(e)) => anyhow::bail!(
            "{}: cannot read the firmware (build it with `make -C firmware`): {e}",
            s.firmware.display()
        ),
        Err(e) => Err(e).with_context(|| format!("{}", s.firmware.display())),
    }
}

/// Every device of the scenario at reset, device `i` on cable `links[i]` (taken), wrapped by
/// `record` if given.
pub(super) fn build_all(
    s: &Scenario,
    program: &Program,
    endpoint: &Endpoint,
    creds: &Credentials,
    seed: u64,
    links: &mut [Option<Box<dyn Link>>],
    record: Option<&Recorder>,
) -> Result<Vec<Device>> {
    let mut devices = Vec::new();
    for (index, d) in s.devices.iter().enumerate() {
        let mut link = links[index].take();
        if let Some(recorder) = record {
            link = link.map(|l| recorder.wrap(index, l));
        }
        let (machine, uart) = build_device(s, program, endpoint, creds, index, seed, link)?;
        devices.push(Device {
            id: d.id.clone(),
            machine,
            uart,
            stop: None,
            host: Duration::ZERO,
        });
    }
    Ok(devices)
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
    let uart = Capture::output_only();
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

/// What every device did, in the scenario's order, and the virtual time at the end (the
/// latest device's).
pub(super) fn outcomes(devices: Vec<Device>, program: &Program) -> (Vec<DeviceOutcome>, Nanos) {
    let outcomes: Vec<DeviceOutcome> = devices
        .into_iter()
        .map(|d| d.into_outcome(program))
        .collect();
    let virtual_ns = outcomes.iter().map(|d| d.end_ns).max().unwrap_or(0);
    (outcomes, virtual_ns)
}
