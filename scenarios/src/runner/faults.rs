//! Maps a scenario's `[endpoint.faults]` onto the endpoint's fault plan.
use super::spec::FaultSpec;
use crate::endpoint::EndpointConfig;

/// Sets `cfg.faults` from the scenario.
pub fn apply(_spec: &FaultSpec, _cfg: &mut EndpointConfig) {}
