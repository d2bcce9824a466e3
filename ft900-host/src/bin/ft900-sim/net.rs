//! Cabling the FT900's Ethernet port from the options: `--net` (or the board's jack), the
//! gateway's `--dns` and `--forward`, `--net-*` impairments, `--pcap` and `--trace eth`.

use anyhow::Result;
use ft900_host::netopts::NetKind;
use ft900_host::network::{Network, NetworkPlan};
use ft900_sim::board::{Board, EthernetJack};
use ft900_sim::profile::ft900::Ft900;
use ft900_sim::trace::Trace;

use crate::args::RunArgs;

/// What the port is plugged into: the command line overrides the board's jack.
pub fn kind(args: &RunArgs, board: Option<&Board>) -> NetKind {
    match (&args.eth, board) {
        (Some(kind), _) => kind.clone(),
        (None, Some(b)) => match b.ethernet {
            EthernetJack::None => NetKind::None,
            EthernetJack::Loopback => NetKind::Loopback,
            EthernetJack::User => NetKind::User,
        },
        (None, None) => NetKind::None,
    }
}

/// Builds the cable `kind` names and plugs it into `profile`'s MAC, the trace's Ethernet
/// observer outermost. Says on stderr where forwarded ports and the TAP are. Returns the
/// network for its end-of-run statistics.
pub fn attach(
    profile: &mut Ft900,
    args: &RunArgs,
    kind: NetKind,
    rtc_start: u32,
    trace: Option<&Trace>,
) -> Result<Network> {
    let plan = NetworkPlan {
        kind,
        impairments: args.impair.impairments(),
        seed: args.impair.net_seed,
        pcap: args.pcap.clone(),
        dns: args.dns.clone(),
        forward: args.forward.clone(),
        epoch_unix_secs: rtc_start as u64,
    };
    let mut network = Network::build(&plan)?;
    for note in &network.notes {
        eprintln!("{note}");
    }
    if let Some(link) = network.link.take() {
        let link = match trace {
            Some(t) => t.wrap_link(link),
            None => link,
        };
        profile.eth.attach_link(link);
    }
    Ok(network)
}
