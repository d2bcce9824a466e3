//! A local DynamoDB-compatible endpoint: SigV4 verification as AWS does it, the DynamoDB JSON
//! protocol on in-memory tables, HTTPS with a generated test CA, and injected faults.
//!
//! The same sans-IO connection code serves two ways: in-process on virtual time as a
//! `net_bridge` stream service ([`Endpoint::stream_factory`]), and standalone on a loopback
//! port ([`serve`]), where real clients (boto3, the AWS CLI) can use it.

mod attr;
mod batch_get;
mod expr;
pub mod faults;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
mod log;
pub mod persist;
mod protocol;
pub mod restart;
pub mod seeded;
pub mod serve;
pub mod sigv4;
mod tables;
pub mod time;
mod tls;
mod transact;
mod update;
mod update_expr;
pub mod upstream;

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use net_bridge::service::StreamServiceFactory;
use net_bridge::Nanos;
use serde_json::Value;

pub use attr::{Number, MAX_ITEM_BYTES};
pub use batch_get::{MAX_BATCH_GET_BYTES, MAX_BATCH_GET_KEYS};
pub use faults::{Fault, FaultAction, FaultPlan, FaultTrigger};
pub use http::MAX_QUEUED_RESPONSE_BYTES;
pub use log::{RequestRecord, RequestStats};
pub use protocol::{ApiError, CONTENT_TYPE, MAX_BATCH_WRITE_ITEMS, MAX_PAGE_BYTES, TARGET_PREFIX};
pub use restart::Restart;
pub use transact::{MAX_TRANSACT_BYTES, MAX_TRANSACT_ITEMS};

use faults::FaultState;
use http::{Delivery, Request, Response};
use tables::{Table, Tables};

/// An access key the endpoint knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id (`AKIA...`).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials (no session token).
    pub fn new(access_key_id: &str, secret_access_key: &str) -> Credentials {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// The default test key: `AKIDEXAMPLE` with the secret from AWS's SigV4 examples.
    pub fn test_key() -> Credentials {
        Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    }
}

/// A key attribute's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

/// The key type of the generated CA and server certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerKey {
    /// ECDSA P-256 (small certificates; the firmware verifies a signature in ~0.5 s virtual).
    #[default]
    EcdsaP256,
    /// RSA-2048 (the firmware verifies a signature in ~45 ms virtual; key generation takes a
    /// moment on the host).
    Rsa2048,
}

/// The validity period of the generated CA and server certificates, against the epoch (the
/// true time at virtual time 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertValidity {
    /// From a year before the epoch to ten years after (skewed device clocks still accept it).
    #[default]
    Current,
    /// Expired: from three years before the epoch to a year before.
    Expired,
    /// Not yet valid: from a year after the epoch to ten years after.
    NotYetValid,
}

/// A table created when the endpoint starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    /// Table name.
    pub name: String,
    /// Partition key name and type.
    pub partition_key: (String, KeyType),
    /// Sort key name and type, if any.
    pub sort_key: Option<(String, KeyType)>,
}

impl TableSpec {
    /// The firmware's table: `SensorReadings` keyed by `deviceId` (S) and `seq` (N).
    pub fn sensor_readings() -> TableSpec {
        TableSpec {
            name: "SensorReadings".into(),
            partition_key: ("deviceId".into(), KeyType::S),
            sort_key: Some(("seq".into(), KeyType::N)),
        }
    }
}

/// How the endpoint is set up.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Region in credential scopes (default `us-east-1`).
    pub region: String,
    /// Server certificate SANs; the first is the subject CN.
    pub host_names: Vec<String>,
    /// The known keys.
    pub credentials: Vec<Credentials>,
    /// Unix seconds at virtual time 0 (= UserNet's SNTP epoch).
    pub epoch_unix: u64,
    /// The endpoint's clock is `epoch_unix + now + clock_offset_secs`.
    pub clock_offset_secs: i64,
    /// Tables created at start.
    pub tables: Vec<TableSpec>,
    /// Seeds request ids, the fault schedule, the TLS keys and certificates, and the TLS
    /// server's random choices (so runs replay byte for byte).
    pub seed: u64,
    /// Injected faults.
    pub faults: FaultPlan,
    /// Key type of the CA and server certificate (default ECDSA P-256).
    pub server_key: ServerKey,
    /// The certificates' validity period (default: current).
    pub cert_validity: CertValidity,
    /// Scheduled restarts (virtual times): open connections reset, tables kept.
    pub restarts: Vec<Restart>,
    /// Keep the tables in this file (see [`persist`]): locked and loaded at start if it
    /// exists (tables in `tables` that it lacks are added), every change appended to its log
    /// and synced before its response.
    pub data_file: Option<std::path::PathBuf>,
    /// Most bytes of request bodies held at once, over all connections, while they are read
    /// (before their signatures can be checked); a request past it is answered 503
    /// `ServiceUnavailableException` without its body being read. Default 64 MiB.
    pub max_body_memory: usize,
    /// Keep only the last this many request records in memory ([`Endpoint::requests`]);
    /// `None` keeps all (a scenario run, bounded by its time limit). Counters
    /// ([`Endpoint::request_stats`]) cover every request either way.
    pub request_log_keep: Option<usize>,
    /// Forward checked requests, re-signed, to this engine instead of the local tables (see
    /// [`upstream`]; standalone mode only: the call blocks).
    pub upstream: Option<upstream::Upstream>,
}

impl Default for EndpointConfig {
    fn default() -> EndpointConfig {
        EndpointConfig {
            region: "us-east-1".into(),
            host_names: vec![
                "dynamodb.us-east-1.amazonaws.com".into(),
                "localhost".into(),
            ],
            credentials: vec![Credentials::test_key()],
            epoch_unix: net_bridge::usernet::SimClock::default().epoch_unix_secs,
            clock_offset_secs: 0,
            tables: vec![TableSpec::sensor_readings()],
            seed: 1,
            faults: FaultPlan::none(),
            server_key: ServerKey::default(),
            cert_validity: CertValidity::default(),
            restarts: Vec::new(),
            data_file: None,
            request_log_keep: None,
            max_body_memory: 64 * 1024 * 1024,
            upstream: None,
        }
    }
}

/// Completed TLS handshakes by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlsHandshakes {
    /// Full handshakes (certificate sent, key exchange).
    pub full: u64,
    /// Abbreviated handshakes resuming a session (TLS 1.2 session id).
    pub resumed: u64,
}

struct State {
    tables: Tables,
    log: log::RequestLog,
    tls_errors: Vec<(Nanos, String)>,
    handshakes: TlsHandshakes,
    sink: Option<Box<dyn Write + Send>>,
    next_request: u64,
    faults: FaultState,
    clock_offset_secs: i64,
    restarts: restart::Restarts,
    store: Option<persist::Store>,
}

struct Inner {
    cfg: EndpointConfig,
    identity: tls::Identity,
    bodies: http::BodyBudget,
    state: Mutex<State>,
}

/// The endpoint. Clones share tables, clock offset and the request log.
#[derive(Clone)]
pub struct Endpoint {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("region", &self.inner.cfg.region)
            .field("host_names", &self.inner.cfg.host_names)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Creates the endpoint: generates the CA and server certificate, creates the tables.
    pub fn new(cfg: EndpointConfig) -> anyhow::Result<Endpoint> {
        anyhow::ensure!(
            !cfg.host_names.is_empty(),
            "the endpoint needs at least one host name"
        );
        let identity = tls::Identity::generate(
            &cfg.host_names,
            cfg.epoch_unix,
            cfg.seed,
            cfg.server_key,
            cfg.cert_validity,
        )?;
        let (store, loaded) = match cfg.data_file.as_deref() {
            Some(path) => {
                let (s, t) = persist::Store::open(path)?;
                (Some(s), t)
            }
            None => (None, None),
        };
        let from_file = loaded.is_some();
        let mut tables = loaded.unwrap_or_default();
        let mut seen = std::collections::BTreeSet::new();
        for spec in &cfg.tables {
            anyhow::ensure!(
                seen.insert(spec.name.as_str()),
                "table {} is listed twice",
                spec.name
            );
            if from_file && tables.by_name.contains_key(&spec.name) {
                continue; // the file's table, with its items, wins
            }
            tables.by_name.insert(
                spec.name.clone(),
                Table {
                    name: spec.name.clone(),
                    hash: spec.partition_key.clone(),
                    range: spec.sort_key.clone(),
                    items: Default::default(),
                    created_unix: cfg.epoch_unix as f64,
                    billing_mode: "PAY_PER_REQUEST".into(),
                    throughput: (0, 0),
                },
            );
        }
        let mut state = State {
            tables,
            log: log::RequestLog::new(cfg.request_log_keep),
            tls_errors: Vec::new(),
            handshakes: TlsHandshakes::default(),
            sink: None,
            next_request: 0,
            faults: FaultState::new(cfg.faults.clone(), cfg.seed),
            clock_offset_secs: cfg.clock_offset_secs,
            restarts: restart::Restarts::new(cfg.restarts.clone()),
            store,
        };
        if let Some(s) = state.store.as_mut() {
            // Compaction at open: fails early on an unwritable place, records tables the file
            // lacked, cuts off a torn tail and rewrites a version 1 file in the log format.
            s.compact(&state.tables)?;
        }
        Ok(Endpoint {
            inner: Arc::new(Inner {
                bodies: http::BodyBudget::new(cfg.max_body_memory),
                cfg,
                identity,
                state: Mutex::new(state),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough data for a test endpoint.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The configuration the endpoint was created with.
    pub fn config(&self) -> &EndpointConfig {
        &self.inner.cfg
    }

    /// The test CA certificate, PEM.
    pub fn ca_cert_pem(&self) -> String {
        self.inner.identity.ca_pem.clone()
    }

    /// The test CA certificate, DER.
    pub fn ca_cert_der(&self) -> Vec<u8> {
        self.inner.identity.ca_der.clone()
    }

    /// The server certificate and its private key, both PEM: the endpoint's TLS identity for
    /// another server to present (e.g. `moto_server --ssl-cert/--ssl-key` standing in for the
    /// endpoint, so that devices provisioned with [`Endpoint::ca_cert_der`] trust it).
    pub fn server_identity_pem(&self) -> (String, String) {
        let id = &self.inner.identity;
        (id.leaf_pem.clone(), id.leaf_key_pem.clone())
    }

    /// HTTPS (rustls sans-IO) on virtual time, for `net_bridge::UserNet`.
    pub fn stream_factory(&self) -> Arc<dyn StreamServiceFactory> {
        tls::factory(self.clone(), true)
    }

    /// The same protocol over plain HTTP (debugging aid; SigV4 still enforced).
    pub fn plain_http_factory(&self) -> Arc<dyn StreamServiceFactory> {
        tls::factory(self.clone(), false)
    }

    /// Items of a table in DynamoDB JSON, in key order; `None` if no such table.
    pub fn items(&self, table: &str) -> Option<Vec<Value>> {
        let st = self.state();
        let t = st.tables.by_name.get(table)?;
        Some(t.items.values().map(|m| Value::Object(m.clone())).collect())
    }

    /// Every request so far (or the last [`EndpointConfig::request_log_keep`]), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state().log.records()
    }

    /// Counts of every request so far, including those no longer kept in memory.
    pub fn request_stats(&self) -> RequestStats {
        self.state().log.stats().clone()
    }

    /// TLS handshakes or records that failed: virtual time and rustls's error.
    pub fn tls_errors(&self) -> Vec<(Nanos, String)> {
        self.state().tls_errors.clone()
    }

    /// The TLS handshakes completed so far, full and resumed.
    pub fn tls_handshakes(&self) -> TlsHandshakes {
        self.state().handshakes
    }

    /// Changes the endpoint's clock offset (seconds) from now on.
    pub fn set_clock_offset(&self, secs: i64) {
        self.state().clock_offset_secs = secs;
    }

    /// Also writes each request record as a JSON line to `sink` (secrets redacted).
    pub fn set_request_log(&self, sink: Box<dyn Write + Send>) {
        self.state().sink = Some(sink);
    }

    /// The endpoint clock at virtual time `now`, unix seconds.
    pub fn now_unix(&self, now: Nanos) -> i64 {
        let off = self.state().clock_offset_secs;
        self.inner.cfg.epoch_unix as i64 + (now / 1_000_000_000) as i64 + off
    }

    /// Restarts that have happened by virtual time `now` (scheduled or caused by a fault).
    pub fn restarts(&self, now: Nanos) -> Vec<Restart> {
        self.state().restarts.happened(now).to_vec()
    }

    /// How many restarts have happened by `now`: a connection accepted in one generation is
    /// reset when the next begins.
    pub(crate) fn generation(&self, now: Nanos) -> usize {
        self.state().restarts.generation(now)
    }

    /// When a connection accepted in `generation` is reset, if a restart is scheduled.
    pub(crate) fn death_of(&self, generation: usize) -> Option<Nanos> {
        self.state().restarts.death_of(generation)
    }

    /// Whether the endpoint is down (refusing connections) at `now`.
    pub(crate) fn is_down(&self, now: Nanos) -> bool {
        self.state().restarts.is_down(now)
    }

    pub(crate) fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.inner.identity.server_config.clone()
    }

    pub(crate) fn note_handshake(&self, resumed: bool) {
        let mut st = self.state();
        if resumed {
            st.handshakes.resumed += 1;
        } else {
            st.handshakes.full += 1;
        }
    }

    pub(crate) fn note_tls_error(&self, now: Nanos, err: String) {
        tracing::debug!(%err, "TLS failure");
        self.state().tls_errors.push((now, err));
    }

    /// The answer to a request whose body does not fit the body budget now: 503, as DynamoDB
    /// answers when it cannot take a request (SDKs retry it after a backoff).
    fn overloaded(&self, now: Nanos, req: &Request, body_len: usize) -> Response {
        let now_unix = self.now_unix(now);
        let mut st = self.state();
        let n = st.next_request;
        st.next_request += 1;
        let request_id = log::request_id(self.inner.cfg.seed, n);
        let mut rec = RequestRecord::new(now, &request_id, req);
        rec.operation = req
            .header("x-amz-target")
            .and_then(|t| t.strip_prefix(TARGET_PREFIX))
            .unwrap_or("")
            .to_string();
        let mut err = ApiError::unavailable();
        let b = &self.inner.bodies;
        err.message = Some(format!(
            "request bodies being read use {} of {} bytes; this one ({body_len} bytes) must wait: retry",
            b.in_use(),
            b.limit()
        ));
        let body = serde_json::to_vec(&err.body()).expect("JSON values serialise");
        rec.finish(
            err.status,
            Some(err.type_name.to_string()),
            err.message.clone().unwrap_or_default(),
        );
        log::emit(&mut st, rec);
        Response {
            status: err.status,
            headers: vec![
                ("Server".into(), "Server".into()),
                ("Date".into(), time::format_http_date(now_unix)),
                ("Content-Type".into(), CONTENT_TYPE.into()),
                ("x-amzn-RequestId".into(), request_id),
                ("x-amz-crc32".into(), crc32fast::hash(&body).to_string()),
            ],
            body,
        }
    }

    /// Handles one request: authentication, faults, the operation, the record.
    fn respond(&self, now: Nanos, req: &Request) -> (Response, Delivery) {
        let now_unix = self.now_unix(now);
        let cfg = &self.inner.cfg;
        let mut st = self.state();
        let n = st.next_request;
        st.next_request += 1;
        let request_id = log::request_id(cfg.seed, n);

        let mut rec = RequestRecord::new(now, &request_id, req);
        let mut delivery = Delivery::Now;
        // The upstream engine's status and body, when it answered.
        let mut upstream_reply: Option<(u16, Vec<u8>)> = None;
        let result: Result<Value, ApiError> = 'outcome: {
            if req.method == "GET" && req.target == "/" {
                rec.operation = "(health)".into();
                let mut resp = Response::text(
                    200,
                    &format!("healthy: dynamodb.{}.amazonaws.com ", cfg.region),
                );
                resp.headers
                    .push(("x-amzn-RequestId".into(), request_id.clone()));
                rec.finish(200, None, "OK".into());
                log::emit(&mut st, rec);
                return (resp, Delivery::Now);
            }
            // The service (and dynalite) answer a body in any other content type with a bare
            // 404 before looking at the signature; `application/json` is accepted as JSON 1.0.
            if let Some(content_type) = wrong_content_type(req) {
                rec.operation = req
                    .header("x-amz-target")
                    .and_then(|t| t.strip_prefix(TARGET_PREFIX))
                    .unwrap_or("")
                    .to_string();
                let body = b"<UnknownOperationException/>\n".to_vec();
                let resp = Response {
                    status: 404,
                    headers: vec![
                        ("x-amzn-RequestId".into(), request_id),
                        ("x-amz-crc32".into(), crc32fast::hash(&body).to_string()),
                    ],
                    body,
                };
                rec.finish(
                    404,
                    Some("UnknownOperationException".into()),
                    format!("Content-Type {content_type:?} is not {CONTENT_TYPE}"),
                );
                log::emit(&mut st, rec);
                return (resp, Delivery::Now);
            }
            let view = sigv4::RequestView {
                method: &req.method,
                target: &req.target,
                headers: &req.headers,
                body: &req.body,
            };
            let verifier = sigv4::Verifier {
                region: &cfg.region,
                service: "dynamodb",
                credentials: &cfg.credentials,
            };
            rec.operation = req
                .header("x-amz-target")
                .and_then(|t| t.strip_prefix(TARGET_PREFIX))
                .unwrap_or("")
                .to_string();
            match verifier.verify(&view, now_unix) {
                Ok(v) => rec.access_key_id = Some(v.access_key_id),
                Err(e) => {
                    break 'outcome Err(ApiError {
                        status: 400,
                        type_name: e.kind.type_name(),
                        message: Some(e.message),
                        extra: Default::default(),
                    })
                }
            }
            if req.method != "POST" || rec.operation.is_empty() {
                break 'outcome Err(ApiError::unknown_operation());
            }
            let mut fault = st.faults.decide(&rec.operation, now);
            if let Some(FaultAction::RejectItem { number }) = fault {
                if !faults::carries_item_number(&req.body, number) {
                    fault = None; // not the poison item's request: untouched, not logged
                }
            }
            if let Some(f) = fault {
                rec.fault = Some(format!("{f:?}"));
            }
            let mut throttled = false;
            match fault {
                Some(FaultAction::Throttle) if rec.operation == "BatchWriteItem" => {
                    throttled = true
                }
                Some(FaultAction::Throttle) => break 'outcome Err(ApiError::throughput_exceeded()),
                Some(FaultAction::ThrottlingException) => {
                    break 'outcome Err(ApiError::throttling())
                }
                Some(FaultAction::InternalError) => break 'outcome Err(ApiError::internal()),
                Some(FaultAction::ServiceUnavailable) => {
                    break 'outcome Err(ApiError::unavailable())
                }
                Some(FaultAction::Delay { nanos }) => {
                    delivery = Delivery::At(now.saturating_add(nanos))
                }
                Some(FaultAction::Restart { down_nanos }) => {
                    // Processed and stored below; the response dies with the connection.
                    tracing::info!(target: "dynamodb", now, "endpoint restarts (fault)");
                    st.restarts.restart_now(now, down_nanos);
                }
                Some(FaultAction::RejectItem { .. }) => {
                    break 'outcome Err(ApiError::validation(
                        "Item size has exceeded the maximum allowed size",
                    ))
                }
                Some(FaultAction::ResetMidResponse) | None => {}
            }
            let cx = protocol::Context {
                region: &cfg.region,
                now_unix: now_unix as f64,
                throttled,
            };
            if let Some(up) = &cfg.upstream {
                if throttled {
                    break 'outcome Err(ApiError::throughput_exceeded());
                }
                // Requests reach the engine one at a time, in the order they were checked.
                match up.forward(req, now_unix) {
                    Ok(reply) => {
                        upstream_reply = Some(reply);
                        break 'outcome Ok(Value::Null);
                    }
                    Err(e) => {
                        tracing::warn!(target: "dynamodb", %e, "upstream failed");
                        let mut err = ApiError::unavailable();
                        err.message = Some(e);
                        break 'outcome Err(err);
                    }
                }
            }
            let st = &mut *st;
            let result = protocol::dispatch(&mut st.tables, &cx, &rec.operation, &req.body);
            match (&result, st.store.as_mut()) {
                (Ok(_), Some(store)) if !persist::read_only(&rec.operation) => {
                    // Durable before acknowledged: a failed write is a failed request.
                    let saved = match persist::Touched::of(&rec.operation, &req.body) {
                        Some(t) => store.append(&t.changes(&st.tables), &st.tables),
                        // An operation not known to `Touched`: rewrite everything.
                        None => store.compact(&st.tables),
                    };
                    if let Err(e) = saved {
                        tracing::error!(target: "dynamodb", %e, "tables not saved");
                        break 'outcome Err(ApiError::internal());
                    }
                    result
                }
                _ => result,
            }
        };
        let (status, body, err_type, verdict) = match (result, upstream_reply) {
            (Ok(_), Some((status, raw))) => {
                let v: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                let err_type = v.get("__type").and_then(Value::as_str).map(str::to_string);
                let verdict = match (&err_type, v.get("message").and_then(Value::as_str)) {
                    (_, Some(m)) if status != 200 => format!("upstream: {m}"),
                    (Some(t), _) => format!("upstream: {t}"),
                    _ if status == 200 => "OK (upstream)".to_string(),
                    _ => format!("upstream: status {status}"),
                };
                (status, raw, err_type, verdict)
            }
            (Ok(v), None) => {
                let unprocessed = v
                    .get("UnprocessedItems")
                    .and_then(Value::as_object)
                    .map_or(0, |m| {
                        m.values().filter_map(Value::as_array).map(Vec::len).sum()
                    });
                let verdict = if unprocessed > 0 {
                    format!("OK ({unprocessed} unprocessed)")
                } else {
                    "OK".to_string()
                };
                let body = serde_json::to_vec(&v).expect("JSON values serialise");
                (200, body, None, verdict)
            }
            (Err(e), _) => {
                let verdict = e.message.clone().unwrap_or_else(|| e.type_name.to_string());
                let body = serde_json::to_vec(&e.body()).expect("JSON values serialise");
                (e.status, body, Some(e.type_name.to_string()), verdict)
            }
        };
        // A request sent as `application/json` is answered in kind, as the service does.
        let reply_type = match req
            .header("content-type")
            .map(|c| c.split(';').next().unwrap_or("").trim())
        {
            Some("application/json") => "application/json",
            _ => CONTENT_TYPE,
        };
        let resp = Response {
            status,
            headers: vec![
                ("Server".into(), "Server".into()),
                ("Date".into(), time::format_http_date(now_unix)),
                ("Content-Type".into(), reply_type.into()),
                ("x-amzn-RequestId".into(), request_id),
                ("x-amz-crc32".into(), crc32fast::hash(&body).to_string()),
            ],
            body,
        };
        if rec.fault.as_deref() == Some("ResetMidResponse") {
            delivery = Delivery::ResetAfter(resp.to_bytes(false).len() / 2);
        }
        rec.finish(status, err_type, verdict);
        log::emit(&mut st, rec);
        (resp, delivery)
    }
}

/// The content type of a request that has a body (read, or announced by `Content-Length` and
/// not read yet) in a type the service does not take (`""` when absent); `None` when it is
/// fine. The service (and dynalite) answer such a request with a bare 404 before looking at
/// its signature; `application/json` is accepted as JSON 1.0.
fn wrong_content_type(req: &Request) -> Option<&str> {
    let announced = req
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0);
    if req.body.is_empty() && !announced {
        return None;
    }
    let content_type = req
        .header("content-type")
        .map_or("", |c| c.split(';').next().unwrap_or("").trim());
    (!matches!(content_type, CONTENT_TYPE | "application/json")).then_some(content_type)
}

impl http::Handler for Endpoint {
    fn admit(&self, now: Nanos, req: &Request, body_len: usize) -> http::Admission {
        if wrong_content_type(req).is_some() {
            // Answered from the head, its body skipped unread.
            return http::Admission::Answer(self.respond(now, req).0);
        }
        let cfg = &self.inner.cfg;
        let view = sigv4::RequestView {
            method: &req.method,
            target: &req.target,
            headers: &req.headers,
            body: &[],
        };
        let verifier = sigv4::Verifier {
            region: &cfg.region,
            service: "dynamodb",
            credentials: &cfg.credentials,
        };
        if verifier.verify_head(&view, self.now_unix(now)).is_err() {
            // Refused (or the health check) without its body: `respond` finds the same error
            // the full check would, and records it.
            return http::Admission::Answer(self.respond(now, req).0);
        }
        match self.inner.bodies.try_reserve(body_len) {
            Some(r) => http::Admission::Read(Some(r)),
            None => http::Admission::Answer(self.overloaded(now, req, body_len)),
        }
    }

    fn handle(&self, now: Nanos, req: &Request) -> (Response, Delivery) {
        self.respond(now, req)
    }

    fn refused(&self, now: Nanos, err: &http::HttpError) -> Response {
        let mut st = self.state();
        let n = st.next_request;
        st.next_request += 1;
        let mut rec = RequestRecord::empty(now, &log::request_id(self.inner.cfg.seed, n));
        rec.operation = "(bad HTTP)".into();
        rec.finish(err.status, None, err.message.clone());
        log::emit(&mut st, rec);
        Response::text(err.status, &format!("{}\n", err.message))
    }
}

pub use serve::{serve, ServeOptions};
