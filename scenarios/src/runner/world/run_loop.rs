//! Runs the world's devices on virtual time until each has stopped or the scenario's time
//! limit: one device in slices (only to print progress), a fleet in lockstep quanta spread
//! over the host's threads, or one device under gdb.
//!
//! A fleet's quantum is its switch's latency: every device runs through `[T, T + Q)` before
//! any runs on, so a frame sent inside a quantum always arrives in a later one and the order
//! in which devices run inside a quantum cannot change what anyone receives. That is what lets
//! the devices of a quantum run in parallel on the host's cores and still give the same result
//! every time ([`crate::runner::lockstep`] spreads them over the threads).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use ft900_sim::elf::Program;
use ft900_sim::gdb::{self, DebugTarget, Outcome, ServeOptions};
use ft900_sim::profile::ft900::Ft900;
use ft900_sim::{Machine, Profile, StopReason};
use net_bridge::{Pacer, Switch};

use super::devices::Device;
use super::network::FLEET_LATENCY;
use super::{RunOptions, HZ, NS_PER_CYCLE};
use crate::runner::cputime;
use crate::runner::lockstep;
use crate::runner::spec::Scenario;

/// How long a run took.
pub(super) struct Timing {
    /// Wall clock.
    pub host: Duration,
    /// CPU time, all threads together.
    pub cpu: Duration,
    /// The span in CPU time (see `WorldOutcome::span`).
    pub span: Duration,
    /// Host threads the devices ran on.
    pub threads: usize,
}

/// Runs `devices` until every one has stopped or the scenario's time limit; a fleet's frames
/// go through `switch`.
pub(super) fn run(
    s: &Scenario,
    devices: &mut [Device],
    program: &Program,
    switch: Option<&Switch>,
    opts: &RunOptions,
) -> Result<Timing> {
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
        run_under_gdb(devices, *index, addr, program)?;
    } else if devices.len() == 1 {
        run_single(&mut devices[0], limit, opts.progress_every, pacer.as_mut());
    } else {
        let quantum = (FLEET_LATENCY / NS_PER_CYCLE).saturating_sub(1).max(1);
        span = Some(run_fleet(
            devices,
            limit,
            quantum,
            opts,
            switch,
            pacer.as_mut(),
        ));
    }
    Ok(Timing {
        host: started.elapsed(),
        cpu: cputime::process().saturating_sub(cpu_started),
        span: span.unwrap_or_else(|| cputime::thread().saturating_sub(main_cpu_started)),
        threads: if s.devices.len() > 1 { threads } else { 1 },
    })
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
    // devices run the next quantum (`Switch::mark_all`), or after the last one at once, to the
    // run's end (`Switch::finish`).
    let between = |t: u64| {
        let still = running.load(Ordering::Relaxed);
        let next = (still > 0 && t < limit).then(|| (t + quantum).min(limit));
        if let Some(sw) = switch {
            if next.is_none() {
                sw.finish(t * NS_PER_CYCLE);
            } else {
                sw.mark_all(t * NS_PER_CYCLE);
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
