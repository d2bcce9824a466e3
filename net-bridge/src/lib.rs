//! Ethernet links for simulated FT900 devices: user-mode gateway, TAP bridge, switch, capture.
//!
//! So far: the [`Link`] trait through which a device's MAC meets the outside, a loopback cable
//! and a link driven by tests. The user-mode gateway, TAP bridge, switch, pcap capture and
//! impairments come with the net-bridge issue (see `../shared/DESIGN.md`).

pub mod link;

pub use link::{test_link, wire_time_100m, Link, LoopbackLink, Nanos, TestLink, TestLinkHandle};
