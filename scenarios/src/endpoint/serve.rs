//! Standalone mode: the endpoint on a real TCP listener, one std thread per connection,
//! driving the same sans-IO connection code as in-process mode with a wall clock.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use net_bridge::service::{StreamService, StreamState};
use net_bridge::Nanos;

use super::tls::Conn;
use super::Endpoint;

/// How a standalone endpoint serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Serve plain HTTP instead of HTTPS.
    pub plain: bool,
    /// Connections idle this long are closed.
    pub idle_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            plain: false,
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// Accepts connections on `listener` until `stop` is set (checked between connections;
/// the listener is polled every 100 ms). `start` is the instant that is virtual time 0, so
/// the endpoint's clock reads `epoch_unix + elapsed`.
pub fn serve(
    ep: &Endpoint,
    listener: TcpListener,
    start: Instant,
    opts: &ServeOptions,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                if ep.is_down(elapsed(start)) {
                    // Restarting (see `restart`): refuse as a closed port would, with RST.
                    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
                    continue;
                }
                tracing::debug!(%peer, "connection");
                stream.set_nonblocking(false)?;
                let (ep, opts) = (ep.clone(), opts.clone());
                std::thread::spawn(move || {
                    if let Err(e) = run_connection(&ep, stream, start, &opts) {
                        tracing::debug!(%e, "connection ended with an error");
                    }
                });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(100))
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

fn elapsed(start: Instant) -> Nanos {
    start.elapsed().as_nanos() as Nanos
}

fn run_connection(
    ep: &Endpoint,
    mut stream: TcpStream,
    start: Instant,
    opts: &ServeOptions,
) -> std::io::Result<()> {
    let mut conn = Conn::new(ep.clone(), !opts.plain, elapsed(start))
        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
    stream.set_nodelay(true)?;
    let mut inbuf = vec![0u8; 16 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    let mut out = vec![0u8; 16 * 1024];
    let mut eof = false;
    let mut idle_since = Instant::now();
    loop {
        let now = elapsed(start);
        if !carry.is_empty() {
            let n = conn.on_data(now, &carry);
            carry.drain(..n);
        }
        loop {
            let n = conn.poll_output(elapsed(start), &mut out);
            if n == 0 {
                break;
            }
            stream.write_all(&out[..n])?;
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
        let wake = conn
            .next_wakeup()
            .map(|t| Duration::from_nanos(t.saturating_sub(elapsed(start))));
        if eof {
            match wake {
                Some(d) => {
                    std::thread::sleep(d.max(Duration::from_millis(1)));
                    continue;
                }
                None => return Ok(()),
            }
        }
        let timeout = wake
            .unwrap_or(opts.idle_timeout)
            .clamp(Duration::from_millis(1), opts.idle_timeout);
        stream.set_read_timeout(Some(timeout))?;
        match stream.read(&mut inbuf) {
            Ok(0) => {
                eof = true;
                conn.on_eof(elapsed(start));
            }
            Ok(n) => {
                idle_since = Instant::now();
                let used = conn.on_data(elapsed(start), &inbuf[..n]);
                carry.extend_from_slice(&inbuf[used..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if wake.is_none() && idle_since.elapsed() >= opts.idle_timeout {
                    return Ok(());
                }
            }
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
