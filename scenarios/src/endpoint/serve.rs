//! Standalone mode: the endpoint on a real TCP listener, driving the same sans-IO connection
//! code as in-process mode with a wall clock.
//!
//! Each connection has its own thread (so a slow client stalls only itself), and at most
//! [`ServeOptions::max_connections`] are served at once: a connection past that is closed at
//! once (plain HTTP: after a 503 `ServiceUnavailableException`). Every connection is bounded
//! in time: the TLS handshake and each request head must arrive within `head_timeout`, each
//! body within `body_timeout` of its head, a write must make progress within `send_timeout`,
//! and an idle keep-alive connection is closed after `idle_timeout`. A connection that runs
//! out of time is closed (FIN, no response).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use net_bridge::service::{StreamService, StreamState};
use net_bridge::Nanos;

use super::http::Reading;
use super::tls::Conn;
use super::{ApiError, Endpoint};

/// How a standalone endpoint serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Serve plain HTTP instead of HTTPS.
    pub plain: bool,
    /// Connections idle (between requests) this long are closed.
    pub idle_timeout: Duration,
    /// Most connections served at once; more are closed as they are accepted.
    pub max_connections: usize,
    /// The TLS handshake (from accept) and each request head (from its first byte) must
    /// arrive within this.
    pub head_timeout: Duration,
    /// Each request body must arrive within this of its head.
    pub body_timeout: Duration,
    /// A write that makes no progress this long (a client that stopped reading) closes the
    /// connection.
    pub send_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            plain: false,
            idle_timeout: Duration::from_secs(120),
            max_connections: 256,
            head_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(60),
        }
    }
}

/// Waits up to `timeout` for `listener` to have a connection to accept.
fn wait_readable(listener: &TcpListener, timeout: Duration) {
    let mut fds = [libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: `fds` is a valid array of one pollfd for the duration of the call.
    let _ = unsafe { libc::poll(fds.as_mut_ptr(), 1, timeout.as_millis() as libc::c_int) };
}

/// Gives a connection slot back when the connection's thread ends, however it ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Accepts connections on `listener` until `stop` is set (checked at least every 100 ms).
/// `start` is the instant that is virtual time 0, so the endpoint's clock reads
/// `epoch_unix + elapsed`.
pub fn serve(
    ep: &Endpoint,
    listener: TcpListener,
    start: Instant,
    opts: &ServeOptions,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                if ep.is_down(elapsed(start)) {
                    // Restarting (see `restart`): refuse as a closed port would, with RST.
                    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
                    continue;
                }
                if active.load(Ordering::Acquire) >= opts.max_connections {
                    tracing::warn!(%peer, max = opts.max_connections, "connection refused: at the connection limit");
                    refuse(stream, opts.plain);
                    continue;
                }
                tracing::debug!(%peer, "connection");
                active.fetch_add(1, Ordering::AcqRel);
                let slot = Slot(active.clone());
                let (ep, opts) = (ep.clone(), opts.clone());
                let spawned = std::thread::Builder::new()
                    .name("endpoint-conn".into())
                    .spawn(move || {
                        let _slot = slot;
                        if let Err(e) = run_connection(&ep, stream, start, &opts) {
                            tracing::debug!(%e, "connection ended with an error");
                        }
                    });
                if let Err(e) = spawned {
                    // The slot and the stream went with the closure: both are released.
                    tracing::warn!(%e, "no thread for a connection; closed");
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                wait_readable(&listener, Duration::from_millis(100))
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                // Out of descriptors and the like: keep serving the connections we have.
                tracing::warn!(%e, "accept failed");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    Ok(())
}

/// Closes a connection past the limit at once. Plain HTTP gets a 503 first; over TLS nothing
/// can be said before a handshake, so the client sees the connection closed.
fn refuse(stream: TcpStream, plain: bool) {
    if plain {
        let err = ApiError::unavailable();
        let body = serde_json::to_vec(&err.body()).expect("JSON values serialise");
        let head = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            super::CONTENT_TYPE,
            body.len()
        );
        // Non-blocking: a response that does not fit the socket buffer at once is cut off.
        let _ = stream.set_nonblocking(true);
        let _ = (&stream).write_all(&[head.as_bytes(), &body].concat());
    }
    let _ = stream.shutdown(Shutdown::Both);
}

fn elapsed(start: Instant) -> Nanos {
    start.elapsed().as_nanos() as Nanos
}

/// When the connection must next have made progress, and what for (virtual time).
fn deadline(
    reading: Option<Reading>,
    accepted: Nanos,
    idle_since: Nanos,
    opts: &ServeOptions,
) -> (Nanos, &'static str) {
    let ns = |d: Duration| d.as_nanos() as Nanos;
    match reading {
        Some(Reading::Handshake) => (accepted + ns(opts.head_timeout), "TLS handshake"),
        Some(Reading::Head(t)) => (t + ns(opts.head_timeout), "request head"),
        Some(Reading::Body(t)) => (t + ns(opts.body_timeout), "request body"),
        None => (idle_since + ns(opts.idle_timeout), "next request (idle)"),
    }
}

fn run_connection(
    ep: &Endpoint,
    mut stream: TcpStream,
    start: Instant,
    opts: &ServeOptions,
) -> std::io::Result<()> {
    let accepted = elapsed(start);
    let mut conn = Conn::new(ep.clone(), !opts.plain, accepted)
        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
    stream.set_nodelay(true)?;
    stream.set_nonblocking(false)?;
    // A blocked write fails after this long without progress (a client that stopped reading).
    stream.set_write_timeout(Some(opts.send_timeout))?;
    let mut inbuf = vec![0u8; 16 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    let mut out = vec![0u8; 16 * 1024];
    let mut eof = false;
    let mut idle_since = accepted;
    loop {
        let now = elapsed(start);
        // Unconsumed bytes are offered again (the session takes a body only once admitted).
        let n = conn.on_data(now, &carry);
        carry.drain(..n);
        loop {
            let n = conn.poll_output(elapsed(start), &mut out);
            if n == 0 {
                break;
            }
            stream.write_all(&out[..n])?;
            idle_since = elapsed(start);
        }
        match conn.state() {
            StreamState::Open => {}
            StreamState::Close => {
                let _ = stream.shutdown(Shutdown::Write);
                // Drain what the client still sends so the close is orderly (no RST).
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                while matches!(stream.read(&mut inbuf), Ok(n) if n > 0) {}
                return Ok(());
            }
            StreamState::Abort => {
                // Linger 0: close() sends RST, as a crashed or reset server would.
                socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
        }
        let now = elapsed(start);
        let wake = conn
            .next_wakeup()
            .map(|t| Duration::from_nanos(t.saturating_sub(now)));
        if eof {
            match wake {
                Some(d) => {
                    std::thread::sleep(d.max(Duration::from_millis(1)));
                    continue;
                }
                None => return Ok(()),
            }
        }
        // A response being held (a delay fault) is not the client's delay.
        let (due, what) = deadline(conn.reading(), accepted, idle_since, opts);
        if wake.is_none() && now >= due {
            tracing::debug!(what, "connection closed: timed out");
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(());
        }
        let to_deadline = Duration::from_nanos(due.saturating_sub(now));
        let mut timeout = wake.map_or(to_deadline, |w| w.min(to_deadline));
        if !carry.is_empty() {
            // Bytes wait for the session (a body not yet admitted): look again soon.
            timeout = timeout.min(Duration::from_millis(10));
        }
        stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        if carry.len() >= inbuf.len() {
            // Enough is waiting already: read no more until the session takes some.
            std::thread::sleep(timeout.clamp(Duration::from_millis(1), Duration::from_millis(10)));
            continue;
        }
        match stream.read(&mut inbuf) {
            Ok(0) => {
                eof = true;
                conn.on_eof(elapsed(start));
            }
            Ok(n) => {
                let used = conn.on_data(elapsed(start), &inbuf[..n]);
                carry.extend_from_slice(&inbuf[used..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl Endpoint {
    /// Binds `addr` and serves until `stop` is set; returns the bound address through
    /// `on_bound` first (useful with port 0).
    pub fn serve_on(
        &self,
        addr: &str,
        opts: &ServeOptions,
        stop: Arc<AtomicBool>,
        on_bound: impl FnOnce(std::net::SocketAddr),
    ) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr)?;
        on_bound(listener.local_addr()?);
        serve(self, listener, Instant::now(), opts, stop)
    }
}
