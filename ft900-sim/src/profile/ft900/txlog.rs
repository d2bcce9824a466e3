//! A bounded record of the bytes a UART has put on the wire, for debuggers (`monitor uart`).
//!
//! Recording a byte is one push onto a ring, so it costs nothing worth measuring even though it
//! is always on: a debugger that attaches late still sees what the firmware printed before.

use std::collections::VecDeque;

/// Bytes kept: the last 64 KiB, far more than a screenful of log lines.
pub const TX_LOG_BYTES: usize = 64 * 1024;

/// The last [`TX_LOG_BYTES`] bytes transmitted, and how many older ones were let go.
#[derive(Clone, Debug, Default)]
pub struct TxLog {
    bytes: VecDeque<u8>,
    omitted: u64,
}

impl TxLog {
    /// An empty log.
    pub fn new() -> TxLog {
        TxLog::default()
    }

    /// Records one byte that reached the line.
    pub fn push(&mut self, byte: u8) {
        if self.bytes.len() == TX_LOG_BYTES {
            self.bytes.pop_front();
            self.omitted += 1;
        }
        self.bytes.push_back(byte);
    }

    /// The bytes kept, oldest first.
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.iter().copied().collect()
    }

    /// Bytes transmitted before the oldest one kept.
    pub fn omitted(&self) -> u64 {
        self.omitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_bytes_and_counts_the_rest() {
        let mut log = TxLog::new();
        for i in 0..TX_LOG_BYTES + 10 {
            log.push(i as u8);
        }
        assert_eq!(log.omitted(), 10);
        let bytes = log.bytes();
        assert_eq!(bytes.len(), TX_LOG_BYTES);
        assert_eq!(bytes[0], 10);
        assert_eq!(*bytes.last().unwrap(), (TX_LOG_BYTES + 9) as u8);
    }
}
