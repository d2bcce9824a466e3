//! Where the cycles go: instructions and cycles per function (flat) and per call stack (folded
//! stacks, `a;b;c CYCLES`, which `inferno-flamegraph` and `flamegraph.pl` read).
//!
//! The profiler follows the guest's calls with a shadow stack: a taken `call`/`calli` (and
//! their conditional forms) pushes a frame, an interrupt entry pushes an `[interrupt]` marker
//! and the handler's frame. Frames end when the stack pointer rises above the return address
//! their entry pushed, which covers `return`, `reti` and also `longjmp` and any other unwind.
//! A jump into another function (a tail call) replaces the top frame's function, except a jump
//! back into the middle of the caller's function, which ends the top frame (millicode such as
//! gcc's -Os `__prolog_$rN`, called and left with a jump). Every cycle
//! is charged to the stack of the instruction that spent it (interrupt entry to the handler).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::core::Core;
use crate::debuginfo::{FunctionId, Symbolizer};
use crate::isa::Op;
use crate::machine::{HookAction, HookId, IntrEvent, Machine, Profile};

/// Shadow stacks deeper than this stop growing (a runaway recursion), so that the profile
/// stays bounded; deeper calls are charged to the deepest frame.
const MAX_DEPTH: usize = 512;

/// Cycles an interrupt entry costs (charged to the handler).
const ENTRY_CYCLES: u64 = 2;

/// Index of a call-tree node; node 0 is the root (no function).
type NodeId = u32;

struct Node {
    parent: NodeId,
    function: FunctionId,
    cycles: u64,
    insns: u64,
}

#[derive(Clone, Copy)]
struct Frame {
    node: NodeId,
    function: FunctionId,
    /// Stack pointer at the frame's entry (pointing at the pushed return address); the frame
    /// is over once the stack pointer is above it.
    entry_sp: u32,
    /// An `[interrupt]` marker, whose function never changes.
    marker: bool,
}

struct State {
    symbolizer: Symbolizer,
    nodes: Vec<Node>,
    children: HashMap<(NodeId, FunctionId), NodeId>,
    frames: Vec<Frame>,
    calls: Vec<u64>,
    interrupt: FunctionId,
    /// Node charged for cycles since `last_cycles`.
    current: NodeId,
    last_cycles: u64,
    /// The instruction of `current` has not been counted yet.
    pending_insn: bool,
    /// The previous instruction was a call (taken or not) and ran with this stack pointer.
    prev_call: Option<u32>,
    started: bool,
    /// While paused, calls and returns are followed but nothing is counted.
    paused: bool,
}

impl State {
    fn child(&mut self, parent: NodeId, function: FunctionId) -> NodeId {
        if let Some(&n) = self.children.get(&(parent, function)) {
            return n;
        }
        self.nodes.push(Node {
            parent,
            function,
            cycles: 0,
            insns: 0,
        });
        let n = (self.nodes.len() - 1) as NodeId;
        self.children.insert((parent, function), n);
        n
    }

    fn count_call(&mut self, f: FunctionId) {
        let i = f as usize;
        if self.calls.len() <= i {
            self.calls.resize(i + 1, 0);
        }
        self.calls[i] += 1;
    }

    /// Charges the cycles up to `now` (and the pending instruction) to the current node.
    #[inline]
    fn charge(&mut self, now: u64) {
        if !self.paused {
            let node = &mut self.nodes[self.current as usize];
            node.cycles += now.wrapping_sub(self.last_cycles);
            node.insns += self.pending_insn as u64;
        }
        self.last_cycles = now;
        self.pending_insn = false;
    }

    fn push(&mut self, function: FunctionId, entry_sp: u32, marker: bool) {
        if self.frames.len() >= MAX_DEPTH {
            self.replace_top(function);
            return;
        }
        let parent = self.frames.last().map_or(0, |f| f.node);
        let node = self.child(parent, function);
        self.frames.push(Frame {
            node,
            function,
            entry_sp,
            marker,
        });
        if !marker && !self.paused {
            self.count_call(function);
        }
    }

    fn replace_top(&mut self, function: FunctionId) {
        let Some(top) = self.frames.last().copied() else {
            return;
        };
        if top.marker {
            // Code right after an interrupt marker always runs in a frame of its own.
            self.push(function, top.entry_sp, false);
            return;
        }
        let parent = self.nodes[top.node as usize].parent;
        let node = self.child(parent, function);
        let top = self.frames.last_mut().expect("checked above");
        top.node = node;
        top.function = function;
    }

    /// Before the instruction at `pc` runs.
    #[inline]
    fn instruction(&mut self, core: &Core, pc: u32) {
        let sp = core.regs[31];
        if !self.started {
            self.started = true;
            self.last_cycles = core.cycles;
            let f = self.symbolizer.function_of(pc);
            self.push(f, u32::MAX, false);
        } else {
            self.charge(core.cycles);
        }
        // Frames whose return address was popped (return, reti, longjmp) are over.
        while self.frames.len() > 1 && sp > self.frames.last().map_or(u32::MAX, |f| f.entry_sp) {
            self.frames.pop();
        }
        let f = self.symbolizer.function_of(pc);
        match self.prev_call.take() {
            // A taken call pushed the return address.
            Some(call_sp) if sp == call_sp.wrapping_sub(4) & 0xFFFF => self.push(f, sp, false),
            _ => {
                if self.returns_to_caller(f, pc) {
                    // Millicode that returns with a jump and leaves its stack below the return
                    // address: gcc's -Os `__prolog_$rN` is called, pushes the callee-saved
                    // registers and jumps back (`jmpi $r13`). Its frame is over.
                    self.frames.pop();
                } else if self.frames.last().is_some_and(|t| t.function != f) {
                    self.replace_top(f);
                    // A jump to a function's first instruction (a tail call, or the jump from
                    // an interrupt vector to its handler) enters it.
                    if self.symbolizer.function(f).start == pc && !self.paused {
                        self.count_call(f);
                    }
                }
            }
        }
        self.current = self.frames.last().map_or(0, |t| t.node);
        self.pending_insn = true;
        if let Some(insn) = core.fetch(pc) {
            if matches!(insn.op, Op::Call | Op::CallI | Op::CallC | Op::CallIC) {
                self.prev_call = Some(sp);
            }
        }
    }

    /// Whether a jump to `pc` (in function `f`) goes back into the middle of the function of
    /// the frame below the top one: a return that does not pop the return address.
    fn returns_to_caller(&self, f: FunctionId, pc: u32) -> bool {
        let n = self.frames.len();
        n >= 2
            && self.frames[n - 1].function != f
            && !self.frames[n - 1].marker
            && !self.frames[n - 2].marker
            && self.frames[n - 2].function == f
            && self.symbolizer.function(f).start != pc
    }

    /// After the CPU entered an interrupt at `vector`.
    fn interrupt(&mut self, core: &Core, vector: u32, from: u32) {
        if !self.started {
            return;
        }
        // The interrupted instruction's cycles end where the entry's begin.
        self.charge(core.cycles.wrapping_sub(ENTRY_CYCLES));
        let sp = core.regs[31];
        let before = sp.wrapping_add(4) & 0xFFFF;
        if let Some(call_sp) = self.prev_call.take() {
            // Interrupted before the first instruction of a function just called.
            if before == call_sp.wrapping_sub(4) & 0xFFFF {
                let f = self.symbolizer.function_of(from);
                self.push(f, before, false);
            }
        }
        let handler = self.symbolizer.function_of(vector);
        let marker = self.interrupt;
        self.push(marker, sp, true);
        self.push(handler, sp, false);
        self.current = self.frames.last().map_or(0, |t| t.node);
    }
}

/// One function's line of the flat profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionStats {
    /// Function name (`[interrupt]` for the interrupt-entry marker, `0x...` for code without a
    /// symbol).
    pub name: String,
    /// Cycles spent in the function itself.
    pub self_cycles: u64,
    /// Instructions executed in the function itself.
    pub self_insns: u64,
    /// Cycles spent in the function and everything it called (recursion counted once).
    pub total_cycles: u64,
    /// Times the function was called (or entered as an interrupt handler).
    pub calls: u64,
}

/// A snapshot of a profile.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Functions that ran, most self cycles first (ties by name).
    pub functions: Vec<FunctionStats>,
    /// Folded stacks `a;b;c` and their cycles, sorted by stack.
    pub folded: Vec<(String, u64)>,
    /// Cycles profiled.
    pub cycles: u64,
    /// Instructions profiled.
    pub insns: u64,
}

impl Report {
    /// The flat profile as a text table, with a header naming `title`.
    pub fn write_flat(&self, out: &mut dyn Write, title: &str) -> std::io::Result<()> {
        writeln!(out, "# ft900-sim flat profile: {title}")?;
        writeln!(
            out,
            "# {} instructions, {} cycles ({:.6} s at 100 MHz); self = in the function itself, \
             total = with its callees",
            self.insns,
            self.cycles,
            self.cycles as f64 / 1e8
        )?;
        writeln!(
            out,
            "#  self_cycles  self%   self_insns  total_cycles  total%      calls  function"
        )?;
        for f in &self.functions {
            writeln!(
                out,
                "{:>14} {:>6.2} {:>12} {:>13} {:>7.2} {:>10}  {}",
                f.self_cycles,
                self.percent(f.self_cycles),
                f.self_insns,
                f.total_cycles,
                self.percent(f.total_cycles),
                f.calls,
                f.name
            )?;
        }
        Ok(())
    }

    /// Folded stacks, one `a;b;c CYCLES` line per stack.
    pub fn write_folded(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for (stack, cycles) in &self.folded {
            writeln!(out, "{stack} {cycles}")?;
        }
        Ok(())
    }

    fn percent(&self, cycles: u64) -> f64 {
        100.0 * cycles as f64 / self.cycles.max(1) as f64
    }

    /// The `n` functions with the most self cycles, as a table for humans.
    pub fn summary(&self, n: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "profile: {} instructions, {} cycles ({:.3} ms at 100 MHz) in {} functions; top {} by cycles:",
            self.insns,
            self.cycles,
            self.cycles as f64 / 1e5,
            self.functions.len(),
            n.min(self.functions.len())
        );
        let _ = writeln!(
            s,
            "  {:>12} {:>6} {:>12} {:>7}  function",
            "cycles", "%", "insns", "total%"
        );
        for f in self.functions.iter().take(n) {
            let _ = writeln!(
                s,
                "  {:>12} {:>5.1}% {:>12} {:>6.1}%  {}",
                f.self_cycles,
                self.percent(f.self_cycles),
                f.self_insns,
                self.percent(f.total_cycles),
                f.name
            );
        }
        s
    }

    /// The line of the function called `name`.
    pub fn function(&self, name: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name == name)
    }
}

/// The flat-profile line of `f`, created on first use.
fn stats_for<'a>(
    flat: &'a mut HashMap<FunctionId, FunctionStats>,
    f: FunctionId,
    name: &dyn Fn(FunctionId) -> String,
    calls: &[u64],
) -> &'a mut FunctionStats {
    flat.entry(f).or_insert_with(|| FunctionStats {
        name: name(f),
        self_cycles: 0,
        self_insns: 0,
        total_cycles: 0,
        calls: calls.get(f as usize).copied().unwrap_or(0),
    })
}

/// A profiler: install it on a machine, run, then take a [`Report`]. Cheap to clone (clones
/// share the counts).
#[derive(Clone)]
pub struct Profiler {
    shared: Arc<Mutex<State>>,
}

impl Profiler {
    /// A profiler naming functions with `symbolizer`.
    pub fn new(mut symbolizer: Symbolizer) -> Profiler {
        let interrupt = symbolizer.pseudo_function("[interrupt]");
        Profiler {
            shared: Arc::new(Mutex::new(State {
                symbolizer,
                nodes: vec![Node {
                    parent: 0,
                    function: FunctionId::MAX,
                    cycles: 0,
                    insns: 0,
                }],
                children: HashMap::new(),
                frames: Vec::new(),
                calls: Vec::new(),
                interrupt,
                current: 0,
                last_cycles: 0,
                pending_insn: false,
                prev_call: None,
                started: false,
                paused: false,
            })),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Installs the hooks (every instruction, interrupt entries) on `m`; the profile starts
    /// at the next instruction. Returns the hook ids.
    pub fn install<P: Profile>(&self, m: &mut Machine<P>) -> Vec<HookId> {
        let s = self.shared.clone();
        let code = m.add_code_hook(0, u32::MAX, move |core, pc| {
            s.lock()
                .unwrap_or_else(|p| p.into_inner())
                .instruction(core, pc);
            HookAction::Continue
        });
        let s = self.shared.clone();
        let intr = m.add_intr_hook(move |core, event| {
            if let IntrEvent::Enter { vector, from } = event {
                s.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .interrupt(core, vector, from);
            }
            HookAction::Continue
        });
        vec![code, intr]
    }

    /// Zeroes every count (the shadow stack is kept): the next report covers what runs from
    /// now on. For profiling one span of a run.
    pub fn clear(&self, core: &Core) {
        let mut s = self.state();
        for n in &mut s.nodes {
            n.cycles = 0;
            n.insns = 0;
        }
        s.calls.iter_mut().for_each(|c| *c = 0);
        s.last_cycles = core.cycles;
        s.pending_insn = false;
    }

    /// Stops (`true`) or resumes counting; calls and returns are still followed while paused,
    /// so that stacks stay right. For profiling only some spans of a run.
    pub fn set_paused(&self, core: &Core, paused: bool) {
        let mut s = self.state();
        if s.started {
            s.charge(core.cycles);
        }
        s.paused = paused;
    }

    /// A snapshot of the counts so far. `core` (the machine's, after the run) lets the last
    /// instruction's cycles be counted.
    pub fn report(&self, core: &Core) -> Report {
        let mut s = self.state();
        if s.started {
            s.charge(core.cycles);
        }
        let s = &*s;
        let name = |f: FunctionId| s.symbolizer.function(f).name.clone();
        // Per node: the path of function ids from the root.
        let path = |mut n: NodeId| {
            let mut p = Vec::new();
            while n != 0 {
                p.push(s.nodes[n as usize].function);
                n = s.nodes[n as usize].parent;
            }
            p.reverse();
            p
        };
        let mut flat: HashMap<FunctionId, FunctionStats> = HashMap::new();
        let mut folded = Vec::new();
        let (mut cycles, mut insns) = (0u64, 0u64);
        for (i, node) in s.nodes.iter().enumerate().skip(1) {
            if node.cycles == 0 && node.insns == 0 {
                continue;
            }
            cycles += node.cycles;
            insns += node.insns;
            let p = path(i as NodeId);
            let own = stats_for(&mut flat, node.function, &name, &s.calls);
            own.self_cycles += node.cycles;
            own.self_insns += node.insns;
            let mut seen: Vec<FunctionId> = Vec::with_capacity(p.len());
            for &f in &p {
                if !seen.contains(&f) {
                    seen.push(f);
                    stats_for(&mut flat, f, &name, &s.calls).total_cycles += node.cycles;
                }
            }
            let stack: Vec<String> = p.iter().map(|&f| name(f)).collect();
            folded.push((stack.join(";"), node.cycles));
        }
        let mut functions: Vec<FunctionStats> = flat.into_values().collect();
        functions.sort_by(|a, b| {
            (b.self_cycles, b.total_cycles, &a.name).cmp(&(a.self_cycles, a.total_cycles, &b.name))
        });
        folded.retain(|(_, c)| *c > 0);
        folded.sort();
        Report {
            functions,
            folded,
            cycles,
            insns,
        }
    }
}
