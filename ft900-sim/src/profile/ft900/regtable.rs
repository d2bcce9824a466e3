//! Register tables: a block's registers declared as data (name, offset, reset value, access)
//! rather than decoded by hand in long matches. A block keeps its register values in a
//! [`RegFile`] built from its table and writes code only for the side effects of an access.
//! The tables are the blocks' register descriptions ([`super::regs`]).

pub use super::regs::Access as RegAccess;
pub use super::regs::Reg as RegDef;
use super::regs::Reset;

/// A byte register's reset value as the table gives it (rev C's when the revisions differ;
/// 0 when it depends on the outside).
fn reset_byte(r: &RegDef) -> u8 {
    match r.reset {
        Reset::Value(v) => v as u8,
        Reset::PerRev { rev_c, .. } => rev_c as u8,
        Reset::Varies(_) => 0,
    }
}

/// The values of a table's registers.
#[derive(Clone, Debug)]
pub struct RegFile {
    table: &'static [RegDef],
    values: Vec<u8>,
}

impl RegFile {
    /// Every register at its reset value.
    pub fn new(table: &'static [RegDef]) -> RegFile {
        RegFile {
            table,
            values: table.iter().map(reset_byte).collect(),
        }
    }

    /// Back to the reset values.
    pub fn reset(&mut self) {
        for (v, r) in self.values.iter_mut().zip(self.table) {
            *v = reset_byte(r);
        }
    }

    /// The register at `offset`, if the table has one.
    pub fn def(&self, offset: u32) -> Option<&'static RegDef> {
        self.table.iter().find(|r| r.offset == offset)
    }

    /// The stored value of the register at `offset` (0 when there is none).
    pub fn get(&self, offset: u32) -> u8 {
        self.index(offset).map_or(0, |i| self.values[i])
    }

    /// Stores `value` in the register at `offset` (no access rules applied).
    pub fn set(&mut self, offset: u32, value: u8) {
        if let Some(i) = self.index(offset) {
            self.values[i] = value;
        }
    }

    /// Applies a CPU write with the register's access rule; `false` when the table has no
    /// modelled register there.
    pub fn write(&mut self, offset: u32, value: u8) -> bool {
        let Some(i) = self.index(offset) else {
            return false;
        };
        match self.table[i].access {
            RegAccess::ReadWrite
            | RegAccess::WriteOnly
            | RegAccess::ReadClears
            | RegAccess::ReadLatches
            | RegAccess::Port
            | RegAccess::TestAndSet => self.values[i] = value,
            RegAccess::WriteOneToClear => self.values[i] &= !value,
            RegAccess::ReadOnly => {}
            RegAccess::Unmodelled => return false,
        }
        true
    }

    /// (name, offset, value) of every modelled register, for debugger dumps.
    pub fn dump(&self) -> Vec<(&'static str, u32, u8)> {
        self.table
            .iter()
            .zip(&self.values)
            .filter(|(r, _)| r.access != RegAccess::Unmodelled)
            .map(|(r, v)| (r.name, r.offset, *v))
            .collect()
    }

    fn index(&self, offset: u32) -> Option<usize> {
        self.table.iter().position(|r| r.offset == offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod table {
        use crate::profile::ft900::regs::{registers, Access, Bank, Reg, Reset, Revs};
        registers! {
            A "A" @ 0 1 0x12, ReadWrite [];
            B "B" @ 1 1 0xF0, WriteOneToClear [];
            C "C" @ 2 1 7, ReadOnly [];
            D "D" @ 3 1 0, Unmodelled [];
        }
    }
    use table::{A, B, C, D};
    const TABLE: &[RegDef] = table::REGS;

    #[test]
    fn access_rules_apply_and_reset_restores_the_table() {
        let mut f = RegFile::new(TABLE);
        assert_eq!((f.get(A), f.get(B), f.get(C)), (0x12, 0xF0, 7));
        assert!(f.write(A, 0x34));
        assert!(f.write(B, 0x30));
        assert!(f.write(C, 0));
        assert!(!f.write(D, 1), "unmodelled registers are reported");
        assert!(!f.write(9, 1), "no register there");
        assert_eq!((f.get(A), f.get(B), f.get(C)), (0x34, 0xC0, 7));
        f.reset();
        assert_eq!((f.get(A), f.get(B)), (0x12, 0xF0));
        assert_eq!(f.dump().len(), 3);
        assert_eq!(f.def(C).unwrap().name, "C");
    }
}
