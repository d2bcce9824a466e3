//! The block-compiling execution engine: FT32 basic blocks translated to host code with
//! Cranelift.
//!
//! # Why Cranelift, and how exactness is kept
//!
//! The interpreter spends most of its time on what a compiler removes: fetching the decoded
//! instruction, dispatching on its operation, reading and writing registers in memory and
//! counting each instruction. Compiling a basic block turns those into straight host code with
//! registers in host registers, constants folded and counters added once per block. Cranelift
//! is the well-kept code generator for exactly this (it is Wasmtime's), compiles a block in
//! tens of microseconds and needs no C toolchain; only a few crates (`cranelift-codegen`,
//! `-frontend`, `-native`) with the host architecture alone are built. A pre-decoded
//! threaded-code engine would be simpler but keeps the per-instruction dispatch that bounds
//! the interpreter.
//!
//! Exactness comes from a narrow contract: compiled code does only what cannot go wrong.
//! - A block runs only when it fits entirely in the instruction budget and cannot cross the
//!   cycle deadline (the next device event or the run's limit), so events and interrupts are
//!   seen at the same instruction boundaries as the interpreter sees them; otherwise the
//!   interpreter runs the instructions one by one.
//! - Everything with a side effect beyond registers and RAM (I/O accesses, `reti`, `halt`,
//!   breakpoints, illegal words, the string/stream FFU operations, idle `jmp .`) and every
//!   access that would fault is left to the interpreter: a block ends before it, or leaves with
//!   "interpret next" when a run-time address turns out not to be RAM. Compiled code never
//!   faults, so fault reports, partial effects and device timing are the interpreter's own.
//! - Cycle and instruction counts are computed per block exit from the same cycle model.
//! - The last [`crate::machine::TRAIL_LEN`] PCs for fault reports are rebuilt from the blocks
//!   run before the interpreter takes over.
//! - Program memory changes only through [`Core::pm_write`] and memory mapping, which record the
//!   range they changed; the engine drops the blocks overlapping it before it runs code again
//!   (after every interpreted instruction too, so an I/O write to the flash controller is
//!   seen at once).
//!
//! Code is compiled only once a block start has been reached [`HOT`] times; colder code is
//! interpreted, which keeps start-up compile time small. Hooks, `until`, single steps and gdb
//! always use the interpreter (the reference).

mod code_mem;
mod translate;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;

use crate::core::Core;
pub(crate) use translate::Exit;

/// Which engine executes code when no hook, `until` address or single step needs the
/// interpreter's per-instruction checks.
///
/// The default ([`Engine::default`], what [`crate::Machine::new`] starts with) is the engine
/// named by the environment variable [`ENGINE_ENV`] (`FT900_ENGINE=interp|jit`) when it is set
/// and not empty, and otherwise [`Engine::Jit`] where the host supports it
/// ([`Engine::host_default`]). The variable is the one switch that moves the whole tool and
/// test suite to the other engine (the CLI's `--engine` and a scenario's `engine` key still
/// win); it is read once per process. The library reads it itself, rather than leaving it to
/// each program, so that every machine made anywhere — tests, the scenario runner, lockstep,
/// provisioning — follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// The interpreter: executes pre-decoded instructions one at a time (the reference).
    Interp,
    /// Compiles hot basic blocks to host code with Cranelift (x86-64 hosts).
    Jit,
}

impl Engine {
    /// Every engine, in the order of their names.
    pub const ALL: [Engine; 2] = [Engine::Interp, Engine::Jit];

    /// The engine's name as the command line and scenario files spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Engine::Interp => "interp",
            Engine::Jit => "jit",
        }
    }
}

/// The environment variable that chooses the default [`Engine`]: `interp` or `jit`.
pub const ENGINE_ENV: &str = "FT900_ENGINE";

impl Engine {
    /// [`Engine::Jit`] on hosts that can run compiled code (x86-64), [`Engine::Interp`]
    /// elsewhere: the default when [`ENGINE_ENV`] is not set.
    pub const fn host_default() -> Engine {
        if Jit::AVAILABLE {
            Engine::Jit
        } else {
            Engine::Interp
        }
    }

    /// The default engine per [`ENGINE_ENV`] (read once per process), or why its value is
    /// not usable: not an engine's name, or `jit` on a host without compiled code. Programs
    /// call this up front to report a bad value as an error.
    pub fn from_env() -> Result<Engine, EngineEnvError> {
        static CONFIGURED: OnceLock<Result<Engine, EngineEnvError>> = OnceLock::new();
        CONFIGURED
            .get_or_init(|| Engine::parse_env(std::env::var_os(ENGINE_ENV)))
            .clone()
    }

    /// [`Engine::from_env`]'s decision for a value of the variable.
    fn parse_env(value: Option<std::ffi::OsString>) -> Result<Engine, EngineEnvError> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(Engine::host_default());
        };
        let text = value.to_str().ok_or_else(|| {
            EngineEnvError::Unknown(UnknownEngine(value.to_string_lossy().into()))
        })?;
        let engine: Engine = text.parse().map_err(EngineEnvError::Unknown)?;
        if engine == Engine::Jit && !Jit::AVAILABLE {
            return Err(EngineEnvError::Unavailable(Jit::unavailable()));
        }
        Ok(engine)
    }
}

/// Why [`ENGINE_ENV`] cannot choose the default engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineEnvError {
    /// The value names no engine.
    #[error("{ENGINE_ENV}: {0}")]
    Unknown(UnknownEngine),
    /// `jit` on a host without compiled code.
    #[error("{ENGINE_ENV}: {0}")]
    Unavailable(JitUnavailable),
}

impl Default for Engine {
    /// [`Engine::from_env`].
    ///
    /// # Panics
    /// When [`ENGINE_ENV`] holds a value [`Engine::from_env`] rejects: a misconfigured
    /// environment must not silently run the other engine. The CLI and the scenario runner
    /// check the variable first and report it as an error instead.
    fn default() -> Engine {
        Engine::from_env().unwrap_or_else(|e| panic!("{e}"))
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An engine name that is not `interp` or `jit`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown engine {0:?}: expected `interp` or `jit`")]
pub struct UnknownEngine(pub String);

impl FromStr for Engine {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Engine, UnknownEngine> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownEngine(s.to_string()))
    }
}

/// Why the compiling engine cannot run on this host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the jit engine is not available on this host: {0}")]
pub struct JitUnavailable(pub String);

/// Times a block start is reached (interpreted) before its block is compiled.
pub(crate) const HOT: u32 = 4;

/// Table entries at or above this value hold a block index (`entry - BLOCK_BASE`); below it,
/// how often the address was reached.
const BLOCK_BASE: u32 = 0x100;

/// A compiled block: `regs`, `ram`, `pm` base pointers in, exit word out.
pub(crate) type BlockFn = unsafe extern "C" fn(*mut u32, *mut u8, *const u8) -> u64;

/// What the dispatcher needs to know about the code at a PC.
#[derive(Clone, Copy)]
pub(crate) struct Blk {
    /// Compiled code; `None`: interpret the instruction at this PC.
    pub f: Option<BlockFn>,
    /// Instructions in the block.
    pub len: u32,
    /// Upper bound of the cycles one run of the block takes.
    pub max_cycles: u32,
    /// Index of the block's trace in [`Jit::traces`].
    pub id: u32,
}

const INTERP: Blk = Blk {
    f: None,
    len: 1,
    max_cycles: 2,
    id: 0,
};

/// The first `len` instructions of a block's trace executed by compiled code, for the
/// fault-report trail.
#[derive(Clone, Copy, Default)]
struct Segment {
    id: u32,
    len: u32,
    /// Instruction count before the first of them.
    first: u64,
}

const SEGMENTS: usize = crate::machine::TRAIL_LEN;

/// Compiled blocks of one machine and the Cranelift state to make more.
pub(crate) struct Jit {
    isa: OwnedTargetIsa,
    fctx: FunctionBuilderContext,
    ctx: cranelift_codegen::Context,
    mem: code_mem::CodeMem,
    /// Per program-memory word: a reach count or a block index (see [`BLOCK_BASE`]).
    table: Vec<u32>,
    blocks: Vec<Blk>,
    /// The PCs of each block's trace (index `Blk::id`), for the trail and invalidation.
    traces: Vec<Box<[u32]>>,
    /// PM size the blocks were compiled for.
    pm_len: u32,
    segments: [Segment; SEGMENTS],
    seg_next: usize,
    /// Blocks compiled since creation (for statistics and tests).
    compiled: u64,
}

impl Jit {
    /// The engine for this host, or why there is none.
    pub(crate) fn new() -> Result<Jit, JitUnavailable> {
        if !Jit::AVAILABLE {
            return Err(Jit::unavailable());
        }
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v)
                .map_err(|e| JitUnavailable(format!("cranelift setting {k}={v}: {e}")))
        };
        set(&mut flags, "opt_level", "none")?;
        let verify = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        set(&mut flags, "enable_verifier", verify)?;
        let isa = cranelift_native::builder()
            .map_err(|e| JitUnavailable(e.to_string()))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| JitUnavailable(e.to_string()))?;
        Ok(Jit {
            isa,
            fctx: FunctionBuilderContext::new(),
            ctx: cranelift_codegen::Context::new(),
            mem: code_mem::CodeMem::new(),
            table: Vec::new(),
            blocks: Vec::new(),
            traces: Vec::new(),
            pm_len: 0,
            segments: [Segment::default(); SEGMENTS],
            seg_next: 0,
            compiled: 0,
        })
    }

    /// Whether this host can run compiled code. Other hosts than x86-64 need an
    /// instruction-cache flush after writing code, not done here.
    pub(crate) const AVAILABLE: bool = cfg!(target_arch = "x86_64");

    /// Why compiled code cannot run here.
    fn unavailable() -> JitUnavailable {
        JitUnavailable(format!(
            "compiled code is supported on x86-64 hosts only, not {}",
            std::env::consts::ARCH
        ))
    }

    /// Whether compiled code can run on `core`: it assumes the full 64 KiB of RAM.
    pub(crate) fn usable(core: &Core) -> bool {
        core.ram_len() >= translate::NEEDS_RAM
    }

    /// Blocks compiled so far.
    pub(crate) fn compiled(&self) -> u64 {
        self.compiled
    }

    /// Drops the blocks that program-memory writes since the last call made stale.
    #[inline]
    pub(crate) fn sync(&mut self, core: &mut Core) {
        if let Some((lo, hi)) = core.take_code_dirty() {
            self.invalidate(core, lo, hi);
        } else if core.pm_len() != self.pm_len {
            self.invalidate(core, 0, u32::MAX);
        }
    }

    #[cold]
    fn invalidate(&mut self, core: &Core, lo: u32, hi: u32) {
        let words = (core.pm_len() / 4) as usize;
        if core.pm_len() != self.pm_len || (lo == 0 && hi >= core.pm_len()) {
            // A remapping (or a write over everything): start afresh.
            self.pm_len = core.pm_len();
            self.table.clear();
            self.table.resize(words, 0);
            self.blocks.clear();
            self.traces.clear();
            self.mem.clear();
            return;
        }
        // Traces follow jumps, so any block may hold a word of the range: look at them all
        // (program-memory writes are rare; a table scan is microseconds).
        let (lo, hi) = (lo & !3, hi);
        for e in self.table.iter_mut() {
            if *e >= BLOCK_BASE {
                let blk = &self.blocks[(*e - BLOCK_BASE) as usize];
                let trace = &self.traces[blk.id as usize];
                if trace.iter().any(|&p| p >= lo && p < hi) {
                    *e = 0;
                }
            }
        }
    }

    /// The block at `pc`: compiled code, or [`INTERP`] when the instruction there is to be
    /// interpreted (cold code, an unaligned PC, or an instruction compiled code leaves alone).
    #[inline(always)]
    pub(crate) fn lookup(&mut self, pc: u32, core: &Core) -> Blk {
        if pc & 3 != 0 {
            return INTERP;
        }
        let Some(e) = self.table.get_mut((pc >> 2) as usize) else {
            return INTERP;
        };
        if *e >= BLOCK_BASE {
            return self.blocks[(*e - BLOCK_BASE) as usize];
        }
        *e += 1;
        if *e < HOT {
            return INTERP;
        }
        self.compile(pc, core)
    }

    #[cold]
    #[inline(never)]
    fn compile(&mut self, pc: u32, core: &Core) -> Blk {
        if self.mem.used() > code_mem::LIMIT {
            // Pathological self-modifying code: flush everything rather than grow forever.
            self.invalidate(core, 0, u32::MAX);
        }
        let plan = translate::plan(core, pc);
        let blk = if plan.insns.is_empty() {
            // Still recorded with its own PC, so that a write there invalidates it.
            self.traces.push(Box::new([pc]));
            Blk {
                id: (self.traces.len() - 1) as u32,
                ..INTERP
            }
        } else {
            match self.emit(&plan, pc) {
                Some(f) => {
                    self.traces
                        .push(plan.insns.iter().map(|&(p, _)| p).collect());
                    Blk {
                        f: Some(f),
                        len: plan.insns.len() as u32,
                        max_cycles: plan.max_cycles,
                        id: (self.traces.len() - 1) as u32,
                    }
                }
                // Cranelift refused (should not happen): this PC stays interpreted.
                None => INTERP,
            }
        };
        if self.blocks.len() as u32 >= u32::MAX - BLOCK_BASE {
            return blk;
        }
        self.blocks.push(blk);
        if let Some(e) = self.table.get_mut((pc >> 2) as usize) {
            *e = BLOCK_BASE + (self.blocks.len() - 1) as u32;
        }
        blk
    }

    fn emit(&mut self, plan: &translate::Plan, pc: u32) -> Option<BlockFn> {
        let func = translate::build(&*self.isa, &mut self.fctx, plan, self.pm_len);
        self.ctx.clear();
        self.ctx.func = func;
        let code = match self.ctx.compile(&*self.isa, &mut ControlPlane::default()) {
            Ok(c) => c,
            Err(e) => {
                debug_assert!(false, "cranelift rejected block at {pc:#x}: {:?}", e.inner);
                return None;
            }
        };
        if !code.buffer.relocs().is_empty() {
            return None;
        }
        let bytes = code.code_buffer().to_vec();
        let p = self.mem.install(&bytes)?;
        self.compiled += 1;
        // SAFETY: `p` holds a function Cranelift compiled for this host with this signature.
        Some(unsafe { std::mem::transmute::<*const u8, BlockFn>(p) })
    }

    /// Records that compiled code ran the first `len` instructions of block `id`'s trace after
    /// `first` instructions.
    #[inline(always)]
    pub(crate) fn record(&mut self, id: u32, len: u32, first: u64) {
        self.segments[self.seg_next] = Segment { id, len, first };
        self.seg_next = (self.seg_next + 1) % SEGMENTS;
    }

    /// Writes the PCs of recently compiled-code instructions into `trail` (indexed by
    /// instruction count modulo its length, as the interpreter writes it), for the last
    /// `trail.len()` instructions before `insns`.
    pub(crate) fn fill_trail(&mut self, trail: &mut [u32], insns: u64) {
        let n = trail.len() as u64;
        for s in &self.segments {
            let Some(trace) = self.traces.get(s.id as usize) else {
                continue;
            };
            for (k, &pc) in trace.iter().take(s.len as usize).enumerate() {
                let i = s.first + k as u64;
                if i < insns && i + n >= insns {
                    trail[(i % n) as usize] = pc;
                }
            }
        }
        self.segments = [Segment::default(); SEGMENTS];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_chooses_the_default_engine() {
        let parse = |v: Option<&str>| Engine::parse_env(v.map(Into::into));
        assert_eq!(parse(None), Ok(Engine::host_default()));
        assert_eq!(parse(Some("")), Ok(Engine::host_default()));
        assert_eq!(parse(Some("interp")), Ok(Engine::Interp));
        let jit = parse(Some("jit"));
        if Jit::AVAILABLE {
            assert_eq!(jit, Ok(Engine::Jit));
        } else {
            let err = jit.unwrap_err().to_string();
            assert!(
                err.starts_with("FT900_ENGINE: the jit engine is not available"),
                "{err}"
            );
        }
        let err = parse(Some("JIT")).unwrap_err().to_string();
        assert_eq!(
            err,
            "FT900_ENGINE: unknown engine \"JIT\": expected `interp` or `jit`"
        );
    }

    #[test]
    fn the_host_default_is_the_jit_where_it_runs() {
        assert_eq!(
            Engine::host_default() == Engine::Jit,
            cfg!(target_arch = "x86_64")
        );
    }
}
