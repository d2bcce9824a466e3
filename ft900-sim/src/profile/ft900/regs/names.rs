//! Names for people: the register an address reaches in traces, and what the description
//! says about an access a model did not take (for reports of unmodelled accesses).

use super::{Access, Bank, Block, Reg, MAP};
use crate::profile::ft900::chip::ChipRevision;

/// The register at `addr` on either revision, as traces name it, and the byte offset inside
/// it: `TIMER_INT`, `PADCFG[3]`, `uart0.LSR/ICR` (a UART offset shows its read and write
/// views; the blocks with several instances are prefixed with the instance). `None` where no
/// register is declared.
pub fn trace_name(addr: u32) -> Option<(&'static str, u32)> {
    static NAMES: std::sync::OnceLock<Vec<(u32, u32, &'static str)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut out = Vec::new();
        for b in MAP.iter().filter(|b| !b.regs.is_empty()) {
            let shared = MAP.iter().filter(|o| std::ptr::eq(o.regs, b.regs)).count() > 1;
            let mut offsets: Vec<u32> = b
                .regs
                .iter()
                .filter(|r| matches!(r.bank, Bank::Always | Bank::Read | Bank::Write))
                .map(|r| r.offset)
                .collect();
            offsets.dedup();
            for off in offsets {
                let views: Vec<&Reg> = b
                    .regs
                    .iter()
                    .filter(|r| r.offset == off)
                    .filter(|r| matches!(r.bank, Bank::Always | Bank::Read | Bank::Write))
                    .collect();
                let first = views[0];
                let joined = views.iter().map(|r| r.name).collect::<Vec<_>>().join("/");
                for i in 0..u32::from(first.count) {
                    let mut name = if shared {
                        format!("{}.{joined}", b.name)
                    } else {
                        joined.clone()
                    };
                    if first.count > 1 {
                        name = format!("{name}[{i}]");
                    }
                    // Built once per process: the names live as long as the program.
                    let name: &'static str = Box::leak(name.into_boxed_str());
                    let start = b.base + off + i * u32::from(first.bytes);
                    out.push((start, start + u32::from(first.bytes), name));
                }
            }
        }
        out
    });
    names
        .iter()
        .find(|(start, end, _)| (*start..*end).contains(&addr))
        .map(|(start, _, name)| (*name, addr - start))
}

/// Names an access of `bytes` bytes at `offset` inside `block` that the model did not take:
/// the register there (with what is wrong: width, access, revision), or that no register is
/// declared there. `None` when the block declares no registers.
pub fn describe_offset(
    block: &Block,
    offset: u32,
    bytes: u32,
    write: bool,
    chip: ChipRevision,
) -> Option<String> {
    if block.regs.is_empty() {
        return None;
    }
    let Some(r) = block
        .regs
        .iter()
        .find(|r| {
            r.covers(offset)
                && (r.bank == Bank::Always || r.bank == Bank::Read || r.bank == Bank::Write)
        })
        .or_else(|| block.regs.iter().find(|r| r.covers(offset)))
    else {
        return Some(format!("no register at offset {offset:#x}"));
    };
    let index = if r.count > 1 {
        format!("[{}]", (offset - r.offset) / u32::from(r.bytes))
    } else {
        String::new()
    };
    let what = if !r.revs.includes(chip) {
        format!("{}, not on {chip}", r.revs.note())
    } else if bytes != u32::from(r.bytes) && r.bytes == 4 && r.access == Access::Port {
        format!("a {bytes}-byte access to a {}-byte port", r.bytes)
    } else if r.access == Access::Unmodelled {
        "not modelled".to_string()
    } else if write && r.access == Access::ReadOnly {
        "read only".to_string()
    } else if !write && r.access == Access::WriteOnly {
        "write only".to_string()
    } else if bytes > u32::from(r.bytes) {
        format!("{}-byte register, {bytes}-byte access", r.bytes)
    } else {
        r.access.abbrev().to_string()
    };
    Some(format!("{}{index}: {what}", r.name))
}
