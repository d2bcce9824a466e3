//! Symbolizing program addresses for traces and profiles: `function+offset` from the ELF's
//! symbol table ([`Symbols`]) and `file:line` from its DWARF line tables (through the
//! `addr2line` crate), with per-address caches, since a trace asks for the same few thousand
//! PCs millions of times.

use std::sync::Arc;

use object::{Object, ObjectSection};

use crate::core::PM_SIZE;
use crate::elf::Symbols;

/// The DWARF reader: sections shared behind an `Arc`, so that a [`Symbolizer`] can move into
/// hooks (which must be `Send`).
type Reader = gimli::EndianArcSlice<gimli::LittleEndian>;

/// Why the DWARF line information of a file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DebugInfoError {
    /// The file is not an ELF object the `object` crate can read.
    #[error("cannot read the ELF file: {0}")]
    Elf(String),
    /// The DWARF sections are malformed.
    #[error("malformed DWARF debugging information: {0}")]
    Dwarf(String),
}

/// DWARF line tables of a program: program address to source file and line.
pub struct LineInfo {
    context: addr2line::Context<Reader>,
}

impl LineInfo {
    /// Reads the line tables of an ELF file. `Ok(None)` when the file has no DWARF (a program
    /// built without `-g`): traces then show symbols only.
    pub fn parse(elf: &[u8]) -> Result<Option<LineInfo>, DebugInfoError> {
        let file = object::File::parse(elf).map_err(|e| DebugInfoError::Elf(e.to_string()))?;
        if file.section_by_name(".debug_info").is_none() {
            return Ok(None);
        }
        let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
            let data = file
                .section_by_name(id.name())
                .and_then(|s| s.uncompressed_data().ok())
                .map(|d| d.into_owned())
                .unwrap_or_default();
            Ok(Reader::new(Arc::from(data), gimli::LittleEndian))
        };
        let dwarf = gimli::Dwarf::load(load).map_err(|e| DebugInfoError::Dwarf(e.to_string()))?;
        let context = addr2line::Context::from_dwarf(dwarf)
            .map_err(|e| DebugInfoError::Dwarf(e.to_string()))?;
        Ok(Some(LineInfo { context }))
    }

    /// `file:line` of a program address (the file's name without its directories), if the
    /// line tables cover it.
    pub fn file_line(&self, pc: u32) -> Option<String> {
        let loc = self.context.find_location(pc as u64).ok()??;
        let file = loc.file?;
        let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
        Some(match loc.line {
            Some(line) => format!("{name}:{line}"),
            None => name.to_string(),
        })
    }
}

/// A function of the program as profiles count it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// Symbol name, or `0x...` for code no symbol covers.
    pub name: String,
    /// Address of its first instruction (for unknown code: the address first seen).
    pub start: u32,
}

/// Index of a [`Function`] in a [`Symbolizer`]'s function table.
pub type FunctionId = u32;

/// Sentinel of the per-word caches: not looked up yet.
const UNSET: u32 = u32::MAX;

/// Symbolizes program addresses, caching every answer per program-memory word.
pub struct Symbolizer {
    symbols: Symbols,
    lines: Option<LineInfo>,
    /// Per PM word: the index into `descriptions`, or [`UNSET`].
    description_of: Vec<u32>,
    descriptions: Vec<Box<str>>,
    /// The answer for an address that is not cached.
    scratch: String,
    /// Per PM word: the function id, or [`UNSET`].
    function_of: Vec<u32>,
    functions: Vec<Function>,
    /// Symbol index to function id.
    function_by_symbol: std::collections::HashMap<usize, FunctionId>,
}

impl Symbolizer {
    /// A symbolizer over a symbol table and, optionally, DWARF line tables.
    pub fn new(symbols: Symbols, lines: Option<LineInfo>) -> Symbolizer {
        let words = (PM_SIZE / 4) as usize;
        Symbolizer {
            symbols,
            lines,
            description_of: vec![UNSET; words],
            descriptions: Vec::new(),
            scratch: String::new(),
            function_of: vec![UNSET; words],
            functions: Vec::new(),
            function_by_symbol: std::collections::HashMap::new(),
        }
    }

    /// Symbols and line tables of an ELF file (already parsed into `symbols`). A file whose
    /// DWARF cannot be read is an error; a file without DWARF is not.
    pub fn from_elf(symbols: Symbols, elf: &[u8]) -> Result<Symbolizer, DebugInfoError> {
        Ok(Symbolizer::new(symbols, LineInfo::parse(elf)?))
    }

    /// The symbol table.
    pub fn symbols(&self) -> &Symbols {
        &self.symbols
    }

    /// Whether DWARF line information is available.
    pub fn has_lines(&self) -> bool {
        self.lines.is_some()
    }

    /// `func+0xoff (file:line)`, `func+0xoff` without line information, or the bare address.
    pub fn describe(&mut self, pc: u32) -> &str {
        let word = (pc / 4) as usize;
        let cached = self.description_of.get(word).copied();
        if pc & 3 != 0 || cached.is_none() {
            // Unaligned or outside program memory: rare, not cached.
            self.scratch = self.describe_uncached(pc);
            return &self.scratch;
        }
        if let Some(index) = cached.filter(|&i| i != UNSET) {
            return &self.descriptions[index as usize];
        }
        let text = self.describe_uncached(pc);
        self.descriptions.push(text.into());
        let index = self.descriptions.len() - 1;
        self.description_of[word] = index as u32;
        &self.descriptions[index]
    }

    fn describe_uncached(&self, pc: u32) -> String {
        let symbol = self.symbols.describe_code(pc);
        match self.lines.as_ref().and_then(|l| l.file_line(pc)) {
            Some(line) => format!("{symbol} ({line})"),
            None => symbol,
        }
    }

    /// `file:line` of `pc`, if known (not cached: for one-off questions).
    pub fn file_line(&self, pc: u32) -> Option<String> {
        self.lines.as_ref()?.file_line(pc)
    }

    /// The function containing `pc` (code without a symbol gets one pseudo-function per
    /// 256-byte block, named by its address).
    #[inline]
    pub fn function_of(&mut self, pc: u32) -> FunctionId {
        match self.function_of.get((pc / 4) as usize) {
            Some(&id) if id != UNSET => id,
            _ => self.function_of_uncached(pc),
        }
    }

    #[cold]
    fn function_of_uncached(&mut self, pc: u32) -> FunctionId {
        let id = match self.symbols.code_symbol_index(pc) {
            Some(index) => match self.function_by_symbol.get(&index) {
                Some(&id) => id,
                None => {
                    let s = self.symbols.get(index).expect("index from the table");
                    let id = self.add_function(s.name.clone(), s.addr);
                    self.function_by_symbol.insert(index, id);
                    id
                }
            },
            None => {
                let block = pc & !0xFF;
                let name = format!("{block:#x}");
                match self.functions.iter().position(|f| f.name == name) {
                    Some(i) => i as FunctionId,
                    None => self.add_function(name, block),
                }
            }
        };
        if let Some(slot) = self.function_of.get_mut((pc / 4) as usize) {
            *slot = id;
        }
        id
    }

    fn add_function(&mut self, name: String, start: u32) -> FunctionId {
        self.functions.push(Function { name, start });
        (self.functions.len() - 1) as FunctionId
    }

    /// A function by id.
    pub fn function(&self, id: FunctionId) -> &Function {
        &self.functions[id as usize]
    }

    /// Adds a pseudo-function (e.g. `[interrupt]` markers in profiles) and returns its id.
    pub fn pseudo_function(&mut self, name: &str) -> FunctionId {
        match self.functions.iter().position(|f| f.name == name) {
            Some(i) => i as FunctionId,
            None => self.add_function(name.to_string(), u32::MAX),
        }
    }
}
