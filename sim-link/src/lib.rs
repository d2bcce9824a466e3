//! Virtual time and the frame port between a simulated device and its network, with no network
//! stack: what the FT900 simulator (`ft900-sim`) and its network backends (`net-bridge`: the
//! user-mode gateway, TAP, switch, capture, impairments) have in common.
//!
//! - [`Nanos`]: virtual time in nanoseconds; [`wire_time_100m`]: a frame's time on a 100 Mbit/s
//!   wire.
//! - [`Link`]: the one interface between a device's Ethernet MAC and the outside (frames without
//!   FCS, virtual timestamps), with [`LoopbackLink`] and the test-driven [`TestLink`].
//! - [`Pacer`] on a [`Clock`] ([`WallClock`] for the host's): keeps virtual time at or behind
//!   the wall clock for runs with a real-time peer.

#![warn(missing_docs)]

pub mod link;
pub mod pace;

pub use link::{test_link, wire_time_100m, Link, LoopbackLink, Nanos, TestLink, TestLinkHandle};
pub use pace::{Clock, Pacer, WallClock};
