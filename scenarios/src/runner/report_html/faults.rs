//! What happened to every device at once, for the timeline: the network's outages (the cable
//! out) and impairments, the endpoint's restarts (scheduled or set off by a fault) and its
//! fault windows. They are drawn across all lanes.

use net_bridge::Nanos;

use crate::endpoint::{Fault, FaultAction, FaultTrigger, Restart};
use crate::runner::spec::ImpairmentSpec;

/// What a band across the lanes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorldKind {
    /// The uplink is down (the cable is out for everyone).
    NetworkDown,
    /// Loss, delay, corruption, ... on every frame.
    Impaired,
    /// The endpoint restarted and refuses connections until `end`.
    Restart,
    /// Every eligible request in the window gets an injected fault.
    FaultWindow,
}

impl WorldKind {
    /// Every kind, in the legend's order.
    pub const ALL: [WorldKind; 4] = [
        WorldKind::NetworkDown,
        WorldKind::Impaired,
        WorldKind::Restart,
        WorldKind::FaultWindow,
    ];

    /// The CSS class that colours it.
    pub fn class(self) -> &'static str {
        match self {
            WorldKind::NetworkDown => "w-down",
            WorldKind::Impaired => "w-impaired",
            WorldKind::Restart => "w-restart",
            WorldKind::FaultWindow => "w-fault",
        }
    }

    /// The legend's word for it.
    pub fn label(self) -> &'static str {
        match self {
            WorldKind::NetworkDown => "network down",
            WorldKind::Impaired => "network impaired",
            WorldKind::Restart => "endpoint restart",
            WorldKind::FaultWindow => "endpoint fault window",
        }
    }
}

/// A band across every lane.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldEvent {
    /// What it is.
    pub kind: WorldKind,
    /// Virtual ns.
    pub start: Nanos,
    /// Virtual ns (≥ `start`; equal for a restart with no downtime).
    pub end: Nanos,
    /// What the hover and the legend say.
    pub text: String,
}

fn secs(ns: Nanos) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

/// The impairments other than outages, in words; `None` if there are none.
pub fn impairment_words(i: &ImpairmentSpec) -> Option<String> {
    let mut parts = Vec::new();
    let pct = |p: f64| format!("{:.1}%", p * 100.0);
    if i.loss > 0.0 {
        parts.push(format!("loss {}", pct(i.loss)));
    }
    if i.duplicate > 0.0 {
        parts.push(format!("duplicate {}", pct(i.duplicate)));
    }
    if i.corrupt > 0.0 {
        parts.push(format!("corrupt {}", pct(i.corrupt)));
    }
    if i.delay_ms > 0.0 {
        parts.push(format!("delay {} ms", i.delay_ms));
    }
    if i.jitter_ms > 0.0 {
        parts.push(format!("jitter {} ms", i.jitter_ms));
    }
    if i.reorder > 0.0 {
        parts.push(format!("reorder {}", pct(i.reorder)));
    }
    if let Some(r) = i.rate_mbit {
        parts.push(format!("rate {r} Mbit/s"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn action_words(a: &FaultAction) -> String {
    match a {
        FaultAction::Delay { nanos } => format!("Delay {}", secs(*nanos)),
        FaultAction::Restart { down_nanos } => format!("Restart (down {})", secs(*down_nanos)),
        other => format!("{other:?}"),
    }
}

/// The bands of a run that lasted `run_end` ns: the network's (`impairments`), the endpoint's
/// restarts as they happened and its fault windows.
pub fn world_events(
    impairments: &ImpairmentSpec,
    restarts: &[Restart],
    faults: &[Fault],
    run_end: Nanos,
) -> Vec<WorldEvent> {
    let mut out = Vec::new();
    if let Some(words) = impairment_words(impairments) {
        out.push(WorldEvent {
            kind: WorldKind::Impaired,
            start: 0,
            end: run_end,
            text: format!("network impaired for the whole run: {words}"),
        });
    }
    for [a, b] in &impairments.down {
        let (start, end) = ((a * 1e9) as Nanos, (b * 1e9) as Nanos);
        out.push(WorldEvent {
            kind: WorldKind::NetworkDown,
            start,
            end: end.max(start),
            text: format!("network down (cable out) {} to {}", secs(start), secs(end)),
        });
    }
    for r in restarts {
        out.push(WorldEvent {
            kind: WorldKind::Restart,
            start: r.at,
            end: r.at.saturating_add(r.down),
            text: if r.down > 0 {
                format!(
                    "endpoint restart at {}, refusing connections for {}",
                    secs(r.at),
                    secs(r.down)
                )
            } else {
                format!("endpoint restart at {}", secs(r.at))
            },
        });
    }
    for f in faults {
        if let FaultTrigger::Window { from, until } = f.trigger {
            let ops = if f.operations.is_empty() {
                "every operation".to_string()
            } else {
                f.operations.join(", ")
            };
            out.push(WorldEvent {
                kind: WorldKind::FaultWindow,
                start: from,
                end: until.max(from),
                text: format!(
                    "endpoint fault {} on {ops}, {} to {}",
                    action_words(&f.action),
                    secs(from),
                    secs(until)
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_restarts_and_windows_become_bands() {
        let imp = ImpairmentSpec {
            loss: 0.05,
            down: vec![[6.0, 66.0]],
            ..ImpairmentSpec::default()
        };
        let restarts = [Restart {
            at: 1_000_000_000,
            down: 500_000_000,
        }];
        let faults = [
            Fault {
                action: FaultAction::ServiceUnavailable,
                trigger: FaultTrigger::Window {
                    from: 2_000_000_000,
                    until: 3_000_000_000,
                },
                operations: vec!["PutItem".into()],
            },
            Fault {
                action: FaultAction::Throttle,
                trigger: FaultTrigger::Requests { skip: 0, count: 1 },
                operations: vec![],
            },
        ];
        let w = world_events(&imp, &restarts, &faults, 70_000_000_000);
        let kinds: Vec<WorldKind> = w.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                WorldKind::Impaired,
                WorldKind::NetworkDown,
                WorldKind::Restart,
                WorldKind::FaultWindow
            ]
        );
        assert_eq!((w[1].start, w[1].end), (6_000_000_000, 66_000_000_000));
        assert_eq!(w[2].end, 1_500_000_000);
        assert!(w[0].text.contains("loss 5.0%"), "{}", w[0].text);
        assert!(
            w[3].text.contains("ServiceUnavailable on PutItem"),
            "{}",
            w[3].text
        );
        assert!(impairment_words(&ImpairmentSpec::default()).is_none());
    }
}
