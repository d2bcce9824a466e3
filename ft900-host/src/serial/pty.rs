//! UART on a new pseudo-terminal (Unix).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use ft900_sim::profile::ft900::serial::SerialBackend;

/// A pseudo-terminal: the simulator keeps the master, a terminal program (`screen`, `picocom`,
/// `minicom`) or a script opens the slave path given by [`path`](PtySerial::path) and
/// [`describe`](SerialBackend::describe).
///
/// The slave is put in raw mode (no echo, no line editing, no CR/LF translation, 8 bits), so
/// bytes pass unchanged in both directions. The simulator also keeps the slave open itself:
/// the line stays usable while no program has it open, and output written meanwhile waits in
/// the terminal's buffer. The master is non-blocking: when that buffer is full, output is
/// dropped rather than stalling the simulation.
pub struct PtySerial {
    master: OwnedFd,
    /// Held open so that the master never reports a hang-up between two users.
    _slave: OwnedFd,
    path: PathBuf,
    pending: VecDeque<u8>,
    dropped: u64,
}

fn os_error(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

impl PtySerial {
    /// Opens a new pseudo-terminal pair through `/dev/ptmx`.
    pub fn open() -> io::Result<PtySerial> {
        // SAFETY: plain libc calls on file descriptors this function owns; every result is
        // checked before use.
        unsafe {
            let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(os_error(
                    "pty: cannot open a pseudo-terminal (posix_openpt on /dev/ptmx)",
                ));
            }
            let master = OwnedFd::from_raw_fd(fd);
            if libc::grantpt(fd) != 0 {
                return Err(os_error("pty: grantpt failed"));
            }
            if libc::unlockpt(fd) != 0 {
                return Err(os_error("pty: unlockpt failed"));
            }
            let path = slave_path(fd)?;
            let cpath = std::ffi::CString::new(path.as_os_str().as_bytes())
                .map_err(|_| io::Error::other("pty: slave path contains a NUL byte"))?;
            let sfd = libc::open(
                cpath.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            );
            if sfd < 0 {
                return Err(os_error(&format!("pty: cannot open {}", path.display())));
            }
            let slave = OwnedFd::from_raw_fd(sfd);
            let mut tio: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(sfd, &mut tio) != 0 {
                return Err(os_error(&format!("pty: tcgetattr on {}", path.display())));
            }
            libc::cfmakeraw(&mut tio);
            if libc::tcsetattr(sfd, libc::TCSANOW, &tio) != 0 {
                return Err(os_error(&format!(
                    "pty: cannot set raw mode on {}",
                    path.display()
                )));
            }
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
                return Err(os_error("pty: cannot make the master non-blocking"));
            }
            Ok(PtySerial {
                master,
                _slave: slave,
                path,
                pending: VecDeque::new(),
                dropped: 0,
            })
        }
    }

    /// Path of the slave side, e.g. `/dev/pts/5`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes dropped because the terminal's buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn slave_path(fd: libc::c_int) -> io::Result<PathBuf> {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: `buf` is writable for its whole length, which is passed along.
    let rc = unsafe { libc::ptsname_r(fd, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    // SAFETY: ptsname_r wrote a NUL-terminated string into `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes())))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn slave_path(fd: libc::c_int) -> io::Result<PathBuf> {
    // SAFETY: ptsname returns a pointer to a static NUL-terminated string or NULL; it is
    // copied at once (the simulator opens one pty per UART, from one thread).
    let p = unsafe { libc::ptsname(fd) };
    if p.is_null() {
        return Err(os_error("pty: ptsname failed"));
    }
    // SAFETY: non-null result of ptsname.
    let name = unsafe { std::ffi::CStr::from_ptr(p) };
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes())))
}

impl SerialBackend for PtySerial {
    fn transmit(&mut self, _now: u64, byte: u8) {
        loop {
            // SAFETY: writes one byte from a live stack variable to a descriptor we own.
            let n = unsafe { libc::write(self.master.as_raw_fd(), (&byte as *const u8).cast(), 1) };
            if n == 1 {
                return;
            }
            let err = io::Error::last_os_error();
            if n < 0 && err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            self.dropped += 1;
            return;
        }
    }

    fn receive(&mut self, _now: u64) -> Option<u8> {
        if let Some(b) = self.pending.pop_front() {
            return Some(b);
        }
        let mut buf = [0u8; 1024];
        // SAFETY: reads into a live buffer of the given length from a descriptor we own.
        let n = unsafe { libc::read(self.master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return None;
        }
        self.pending.extend(&buf[..n as usize]);
        self.pending.pop_front()
    }

    fn describe(&self) -> Option<String> {
        Some(format!("pty {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    #[test]
    fn pty_backend_passes_raw_bytes_both_ways() {
        assert!(
            Path::new("/dev/ptmx").exists(),
            "this test needs /dev/ptmx (pseudo-terminals); it is absent on this machine"
        );
        let mut b = PtySerial::open().expect("opening a pseudo-terminal through /dev/ptmx");
        let path = b.path().to_path_buf();
        assert!(path.starts_with("/dev"), "{}", path.display());
        assert_eq!(b.describe(), Some(format!("pty {}", path.display())));
        assert_eq!(b.receive(0), None, "nothing typed yet");

        let mut term = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));

        // Host → UART: CR, LF, ^C, 0x00 and 0xFF arrive unchanged (raw mode).
        let sent = b"AT\r\n\x03\x00\xff\x7f";
        term.write_all(sent).unwrap();
        let mut got = Vec::new();
        let start = Instant::now();
        while got.len() < sent.len() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "pty: only {got:?} arrived"
            );
            match b.receive(0) {
                Some(c) => got.push(c),
                None => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        assert_eq!(got, sent);

        // UART → host: LF is not turned into CR LF, nothing is echoed back.
        let out = b"ok\n\x00\xff";
        for &c in out {
            b.transmit(0, c);
        }
        let mut back = vec![0u8; out.len()];
        term.read_exact(&mut back).unwrap();
        assert_eq!(back, out);
        assert_eq!(
            b.receive(0),
            None,
            "raw mode: no echo of what the UART sent"
        );
        assert_eq!(b.dropped(), 0);
    }
}
