//! The host side of a simulated FT900: what the chip's UARTs and Ethernet port are plugged into
//! on the machine running the simulator, and the `ft900-sim` command line built on it.
//!
//! The `ft900-sim` library is the CPU and the SoC model only (no network stack, no host file,
//! socket or terminal); this crate plugs host devices into it, as devices of the board:
//! - [`serial`]: UART backends on standard I/O, a file, a TCP port or a pseudo-terminal, and
//!   [`serial::open`] for a [`SerialSpec`](ft900_sim::profile::ft900::serial::SerialSpec).
//! - [`network`]: the Ethernet port's cable (net-bridge's user-mode gateway, a host TAP, a
//!   loopback), with seeded impairments and pcap capture, from [`netopts`]' command-line
//!   options.

#![warn(missing_docs)]

pub mod netopts;
pub mod network;
pub mod serial;
