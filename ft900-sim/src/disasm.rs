//! A disassembler for traces and fault reports, in the syntax of binutils' `ft32-elf-objdump`
//! (except that k15 offsets are shown decoded, not as the raw field objdump prints).

use crate::core::Reg;
use crate::isa::{decode, AluOp, Insn, Op, Width, IMM};

fn reg(n: u8) -> &'static str {
    Reg::r(n as u32).map_or("$r?", Reg::name)
}

fn operand_b(insn: &Insn) -> String {
    if insn.rb == IMM {
        format!("{}", insn.imm as i32)
    } else {
        reg(insn.rb).to_string()
    }
}

/// The condition mnemonic for a `$cc` test, as gas spells it.
fn condition(cb: u8, cv: u8) -> Option<&'static str> {
    Some(match (cb, cv) {
        (0, 0) => "nz",
        (0, 1) => "z",
        (1, 0) => "ae",
        (1, 1) => "b",
        (2, 0) => "no",
        (2, 1) => "o",
        (3, 0) => "ns",
        (3, 1) => "s",
        (4, 0) => "lt",
        (4, 1) => "gte",
        (5, 0) => "lte",
        (5, 1) => "gt",
        (6, 0) => "be",
        (6, 1) => "a",
        _ => return None,
    })
}

fn width_of(word: u32) -> char {
    match (word >> 25) & 3 {
        0 => 'b',
        1 => 's',
        _ => 'l',
    }
}

/// Disassembles one instruction word.
pub fn disassemble(word: u32) -> String {
    let insn = decode(word);
    let (rd, r1) = (reg(insn.rd), reg(insn.r1));
    let w = |w: Width| w.suffix();
    let target = |i: &Insn, indirect: bool| {
        if indirect {
            reg(i.rb).to_string()
        } else {
            format!("{:#x}", i.imm)
        }
    };
    let conditional = |name: &str, i: &Insn, indirect: bool| {
        let t = target(i, indirect);
        match (i.rd, condition(i.cb, i.cv)) {
            (30, Some(c)) => format!("{name}c {c},{t}"),
            _ => format!("{name}x {},{},{},{t}", i.cb, reg(i.rd), i.cv),
        }
    };
    match insn.op {
        Op::Jmp => format!("jmp {}", target(&insn, false)),
        Op::Call => format!("call {}", target(&insn, false)),
        Op::JmpI => format!("jmpi {}", target(&insn, true)),
        Op::CallI => format!("calli {}", target(&insn, true)),
        Op::JmpC => conditional("jmp", &insn, false),
        Op::CallC => conditional("call", &insn, false),
        Op::JmpIC => conditional("jmpi", &insn, true),
        Op::CallIC => conditional("calli", &insn, true),
        Op::Alu(AluOp::Add) if insn.rb == IMM && insn.imm == 0 && word == 0x4000_4000 => {
            "nop".to_string()
        }
        Op::Alu(op) => format!(
            "{}.{} {rd},{r1},{}",
            op.mnemonic(),
            width_of(word),
            operand_b(&insn)
        ),
        Op::Cmp(op) => {
            let name = match op {
                AluOp::Add => "addcc",
                AluOp::Sub => "cmp",
                AluOp::And => "tst",
                AluOp::Bexts => "btst",
                other => other.mnemonic(),
            };
            let dest = if insn.rd == 30 {
                String::new()
            } else {
                format!("{rd},")
            };
            format!("{name}.{} {dest}{r1},{}", width_of(word), operand_b(&insn))
        }
        Op::Ldk => format!("ldk.{} {rd},{}", width_of(word), insn.imm as i32),
        Op::Lpm(x) => format!("lpm.{} {rd},{:#x}", w(x), insn.imm),
        Op::Lpmi(x) => format!("lpmi.{} {rd},{r1},{}", w(x), insn.imm as i32),
        Op::Lda(x) => format!("lda.{} {rd},{:#x}", w(x), insn.imm),
        Op::Sta(x) => format!("sta.{} {:#x},{rd}", w(x), insn.imm),
        Op::Ldi(x) => format!("ldi.{} {rd},{r1},{}", w(x), insn.imm as i32),
        Op::Sti(x) => format!("sti.{} {rd},{},{r1}", w(x), insn.imm as i32),
        Op::Exa(x) => format!("exa.{} {rd},{:#x}", w(x), insn.imm),
        Op::Exi(x) => format!("exi.{} {rd},{r1},{}", w(x), insn.imm as i32),
        Op::Push => format!("push.l {r1}"),
        Op::Pop => format!("pop.l {rd}"),
        Op::Link => format!("link {rd},{}", insn.imm),
        Op::Unlink => format!("unlink {rd}"),
        Op::Return => "return".to_string(),
        Op::Reti => "reti".to_string(),
        Op::Ffu(op, _) => format!(
            "{}.{} {rd},{r1},{}",
            op.mnemonic(),
            width_of(word),
            operand_b(&insn)
        ),
        Op::Breakpoint => "call 0x8 (breakpoint)".to_string(),
        Op::Halt => "halt".to_string(),
        Op::Illegal(_) => format!(".long {word:#010x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::disassemble;

    #[test]
    fn matches_objdump_spelling() {
        assert_eq!(disassemble(0x44008020), "add.l $r0,$r1,$r2");
        assert_eq!(disassemble(0x4400FFF0), "add.l $r0,$r1,-1");
        assert_eq!(disassemble(0x45FFC182), "sub.l $sp,$sp,24");
        assert_eq!(disassemble(0x5DE00012), "cmp.l $r0,$r1");
        assert_eq!(disassemble(0x01680041), "jmpc gt,0x104");
        assert_eq!(disassemble(0x01500041), "jmpx 5,$fp,0,0x104");
        assert_eq!(disassemble(0xAC0F80FC), "ldi.l $r0,$sp,-4");
        assert_eq!(disassemble(0xB5F680F8), "sti.l $sp,-8,$r13");
        assert_eq!(disassemble(0x95D00018), "link $fp,24");
        assert_eq!(disassemble(0x08340060), "calli $r6");
        assert_eq!(disassemble(0x40004000), "nop");
        assert_eq!(disassemble(0xD0000000), ".long 0xd0000000");
    }
}
