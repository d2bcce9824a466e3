//! In-process network services the gateway joins guest flows to, as sans-IO state machines:
//! bytes in, bytes out, wakeups, all on virtual time.
//!
//! A stream service sees one TCP connection. It is fed what the guest sent
//! ([`StreamService::on_data`], which may take only part of it: the rest stays in the TCP
//! receive window, which is how back-pressure reaches the guest) and is asked for what to send
//! ([`StreamService::poll_output`], which writes straight into the socket's free transmit
//! space). That is the shape of rustls's sans-IO API: `on_data` maps to `read_tls` +
//! `process_new_packets`, `poll_output` to `write_tls`, and a service that has timers reports
//! them through [`StreamService::next_wakeup`], so a TLS endpoint runs on virtual time unchanged.

use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::link::Nanos;

/// The two ends of a flow as the guest sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowInfo {
    /// The guest's address and port.
    pub guest: SocketAddrV4,
    /// The address and port the guest connected to (or sent to).
    pub server: SocketAddrV4,
}

/// What a stream service wants done with its connection after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamState {
    /// Keep the connection open.
    #[default]
    Open,
    /// Send a FIN once everything [`StreamService::poll_output`] produced has been queued.
    Close,
    /// Reset the connection now (RST), discarding unsent output.
    Abort,
}

/// Why a stream ended, told to [`StreamService::on_closed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Both sides closed in order.
    Closed,
    /// The guest reset the connection, or the service aborted it.
    Reset,
    /// The flow was idle longer than the gateway's timeout and was reclaimed.
    TimedOut,
}

/// One TCP connection's server side, in-process.
pub trait StreamService: Send {
    /// The guest sent `data`. Returns how many bytes were consumed; the rest is offered again
    /// on a later call (and keeps the guest's window closed meanwhile).
    fn on_data(&mut self, now: Nanos, data: &[u8]) -> usize;

    /// The guest closed its sending side (FIN); no more data will come.
    fn on_eof(&mut self, _now: Nanos) {}

    /// Writes bytes for the guest into `buf` (the free space of the transmit buffer) and
    /// returns how many. Called until it returns 0 or the buffer is full.
    fn poll_output(&mut self, now: Nanos, buf: &mut [u8]) -> usize;

    /// The next virtual time the service wants to be polled even if no data arrives.
    fn next_wakeup(&self) -> Option<Nanos> {
        None
    }

    /// Whether to keep, close or reset the connection. Checked after every call.
    fn state(&self) -> StreamState {
        StreamState::Open
    }

    /// The connection is gone; the service is dropped after this call.
    fn on_closed(&mut self, _now: Nanos, _reason: CloseReason) {}
}

/// Makes a [`StreamService`] for each guest connection to an address the gateway serves.
pub trait StreamServiceFactory: Send + Sync {
    /// A new connection is arriving (its SYN is being processed). `None` refuses it (RST).
    fn accept(&self, now: Nanos, flow: &FlowInfo) -> Option<Box<dyn StreamService>>;
}

impl<F> StreamServiceFactory for F
where
    F: Fn(Nanos, &FlowInfo) -> Option<Box<dyn StreamService>> + Send + Sync,
{
    fn accept(&self, now: Nanos, flow: &FlowInfo) -> Option<Box<dyn StreamService>> {
        self(now, flow)
    }
}

/// One UDP flow's server side, in-process (a flow is one guest address:port talking to one
/// served address:port).
pub trait DatagramService: Send {
    /// The guest sent a datagram.
    fn on_datagram(&mut self, now: Nanos, data: &[u8]);

    /// The next datagram for the guest, if any.
    fn poll_datagram(&mut self, now: Nanos) -> Option<Vec<u8>>;

    /// The next virtual time the service wants to be polled even if nothing arrives.
    fn next_wakeup(&self) -> Option<Nanos> {
        None
    }
}

/// Makes a [`DatagramService`] for each new UDP flow to an address the gateway serves.
pub trait DatagramServiceFactory: Send + Sync {
    /// The first datagram of a flow is arriving. `None` refuses the flow (ICMP unreachable).
    fn open(&self, now: Nanos, flow: &FlowInfo) -> Option<Box<dyn DatagramService>>;
}

impl<F> DatagramServiceFactory for F
where
    F: Fn(Nanos, &FlowInfo) -> Option<Box<dyn DatagramService>> + Send + Sync,
{
    fn open(&self, now: Nanos, flow: &FlowInfo) -> Option<Box<dyn DatagramService>> {
        self(now, flow)
    }
}

/// A stream service that sends back everything it receives and closes when the guest does.
#[derive(Debug, Default)]
pub struct Echo {
    pending: Vec<u8>,
    eof: bool,
}

impl Echo {
    /// Most bytes held before the echo stops consuming (back-pressure).
    pub const WINDOW: usize = 64 * 1024;

    /// A factory that gives every connection its own echo.
    pub fn factory() -> Arc<dyn StreamServiceFactory> {
        Arc::new(|_: Nanos, _: &FlowInfo| Some(Box::new(Echo::default()) as Box<dyn StreamService>))
    }
}

impl StreamService for Echo {
    fn on_data(&mut self, _now: Nanos, data: &[u8]) -> usize {
        let n = data.len().min(Echo::WINDOW - self.pending.len());
        self.pending.extend_from_slice(&data[..n]);
        n
    }

    fn on_eof(&mut self, _now: Nanos) {
        self.eof = true;
    }

    fn poll_output(&mut self, _now: Nanos, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        n
    }

    fn state(&self) -> StreamState {
        if self.eof && self.pending.is_empty() {
            StreamState::Close
        } else {
            StreamState::Open
        }
    }
}

/// A UDP service that sends every datagram back.
#[derive(Debug, Default)]
pub struct DatagramEcho {
    pending: std::collections::VecDeque<Vec<u8>>,
}

impl DatagramEcho {
    /// A factory that gives every flow its own echo.
    pub fn factory() -> Arc<dyn DatagramServiceFactory> {
        Arc::new(|_: Nanos, _: &FlowInfo| {
            Some(Box::new(DatagramEcho::default()) as Box<dyn DatagramService>)
        })
    }
}

impl DatagramService for DatagramEcho {
    fn on_datagram(&mut self, _now: Nanos, data: &[u8]) {
        if self.pending.len() < 64 {
            self.pending.push_back(data.to_vec());
        }
    }

    fn poll_datagram(&mut self, _now: Nanos) -> Option<Vec<u8>> {
        self.pending.pop_front()
    }
}

/// A stream service that discards what it receives, counting bytes in a shared counter, and
/// closes when the guest does.
#[derive(Debug)]
pub struct Sink {
    count: Arc<AtomicU64>,
    eof: bool,
}

impl Sink {
    /// A factory whose connections all add to the returned counter.
    pub fn factory() -> (Arc<dyn StreamServiceFactory>, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        let c = count.clone();
        let f = move |_: Nanos, _: &FlowInfo| {
            Some(Box::new(Sink {
                count: c.clone(),
                eof: false,
            }) as Box<dyn StreamService>)
        };
        (Arc::new(f), count)
    }
}

impl StreamService for Sink {
    fn on_data(&mut self, _now: Nanos, data: &[u8]) -> usize {
        self.count.fetch_add(data.len() as u64, Ordering::Relaxed);
        data.len()
    }

    fn on_eof(&mut self, _now: Nanos) {
        self.eof = true;
    }

    fn poll_output(&mut self, _now: Nanos, _buf: &mut [u8]) -> usize {
        0
    }

    fn state(&self) -> StreamState {
        if self.eof {
            StreamState::Close
        } else {
            StreamState::Open
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_applies_back_pressure_and_closes_after_eof() {
        let mut e = Echo::default();
        let big = vec![7u8; Echo::WINDOW + 10];
        assert_eq!(e.on_data(0, &big), Echo::WINDOW);
        assert_eq!(e.on_data(0, b"x"), 0);
        let mut buf = vec![0u8; 100];
        assert_eq!(e.poll_output(0, &mut buf), 100);
        e.on_eof(0);
        assert_eq!(e.state(), StreamState::Open);
        let mut rest = vec![0u8; Echo::WINDOW];
        assert_eq!(e.poll_output(0, &mut rest), Echo::WINDOW - 100);
        assert_eq!(e.state(), StreamState::Close);
    }
}
