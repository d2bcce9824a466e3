//! The endpoint's TLS identity (a generated test CA and a server certificate for its host
//! names) and the per-connection service: rustls's sans-IO `ServerConnection` (or nothing, for
//! plain HTTP) in front of the HTTP session, driven by `net_bridge`'s stream calls.

use std::io::{Read, Write};
use std::sync::Arc;

use anyhow::Context as _;
use net_bridge::service::{
    CloseReason, FlowInfo, StreamService, StreamServiceFactory, StreamState,
};
use net_bridge::Nanos;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::ServerSessionMemoryCache;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{HandshakeKind, ServerConfig, ServerConnection};

use super::http::Session;
use super::seeded::{deterministic_provider, DeterministicRsa, P256Key, SeededRng};
use super::Endpoint;
use super::{CertValidity, ServerKey};

/// The CA and the ready server configuration.
pub(crate) struct Identity {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    /// The server certificate followed by the rest of the chain the endpoint sends, PEM (for
    /// handing the identity to another server: a PEM chain file as OpenSSL loads it).
    pub leaf_pem: String,
    /// The server's private key, PKCS#8 PEM. A throwaway test key; never logged.
    pub leaf_key_pem: String,
    pub server_config: Arc<ServerConfig>,
}

fn year_of(unix: u64) -> i32 {
    super::time::format_amz_date(unix as i64)[..4]
        .parse()
        .unwrap_or(2024)
}

impl Identity {
    /// A CA and server certificate (key type `kind`) for `host_names`, valid as `validity`
    /// says against `epoch_unix` (by default from a year before to ten years after, so
    /// skewed device clocks still accept it). Keys, certificates and the TLS server's random
    /// choices all derive from `seed`.
    pub fn generate(
        host_names: &[String],
        epoch_unix: u64,
        seed: u64,
        kind: ServerKey,
        validity: CertValidity,
    ) -> anyhow::Result<Identity> {
        let year = year_of(epoch_unix);
        let (first, last) = match validity {
            CertValidity::Current => (year - 1, year + 10),
            CertValidity::Expired => (year - 3, year - 1),
            CertValidity::NotYetValid => (year + 1, year + 10),
        };
        let (from, until) = (
            rcgen::date_time_ymd(first, 1, 1),
            rcgen::date_time_ymd(last, 1, 1),
        );
        let keys = SeededRng::new(seed, 1);
        let ca_key = Key::generate(&keys, kind)?.rcgen()?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
        // A name unique to this key, so that two endpoints' CAs are told apart by name.
        let cn = format!(
            "ft900-sim test CA {:08x}",
            crc32fast::hash(rcgen::PublicKeyData::der_bytes(&ca_key))
        );
        ca.distinguished_name.push(DnType::CommonName, cn);
        ca.distinguished_name
            .push(DnType::OrganizationName, "ft900-sim");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.not_before = from;
        ca.not_after = until;
        let ca_cert = ca.self_signed(&ca_key).context("self-signing the CA")?;

        let mut leaf =
            CertificateParams::new(host_names.to_vec()).context("server certificate names")?;
        leaf.distinguished_name
            .push(DnType::CommonName, host_names[0].as_str());
        leaf.is_ca = IsCa::NoCa;
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.not_before = from;
        leaf.not_after = until;
        let leaf_key = Key::generate(&keys, kind)?;
        let leaf_key_pem = pem_block("PRIVATE KEY", &leaf_key.pkcs8_der()?);
        let (leaf_sign, leaf_key) = (leaf_key.signer()?, leaf_key.rcgen()?);

        // ECDSA: the CA signs the server certificate, which is sent alone. RSA: the chain is
        // shaped like the one DynamoDB's endpoints send (see `AwsShapedChain`).
        let (chain, max_fragment) = match kind {
            ServerKey::EcdsaP256 => {
                let leaf_cert = leaf
                    .signed_by(&leaf_key, &ca_cert, &ca_key)
                    .context("signing the server certificate")?;
                // Records of at most 4 KiB (header included): the firmware's mbedTLS receive
                // buffer holds 8 KiB of content, and rustls would otherwise send up to 16 KiB
                // per record.
                (vec![leaf_cert.der().to_vec()], 4096)
            }
            ServerKey::Rsa2048 => {
                let other_key = Key::generate(&keys, kind)?.rcgen()?;
                let chain = AwsShapedChain::build(&ca_cert, &ca_key, leaf, &leaf_key, &other_key)?;
                // The Certificate message (~5.5 KiB) must arrive in one record: mbedTLS 2.28
                // cannot reassemble a handshake message from several records. Up to 8 KiB of
                // content per record, the firmware's receive buffer.
                (chain, 8192 + 5)
            }
        };
        let leaf_pem: String = chain
            .iter()
            .map(|der| pem_block("CERTIFICATE", der))
            .collect();

        let provider = deterministic_provider(seed, 2);
        let certified = CertifiedKey::new(
            chain.into_iter().map(CertificateDer::from).collect(),
            leaf_sign,
        );
        let mut cfg = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .context("TLS versions")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(OneCert(Arc::new(certified))));
        // Small devices cannot use tickets; no need to send them.
        cfg.send_tls13_tickets = 0;
        // TLS 1.2 resumption by session id, as DynamoDB's endpoints offer: the firmware offers
        // its last session on a reconnect. Stays deterministic: the ids come from the seeded
        // provider's random source, and the cache evicts the oldest entry, not a random one.
        cfg.session_storage = ServerSessionMemoryCache::new(1024);
        cfg.max_fragment_size = Some(max_fragment);
        Ok(Identity {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().to_vec(),
            leaf_pem,
            leaf_key_pem,
            server_config: Arc::new(cfg),
        })
    }
}

/// An RSA chain shaped like the one DynamoDB's endpoints send (e.g.
/// `dynamodb.us-east-1.amazonaws.com`): the server certificate, the issuing intermediate
/// ("Amazon RSA 2048 M0x"), the root the device trusts cross-signed by an older root ("Amazon
/// Root CA 1" by "Starfield Services Root G2"), and that older root cross-signed in turn
/// ("Starfield Class 2"), about 5.5 KiB in all. What a device needs RAM for while it verifies:
/// four RSA-2048 certificates of their real sizes, parsed, of which only the first two are
/// checked (the path ends at the root in the device's configuration). The extensions that make
/// real certificates long (SCT lists, CRL and AIA URLs, policies) are stood in for by one
/// non-critical extension of filler (`PADDING_OID`), which verifiers skip.
struct AwsShapedChain;

/// The documentation enterprise arc (RFC 5612): filler that no verifier interprets.
const PADDING_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 32473, 1];

/// Sizes (DER bytes) of the certificates of the chain, as AWS's are: a server certificate with
/// its host names and SCTs, then three CA certificates.
const AWS_LEAF_BYTES: usize = 2000;
const AWS_INTERMEDIATE_BYTES: usize = 1200;
const AWS_CROSS_ROOT_BYTES: usize = 1150;
const AWS_CROSS_OLDER_ROOT_BYTES: usize = 1150;

impl AwsShapedChain {
    /// The chain, server certificate first (DER each). `ca_cert`/`ca_key` are the root
    /// the devices trust, `leaf`/`leaf_key` the server certificate's parameters and key;
    /// `other_key` signs and carries the certificates that are never checked (and the
    /// intermediate: a fourth key would only cost key-generation time). Validity: the root's.
    fn build(
        ca_cert: &rcgen::Certificate,
        ca_key: &KeyPair,
        leaf: CertificateParams,
        leaf_key: &KeyPair,
        other_key: &KeyPair,
    ) -> anyhow::Result<Vec<Vec<u8>>> {
        let ca = ca_cert.params();
        let ca_named = |cn: &str, path_len: Option<u8>| -> anyhow::Result<CertificateParams> {
            let mut p = CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
            p.distinguished_name.push(DnType::CommonName, cn);
            p.distinguished_name
                .push(DnType::OrganizationName, "ft900-sim");
            p.distinguished_name.push(DnType::CountryName, "US");
            p.is_ca = IsCa::Ca(match path_len {
                Some(n) => BasicConstraints::Constrained(n),
                None => BasicConstraints::Unconstrained,
            });
            p.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
            ];
            p.not_before = ca.not_before;
            p.not_after = ca.not_after;
            Ok(p)
        };

        // The intermediate, signed by the trusted root; it signs the server certificate.
        let mut int_params = ca_named("ft900-sim test RSA 2048 M01", Some(0))?;
        int_params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let int_params = padded(int_params, AWS_INTERMEDIATE_BYTES, |p| {
            p.signed_by(other_key, ca_cert, ca_key)
        })?;
        let intermediate = int_params
            .clone()
            .signed_by(other_key, ca_cert, ca_key)
            .context("signing the intermediate")?;
        let leaf = padded(leaf, AWS_LEAF_BYTES, |p| {
            p.signed_by(leaf_key, &intermediate, other_key)
        })?
        .signed_by(leaf_key, &intermediate, other_key)
        .context("signing the server certificate")?;

        // The older roots: never checked by the device, only carried and parsed.
        let older = ca_named("ft900-sim test Services Root G2", None)?
            .self_signed(other_key)
            .context("the older root")?;
        let oldest = ca_named("ft900-sim test Class 2 Root", None)?
            .self_signed(other_key)
            .context("the oldest root")?;
        let cross_root = padded(ca.clone(), AWS_CROSS_ROOT_BYTES, |p| {
            p.signed_by(ca_key, &older, other_key)
        })?
        .signed_by(ca_key, &older, other_key)
        .context("cross-signing the root")?;
        let cross_older = padded(older.params().clone(), AWS_CROSS_OLDER_ROOT_BYTES, |p| {
            p.signed_by(other_key, &oldest, other_key)
        })?
        .signed_by(other_key, &oldest, other_key)
        .context("cross-signing the older root")?;

        Ok([leaf, intermediate, cross_root, cross_older]
            .iter()
            .map(|c| c.der().to_vec())
            .collect())
    }
}

/// `params` with a filler extension that makes the certificate `sign` produces `target` bytes
/// long (or as close as the DER length fields allow; never shorter than without filler).
fn padded(
    params: CertificateParams,
    target: usize,
    sign: impl Fn(CertificateParams) -> Result<rcgen::Certificate, rcgen::Error>,
) -> anyhow::Result<CertificateParams> {
    let base = sign(params.clone())
        .context("sizing a certificate")?
        .der()
        .len();
    let mut filler = target.saturating_sub(base);
    let mut best = params.clone();
    // The extension's own header and the length fields it grows take a few bytes: converge.
    for _ in 0..4 {
        if filler == 0 {
            break;
        }
        let mut p = params.clone();
        let content = der_octet_string(&vec![0x5a; filler]);
        p.custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                PADDING_OID,
                content,
            ));
        let len = sign(p.clone()).context("sizing a certificate")?.der().len();
        best = p;
        if len == target {
            break;
        }
        filler = (filler + target).saturating_sub(len).max(1);
    }
    Ok(best)
}

/// `bytes` as a DER OCTET STRING.
fn der_octet_string(bytes: &[u8]) -> Vec<u8> {
    let n = bytes.len();
    let mut out = vec![0x04];
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let len = n.to_be_bytes();
        let skip = len.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (len.len() - skip) as u8);
        out.extend_from_slice(&len[skip..]);
    }
    out.extend_from_slice(bytes);
    out
}

/// A certificate key of either kind, from the seeded stream.
enum Key {
    P256(P256Key),
    Rsa(Vec<u8>),
}

impl Key {
    fn generate(keys: &SeededRng, kind: ServerKey) -> anyhow::Result<Key> {
        Ok(match kind {
            ServerKey::EcdsaP256 => Key::P256(keys.p256_key()),
            ServerKey::Rsa2048 => Key::Rsa(keys.rsa2048_pkcs8().context("generating an RSA key")?),
        })
    }

    fn pkcs8_der(&self) -> anyhow::Result<Vec<u8>> {
        match self {
            Key::P256(k) => k.pkcs8_der(),
            Key::Rsa(der) => Ok(der.clone()),
        }
    }

    fn rcgen(&self) -> anyhow::Result<KeyPair> {
        Ok(match self {
            Key::P256(k) => KeyPair::from_remote(Box::new(k.clone()))?,
            Key::Rsa(der) => KeyPair::from_pkcs8_der_and_sign_algo(
                &PrivatePkcs8KeyDer::from(der.as_slice()),
                &rcgen::PKCS_RSA_SHA256,
            )?,
        })
    }

    fn signer(&self) -> anyhow::Result<Arc<dyn rustls::sign::SigningKey>> {
        Ok(match self {
            Key::P256(k) => Arc::new(k.clone()),
            Key::Rsa(der) => {
                let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.clone()));
                Arc::new(DeterministicRsa(
                    rustls::crypto::ring::sign::any_supported_type(&key)?,
                ))
            }
        })
    }
}

/// `-----BEGIN LABEL-----`, base64 in lines of 64, `-----END LABEL-----`.
fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Always the one certificate, whatever name the client asks for (a client checking names
/// refuses a wrong one itself, as it would with the real service).
#[derive(Debug)]
struct OneCert(Arc<CertifiedKey>);

impl ResolvesServerCert for OneCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Most request bytes held beyond what the HTTP parser buffers (pipelined requests).
const MAX_PENDING_PLAINTEXT: usize = 1024 * 1024;

/// One connection: optional TLS in front of an HTTP session.
pub(crate) struct Conn {
    ep: Endpoint,
    tls: Option<ServerConnection>,
    session: Session,
    /// Plaintext bytes read but not yet taken by the session.
    plain_in: Vec<u8>,
    /// The response being sent: plaintext not yet taken by rustls (whose send buffer is
    /// capped, so a slow reader holds at most this one response here), or plain-HTTP bytes
    /// not yet sent. The next response leaves the session only once this is empty.
    out: Vec<u8>,
    /// How much of `out` has been handed on.
    out_pos: usize,
    failed: bool,
    close_notify_sent: bool,
    /// The endpoint's restart generation when this connection was accepted.
    generation: usize,
    /// A restart has happened since: everything is dropped and the connection is reset.
    dead: bool,
    /// The completed handshake was counted (full or resumed).
    handshake_counted: bool,
}

impl Conn {
    /// A connection accepted at virtual time `now`.
    pub fn new(ep: Endpoint, tls: bool, now: Nanos) -> anyhow::Result<Conn> {
        let tls = if tls {
            Some(ServerConnection::new(ep.server_config()).context("TLS connection")?)
        } else {
            None
        };
        Ok(Conn {
            generation: ep.generation(now),
            dead: false,
            handshake_counted: false,
            ep,
            tls,
            session: Session::default(),
            plain_in: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            failed: false,
            close_notify_sent: false,
        })
    }

    /// Whether the endpoint has restarted since this connection was accepted; the first time
    /// it notices, the connection forgets its TLS state, requests and unsent responses.
    fn restarted(&mut self, now: Nanos) -> bool {
        if !self.dead && self.ep.generation(now) > self.generation {
            tracing::debug!(target: "dynamodb", now, "connection reset by an endpoint restart");
            self.dead = true;
            self.tls = None;
            self.session = Session::default();
            self.plain_in = Vec::new();
            self.out = Vec::new();
            self.out_pos = 0;
        }
        self.dead
    }

    fn feed_session(&mut self, now: Nanos) {
        let n = self.session.on_data(now, &self.plain_in, &self.ep);
        self.plain_in.drain(..n);
    }

    /// Moves response bytes into the TLS writer as far as rustls takes them (its buffer is
    /// capped at 64 KiB; `write` takes what fits and the rest waits in `out`), takes the next
    /// due response from the session once the current one is handed on, and lets the session
    /// handle requests it held back while responses were queued.
    fn pump(&mut self, now: Nanos) {
        loop {
            if let Some(tls) = self.tls.as_mut() {
                while self.out_pos < self.out.len() {
                    match tls.writer().write(&self.out[self.out_pos..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => self.out_pos += n,
                    }
                }
                if self.out_pos == self.out.len() {
                    self.out.clear();
                    self.out_pos = 0;
                }
            }
            if !self.out.is_empty() {
                break;
            }
            if let Some(bytes) = self.session.take_ready(now) {
                self.out = bytes;
                self.out_pos = 0;
                continue;
            }
            if self.session.has_pending()
                || (self.plain_in.is_empty() && !self.session.has_buffered_requests())
            {
                break;
            }
            // The queue drained: handle requests that were held back.
            let n = self.session.on_data(now, &self.plain_in, &self.ep);
            self.plain_in.drain(..n);
            if !self.session.has_pending() {
                break;
            }
        }
        if self.out.is_empty() && self.session.done() && !self.close_notify_sent {
            if let Some(tls) = self.tls.as_mut() {
                tls.send_close_notify();
            }
            self.close_notify_sent = true;
        }
    }

    /// What the connection is partway through reading (the TLS handshake, a request head or
    /// body), for `serve`'s timeouts.
    pub(crate) fn reading(&self) -> Option<super::http::Reading> {
        if self.tls.as_ref().is_some_and(|t| t.is_handshaking()) {
            return Some(super::http::Reading::Handshake);
        }
        self.session.reading()
    }

    fn output_pending(&self) -> bool {
        !self.out.is_empty() || self.tls.as_ref().is_some_and(|t| t.wants_write())
    }
}

impl StreamService for Conn {
    fn on_data(&mut self, now: Nanos, data: &[u8]) -> usize {
        if self.failed || self.restarted(now) {
            return data.len();
        }
        let Some(tls) = self.tls.as_mut() else {
            // Back-pressure: a peer that pipelines faster than it reads waits in TCP.
            let take = data
                .len()
                .min(MAX_PENDING_PLAINTEXT.saturating_sub(self.plain_in.len()));
            self.plain_in.extend_from_slice(&data[..take]);
            self.feed_session(now);
            self.pump(now);
            return take;
        };
        let mut used = 0;
        while used < data.len() && self.plain_in.len() < MAX_PENDING_PLAINTEXT {
            let mut rd = &data[used..];
            match tls.read_tls(&mut rd) {
                Ok(0) | Err(_) => break,
                Ok(n) => used += n,
            }
            if let Err(e) = tls.process_new_packets() {
                // rustls queued an alert; it goes out, then the connection closes.
                self.failed = true;
                self.ep.note_tls_error(now, e.to_string());
                return data.len();
            }
            if !self.handshake_counted && !tls.is_handshaking() {
                self.handshake_counted = true;
                self.ep
                    .note_handshake(tls.handshake_kind() == Some(HandshakeKind::Resumed));
            }
            let mut buf = [0u8; 4096];
            loop {
                match tls.reader().read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => self.plain_in.extend_from_slice(&buf[..n]),
                    Err(_) => break,
                }
            }
        }
        self.feed_session(now);
        self.pump(now);
        used
    }

    fn on_eof(&mut self, now: Nanos) {
        if self.restarted(now) {
            return;
        }
        self.session.on_eof();
        self.pump(now);
    }

    fn poll_output(&mut self, now: Nanos, buf: &mut [u8]) -> usize {
        if self.restarted(now) {
            return 0;
        }
        self.pump(now);
        match self.tls.as_mut() {
            Some(tls) => {
                let mut w = &mut buf[..];
                let n = tls.write_tls(&mut w).unwrap_or(0);
                if n > 0 && !self.out.is_empty() {
                    // rustls has room again: hand it more of the response.
                    self.pump(now);
                }
                n
            }
            None => {
                let rest = &self.out[self.out_pos..];
                let n = buf.len().min(rest.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.out_pos += n;
                if self.out_pos == self.out.len() {
                    self.out.clear();
                    self.out_pos = 0;
                    // The next response, if one is due.
                    self.pump(now);
                }
                n
            }
        }
    }

    fn next_wakeup(&self) -> Option<Nanos> {
        if self.dead {
            return None;
        }
        // Polled at the next restart too, so that an idle connection is reset on time.
        match (
            self.session.next_wakeup(),
            self.ep.death_of(self.generation),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn state(&self) -> StreamState {
        if self.dead {
            return StreamState::Abort;
        }
        if self.output_pending() {
            return StreamState::Open;
        }
        if self.session.reset_after_flush {
            StreamState::Abort
        } else if self.failed || (self.session.done() && self.close_notify_sent) {
            StreamState::Close
        } else {
            StreamState::Open
        }
    }

    fn on_closed(&mut self, _now: Nanos, _reason: CloseReason) {}
}

pub(crate) fn factory(ep: Endpoint, tls: bool) -> Arc<dyn StreamServiceFactory> {
    Arc::new(move |now: Nanos, _flow: &FlowInfo| {
        if ep.is_down(now) {
            // The process is not back yet: nobody listens, the SYN gets RST.
            tracing::debug!(target: "dynamodb", now, "connection refused: endpoint down");
            return None;
        }
        match Conn::new(ep.clone(), tls, now) {
            Ok(c) => Some(Box::new(c) as Box<dyn StreamService>),
            Err(e) => {
                ep.note_tls_error(now, format!("{e:#}"));
                None
            }
        }
    })
}
