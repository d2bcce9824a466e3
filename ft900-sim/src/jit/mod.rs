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
//!   interpreter runs the instructions left before the budget's end or the deadline. Each
//!   block checks this at its entry, so it holds for chained blocks too.
//! - Everything with a side effect beyond registers and RAM (I/O accesses, `reti`, `halt`,
//!   breakpoints, illegal words, the string/stream FFU operations, idle `jmp .`) and every
//!   access that would fault is left to the interpreter: a block ends before it, or leaves with
//!   "interpret next" when a run-time address turns out not to be RAM. Compiled code never
//!   faults, so fault reports, partial effects and device timing are the interpreter's own.
//! - Cycle and instruction counts are computed per block exit from the same cycle model.
//! - The last [`crate::machine::TRAIL_LEN`] PCs for fault reports are rebuilt from the blocks
//!   run before the interpreter takes over.
//! - Program memory changes only through [`Core::pm_write`] and memory mapping, which record the
//!   range they changed; before it runs compiled code again the engine brings its code cache
//!   up to date (the dispatcher returns after an interpreted instruction that wrote program
//!   memory, so an I/O write to the flash controller is seen at once).
//!
//! # Sharing
//!
//! Compiled code depends only on the instruction words and the memory sizes, so every machine
//! of the process running the same program uses one code cache (`compiled::cache`): a fleet compiles
//! its firmware once, not once per device. A machine whose program memory changes keeps the
//! cache, updates it when it is the only user, or leaves it for another (copy on write).
//!
//! # Chaining
//!
//! A block that leaves for another PC does not return to the dispatcher: it tail-calls the
//! code the per-word table of its cache holds for the target, a compiled block or a stub that
//! returns (see `compiled::translate`). A hot loop thus runs from block to block in host code, with
//! one well-predicted indirect jump per block exit instead of a return, a table lookup and an
//! indirect call from one site in Rust. Invalidation (in a cache one machine uses) stays
//! simple: dropping a block puts the stub back in its table word, so no link to it survives;
//! code is only freed with the whole cache.
//!
//! Code is compiled only once a block start has been reached `compiled::HOT` times; colder code is
//! interpreted, which keeps start-up compile time small. Only PCs where control arrives count
//! (exits of compiled code, interpreted instructions), not where a run's budget happened to
//! end, so traces start at branch targets rather than at every instruction of a hot loop.
//! Hooks, `until`, single steps and gdb always use the interpreter (the reference).

#[cfg(feature = "jit")]
mod compiled;
#[cfg(feature = "jit")]
pub(crate) use compiled::Jit;

#[cfg(not(feature = "jit"))]
mod absent;
#[cfg(not(feature = "jit"))]
pub(crate) use absent::Jit;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// Which engine executes code when no hook, `until` address or single step needs the
/// interpreter's per-instruction checks.
///
/// The default ([`Engine::default`], what [`crate::Machine::new`] starts with) is the engine
/// named by the environment variable [`ENGINE_ENV`] (`FT900_ENGINE=interp|jit`) when it is set
/// and not empty, and otherwise the JIT where the host has it ([`Engine::host_default`]). The
/// variable is the one switch that moves the whole tool and
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
    /// The default when [`ENGINE_ENV`] is not set: the JIT where the host has compiled code
    /// ([`Jit::AVAILABLE`], x86-64), else the interpreter.
    ///
    /// The JIT is the faster engine on one device (bench guests 15-40x `ft32-elf-run` against
    /// the interpreter's 3.5x) and, since the machines running one program share their
    /// compiled code (`compiled::cache`), on fleets too: `fleet-200` on 2 threads ran at 122 busy MIPS
    /// against the interpreter's 71 (206 against 113 per CPU second), holding 383 MB against
    /// 333 MB; on 1 thread 175 against 84 busy MIPS. Should the JIT fail to start on a host that should have it, machines made with
    /// the default run the interpreter (with one warning).
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
    fn the_default_without_the_variable_is_the_jit_where_the_host_has_it() {
        let want = if cfg!(all(feature = "jit", target_arch = "x86_64")) {
            Engine::Jit
        } else {
            Engine::Interp
        };
        assert_eq!(Engine::host_default(), want);
    }
}
