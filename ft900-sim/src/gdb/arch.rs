//! The FT32 as gdb sees it (`gdb/ft32-tdep.c`, docs/hardware/gdb.md §1): 33 registers of 4 bytes,
//! little-endian, in the order `fp`, `sp`, `r0`..`r28`, `cc`, `pc`, and no XML target
//! description.

use std::num::NonZeroUsize;

use gdbstub::arch::{Arch, RegId, Registers};

/// Number of registers in gdb's FT32 register file.
pub const NUM_REGS: usize = 33;

/// Size of one register in bytes.
const REG_BYTES: usize = 4;

/// Marker type for [`Arch`]: the FT32 with gdb's register numbering.
pub enum Ft32 {}

impl Arch for Ft32 {
    type Usize = u32;
    type Registers = Ft32Regs;
    type BreakpointKind = usize;
    type RegId = Ft32RegId;
}

/// One register, named by what the hardware calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ft32RegId {
    /// General register `r0`..`r31` in hardware numbering (`r29` = `fp`, `r30` = `cc`,
    /// `r31` = `sp`).
    Gpr(u8),
    /// The program counter (a program-memory byte address).
    Pc,
}

impl Ft32RegId {
    /// The register gdb numbers `regnum` (0 = `fp`, 1 = `sp`, 2..=30 = `r0`..`r28`, 31 = `cc`,
    /// 32 = `pc`).
    pub fn from_gdb(regnum: usize) -> Option<Ft32RegId> {
        Some(match regnum {
            0 => Ft32RegId::Gpr(29),
            1 => Ft32RegId::Gpr(31),
            2..=30 => Ft32RegId::Gpr(regnum as u8 - 2),
            31 => Ft32RegId::Gpr(30),
            32 => Ft32RegId::Pc,
            _ => return None,
        })
    }

    /// gdb's number for this register.
    pub fn to_gdb(self) -> usize {
        match self {
            Ft32RegId::Gpr(29) => 0,
            Ft32RegId::Gpr(31) => 1,
            Ft32RegId::Gpr(30) => 31,
            Ft32RegId::Gpr(n) => n as usize + 2,
            Ft32RegId::Pc => 32,
        }
    }
}

impl RegId for Ft32RegId {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        Ft32RegId::from_gdb(id).map(|r| (r, NonZeroUsize::new(REG_BYTES)))
    }

    fn to_raw_id(&self) -> Option<usize> {
        Some(self.to_gdb())
    }
}

/// The register file in hardware order, plus how many registers a `G` packet supplied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ft32Regs {
    /// `r0`..`r31`, hardware numbering.
    pub r: [u32; 32],
    /// Program counter.
    pub pc: u32,
    /// Registers (in gdb order) that the last [`Registers::gdb_deserialize`] supplied; a
    /// short `G` packet leaves the others alone instead of zeroing them.
    pub supplied: usize,
}

impl Default for Ft32Regs {
    fn default() -> Self {
        Ft32Regs {
            r: [0; 32],
            pc: 0,
            supplied: NUM_REGS,
        }
    }
}

impl Ft32Regs {
    /// The value of `reg`.
    pub fn get(&self, reg: Ft32RegId) -> u32 {
        match reg {
            Ft32RegId::Gpr(n) => self.r[n as usize & 31],
            Ft32RegId::Pc => self.pc,
        }
    }

    /// Sets `reg`.
    pub fn set(&mut self, reg: Ft32RegId, value: u32) {
        match reg {
            Ft32RegId::Gpr(n) => self.r[n as usize & 31] = value,
            Ft32RegId::Pc => self.pc = value,
        }
    }
}

impl Registers for Ft32Regs {
    type ProgramCounter = u32;

    fn pc(&self) -> u32 {
        self.pc
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        for regnum in 0..NUM_REGS {
            let reg = Ft32RegId::from_gdb(regnum).expect("every gdb register number maps");
            for b in self.get(reg).to_le_bytes() {
                write_byte(Some(b));
            }
        }
    }

    /// Accepts any length: whole registers are taken in gdb order, a trailing partial register
    /// and anything past the 33rd are ignored (a malformed `G` must not end the session).
    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let mut supplied = 0;
        for (regnum, chunk) in bytes.chunks_exact(REG_BYTES).take(NUM_REGS).enumerate() {
            let reg = Ft32RegId::from_gdb(regnum).expect("every gdb register number maps");
            self.set(
                reg,
                u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
            );
            supplied = regnum + 1;
        }
        self.supplied = supplied;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdb_numbering_matches_ft32_tdep() {
        assert_eq!(Ft32RegId::from_gdb(0), Some(Ft32RegId::Gpr(29)));
        assert_eq!(Ft32RegId::from_gdb(1), Some(Ft32RegId::Gpr(31)));
        assert_eq!(Ft32RegId::from_gdb(2), Some(Ft32RegId::Gpr(0)));
        assert_eq!(Ft32RegId::from_gdb(30), Some(Ft32RegId::Gpr(28)));
        assert_eq!(Ft32RegId::from_gdb(31), Some(Ft32RegId::Gpr(30)));
        assert_eq!(Ft32RegId::from_gdb(32), Some(Ft32RegId::Pc));
        assert_eq!(Ft32RegId::from_gdb(33), None);
        for n in 0..NUM_REGS {
            assert_eq!(Ft32RegId::from_gdb(n).unwrap().to_gdb(), n);
        }
    }

    #[test]
    fn g_packet_layout() {
        let mut regs = Ft32Regs::default();
        for n in 0..32 {
            regs.r[n] = 0x100 + n as u32;
        }
        regs.pc = 0x1234;
        let mut bytes = Vec::new();
        regs.gdb_serialize(|b| bytes.push(b.unwrap()));
        assert_eq!(bytes.len(), NUM_REGS * 4);
        assert_eq!(&bytes[0..4], &0x11Du32.to_le_bytes()); // fp = r29
        assert_eq!(&bytes[4..8], &0x11Fu32.to_le_bytes()); // sp = r31
        assert_eq!(&bytes[8..12], &0x100u32.to_le_bytes()); // r0
        assert_eq!(&bytes[124..128], &0x11Eu32.to_le_bytes()); // cc = r30
        assert_eq!(&bytes[128..132], &0x1234u32.to_le_bytes()); // pc
        let mut back = Ft32Regs::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, regs);
        // A short G packet supplies only the leading registers.
        let mut short = Ft32Regs::default();
        short.gdb_deserialize(&bytes[..10]).unwrap();
        assert_eq!(short.supplied, 2);
        assert_eq!(short.r[31], 0x11F);
    }
}
