//! UART on a TCP server bound to the loopback interface.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};

use ft900_sim::profile::ft900::serial::SerialBackend;

/// A TCP server: one client at a time is the other end of the line. Bytes the UART sends go to
/// the client (and are lost while none is connected, like on an unplugged cable); bytes from the
/// client are what the UART receives. Further clients wait in the listen queue until the
/// current one disconnects.
pub struct TcpSerial {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    input: Receiver<Vec<u8>>,
    pending: VecDeque<u8>,
}

/// What the backend and its accept thread share.
struct Shared {
    /// Write side of the current client.
    client: Mutex<Option<TcpStream>>,
    /// The backend is gone: the accept thread closes the listener and ends.
    closed: AtomicBool,
}

impl Shared {
    fn client(&self) -> std::sync::MutexGuard<'_, Option<TcpStream>> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TcpSerial {
    /// Listens on `addr` (the CLI always uses 127.0.0.1; port 0 picks a free port, see
    /// [`local_addr`](TcpSerial::local_addr)) and accepts clients in a background thread.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpSerial> {
        let listener = TcpListener::bind(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("{addr}: cannot listen: {e}")))?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            client: Mutex::new(None),
            closed: AtomicBool::new(false),
        });
        let (tx, input) = mpsc::channel();
        let for_thread = Arc::clone(&shared);
        std::thread::Builder::new()
            .name(format!("uart-tcp-{}", local_addr.port()))
            .spawn(move || serve(listener, &for_thread, tx))
            .map_err(|e| io::Error::new(e.kind(), format!("{local_addr}: no thread: {e}")))?;
        Ok(TcpSerial {
            local_addr,
            shared,
            input,
            pending: VecDeque::new(),
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether a client is connected now.
    pub fn connected(&self) -> bool {
        self.shared.client().is_some()
    }
}

/// Accepts one client at a time and forwards what it sends, until the backend is dropped.
fn serve(listener: TcpListener, shared: &Shared, tx: Sender<Vec<u8>>) {
    loop {
        let accepted = listener.accept();
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
        let Ok((mut stream, _)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        match stream.try_clone() {
            Ok(writer) => *shared.client() = Some(writer),
            Err(_) => continue,
        }
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        *shared.client() = None;
        let _ = stream.shutdown(Shutdown::Both);
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
    }
}

impl SerialBackend for TcpSerial {
    fn transmit(&mut self, _now: u64, byte: u8) {
        let mut client = self.shared.client();
        if let Some(stream) = client.as_mut() {
            if stream.write_all(&[byte]).is_err() {
                let _ = stream.shutdown(Shutdown::Both);
                *client = None;
            }
        }
    }

    fn receive(&mut self, _now: u64) -> Option<u8> {
        if let Some(b) = self.pending.pop_front() {
            return Some(b);
        }
        match self.input.try_recv() {
            Ok(chunk) => {
                self.pending.extend(chunk);
                self.pending.pop_front()
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    fn describe(&self) -> Option<String> {
        Some(format!("listening on {}", self.local_addr))
    }
}

impl Drop for TcpSerial {
    fn drop(&mut self) {
        // Hang up on the client and wake the accept thread with a connection of our own, so
        // that it sees `closed`, closes the listener and ends.
        self.shared.closed.store(true, Ordering::SeqCst);
        if let Some(stream) = self.shared.client().take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let _ = TcpStream::connect_timeout(&self.local_addr, std::time::Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn tcp_backend_exchanges_bytes_with_a_loopback_client() {
        let mut b = TcpSerial::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = b.local_addr();
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
        assert_eq!(b.describe(), Some(format!("listening on {addr}")));

        // Nothing connected: output is dropped, nothing comes in.
        b.transmit(0, b'!');
        assert_eq!(b.receive(0), None);

        let mut client = TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        wait_for("the server to accept", || b.connected());

        for &c in b"hello\x00\xff\n" {
            b.transmit(0, c);
        }
        let mut got = [0u8; 8];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello\x00\xff\n");

        client.write_all(b"in\r\n\x03").unwrap();
        let mut received = Vec::new();
        wait_for("bytes from the client", || {
            while let Some(c) = b.receive(0) {
                received.push(c);
            }
            received.len() >= 5
        });
        assert_eq!(received, b"in\r\n\x03");

        // The client leaves; a second one gets the line.
        drop(client);
        wait_for("the first client to be gone", || !b.connected());
        let mut second = TcpStream::connect(addr).unwrap();
        second
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        wait_for("the second client", || b.connected());
        b.transmit(0, b'2');
        let mut one = [0u8; 1];
        second.read_exact(&mut one).unwrap();
        assert_eq!(&one, b"2");
    }

    #[test]
    fn dropping_the_backend_closes_the_listener() {
        let b = TcpSerial::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = b.local_addr();
        drop(b);
        let mut again = None;
        wait_for("the port to be free again", || {
            again = TcpSerial::bind(addr).ok();
            again.is_some()
        });
    }

    #[test]
    fn tcp_bind_error_names_the_address() {
        let first = TcpSerial::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let err = match TcpSerial::bind(first.local_addr()) {
            Ok(_) => panic!("binding a port in use must fail"),
            Err(e) => e,
        };
        assert!(
            err.to_string().contains(&first.local_addr().to_string()),
            "{err}"
        );
    }
}
