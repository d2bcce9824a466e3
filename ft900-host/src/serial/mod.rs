//! The host side of a UART's cable: standard I/O, a file, a TCP port or a pseudo-terminal.
//!
//! These backends implement the SoC model's [`SerialBackend`] trait from outside it, so the
//! simulator library itself never opens a host file, socket or terminal. [`open`] builds the
//! backend a [`SerialSpec`] (`--uart0 SPEC`, a board file's plug) names, in-process ones
//! ([`Disconnected`], [`LoopbackPlug`]) included.

mod file;
#[cfg(unix)]
mod pty;
mod stdio;
mod tcp;

use ft900_sim::profile::ft900::serial::{Disconnected, LoopbackPlug, SerialBackend, SerialSpec};

pub use self::file::FileSerial;
#[cfg(unix)]
pub use self::pty::PtySerial;
pub use self::stdio::StdioSerial;
pub use self::tcp::TcpSerial;

/// Opens the host side described by `spec`. Errors name what could not be opened.
pub fn open(spec: &SerialSpec) -> std::io::Result<Box<dyn SerialBackend>> {
    Ok(match spec {
        SerialSpec::None => Box::new(Disconnected),
        SerialSpec::Stdio => Box::new(StdioSerial::new()),
        SerialSpec::Loopback => Box::new(LoopbackPlug::new()),
        SerialSpec::File(path) => Box::new(FileSerial::create(path)?),
        SerialSpec::Tcp(port) => Box::new(TcpSerial::bind(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            *port,
        )))?),
        #[cfg(unix)]
        SerialSpec::Pty => Box::new(PtySerial::open()?),
        #[cfg(not(unix))]
        SerialSpec::Pty => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "pty: pseudo-terminals need a Unix host; use tcp:PORT instead",
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_tcp_binds_loopback_and_says_where() {
        // Port 0: the system picks a free port; the description names the real one.
        let b = open(&SerialSpec::Tcp(0)).unwrap();
        let d = b.describe().unwrap();
        assert!(d.starts_with("listening on 127.0.0.1:"), "{d}");
        assert!(!d.ends_with(":0"), "{d}");
    }

    #[test]
    fn open_none_and_loopback_give_the_in_process_backends() {
        let mut none = open(&SerialSpec::None).unwrap();
        none.transmit(0, b'x');
        assert!(!none.may_receive());
        assert_eq!(none.receive(0), None);
        let mut plug = open(&SerialSpec::Loopback).unwrap();
        plug.transmit(0, b'y');
        assert_eq!(plug.receive(1), Some(b'y'));
    }
}
