//! Consistency checks of the description itself.

use super::{Bank, MAP};
use crate::profile::ft900::chip::ChipRevision;

/// Checks the description: registers inside their blocks, in address order, widths 1/2/4,
/// fields inside the register and not overlapping, names unique within a block. `Err` lists
/// every problem.
pub fn validate() -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for b in MAP {
        let mut names = std::collections::HashSet::new();
        let mut last_direct = 0;
        for r in b.regs {
            if !names.insert(r.name) {
                problems.push(format!("{}: {} declared twice", b.name, r.name));
            }
            if ![1, 2, 4].contains(&r.bytes) || r.count == 0 {
                problems.push(format!(
                    "{}: {} has width {} x {}",
                    b.name, r.name, r.bytes, r.count
                ));
            }
            if r.bank != Bank::Indexed {
                if r.offset + r.span() > b.size || r.offset % u32::from(r.bytes) != 0 {
                    problems.push(format!(
                        "{}: {} at {:#x} is outside or misaligned",
                        b.name, r.name, r.offset
                    ));
                }
                if r.offset < last_direct {
                    problems.push(format!("{}: {} is out of address order", b.name, r.name));
                }
                last_direct = r.offset;
            }
            // Fields may overlap only when no revision has both.
            let mut used = [0u32; 2];
            for f in r.fields {
                if f.hi < f.lo || u32::from(f.hi) >= 8 * u32::from(r.bytes) {
                    problems.push(format!(
                        "{}: {}.{} is outside the register",
                        b.name, r.name, f.name
                    ));
                } else if ChipRevision::ALL
                    .iter()
                    .enumerate()
                    .any(|(k, &c)| f.revs.includes(c) && used[k] & f.mask() != 0)
                {
                    problems.push(format!(
                        "{}: {}.{} overlaps another field",
                        b.name, r.name, f.name
                    ));
                } else {
                    for (k, &c) in ChipRevision::ALL.iter().enumerate() {
                        if f.revs.includes(c) {
                            used[k] |= f.mask();
                        }
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
