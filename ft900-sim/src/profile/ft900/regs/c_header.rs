//! The firmware's register header, generated from the description. The committed copy is
//! `firmware/hal/include/ft900_regs.h`; `tests/regs.rs` fails when it differs from
//! [`c_header`] and says how to regenerate it.
//!
//! Per register of a block with one instance: `NAME_ADDR`, `NAME_OFFSET`, `NAME_RESET` (when
//! the reset value does not depend on the outside; per revision `NAME_RESET_REV_B/C`) and
//! `NAME`, an lvalue of the register's width. Registers of a block with several instances (the
//! UARTs) are given as offsets: `NAME` is the offset, the instances' bases are `UART0_BASE`
//! and `UART1_BASE`; indexed registers are `PREFIX_IDX_NAME` (the index). Arrays add
//! `NAME_COUNT` and `NAME(n)`. Per field: `REG_FIELD` (its mask) and `REG_FIELD_SHIFT`.

use std::fmt::Write;

use super::{Bank, Block, Reg, Reset, MAP};

/// Where the generated header is committed, relative to the repository's root.
pub const C_HEADER_PATH: &str = "firmware/hal/include/ft900_regs.h";

/// The C identifier of a register of `block`: its name in upper case with every other
/// character made `_`, its prefix replaced as the block says.
fn c_name(block: &Block, reg: &Reg) -> String {
    let (strip, add) = block.c_rename;
    let base = reg.name.strip_prefix(strip).unwrap_or(reg.name);
    let ident: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let ident = ident.trim_matches('_').to_string();
    if ident.starts_with(add) {
        ident
    } else {
        format!("{add}{ident}")
    }
}

/// The macro names a register gets in the header: `(name of the register, name of its
/// index for indexed registers)`.
pub fn c_ident(block: &Block, reg: &Reg) -> String {
    let name = c_name(block, reg);
    if reg.bank == Bank::Indexed {
        let (_, add) = block.c_rename;
        format!("{add}IDX_{}", &name[add.len()..])
    } else {
        name
    }
}

fn width_macro(bytes: u8) -> &'static str {
    match bytes {
        1 => "FT900_REG8",
        2 => "FT900_REG16",
        _ => "FT900_REG32",
    }
}

fn hex(v: u32, bytes: u8) -> String {
    format!("0x{v:0w$X}u", w = 2 * usize::from(bytes))
}

fn describe(reg: &Reg) -> String {
    let mut d = format!(
        "{}: {} byte{}, {}",
        reg.name,
        reg.bytes,
        if reg.bytes == 1 { "" } else { "s" },
        reg.access.abbrev()
    );
    if reg.count > 1 {
        let _ = write!(d, ", {} of them", reg.count);
    }
    if reg.revs.note() != "" {
        let _ = write!(d, ", {}", reg.revs.note());
    }
    match reg.bank {
        Bank::Always => {}
        Bank::Read => d.push_str(", read view"),
        Bank::Write => d.push_str(", write view"),
        Bank::Dlab => d.push_str(", LCR[7] = 1"),
        Bank::Enhanced => d.push_str(", LCR = 0xBF"),
        Bank::Status => d.push_str(", ACR[7] = 1"),
        Bank::Indexed => d.push_str(", indexed through SPR/ICR"),
    }
    if let Reset::Varies(why) = reg.reset {
        let _ = write!(d, "; reset: {why}");
    }
    d
}

fn emit_reset(out: &mut String, name: &str, reg: &Reg) {
    match reg.reset {
        Reset::Value(v) => {
            let _ = writeln!(out, "#define {name}_RESET {}", hex(v, reg.bytes));
        }
        Reset::PerRev { rev_b, rev_c } => {
            let _ = writeln!(out, "#define {name}_RESET_REV_B {}", hex(rev_b, reg.bytes));
            let _ = writeln!(out, "#define {name}_RESET_REV_C {}", hex(rev_c, reg.bytes));
        }
        Reset::Varies(_) => {}
    }
}

fn emit_fields(out: &mut String, name: &str, reg: &Reg) {
    for f in reg.fields {
        let mut notes = Vec::new();
        if let Some(a) = f.access {
            notes.push(a.abbrev());
        }
        if !f.revs.note().is_empty() {
            notes.push(f.revs.note());
        }
        if !notes.is_empty() {
            let _ = writeln!(out, "/* {name}_{}: {} */", f.name, notes.join(", "));
        }
        let _ = writeln!(
            out,
            "#define {name}_{} {}",
            f.name,
            hex(f.mask(), reg.bytes)
        );
        let _ = writeln!(out, "#define {name}_{}_SHIFT {}", f.name, f.lo);
    }
}

fn emit_block(out: &mut String, block: &Block, instances: &[&str]) {
    let shared = instances.len() > 1;
    let _ = writeln!(out, "/* ---- {} ---- */", instances.join(", "));
    for r in block.regs {
        let name = c_ident(block, r);
        let _ = writeln!(out, "/* {} */", describe(r));
        if shared || r.bank == Bank::Indexed {
            let _ = writeln!(out, "#define {name} 0x{:X}u", r.offset);
        } else {
            let addr = block.base + r.offset;
            let _ = writeln!(out, "#define {name}_OFFSET 0x{:X}u", r.offset);
            let _ = writeln!(out, "#define {name}_ADDR 0x{addr:05X}u");
            let w = width_macro(r.bytes);
            if r.count > 1 {
                let _ = writeln!(out, "#define {name}_COUNT {}u", r.count);
                let _ = writeln!(
                    out,
                    "#define {name}(n) {w}({name}_ADDR + {}u * (n))",
                    r.bytes
                );
            } else {
                let _ = writeln!(out, "#define {name} {w}({name}_ADDR)");
            }
        }
        emit_reset(out, &name, r);
        let field_prefix = if r.bank == Bank::Indexed {
            c_name(block, r)
        } else {
            name
        };
        emit_fields(out, &field_prefix, r);
    }
    out.push('\n');
}

/// The whole header text: every block of [`MAP`] with registers, in map order by address.
pub fn c_header() -> String {
    let mut out = String::new();
    out.push_str(
        "/*\n * ft900_regs.h - FT900 register addresses, offsets, reset values and fields.\n \
         *\n * GENERATED from ft900-sim/src/profile/ft900/regs/blocks.rs: do not edit. Regenerate with\n \
         *   FT900_BLESS=1 cargo test -p ft900-sim --test regs\n \
         * The format is described in docs/hardware/registers.md.\n */\n\
         #ifndef FT900_REGS_H\n#define FT900_REGS_H\n\n#include \"ft900_io.h\"\n\n",
    );
    let mut blocks: Vec<&Block> = MAP.iter().filter(|b| !b.c_base.is_empty()).collect();
    blocks.sort_by_key(|b| b.base);
    out.push_str("/* Base addresses. */\n");
    for b in &blocks {
        let rev = b.revs.note();
        let note = if rev.is_empty() {
            String::new()
        } else {
            format!(" /* {rev} */")
        };
        let _ = writeln!(out, "#define {} 0x{:05X}u{note}", b.c_base, b.base);
    }
    out.push('\n');
    let mut done: Vec<*const Reg> = Vec::new();
    for b in &blocks {
        if b.regs.is_empty() || done.contains(&b.regs.as_ptr()) {
            continue;
        }
        done.push(b.regs.as_ptr());
        let instances: Vec<&str> = blocks
            .iter()
            .filter(|o| std::ptr::eq(o.regs.as_ptr(), b.regs.as_ptr()))
            .map(|o| o.name)
            .collect();
        emit_block(&mut out, b, &instances);
    }
    out.push_str("#endif /* FT900_REGS_H */\n");
    out
}
