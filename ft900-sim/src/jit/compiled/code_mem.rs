//! Executable memory for compiled blocks: page-aligned chunks from `mmap`, written while
//! read-write and executed while read-execute (never both at once, so W^X kernels accept it).
//!
//! Code is only appended. Blocks invalidated by a program-memory write leave their code behind
//! (it is small and such writes to code are rare); dropping the arena returns everything.
//!
//! A page, once executable, is never made writable again: other threads may be running code
//! on it (a code cache is shared by the machines of a fleet, see `super::cache`), and a page
//! made read-write under them would fault. So each function starts on a fresh page, which
//! costs some memory (a block is a few hundred bytes to a few KiB) but needs no dual mapping.

use std::ptr::NonNull;

/// Size of one chunk of executable memory.
const CHUNK: usize = 1 << 20;

/// Total code kept before the owner should flush everything and start again.
pub(crate) const LIMIT: usize = 64 << 20;

struct Chunk {
    base: NonNull<u8>,
    used: usize,
}

/// An append-only arena of executable memory.
pub(crate) struct CodeMem {
    chunks: Vec<Chunk>,
    page: usize,
}

// The arena owns its mappings; it is only changed through `&mut self` (its owner serialises
// installs), and the code it hands out is immutable once installed.
unsafe impl Send for CodeMem {}

impl CodeMem {
    pub(crate) fn new() -> CodeMem {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        CodeMem {
            chunks: Vec::new(),
            page: if page > 0 { page as usize } else { 4096 },
        }
    }

    /// Bytes of code held.
    pub(crate) fn used(&self) -> usize {
        self.chunks.iter().map(|c| c.used).sum()
    }

    /// Copies `code` into executable memory and returns its address; `None` when the system
    /// refuses memory or protection changes.
    pub(crate) fn install(&mut self, code: &[u8]) -> Option<*const u8> {
        if code.is_empty() || code.len() > CHUNK {
            return None;
        }
        // Each function starts on a page of its own (see the module documentation).
        let page = self.page;
        let need_new = match self.chunks.last() {
            Some(c) => c.used.next_multiple_of(page) + code.len() > CHUNK,
            None => true,
        };
        if need_new {
            // SAFETY: an anonymous private mapping with no address hint.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    CHUNK,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return None;
            }
            self.chunks.push(Chunk {
                base: NonNull::new(p.cast())?,
                used: 0,
            });
        }
        let chunk = self.chunks.last_mut()?;
        let start = chunk.used.next_multiple_of(page);
        let end = start + code.len();
        let last_page = end.next_multiple_of(page).min(CHUNK);
        // SAFETY: the range lies inside this chunk's mapping, on pages no code was installed
        // on before: still read-write from `mmap`, never executable, so no thread runs there.
        unsafe {
            let region = chunk.base.as_ptr().add(start);
            std::ptr::copy_nonoverlapping(code.as_ptr(), region, code.len());
            // mprotect also orders the write before any execution by another thread: the
            // address is only published (an atomic store) after it returns.
            if libc::mprotect(
                region.cast(),
                last_page - start,
                libc::PROT_READ | libc::PROT_EXEC,
            ) != 0
            {
                return None;
            }
        }
        chunk.used = last_page;
        // SAFETY: start is inside the mapping.
        Some(unsafe { chunk.base.as_ptr().add(start) })
    }

    /// Unmaps all code. Every address handed out before becomes invalid.
    pub(crate) fn clear(&mut self) {
        for c in self.chunks.drain(..) {
            // SAFETY: each chunk is a mapping of CHUNK bytes made by `install`.
            unsafe {
                libc::munmap(c.base.as_ptr().cast(), CHUNK);
            }
        }
    }
}

impl Drop for CodeMem {
    fn drop(&mut self) {
        self.clear();
    }
}
