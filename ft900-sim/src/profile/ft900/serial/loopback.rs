//! A loop-back plug: the UART's TX pin wired to its own RX pin, as FreeRTOS Example 1 of the SDK
//! expects on UART1. Every byte that finishes on the TX line is on the RX line at the same
//! moment; the UART takes it at its next receive poll (one per character time, at the line's
//! own baud rate, since it is the same UART's clock on both ends). Nothing reaches the host.

use std::collections::VecDeque;

use super::SerialBackend;

/// TX wired to RX.
#[derive(Debug, Default)]
pub struct LoopbackPlug {
    /// Bytes on the wire not yet taken by the receiver.
    wire: VecDeque<u8>,
}

impl LoopbackPlug {
    /// A plug with nothing on its wire.
    pub fn new() -> LoopbackPlug {
        LoopbackPlug::default()
    }
}

impl SerialBackend for LoopbackPlug {
    fn transmit(&mut self, _now: u64, byte: u8) {
        self.wire.push_back(byte);
    }

    fn receive(&mut self, _now: u64) -> Option<u8> {
        self.wire.pop_front()
    }

    fn describe(&self) -> Option<String> {
        Some("loop-back plug (TX wired to RX)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sent_comes_back_in_order() {
        let mut p = LoopbackPlug::new();
        assert_eq!(p.receive(0), None);
        p.transmit(10, b'a');
        p.transmit(20, b'b');
        assert!(p.may_receive());
        assert_eq!(p.receive(30), Some(b'a'));
        assert_eq!(p.receive(40), Some(b'b'));
        assert_eq!(p.receive(50), None);
    }
}
