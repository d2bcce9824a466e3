//! What is at the far end of a UART's cable.
//!
//! A [`SerialBackend`] is the far end of the cable. The UART model calls
//! [`transmit`](SerialBackend::transmit) when a character has finished on the wire and polls
//! [`receive`](SerialBackend::receive) once per character time, so the host can never deliver
//! bytes faster than the programmed baud rate allows.
//!
//! In-process backends live here: [`Disconnected`], [`Capture`] (in memory, for tests and
//! embedding) and [`LoopbackPlug`] (TX wired to RX). Backends that touch the host (standard
//! I/O, a file, a TCP port, a pseudo-terminal) and the function that opens one from a
//! [`SerialSpec`] are in the `ft900-host` crate, outside the SoC model. Backends print nothing:
//! the caller shows [`describe`](SerialBackend::describe) (e.g. `listening on
//! 127.0.0.1:4000`, `pty /dev/pts/5`).

mod loopback;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

pub use self::loopback::LoopbackPlug;

/// The host side of a UART. Times are virtual nanoseconds.
pub trait SerialBackend: Send {
    /// A byte left the UART's transmitter at `now`.
    fn transmit(&mut self, now: u64, byte: u8);

    /// The next byte the host has for the UART, if one is available at `now`.
    fn receive(&mut self, now: u64) -> Option<u8>;

    /// Whether [`receive`](SerialBackend::receive) could ever return a byte (now or later).
    /// The UART stops polling a backend that answers `false`, so that an unconnected or
    /// output-only line costs no events.
    fn may_receive(&self) -> bool {
        true
    }

    /// Pushes buffered output to its destination (end of run).
    fn flush(&mut self) {}

    /// What the user needs to know to reach this end of the line, e.g.
    /// `listening on 127.0.0.1:4000` or `pty /dev/pts/5`; `None` when there is nothing to say.
    fn describe(&self) -> Option<String> {
        None
    }
}

/// No cable: output is discarded, nothing is received.
pub struct Disconnected;

impl SerialBackend for Disconnected {
    fn transmit(&mut self, _now: u64, _byte: u8) {}
    fn receive(&mut self, _now: u64) -> Option<u8> {
        None
    }
    fn may_receive(&self) -> bool {
        false
    }
}

/// Output captured in memory and input scripted by the caller, for tests and embedding.
#[derive(Clone, Default)]
pub struct Capture {
    inner: Arc<Mutex<CaptureState>>,
    /// Made by [`Capture::output_only`]: no input will ever come (fixed at creation, so that
    /// the UART asks without taking the lock).
    output_only: bool,
}

#[derive(Default)]
struct CaptureState {
    output: Vec<u8>,
    /// Virtual time (ns) at which each output byte finished.
    times: Vec<u64>,
    input: VecDeque<u8>,
}

impl Capture {
    /// An empty capture; clone it to keep a handle while the UART owns the other.
    pub fn new() -> Capture {
        Capture::default()
    }

    /// A capture of output that will never be fed input. The UART then has no reason to
    /// poll it once per character time, which would wake an idle CPU about ten times as often
    /// as its millisecond tick does (the fleets of the scenarios, where nobody types).
    pub fn output_only() -> Capture {
        Capture {
            output_only: true,
            ..Capture::default()
        }
    }

    /// Everything transmitted so far.
    pub fn output(&self) -> Vec<u8> {
        self.lock().output.clone()
    }

    /// Virtual time in nanoseconds at which each byte of [`output`](Capture::output) left
    /// the transmitter.
    pub fn output_times(&self) -> Vec<u64> {
        self.lock().times.clone()
    }

    /// Everything transmitted so far, as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock().output).into_owned()
    }

    /// Queues bytes for the UART to receive; the UART takes them one per character time.
    ///
    /// # Panics
    /// On a capture made by [`Capture::output_only`]: the UART has stopped polling it, and
    /// the bytes would never arrive.
    pub fn feed(&self, bytes: &[u8]) {
        assert!(
            !self.output_only,
            "Capture::feed on an output-only capture: its UART does not poll for input"
        );
        self.lock().input.extend(bytes.iter().copied());
    }

    /// Bytes fed but not yet taken by the UART.
    pub fn pending_input(&self) -> usize {
        self.lock().input.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CaptureState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SerialBackend for Capture {
    fn transmit(&mut self, now: u64, byte: u8) {
        let mut s = self.lock();
        s.output.push(byte);
        s.times.push(now);
    }

    fn receive(&mut self, _now: u64) -> Option<u8> {
        self.lock().input.pop_front()
    }

    /// `true` unless made by [`Capture::output_only`]: the owner may [`feed`](Capture::feed)
    /// more input at any time.
    fn may_receive(&self) -> bool {
        !self.output_only
    }
}

/// Where a UART is connected, as given on the command line (`--uart0 SPEC`) or in a board file;
/// `ft900-host` opens the host side it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialSpec {
    /// Not connected: output discarded, no input.
    None,
    /// The simulator's standard output and standard input.
    Stdio,
    /// Output written to a file, created or truncated at start (no input).
    File(std::path::PathBuf),
    /// A TCP server on 127.0.0.1:PORT; one client at a time gets the UART.
    Tcp(u16),
    /// A new pseudo-terminal; [`SerialBackend::describe`] gives its path.
    Pty,
    /// A loop-back plug: TX wired to RX ([`LoopbackPlug`]).
    Loopback,
}

impl std::str::FromStr for SerialSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<SerialSpec, String> {
        match s {
            "none" => Ok(SerialSpec::None),
            "stdio" => Ok(SerialSpec::Stdio),
            "pty" => Ok(SerialSpec::Pty),
            "loopback" => Ok(SerialSpec::Loopback),
            _ => {
                if let Some(path) = s.strip_prefix("file:") {
                    if path.is_empty() {
                        return Err("file: needs a path, e.g. file:uart0.log".into());
                    }
                    Ok(SerialSpec::File(path.into()))
                } else if let Some(port) = s.strip_prefix("tcp:") {
                    port.parse::<u16>().map(SerialSpec::Tcp).map_err(|_| {
                        format!("tcp:{port}: expected a port number 0-65535, e.g. tcp:4000")
                    })
                } else {
                    Err(format!(
                        "unknown UART connection {s:?}: expected none, stdio, file:PATH, tcp:PORT, pty or loopback"
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod spec_tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!("stdio".parse(), Ok(SerialSpec::Stdio));
        assert_eq!("none".parse(), Ok(SerialSpec::None));
        assert_eq!("pty".parse(), Ok(SerialSpec::Pty));
        assert_eq!("loopback".parse(), Ok(SerialSpec::Loopback));
        assert_eq!("tcp:4000".parse(), Ok(SerialSpec::Tcp(4000)));
        assert_eq!(
            "file:out.log".parse(),
            Ok(SerialSpec::File("out.log".into()))
        );
        assert!("tcp:x"
            .parse::<SerialSpec>()
            .unwrap_err()
            .contains("port number"));
        assert!("file:"
            .parse::<SerialSpec>()
            .unwrap_err()
            .contains("needs a path"));
        assert!("com1"
            .parse::<SerialSpec>()
            .unwrap_err()
            .contains("expected none, stdio"));
    }

    #[test]
    fn capture_records_output_with_times_and_hands_out_fed_input_in_order() {
        let cap = Capture::new();
        let mut backend: Box<dyn SerialBackend> = Box::new(cap.clone());
        backend.transmit(10, b'o');
        backend.transmit(20, b'k');
        assert_eq!(cap.output(), b"ok");
        assert_eq!(cap.output_times(), vec![10, 20]);
        assert_eq!(cap.text(), "ok");
        assert!(backend.may_receive());
        assert_eq!(backend.receive(0), None);
        cap.feed(b"ab");
        assert_eq!(cap.pending_input(), 2);
        assert_eq!(backend.receive(0), Some(b'a'));
        assert_eq!(backend.receive(0), Some(b'b'));
        assert_eq!(backend.receive(0), None);
        assert!(backend.may_receive(), "a capture can always be fed more");
    }

    #[test]
    fn an_output_only_capture_records_output_and_says_no_input_will_come() {
        let cap = Capture::output_only();
        let mut backend: Box<dyn SerialBackend> = Box::new(cap.clone());
        backend.transmit(5, b'!');
        assert_eq!(cap.output(), b"!");
        assert_eq!(cap.output_times(), vec![5]);
        assert!(!backend.may_receive());
        assert_eq!(backend.receive(0), None);
        let fed = std::panic::catch_unwind(|| cap.feed(b"x"));
        assert!(fed.is_err(), "feeding it would be lost: refused");
    }

    #[test]
    fn disconnected_discards_and_never_receives() {
        let mut b: Box<dyn SerialBackend> = Box::new(Disconnected);
        b.transmit(0, b'x');
        assert_eq!(b.receive(0), None);
        assert!(!b.may_receive());
        assert_eq!(b.describe(), None);
    }
}
