//! Translation of one FT32 trace into a Cranelift function.
//!
//! A trace is a straight run of instructions from one PC that follows direct jumps, calls and
//! the fall-through path of conditional branches; it ends after an indirect transfer or a
//! `return`, before an instruction the compiled code leaves to the interpreter, when it comes
//! back to one of its own instructions, or at [`MAX_LEN`] instructions.
//!
//! Every block function uses Cranelift's `tail` calling convention with the signature
//! `fn(ctx: *mut Ctx, pc: u32, insns_left: u64, cycles_left: u64, ring_next: u64) -> u64`.
//! It first checks that its whole trace fits what is left of the instruction budget and of the
//! cycles before the deadline (else it returns at once, having done nothing). Where the trace leaves for another
//! PC it *chains*: it loads the code pointer for the target from the engine's per-word table
//! (a stub that returns to the dispatcher where nothing is compiled) and tail-calls it with
//! the counters left, so a hot loop runs from block to block without going back to Rust.
//! The final exit stores the counters left into the context and returns the PC, with bit 63
//! set when the interpreter must execute the instruction there first (see [`Exit`]). Every
//! block that runs records its id and the instructions left in the context's ring, for the
//! fault-report trail.
//!
//! Registers are loaded from memory on first use and kept in SSA values; a register write is
//! stored at once, so exits only return. Data accesses go straight to RAM; an access that at run time
//! turns out to touch the I/O space (or anything but RAM) leaves the block *before* that
//! instruction with the "interpret next" flag, so the interpreter performs it with its device
//! and fault semantics. Nothing the compiled code does can fault.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{
    AbiParam, BlockArg, Endianness, Function, InstBuilder, MemFlags, SigRef, Signature,
    UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::core::{Core, RAM_BIAS, RAM_SIZE};
use crate::isa::{flag_word, AluOp, FfuOp, Insn, Op, Width, IMM};
use crate::machine::IO_BASE;

/// Most instructions in one block (keeps the exit word's counters small and compile units
/// short).
pub(crate) const MAX_LEN: u32 = 48;

/// Decoded exit word of a chain of compiled blocks (the counters are in the context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exit {
    /// PC after the instructions executed.
    pub pc: u32,
    /// The instruction at `pc` must be executed by the interpreter before any compiled code.
    pub interp: bool,
}

/// Bit of the exit word that says "interpret next".
const INTERP_BIT: u64 = 1 << 63;

impl Exit {
    /// Decodes the word a chain returned.
    #[inline(always)]
    pub(crate) fn decode(word: u64) -> Exit {
        Exit {
            pc: word as u32,
            interp: word & INTERP_BIT != 0,
        }
    }
}

/// Where compiled code finds the engine's state (see [`super::Ctx`]) and the table of code
/// pointers it chains through.
#[derive(Clone, Copy)]
pub(crate) struct Env {
    /// Address of the code-pointer table: one `usize` per program-memory word, and one more
    /// (index `words`) holding the stub that returns to the dispatcher.
    pub table: usize,
    /// Program-memory words the table covers.
    pub words: u32,
    /// This block's index in the engine's trace list (recorded for the trail).
    pub id: u32,
}

/// How the compiled code treats one instruction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Compiled; the block goes on after it.
    Straight,
    /// Compiled; a control transfer (the trace follows direct ones and fall-throughs).
    Ends,
    /// Left to the interpreter: the block ends before it.
    Interp,
}

fn classify(insn: &Insn, pc: u32, core: &Core) -> Kind {
    let ram_ok = |ea: u32, w: Width| {
        let ea = ea & 0x1_FFFF;
        ea < IO_BASE && (ea & !(w.bytes() - 1)) + w.bytes() <= core.ram_len()
    };
    match insn.op {
        Op::Alu(_) | Op::Cmp(_) | Op::Ldk => Kind::Straight,
        Op::Ldi(_) | Op::Sti(_) | Op::Exi(_) | Op::Push | Op::Pop | Op::Link | Op::Unlink => {
            Kind::Straight
        }
        Op::Lda(w) | Op::Sta(w) | Op::Exa(w) => {
            if ram_ok(insn.imm, w) {
                Kind::Straight
            } else {
                Kind::Interp
            }
        }
        Op::Lpm(w) => {
            let a = insn.imm & !(w.bytes() - 1);
            let ok = if a < RAM_BIAS {
                a as u64 + w.bytes() as u64 <= core.pm_len() as u64
            } else {
                (a - RAM_BIAS) as u64 + w.bytes() as u64 <= core.ram_len() as u64
            };
            if ok {
                Kind::Straight
            } else {
                Kind::Interp
            }
        }
        Op::Lpmi(_) => {
            if core.pm_len() >= 4 {
                Kind::Straight
            } else {
                Kind::Interp
            }
        }
        Op::Ffu(op, _) => match op {
            FfuOp::Udiv | FfuOp::Umod | FfuOp::Div | FfuOp::Mod | FfuOp::Mul | FfuOp::Muluh => {
                Kind::Straight
            }
            _ => Kind::Interp,
        },
        // A jump to itself is an idle loop, which the run loop skips in time; the interpreter
        // detects it.
        Op::Jmp if insn.imm == pc => Kind::Interp,
        Op::Jmp
        | Op::Call
        | Op::JmpC
        | Op::CallC
        | Op::JmpI
        | Op::CallI
        | Op::JmpIC
        | Op::CallIC
        | Op::Return => Kind::Ends,
        Op::Reti | Op::Breakpoint | Op::Halt | Op::Illegal(_) => Kind::Interp,
    }
}

/// Extra cycles (beyond one) of an instruction that does not transfer control.
fn extra_cycles(op: &Op) -> u32 {
    matches!(
        op,
        Op::Lpm(_) | Op::Lpmi(_) | Op::Lda(_) | Op::Ldi(_) | Op::Exa(_) | Op::Exi(_) | Op::Pop
    ) as u32
}

/// Static properties of a planned block (a trace: it follows direct jumps and calls, and the
/// fall-through path of conditional branches, which leave the block when taken).
pub(crate) struct Plan {
    /// Instructions of the trace and their addresses (empty: the instruction at the start is
    /// left to the interpreter).
    pub insns: Vec<(u32, Insn)>,
    /// Upper bound of the cycles a full run of the trace takes.
    pub max_cycles: u32,
    /// Where the trace goes after its last instruction, if that does not transfer control
    /// itself, and whether the interpreter must run the instruction there.
    pub next: u32,
    pub interp_next: bool,
}

/// Plans the block starting at `pc`: which instructions it holds and its cycle bound.
/// Compiled code requires the full 64 KiB of RAM (the caller checks). The trace stops before
/// a PC for which `excluded` holds (left to the interpreter: a word whose contents differ
/// between the machines sharing the code, see `super::cache`).
pub(crate) fn plan(core: &Core, pc: u32, excluded: impl Fn(u32) -> bool) -> Plan {
    let mut insns: Vec<(u32, Insn)> = Vec::new();
    let mut max_cycles = 0;
    let mut at = pc;
    let mut interp_next = false;
    while (insns.len() as u32) < MAX_LEN {
        if at & 3 != 0 {
            interp_next = true;
            break;
        }
        if insns.iter().any(|&(p, _)| p == at) {
            // Back to an instruction of the trace (a loop): a new block run starts there.
            break;
        }
        if excluded(at) {
            interp_next = true;
            break;
        }
        let Some(insn) = core.fetch(at) else {
            interp_next = true;
            break;
        };
        match classify(&insn, at, core) {
            Kind::Interp => {
                interp_next = true;
                break;
            }
            Kind::Straight => {
                insns.push((at, insn));
                max_cycles += 1 + extra_cycles(&insn.op);
                at = at.wrapping_add(4);
            }
            Kind::Ends => {
                insns.push((at, insn));
                max_cycles += 2;
                match insn.op {
                    Op::Jmp | Op::Call => at = insn.imm,
                    Op::JmpC | Op::CallC | Op::JmpIC | Op::CallIC => at = at.wrapping_add(4),
                    _ => break,
                }
            }
        }
    }
    Plan {
        insns,
        max_cycles,
        next: at,
        interp_next,
    }
}

/// Helpers the compiled code calls for rare or awkward operations (`extern "C"`, so that the
/// Cranelift signature matches).
extern "C" fn helper_alu(op: u32, a: u32, b: u32) -> u32 {
    alu_of(op).apply(a, b)
}

extern "C" fn helper_flags(op_dw: u32, a: u32, b: u32) -> u32 {
    let op = alu_of(op_dw >> 8);
    flag_word(op, (op_dw & 3) as u8, a, b, op.apply(a, b))
}

extern "C" fn helper_div(op: u32, a: u32, b: u32) -> u32 {
    match op {
        0 => a.checked_div(b).unwrap_or(u32::MAX),
        1 => a.checked_rem(b).unwrap_or(a),
        2 => match (a as i32, b as i32) {
            (_, 0) if (a as i32) < 0 => 1,
            (_, 0) => u32::MAX,
            (i32::MIN, -1) => 0x8000_0000,
            (x, y) => (x / y) as u32,
        },
        _ => match (a as i32, b as i32) {
            (_, 0) => a,
            (i32::MIN, -1) => 0,
            (x, y) => (x % y) as u32,
        },
    }
}

fn alu_of(n: u32) -> AluOp {
    use AluOp::*;
    [
        Add, Ror, Sub, Ldl, And, Or, Xor, Xnor, Ashl, Lshr, Ashr, Bins, Bexts, Bextu, Flip,
    ][n as usize % 15]
}

/// The signature of every block function (and of the stub): see the module documentation.
pub(crate) fn block_signature(isa: &dyn TargetIsa) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::new(isa.pointer_type()));
    sig.params.push(AbiParam::new(I32));
    sig.params.push(AbiParam::new(I64));
    sig.params.push(AbiParam::new(I64));
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// The stub the table holds where nothing is compiled: returns to the dispatcher with the PC
/// and the counters unchanged.
pub(crate) fn build_stub(isa: &dyn TargetIsa, fctx: &mut FunctionBuilderContext) -> Function {
    let mut func = Function::with_name_signature(UserFuncName::default(), block_signature(isa));
    let mut b = FunctionBuilder::new(&mut func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    store_counters(&mut b, p[0], p[2], p[3], p[4]);
    let pc = b.ins().uextend(I64, p[1]);
    b.ins().return_(&[pc]);
    b.seal_all_blocks();
    b.finalize();
    func
}

/// The entry the dispatcher calls (host calling convention):
/// `fn(ctx, block, pc, insns_left, cycles_left, ring_next) -> exit word`; it calls the block
/// function.
pub(crate) fn build_enter(isa: &dyn TargetIsa, fctx: &mut FunctionBuilderContext) -> Function {
    let ptr = isa.pointer_type();
    let mut sig = Signature::new(isa.default_call_conv());
    for t in [ptr, ptr, I32, I64, I64, I64] {
        sig.params.push(AbiParam::new(t));
    }
    sig.returns.push(AbiParam::new(I64));
    let mut func = Function::with_name_signature(UserFuncName::default(), sig);
    let mut b = FunctionBuilder::new(&mut func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    let bsig = b.import_signature(block_signature(isa));
    let call = b
        .ins()
        .call_indirect(bsig, p[1], &[p[0], p[2], p[3], p[4], p[5]]);
    let r = b.inst_results(call)[0];
    b.ins().return_(&[r]);
    b.seal_all_blocks();
    b.finalize();
    func
}

/// Stores the counters left and the next ring slot into the context (before a return to the
/// dispatcher).
fn store_counters(b: &mut FunctionBuilder, ctx: Value, li: Value, lc: Value, ring: Value) {
    let f = MemFlags::trusted();
    b.ins().store(f, li, ctx, super::CTX_LEFT_INSNS);
    b.ins().store(f, lc, ctx, super::CTX_LEFT_CYCLES);
    b.ins().store(f, ring, ctx, super::CTX_RING_NEXT);
}

/// Builds the Cranelift function of a planned block.
pub(crate) fn build(
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
    plan: &Plan,
    pm_len: u32,
    env: Env,
) -> Function {
    let ptr = isa.pointer_type();
    let cc = isa.default_call_conv();
    let mut func = Function::with_name_signature(UserFuncName::default(), block_signature(isa));
    let mut helper = Signature::new(cc);
    for _ in 0..3 {
        helper.params.push(AbiParam::new(I32));
    }
    helper.returns.push(AbiParam::new(I32));

    let mut b = FunctionBuilder::new(&mut func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (ctx, li, lc, ring) = (params[0], params[2], params[3], params[4]);
    let helper_sig = b.import_signature(helper);
    let block_sig = b.import_signature(block_signature(isa));
    let start = plan.insns[0].0;

    // Run only if the whole trace fits the budget and cannot cross the deadline.
    let fits_i = b.ins().icmp_imm(
        IntCC::UnsignedGreaterThanOrEqual,
        li,
        plan.insns.len() as i64,
    );
    // Two branches rather than one on the conjunction: each comparison then fuses into its
    // branch.
    let body = b.create_block();
    let room_i = b.create_block();
    let no_room = b.create_block();
    b.ins().brif(fits_i, room_i, &[], no_room, &[]);
    b.switch_to_block(room_i);
    let fits_c = b.ins().icmp_imm(
        IntCC::UnsignedGreaterThanOrEqual,
        lc,
        plan.max_cycles as i64,
    );
    b.ins().brif(fits_c, body, &[], no_room, &[]);
    b.switch_to_block(no_room);
    b.set_cold_block(no_room);
    store_counters(&mut b, ctx, li, lc, ring);
    let pcw = b.ins().iconst(I64, start as i64);
    b.ins().return_(&[pcw]);
    b.switch_to_block(body);

    // Record the run in the ring (for the trail): this block's id and the instructions left
    // when it started. The dispatcher derives how many it ran from the next entry.
    let off = b.ins().ishl_imm(ring, 3);
    let slot = b.ins().iadd(ctx, off);
    let entry = b.ins().bor_imm(li, ((env.id as u64) << 32) as i64);
    b.ins()
        .store(MemFlags::trusted(), entry, slot, super::CTX_RING);
    let ring = b.ins().iadd_imm(ring, 1);
    let ring = b.ins().band_imm(ring, (super::RING - 1) as i64);

    let regs = b.ins().load(ptr, MemFlags::trusted(), ctx, super::CTX_REGS);
    let ram = b.ins().load(ptr, MemFlags::trusted(), ctx, super::CTX_RAM);
    let reads_pm = plan
        .insns
        .iter()
        .any(|(_, i)| matches!(i.op, Op::Lpm(_) | Op::Lpmi(_)));
    let pm = if reads_pm {
        b.ins().load(ptr, MemFlags::trusted(), ctx, super::CTX_PM)
    } else {
        regs // never used
    };
    let mut t = Tr {
        b,
        ptr,
        ctx,
        li,
        lc,
        ring,
        regs,
        ram,
        pm,
        cache: [None; 32],
        helper_sig,
        block_sig,
        env,
        guard_exit: None,
    };
    let mut cycles = 0u32;
    let mut ended = false;
    for (k, &(at, insn)) in plan.insns.iter().enumerate() {
        ended = t.insn(&insn, at, k as u32, cycles, pm_len);
        cycles += 1 + extra_cycles(&insn.op) + matches!(insn.op, Op::Jmp | Op::Call) as u32;
    }
    if !ended {
        let n = plan.insns.len() as u32;
        if plan.interp_next {
            let next = t.k(plan.next);
            t.leave(next, n, cycles, true);
        } else {
            t.chain_static(plan.next, n, cycles);
        }
    }
    t.guard_exit();
    t.b.seal_all_blocks();
    t.b.finalize();
    func
}

/// Translation state: the builder and the SSA value currently held by each register.
struct Tr<'a> {
    b: FunctionBuilder<'a>,
    ptr: cranelift_codegen::ir::Type,
    ctx: Value,
    /// Instructions and cycles left when the block started.
    li: Value,
    lc: Value,
    /// The ring slot after this block's entry.
    ring: Value,
    regs: Value,
    ram: Value,
    pm: Value,
    cache: [Option<Value>; 32],
    helper_sig: SigRef,
    block_sig: SigRef,
    env: Env,
    /// The guards' shared exit block, once there is a guard.
    guard_exit: Option<cranelift_codegen::ir::Block>,
}

/// Operand `b` of an ALU/CMP/FFU instruction: a constant or a register's value.
#[derive(Clone, Copy)]
enum Operand {
    Const(u32),
    Reg(Value),
}

impl Tr<'_> {
    fn flags() -> MemFlags {
        MemFlags::new()
            .with_notrap()
            .with_endianness(Endianness::Little)
    }

    fn k(&mut self, v: u32) -> Value {
        self.b.ins().iconst(I32, v as i64)
    }

    fn get(&mut self, r: u8) -> Value {
        let r = r as usize & 31;
        match self.cache[r] {
            Some(v) => v,
            None => {
                let v = self
                    .b
                    .ins()
                    .load(I32, MemFlags::trusted(), self.regs, (r * 4) as i32);
                self.cache[r] = Some(v);
                v
            }
        }
    }

    /// Writes register `r`. The value is stored at once (a store is cheap, and then no exit
    /// needs to write registers back, which keeps side exits to a single return).
    fn set(&mut self, r: u8, v: Value) {
        let r = r as usize & 31;
        self.cache[r] = Some(v);
        self.b
            .ins()
            .store(MemFlags::trusted(), v, self.regs, (r * 4) as i32);
    }

    /// Counts `insns` instructions and `cycles` cycles of this block as done: the counters
    /// left.
    fn account(&mut self, insns: u32, cycles: u32) -> (Value, Value) {
        let li = self.b.ins().iadd_imm(self.li, -(insns as i64));
        let lc = self.b.ins().iadd_imm(self.lc, -(cycles as i64));
        (li, lc)
    }

    /// Leaves for the dispatcher after `insns` instructions that took `cycles`, at `pc`
    /// (registers are already stored).
    fn leave(&mut self, pc: Value, insns: u32, cycles: u32, interp: bool) {
        let (li, lc) = self.account(insns, cycles);
        store_counters(&mut self.b, self.ctx, li, lc, self.ring);
        let pc64 = self.b.ins().uextend(I64, pc);
        let word = if interp {
            self.b.ins().bor_imm(pc64, INTERP_BIT as i64)
        } else {
            pc64
        };
        self.b.ins().return_(&[word]);
    }

    /// Goes on at the constant `target` after `insns` instructions: tail-calls whatever the
    /// table holds for it (a block or the stub).
    fn chain_static(&mut self, target: u32, insns: u32, cycles: u32) {
        if target & 3 != 0 || target / 4 >= self.env.words {
            // Not a word of program memory: the interpreter reports the fetch fault.
            let t = self.k(target);
            self.leave(t, insns, cycles, false);
            return;
        }
        let (li, lc) = self.account(insns, cycles);
        let slot = self.b.ins().iconst(
            self.ptr,
            (self.env.table + (target / 4) as usize * 8) as i64,
        );
        let f = self.b.ins().load(self.ptr, MemFlags::trusted(), slot, 0);
        let t = self.k(target);
        self.b
            .ins()
            .return_call_indirect(self.block_sig, f, &[self.ctx, t, li, lc, self.ring]);
    }

    /// Goes on at the run-time `target` after `insns` instructions: an unaligned target or one
    /// beyond program memory takes the table's last entry (the stub).
    fn chain_dynamic(&mut self, target: Value, insns: u32, cycles: u32) {
        let (li, lc) = self.account(insns, cycles);
        // Rotating makes an unaligned address huge, so one comparison checks both.
        let idx = self.b.ins().rotr_imm(target, 2);
        let inside = self
            .b
            .ins()
            .icmp_imm(IntCC::UnsignedLessThan, idx, self.env.words as i64);
        let stub = self.k(self.env.words);
        let idx = self.b.ins().select(inside, idx, stub);
        let idx = self.b.ins().uextend(self.ptr, idx);
        let off = self.b.ins().ishl_imm(idx, 3);
        let base = self.b.ins().iconst(self.ptr, self.env.table as i64);
        let slot = self.b.ins().iadd(base, off);
        let f = self.b.ins().load(self.ptr, MemFlags::trusted(), slot, 0);
        self.b.ins().return_call_indirect(
            self.block_sig,
            f,
            &[self.ctx, target, li, lc, self.ring],
        );
    }

    /// Leaves the block before instruction `k` (at `pc`) unless `ok` holds.
    /// All guards of the block share one exit, which gets the PC and the counts packed in
    /// one word (fewer instructions to compile than an exit per guard).
    fn guard(&mut self, ok: Value, k: u32, pc: u32, cycles: u32) {
        let exit = match self.guard_exit {
            Some(e) => e,
            None => {
                let e = self.b.create_block();
                self.b.append_block_param(e, I64);
                self.guard_exit = Some(e);
                e
            }
        };
        let cont = self.b.create_block();
        let w = self.b.ins().iconst(
            I64,
            (pc as u64 | (k as u64) << 32 | (cycles as u64) << 40) as i64,
        );
        self.b.ins().brif(ok, cont, &[], exit, &[BlockArg::from(w)]);
        self.b.switch_to_block(cont);
    }

    /// Emits the guards' shared exit (see [`Tr::guard`]), if there are guards.
    fn guard_exit(&mut self) {
        let Some(exit) = self.guard_exit else {
            return;
        };
        self.b.switch_to_block(exit);
        self.b.set_cold_block(exit);
        let w = self.b.block_params(exit)[0];
        let insns = self.b.ins().ushr_imm(w, 32);
        let insns = self.b.ins().band_imm(insns, 0xFF);
        let cycles = self.b.ins().ushr_imm(w, 40);
        let li = self.b.ins().isub(self.li, insns);
        let lc = self.b.ins().isub(self.lc, cycles);
        store_counters(&mut self.b, self.ctx, li, lc, self.ring);
        let pc = self.b.ins().band_imm(w, 0xFFFF_FFFF);
        let word = self.b.ins().bor_imm(pc, INTERP_BIT as i64);
        self.b.ins().return_(&[word]);
    }

    fn operand(&mut self, insn: &Insn) -> Operand {
        if insn.rb == IMM {
            Operand::Const(insn.imm)
        } else {
            Operand::Reg(self.get(insn.rb))
        }
    }

    fn val(&mut self, o: Operand) -> Value {
        match o {
            Operand::Const(c) => self.k(c),
            Operand::Reg(v) => v,
        }
    }

    fn call_helper(&mut self, f: extern "C" fn(u32, u32, u32) -> u32, args: [Value; 3]) -> Value {
        let callee = self.b.ins().iconst(self.ptr, f as usize as i64);
        let call = self.b.ins().call_indirect(self.helper_sig, callee, &args);
        self.b.inst_results(call)[0]
    }

    fn masked(&mut self, v: Value, m: u32) -> Value {
        let mv = self.k(m);
        self.b.ins().band(v, mv)
    }

    fn alu(&mut self, op: AluOp, a: Value, bo: Operand) -> Value {
        use AluOp::*;
        match (op, bo) {
            (Bins | Bexts | Bextu, Operand::Const(c)) => {
                let len = match (c >> 5) & 15 {
                    0 => 16,
                    l => l,
                };
                let pos = c & 31;
                let low = (1u32 << len) - 1;
                match op {
                    Bextu => {
                        let s = self.b.ins().ushr_imm(a, pos as i64);
                        self.masked(s, low)
                    }
                    Bexts => {
                        let shift = (32 - len) as i64;
                        let s = self.b.ins().ushr_imm(a, pos as i64);
                        let s = self.b.ins().ishl_imm(s, shift);
                        self.b.ins().sshr_imm(s, shift)
                    }
                    _ => {
                        let mask = low << pos;
                        let ins = ((c >> 10) << pos) & mask;
                        let kept = self.masked(a, !mask);
                        let iv = self.k(ins);
                        self.b.ins().bor(kept, iv)
                    }
                }
            }
            (Bins | Bexts | Bextu | Flip, _) => {
                let opv = self.k(op as u32);
                let bv = self.val(bo);
                self.call_helper(helper_alu, [opv, a, bv])
            }
            _ => {
                let bv = self.val(bo);
                let ins = self.b.ins();
                match op {
                    Add => ins.iadd(a, bv),
                    Sub => ins.isub(a, bv),
                    And => ins.band(a, bv),
                    Or => ins.bor(a, bv),
                    Xor => ins.bxor(a, bv),
                    Xnor => {
                        let x = ins.bxor(a, bv);
                        self.b.ins().bnot(x)
                    }
                    // Cranelift takes shift and rotate amounts modulo the type width, as the
                    // FT32 does (`b & 31`).
                    Ror => ins.rotr(a, bv),
                    Ashl => ins.ishl(a, bv),
                    Lshr => ins.ushr(a, bv),
                    Ashr => ins.sshr(a, bv),
                    Ldl => {
                        let hi = ins.ishl_imm(a, 10);
                        let lo = self.masked(bv, 0x3FF);
                        self.b.ins().bor(hi, lo)
                    }
                    Bins | Bexts | Bextu | Flip => unreachable!("handled above"),
                }
            }
        }
    }

    /// The CMP flag word ([`flag_word`]) for widths 0..=2, inline.
    fn flag_word(&mut self, op: AluOp, dw: u8, a: Value, b: Value, res: Value) -> Value {
        if op == AluOp::Sub && dw == 2 {
            return self.flags_sub32(a, b, res);
        }
        if dw > 2 {
            let opdw = self.k((op as u32) << 8 | dw as u32);
            return self.call_helper(helper_flags, [opdw, a, b]);
        }
        let (sb, mask): (i64, u32) = match dw {
            0 => (7, 0xFF),
            1 => (15, 0xFFFF),
            _ => (31, 0xFFFF_FFFF),
        };
        let zero = if dw == 2 {
            self.b.ins().icmp_imm(IntCC::Equal, res, 0)
        } else {
            let m = self.masked(res, mask);
            self.b.ins().icmp_imm(IntCC::Equal, m, 0)
        };
        let bit = |t: &mut Self, v: Value| {
            let s = t.b.ins().ushr_imm(v, sb);
            t.b.ins().band_imm(s, 1)
        };
        let sign = bit(self, res);
        let ahi = bit(self, a);
        let bhi = bit(self, b);
        let s_ne_a = self.b.ins().icmp(IntCC::NotEqual, sign, ahi);
        let a_ne_b = self.b.ins().icmp(IntCC::NotEqual, ahi, bhi);
        let ov = self.b.ins().band(s_ne_a, a_ne_b);
        let carry = match op {
            AluOp::Add if dw == 2 => Some(self.b.ins().icmp(IntCC::UnsignedLessThan, res, a)),
            AluOp::Add => {
                let ra = self.masked(a, mask);
                let rb = self.masked(b, mask);
                let s = self.b.ins().iadd(ra, rb);
                let c = self.b.ins().ushr_imm(s, sb + 1);
                let c = self.b.ins().band_imm(c, 1);
                Some(self.b.ins().ireduce(cranelift_codegen::ir::types::I8, c))
            }
            AluOp::Sub if dw == 2 => Some(self.b.ins().icmp(IntCC::UnsignedLessThan, a, b)),
            AluOp::Sub => {
                let ra = self.masked(a, mask);
                let rb = self.masked(b, mask);
                Some(self.b.ins().icmp(IntCC::UnsignedLessThan, ra, rb))
            }
            _ => None,
        };
        let ins = |t: &mut Self, v: Value| t.b.ins().uextend(I32, v);
        let zero32 = ins(self, zero);
        let ov32 = ins(self, ov);
        let ge = self.b.ins().icmp(IntCC::Equal, sign, ov32);
        let ge32 = ins(self, ge);
        let nz = self.b.ins().bxor_imm(zero32, 1);
        let gt = self.b.ins().band(ge32, nz);
        let mut word = zero32;
        let mut or_shift = |t: &mut Self, v: Value, s: i64| {
            let x = t.b.ins().ishl_imm(v, s);
            word = t.b.ins().bor(word, x);
        };
        or_shift(self, ov32, 2);
        or_shift(self, sign, 3);
        or_shift(self, ge32, 4);
        or_shift(self, gt, 5);
        if let Some(c) = carry {
            let c32 = ins(self, c);
            let nc = self.b.ins().bxor_imm(c32, 1);
            let above = self.b.ins().band(nc, nz);
            or_shift(self, c32, 1);
            or_shift(self, above, 6);
        } else {
            // No carry: "above" is "not zero".
            or_shift(self, nz, 6);
        }
        word
    }

    /// The flag word of the common `cmp.l` (a 32-bit subtraction), where each flag but
    /// overflow is one comparison: zero `a == b`, carry (borrow) `a < b`, sign bit 31 of the
    /// result, overflow from the operands' and the result's signs, "greater or equal"
    /// (sign == overflow) `a >= b` signed, "greater" `a > b` signed, "above" `a > b` unsigned.
    fn flags_sub32(&mut self, a: Value, b: Value, res: Value) -> Value {
        let mut word = {
            let z = self.b.ins().icmp(IntCC::Equal, a, b);
            self.b.ins().uextend(I32, z)
        };
        for (cc, bit) in [
            (IntCC::UnsignedLessThan, 1),
            (IntCC::SignedGreaterThanOrEqual, 4),
            (IntCC::SignedGreaterThan, 5),
            (IntCC::UnsignedGreaterThan, 6),
        ] {
            let c = self.b.ins().icmp(cc, a, b);
            let c = self.b.ins().uextend(I32, c);
            let c = self.b.ins().ishl_imm(c, bit);
            word = self.b.ins().bor(word, c);
        }
        // Overflow: the operands' signs differ and the result's differs from a's.
        let ab = self.b.ins().bxor(a, b);
        let ar = self.b.ins().bxor(a, res);
        let ov = self.b.ins().band(ab, ar);
        let ov = self.b.ins().ushr_imm(ov, 31);
        let ov = self.b.ins().ishl_imm(ov, 2);
        word = self.b.ins().bor(word, ov);
        let sign = self.b.ins().ushr_imm(res, 31);
        let sign = self.b.ins().ishl_imm(sign, 3);
        self.b.ins().bor(word, sign)
    }

    /// Host address of RAM offset `a` (an i32 value below the RAM size).
    fn ram_addr(&mut self, a: Value) -> Value {
        let a64 = self.b.ins().uextend(self.ptr, a);
        self.b.ins().iadd(self.ram, a64)
    }

    fn load(&mut self, base: Value, addr: Value, w: Width) -> Value {
        let a64 = self.b.ins().uextend(self.ptr, addr);
        let p = self.b.ins().iadd(base, a64);
        let f = Self::flags();
        match w {
            Width::Byte => self.b.ins().uload8(I32, f, p, 0),
            Width::Half => self.b.ins().uload16(I32, f, p, 0),
            Width::Word => self.b.ins().load(I32, f, p, 0),
        }
    }

    fn ram_load(&mut self, a: Value, w: Width) -> Value {
        let ram = self.ram;
        self.load(ram, a, w)
    }

    fn ram_store(&mut self, a: Value, w: Width, v: Value) {
        let p = self.ram_addr(a);
        let f = Self::flags();
        match w {
            Width::Byte => self.b.ins().istore8(f, v, p, 0),
            Width::Half => self.b.ins().istore16(f, v, p, 0),
            Width::Word => self.b.ins().store(f, v, p, 0),
        };
    }

    /// Data-space effective address `base + off`, truncated to 17 bits, with a guard that it
    /// lies in RAM; returns the address rounded down to the width.
    fn ram_ea(&mut self, base: Value, off: u32, w: Width, k: u32, pc: u32, cycles: u32) -> Value {
        let offv = self.k(off);
        let ea = self.b.ins().iadd(base, offv);
        let ea = self.masked(ea, 0x1_FFFF);
        let ok = self
            .b
            .ins()
            .icmp_imm(IntCC::UnsignedLessThan, ea, IO_BASE as i64);
        self.guard(ok, k, pc, cycles);
        self.masked(ea, !(w.bytes() - 1))
    }

    /// `push v`: SP is decremented within 16 bits and the word stored there (always RAM).
    fn push(&mut self, v: Value) {
        let sp = self.get(31);
        let sp = self.b.ins().iadd_imm(sp, -4);
        let sp = self.masked(sp, 0xFFFF);
        self.set(31, sp);
        let a = self.masked(sp, !3);
        self.ram_store(a, Width::Word, v);
    }

    /// `pop`: loads the word at SP (guarded: SP may point outside RAM) and increments SP.
    fn pop(&mut self, k: u32, pc: u32, cycles: u32) -> Value {
        let sp = self.get(31);
        let ea = self.masked(sp, 0x1_FFFF);
        let ok = self
            .b
            .ins()
            .icmp_imm(IntCC::UnsignedLessThan, ea, IO_BASE as i64);
        self.guard(ok, k, pc, cycles);
        let a = self.masked(ea, !3);
        let v = self.ram_load(a, Width::Word);
        let sp = self.b.ins().iadd_imm(sp, 4);
        let sp = self.masked(sp, 0xFFFF);
        self.set(31, sp);
        v
    }

    /// Translates instruction `k` of the trace, at `pc`; `cycles` were spent before it.
    /// Returns `true` when it left the block on every path (indirect transfers, `return`).
    fn insn(&mut self, insn: &Insn, pc: u32, k: u32, cycles: u32, pm_len: u32) -> bool {
        let next = pc.wrapping_add(4);
        let done = k + 1;
        let after = cycles + 1 + extra_cycles(&insn.op);
        match insn.op {
            Op::Alu(op) => {
                let a = self.get(insn.r1);
                let bo = self.operand(insn);
                let r = self.alu(op, a, bo);
                self.set(insn.rd, r);
            }
            Op::Cmp(op) => {
                let a = self.get(insn.r1);
                let bo = self.operand(insn);
                let r = self.alu(op, a, bo);
                let bv = self.val(bo);
                let f = self.flag_word(op, insn.cb, a, bv, r);
                self.set(insn.rd, f);
            }
            Op::Ldk => {
                let v = self.k(insn.imm);
                self.set(insn.rd, v);
            }
            Op::Lda(w) => {
                let a = self.k((insn.imm & 0x1_FFFF) & !(w.bytes() - 1));
                let v = self.ram_load(a, w);
                self.set(insn.rd, v);
            }
            Op::Sta(w) => {
                let a = self.k((insn.imm & 0x1_FFFF) & !(w.bytes() - 1));
                let v = self.get(insn.rd);
                self.ram_store(a, w, v);
            }
            Op::Exa(w) => {
                let a = self.k((insn.imm & 0x1_FFFF) & !(w.bytes() - 1));
                let old = self.ram_load(a, w);
                let v = self.get(insn.rd);
                self.ram_store(a, w, v);
                self.set(insn.rd, old);
            }
            Op::Ldi(w) => {
                let base = self.get(insn.r1);
                let a = self.ram_ea(base, insn.imm, w, k, pc, cycles);
                let v = self.ram_load(a, w);
                self.set(insn.rd, v);
            }
            Op::Sti(w) => {
                let base = self.get(insn.rd);
                let a = self.ram_ea(base, insn.imm, w, k, pc, cycles);
                let v = self.get(insn.r1);
                self.ram_store(a, w, v);
            }
            Op::Exi(w) => {
                let base = self.get(insn.r1);
                let a = self.ram_ea(base, insn.imm, w, k, pc, cycles);
                let old = self.ram_load(a, w);
                let v = self.get(insn.rd);
                self.ram_store(a, w, v);
                self.set(insn.rd, old);
            }
            Op::Lpm(w) => {
                let a = insn.imm & !(w.bytes() - 1);
                let v = if a < RAM_BIAS {
                    let av = self.k(a);
                    let pm = self.pm;
                    self.load(pm, av, w)
                } else {
                    let av = self.k(a - RAM_BIAS);
                    self.ram_load(av, w)
                };
                self.set(insn.rd, v);
            }
            Op::Lpmi(w) => {
                let base = self.get(insn.r1);
                let off = self.k(insn.imm);
                let addr = self.b.ins().iadd(base, off);
                let a = self.masked(addr, !(w.bytes() - 1));
                let ok = self.b.ins().icmp_imm(
                    IntCC::UnsignedLessThanOrEqual,
                    a,
                    (pm_len - w.bytes()) as i64,
                );
                self.guard(ok, k, pc, cycles);
                let pm = self.pm;
                let v = self.load(pm, a, w);
                self.set(insn.rd, v);
            }
            Op::Push => {
                let v = self.get(insn.r1);
                self.push(v);
            }
            Op::Pop => {
                let v = self.pop(k, pc, cycles);
                self.set(insn.rd, v);
            }
            Op::Link => {
                let v = self.get(insn.rd);
                self.push(v);
                let sp = self.get(31);
                self.set(insn.rd, sp);
                let nsp = self.k(insn.imm);
                let nsp = self.b.ins().isub(sp, nsp);
                let nsp = self.masked(nsp, 0xFFFF);
                self.set(31, nsp);
            }
            Op::Unlink => {
                let fp = self.get(insn.rd);
                let sp = self.masked(fp, 0xFFFF);
                self.set(31, sp);
                // SP is below 0x10000 now, so the pop needs no guard.
                let a = self.masked(sp, !3);
                let v = self.ram_load(a, Width::Word);
                let nsp = self.b.ins().iadd_imm(sp, 4);
                let nsp = self.masked(nsp, 0xFFFF);
                self.set(31, nsp);
                self.set(insn.rd, v);
            }
            Op::Ffu(op, _) => {
                let a = self.get(insn.r1);
                let bo = self.operand(insn);
                let bv = self.val(bo);
                let r = match op {
                    FfuOp::Mul => self.b.ins().imul(a, bv),
                    FfuOp::Muluh => self.b.ins().umulhi(a, bv),
                    FfuOp::Udiv => self.div(0, a, bv),
                    FfuOp::Umod => self.div(1, a, bv),
                    FfuOp::Div => self.div(2, a, bv),
                    _ => self.div(3, a, bv),
                };
                self.set(insn.rd, r);
            }
            Op::Return => {
                let target = self.pop(k, pc, cycles);
                self.chain_dynamic(target, done, after);
                return true;
            }
            // Direct jumps and calls: the trace goes on at the target (`plan` followed it).
            Op::Jmp => {}
            Op::Call => {
                let nv = self.k(next);
                self.push(nv);
            }
            Op::JmpI | Op::CallI => {
                let t = self.get(insn.rb);
                if insn.op == Op::CallI {
                    let nv = self.k(next);
                    self.push(nv);
                }
                self.chain_dynamic(t, done, after + 1);
                return true;
            }
            Op::JmpC | Op::CallC | Op::JmpIC | Op::CallIC => {
                let c = self.get(insn.rd);
                let bit = self.b.ins().ushr_imm(c, insn.cb as i64);
                let bit = self.b.ins().band_imm(bit, 1);
                let taken = self.b.ins().icmp_imm(IntCC::Equal, bit, insn.cv as i64);
                let yes = self.b.create_block();
                let no = self.b.create_block();
                self.b.ins().brif(taken, yes, &[], no, &[]);
                let cache = self.cache;
                self.b.switch_to_block(yes);
                // The target register is read before the call pushes (it may be SP).
                let t = matches!(insn.op, Op::JmpIC | Op::CallIC).then(|| self.get(insn.rb));
                if matches!(insn.op, Op::CallC | Op::CallIC) {
                    let nv = self.k(next);
                    self.push(nv);
                }
                match t {
                    Some(t) => self.chain_dynamic(t, done, after + 1),
                    None => self.chain_static(insn.imm, done, after + 1),
                }
                self.cache = cache;
                self.b.switch_to_block(no);
                // Not taken: the trace goes on.
            }
            Op::Reti | Op::Breakpoint | Op::Halt | Op::Illegal(_) => {
                unreachable!("planned blocks hold no interpreted instruction")
            }
        }
        false
    }

    fn div(&mut self, op: u32, a: Value, b: Value) -> Value {
        let opv = self.k(op);
        self.call_helper(helper_div, [opv, a, b])
    }
}

/// The RAM size compiled code assumes (checked by the engine before using it).
pub(crate) const NEEDS_RAM: u32 = RAM_SIZE;
