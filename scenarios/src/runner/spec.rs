//! The scenario file format (TOML), read with serde and checked before anything runs.
//!
//! ```toml
//! name = "dynamodb-upload"
//! seed = 1
//! firmware = "../firmware/build/dynamodb-client.elf"   # relative to this file
//! max_virtual_seconds = 120
//! chip = "ft900-revc"            # silicon revision of every device (default: ft900-revc)
//!
//! [network]                      # mode "user" (the gateway) or "none"
//! impairments = { loss = 0.02 }  # on the cable between the switch and the gateway
//!
//! [endpoint]                     # the in-process DynamoDB endpoint (TLS, strict SigV4)
//! clock_offset_seconds = 0
//! tables = [{ name = "SensorReadings", partition_key = "deviceId:S", sort_key = "seq:N" }]
//!
//! [config]                       # configuration-block keys for every device
//! "device.readings" = "10"
//!
//! [[device]]                     # one table per device of the fleet
//! id = "hopper"
//! chip = "ft900-revb"            # this device's silicon revision (over the scenario's)
//!
//! [[expect.uart]]
//! regex = "^put seq=\\d+ status=200"
//!
//! [[expect.items]]
//! table = "SensorReadings"
//! count = 10
//! sequence = { partition_key = "deviceId", sort_key = "seq", from = 1, to = 10 }
//! match_uart_readings = true     # each item is what its device printed
//!
//! [[expect.backoff]]             # retries wait their announced backoff (request log timing)
//! min_retries = 3
//! growing = true
//!
//! [expect]
//! deterministic = true           # a second run gives the same cycles, pcap and request log
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use ft900_sim::profile::ft900::ChipRevision;

use crate::endpoint::Fault;

/// Most devices in one scenario: the gateway's DHCP pool starts at 10.0.2.15 and ends at
/// 10.0.2.254.
pub const MAX_DEVICES: usize = 240;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name (the output directory and the JUnit test case are named after it).
    pub name: String,
    /// What the scenario shows, one sentence.
    #[serde(default)]
    pub description: String,
    /// Seed of everything random: impairments, entropy seeds, the endpoint's request ids and
    /// faults. `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The firmware every device runs (relative to the scenario file).
    pub firmware: PathBuf,
    /// Execution engine of every device: `"interp"` or `"jit"` (default: the simulator's
    /// default, [`ft900_sim::Engine::from_env`]: `FT900_ENGINE`, else the JIT where the host
    /// has it; a bad `FT900_ENGINE` is an error). Results are identical; only speed differs.
    #[serde(default)]
    pub engine: Option<String>,
    /// Virtual time after which the run stops and unfinished devices count as timed out.
    #[serde(default = "default_max_virtual_seconds")]
    pub max_virtual_seconds: f64,
    /// Unix time at virtual time 0 (the gateway's SNTP answers and the RTC's power-on value).
    #[serde(default = "default_epoch")]
    pub epoch_unix: u64,
    /// Silicon revision of every device (`ft900-revb` or `ft900-revc`); a device's own `chip`
    /// wins. Default: rev C, the revision sold today.
    #[serde(default, deserialize_with = "de_chip")]
    pub chip: Option<ChipRevision>,
    /// The network.
    #[serde(default)]
    pub network: Network,
    /// The in-process DynamoDB endpoint.
    #[serde(default)]
    pub endpoint: EndpointSpec,
    /// Configuration-block keys given to every device (`ft900-sim provision --list-keys`).
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// The devices of the fleet (at least one).
    #[serde(rename = "device")]
    pub devices: Vec<DeviceSpec>,
    /// What must be true at the end.
    #[serde(default)]
    pub expect: Expectations,
}

fn default_seed() -> u64 {
    1
}

fn default_max_virtual_seconds() -> f64 {
    120.0
}

/// 2026-01-01T00:00:00Z.
fn default_epoch() -> u64 {
    1_767_225_600
}

/// How the devices are networked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// `user`: a switch and the user-mode gateway (DHCP, DNS, SNTP, the endpoint); `none`.
    #[serde(default = "default_mode")]
    pub mode: NetMode,
    /// Extra DNS names: name → IPv4 address, or `endpoint` for the in-process endpoint. The
    /// endpoint's own host names are always in the table.
    #[serde(default)]
    pub dns: BTreeMap<String, String>,
    /// Seeded faults on the cable between the switch and the gateway.
    #[serde(default)]
    pub impairments: ImpairmentSpec,
}

impl Default for Network {
    fn default() -> Network {
        Network {
            mode: NetMode::User,
            dns: BTreeMap::new(),
            impairments: ImpairmentSpec::default(),
        }
    }
}

fn default_mode() -> NetMode {
    NetMode::User
}

/// Network mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetMode {
    /// The user-mode gateway behind a switch.
    User,
    /// No cable.
    None,
}

/// Impairments (see `net_bridge::Impairments`); times in milliseconds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpairmentSpec {
    /// Probability that a frame is lost.
    #[serde(default)]
    pub loss: f64,
    /// Probability that a frame is delivered twice.
    #[serde(default)]
    pub duplicate: f64,
    /// Probability that a bit of a frame's payload is flipped.
    #[serde(default)]
    pub corrupt: f64,
    /// Fixed extra delay, ms.
    #[serde(default)]
    pub delay_ms: f64,
    /// Extra delay drawn from 0..=jitter, ms.
    #[serde(default)]
    pub jitter_ms: f64,
    /// Probability that a frame is held back, letting later ones pass.
    #[serde(default)]
    pub reorder: f64,
    /// Bandwidth limit, Mbit/s.
    #[serde(default)]
    pub rate_mbit: Option<f64>,
    /// Intervals of virtual seconds `[start, end]` during which the cable is unplugged.
    #[serde(default)]
    pub down: Vec<[f64; 2]>,
}

impl ImpairmentSpec {
    /// Whether anything is impaired.
    pub fn is_active(&self) -> bool {
        self.loss > 0.0
            || self.duplicate > 0.0
            || self.corrupt > 0.0
            || self.delay_ms > 0.0
            || self.jitter_ms > 0.0
            || self.reorder > 0.0
            || self.rate_mbit.is_some()
            || !self.down.is_empty()
    }
}

/// The endpoint's setup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Region the endpoint signs for.
    #[serde(default = "default_region")]
    pub region: String,
    /// Host names (DNS and the server certificate).
    #[serde(default = "default_hosts")]
    pub host_names: Vec<String>,
    /// The endpoint's clock minus the true (virtual) time, seconds.
    #[serde(default)]
    pub clock_offset_seconds: i64,
    /// Known credentials; empty means one generated test key, given to the devices.
    #[serde(default)]
    pub credentials: Vec<CredentialSpec>,
    /// Tables created at start.
    #[serde(default = "default_tables")]
    pub tables: Vec<TableSpecToml>,
    /// Injected faults, first match wins, e.g. `{ kind = "throttle", when = "requests",
    /// count = 3 }`, `{ kind = "internal_error", when = "fraction", p = 0.2 }`,
    /// `{ kind = "delay", nanos = 2_000_000_000, when = "window", from = 0, until = 5e9 }`
    /// (see `endpoint::faults`).
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Whether the devices' configuration blocks get the endpoint's CA certificate (`false`:
    /// they get another CA, so the endpoint's certificate does not verify).
    #[serde(default = "yes")]
    pub devices_trust_ca: bool,
    /// Key type of the generated CA and server certificate: `ecdsa-p256` (default) or
    /// `rsa2048` (the firmware's handshake is shorter).
    #[serde(default)]
    pub server_key: ServerKeySpec,
    /// Validity of the generated certificates against `epoch_unix`: `current` (default),
    /// `expired` (ended a year before) or `not-yet-valid` (starts a year after).
    #[serde(default)]
    pub certificate: crate::endpoint::CertValidity,
    /// A DynamoDB-compatible server outside the simulation (`IP:PORT`, e.g. a `moto_server`
    /// on loopback), instead of the in-process endpoint: the gateway joins connections to the
    /// host names on port 443 to this host socket, and the run is paced to the wall clock. The
    /// server must present [`crate::endpoint::Endpoint::server_identity_pem`] of this
    /// scenario's endpoint (`scenarios identity FILE`), and `credentials` must be keys it
    /// knows. Table and request expectations need the in-process endpoint, so they are refused.
    #[serde(default)]
    pub external: Option<String>,
    /// Endpoint restarts at virtual times: every open connection is reset, new ones are
    /// refused for `down_seconds`, the tables are kept. E.g. `[{ at_seconds = 4.0,
    /// down_seconds = 0.5 }]`. (A restart while a given request is answered is a fault:
    /// `{ kind = "restart", when = "requests", skip = 3, count = 1 }`.)
    #[serde(default)]
    pub restarts: Vec<RestartSpec>,
    /// The endpoint moves at this virtual time (seconds): from then on the gateway's DNS gives
    /// its host names a second address, where it answers, and its first address refuses
    /// connections (combine with a restart at the same time to reset those already open).
    #[serde(default)]
    pub move_at_seconds: Option<f64>,
}

/// One scheduled endpoint restart.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartSpec {
    /// Virtual time of the restart, seconds.
    pub at_seconds: f64,
    /// How long new connections are refused afterwards, seconds.
    #[serde(default)]
    pub down_seconds: f64,
}

/// `server_key` of `[endpoint]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerKeySpec {
    /// ECDSA P-256.
    #[default]
    EcdsaP256,
    /// RSA-2048.
    Rsa2048,
}

impl EndpointSpec {
    /// The external server's address, if the scenario names one (checked when loading).
    pub fn external_addr(&self) -> Option<std::net::SocketAddr> {
        self.external.as_deref().and_then(|a| a.parse().ok())
    }
}

impl Default for EndpointSpec {
    fn default() -> EndpointSpec {
        EndpointSpec {
            region: default_region(),
            host_names: default_hosts(),
            clock_offset_seconds: 0,
            credentials: Vec::new(),
            tables: default_tables(),
            faults: Vec::new(),
            devices_trust_ca: true,
            server_key: ServerKeySpec::default(),
            certificate: crate::endpoint::CertValidity::default(),
            external: None,
            restarts: Vec::new(),
            move_at_seconds: None,
        }
    }
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_hosts() -> Vec<String> {
    vec!["dynamodb.us-east-1.amazonaws.com".into()]
}

fn default_tables() -> Vec<TableSpecToml> {
    vec![TableSpecToml {
        name: "SensorReadings".into(),
        partition_key: "deviceId:S".into(),
        sort_key: Some("seq:N".into()),
    }]
}

/// A credential the endpoint accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    #[serde(default)]
    pub session_token: Option<String>,
}

/// A table: `partition_key = "deviceId:S"`, optional `sort_key = "seq:N"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpecToml {
    /// Table name.
    pub name: String,
    /// `NAME:TYPE` with TYPE one of S, N, B.
    pub partition_key: String,
    /// `NAME:TYPE`.
    #[serde(default)]
    pub sort_key: Option<String>,
}

/// One device of the fleet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// Device id (`device.id` in its configuration block; names its UART log).
    pub id: String,
    /// Configuration keys for this device only (over `[config]`).
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// This device's silicon revision (over the scenario's `chip`).
    #[serde(default, deserialize_with = "de_chip")]
    pub chip: Option<ChipRevision>,
}

impl DeviceSpec {
    /// The silicon revision this device runs on in `scenario`.
    pub fn chip_in(&self, scenario: &Scenario) -> ChipRevision {
        self.chip.or(scenario.chip).unwrap_or_default()
    }
}

/// Reads a chip name (`ft900-revb`, `ft900-revc`), refusing any other with the list of names.
fn de_chip<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ChipRevision>, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map(Some).map_err(serde::de::Error::custom)
}

/// The expectations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Exit status every device must end with (default 0; a device still running at
    /// `max_virtual_seconds` fails this).
    #[serde(default)]
    pub exit_status: Option<u32>,
    /// Instead of an exit: every device must still be running at `max_virtual_seconds` (for
    /// scenarios where the firmware must keep its readings and keep trying, e.g. bad
    /// credentials).
    #[serde(default)]
    pub still_running: bool,
    /// Every device must have exited by this virtual time.
    #[serde(default)]
    pub within_virtual_seconds: Option<f64>,
    /// UART text.
    #[serde(default)]
    pub uart: Vec<UartExpectation>,
    /// Table contents.
    #[serde(default)]
    pub items: Vec<ItemsExpectation>,
    /// Requests the endpoint saw.
    #[serde(default)]
    pub requests: Vec<RequestsExpectation>,
    /// Backoff after retryable failures, timed in the endpoint's request log.
    #[serde(default)]
    pub backoff: Vec<BackoffExpectation>,
    /// Run the scenario a second time with the same seed: every device's cycle and instruction
    /// counts, the pcap's SHA-256 and the request log must come out identical.
    #[serde(default)]
    pub deterministic: bool,
}

/// A line of UART0 output that must (or must not) appear.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UartExpectation {
    /// Regular expression matched against each line (`regex` crate syntax).
    pub regex: String,
    /// Which device (`*`, the default, means every device).
    #[serde(default = "all_devices")]
    pub device: String,
    /// `false`: no line may match.
    #[serde(default = "yes")]
    pub present: bool,
    /// With `present`: the first match must come before this virtual time.
    #[serde(default)]
    pub within_virtual_seconds: Option<f64>,
    /// With `present`: at least this many matching lines (default 1).
    #[serde(default)]
    pub min_count: Option<usize>,
    /// With `present`: at most this many matching lines (e.g. an error reported once, not in a
    /// loop).
    #[serde(default)]
    pub max_count: Option<usize>,
}

fn all_devices() -> String {
    "*".into()
}

fn yes() -> bool {
    true
}

/// Items in a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemsExpectation {
    /// The table.
    pub table: String,
    /// Exact number of items.
    #[serde(default)]
    pub count: Option<usize>,
    /// Every device's sequence numbers `from..=to` present exactly once, nothing else.
    #[serde(default)]
    pub sequence: Option<SequenceExpectation>,
    /// Items that must exist, each given as attributes in DynamoDB JSON
    /// (`{ deviceId = { S = "hopper" }, seq = { N = "1" } }`): an item containing all of them.
    #[serde(default)]
    pub contains: Vec<toml::Table>,
    /// Every item equals a `reading ...` line its device printed on UART0 (temperature,
    /// humidity, timestamp, as the same text), with no other attributes, and every printed
    /// reading is stored. The key attributes are the table's.
    #[serde(default)]
    pub match_uart_readings: bool,
}

/// Sequence numbers per device.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceExpectation {
    /// Attribute holding the device id (S).
    pub partition_key: String,
    /// Attribute holding the sequence number (N).
    pub sort_key: String,
    /// First sequence number.
    pub from: u64,
    /// Last sequence number.
    pub to: u64,
}

/// Requests seen by the endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsExpectation {
    /// Operation (`PutItem`, `BatchWriteItem`, ...); any if absent.
    #[serde(default)]
    pub operation: Option<String>,
    /// HTTP status; any if absent.
    #[serde(default)]
    pub status: Option<u16>,
    /// At least this many.
    #[serde(default)]
    pub min: Option<usize>,
    /// At most this many.
    #[serde(default)]
    pub max: Option<usize>,
}

/// Backoff after retryable failures (see `runner::backoff`): each retry announced on the UART
/// (`retry ... backoff=B ms`) must be matched by a gap of at least B in the request log, inside
/// the full-jitter window of its attempt, and no failure may be retried unannounced.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffExpectation {
    /// Which device (`*`, the default, means every device).
    #[serde(default = "all_devices")]
    pub device: String,
    /// The first attempt's window, ms (the firmware's `DDB_BACKOFF_BASE_MS`).
    #[serde(default = "default_backoff_base")]
    pub base_ms: u64,
    /// The largest window, ms (`DDB_BACKOFF_CAP_MS`).
    #[serde(default = "default_backoff_cap")]
    pub cap_ms: u64,
    /// Every gap after a failure at least this long, ms (full jitter alone promises none).
    #[serde(default)]
    pub min_gap_ms: f64,
    /// At least this many retries must be timed in the log (so the check cannot pass on a
    /// run without failures).
    #[serde(default = "one")]
    pub min_retries: usize,
    /// Some backoff after a repeated failure must exceed the first window.
    #[serde(default)]
    pub growing: bool,
}

fn default_backoff_base() -> u64 {
    100
}

fn default_backoff_cap() -> u64 {
    20_000
}

fn one() -> usize {
    1
}

impl Scenario {
    /// The execution engine the scenario asks for (the default when it names none).
    pub fn engine(&self) -> Result<ft900_sim::Engine> {
        match &self.engine {
            None => Ok(ft900_sim::Engine::from_env()?),
            Some(name) => Ok(name.parse().context("engine")?),
        }
    }

    /// Reads and checks a scenario file; relative paths in it become relative to its directory.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let mut scenario: Scenario =
            toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        if scenario.firmware.is_relative() {
            scenario.firmware = dir.join(&scenario.firmware);
        }
        scenario
            .check()
            .with_context(|| format!("{}", path.display()))?;
        Ok(scenario)
    }

    /// Consistency checks that serde cannot express.
    fn check(&self) -> Result<()> {
        self.engine()?;
        if self.devices.is_empty() {
            bail!("no [[device]]: a scenario needs at least one device");
        }
        let mut ids: Vec<&str> = self.devices.iter().map(|d| d.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            bail!("device id {:?} appears twice", w[0]);
        }
        if self.devices.len() > MAX_DEVICES {
            bail!(
                "{} devices: at most {MAX_DEVICES} (the gateway leases 10.0.2.15 to 10.0.2.254)",
                self.devices.len()
            );
        }
        if self.expect.still_running && self.expect.exit_status.is_some() {
            bail!("expect.still_running and expect.exit_status exclude each other");
        }
        if !(self.max_virtual_seconds > 0.0 && self.max_virtual_seconds <= 86_400.0) {
            bail!("max_virtual_seconds must be in (0, 86400]");
        }
        let imp = &self.network.impairments;
        for (name, p) in [
            ("loss", imp.loss),
            ("duplicate", imp.duplicate),
            ("corrupt", imp.corrupt),
            ("reorder", imp.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                bail!("network.impairments.{name} = {p}: a probability must be in [0, 1]");
            }
        }
        for u in &self.expect.uart {
            regex::Regex::new(&u.regex)
                .with_context(|| format!("expect.uart regex {:?}", u.regex))?;
            if u.device != "*" && !self.devices.iter().any(|d| d.id == u.device) {
                bail!(
                    "expect.uart names device {:?}, which is not in the fleet",
                    u.device
                );
            }
        }
        for b in &self.expect.backoff {
            if b.device != "*" && !self.devices.iter().any(|d| d.id == b.device) {
                bail!(
                    "expect.backoff names device {:?}, which is not in the fleet",
                    b.device
                );
            }
            if b.base_ms == 0 || b.cap_ms < b.base_ms {
                bail!(
                    "expect.backoff: base_ms = {} and cap_ms = {}: need 0 < base_ms <= cap_ms",
                    b.base_ms,
                    b.cap_ms
                );
            }
        }
        for i in &self.expect.items {
            if i.match_uart_readings
                && !self
                    .endpoint
                    .tables
                    .iter()
                    .any(|t| t.name == i.table && t.sort_key.is_some())
            {
                bail!(
                    "expect.items.match_uart_readings: table {:?} is not one of the endpoint's tables with a sort key",
                    i.table
                );
            }
        }
        for t in &self.endpoint.tables {
            parse_key(&t.partition_key)?;
            if let Some(k) = &t.sort_key {
                parse_key(k)?;
            }
        }
        if let Some(addr) = &self.endpoint.external {
            addr.parse::<std::net::SocketAddr>().map_err(|_| {
                anyhow::anyhow!(
                    "endpoint.external = {addr:?}: expected IP:PORT (e.g. \"127.0.0.1:5000\")"
                )
            })?;
            if !self.expect.items.is_empty() || !self.expect.requests.is_empty() {
                bail!("endpoint.external: expect.items and expect.requests look inside the in-process endpoint; check an external server's tables with its own client");
            }
            if !self.endpoint.faults.is_empty() || !self.endpoint.restarts.is_empty() {
                bail!("endpoint.external: faults are injected by the in-process endpoint; an external server gets none");
            }
            if self.endpoint.credentials.is_empty() {
                bail!("endpoint.external: give the devices a key the external server knows ([[endpoint.credentials]])");
            }
        }
        for r in &self.endpoint.restarts {
            let at_ok = (0.0..=self.max_virtual_seconds).contains(&r.at_seconds);
            let down_ok = r.down_seconds >= 0.0 && r.down_seconds.is_finite();
            if !(at_ok && down_ok) {
                bail!(
                    "endpoint.restarts: at_seconds = {}, down_seconds = {}: expected 0 <= at_seconds <= max_virtual_seconds and down_seconds >= 0",
                    r.at_seconds,
                    r.down_seconds
                );
            }
        }
        if let Some(t) = self.endpoint.move_at_seconds {
            if !(0.0..=self.max_virtual_seconds).contains(&t) {
                bail!("endpoint.move_at_seconds = {t}: expected 0 <= it <= max_virtual_seconds");
            }
            if self.endpoint.external.is_some() {
                bail!("endpoint.move_at_seconds moves the in-process endpoint; an external server stays where it is");
            }
        }
        for (name, target) in &self.network.dns {
            if target != "endpoint" && target.parse::<std::net::Ipv4Addr>().is_err() {
                bail!(
                    "network.dns.{name:?} = {target:?}: expected an IPv4 address or \"endpoint\""
                );
            }
        }
        Ok(())
    }
}

/// `NAME:TYPE` → (name, type letter).
pub fn parse_key(spec: &str) -> Result<(String, char)> {
    match spec.rsplit_once(':') {
        Some((name, t @ ("S" | "N" | "B"))) if !name.is_empty() => {
            Ok((name.to_string(), t.chars().next().unwrap_or('S')))
        }
        _ => bail!("{spec:?}: a key is NAME:TYPE with TYPE one of S, N, B (e.g. \"deviceId:S\")"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario> {
        let s: Scenario = toml::from_str(text)?;
        s.check()?;
        Ok(s)
    }

    const MINIMAL: &str = "name = \"x\"\nfirmware = \"fw.elf\"\n[[device]]\nid = \"hopper\"\n";

    #[test]
    fn a_minimal_scenario_gets_the_documented_defaults() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.seed, 1);
        assert_eq!(s.network.mode, NetMode::User);
        assert_eq!(s.endpoint.region, "us-east-1");
        assert_eq!(s.endpoint.tables[0].name, "SensorReadings");
        assert_eq!(s.devices.len(), 1);
        assert!(!s.network.impairments.is_active());
        assert!(!s.expect.deterministic);
        let b: Scenario = toml::from_str(&format!("{MINIMAL}[[expect.backoff]]\n")).unwrap();
        let b = &b.expect.backoff[0];
        assert_eq!(
            (b.base_ms, b.cap_ms, b.min_retries, b.growing),
            (100, 20_000, 1, false)
        );
    }

    #[test]
    fn the_chip_is_chosen_per_scenario_and_per_device() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.devices[0].chip_in(&s), ChipRevision::Ft900RevC);
        let text = "name = \"x\"\nfirmware = \"fw.elf\"\nchip = \"ft900-revb\"\n\
                    [[device]]\nid = \"a\"\n[[device]]\nid = \"b\"\nchip = \"ft900-revc\"\n";
        let s = parse(text).unwrap();
        assert_eq!(s.devices[0].chip_in(&s), ChipRevision::Ft900RevB);
        assert_eq!(s.devices[1].chip_in(&s), ChipRevision::Ft900RevC);
        let err = format!(
            "{:#}",
            parse(&format!("chip = \"ft930\"\n{MINIMAL}")).unwrap_err()
        );
        assert!(err.contains("unknown chip \"ft930\""), "{err}");
    }

    #[test]
    fn the_engine_key_names_an_engine() {
        assert_eq!(
            parse(MINIMAL).unwrap().engine().unwrap(),
            ft900_sim::Engine::default()
        );
        for e in ft900_sim::Engine::ALL {
            let s = parse(&format!("engine = \"{e}\"\n{MINIMAL}")).unwrap();
            assert_eq!(s.engine().unwrap(), e);
        }
        let err = format!(
            "{:#}",
            parse(&format!("engine = \"warp\"\n{MINIMAL}")).unwrap_err()
        );
        assert!(err.contains("unknown engine \"warp\""), "{err}");
    }

    #[test]
    fn mistakes_are_named() {
        let err = |extra: &str| format!("{:#}", parse(&format!("{MINIMAL}{extra}")).unwrap_err());
        assert!(err("[[device]]\nid = \"hopper\"\n").contains("\"hopper\" appears twice"));
        assert!(err("[network.impairments]\nloss = 2.0\n").contains("probability"));
        assert!(err("[[expect.uart]]\nregex = \"(\"\n").contains("regex"));
        assert!(err("[[expect.uart]]\nregex = \"x\"\ndevice = \"knuth\"\n")
            .contains("not in the fleet"));
        assert!(err("colour = 3\n").contains("unknown field"));
        assert!(err("[[expect.backoff]]\ndevice = \"knuth\"\n").contains("not in the fleet"));
        assert!(err("[[expect.backoff]]\nbase_ms = 0\n").contains("0 < base_ms"));
        let fleet: String = (1..=MAX_DEVICES)
            .map(|i| format!("[[device]]\nid = \"d{i}\"\n"))
            .collect();
        assert!(parse(&format!("name = \"x\"\nfirmware = \"f\"\n{fleet}")).is_ok());
        assert!(err(&fleet).contains("241 devices: at most 240"));
        assert!(
            err("[[expect.items]]\ntable = \"Other\"\nmatch_uart_readings = true\n")
                .contains("not one of the endpoint's tables")
        );
        assert!(
            err("[endpoint]\ntables = [{ name = \"T\", partition_key = \"id\" }]\n")
                .contains("NAME:TYPE")
        );
        assert!(err("[endpoint]\nexternal = \"localhost\"\n").contains("expected IP:PORT"));
        assert!(err("[endpoint]\nexternal = \"127.0.0.1:5000\"\n").contains("credentials"));
        let with_key = "[endpoint]\nexternal = \"127.0.0.1:5000\"\n\
                        credentials = [{ access_key_id = \"A\", secret_access_key = \"S\" }]\n";
        assert!(err(&format!("{with_key}[[expect.items]]\ntable = \"T\"\n"))
            .contains("in-process endpoint"));
        let s = parse(&format!("{MINIMAL}{with_key}server_key = \"rsa2048\"\n")).unwrap();
        assert_eq!(
            s.endpoint.external_addr(),
            Some("127.0.0.1:5000".parse().unwrap())
        );
        assert_eq!(s.endpoint.server_key, ServerKeySpec::Rsa2048);
        assert!(err("[endpoint]\nrestarts = [{ at_seconds = -1.0 }]\n").contains("at_seconds"));
        assert!(err("[endpoint]\nrestarts = [{ at = 1 }]\n").contains("unknown field"));
    }
}
