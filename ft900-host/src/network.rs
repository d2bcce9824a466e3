//! The FT900 Ethernet port's cable on the host: a loopback, net-bridge's user-mode gateway or a
//! host TAP device, with seeded impairments and a pcap capture around it. The result is a
//! [`Link`] for the MAC model's `attach_link`, and handles whose counters the CLI prints.

use std::fs::File;
use std::io::BufWriter;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use net_bridge::impair::ImpairHandle;
use net_bridge::tap::TapHandle;
use net_bridge::{
    HostForward, Impaired, Impairments, Link, LoopbackLink, PcapLink, TapLink, UserNet,
    UserNetConfig,
};

use crate::netopts::NetKind;

/// What to plug into the port, as the command line (or a board's jack) says.
#[derive(Clone, Debug)]
pub struct NetworkPlan {
    /// The cable.
    pub kind: NetKind,
    /// Impairments applied in both directions, `None` for a perfect cable.
    pub impairments: Option<Impairments>,
    /// Seed of the impairments' random streams.
    pub seed: u64,
    /// Where every frame, both directions, is captured.
    pub pcap: Option<PathBuf>,
    /// The gateway's DNS table (`--dns NAME=IPV4`); only with [`NetKind::User`].
    pub dns: Vec<(String, Ipv4Addr)>,
    /// Host listeners joined to guest ports (`--forward`); only with [`NetKind::User`].
    pub forward: Vec<HostForward>,
    /// Unix time the gateway's SNTP clock starts at (the RTC's start).
    pub epoch_unix_secs: u64,
}

/// The cable built from a [`NetworkPlan`].
pub struct Network {
    /// The link to attach to the MAC; `None` when no cable is plugged in.
    pub link: Option<Box<dyn Link>>,
    /// Lines for the user about where things are (forwarded ports, the TAP's state).
    pub notes: Vec<String>,
    tap: Option<TapHandle>,
    impair: Option<ImpairHandle>,
}

impl Network {
    /// Opens what `plan` names (a gateway's host listeners, a TAP device) and wraps it:
    /// impairments inside, the capture outside, so the capture shows the frames as the MAC
    /// sent and received them. Options that need a network without one are errors.
    pub fn build(plan: &NetworkPlan) -> Result<Network> {
        if plan.kind != NetKind::User && !(plan.dns.is_empty() && plan.forward.is_empty()) {
            bail!("--dns and --forward configure the gateway: add --net user");
        }
        let mut notes = Vec::new();
        let mut tap = None;
        let link: Option<Box<dyn Link>> = match &plan.kind {
            NetKind::None => None,
            NetKind::Loopback => Some(Box::new(LoopbackLink::new(0))),
            NetKind::User => {
                let net = user_net(plan)?;
                for addr in net.forward_addrs() {
                    notes.push(format!("eth: forwarding host {addr} to the guest"));
                }
                Some(Box::new(net))
            }
            NetKind::Tap(name) => {
                let link = TapLink::open(name)?;
                tap = Some(link.handle());
                notes.push(format!("eth: TAP {name}, paced to the wall clock"));
                if !link.carrier() {
                    notes.push(format!(
                        "eth: TAP {name} is down: no carrier until `ip link set {name} up`"
                    ));
                }
                Some(Box::new(link))
            }
        };
        let mut impair = None;
        let link = match (link, &plan.impairments) {
            (Some(link), Some(imp)) => {
                let imp = Impaired::symmetric(link, plan.seed, imp.clone());
                impair = Some(imp.handle());
                Some(Box::new(imp) as Box<dyn Link>)
            }
            (None, Some(_)) => bail!(
                "the --net-* impairments need a network: add --net user, loopback or tap:NAME"
            ),
            (link, None) => link,
        };
        let link = match (link, &plan.pcap) {
            (Some(link), Some(path)) => {
                let file = File::create(path)
                    .with_context(|| format!("{}: cannot create the pcap file", path.display()))?;
                Some(Box::new(PcapLink::new(link, BufWriter::new(file))) as Box<dyn Link>)
            }
            (None, Some(_)) => {
                bail!("--pcap needs a network: add --net user, loopback or tap:NAME")
            }
            (link, None) => link,
        };
        Ok(Network {
            link,
            notes,
            tap,
            impair,
        })
    }

    /// The TAP's and the impairments' counters, one `stats:` line each (none without them).
    pub fn stats_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(h) = &self.tap {
            let st = h.stats();
            lines.push(format!(
                "stats: tap     tx {}, tx dropped {}, rx {}, rx errors {}",
                st.tx_frames, st.tx_dropped, st.rx_frames, st.rx_errors
            ));
        }
        if let Some(h) = &self.impair {
            let st = h.stats();
            for (dir, d) in [("out", st.outbound), ("in", st.inbound)] {
                lines.push(format!(
                    "stats: impair  {dir}: offered {}, delivered {}, lost {}, down {}, \
                     duplicated {}, corrupted {}, reordered {}",
                    d.offered,
                    d.delivered,
                    d.lost,
                    d.lost_down,
                    d.duplicated,
                    d.corrupted,
                    d.reordered
                ));
            }
        }
        lines
    }
}

/// The user-mode gateway, with SNTP time starting at the plan's epoch.
fn user_net(plan: &NetworkPlan) -> Result<UserNet> {
    let mut cfg = UserNetConfig::default();
    cfg.clock.epoch_unix_secs = plan.epoch_unix_secs;
    for (name, addr) in &plan.dns {
        cfg = cfg.with_dns(name, *addr);
    }
    for fwd in &plan.forward {
        cfg = cfg.with_forward(*fwd);
    }
    UserNet::new(cfg).context("--eth user")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: NetKind) -> NetworkPlan {
        NetworkPlan {
            kind,
            impairments: None,
            seed: 1,
            pcap: None,
            dns: Vec::new(),
            forward: Vec::new(),
            epoch_unix_secs: 0,
        }
    }

    fn error(plan: &NetworkPlan) -> String {
        match Network::build(plan) {
            Ok(_) => panic!("{plan:?} must be refused"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn no_cable_gives_no_link_and_no_stats() {
        let net = Network::build(&plan(NetKind::None)).unwrap();
        assert!(net.link.is_none());
        assert!(net.stats_lines().is_empty());
    }

    #[test]
    fn a_loopback_with_impairments_counts_what_it_offered() {
        let mut p = plan(NetKind::Loopback);
        p.impairments = Some(Impairments {
            loss: 1.0,
            ..Impairments::default()
        });
        let mut net = Network::build(&p).unwrap();
        let link = net.link.as_mut().unwrap();
        link.transmit(0, &[0u8; 60]);
        assert_eq!(link.receive(1_000_000), None, "every frame is lost");
        let stats = net.stats_lines();
        assert_eq!(stats.len(), 2, "{stats:?}");
        assert!(
            stats[0].starts_with("stats: impair  out: offered 1,"),
            "{stats:?}"
        );
    }

    #[test]
    fn options_that_need_a_network_say_what_to_add() {
        let mut p = plan(NetKind::None);
        p.pcap = Some("x.pcap".into());
        assert!(error(&p).contains("--pcap needs a network"));
        let mut p = plan(NetKind::None);
        p.impairments = Some(Impairments {
            loss: 0.5,
            ..Impairments::default()
        });
        assert!(error(&p).contains("impairments need a network"));
        let mut p = plan(NetKind::Loopback);
        p.dns.push(("example.com".into(), Ipv4Addr::LOCALHOST));
        assert!(error(&p).contains("add --net user"));
    }
}
