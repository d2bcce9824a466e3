//! Ethernet links for simulated FT900 devices: user-mode gateway, TAP bridge, switch, capture,
//! impairments.
//!
//! - [`Link`]: the one interface between a device's MAC and the outside (frames without FCS,
//!   virtual time in nanoseconds), with [`LoopbackLink`] and the test-driven [`TestLink`];
//!   these, [`Nanos`] and the [`Pacer`] come from the `sim-link` crate and are re-exported.
//! - [`UserNet`]: a QEMU-slirp-class gateway on smoltcp — DHCP, DNS, SNTP, NAT of TCP/UDP to
//!   in-process [`service`]s or host sockets, host forwards — running on virtual time.
//! - [`GuestStack`]: a smoltcp interface on a link, standing in for a device in tests and
//!   benchmarks (and for extra simulated hosts).
//! - [`Switch`]: several devices and an uplink on one segment, deterministic under lockstep.
//! - [`PcapLink`] and [`Impaired`]: middlewares that wrap any link, as smoltcp's `PcapWriter`
//!   and `FaultInjector` wrap a device.
//! - [`TapLink`] (Linux): a host TAP device, opened (never created) non-blocking and polled. The
//!   host is a real-time peer: pace virtual time with [`Pacer`] (the CLI's `--realtime`, implied
//!   by `--net tap:NAME`).
//!
//! What the gateway supports (DHCP, DNS, SNTP, NAT TCP/UDP, ICMP echo to the gateway, hostfwd,
//! restricted mode, pcap) and what not (IPv6, ICMP to external hosts, IP fragments) is listed
//! in `net-bridge/README.md`, with throughput figures from `benches/throughput.rs`: 10 MiB to
//! an in-process sink at about 160 MiB/s of host time, the gateway spending about 5 ms of CPU
//! per MiB (8 ms per MiB to a host loopback socket).

#![warn(missing_docs)]

pub mod guest;
pub mod impair;
pub mod pcap;
pub mod phy;
mod rescue;
pub mod service;
pub mod switch;
#[cfg(target_os = "linux")]
pub mod tap;
pub mod usernet;
pub mod wire;

pub use guest::{run_lockstep, GuestLease, GuestStack};
pub use impair::{Impaired, Impairments};
pub use pcap::PcapLink;
/// Virtual time, the frame port and pacing live in `sim-link` (shared with the simulator, which
/// has no network stack); re-exported here under their old paths.
pub use sim_link::{link, pace};
pub use sim_link::{
    test_link, wire_time_100m, Clock, Link, LoopbackLink, Nanos, Pacer, TestLink, TestLinkHandle,
    WallClock,
};
pub use switch::{Switch, SwitchPort};
#[cfg(target_os = "linux")]
pub use tap::{TapError, TapLink};
pub use usernet::{HostForward, UserNet, UserNetConfig, UserNetMonitor, UserNetStats};
