//! The world's endpoint: the DynamoDB service as the scenario describes it (tables, faults,
//! restarts, certificate), the credentials its devices sign with, and — for a server outside
//! the simulation — the check that it answers before any device starts.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{Context, Result};

use net_bridge::impair::SplitMix64;
use net_bridge::Nanos;

use crate::endpoint::{
    Credentials, Endpoint, EndpointConfig, FaultPlan, KeyType, Restart, ServerKey, TableSpec,
};
use crate::runner::spec::{self, Scenario};

/// Where the endpoint lives on the simulated internet (TEST-NET-3).
pub const ENDPOINT_ADDR: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
/// The endpoint's address after it moved (`endpoint.move_at_seconds`).
pub const ENDPOINT_MOVED_ADDR: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 11);

/// The endpoint as the scenario describes it.
pub fn endpoint_for(s: &Scenario, seed: u64) -> Result<Endpoint> {
    let mut cfg = EndpointConfig {
        region: s.endpoint.region.clone(),
        host_names: s.endpoint.host_names.clone(),
        epoch_unix: s.epoch_unix,
        clock_offset_secs: s.endpoint.clock_offset_seconds,
        seed,
        server_key: match s.endpoint.server_key {
            spec::ServerKeySpec::EcdsaP256 => ServerKey::EcdsaP256,
            spec::ServerKeySpec::Rsa2048 => ServerKey::Rsa2048,
        },
        cert_validity: s.endpoint.certificate,
        ..EndpointConfig::default()
    };
    cfg.credentials = credentials_for(s, seed);
    cfg.tables = s
        .endpoint
        .tables
        .iter()
        .map(table_for)
        .collect::<Result<_>>()?;
    cfg.faults = FaultPlan {
        faults: s.endpoint.faults.clone(),
    };
    let ns = |secs: f64| (secs * 1e9) as Nanos;
    cfg.restarts = s
        .endpoint
        .restarts
        .iter()
        .map(|r| Restart {
            at: ns(r.at_seconds),
            down: ns(r.down_seconds),
        })
        .collect();
    Endpoint::new(cfg).context("the endpoint does not start")
}

/// One table of the scenario's `[endpoint]`, its keys parsed (`name:S|N|B`).
fn table_for(t: &spec::TableSpecToml) -> Result<TableSpec> {
    let key = |k: &str| -> Result<(String, KeyType)> {
        let (name, t) = spec::parse_key(k)?;
        Ok((
            name,
            match t {
                'N' => KeyType::N,
                'B' => KeyType::B,
                _ => KeyType::S,
            },
        ))
    };
    Ok(TableSpec {
        name: t.name.clone(),
        partition_key: key(&t.partition_key)?,
        sort_key: t.sort_key.as_deref().map(key).transpose()?,
    })
}

/// The scenario's credentials, or one test key derived from the seed.
pub(crate) fn credentials_for(s: &Scenario, seed: u64) -> Vec<Credentials> {
    if !s.endpoint.credentials.is_empty() {
        return s
            .endpoint
            .credentials
            .iter()
            .map(|c| Credentials {
                access_key_id: c.access_key_id.clone(),
                secret_access_key: c.secret_access_key.clone(),
                session_token: c.session_token.clone(),
            })
            .collect();
    }
    let mut rng = SplitMix64::new(seed ^ 0xC4ED_0000);
    let akid = format!("AKIDFT900{:011X}", rng.next_u64() & 0xFFF_FFFF_FFFF);
    let secret: String = (0..40)
        .map(|_| {
            let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            table[(rng.next_u64() % 64) as usize] as char
        })
        .collect();
    vec![Credentials {
        access_key_id: akid,
        secret_access_key: secret,
        session_token: None,
    }]
}

/// With `endpoint.external`: fails fast when nothing answers there, rather than let the
/// devices retry against nothing until the time limit.
pub(super) fn check_external(s: &Scenario) -> Result<()> {
    if let Some(addr) = s.endpoint.external_addr() {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).with_context(|| {
            format!(
                "endpoint.external {addr}: nothing answers; start the server first, with the \
                 identity `scenarios identity FILE.toml --out DIR` writes"
            )
        })?;
    }
    Ok(())
}
