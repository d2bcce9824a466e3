//! The compiling engine's dispatcher: runs compiled blocks where they fit the run's limits and
//! the interpreter for everything else, with the same contract as the interpreter's hook-free
//! `exec_block` (see [`crate::jit`] for why the two agree).

use super::{Machine, Profile};
use crate::jit::Jit;
use crate::stop::StopReason;

impl<P: Profile> Machine<P> {
    /// Executes up to `budget` instructions while the cycle counter is below `deadline`, like
    /// `exec_block::<false>`: returns `Some(CountReached)` when it stopped for the budget
    /// (possibly early; the run loop just calls again), `None` after an instruction that needs
    /// the devices looked at, or the reason the run stops.
    #[inline(never)]
    pub(super) fn exec_jit(&mut self, budget: u64, deadline: u64) -> Option<StopReason> {
        // A machine made with the default engine gets its engine when it first runs here.
        let mut jit = match self.jit.take() {
            Some(jit) => jit,
            None => match Jit::new() {
                Ok(jit) => Box::new(jit),
                Err(e) => {
                    // Only the default engine gets here (`set_engine` reports the error): fall
                    // back to the interpreter once, for good.
                    static WARNED: std::sync::Once = std::sync::Once::new();
                    WARNED.call_once(|| {
                        tracing::warn!("{e}; running the interpreter instead");
                    });
                    self.engine = crate::jit::Engine::Interp;
                    return self.exec_block::<false>(budget, deadline, None, false);
                }
            },
        };
        if !Jit::usable(&self.core) {
            self.jit = Some(jit);
            return self.exec_block::<false>(budget, deadline, None, false);
        }
        jit.sync(&mut self.core);
        // Compiled code keeps the instructions left in 32 bits of its trail ring; returning
        // early is allowed (the run loop calls again).
        let budget = budget.min(u32::MAX as u64);
        let start = self.core.insns;
        // Reach counts make block starts of the PCs where control arrives: the targets of
        // exits from compiled code and of interpreted instructions. Where the previous call
        // stopped (at the end of a budget or at a deadline, usually the middle of a trace) is
        // no such place, unless something moved the PC since (an interrupt entry, the API).
        let mut count = self.core.pc != jit.stopped_at;
        let outcome = loop {
            let done = self.core.insns - start;
            if done >= budget {
                break Some(StopReason::CountReached);
            }
            if self.core.cycles >= deadline {
                break Some(StopReason::CycleLimit);
            }
            let pc = self.core.pc;
            let blk = jit.lookup(pc, &self.core, count);
            count = true;
            let fits = blk.len as u64 <= budget - done
                && self.core.cycles + blk.max_cycles as u64 <= deadline;
            if blk.f != 0 && !fits {
                if done > 0 && blk.len as u64 > budget - done {
                    // The run loop calls again with a fresh budget, in which the block fits
                    // unless the run's own limit is this close.
                    break Some(StopReason::CountReached);
                }
                // Too close to the end of the run's budget or to the deadline for this block:
                // the interpreter runs what is left of them (less than a block's worth).
                // Looking up each PC on the way would count the middle of traces as block
                // starts and compile a trace from each of them.
                break loop {
                    let done = self.core.insns - start;
                    if done >= budget {
                        break Some(StopReason::CountReached);
                    }
                    if self.core.cycles >= deadline {
                        break Some(StopReason::CycleLimit);
                    }
                    match self.exec_block::<false>(budget - done, deadline, None, false) {
                        Some(StopReason::CountReached) => {}
                        other => break other,
                    }
                };
            }
            let interp_next = if blk.f != 0 && fits {
                let ptrs = self.core.jit_pointers();
                // SAFETY: the block was compiled for this core's memory sizes (the table is
                // reset when program memory is remapped, and `usable` checked RAM); compiled
                // code only touches registers and in-bounds RAM/PM bytes.
                let (exit, insns, cycles) =
                    unsafe { jit.run(blk, pc, ptrs, budget - done, deadline - self.core.cycles) };
                self.core.pc = exit.pc;
                self.core.insns += insns;
                self.core.cycles += cycles;
                exit.interp
            } else {
                true
            };
            if interp_next {
                if self.core.insns - start >= budget || self.core.cycles >= deadline {
                    continue;
                }
                match self.exec_block::<false>(1, deadline, None, false) {
                    Some(StopReason::CountReached) => {}
                    other => break other,
                }
                // The instruction may have written program memory (gdb-sim's PM port, the
                // flash controller): return, so that the trail is filled from the blocks of
                // the cache that ran them, and the next call brings the cache up to date
                // before any compiled code runs (returning early is allowed).
                if self.core.code_dirty() {
                    break Some(StopReason::CountReached);
                }
            }
        };
        jit.fill_trail(&mut self.trail, self.core.insns, start, budget);
        jit.stopped_at = self.core.pc;
        self.jit = Some(jit);
        outcome
    }
}
