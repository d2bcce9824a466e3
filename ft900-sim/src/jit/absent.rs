//! The compiling engine left out (a build without the `jit` cargo feature): no machine can
//! have one, so [`Engine::Jit`](super::Engine::Jit) is refused everywhere and every machine
//! runs the interpreter. Builds that never run compiled code (the fuzz targets) skip
//! Cranelift this way.

use super::JitUnavailable;

/// No compiling engine: a type without values, so that the machine's code for it type-checks
/// and can never run.
pub(crate) enum Jit {}

impl Jit {
    /// Always the reason there is none.
    pub(crate) fn new() -> Result<Jit, JitUnavailable> {
        Err(Jit::unavailable())
    }

    /// No compiled code in this build.
    pub(crate) const AVAILABLE: bool = false;

    /// Why compiled code cannot run.
    pub(crate) fn unavailable() -> JitUnavailable {
        JitUnavailable("this build of ft900-sim has no `jit` feature (no Cranelift)".into())
    }

    pub(crate) fn compiled(&self) -> u64 {
        match *self {}
    }

    pub(crate) fn cached(&self) -> u64 {
        match *self {}
    }

    pub(crate) fn shares_code_with(&self, _other: &Jit) -> bool {
        match *self {}
    }
}
