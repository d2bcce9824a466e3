//! Executable memory for compiled blocks: page-aligned chunks from `mmap`, written while
//! read-write and executed while read-execute (never both at once, so W^X kernels accept it).
//!
//! Code is only appended. Blocks invalidated by a program-memory write leave their code behind
//! (it is small and such writes to code are rare); [`CodeMem::clear`] returns everything when
//! the whole cache is flushed.

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

// The arena owns its mappings; the pointers are not shared with other threads.
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
        // Start each function on a 16-byte boundary, as compilers align functions.
        let need_new = match self.chunks.last() {
            Some(c) => c.used.next_multiple_of(16) + code.len() > CHUNK,
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
        let page = self.page;
        let chunk = self.chunks.last_mut()?;
        let start = chunk.used.next_multiple_of(16);
        let end = start + code.len();
        let first_page = start / page * page;
        let last_page = end.next_multiple_of(page).min(CHUNK);
        // SAFETY: the range lies inside this chunk's mapping; no compiled code runs while the
        // pages are writable (the engine is single-threaded per machine).
        unsafe {
            let region = chunk.base.as_ptr().add(first_page);
            let len = last_page - first_page;
            if libc::mprotect(region.cast(), len, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                return None;
            }
            std::ptr::copy_nonoverlapping(
                code.as_ptr(),
                chunk.base.as_ptr().add(start),
                code.len(),
            );
            if libc::mprotect(region.cast(), len, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                return None;
            }
        }
        chunk.used = end;
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
