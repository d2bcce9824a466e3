//! Human-readable reports of why a machine stopped: PC, symbol+offset, registers and the last
//! instructions executed.

use std::fmt::Write as _;

use crate::core::Reg;
use crate::disasm::disassemble;
use crate::elf::Symbols;
use crate::machine::{Machine, Profile};
use crate::stop::{Fault, Signal};

/// The register dump of a machine, four registers per line.
pub fn registers<P: Profile>(m: &Machine<P>) -> String {
    let mut out = String::new();
    for row in 0..8 {
        out.push_str("   ");
        for col in 0..4 {
            let n = row * 4 + col;
            let r = Reg::r(n).expect("0..32 is a register");
            let _ = write!(out, " {:>5} {:08x}", r.name(), m.core.regs[n as usize]);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "       pc {:08x}   cycles {}   instructions {}",
        m.core.pc, m.core.cycles, m.core.insns
    );
    out
}

/// The last instructions executed, one per line, oldest first.
pub fn trail<P: Profile>(m: &Machine<P>, symbols: &Symbols) -> String {
    let mut out = String::new();
    for pc in m.trail() {
        let mut word = [0u8; 4];
        let text = if m.mem_read(pc & !3, &mut word).is_ok() {
            disassemble(u32::from_le_bytes(word))
        } else {
            "(outside program memory)".to_string()
        };
        let _ = writeln!(
            out,
            "    {pc:08x}  {:<28} {text}",
            symbols.describe_code(pc)
        );
    }
    out
}

/// The full report of a guest fault.
pub fn fault<P: Profile>(m: &Machine<P>, fault: &Fault, symbols: &Symbols) -> String {
    let sig: Signal = fault.kind.signal();
    format!(
        "guest fault: {}\n  at pc {:#010x} ({}), {}\nregisters:\n{}last instructions:\n{}",
        fault.kind,
        fault.pc,
        symbols.describe_code(fault.pc),
        sig.name(),
        registers(m),
        trail(m, symbols)
    )
}
