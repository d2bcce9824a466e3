//! Ethernet links for simulated FT900 devices: user-mode gateway, TAP bridge, switch, capture.
//!
//! Empty until the net-bridge issue lands; see `../shared/DESIGN.md` for what goes here.
