//! The world's network: the user-mode gateway (addresses, DNS, SNTP, the endpoint's
//! services), the scenario's impairments on its uplink, the pcap of every frame, and each
//! device's cable — one device straight to the gateway (its Ethernet model asks the gateway
//! for the next frame's time, so nothing is ever late), a fleet through a [`Switch`] whose
//! latency is the lockstep quantum (see [`super::run_loop`]).

use std::fs::File;
use std::io::BufWriter;
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use net_bridge::service::FlowInfo;
use net_bridge::usernet::SimClock;
use net_bridge::{Impaired, Impairments, Link, Nanos, PcapLink, Switch, UserNet, UserNetConfig};

use super::endpoint::{ENDPOINT_ADDR, ENDPOINT_MOVED_ADDR};
use crate::endpoint::Endpoint;
use crate::runner::spec::{self, NetMode, Scenario};

/// Switch latency of a fleet, and so the lockstep quantum: a LAN hop plus some.
pub(super) const FLEET_LATENCY: Nanos = 500_000;
/// Gateway flows provisioned per device (DNS, SNTP, the endpoint, and reconnects).
const FLOWS_PER_DEVICE: usize = 8;

/// The network of a run: a cable per device, the fleet's switch, where the pcap goes.
pub(super) struct Network {
    /// Device `i`'s cable, until it is taken; `None` without a network (`net = "none"`).
    pub links: Vec<Option<Box<dyn Link>>>,
    /// A fleet's switch (its uplink is the gateway).
    pub switch: Option<Switch>,
    /// The pcap file, if a network was attached.
    pub pcap: Option<PathBuf>,
}

impl Network {
    /// Builds the scenario's network; the pcap goes to `out_dir/network.pcap`.
    pub fn build(s: &Scenario, endpoint: &Endpoint, seed: u64, out_dir: &Path) -> Result<Network> {
        let mut net = Network {
            links: Vec::new(),
            switch: None,
            pcap: None,
        };
        if s.network.mode != NetMode::User {
            net.links.resize_with(s.devices.len(), || None);
            return Ok(net);
        }
        let gateway = gateway_for(s, endpoint, seed)?;
        let uplink: Box<dyn Link> = if s.network.impairments.is_active() {
            let imp = impairments_for(&s.network.impairments);
            Box::new(Impaired::symmetric(gateway, seed ^ 0x1A9A_0000, imp))
        } else {
            Box::new(gateway)
        };
        let pcap_path = out_dir.join("network.pcap");
        let pcap_file = BufWriter::new(
            File::create(&pcap_path)
                .with_context(|| format!("{}: cannot create", pcap_path.display()))?,
        );
        net.pcap = Some(pcap_path);
        if s.devices.len() == 1 {
            net.links
                .push(Some(Box::new(PcapLink::new(uplink, pcap_file))));
        } else {
            let sw = Switch::new(FLEET_LATENCY);
            sw.set_uplink(uplink);
            sw.capture(Box::new(pcap_file));
            for _ in &s.devices {
                net.links.push(Some(Box::new(sw.add_port())));
            }
            net.switch = Some(sw);
        }
        Ok(net)
    }

    /// Writes out what the switch's capture still buffers (a single device's pcap is written
    /// by its cable as it goes).
    pub fn flush_capture(&self) {
        if let Some(sw) = &self.switch {
            sw.flush_capture();
        }
    }
}

/// The gateway: QEMU-like addresses, the endpoint's names and the scenario's DNS table, the
/// endpoint on ports 443 (TLS) and 80 (plain HTTP) — or, with `endpoint.external`, port 443
/// joined to that host socket — SNTP from the scenario's epoch.
fn gateway_for(s: &Scenario, endpoint: &Endpoint, seed: u64) -> Result<UserNet> {
    let mut cfg = UserNetConfig {
        clock: SimClock {
            epoch_unix_secs: s.epoch_unix,
            offset_ns: 0,
        },
        seed: seed ^ 0x6A7E_0000,
        ..UserNetConfig::default()
    };
    // QEMU's defaults (16 leases, 256 flows) are for one guest: a fleet needs a lease per
    // device and room for each device's flows (DNS, SNTP, the endpoint, a reconnect or two).
    cfg.dhcp.pool_size = cfg.dhcp.pool_size.max(s.devices.len() as u32);
    cfg.limits.max_flows = cfg.limits.max_flows.max(s.devices.len() * FLOWS_PER_DEVICE);
    cfg = match s.endpoint.external_addr() {
        Some(host) => cfg.allow_host_tcp(SocketAddrV4::new(ENDPOINT_ADDR, 443), host),
        None => cfg
            .with_tcp_service(
                SocketAddrV4::new(ENDPOINT_ADDR, 443),
                endpoint.stream_factory(),
            )
            .with_tcp_service(
                SocketAddrV4::new(ENDPOINT_ADDR, 80),
                endpoint.plain_http_factory(),
            ),
    };
    for name in &s.endpoint.host_names {
        cfg = cfg.with_dns(name, ENDPOINT_ADDR);
    }
    if let (Some(t), None) = (s.endpoint.move_at_seconds, s.endpoint.external_addr()) {
        cfg = with_endpoint_move(cfg, s, endpoint, (t * 1e9) as Nanos);
    }
    for (name, target) in &s.network.dns {
        let addr = match target.as_str() {
            "endpoint" => ENDPOINT_ADDR,
            other => other.parse()?,
        };
        cfg = cfg.with_dns(name, addr);
    }
    UserNet::new(cfg).context("the gateway does not start")
}

/// The endpoint moves at `at`: its old address refuses connections from then on, the new one
/// serves, and the names point to the new one.
fn with_endpoint_move(
    mut cfg: UserNetConfig,
    s: &Scenario,
    endpoint: &Endpoint,
    at: Nanos,
) -> UserNetConfig {
    let old = cfg
        .tcp_services
        .get(&SocketAddrV4::new(ENDPOINT_ADDR, 443))
        .cloned();
    if let Some(old) = old {
        let until_move = move |now: Nanos, flow: &FlowInfo| {
            if now >= at {
                None
            } else {
                old.accept(now, flow)
            }
        };
        cfg = cfg.with_tcp_service(SocketAddrV4::new(ENDPOINT_ADDR, 443), Arc::new(until_move));
    }
    cfg = cfg.with_tcp_service(
        SocketAddrV4::new(ENDPOINT_MOVED_ADDR, 443),
        endpoint.stream_factory(),
    );
    for name in &s.endpoint.host_names {
        cfg = cfg.with_dns_change(at, name, ENDPOINT_MOVED_ADDR);
    }
    cfg
}

/// The scenario's `[network.impairments]` in the gateway's units.
fn impairments_for(spec: &spec::ImpairmentSpec) -> Impairments {
    let ms = |v: f64| (v * 1e6) as Nanos;
    Impairments {
        loss: spec.loss,
        duplicate: spec.duplicate,
        corrupt: spec.corrupt,
        delay: ms(spec.delay_ms),
        jitter: ms(spec.jitter_ms),
        reorder: spec.reorder,
        reorder_delay: ms(spec.delay_ms.max(1.0) * 2.0),
        rate_bps: spec.rate_mbit.map(|m| (m * 1e6) as u64),
        down: spec
            .down
            .iter()
            .map(|[a, b]| ((a * 1e9) as Nanos, (b * 1e9) as Nanos))
            .collect(),
    }
}
