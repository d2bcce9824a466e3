//! FT32 instruction decoding.
//!
//! Every FT32 instruction is one little-endian 32-bit word. [`decode`] turns a word into an
//! [`Insn`], a compact pre-decoded form that the interpreter caches per program-memory word, so
//! the fields are extracted once per word and not once per execution (see
//! `docs/hardware/isa.md` §2).

/// Data width of a memory access or of a comparison (`dw` field, `.b`/`.s`/`.l`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Width {
    /// 8 bits (`.b`).
    Byte = 0,
    /// 16 bits (`.s`).
    Half = 1,
    /// 32 bits (`.l`).
    Word = 2,
}

impl Width {
    /// Size of the access in bytes.
    pub const fn bytes(self) -> u32 {
        1 << self as u32
    }

    /// Mask selecting the low bits that an access of this width carries.
    pub const fn mask(self) -> u32 {
        match self {
            Width::Byte => 0xFF,
            Width::Half => 0xFFFF,
            Width::Word => 0xFFFF_FFFF,
        }
    }

    fn from_dw(dw: u32) -> Option<Width> {
        match dw {
            0 => Some(Width::Byte),
            1 => Some(Width::Half),
            2 => Some(Width::Word),
            _ => None,
        }
    }

    /// Assembler suffix: `b`, `s` or `l`.
    pub const fn suffix(self) -> char {
        match self {
            Width::Byte => 'b',
            Width::Half => 's',
            Width::Word => 'l',
        }
    }
}

/// ALU operation selected by the `al` field (patterns ALU and CMP), `docs/hardware/isa.md` §2.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AluOp {
    Add = 0,
    Ror = 1,
    Sub = 2,
    Ldl = 3,
    And = 4,
    Or = 5,
    Xor = 6,
    Xnor = 7,
    Ashl = 8,
    Lshr = 9,
    Ashr = 10,
    Bins = 11,
    Bexts = 12,
    Bextu = 13,
    Flip = 14,
}

impl AluOp {
    fn from_al(al: u32) -> Option<AluOp> {
        use AluOp::*;
        Some(match al {
            0 => Add,
            1 => Ror,
            2 => Sub,
            3 => Ldl,
            4 => And,
            5 => Or,
            6 => Xor,
            7 => Xnor,
            8 => Ashl,
            9 => Lshr,
            10 => Ashr,
            11 => Bins,
            12 => Bexts,
            13 => Bextu,
            14 => Flip,
            _ => return None,
        })
    }

    /// Assembler mnemonic of the ALU form.
    pub const fn mnemonic(self) -> &'static str {
        use AluOp::*;
        match self {
            Add => "add",
            Ror => "ror",
            Sub => "sub",
            Ldl => "ldl",
            And => "and",
            Or => "or",
            Xor => "xor",
            Xnor => "xnor",
            Ashl => "ashl",
            Lshr => "lshr",
            Ashr => "ashr",
            Bins => "bins",
            Bexts => "bexts",
            Bextu => "bextu",
            Flip => "flip",
        }
    }

    /// Computes the 32-bit result of the operation (`docs/hardware/isa.md` §2.5).
    #[inline(always)]
    pub fn apply(self, a: u32, b: u32) -> u32 {
        use AluOp::*;
        match self {
            Add => a.wrapping_add(b),
            Ror => a.rotate_right(b & 31),
            Sub => a.wrapping_sub(b),
            Ldl => (a << 10) | (b & 0x3FF),
            And => a & b,
            Or => a | b,
            Xor => a ^ b,
            Xnor => !(a ^ b),
            Ashl => a << (b & 31),
            Lshr => a >> (b & 31),
            Ashr => ((a as i32) >> (b & 31)) as u32,
            Bins => {
                let (len, pos) = bitfield(b);
                let mask = (low_mask(len)) << pos;
                (a & !mask) | (((b >> 10) << pos) & mask)
            }
            Bexts => {
                let (len, pos) = bitfield(b);
                let shift = 32 - len;
                (((a >> pos) << shift) as i32 >> shift) as u32
            }
            Bextu => {
                let (len, pos) = bitfield(b);
                (a >> pos) & low_mask(len)
            }
            Flip => flip(a, b),
        }
    }
}

/// Field length and position of a bit-field operand: `len` 0 means 16.
#[inline(always)]
fn bitfield(b: u32) -> (u32, u32) {
    let len = (b >> 5) & 15;
    (if len == 0 { 16 } else { len }, b & 31)
}

#[inline(always)]
fn low_mask(len: u32) -> u32 {
    // len is 1..=16 here, so the shift never overflows.
    (1u32 << len) - 1
}

/// The `flip` bit-reversal network: each set bit k of `b` swaps adjacent groups of 2^k bits.
#[inline]
pub fn flip(mut x: u32, b: u32) -> u32 {
    if b & 1 != 0 {
        x = (x & 0x5555_5555) << 1 | (x & 0xAAAA_AAAA) >> 1;
    }
    if b & 2 != 0 {
        x = (x & 0x3333_3333) << 2 | (x & 0xCCCC_CCCC) >> 2;
    }
    if b & 4 != 0 {
        x = (x & 0x0F0F_0F0F) << 4 | (x & 0xF0F0_F0F0) >> 4;
    }
    if b & 8 != 0 {
        x = (x & 0x00FF_00FF) << 8 | (x & 0xFF00_FF00) >> 8;
    }
    if b & 16 != 0 {
        x = x.rotate_left(16);
    }
    x
}

/// The flag word that CMP-pattern instructions write (`docs/hardware/isa.md` §2.6), including the
/// reference's quirks: V always uses the subtraction formula and C exists only for add and sub.
///
/// `dw` is the raw 2-bit width field; the reserved value 3 behaves as the reference computes it
/// (a zero-width mask with the sign taken from bit 0).
#[inline]
pub fn flag_word(al: AluOp, dw: u8, a: u32, b: u32, result: u32) -> u32 {
    let (sign_bit, mask): (u32, u32) = match dw {
        0 => (7, 0xFF),
        1 => (15, 0xFFFF),
        2 => (31, 0xFFFF_FFFF),
        _ => (0, 0),
    };
    let zero = (result & mask == 0) as u32;
    let sign = (result >> sign_bit) & 1;
    let ahi = (a >> sign_bit) & 1;
    let bhi = (b >> sign_bit) & 1;
    let overflow = ((sign != ahi) && (ahi != bhi)) as u32;
    let ra = (a & mask) as u64;
    let rb = (b & mask) as u64;
    let carry_shift = sign_bit + 1;
    let carry = match al {
        AluOp::Add => ((ra + rb) >> carry_shift) & 1,
        AluOp::Sub => (ra.wrapping_sub(rb) >> carry_shift) & 1,
        _ => 0,
    } as u32;
    let above = (carry == 0 && zero == 0) as u32;
    let greater_eq = (sign == overflow) as u32;
    let greater = (greater_eq == 1 && zero == 0) as u32;
    above << 6 | greater << 5 | greater_eq << 4 | sign << 3 | overflow << 2 | carry << 1 | zero
}

/// FFU ("fast function unit") operations, pattern 0x1E (`docs/hardware/isa.md` §2.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FfuOp {
    Udiv = 0,
    Umod = 1,
    Div = 2,
    Mod = 3,
    Strcmp = 4,
    Memcpy = 5,
    Strlen = 6,
    Memset = 7,
    Mul = 8,
    Muluh = 9,
    Stpcpy = 10,
    Streamin = 12,
    Streamini = 13,
    Streamout = 14,
    Streamouti = 15,
}

impl FfuOp {
    fn from_al(al: u32) -> Option<FfuOp> {
        use FfuOp::*;
        Some(match al {
            0 => Udiv,
            1 => Umod,
            2 => Div,
            3 => Mod,
            4 => Strcmp,
            5 => Memcpy,
            6 => Strlen,
            7 => Memset,
            8 => Mul,
            9 => Muluh,
            10 => Stpcpy,
            12 => Streamin,
            13 => Streamini,
            14 => Streamout,
            15 => Streamouti,
            _ => return None,
        })
    }

    /// Assembler mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        use FfuOp::*;
        match self {
            Udiv => "udiv",
            Umod => "umod",
            Div => "div",
            Mod => "mod",
            Strcmp => "strcmp",
            Memcpy => "memcpy",
            Strlen => "strlen",
            Memset => "memset",
            Mul => "mul",
            Muluh => "muluh",
            Stpcpy => "stpcpy",
            Streamin => "streamin",
            Streamini => "streamini",
            Streamout => "streamout",
            Streamouti => "streamouti",
        }
    }
}

/// Why a word is not an FT900 instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Illegal {
    /// The pattern field (bits 31..27) names no FT32 instruction (or an FT32B shortcode pair).
    Pattern(u8),
    /// ALU/CMP operation 0xF.
    AluOp,
    /// FFU operation 0xB.
    FfuOp,
    /// Data width 3 on an instruction that accesses memory.
    Width,
    /// An FFU operation the machine profile does not implement (the reference simulator has
    /// only `streamout` of the four stream operations).
    Unsupported(FfuOp),
}

impl std::fmt::Display for Illegal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Illegal::Pattern(p) if [2, 3, 4, 5, 6, 9, 10, 14].contains(p) => {
                write!(
                    f,
                    "pattern {p} is an FT32B shortcode pair, not an FT900 instruction"
                )
            }
            Illegal::Pattern(p) => write!(f, "undefined instruction pattern {p}"),
            Illegal::AluOp => write!(f, "undefined ALU operation 0xf"),
            Illegal::FfuOp => write!(f, "undefined FFU operation 0xb"),
            Illegal::Width => write!(f, "reserved data width 3 on a memory access"),
            Illegal::Unsupported(op) => {
                write!(f, "{} is not implemented on this machine", op.mnemonic())
            }
        }
    }
}

/// Operation of a pre-decoded instruction. The variant carries what changes the control flow of
/// the interpreter; register numbers and constants live in [`Insn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Unconditional jump to `imm` (TOC).
    Jmp,
    /// Unconditional call to `imm` (TOC).
    Call,
    /// Conditional jump to `imm` when bit `cb` of `R[rd]` equals `cv`.
    JmpC,
    /// Conditional call.
    CallC,
    /// Unconditional jump to `R[rb]` (TOCI).
    JmpI,
    /// Unconditional call to `R[rb]`.
    CallI,
    /// Conditional indirect jump.
    JmpIC,
    /// Conditional indirect call.
    CallIC,
    /// `R[rd] = op(R[r1], b)`.
    Alu(AluOp),
    /// `R[rd] = flags(op(R[r1], b))`.
    Cmp(AluOp),
    /// `R[rd] = imm`.
    Ldk,
    /// `R[rd] = PM[imm]`.
    Lpm(Width),
    /// `R[rd] = PM[R[r1] + imm]`.
    Lpmi(Width),
    /// `R[rd] = DM[imm]`.
    Lda(Width),
    /// `DM[imm] = R[rd]`.
    Sta(Width),
    /// `R[rd] = DM[R[r1] + imm]`.
    Ldi(Width),
    /// `DM[R[rd] + imm] = R[r1]`.
    Sti(Width),
    /// Exchange `R[rd]` with `DM[imm]`.
    Exa(Width),
    /// Exchange `R[rd]` with `DM[R[r1] + imm]`.
    Exi(Width),
    /// Push `R[r1]`.
    Push,
    /// Pop into `R[rd]`.
    Pop,
    /// `link R[rd], imm`.
    Link,
    /// `unlink R[rd]`.
    Unlink,
    /// `return`.
    Return,
    /// `reti`: return from interrupt.
    Reti,
    /// Fast function unit operation; the raw width is kept for the stream operations.
    Ffu(FfuOp, u8),
    /// The `call 8` word (0x00340002), the software breakpoint of gdb.
    Breakpoint,
    /// `halt`.
    Halt,
    /// Not an instruction.
    Illegal(Illegal),
}

/// A pre-decoded instruction: 12 bytes, copied out of the decode cache on every execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    /// What to do.
    pub op: Op,
    /// Destination register; condition register for conditional TOC/TOCI; base for STI.
    pub rd: u8,
    /// First source register (data register for STI).
    pub r1: u8,
    /// Second operand register, or [`IMM`] when the operand is `imm`; TOCI target register.
    pub rb: u8,
    /// Condition bit number for conditional transfers, raw width for CMP.
    pub cb: u8,
    /// Condition value for conditional transfers.
    pub cv: u8,
    /// Decoded constant: immediate operand, k15 offset, k20, byte address, or link size.
    pub imm: u32,
}

/// `Insn::rb` value meaning "the second operand is `imm`".
pub const IMM: u8 = 0xFF;

/// The exact word of gdb's FT32 software breakpoint, `call 8`.
pub const BREAKPOINT_WORD: u32 = 0x0034_0002;

/// Sign-extends the low `bits` bits of `v`.
#[inline]
pub const fn sext(v: u32, bits: u32) -> u32 {
    let shift = 32 - bits;
    ((v << shift) as i32 >> shift) as u32
}

/// Decodes the k15 offset of LDI/STI/EXI/LPMI, with its XOR-on-bit-7 quirk (§2.3).
#[inline]
pub const fn decode_k15(word: u32) -> u32 {
    let mut f = word & 0x7FFF;
    if f & 0x80 != 0 {
        f ^= 0x7F00;
    }
    sext(f, 15)
}

/// Decodes one instruction word.
pub fn decode(word: u32) -> Insn {
    let pattern = word >> 27;
    let dw = (word >> 25) & 3;
    let rd = ((word >> 20) & 31) as u8;
    let r1 = ((word >> 15) & 31) as u8;
    let rimm = (word >> 4) & 0x7FF;
    let (rb, b_imm) = if rimm & 0x400 != 0 {
        (IMM, sext(rimm, 10))
    } else {
        ((rimm & 31) as u8, 0)
    };
    let al = word & 15;
    let mut insn = Insn {
        op: Op::Illegal(Illegal::Pattern(pattern as u8)),
        rd,
        r1,
        rb,
        cb: 0,
        cv: 0,
        imm: b_imm,
    };
    let width = |insn: &mut Insn, make: fn(Width) -> Op| match Width::from_dw(dw) {
        Some(w) => insn.op = make(w),
        None => insn.op = Op::Illegal(Illegal::Width),
    };
    if word == BREAKPOINT_WORD {
        insn.op = Op::Breakpoint;
        return insn;
    }
    match pattern {
        0x00 | 0x01 => {
            let cr = (word >> 20) & 3;
            let call = word & (1 << 18) != 0;
            let conditional = cr != 3;
            insn.rd = 28 + cr as u8;
            insn.cb = ((word >> 22) & 31) as u8;
            insn.cv = ((word >> 19) & 1) as u8;
            insn.op = match (pattern, conditional, call) {
                (0, false, false) => Op::Jmp,
                (0, false, true) => Op::Call,
                (0, true, false) => Op::JmpC,
                (0, true, true) => Op::CallC,
                (_, false, false) => Op::JmpI,
                (_, false, true) => Op::CallI,
                (_, true, false) => Op::JmpIC,
                (_, true, true) => Op::CallIC,
            };
            if pattern == 0 {
                insn.imm = (word & 0x3FFFF) << 2;
                insn.rb = IMM;
            } else {
                insn.rb = ((word >> 4) & 31) as u8;
                insn.imm = 0;
            }
        }
        0x07 => {
            insn.imm = word & 0x1FFFF;
            width(&mut insn, Op::Exa);
        }
        0x08 => {
            insn.op = match AluOp::from_al(al) {
                Some(op) => Op::Alu(op),
                None => Op::Illegal(Illegal::AluOp),
            }
        }
        0x0B => {
            insn.cb = dw as u8;
            insn.op = match AluOp::from_al(al) {
                Some(op) => Op::Cmp(op),
                None => Op::Illegal(Illegal::AluOp),
            }
        }
        0x0C => {
            insn.op = Op::Ldk;
            insn.imm = sext(word & 0xF_FFFF, 20);
        }
        0x0D => {
            insn.imm = (word & 0x3FFFF) << 2;
            width(&mut insn, Op::Lpm);
        }
        0x0F => insn.op = Op::Halt,
        0x10 => insn.op = Op::Push,
        0x11 => insn.op = Op::Pop,
        0x12 => {
            insn.op = Op::Link;
            insn.imm = word & 0xFFFF;
        }
        0x13 => insn.op = Op::Unlink,
        0x14 => {
            insn.op = if word & (1 << 26) != 0 {
                Op::Reti
            } else {
                Op::Return
            }
        }
        0x15 | 0x16 | 0x19 | 0x1D => {
            insn.imm = decode_k15(word);
            let make: fn(Width) -> Op = match pattern {
                0x15 => Op::Ldi,
                0x16 => Op::Sti,
                0x19 => Op::Lpmi,
                _ => Op::Exi,
            };
            width(&mut insn, make);
        }
        0x17 | 0x18 => {
            insn.imm = word & 0x1FFFF;
            width(&mut insn, if pattern == 0x17 { Op::Sta } else { Op::Lda });
        }
        0x1E => {
            insn.op = match FfuOp::from_al(al) {
                Some(f) => {
                    let streams = matches!(
                        f,
                        FfuOp::Streamin | FfuOp::Streamini | FfuOp::Streamout | FfuOp::Streamouti
                    );
                    if streams && dw == 3 {
                        Op::Illegal(Illegal::Width)
                    } else {
                        Op::Ffu(f, dw as u8)
                    }
                }
                None => Op::Illegal(Illegal::FfuOp),
            }
        }
        _ => {}
    }
    insn
}

/// Extra cycles an instruction costs beyond the one every instruction takes, per the reference
/// simulator's cycle model (§2.9); taken jumps and calls add one more at run time.
#[inline(always)]
pub const fn load_extra_cycle(op: &Op) -> bool {
    matches!(
        op,
        Op::Lpm(_) | Op::Lpmi(_) | Op::Lda(_) | Op::Ldi(_) | Op::Exa(_) | Op::Exi(_) | Op::Pop
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k15_quirk_decodes_like_the_reference() {
        assert_eq!(decode_k15(0x0FC) as i32, -4);
        assert_eq!(decode_k15(0x080) as i32, -128);
        assert_eq!(decode_k15(0x07F) as i32, 127);
        assert_eq!(decode_k15(0x7FC8) as i32, 200);
        assert_eq!(decode_k15(0x7F38) as i32, -200);
        let i = decode(0xAC0F80FC); // ldi.l $r0,$sp,-4
        assert_eq!(
            (i.op, i.rd, i.r1, i.imm as i32),
            (Op::Ldi(Width::Word), 0, 31, -4)
        );
        let i = decode(0xAC117FC8); // ldi.l $r1,$r2,200
        assert_eq!((i.rd, i.r1, i.imm), (1, 2, 200));
        let i = decode(0xB5F680F8); // sti.l $sp,-8,$r13
        assert_eq!(
            (i.op, i.rd, i.r1, i.imm as i32),
            (Op::Sti(Width::Word), 31, 13, -8)
        );
    }

    #[test]
    fn rimm_register_and_immediate_forms() {
        let i = decode(0x44008020); // add.l $r0,$r1,$r2
        assert_eq!((i.op, i.rd, i.r1, i.rb), (Op::Alu(AluOp::Add), 0, 1, 2));
        let i = decode(0x4400FFF0); // add.l $r0,$r1,-1
        assert_eq!((i.rb, i.imm), (IMM, 0xFFFF_FFFF));
        let i = decode(0x4400DFF0); // add.l $r0,$r1,511
        assert_eq!(i.imm, 511);
        let i = decode(0x45F06000); // add.l $r31,$r0,-512
        assert_eq!((i.rd, i.imm as i32), (31, -512));
        let i = decode(0x45FFC182); // sub.l $sp,$sp,24
        assert_eq!((i.op, i.rd, i.r1, i.imm), (Op::Alu(AluOp::Sub), 31, 31, 24));
    }

    #[test]
    fn ldk_ignores_width_and_sign_extends_k20() {
        assert_eq!(decode(0x640FFFFF).imm, 0xFFFF_FFFF);
        assert_eq!(decode(0x6417FFFF).imm, 0x0007_FFFF);
        assert_eq!(decode(0x64280000).imm, 0xFFF8_0000);
        let i = decode(0x62300005); // ldk.s $r3,5
        assert_eq!((i.op, i.rd, i.imm), (Op::Ldk, 3, 5));
    }

    #[test]
    fn transfers_decode_condition_and_target() {
        let i = decode(0x01680041); // jmpc gt,0x104
        assert_eq!((i.op, i.rd, i.cb, i.cv, i.imm), (Op::JmpC, 30, 5, 1, 0x104));
        let i = decode(0x01500041); // jmpx 5,$r29,0,0x104
        assert_eq!((i.op, i.rd, i.cb, i.cv), (Op::JmpC, 29, 5, 0));
        assert_eq!(decode(0x00340041).op, Op::Call);
        assert_eq!(decode(0x0030FFFF).imm, 0x3FFFC);
        let i = decode(0x08340060); // calli $r6
        assert_eq!((i.op, i.rb), (Op::CallI, 6));
        let i = decode(0x08280030); // jmpic z,$r3
        assert_eq!((i.op, i.rd, i.cb, i.cv, i.rb), (Op::JmpIC, 30, 0, 1, 3));
        assert_eq!(decode(BREAKPOINT_WORD).op, Op::Breakpoint);
    }

    #[test]
    fn stack_and_return_forms() {
        assert_eq!(decode(0x84068000).op, Op::Push);
        assert_eq!(decode(0x84068000).r1, 13);
        assert_eq!(
            (decode(0x8CD00000).op, decode(0x8CD00000).rd),
            (Op::Pop, 13)
        );
        let i = decode(0x95D00018);
        assert_eq!((i.op, i.rd, i.imm), (Op::Link, 29, 24));
        assert_eq!(decode(0x9500FFFF).imm, 65535);
        assert_eq!(decode(0xA0000000).op, Op::Return);
        assert_eq!(decode(0xA4000000).op, Op::Reti);
    }

    #[test]
    fn undefined_encodings_are_illegal_not_panics() {
        for pattern in [2u32, 3, 4, 5, 6, 9, 10, 14, 0x1A, 0x1B, 0x1C, 0x1F] {
            assert!(matches!(
                decode(pattern << 27).op,
                Op::Illegal(Illegal::Pattern(_))
            ));
        }
        assert_eq!(decode(0x4000000F).op, Op::Illegal(Illegal::AluOp));
        assert_eq!(decode(0xF000000B).op, Op::Illegal(Illegal::FfuOp));
        assert_eq!(decode(0xC6000000).op, Op::Illegal(Illegal::Width)); // lda with dw=3
        assert_eq!(decode(0x78000000).op, Op::Halt);
        // Every word decodes without panicking.
        for w in (0..=u32::MAX).step_by(65_521) {
            let _ = decode(w);
        }
    }

    #[test]
    fn alu_semantic_vectors() {
        use AluOp::*;
        let x = 0x1234_5678;
        assert_eq!(Ror.apply(x, 12), 0x6781_2345);
        assert_eq!(Ror.apply(x, (-4i32) as u32), 0x2345_6781);
        assert_eq!(Ashl.apply(x, 36), 0x2345_6780); // count masked to 4
        assert_eq!(Ashr.apply(0xABCD_EF01, 4), 0xFABC_DEF0);
        assert_eq!(Lshr.apply(0xABCD_EF01, 4), 0x0ABC_DEF0);
        assert_eq!(Bextu.apply(x, 0), 0x5678);
        assert_eq!(Bextu.apply(x, (4 << 5) | 28), 1);
        assert_eq!(Bextu.apply(x, (8 << 5) | 16), 0x34);
        assert_eq!(Bextu.apply(0xFFFF_FFFF, (6 << 5) | 3), 0x3F);
        assert_eq!(Bexts.apply(x, 8 << 5), 0x78);
        assert_eq!(Bexts.apply(x, 16), 0x1234);
        assert_eq!(Bexts.apply(x, 4 << 5), 0xFFFF_FFF8);
        assert_eq!(Bexts.apply(x, (3 << 5) | 12), 0xFFFF_FFFD);
        assert_eq!(Bexts.apply(x, (1 << 5) | 12), 0xFFFF_FFFF);
        assert_eq!(Bins.apply(x, 8 << 5), 0x1234_5600);
        assert_eq!(Bins.apply(x, 8), 0x1200_0078);
        assert_eq!(Bins.apply(x, (0xFF << 10) | (8 << 5) | 8), 0x1234_FF78);
        assert_eq!(Bins.apply(x, (0x8DD1 << 10) | 16), 0x8DD1_5678);
        // Immediate with bit 9 set inserts ones.
        assert_eq!(Bins.apply(0, sext((1 << 9) | (3 << 5) | 4, 10)), 0x70);
        assert_eq!(Ldl.apply(0x1234_5678 >> 10, 0x278), 0x1234_5678);
        assert_eq!(Flip.apply(x, 24), 0x7856_3412);
        assert_eq!(Flip.apply(x, 31), 0x1E6A_2C48);
    }

    #[test]
    fn flag_word_vectors_from_the_reference() {
        use AluOp::*;
        let f = |op, dw, a: u32, b: u32| flag_word(op, dw, a, b, op.apply(a, b));
        assert_eq!(f(Sub, 2, (-100i32) as u32, 100), 0x48);
        assert_eq!(f(Sub, 2, 5, 5), 0x11);
        assert_eq!(f(Sub, 2, 1, 2), 0x0A);
        assert_eq!(f(Sub, 2, 0x8000_0000, 1), 0x44);
        assert_eq!(f(Sub, 2, 2, 1), 0x70);
        assert_eq!(f(Sub, 0, 0x8FE, 0x708), 0x48);
        assert_eq!(f(Add, 2, 0xFFFF_FFFF, 1), 0x07);
        assert_eq!(f(Add, 2, 0x7FFF_FFFF, 1), 0x48);
        assert_eq!(f(And, 2, 0xF0, 0x0F), 0x11);
        assert_eq!(f(Bexts, 2, 8, (1 << 5) | 3), 0x48);
    }
}
