//! CPU state and the two memories of the FT32's Harvard architecture.
//!
//! [`Core`] is what hooks and machine profiles get to see and change: registers, PC, counters,
//! program memory (with its pre-decoded instruction cache) and data RAM. The interpreter that
//! executes instructions lives in [`crate::machine`].

use crate::isa::{decode, Insn};

/// Program memory size of the FT900: 256 KiB.
pub const PM_SIZE: u32 = 0x4_0000;
/// Data RAM size of the FT900: 64 KiB.
pub const RAM_SIZE: u32 = 0x1_0000;
/// Where ELF files, gdb and the Unicorn-shaped API place data RAM in one flat address space.
pub const RAM_BIAS: u32 = 0x80_0000;

/// Register names for [`Core::reg_read`]-style access, in hardware numbering (`R31` is the stack
/// pointer, `R30` the condition register, `R29` the frame pointer) plus the program counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Reg {
    R0 = 0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
    R16,
    R17,
    R18,
    R19,
    R20,
    R21,
    R22,
    R23,
    R24,
    R25,
    R26,
    R27,
    R28,
    R29,
    R30,
    R31,
    Pc,
}

impl Reg {
    /// Stack pointer (`$sp`).
    pub const SP: Reg = Reg::R31;
    /// Condition register (`$cc`).
    pub const CC: Reg = Reg::R30;
    /// Frame pointer (`$fp`).
    pub const FP: Reg = Reg::R29;

    /// General register `n` (0..=31); `None` for other numbers.
    pub fn r(n: u32) -> Option<Reg> {
        const ALL: [Reg; 32] = {
            use Reg::*;
            [
                R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, R13, R14, R15, R16, R17,
                R18, R19, R20, R21, R22, R23, R24, R25, R26, R27, R28, R29, R30, R31,
            ]
        };
        ALL.get(n as usize).copied()
    }

    /// Assembler name of the register (`$r0`, ..., `$fp`, `$cc`, `$sp`, `pc`).
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 33] = [
            "$r0", "$r1", "$r2", "$r3", "$r4", "$r5", "$r6", "$r7", "$r8", "$r9", "$r10", "$r11",
            "$r12", "$r13", "$r14", "$r15", "$r16", "$r17", "$r18", "$r19", "$r20", "$r21", "$r22",
            "$r23", "$r24", "$r25", "$r26", "$r27", "$r28", "$fp", "$cc", "$sp", "pc",
        ];
        NAMES[self as usize]
    }
}

/// Registers, counters and memories of one FT32 CPU.
///
/// Memories are "mapped" in the Unicorn sense: program memory covers addresses `0..pm_len()`
/// and data RAM covers `0..ram_len()` of the data space (`RAM_BIAS..` in the flat space); an
/// access outside a mapped range is a guest fault.
#[derive(Clone)]
pub struct Core {
    /// General registers r0..r31, hardware numbering.
    pub regs: [u32; 32],
    /// Program counter (byte address in program memory).
    pub pc: u32,
    /// Cycles executed since reset, per the reference simulator's cycle model.
    pub cycles: u64,
    /// Instructions executed since reset.
    pub insns: u64,
    pm: Vec<u8>,
    /// Decoded words of the executable part of program memory: `0..fetch_end` (all of it
    /// unless [`Core::limit_fetch`] said otherwise). A fetch beyond it finds nothing.
    decoded: Vec<Insn>,
    fetch_end: Option<u32>,
    ram: Vec<u8>,
    /// Program-memory bytes `lo..hi` changed since the execution engine last looked (see
    /// [`Core::take_code_dirty`]).
    code_dirty: Option<(u32, u32)>,
}

impl Default for Core {
    fn default() -> Self {
        Self::new()
    }
}

impl Core {
    /// A CPU with no memory mapped and all registers zero.
    pub fn new() -> Core {
        Core {
            regs: [0; 32],
            pc: 0,
            cycles: 0,
            insns: 0,
            pm: Vec::new(),
            decoded: Vec::new(),
            fetch_end: None,
            ram: Vec::new(),
            code_dirty: None,
        }
    }

    /// Maps program memory `0..size` (zero-filled); `size` is rounded up to whole words.
    pub(crate) fn map_pm(&mut self, size: u32) {
        let size = size.div_ceil(4) * 4;
        if size as usize > self.pm.len() {
            self.pm.resize(size as usize, 0);
            self.redecode();
        }
    }

    /// Makes only program memory below `end` executable (`None`: all of it): a fetch at or
    /// above `end` finds no instruction, which the profile then handles
    /// ([`crate::machine::Profile::on_fetch_fault`]). Reads and writes are not affected.
    pub(crate) fn limit_fetch(&mut self, end: Option<u32>) {
        self.fetch_end = end;
        self.redecode();
    }

    /// Sizes the decode cache to the executable part of program memory and fills it.
    fn redecode(&mut self) {
        let words = self.pm.len() / 4;
        let words = match self.fetch_end {
            Some(end) => words.min((end / 4) as usize),
            None => words,
        };
        self.mark_code_dirty(0, u32::MAX);
        let pm = &self.pm;
        self.decoded.clear();
        self.decoded.extend(
            pm[..words * 4]
                .chunks_exact(4)
                .map(|w| decode(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))),
        );
    }

    /// Maps data RAM `0..size` (zero-filled).
    pub(crate) fn map_ram(&mut self, size: u32) {
        if size as usize > self.ram.len() {
            self.ram.resize(size as usize, 0);
        }
    }

    /// Bytes of program memory mapped.
    pub fn pm_len(&self) -> u32 {
        self.pm.len() as u32
    }

    /// Bytes of data RAM mapped.
    pub fn ram_len(&self) -> u32 {
        self.ram.len() as u32
    }

    /// Program memory contents.
    pub fn pm(&self) -> &[u8] {
        &self.pm
    }

    /// Data RAM contents.
    pub fn ram(&self) -> &[u8] {
        &self.ram
    }

    /// Mutable data RAM (RAM holds no decoded state, so direct writes are safe).
    pub fn ram_mut(&mut self) -> &mut [u8] {
        &mut self.ram
    }

    /// Writes bytes into program memory and refreshes the decoded instructions they cover.
    /// Returns `false` (writing nothing) when the range is not mapped.
    pub fn pm_write(&mut self, addr: u32, bytes: &[u8]) -> bool {
        let start = addr as usize;
        let Some(end) = start.checked_add(bytes.len()) else {
            return false;
        };
        if end > self.pm.len() {
            return false;
        }
        self.pm[start..end].copy_from_slice(bytes);
        self.mark_code_dirty(start as u32, end as u32);
        for word in start / 4..end.div_ceil(4).min(self.decoded.len()) {
            self.decoded[word] = decode(self.pm_word(word as u32 * 4));
        }
        true
    }

    /// Records that program memory `lo..hi` changed, so that compiled code for it is dropped.
    /// Every change of program memory or of its mapping goes through here.
    fn mark_code_dirty(&mut self, lo: u32, hi: u32) {
        self.code_dirty = Some(match self.code_dirty {
            Some((l, h)) => (l.min(lo), h.max(hi)),
            None => (lo, hi),
        });
    }

    /// The program-memory range changed since the last call (`None`: nothing), for the
    /// compiling engine's invalidation.
    #[cfg(feature = "jit")]
    #[inline(always)]
    pub(crate) fn take_code_dirty(&mut self) -> Option<(u32, u32)> {
        self.code_dirty.take()
    }

    /// Whether program memory changed since the last [`Core::take_code_dirty`].
    #[cfg(feature = "jit")]
    #[inline(always)]
    pub(crate) fn code_dirty(&self) -> bool {
        self.code_dirty.is_some()
    }

    /// Words of program memory instructions can be fetched from (see [`Core::limit_fetch`]).
    #[cfg(feature = "jit")]
    pub(crate) fn fetch_words(&self) -> u32 {
        self.decoded.len() as u32
    }

    /// Base pointers of registers, RAM and program memory for compiled code.
    #[cfg(feature = "jit")]
    #[inline(always)]
    pub(crate) fn jit_pointers(&mut self) -> (*mut u32, *mut u8, *const u8) {
        (
            self.regs.as_mut_ptr(),
            self.ram.as_mut_ptr(),
            self.pm.as_ptr(),
        )
    }

    /// The aligned program-memory word containing `addr` (which must be mapped).
    #[inline(always)]
    pub(crate) fn pm_word(&self, addr: u32) -> u32 {
        let a = (addr & !3) as usize;
        u32::from_le_bytes([self.pm[a], self.pm[a + 1], self.pm[a + 2], self.pm[a + 3]])
    }

    /// The decoded instruction at `pc`, or `None` when `pc` is outside program memory.
    #[inline(always)]
    pub(crate) fn fetch(&self, pc: u32) -> Option<Insn> {
        self.decoded.get((pc >> 2) as usize).copied()
    }

    /// Reads a little-endian value of `bytes` (1, 2 or 4) bytes from program memory at `addr`
    /// (already aligned); `None` when unmapped.
    #[inline]
    pub(crate) fn pm_read(&self, addr: u32, bytes: u32) -> Option<u32> {
        read_le(&self.pm, addr, bytes)
    }

    /// Reads from data RAM at an address already aligned; `None` when unmapped.
    #[inline(always)]
    pub(crate) fn ram_read(&self, addr: u32, bytes: u32) -> Option<u32> {
        read_le(&self.ram, addr, bytes)
    }

    /// Writes to data RAM at an address already aligned; `false` when unmapped.
    #[inline(always)]
    pub(crate) fn ram_write(&mut self, addr: u32, bytes: u32, value: u32) -> bool {
        let a = addr as usize;
        match self.ram.get_mut(a..a + bytes as usize) {
            Some(dst) => {
                dst.copy_from_slice(&value.to_le_bytes()[..bytes as usize]);
                true
            }
            None => false,
        }
    }

    /// Reads register `reg`.
    pub fn reg(&self, reg: Reg) -> u32 {
        match reg {
            Reg::Pc => self.pc,
            r => self.regs[r as usize],
        }
    }

    /// Writes register `reg`.
    pub fn set_reg(&mut self, reg: Reg, value: u32) {
        match reg {
            Reg::Pc => self.pc = value,
            r => self.regs[r as usize] = value,
        }
    }

    /// Reads bytes from the flat address space (program memory at 0, RAM at [`RAM_BIAS`]).
    /// Returns `false` when any byte is unmapped; `buf` is then unspecified.
    pub fn read_flat(&self, addr: u32, buf: &mut [u8]) -> bool {
        let (mem, off) = if addr >= RAM_BIAS {
            (&self.ram, addr - RAM_BIAS)
        } else {
            (&self.pm, addr)
        };
        let start = off as usize;
        match mem.get(start..start + buf.len()) {
            Some(src) => {
                buf.copy_from_slice(src);
                true
            }
            None => false,
        }
    }

    /// Writes bytes into the flat address space; `false` when any byte is unmapped (nothing is
    /// written then).
    pub fn write_flat(&mut self, addr: u32, bytes: &[u8]) -> bool {
        if addr >= RAM_BIAS {
            let start = (addr - RAM_BIAS) as usize;
            match self.ram.get_mut(start..start + bytes.len()) {
                Some(dst) => {
                    dst.copy_from_slice(bytes);
                    true
                }
                None => false,
            }
        } else {
            self.pm_write(addr, bytes)
        }
    }
}

#[inline(always)]
fn read_le(mem: &[u8], addr: u32, bytes: u32) -> Option<u32> {
    let a = addr as usize;
    match bytes {
        1 => mem.get(a).map(|&b| b as u32),
        2 => mem
            .get(a..a + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as u32),
        _ => mem
            .get(a..a + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::Op;

    #[test]
    fn pm_writes_refresh_the_decode_cache() {
        let mut c = Core::new();
        c.map_pm(16);
        assert_eq!(c.fetch(4).unwrap().op, Op::JmpC); // zero word = jmpx 0,$r28,0,0
        assert!(c.pm_write(4, &0xA000_0000u32.to_le_bytes()));
        assert_eq!(c.fetch(4).unwrap().op, Op::Return);
        // A half-word write changes the word it lands in.
        assert!(c.pm_write(6, &[0x00, 0x78]));
        assert_eq!(c.fetch(4).unwrap().op, Op::Halt);
        assert!(c.fetch(16).is_none());
        assert!(!c.pm_write(14, &[0; 4]));
    }

    #[test]
    fn flat_space_reaches_both_memories() {
        let mut c = Core::new();
        c.map_pm(PM_SIZE);
        c.map_ram(RAM_SIZE);
        assert!(c.write_flat(RAM_BIAS + 0x10, &[1, 2, 3, 4]));
        assert_eq!(c.ram_read(0x10, 4), Some(0x0403_0201));
        let mut b = [0u8; 2];
        assert!(c.read_flat(RAM_BIAS + 0x11, &mut b));
        assert_eq!(b, [2, 3]);
        assert!(!c.write_flat(RAM_BIAS + RAM_SIZE - 1, &[0, 0]));
        assert!(!c.read_flat(PM_SIZE, &mut b));
    }
}
