//! UART output to a file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use ft900_sim::profile::ft900::serial::SerialBackend;

/// Output to a file, created or truncated when opened; no input. Each line is written out when
/// it ends, so `tail -f` follows the guest.
pub struct FileSerial {
    path: PathBuf,
    out: BufWriter<File>,
    failed: bool,
}

impl FileSerial {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> io::Result<FileSerial> {
        let file = File::create(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{}: cannot create the UART output file: {e}",
                    path.display()
                ),
            )
        })?;
        Ok(FileSerial {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            failed: false,
        })
    }

    fn push(&mut self, flush: bool) {
        if self.failed {
            return;
        }
        let result = if flush { self.out.flush() } else { Ok(()) };
        if let Err(e) = result {
            // A full disk must not stop the simulation; say it once.
            eprintln!("{}: writing UART output failed: {e}", self.path.display());
            self.failed = true;
        }
    }
}

impl SerialBackend for FileSerial {
    fn transmit(&mut self, _now: u64, byte: u8) {
        if self.failed {
            return;
        }
        if let Err(e) = self.out.write_all(&[byte]) {
            eprintln!("{}: writing UART output failed: {e}", self.path.display());
            self.failed = true;
            return;
        }
        self.push(byte == b'\n');
    }

    fn receive(&mut self, _now: u64) -> Option<u8> {
        None
    }

    fn may_receive(&self) -> bool {
        false
    }

    fn flush(&mut self) {
        self.push(true);
    }

    fn describe(&self) -> Option<String> {
        Some(format!("writing to {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serial::open;
    use ft900_sim::profile::ft900::serial::SerialSpec;

    fn scratch_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ft900-sim-serial-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn file_backend_truncates_writes_bytes_and_has_no_input() {
        let dir = scratch_dir("file");
        let path = dir.join("uart0.log");
        std::fs::write(&path, b"old contents that must go").unwrap();
        let mut b = open(&SerialSpec::File(path.clone())).unwrap();
        assert!(!b.may_receive());
        assert_eq!(b.receive(0), None);
        for &c in b"line 1\n" {
            b.transmit(0, c);
        }
        // A complete line is on disk without an explicit flush.
        assert_eq!(std::fs::read(&path).unwrap(), b"line 1\n");
        for &c in b"\x00\xffend" {
            b.transmit(0, c);
        }
        b.flush();
        assert_eq!(std::fs::read(&path).unwrap(), b"line 1\n\x00\xffend");
        drop(b);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_backend_error_names_the_path() {
        let dir = scratch_dir("file-err");
        let path = dir.join("no-such-dir").join("uart0.log");
        let err = match open(&SerialSpec::File(path.clone())) {
            Ok(_) => panic!("creating a file in a missing directory must fail"),
            Err(e) => e,
        };
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
