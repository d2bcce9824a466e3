//! `scenarios run`: run scenario files and report.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{report, run_scenario, scenario_files, table, Options, Scenario, ScenarioResult};

/// Arguments of `scenarios run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario files or directories of them (`*.toml`).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Use this seed instead of each scenario's own.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Host threads for the devices of a fleet [default: the number of cores]. The result
    /// is the same on any number (`expect.deterministic` checks it).
    #[arg(long, visible_alias = "jobs", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Keep the artefacts (UART logs, pcap, request log) even when every check passes.
    #[arg(long)]
    pub keep: bool,
    /// Parent directory of the artefacts.
    #[arg(long, value_name = "DIR", default_value = "target/scenarios")]
    pub out: PathBuf,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a table of every scenario's figures here (result, devices, virtual and host
    /// seconds, instructions, MIPS, requests): JSON if FILE ends in `.json`, else Markdown.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Print progress every this many virtual seconds (0 = never).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub progress: f64,
    /// Serve gdb's remote protocol for one device on [ADDR:]PORT (127.0.0.1 unless ADDR is
    /// given), halted at reset until gdb attaches (single-device scenarios).
    #[arg(long, value_name = "[ADDR:]PORT")]
    pub gdb: Option<String>,
    /// With --gdb: which device [default: the first].
    #[arg(long, value_name = "ID", requires = "gdb")]
    pub gdb_device: Option<String>,
    /// Run this firmware ELF instead of the one each scenario names (e.g. the debug build
    /// `firmware/build/debug/dynamodb-client.elf` for gdb).
    #[arg(long, value_name = "ELF")]
    pub firmware: Option<PathBuf>,
    /// Profile one device over the whole run: the flat profile (self and total cycles,
    /// instructions and calls per function) goes to FILE, folded stacks for flame graphs to
    /// FILE.folded, and the top functions to stderr. The profiled device runs on the hooked
    /// path of the interpreter (several times slower); virtual time is unchanged.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// With --profile: which device [default: the first].
    #[arg(long, value_name = "ID", requires = "profile")]
    pub profile_device: Option<String>,
    /// Also write the HTML report of the run here (it is always written among the artefacts
    /// as `report.html`); the artefacts are then kept, for its link to the pcap. With several
    /// scenarios, each gets FILE with `-<scenario name>` before the extension.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
}

/// Where the report of scenario `name` goes when `--report` names `path` for `runs` runs:
/// `path` itself for one run, else `path` with `-<name>` before its extension.
pub fn report_path(path: &Path, name: &str, runs: usize) -> PathBuf {
    if runs <= 1 {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map_or_else(|| "report".into(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or_else(|| "html".into(), |e| e.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}-{name}.{ext}"))
}

/// Runs the scenarios; exit status 0 if all passed, 1 if any failed or could not run.
pub fn run(args: &RunArgs) -> Result<u8> {
    let mut files = Vec::new();
    for p in &args.paths {
        files.extend(scenario_files(p)?);
    }
    let opts = Options {
        seed: args.seed,
        jobs: args
            .threads
            .map_or_else(|| Options::default().jobs, usize::from),
        keep: args.keep,
        out_root: args.out.clone(),
        progress_every: args.progress,
        gdb: args
            .gdb
            .as_ref()
            .map(|addr| (args.gdb_device.clone().unwrap_or_default(), addr.clone())),
        firmware: args.firmware.clone(),
        profile: args.profile.as_ref().map(|file| {
            (
                args.profile_device.clone().unwrap_or_default(),
                file.clone(),
            )
        }),
        report: None,
    };
    let mut results: Vec<ScenarioResult> = Vec::new();
    let mut errors = Vec::new();
    for file in &files {
        eprintln!("running {}", file.display());
        let run = Scenario::load(file).and_then(|scenario| {
            let report = args
                .report
                .as_ref()
                .map(|p| report_path(p, &scenario.name, files.len()));
            let opts = Options {
                report,
                ..opts.clone()
            };
            run_scenario(scenario, &opts)
        });
        match run {
            Ok(r) => {
                print!("{}", report::summary(&r));
                results.push(r);
            }
            Err(e) => {
                println!("error {}: {e:#}", file.display());
                errors.push((file.display().to_string(), format!("{e:#}")));
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count() + errors.len();
    if files.len() > 1 {
        println!(
            "{} scenarios: {} passed, {failed} failed",
            files.len(),
            files.len() - failed
        );
    }
    if let Some(path) = &args.summary {
        let mut rows: Vec<table::Row> = results.iter().map(table::Row::of).collect();
        rows.extend(errors.iter().map(|(file, _)| table::Row::error(file)));
        table::write(path, &rows)?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(&results, &errors))
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_runs_get_one_report_each() {
        let p = Path::new("out/r.html");
        assert_eq!(report_path(p, "link-down", 1), Path::new("out/r.html"));
        assert_eq!(
            report_path(p, "link-down", 2),
            Path::new("out/r-link-down.html")
        );
        assert_eq!(report_path(Path::new("r"), "a", 3), Path::new("r-a.html"));
    }
}
