//! Packet formats the gateway speaks that smoltcp does not provide, in smoltcp's two faces: a
//! checked view over bytes and a plain `Repr` with `parse` and `emit`.

pub mod sntp;

/// Why bytes could not be read as a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer bytes than the fixed header needs.
    #[error("truncated packet: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes the header needs.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// A field holds a value the format does not allow.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
}
