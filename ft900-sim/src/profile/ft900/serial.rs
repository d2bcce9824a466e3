//! Where a UART's bytes go and come from on the host.

use std::sync::{Arc, Mutex};

/// The host side of a UART. Times are virtual nanoseconds.
pub trait SerialBackend: Send {
    /// A byte left the UART's transmitter at `now`.
    fn transmit(&mut self, now: u64, byte: u8);

    /// The next byte the host has for the UART, if one is available at `now`.
    fn receive(&mut self, now: u64) -> Option<u8>;

    /// Pushes buffered output to its destination (end of run).
    fn flush(&mut self) {}
}

/// No cable: output is discarded, nothing is received.
pub struct Disconnected;

impl SerialBackend for Disconnected {
    fn transmit(&mut self, _now: u64, _byte: u8) {}
    fn receive(&mut self, _now: u64) -> Option<u8> {
        None
    }
}

/// Output captured in memory and input scripted by the caller, for tests and embedding.
#[derive(Clone, Default)]
pub struct Capture {
    inner: Arc<Mutex<CaptureState>>,
}

#[derive(Default)]
struct CaptureState {
    output: Vec<u8>,
    input: std::collections::VecDeque<u8>,
}

impl Capture {
    /// An empty capture; clone it to keep a handle while the UART owns the other.
    pub fn new() -> Capture {
        Capture::default()
    }

    /// Everything transmitted so far.
    pub fn output(&self) -> Vec<u8> {
        self.lock().output.clone()
    }

    /// Everything transmitted so far, as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock().output).into_owned()
    }

    /// Queues bytes for the UART to receive, available immediately.
    pub fn feed(&self, bytes: &[u8]) {
        self.lock().input.extend(bytes.iter().copied());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CaptureState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SerialBackend for Capture {
    fn transmit(&mut self, _now: u64, byte: u8) {
        self.lock().output.push(byte);
    }

    fn receive(&mut self, _now: u64) -> Option<u8> {
        self.lock().input.pop_front()
    }
}

/// Where a UART is connected, as given on the command line (`--uart0 SPEC`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialSpec {
    /// Not connected: output discarded, no input.
    None,
    /// The simulator's standard output and standard input.
    Stdio,
    /// Output appended to a file (no input).
    File(std::path::PathBuf),
    /// A TCP server on 127.0.0.1:PORT; one client at a time gets the UART.
    Tcp(u16),
    /// A new pseudo-terminal; its path is printed at start.
    Pty,
}

impl std::str::FromStr for SerialSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<SerialSpec, String> {
        match s {
            "none" => Ok(SerialSpec::None),
            "stdio" => Ok(SerialSpec::Stdio),
            "pty" => Ok(SerialSpec::Pty),
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
                        "unknown UART connection {s:?}: expected none, stdio, file:PATH, tcp:PORT or pty"
                    ))
                }
            }
        }
    }
}

/// Opens the host side described by `spec`.
pub fn open(spec: &SerialSpec) -> std::io::Result<Box<dyn SerialBackend>> {
    match spec {
        SerialSpec::None => Ok(Box::new(Disconnected)),
        other => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("{other:?}: not available yet"),
        )),
    }
}

#[cfg(test)]
mod spec_tests {
    use super::SerialSpec;

    #[test]
    fn specs_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!("stdio".parse(), Ok(SerialSpec::Stdio));
        assert_eq!("none".parse(), Ok(SerialSpec::None));
        assert_eq!("pty".parse(), Ok(SerialSpec::Pty));
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
}
