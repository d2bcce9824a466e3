//! Injected faults: which requests get throttled, fail with 500/503, are reset mid-response
//! or answered late. Decisions depend only on the request's index, its virtual time and the
//! seed, so a scenario replays identically.

use net_bridge::Nanos;
use serde::Deserialize;

/// What happens to a request a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultAction {
    /// `ProvisionedThroughputExceededException` (400); a BatchWriteItem instead returns part of
    /// its requests in `UnprocessedItems` (200).
    Throttle,
    /// `ThrottlingException` (400, the account-level throttle).
    ThrottlingException,
    /// `InternalServerError` (500).
    InternalError,
    /// `ServiceUnavailable` (503).
    ServiceUnavailable,
    /// The request is processed, then the connection is reset halfway through the response.
    ResetMidResponse,
    /// The request is processed and the response held back for this many virtual nanoseconds.
    Delay {
        /// How long, in ns.
        nanos: Nanos,
    },
    /// A poison item: a request carrying an item with a number attribute equal to `number`
    /// (e.g. the sort key `seq`) is refused with `ValidationException` (400, "Item size has
    /// exceeded the maximum allowed size"), a BatchWriteItem as a whole, as DynamoDB does;
    /// requests without that item go on as if no fault matched. Use with `when = "fraction",
    /// p = 1.0` to refuse it for good.
    RejectItem {
        /// The number attribute value that marks the item.
        number: u64,
    },
    /// The request is processed (and stored), then the endpoint restarts before answering:
    /// this connection and every other open one are reset, and new connections are refused
    /// for `down_nanos` (see `endpoint::restart`).
    Restart {
        /// Downtime after the restart, ns.
        #[serde(default)]
        down_nanos: Nanos,
    },
}

/// Which requests a fault applies to (counted over requests that passed authentication and
/// name one of the fault's operations).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "when")]
pub enum FaultTrigger {
    /// Requests number `skip` to `skip + count - 1` (0-based) of those eligible.
    Requests {
        /// Eligible requests let through first.
        #[serde(default)]
        skip: u64,
        /// How many are hit after that.
        count: u64,
    },
    /// Each eligible request with this probability, decided by the seed.
    Fraction {
        /// Probability in [0, 1].
        p: f64,
    },
    /// Every eligible request arriving in `[from, until)` virtual time.
    Window {
        /// Start, ns.
        from: Nanos,
        /// End, ns.
        until: Nanos,
    },
}

/// One fault: an action, when it applies, and to which operations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Fault {
    /// What happens.
    #[serde(flatten)]
    pub action: FaultAction,
    /// When.
    #[serde(flatten)]
    pub trigger: FaultTrigger,
    /// Operation names (`PutItem`, ...); empty means every operation.
    #[serde(default)]
    pub operations: Vec<String>,
}

/// The faults of a scenario; the first matching fault wins. Default: none.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FaultPlan {
    /// Faults in priority order.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> FaultPlan {
        FaultPlan::default()
    }

    /// Throttles the first `n` requests of any operation.
    pub fn throttle_first(n: u64) -> FaultPlan {
        FaultPlan {
            faults: vec![Fault {
                action: FaultAction::Throttle,
                trigger: FaultTrigger::Requests { skip: 0, count: n },
                operations: vec![],
            }],
        }
    }
}

/// Whether a PutItem or BatchWriteItem body carries an item with a number attribute equal to
/// `number` (`{"N": "<number>"}` among the item's top-level attributes).
pub fn carries_item_number(body: &[u8], number: u64) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let want = number.to_string();
    let has = |item: &serde_json::Value| {
        item.as_object().is_some_and(|attrs| {
            attrs
                .values()
                .any(|a| a.get("N").and_then(|n| n.as_str()) == Some(want.as_str()))
        })
    };
    if let Some(item) = v.get("Item") {
        return has(item);
    }
    v.get("RequestItems")
        .and_then(|r| r.as_object())
        .is_some_and(|tables| {
            tables.values().filter_map(|w| w.as_array()).any(|writes| {
                writes
                    .iter()
                    .filter_map(|w| w.get("PutRequest").and_then(|p| p.get("Item")))
                    .any(has)
            })
        })
}

/// SplitMix64: a well-mixed hash of the seed and a counter.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Tracks per-fault counters and decides each request's fate.
#[derive(Debug, Clone, Default)]
pub struct FaultState {
    plan: FaultPlan,
    eligible_seen: Vec<u64>,
    seed: u64,
}

impl FaultState {
    /// State for a plan and seed.
    pub fn new(plan: FaultPlan, seed: u64) -> FaultState {
        FaultState {
            eligible_seen: vec![0; plan.faults.len()],
            plan,
            seed,
        }
    }

    /// The action for the next request (operation `op`, arriving at `now`), if any.
    pub fn decide(&mut self, op: &str, now: Nanos) -> Option<FaultAction> {
        let mut hit = None;
        for (i, f) in self.plan.faults.iter().enumerate() {
            if !f.operations.is_empty() && !f.operations.iter().any(|o| o == op) {
                continue;
            }
            let n = self.eligible_seen[i];
            self.eligible_seen[i] += 1;
            let applies = match f.trigger {
                FaultTrigger::Requests { skip, count } => {
                    n >= skip && n < skip.saturating_add(count)
                }
                FaultTrigger::Fraction { p } => {
                    let r = mix(self.seed ^ mix(i as u64) ^ mix(n.wrapping_mul(0x1000_0001)));
                    (r >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
                }
                FaultTrigger::Window { from, until } => now >= from && now < until,
            };
            if applies && hit.is_none() {
                hit = Some(f.action);
            }
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_fractions_are_deterministic() {
        let mut s = FaultState::new(FaultPlan::throttle_first(2), 1);
        let got: Vec<_> = (0..4).map(|_| s.decide("PutItem", 0)).collect();
        assert_eq!(
            got,
            [
                Some(FaultAction::Throttle),
                Some(FaultAction::Throttle),
                None,
                None
            ]
        );

        let plan = FaultPlan {
            faults: vec![Fault {
                action: FaultAction::InternalError,
                trigger: FaultTrigger::Fraction { p: 0.3 },
                operations: vec!["PutItem".into()],
            }],
        };
        let run = |seed| {
            let mut s = FaultState::new(plan.clone(), seed);
            (0..1000)
                .filter(|_| s.decide("PutItem", 0).is_some())
                .count()
        };
        let hits = run(7);
        assert_eq!(hits, run(7));
        assert!((250..350).contains(&hits), "{hits}");
        let mut s = FaultState::new(plan.clone(), 7);
        assert!((0..100).all(|_| s.decide("GetItem", 0).is_none()));
    }

    #[test]
    fn a_poison_item_is_found_in_puts_and_batches() {
        let put = br#"{"TableName":"T","Item":{"deviceId":{"S":"d"},"seq":{"N":"3"}}}"#;
        assert!(carries_item_number(put, 3));
        assert!(!carries_item_number(put, 4));
        let batch = br#"{"RequestItems":{"T":[{"PutRequest":{"Item":{"seq":{"N":"2"}}}},
            {"PutRequest":{"Item":{"seq":{"N":"3"}}}}]}}"#;
        assert!(carries_item_number(batch, 3));
        assert!(!carries_item_number(batch, 5));
        assert!(!carries_item_number(b"not json", 3));
        let plan: FaultPlan = serde_json::from_str(
            r#"{"faults":[{"kind":"reject_item","number":3,"when":"fraction","p":1.0}]}"#,
        )
        .unwrap();
        let mut s = FaultState::new(plan, 0);
        assert_eq!(
            s.decide("PutItem", 0),
            Some(FaultAction::RejectItem { number: 3 })
        );
    }

    #[test]
    fn windows_and_toml_shape() {
        let plan: FaultPlan = serde_json::from_str(
            r#"{"faults":[{"kind":"service_unavailable","when":"window","from":10,"until":20},
                           {"kind":"delay","nanos":5,"when":"requests","count":1}]}"#,
        )
        .unwrap();
        let mut s = FaultState::new(plan, 0);
        assert_eq!(s.decide("X", 0), Some(FaultAction::Delay { nanos: 5 }));
        assert_eq!(s.decide("X", 15), Some(FaultAction::ServiceUnavailable));
        assert_eq!(s.decide("X", 20), None);
    }
}
