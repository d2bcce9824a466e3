//! Loading `ft32-elf` executables: validation, segment placement and symbols.
//!
//! Code addresses in FT32 ELF files are program-memory byte addresses; data addresses carry the
//! 0x800000 RAM bias (`docs/hardware/isa.md` §1.4, `docs/hardware/memory-map.md` §5).

use object::elf::{FileHeader32, ProgramHeader32, EM_FT32, ET_EXEC, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::{LittleEndian, Object, ObjectSymbol, SymbolKind, SymbolSection};

use crate::core::{Core, PM_SIZE, RAM_BIAS, RAM_SIZE};

/// Why a file cannot be loaded. Every message names the problem in one line.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// Not an ELF file at all.
    #[error("not an ELF file (no \\x7fELF magic)")]
    NotElf,
    /// ELF, but not a 32-bit little-endian FT32 executable.
    #[error("not an FT32 executable: {0}")]
    WrongKind(String),
    /// Truncated or inconsistent headers.
    #[error("malformed ELF: {0}")]
    Malformed(String),
    /// The file is larger than any FT32 executable can be (checked before it is read).
    #[error("{size} bytes is larger than any FT32 executable (limit {limit} bytes: program memory is {PM_SIZE} bytes, the rest is room for symbols and debugging information)")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The limit, [`MAX_FILE_BYTES`].
        limit: u64,
    },
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// A loadable segment does not fit the FT900's memories.
    #[error(
        "segment {index} ({what} {addr:#x}..{end:#x}) lies outside program memory (0..{PM_SIZE:#x}) and RAM ({RAM_BIAS:#x}..{:#x})",
        RAM_BIAS + RAM_SIZE
    )]
    OutsideMemory {
        /// Program-header index.
        index: usize,
        /// Which address of the segment is at fault.
        what: &'static str,
        /// Start address.
        addr: u64,
        /// End address (exclusive).
        end: u64,
    },
}

/// Where loadable segments go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadPolicy {
    /// Each segment at its virtual address, as `ft32-elf-run --load-vma` does: code in program
    /// memory, initialised data straight into RAM. For `-msim` programs, whose start-up code does
    /// not copy `.data`.
    Vma,
    /// As flash holds it: each segment at its load address in program memory (the `.data` image
    /// after `.text`), and data segments also pre-loaded into RAM at their virtual address. For
    /// FT900 firmware, whose start-up code copies `.data` from program memory itself.
    Flash,
    /// Only what the chip's flash holds: every segment at its load address in program memory,
    /// and nothing in RAM. The start-up code must copy `.data` and clear `.bss` itself, as on
    /// silicon; the default of the `ft900` machine, so that a broken start-up shows here.
    Rom,
}

/// One `PT_LOAD` segment.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Virtual address (RAM addresses biased by 0x800000).
    pub vaddr: u32,
    /// Physical (load) address.
    pub paddr: u32,
    /// File contents.
    pub data: Vec<u8>,
    /// Size in memory (`data` is zero-extended to this).
    pub memsz: u32,
}

/// A symbol of the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Name.
    pub name: String,
    /// Address (code: program memory; data: biased RAM address).
    pub addr: u32,
    /// Size in bytes, 0 if unknown.
    pub size: u32,
    /// `true` for functions and code labels.
    pub code: bool,
}

/// Symbols sorted by address, for `function+offset` reports.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    sorted: Vec<Symbol>,
}

impl Symbols {
    /// Builds the table from a list of symbols.
    pub fn new(mut symbols: Vec<Symbol>) -> Symbols {
        // Functions before labels at the same address, so lookups name the function.
        symbols.sort_by(|a, b| (a.addr, b.size > 0, &a.name).cmp(&(b.addr, a.size > 0, &b.name)));
        Symbols { sorted: symbols }
    }

    /// The code symbol containing (or nearest below) program address `pc`, and the offset.
    pub fn lookup_code(&self, pc: u32) -> Option<(&str, u32)> {
        self.code_symbol_index(pc).map(|i| {
            let s = &self.sorted[i];
            (s.name.as_str(), pc - s.addr)
        })
    }

    /// Index (for [`Symbols::get`]) of the code symbol that [`Symbols::lookup_code`] names for
    /// `pc`: a stable identity of the function, for profiles.
    pub fn code_symbol_index(&self, pc: u32) -> Option<usize> {
        let end = self.sorted.partition_point(|s| s.addr <= pc);
        let below = &self.sorted[..end];
        // Prefer a sized symbol that contains pc (a function) over a nearer label; look back a
        // bounded distance so that tracing stays cheap.
        let containing = below
            .iter()
            .rev()
            .take(64)
            .position(|s| s.code && s.size > 0 && pc - s.addr < s.size);
        // An unsized label (assembly code) only names addresses shortly after it.
        let nearest = || {
            below.iter().rev().position(|s| s.code).filter(|&k| {
                let s = &below[end - 1 - k];
                s.size == 0 && pc - s.addr < 0x1000
            })
        };
        containing.or_else(nearest).map(|k| end - 1 - k)
    }

    /// The symbol at `index` of the address-sorted table.
    pub fn get(&self, index: usize) -> Option<&Symbol> {
        self.sorted.get(index)
    }

    /// The code symbol called `name` (a function's first instruction and size).
    pub fn code_symbol(&self, name: &str) -> Option<&Symbol> {
        self.sorted.iter().find(|s| s.code && s.name == name)
    }

    /// `name+0xoff` for a program address, or the bare hex address when no symbol is known.
    pub fn describe_code(&self, pc: u32) -> String {
        match self.lookup_code(pc) {
            Some((name, 0)) => name.to_string(),
            Some((name, off)) => format!("{name}+{off:#x}"),
            None => format!("{pc:#x}"),
        }
    }

    /// Address of the symbol called `name`.
    pub fn address_of(&self, name: &str) -> Option<u32> {
        self.sorted.iter().find(|s| s.name == name).map(|s| s.addr)
    }

    /// All symbols, sorted by address.
    pub fn iter(&self) -> impl Iterator<Item = &Symbol> {
        self.sorted.iter()
    }
}

/// A parsed FT32 executable.
#[derive(Clone, Debug)]
pub struct Program {
    /// Entry point (`e_entry`).
    pub entry: u32,
    /// Loadable segments in file order.
    pub segments: Vec<Segment>,
    /// Symbols.
    pub symbols: Symbols,
}

/// Largest file [`Program::read_file`] reads: program memory is 256 KiB, so anything beyond a
/// few MiB is symbols and DWARF; 64 MiB leaves room for the largest debug builds while a
/// stray multi-gigabyte file is refused before it is read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Size of the ELF32 file header.
const EHDR32_BYTES: usize = 52;

fn in_pm(start: u64, len: u64) -> bool {
    start + len <= PM_SIZE as u64
}

fn in_ram(start: u64, len: u64) -> bool {
    start >= RAM_BIAS as u64 && start + len <= (RAM_BIAS + RAM_SIZE) as u64
}

/// Checks the identification and the file header (the first 52 bytes), so that a file that is
/// not an FT32 executable is refused before the rest of it is read.
fn check_header(bytes: &[u8]) -> Result<(), ElfError> {
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if bytes.len() < 6 {
        return Err(ElfError::Malformed(
            "file ends inside the ELF identification".into(),
        ));
    }
    if bytes[4] != 1 {
        return Err(ElfError::WrongKind(format!(
            "ELF class {} (FT32 executables are 32-bit, class 1)",
            bytes[4]
        )));
    }
    if bytes[5] != 1 {
        return Err(ElfError::WrongKind(
            "big-endian ELF (FT32 is little-endian)".into(),
        ));
    }
    let header = FileHeader32::<LittleEndian>::parse(bytes)
        .map_err(|e| ElfError::Malformed(e.to_string()))?;
    let endian = header
        .endian()
        .map_err(|e| ElfError::Malformed(e.to_string()))?;
    let machine = header.e_machine(endian);
    if machine != EM_FT32 {
        return Err(ElfError::WrongKind(format!(
            "machine {machine} (FT32 is {EM_FT32}); was it built with ft32-elf-gcc?"
        )));
    }
    if header.e_type(endian) != ET_EXEC {
        return Err(ElfError::WrongKind(format!(
            "ELF type {} is not an executable (ET_EXEC); link it first",
            header.e_type(endian)
        )));
    }
    Ok(())
}

/// The bytes of the executable at `path`, read only after its first 52 bytes passed
/// [`check_header`] and its size passed [`MAX_FILE_BYTES`] (for callers that also want the
/// debugging sections, e.g. a symbolizer).
pub fn read_checked(path: &std::path::Path) -> Result<Vec<u8>, ElfError> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = Vec::with_capacity(EHDR32_BYTES);
    (&file).take(EHDR32_BYTES as u64).read_to_end(&mut head)?;
    check_header(&head)?;
    if size > MAX_FILE_BYTES {
        return Err(ElfError::TooLarge {
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    let mut bytes = head;
    bytes.reserve_exact(size as usize - bytes.len().min(size as usize));
    // Bounded even if the file grows while it is read.
    (&file)
        .take(MAX_FILE_BYTES + 1 - bytes.len() as u64)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ElfError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(bytes)
}

impl Program {
    /// Reads and parses the executable at `path`. The header is read and checked first, and
    /// the file's size against [`MAX_FILE_BYTES`], so a huge or foreign file costs no memory.
    pub fn read_file(path: &std::path::Path) -> Result<Program, ElfError> {
        Program::parse(&read_checked(path)?)
    }

    /// Parses and validates an executable.
    pub fn parse(bytes: &[u8]) -> Result<Program, ElfError> {
        check_header(bytes)?;
        let header = FileHeader32::<LittleEndian>::parse(bytes)
            .map_err(|e| ElfError::Malformed(e.to_string()))?;
        let endian = header
            .endian()
            .map_err(|e| ElfError::Malformed(e.to_string()))?;
        let phdrs: &[ProgramHeader32<LittleEndian>] = header
            .program_headers(endian, bytes)
            .map_err(|e| ElfError::Malformed(e.to_string()))?;
        let mut segments = Vec::new();
        for (index, ph) in phdrs.iter().enumerate() {
            if ph.p_type(endian) != PT_LOAD || ph.p_memsz(endian) == 0 {
                continue;
            }
            let data = ph
                .data(endian, bytes)
                .map_err(|_| {
                    ElfError::Malformed(format!(
                        "segment {index}'s contents lie beyond the end of the file (truncated?)"
                    ))
                })?
                .to_vec();
            let seg = Segment {
                vaddr: ph.p_vaddr(endian),
                paddr: ph.p_paddr(endian),
                memsz: ph.p_memsz(endian),
                data,
            };
            if (seg.data.len() as u32) > seg.memsz {
                return Err(ElfError::Malformed(format!(
                    "segment {index} has a file size larger than its memory size"
                )));
            }
            let (v, m) = (seg.vaddr as u64, seg.memsz as u64);
            if !in_pm(v, m) && !in_ram(v, m) {
                return Err(ElfError::OutsideMemory {
                    index,
                    what: "virtual",
                    addr: v,
                    end: v + m,
                });
            }
            segments.push(seg);
        }
        if segments.is_empty() {
            return Err(ElfError::Malformed("no loadable segment".into()));
        }
        let file = object::read::elf::ElfFile32::<LittleEndian>::parse(bytes)
            .map_err(|e| ElfError::Malformed(e.to_string()))?;
        let symbols = file
            .symbols()
            .filter_map(|s| {
                let name = s.name().ok()?;
                if name.is_empty() || name.starts_with(".L") || s.is_undefined() {
                    return None;
                }
                // Absolute symbols (__RAMSIZE, __PMSIZE) are numbers, not places in the program.
                let in_section = matches!(s.section(), SymbolSection::Section(_));
                let code = match s.kind() {
                    SymbolKind::Text => true,
                    SymbolKind::Data | SymbolKind::Tls => false,
                    SymbolKind::Unknown | SymbolKind::Label => s.address() < PM_SIZE as u64,
                    _ => return None,
                };
                Some(Symbol {
                    name: name.to_string(),
                    addr: s.address() as u32,
                    size: s.size() as u32,
                    code: code && in_section && s.address() < PM_SIZE as u64,
                })
            })
            .collect();
        Ok(Program {
            entry: header.e_entry(endian),
            segments,
            symbols: Symbols::new(symbols),
        })
    }

    /// Copies the segments into mapped memories according to `policy`.
    pub fn load_into(&self, core: &mut Core, policy: LoadPolicy) -> Result<(), ElfError> {
        for (index, seg) in self.segments.iter().enumerate() {
            let mut image = seg.data.clone();
            image.resize(seg.memsz as usize, 0);
            let (v, m) = (seg.vaddr as u64, seg.memsz as u64);
            let outside = |what, addr: u64, len: u64| ElfError::OutsideMemory {
                index,
                what,
                addr,
                end: addr + len,
            };
            if in_pm(v, m) {
                // A code segment: its load and virtual addresses coincide on FT32.
                if !core.write_flat(seg.vaddr, &image) {
                    return Err(outside("virtual", v, m));
                }
                continue;
            }
            // A data segment (virtual address in RAM).
            if policy != LoadPolicy::Vma {
                let (p, f) = (seg.paddr as u64, seg.data.len() as u64);
                if in_pm(p, f) {
                    if !core.write_flat(seg.paddr, &seg.data) {
                        return Err(outside("load", p, f));
                    }
                } else if !in_ram(p, f) {
                    return Err(outside("load", p, f));
                }
            }
            if policy == LoadPolicy::Rom {
                if !in_ram(v, m) {
                    return Err(outside("virtual", v, m));
                }
                continue;
            }
            if !core.write_flat(seg.vaddr, &image) {
                return Err(outside("virtual", v, m));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest FT32 executable: one `PT_LOAD` segment of 4 bytes at 0, entry 0.
    fn tiny_elf() -> Vec<u8> {
        let mut e = b"\x7fELF\x01\x01\x01".to_vec();
        e.resize(16, 0);
        e.extend_from_slice(&ET_EXEC.to_le_bytes());
        e.extend_from_slice(&EM_FT32.to_le_bytes());
        for word in [1u32, 0, 52, 0, 0] {
            // e_version, e_entry, e_phoff, e_shoff, e_flags
            e.extend_from_slice(&word.to_le_bytes());
        }
        for half in [52u16, 32, 1, 40, 0, 0] {
            // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
            e.extend_from_slice(&half.to_le_bytes());
        }
        for word in [PT_LOAD, 84, 0, 0, 4, 4, 5, 4] {
            // p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align
            e.extend_from_slice(&word.to_le_bytes());
        }
        e.extend_from_slice(&[1, 2, 3, 4]);
        e
    }

    /// Found by fuzz/ (gdb_rsp, elf): an image at an address that is not a multiple of 4 (a
    /// slice of a larger buffer) was refused as "Invalid ELF header size or alignment".
    #[test]
    fn parses_an_image_at_any_alignment() {
        let elf = tiny_elf();
        for offset in 0..4 {
            let mut buf = vec![0u8; offset];
            buf.extend_from_slice(&elf);
            let p =
                Program::parse(&buf[offset..]).unwrap_or_else(|e| panic!("offset {offset}: {e}"));
            assert_eq!(p.entry, 0);
            assert_eq!(p.segments.len(), 1);
            assert_eq!(p.segments[0].data, [1, 2, 3, 4]);
        }
    }
}
