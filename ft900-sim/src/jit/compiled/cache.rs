//! Compiled code shared by every machine of the process that runs the same program.
//!
//! # Why, and what makes two machines' code the same
//!
//! A fleet runs hundreds of machines with one firmware image; compiling it once per machine
//! multiplied compile time and code memory by the fleet's size. A block's code depends only on
//! the memory sizes (program memory, its executable part, RAM) and on the instruction words of
//! its trace ([`translate::plan`] reads nothing else; data read by `lpm` is read at run time
//! through the machine's own pointers). Machines of a fleet are *not* byte-identical, though:
//! each is provisioned with its own configuration block in program memory. So a cache is not
//! keyed on a hash of program memory; it keeps a *reference* image of the executable words and
//! a set of *divergent* words where some machine using it differs from the reference. Traces
//! never include a divergent word (the interpreter executes it), and a word some block covers
//! never becomes divergent. Hence the invariant that makes sharing exact:
//!
//! - every compiled block's trace words are non-divergent and equal the reference, and
//! - every machine using the cache equals the reference at every non-divergent word,
//!
//! so each block is exactly what the machine would have compiled itself. A machine joins a
//! cache of its geometry whose reference it matches except at words no block covers (they
//! become divergent; at most [`divergence_cap`] of them, so that another firmware gets a cache
//! of its own), or makes a new cache with its own image as the reference.
//!
//! # Program-memory writes (copy on write)
//!
//! When a machine's program memory changes (loader, gdb-sim's PM port, a debugger, the flash
//! controller, a remapping), [`follow`] compares the changed words with the reference:
//! - unchanged, or only at words no block covers: the machine stays (those words become
//!   divergent), as after a reboot that reloads program memory from flash;
//! - the machine is the cache's only user: the cache is its own and behaves as before sharing:
//!   the blocks covering the changed words are dropped and the reference takes the new words;
//! - otherwise the machine leaves and joins (or makes) a cache matching its new image; the
//!   other machines keep the old cache, whose blocks are never changed while shared.
//!
//! # Concurrency
//!
//! A block, once published for a PC in a shared cache, never changes: the dispatcher's lookup
//! is one acquire load of the PC's state word (and a load of its code-table entry); reach
//! counts are relaxed atomics whose lost increments only delay a compile. Compiling, joining
//! and following happen under the cache's [`Compiler`] mutex (after the registry's, when both
//! are taken), which owns the Cranelift state and the code memory. Code memory and the code
//! table live as long as the cache, which every machine using it holds in an [`Arc`]; the code
//! table is allocated once, so the address compiled code holds stays valid. Compiled code
//! reads the code table with plain aligned 64-bit loads while another thread may store an
//! entry: the entries are `AtomicUsize`, and on x86-64 (the only host with compiled code) an
//! aligned load is the relaxed atomic load.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use cranelift_codegen::control::ControlPlane;
use cranelift_frontend::FunctionBuilderContext;

use super::{code_mem, translate, Blk, Host, INTERP};
use crate::core::Core;

/// What compiled code depends on besides instruction words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pm_len: u32,
    fetch_words: u32,
    ram_len: u32,
}

impl Geometry {
    #[inline(always)]
    pub(crate) fn of(core: &Core) -> Geometry {
        Geometry {
            pm_len: core.pm_len(),
            fetch_words: core.fetch_words(),
            ram_len: core.ram_len(),
        }
    }
}

/// State word of a PC that has a block (compiled or "interpret"): below it, the PC has none.
const BLOCK: u64 = 1 << 63;
/// The block has code (else the instruction at the PC is interpreted).
const HAS_CODE: u64 = 1 << 62;

/// Per-word flags: some block's trace holds the word.
const COVERED: u8 = 1;
/// Per-word flags: some machine using the cache differs from the reference here.
const DIVERGENT: u8 = 2;

fn pack(blk: &Blk) -> u64 {
    BLOCK
        | if blk.f != 0 { HAS_CODE } else { 0 }
        | (blk.max_cycles as u64 & 0xFFFF) << 40
        | (blk.len as u64 & 0xFF) << 32
        | blk.id as u64
}

/// Divergent words a cache accepts: beyond it the machines do not run the same program. A
/// sixteenth of the reference's non-zero words (mostly zero program memory must not make two
/// small programs look alike), and of program memory. A fleet's devices differ in their
/// configuration blocks' contents: a few hundred words against tens of thousands of code.
fn divergence_cap(nonzero: usize, words: u32) -> usize {
    nonzero.min(words as usize) / 16
}

/// Entries per page of [`Traces`].
const TRACE_PAGE: usize = 1024;
/// Pages of [`Traces`]: the most blocks one cache compiles.
const TRACE_PAGES: usize = 4096;

/// The PCs of each block's trace by block id (for the fault trail and invalidation): an
/// append-only table read without a lock (ids are handed out under the compiler mutex).
struct Traces {
    pages: Box<[OnceLock<TracePage>]>,
}

/// [`TRACE_PAGE`] traces, each set once.
type TracePage = Box<[OnceLock<Box<[u32]>>]>;

impl Traces {
    const CAPACITY: u32 = (TRACE_PAGE * TRACE_PAGES) as u32;

    fn new() -> Traces {
        Traces {
            pages: (0..TRACE_PAGES).map(|_| OnceLock::new()).collect(),
        }
    }

    fn get(&self, id: u32) -> Option<&[u32]> {
        let page = self.pages.get(id as usize / TRACE_PAGE)?.get()?;
        page[id as usize % TRACE_PAGE].get().map(|t| &**t)
    }

    fn set(&self, id: u32, trace: Box<[u32]>) {
        let Some(page) = self.pages.get(id as usize / TRACE_PAGE) else {
            return;
        };
        let page = page.get_or_init(|| (0..TRACE_PAGE).map(|_| OnceLock::new()).collect());
        let _ = page[id as usize % TRACE_PAGE].set(trace);
    }
}

/// What only one thread at a time may use: the Cranelift state and the code memory.
struct Compiler {
    fctx: FunctionBuilderContext,
    ctx: cranelift_codegen::Context,
    mem: code_mem::CodeMem,
    next_id: u32,
    divergent: usize,
}

/// The compiled blocks for one program image, shared by the machines running it.
pub(crate) struct Cache {
    geometry: Geometry,
    /// Per program-memory word: [`BLOCK`]-tagged block description, or 0 (no block).
    state: Box<[AtomicU64]>,
    /// Per program-memory word: how often control arrived there without a block.
    counts: Box<[AtomicU32]>,
    /// Per program-memory word plus one: the code compiled code chains to for that PC (a
    /// block function or the stub). Allocated once: compiled code holds its address.
    code: Box<[AtomicUsize]>,
    /// Per executable word: the program the blocks were compiled from.
    reference: Box<[AtomicU32]>,
    /// Per executable word: [`COVERED`], [`DIVERGENT`].
    flags: Box<[AtomicU8]>,
    traces: Traces,
    /// Non-zero words of the reference when the cache was made (see [`divergence_cap`]).
    nonzero: usize,
    stub: usize,
    /// No more code fits: machines do not join it any more.
    full: AtomicBool,
    /// Blocks compiled into the cache.
    compiled: AtomicU64,
    compiler: Mutex<Compiler>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing under these locks panics half-way through an update (a panic in Cranelift
    // leaves at most an unpublished block), so a poisoned lock's state is still sound.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every cache alive in the process, found by the machines that start or change program.
static REGISTRY: Mutex<Vec<Weak<Cache>>> = Mutex::new(Vec::new());

#[inline(always)]
fn pm_word(pm: &[u8], w: usize) -> u32 {
    u32::from_le_bytes([pm[4 * w], pm[4 * w + 1], pm[4 * w + 2], pm[4 * w + 3]])
}

impl Cache {
    fn new(core: &Core, stub: usize) -> Cache {
        let geometry = Geometry::of(core);
        let words = (geometry.pm_len / 4) as usize;
        let exec = geometry.fetch_words as usize;
        let pm = core.pm();
        Cache {
            geometry,
            state: (0..words).map(|_| AtomicU64::new(0)).collect(),
            counts: (0..words).map(|_| AtomicU32::new(0)).collect(),
            code: (0..=words).map(|_| AtomicUsize::new(stub)).collect(),
            reference: (0..exec).map(|w| AtomicU32::new(pm_word(pm, w))).collect(),
            flags: (0..exec).map(|_| AtomicU8::new(0)).collect(),
            traces: Traces::new(),
            nonzero: (0..exec).filter(|&w| pm_word(pm, w) != 0).count(),
            stub,
            full: AtomicBool::new(false),
            compiled: AtomicU64::new(0),
            compiler: Mutex::new(Compiler {
                fctx: FunctionBuilderContext::new(),
                ctx: cranelift_codegen::Context::new(),
                mem: code_mem::CodeMem::new(),
                next_id: 0,
                divergent: 0,
            }),
        }
    }

    pub(crate) fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Words of program memory the cache covers.
    #[inline(always)]
    pub(crate) fn geometry_words(&self) -> usize {
        self.state.len()
    }

    /// Whether no more code fits.
    pub(crate) fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Blocks compiled into this cache so far (by any machine).
    pub(crate) fn compiled(&self) -> u64 {
        self.compiled.load(Ordering::Relaxed)
    }

    /// The trace of block `id`.
    pub(crate) fn trace(&self, id: u32) -> Option<&[u32]> {
        self.traces.get(id)
    }

    /// The block at word `i`, if one was published.
    #[inline(always)]
    pub(crate) fn block(&self, i: usize) -> Option<Blk> {
        let s = self.state.get(i)?.load(Ordering::Acquire);
        if s & BLOCK == 0 {
            return None;
        }
        if s & HAS_CODE == 0 {
            return Some(INTERP);
        }
        Some(Blk {
            // Published before the state word (release/acquire).
            f: self.code[i].load(Ordering::Relaxed),
            len: (s >> 32) as u8 as u32,
            max_cycles: (s >> 40) as u16 as u32,
            id: s as u32,
        })
    }

    /// Counts one more arrival at word `i` (which has no block); returns the new count.
    #[inline(always)]
    pub(crate) fn reach(&self, i: usize) -> u32 {
        let c = &self.counts[i];
        // Load and store rather than a locked add: a lost increment only delays a compile.
        let n = c.load(Ordering::Relaxed).saturating_add(1);
        c.store(n, Ordering::Relaxed);
        n
    }

    /// Publishes "interpret" for word `i`.
    fn publish_interp(&self, i: usize) {
        self.state[i].store(pack(&INTERP), Ordering::Release);
    }

    /// Compiles the block at `pc` (from `core`, which uses this cache) unless another machine
    /// did meanwhile. Returns the block and whether this call compiled it.
    #[cold]
    #[inline(never)]
    pub(crate) fn compile(&self, host: &Host, pc: u32, core: &Core) -> (Blk, bool) {
        let mut k = lock(&self.compiler);
        let i = (pc >> 2) as usize;
        if let Some(blk) = self.block(i) {
            return (blk, false);
        }
        if k.mem.used() > code_mem::LIMIT || k.next_id >= Traces::CAPACITY {
            // Pathological self-modifying code: machines that change program memory get a
            // new cache; this one compiles no more.
            self.full.store(true, Ordering::Relaxed);
            self.publish_interp(i);
            return (INTERP, false);
        }
        let flags = &self.flags;
        let plan = translate::plan(core, pc, |p| {
            flags
                .get((p >> 2) as usize)
                .is_some_and(|f| f.load(Ordering::Relaxed) & DIVERGENT != 0)
        });
        if plan.insns.is_empty() {
            self.publish_interp(i);
            return (INTERP, false);
        }
        let id = k.next_id;
        let env = translate::Env {
            table: self.code.as_ptr() as usize,
            words: self.geometry.pm_len / 4,
            id,
        };
        let Some(f) = k.emit(host, &plan, self.geometry.pm_len, env) else {
            // Cranelift refused (should not happen): this PC stays interpreted.
            self.publish_interp(i);
            return (INTERP, false);
        };
        k.next_id += 1;
        let trace: Box<[u32]> = plan.insns.iter().map(|&(p, _)| p).collect();
        for &p in trace.iter() {
            if let Some(fl) = self.flags.get((p >> 2) as usize) {
                fl.fetch_or(COVERED, Ordering::Relaxed);
            }
        }
        self.traces.set(id, trace);
        let blk = Blk {
            f,
            len: plan.insns.len() as u32,
            max_cycles: plan.max_cycles,
            id,
        };
        self.code[i].store(f, Ordering::Release);
        self.state[i].store(pack(&blk), Ordering::Release);
        self.compiled.fetch_add(1, Ordering::Relaxed);
        (blk, true)
    }

    /// Whether `core`'s words `lo..hi` agree with the cache, making them so if they can:
    /// words that differ become divergent (no block covers them), or, when the cache is the
    /// machine's alone (`exclusive`), the blocks covering them are dropped and the reference
    /// takes them. `false`: the machine must use another cache.
    fn agree(&self, k: &mut Compiler, core: &Core, lo: usize, hi: usize, exclusive: bool) -> bool {
        let pm = core.pm();
        let hi = hi.min(self.reference.len());
        let differs = |w: usize| {
            pm_word(pm, w) != self.reference[w].load(Ordering::Relaxed)
                && self.flags[w].load(Ordering::Relaxed) & DIVERGENT == 0
        };
        let (mut new, mut covered) = (0, false);
        for w in lo..hi {
            if differs(w) {
                new += 1;
                covered |= self.flags[w].load(Ordering::Relaxed) & COVERED != 0;
            }
        }
        if new == 0 {
            return true;
        }
        if !exclusive {
            let cap = divergence_cap(self.nonzero, self.geometry.fetch_words);
            if covered || k.divergent + new > cap {
                return false;
            }
            for w in lo..hi {
                if differs(w) {
                    self.flags[w].fetch_or(DIVERGENT, Ordering::Relaxed);
                }
            }
            k.divergent += new;
            return true;
        }
        // The machine's own cache: today's invalidation, then the new words are the reference.
        let changed = |p: u32| {
            let w = (p >> 2) as usize;
            w < hi && w >= lo && differs(w)
        };
        for (i, s) in self.state.iter().enumerate() {
            let v = s.load(Ordering::Relaxed);
            if v & BLOCK == 0 {
                continue;
            }
            let stale = if v & HAS_CODE == 0 {
                // An "interpret" entry was decided from the word at its own PC.
                changed((i as u32) << 2)
            } else {
                self.traces
                    .get(v as u32)
                    .is_some_and(|t| t.iter().any(|&p| changed(p)))
            };
            if stale {
                s.store(0, Ordering::Relaxed);
                self.counts[i].store(0, Ordering::Relaxed);
                self.code[i].store(self.stub, Ordering::Relaxed);
            }
        }
        if covered {
            for f in self.flags.iter() {
                f.fetch_and(!COVERED, Ordering::Relaxed);
            }
            for s in self.state.iter() {
                let v = s.load(Ordering::Relaxed);
                if v & (BLOCK | HAS_CODE) != BLOCK | HAS_CODE {
                    continue;
                }
                for &p in self.traces.get(v as u32).unwrap_or(&[]) {
                    if let Some(f) = self.flags.get((p >> 2) as usize) {
                        f.fetch_or(COVERED, Ordering::Relaxed);
                    }
                }
            }
        }
        for w in lo..hi {
            if differs(w) {
                self.reference[w].store(pm_word(pm, w), Ordering::Relaxed);
            }
        }
        true
    }
}

impl Compiler {
    fn emit(
        &mut self,
        host: &Host,
        plan: &translate::Plan,
        pm_len: u32,
        env: translate::Env,
    ) -> Option<usize> {
        let func = translate::build(&*host.isa, &mut self.fctx, plan, pm_len, env);
        self.ctx.clear();
        self.ctx.func = func;
        let code = match self.ctx.compile(&*host.isa, &mut ControlPlane::default()) {
            Ok(c) => c,
            Err(e) => {
                debug_assert!(false, "cranelift rejected a block: {:?}", e.inner);
                return None;
            }
        };
        if !code.buffer.relocs().is_empty() {
            return None;
        }
        let bytes = code.code_buffer().to_vec();
        self.mem.install(&bytes).map(|p| p as usize)
    }
}

/// A cache for `core`'s program: one of the process's caches that `core` agrees with, or a
/// new one with `core`'s program as the reference.
pub(crate) fn bind(host: &Host, core: &Core) -> Arc<Cache> {
    let geometry = Geometry::of(core);
    let mut registry = lock(&REGISTRY);
    registry.retain(|w| w.strong_count() > 0);
    for cache in registry.iter().filter_map(Weak::upgrade) {
        if cache.geometry != geometry || cache.full.load(Ordering::Relaxed) {
            continue;
        }
        let mut k = lock(&cache.compiler);
        let words = geometry.fetch_words as usize;
        // Others may use it (or start to, once the registry is unlocked): never exclusive.
        if cache.agree(&mut k, core, 0, words, false) {
            drop(k);
            return cache;
        }
    }
    let cache = Arc::new(Cache::new(core, host.stub));
    registry.push(Arc::downgrade(&cache));
    cache
}

/// Whether the machine using `cache` may keep it after its program-memory bytes `lo..hi`
/// changed (see the module documentation); `false`: it must [`bind`] again.
pub(crate) fn follow(cache: &Arc<Cache>, core: &Core, lo: u32, hi: u32) -> bool {
    // Machines only get hold of a cache under the registry lock, so the count cannot grow
    // while it is held.
    let _registry = lock(&REGISTRY);
    let exclusive = Arc::strong_count(cache) == 1;
    let mut k = lock(&cache.compiler);
    let lo = (lo / 4) as usize;
    let hi = hi.div_ceil(4) as usize;
    cache.agree(&mut k, core, lo, hi, exclusive)
}
