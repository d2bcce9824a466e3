//! Profiling one device over a whole run (`--profile`): the profiler hooked into its machine
//! before the run, its report written after, as `ft900-sim run --profile` writes one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use ft900_sim::debuginfo::Symbolizer;
use ft900_sim::elf::Program;
use ft900_sim::profiler::{Profiler, Report};

use super::devices::Device;
use crate::runner::spec::Scenario;

/// A profiler installed in one device (its index).
pub(super) struct Profiling {
    index: usize,
    profiler: Profiler,
}

impl Profiling {
    /// Installs a profiler in device `index` (the `--profile-device`) of `devices`.
    pub fn install(devices: &mut [Device], index: usize, program: &Program) -> Result<Profiling> {
        let d = devices
            .get_mut(index)
            .context("--profile-device: no such device")?;
        // Function names come from the symbol table; file:line is not needed for a profile.
        let profiler = Profiler::new(Symbolizer::new(program.symbols.clone(), None));
        profiler.install(&mut d.machine);
        Ok(Profiling { index, profiler })
    }

    /// The profiled device's report, written to `path` (see [`write_profile`]).
    pub fn finish(&self, devices: &[Device], s: &Scenario, path: &Path) -> Result<Report> {
        let d = &devices[self.index];
        let report = self.profiler.report(&d.machine.core);
        let title = format!(
            "device {} of scenario {} ({})",
            d.id,
            s.name,
            s.firmware.display()
        );
        write_profile(&report, &title, path)?;
        Ok(report)
    }
}

/// Writes a profile as `ft900-sim run --profile` does: the flat profile to `path`, folded
/// stacks to `path.folded`, the top 10 functions to stderr.
fn write_profile(report: &Report, title: &str, path: &Path) -> Result<()> {
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
