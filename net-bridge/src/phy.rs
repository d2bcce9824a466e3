//! A smoltcp [`Device`] over two frame queues, the glue between a [`Link`](crate::Link) and a
//! smoltcp `Interface` on virtual time.
//!
//! The owner moves frames in with [`QueueDevice::push_rx`] before polling the interface and
//! takes the interface's output with [`QueueDevice::take_tx`] afterwards; the device itself
//! never blocks and never looks at a clock.

use std::collections::VecDeque;

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::link::Nanos;

/// Largest Ethernet frame the gateway and the guest helper handle, without FCS (1500-byte MTU
/// plus the 14-byte header).
pub const MAX_FRAME: usize = 1514;

/// Converts virtual nanoseconds to smoltcp's microsecond [`Instant`] (rounded down).
pub fn instant(now: Nanos) -> Instant {
    Instant::from_micros((now / 1000) as i64)
}

/// Converts a smoltcp [`Instant`] to virtual nanoseconds (negative instants become 0).
pub fn nanos(at: Instant) -> Nanos {
    (at.total_micros().max(0) as u64).saturating_mul(1000)
}

/// An Ethernet device backed by an inbound and an outbound queue of whole frames.
#[derive(Debug, Default)]
pub struct QueueDevice {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
    mtu: usize,
}

impl QueueDevice {
    /// An empty device with the Ethernet MTU of [`MAX_FRAME`] bytes.
    pub fn new() -> QueueDevice {
        QueueDevice {
            rx: VecDeque::new(),
            tx: Vec::new(),
            mtu: MAX_FRAME,
        }
    }

    /// Queues a frame for the interface to receive on its next poll.
    pub fn push_rx(&mut self, frame: Vec<u8>) {
        self.rx.push_back(frame);
    }

    /// Frames waiting to be received by the interface.
    pub fn rx_len(&self) -> usize {
        self.rx.len()
    }

    /// Removes and returns the frames the interface transmitted, oldest first.
    pub fn take_tx(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.tx)
    }
}

/// Receive token of a [`QueueDevice`].
pub struct QueueRxToken(Vec<u8>);

/// Transmit token of a [`QueueDevice`].
pub struct QueueTxToken<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for QueueRxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for QueueTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.push(frame);
        r
    }
}

impl Device for QueueDevice {
    type RxToken<'a> = QueueRxToken;
    type TxToken<'a> = QueueTxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(QueueRxToken, QueueTxToken<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((QueueRxToken(frame), QueueTxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<QueueTxToken<'_>> {
        Some(QueueTxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu;
        caps.max_burst_size = None;
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_conversions_round_down_to_microseconds() {
        assert_eq!(instant(1_999), Instant::from_micros(1));
        assert_eq!(nanos(Instant::from_micros(7)), 7_000);
        assert_eq!(nanos(Instant::from_micros(-3)), 0);
    }
}
