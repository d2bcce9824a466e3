//! Each device's configuration block — what the world decides for it (endpoint, CA,
//! credentials, table, MAC, entropy seed), then the scenario's `[config]`, then the device's
//! own keys — and the MAC address it ends up with.

use anyhow::{Context, Result};

use ft900_sim::provision::ConfigBlock;
use net_bridge::impair::SplitMix64;

use crate::endpoint::{Credentials, Endpoint, EndpointConfig};
use crate::runner::spec::{self, Scenario};

/// Device `index`'s configuration block: what the world decides (endpoint, CA, credentials,
/// table, MAC, entropy seed), then the scenario's `[config]`, then the device's own keys.
pub(super) fn config_for(
    s: &Scenario,
    endpoint: &Endpoint,
    creds: &Credentials,
    index: usize,
    seed: u64,
) -> Result<ConfigBlock> {
    let d = &s.devices[index];
    let mut block = ConfigBlock::new();
    for (k, v) in world_defaults(s, creds, index, seed)? {
        block.insert(k, &v)?;
    }
    if s.endpoint.devices_trust_ca {
        block.add_certificate_der(endpoint.ca_cert_der());
    } else {
        // A CA the endpoint's certificate does not chain to: another endpoint's, generated
        // from another seed, as a device provisioned for the wrong service would have.
        let decoy = Endpoint::new(EndpointConfig {
            seed: seed ^ 0xDEC0_7000,
            ..EndpointConfig::default()
        })
        .context("the decoy CA")?;
        block.add_certificate_der(decoy.ca_cert_der());
    }
    for (k, v) in s.config.iter().chain(d.config.iter()) {
        block
            .insert(k, v)
            .with_context(|| format!("device {:?}: config {k}", d.id))?;
    }
    Ok(block)
}

/// The keys the world gives device `index` before the scenario's own: its id, MAC and
/// entropy seed, the region, the endpoint, the credentials and the first table.
fn world_defaults(
    s: &Scenario,
    creds: &Credentials,
    index: usize,
    seed: u64,
) -> Result<Vec<(&'static str, String)>> {
    let d = &s.devices[index];
    let table = s.endpoint.tables.first();
    let mut rng = SplitMix64::new(seed ^ ((index as u64 + 1) << 32));
    let entropy: String = (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect();
    let mut defaults: Vec<(&str, String)> = vec![
        ("device.id", d.id.clone()),
        ("device.mac", default_mac(index)),
        ("entropy.seed", entropy),
        ("aws.region", s.endpoint.region.clone()),
        ("endpoint.host", s.endpoint.host_names[0].clone()),
        ("endpoint.port", "443".into()),
        ("aws.access_key_id", creds.access_key_id.clone()),
        ("aws.secret_access_key", creds.secret_access_key.clone()),
    ];
    if let Some(token) = &creds.session_token {
        defaults.push(("aws.session_token", token.clone()));
    }
    if let Some(t) = table {
        defaults.push(("dynamodb.table", t.name.clone()));
        defaults.push((
            "dynamodb.partition_key",
            spec::parse_key(&t.partition_key)?.0,
        ));
        if let Some(k) = &t.sort_key {
            defaults.push(("dynamodb.sort_key", spec::parse_key(k)?.0));
        }
    }
    Ok(defaults)
}

/// The MAC address the world gives device `index` (locally administered, `02:f9:00:00:..`).
fn default_mac(index: usize) -> String {
    format!(
        "02:f9:00:00:{:02x}:{:02x}",
        (index + 1) >> 8,
        (index + 1) & 0xFF
    )
}

/// Device `index`'s MAC address as configured: its own `device.mac`, else the scenario's
/// `[config]`, else the world's default. (The report uses it to count a device's frames.)
pub fn device_mac(s: &Scenario, index: usize) -> String {
    let own = s
        .devices
        .get(index)
        .and_then(|d| d.config.get("device.mac"));
    own.or_else(|| s.config.get("device.mac"))
        .cloned()
        .unwrap_or_else(|| default_mac(index))
}
