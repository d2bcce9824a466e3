//! The compiling engine itself (the `jit` cargo feature): Cranelift's target and the entry into
//! compiled code ([`Host`]), one machine's side of it ([`Jit`]), the code caches machines share
//! ([`cache`]), executable memory ([`code_mem`]) and the translation of FT32 blocks
//! ([`translate`]). See the parent module for how it stays exact.

mod cache;
mod code_mem;
mod translate;

use std::sync::{Arc, OnceLock};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;

use super::JitUnavailable;
use crate::core::Core;
use translate::Exit;

/// Times a block start is reached (interpreted) before its block is compiled.
///
/// Compiling a block costs about 0.3 ms of host time, the time the interpreter takes for some
/// 30 000 instructions, so a block must run many times to pay for itself. The bench guests
/// (a few hot loops, 200 M instructions) do not care; the product firmware does: an upload in
/// `single-device` executes 123 M busy instructions over thousands of distinct blocks. Measured
/// there with `scenarios bench scenarios/single-device.toml --engine jit` (busy MIPS alone, one
/// loaded 2-core host): 4 → 51 (4332 blocks compiled, slower than the interpreter's 81–90),
/// 32 → 99 (2611), 128 → 112 (2242), 250 → 116 (2154). Machines sharing a cache count
/// together, so a fleet compiles its hot code sooner per machine.
pub(crate) const HOT: u32 = 128;

/// The dispatcher's way into compiled code (host calling convention): context, block
/// function, PC, instructions left, cycles left, next ring slot in; exit word out.
type EnterFn = unsafe extern "C" fn(*mut Ctx, usize, u32, u64, u64, u64) -> u64;

/// What the dispatcher needs to know about the code at a PC.
#[derive(Clone, Copy)]
pub(crate) struct Blk {
    /// Address of the compiled code; 0: interpret the instruction at this PC.
    pub f: usize,
    /// Instructions in the block.
    pub len: u32,
    /// Upper bound of the cycles one run of the block takes.
    pub max_cycles: u32,
    /// The block's id in its cache (its trace, for the fault trail).
    pub id: u32,
}

const INTERP: Blk = Blk {
    f: 0,
    len: 1,
    max_cycles: 2,
    id: 0,
};

/// Entries of the ring of recent block runs: enough for the trail even when every other
/// entry marks a return to the dispatcher.
const RING: usize = 2 * crate::machine::TRAIL_LEN;
const _: () = assert!(RING.is_power_of_two());

/// Ring entry id of a return to the dispatcher (an entry's id is its upper half).
const RING_RETURN: u64 = 0xFFFF_FFFF;

/// The state compiled code reads and writes besides registers and memory. Its layout is known
/// to the translator (the `CTX_*` offsets).
#[repr(C)]
pub(crate) struct Ctx {
    regs: *mut u32,
    ram: *mut u8,
    pm: *const u8,
    /// Instructions and cycles left when a chain returned.
    left_insns: u64,
    left_cycles: u64,
    /// Next slot of `ring`.
    ring_next: u64,
    /// The most recent block runs, for the fault-report trail: `id << 32 | instructions left`
    /// when the block started, or [`RING_RETURN`]` << 32 | instructions left` where a chain
    /// returned; a block ran as many instructions as the counts of it and of the next entry
    /// differ by. 0: an empty slot.
    ring: [u64; RING],
}

const CTX_REGS: i32 = std::mem::offset_of!(Ctx, regs) as i32;
const CTX_RAM: i32 = std::mem::offset_of!(Ctx, ram) as i32;
const CTX_PM: i32 = std::mem::offset_of!(Ctx, pm) as i32;
const CTX_LEFT_INSNS: i32 = std::mem::offset_of!(Ctx, left_insns) as i32;
const CTX_LEFT_CYCLES: i32 = std::mem::offset_of!(Ctx, left_cycles) as i32;
const CTX_RING_NEXT: i32 = std::mem::offset_of!(Ctx, ring_next) as i32;
const CTX_RING: i32 = std::mem::offset_of!(Ctx, ring) as i32;

/// What every machine's compiled code shares: the Cranelift target, and the stub and entry
/// function (made once per process, never freed).
pub(crate) struct Host {
    isa: OwnedTargetIsa,
    enter: EnterFn,
    stub: usize,
    _fixed: code_mem::CodeMem,
}

// SAFETY: `_fixed` is never changed after construction (it only keeps the stub and the entry
// mapped); the target ISA is `Send + Sync`.
unsafe impl Sync for Host {}
unsafe impl Send for Host {}

impl Host {
    /// The process's host, made at the first call; an error is final (and cheap to repeat).
    fn get() -> Result<&'static Host, JitUnavailable> {
        static HOST: OnceLock<Result<Host, JitUnavailable>> = OnceLock::new();
        HOST.get_or_init(Host::new).as_ref().map_err(Clone::clone)
    }

    fn new() -> Result<Host, JitUnavailable> {
        if !Jit::AVAILABLE {
            return Err(Jit::unavailable());
        }
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v)
                .map_err(|e| JitUnavailable(format!("cranelift setting {k}={v}: {e}")))
        };
        // Measured: `speed` makes no faster code for these short blocks and compiles slower;
        // the single-pass register allocator compiles faster but the code runs slower.
        set(&mut flags, "opt_level", "none")?;
        // Cranelift's x86-64 tail calls (block chaining) rely on frame pointers.
        set(&mut flags, "preserve_frame_pointers", "true")?;
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
        let mut fctx = FunctionBuilderContext::new();
        let mut ctx = cranelift_codegen::Context::new();
        let mut fixed = code_mem::CodeMem::new();
        let mut install = |func| {
            ctx.clear();
            ctx.func = func;
            let code = ctx
                .compile(&*isa, &mut ControlPlane::default())
                .map_err(|e| JitUnavailable(format!("cranelift: {:?}", e.inner)))?;
            if !code.buffer.relocs().is_empty() {
                return Err(JitUnavailable("relocations in fixed code".into()));
            }
            let bytes = code.code_buffer().to_vec();
            fixed
                .install(&bytes)
                .ok_or_else(|| JitUnavailable("no executable memory".into()))
        };
        let stub = install(translate::build_stub(&*isa, &mut fctx))? as usize;
        let enter = install(translate::build_enter(&*isa, &mut fctx))?;
        // SAFETY: Cranelift compiled this function for this host with the host calling
        // convention and exactly this signature (`translate::build_enter`).
        let enter = unsafe { std::mem::transmute::<*const u8, EnterFn>(enter) };
        Ok(Host {
            isa,
            enter,
            stub,
            _fixed: fixed,
        })
    }
}

/// One machine's side of the compiling engine: the code cache it uses (shared with the other
/// machines running the same program, see [`cache`]) and its own run state.
pub(crate) struct Jit {
    host: &'static Host,
    /// The cache for the machine's program; `None` until it first runs compiled code.
    cache: Option<Arc<cache::Cache>>,
    /// The cache filled up: find or make another at the next [`Jit::sync`].
    rebind: bool,
    state: Box<Ctx>,
    /// Blocks this machine compiled (for statistics and tests).
    compiled: u64,
    /// The PC where the dispatcher last returned (see `Machine::exec_jit`).
    pub(crate) stopped_at: u32,
}

// The raw pointers in `state` are only set and used during one `run`.
unsafe impl Send for Jit {}

impl Jit {
    /// The engine for this host, or why there is none (decided once per process).
    pub(crate) fn new() -> Result<Jit, JitUnavailable> {
        Ok(Jit {
            host: Host::get()?,
            cache: None,
            rebind: false,
            state: Box::new(Ctx {
                regs: std::ptr::null_mut(),
                ram: std::ptr::null_mut(),
                pm: std::ptr::null(),
                left_insns: 0,
                left_cycles: 0,
                ring_next: 0,
                ring: [0; RING],
            }),
            compiled: 0,
            stopped_at: u32::MAX,
        })
    }

    /// Whether this host can run compiled code. Other hosts than x86-64 need an
    /// instruction-cache flush after writing code, not done here.
    pub(crate) const AVAILABLE: bool = cfg!(target_arch = "x86_64");

    /// Why compiled code cannot run here.
    pub(crate) fn unavailable() -> JitUnavailable {
        JitUnavailable(format!(
            "compiled code is supported on x86-64 hosts only, not {}",
            std::env::consts::ARCH
        ))
    }

    /// Whether compiled code can run on `core`: it assumes the full 64 KiB of RAM.
    pub(crate) fn usable(core: &Core) -> bool {
        core.ram_len() >= translate::NEEDS_RAM
    }

    /// Blocks this machine compiled itself. Machines sharing a cache compile each block once
    /// between them, whichever gets there first.
    pub(crate) fn compiled(&self) -> u64 {
        self.compiled
    }

    /// Blocks compiled into the cache this machine uses, by any machine.
    pub(crate) fn cached(&self) -> u64 {
        self.cache.as_ref().map_or(0, |c| c.compiled())
    }

    /// Whether this machine and `other` run the same compiled code.
    pub(crate) fn shares_code_with(&self, other: &Jit) -> bool {
        match (&self.cache, &other.cache) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Brings the cache up to date with program memory: joins a cache at the first call, and
    /// after program-memory writes or a remapping keeps it, updates it or changes to another
    /// (see [`cache`]). Only called with no compiled code of the old cache in the ring (the
    /// trail was filled), at the dispatcher's entry.
    #[inline]
    pub(crate) fn sync(&mut self, core: &mut Core) {
        let dirty = core.take_code_dirty();
        if let Some(c) = &self.cache {
            if !self.rebind
                && c.geometry() == cache::Geometry::of(core)
                && dirty.is_none_or(|(lo, hi)| cache::follow(c, core, lo, hi))
            {
                return;
            }
        }
        self.rebind(core);
    }

    #[cold]
    fn rebind(&mut self, core: &Core) {
        // Let go of the old cache first: if it was this machine's alone, it is freed.
        self.cache = None;
        self.rebind = false;
        self.cache = Some(cache::bind(self.host, core));
    }

    /// The block at `pc`: compiled code, or [`INTERP`] when the instruction there is to be
    /// interpreted (cold code, an unaligned PC, or an instruction compiled code leaves alone).
    /// With `count`, a PC without a block counts as reached once more, and the block is
    /// compiled when that makes it hot.
    #[inline(always)]
    pub(crate) fn lookup(&mut self, pc: u32, core: &Core, count: bool) -> Blk {
        if pc & 3 != 0 {
            return INTERP;
        }
        let Some(c) = self.cache.as_deref() else {
            return INTERP;
        };
        let i = (pc >> 2) as usize;
        if i >= (c.geometry_words()) {
            return INTERP;
        }
        if let Some(blk) = c.block(i) {
            return blk;
        }
        if !count || c.reach(i) < HOT {
            return INTERP;
        }
        let (blk, mine) = c.compile(self.host, pc, core);
        self.compiled += mine as u64;
        if c.is_full() {
            self.rebind = true;
        }
        blk
    }

    /// Runs compiled code from block `blk` at `pc` until a chain of blocks returns, with
    /// `insns_left` instructions of budget and `cycles_left` cycles before the deadline.
    /// Returns the exit and the instructions and cycles executed.
    ///
    /// # Safety
    /// `regs`, `ram` and `pm` must be the base pointers of the core the blocks were compiled
    /// for (register file, RAM of at least [`translate::NEEDS_RAM`] bytes, program memory of
    /// the size the table was made for), valid for reads and writes during the call.
    #[inline(always)]
    pub(crate) unsafe fn run(
        &mut self,
        blk: Blk,
        pc: u32,
        ptrs: (*mut u32, *mut u8, *const u8),
        insns_left: u64,
        cycles_left: u64,
    ) -> (Exit, u64, u64) {
        let st = &mut *self.state;
        (st.regs, st.ram, st.pm) = ptrs;
        let enter = self.host.enter;
        // SAFETY: `enter` and `blk.f` are code compiled for this host with the signatures
        // `translate` documents; the blocks only touch the memories the caller vouches for
        // and the context.
        let ring = st.ring_next;
        let word = unsafe { enter(st, blk.f, pc, insns_left, cycles_left, ring) };
        let st = &mut *self.state;
        let i = st.ring_next as usize % RING;
        st.ring[i] = RING_RETURN << 32 | st.left_insns;
        st.ring_next = ((i + 1) % RING) as u64;
        (
            Exit::decode(word),
            insns_left - st.left_insns,
            cycles_left - st.left_cycles,
        )
    }

    /// Writes the PCs of recently compiled-code instructions into `trail` (indexed by
    /// instruction count modulo its length, as the interpreter writes it), for the last
    /// `trail.len()` instructions before `insns`. `base` is the instruction count at which
    /// the run's budget was `budget` (the ring records instructions left of that budget).
    pub(crate) fn fill_trail(
        &mut self,
        trail: &mut [u32; crate::machine::TRAIL_LEN],
        insns: u64,
        base: u64,
        budget: u64,
    ) {
        let n = trail.len() as u64;
        // The first instruction number the trail keeps.
        let window = insns.saturating_sub(n);
        let st = &mut *self.state;
        let next = st.ring_next as usize;
        // Pairs of consecutive entries, newest first (the newest entry is always a return,
        // so it only ends a pair). This call's entries are the only non-zero ones (the ring
        // is cleared at the end of each call); once a block ended before the window, every
        // older one did too, so a call that ran thousands of blocks looks at a few.
        for k in (0..RING - 1).rev() {
            let e = st.ring[(next + k) % RING];
            if e == 0 {
                break;
            }
            let after = st.ring[(next + k + 1) % RING];
            let id = e >> 32;
            if id == RING_RETURN || after == 0 {
                continue;
            }
            let (left, left_after) = (e & 0xFFFF_FFFF, after & 0xFFFF_FFFF);
            let first = base + (budget - left);
            let len = left.saturating_sub(left_after);
            if first + len <= window {
                break;
            }
            let Some(trace) = self.cache.as_ref().and_then(|c| c.trace(id as u32)) else {
                continue;
            };
            // Only the instructions among the last `n` (and before `insns`) matter.
            let from = window.saturating_sub(first) as usize;
            let to = (len.min(insns.saturating_sub(first)) as usize).min(trace.len());
            for (k, &pc) in trace.iter().enumerate().take(to).skip(from) {
                // `n` is a power of two: the modulo is a mask.
                trail[((first + k as u64) % n) as usize] = pc;
            }
        }
        st.ring = [0; RING];
    }
}
