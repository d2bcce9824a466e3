//! Watching a run: the `--trace` trace and the `--profile` profiler, and the symbols both name
//! addresses with.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ft900_sim::debuginfo::Symbolizer;
use ft900_sim::elf::Program;
use ft900_sim::profiler::Profiler;
use ft900_sim::trace::{Trace, TraceKinds, TraceOptions};
use ft900_sim::{Machine, Profile};

use crate::args::{RunArgs, TraceKind};

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
pub fn make_trace(args: &RunArgs, program: &Program) -> Result<Option<Trace>> {
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

/// The profiler `--profile` asks for, installed on `m`; `None` without the option.
pub fn install_profiler<P: Profile>(
    m: &mut Machine<P>,
    args: &RunArgs,
    program: &Program,
) -> Result<Option<Profiler>> {
    Ok(match &args.profile {
        Some(_) => {
            let p = Profiler::new(symbolizer(args, program)?);
            p.install(m);
            Some(p)
        }
        None => None,
    })
}

/// Writes the `--profile` files and prints the top functions.
pub fn write_profile<P: Profile>(
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
