//! UART on the simulator's standard output and standard input.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver, TryRecvError};

use ft900_sim::profile::ft900::serial::SerialBackend;

/// Output to standard output (written out at each newline and on flush), input from standard
/// input. Standard input is read by a background thread, started the first time the UART
/// polls, so a guest that never receives leaves standard input alone. End of input just ends
/// input.
pub struct StdioSerial {
    line: Vec<u8>,
    input: Option<Receiver<Vec<u8>>>,
    pending: VecDeque<u8>,
    eof: bool,
}

impl StdioSerial {
    /// Standard output and standard input of this process.
    pub fn new() -> StdioSerial {
        StdioSerial {
            line: Vec::new(),
            input: None,
            pending: VecDeque::new(),
            eof: false,
        }
    }

    fn write_out(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        // A closed standard output (e.g. `| head`) must not stop the simulation.
        let _ = out.write_all(&self.line);
        let _ = out.flush();
        self.line.clear();
    }
}

impl Default for StdioSerial {
    fn default() -> Self {
        StdioSerial::new()
    }
}

/// Reads standard input in chunks until end of file or an error.
fn spawn_stdin_reader() -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    // If no thread can be started, the sender is dropped with the closure and input simply
    // ends.
    let _ = std::thread::Builder::new()
        .name("uart-stdin".into())
        .spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 4096];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
        });
    rx
}

impl SerialBackend for StdioSerial {
    fn transmit(&mut self, _now: u64, byte: u8) {
        self.line.push(byte);
        if byte == b'\n' || self.line.len() >= 4096 {
            self.write_out();
        }
    }

    fn receive(&mut self, _now: u64) -> Option<u8> {
        if let Some(b) = self.pending.pop_front() {
            return Some(b);
        }
        if self.eof {
            return None;
        }
        let rx = self.input.get_or_insert_with(spawn_stdin_reader);
        match rx.try_recv() {
            Ok(chunk) => {
                self.pending.extend(chunk);
                self.pending.pop_front()
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.eof = true;
                None
            }
        }
    }

    fn may_receive(&self) -> bool {
        !self.eof || !self.pending.is_empty()
    }

    fn flush(&mut self) {
        self.write_out();
    }
}
