//! The compiling engine's dispatcher: runs compiled blocks where they fit the run's limits and
//! the interpreter for everything else, with the same contract as the interpreter's hook-free
//! `exec_block` (see [`crate::jit`] for why the two agree).

use super::{Machine, Profile};
use crate::jit::{Exit, Jit};
use crate::stop::StopReason;

impl<P: Profile> Machine<P> {
    /// Executes up to `budget` instructions while the cycle counter is below `deadline`, like
    /// `exec_block::<false>`: returns `Some(CountReached)` when it stopped for the budget
    /// (possibly early; the run loop just calls again), `None` after an instruction that needs
    /// the devices looked at, or the reason the run stops.
    #[inline(never)]
    pub(super) fn exec_jit(&mut self, budget: u64, deadline: u64) -> Option<StopReason> {
        // A machine made with the default engine compiles nothing until it first runs here.
        let Some(mut jit) = self.jit.take().or_else(|| Jit::new().ok().map(Box::new)) else {
            return self.exec_block::<false>(budget, deadline, None, false);
        };
        if !Jit::usable(&self.core) {
            self.jit = Some(jit);
            return self.exec_block::<false>(budget, deadline, None, false);
        }
        jit.sync(&mut self.core);
        let start = self.core.insns;
        let outcome = loop {
            let done = self.core.insns - start;
            if done >= budget {
                break Some(StopReason::CountReached);
            }
            if self.core.cycles >= deadline {
                break Some(StopReason::CycleLimit);
            }
            let pc = self.core.pc;
            let blk = jit.lookup(pc, &self.core);
            let fits = blk.len as u64 <= budget - done
                && self.core.cycles + blk.max_cycles as u64 <= deadline;
            let interp_next = match blk.f {
                Some(f) if fits => {
                    let (regs, ram, pm) = self.core.jit_pointers();
                    // SAFETY: the block was compiled for this core's memory sizes (the table
                    // is reset when program memory is remapped, and `usable` checked RAM);
                    // it only touches registers and in-bounds RAM/PM bytes.
                    let exit = Exit::decode(unsafe { f(regs, ram, pm) });
                    if exit.insns > 0 {
                        jit.record(blk.id, exit.insns, self.core.insns);
                    }
                    self.core.pc = exit.pc;
                    self.core.insns += exit.insns as u64;
                    self.core.cycles += exit.cycles as u64;
                    exit.interp
                }
                _ => true,
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
                // flash controller).
                jit.sync(&mut self.core);
            }
        };
        jit.fill_trail(&mut self.trail, self.core.insns);
        self.jit = Some(jit);
        outcome
    }
}
