//! Deterministic TLS crypto for the endpoint: every random choice (keys, TLS randoms, ECDHE
//! shares) comes from a ChaCha20 stream seeded by the scenario's seed, and ECDSA signatures
//! use RFC 6979 nonces. Same seed and same client bytes ⇒ the same server bytes, so a
//! simulated run (pcap, cycle counts) replays exactly. A test endpoint needs no secrecy.

use std::sync::{Arc, Mutex};

use p256::ecdsa::signature::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rustls::crypto::{
    ActiveKeyExchange, CryptoProvider, GetRandomFailed, SecureRandom, SharedSecret,
    SupportedKxGroup,
};
use rustls::{NamedGroup, SignatureAlgorithm, SignatureScheme};

type Rng = Arc<Mutex<ChaCha20Rng>>;

fn lock(rng: &Rng) -> std::sync::MutexGuard<'_, ChaCha20Rng> {
    rng.lock().unwrap_or_else(|p| p.into_inner())
}

/// A seeded random source shared by the provider's parts.
#[derive(Debug, Clone)]
pub struct SeededRng(Rng);

impl SeededRng {
    /// A stream for `seed` (and a purpose, so that separate uses do not share bytes).
    pub fn new(seed: u64, purpose: u64) -> SeededRng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&purpose.to_le_bytes());
        SeededRng(Arc::new(Mutex::new(ChaCha20Rng::from_seed(key))))
    }

    /// A P-256 ECDSA key drawn from the stream.
    pub fn p256_key(&self) -> P256Key {
        P256Key::new(p256::ecdsa::SigningKey::random(&mut *lock(&self.0)))
    }
}

impl SecureRandom for SeededRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        lock(&self.0).fill_bytes(buf);
        Ok(())
    }
}

/// ECDHE on P-256 with ephemeral keys from the seeded stream.
#[derive(Debug)]
struct P256Kx(SeededRng);

struct P256Share {
    secret: p256::ecdh::EphemeralSecret,
    public: Vec<u8>,
}

impl SupportedKxGroup for P256Kx {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let secret = p256::ecdh::EphemeralSecret::random(&mut *lock(&self.0 .0));
        let public = p256::EncodedPoint::from(secret.public_key())
            .as_bytes()
            .to_vec();
        Ok(Box::new(P256Share { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

impl ActiveKeyExchange for P256Share {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        // Only uncompressed points are valid key shares in TLS.
        if peer.first() != Some(&4) {
            return Err(rustls::PeerMisbehaved::InvalidKeyShare.into());
        }
        let pk = p256::PublicKey::from_sec1_bytes(peer)
            .map_err(|_| rustls::Error::from(rustls::PeerMisbehaved::InvalidKeyShare))?;
        let shared = self.secret.diffie_hellman(&pk);
        Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

/// A P-256 key that signs deterministically (RFC 6979), for certificates and handshakes.
#[derive(Debug, Clone)]
pub struct P256Key {
    key: p256::ecdsa::SigningKey,
    public: Vec<u8>,
}

impl P256Key {
    fn new(key: p256::ecdsa::SigningKey) -> P256Key {
        let public = key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        P256Key { key, public }
    }

    /// The private key as PKCS#8 DER (to hand the same identity to another TLS server).
    pub fn pkcs8_der(&self) -> anyhow::Result<Vec<u8>> {
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::from(self.key.as_nonzero_scalar());
        Ok(secret.to_pkcs8_der()?.as_bytes().to_vec())
    }

    fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::Signature = self.key.sign(msg);
        sig.to_der().as_bytes().to_vec()
    }
}

impl rcgen::RemoteKeyPair for P256Key {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.sign_der(msg))
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rustls::sign::SigningKey for P256Key {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| Box::new(self.clone()) as Box<dyn rustls::sign::Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl rustls::sign::Signer for P256Key {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        Ok(self.sign_der(message))
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}

/// ring's provider with the randomness and P-256 key exchange replaced by seeded ones
/// (X25519 and P-384 stay ring's, for clients that offer nothing else). Usable for clients
/// too, to make both ends of a test handshake reproducible. Leaks two small objects per
/// call (rustls wants `'static` parts).
pub fn deterministic_provider(seed: u64, purpose: u64) -> Arc<CryptoProvider> {
    let rng = SeededRng::new(seed, purpose);
    let kx: &'static dyn SupportedKxGroup = Box::leak(Box::new(P256Kx(rng.clone())));
    let random: &'static dyn SecureRandom = Box::leak(Box::new(rng));
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(CryptoProvider {
        kx_groups: vec![
            kx,
            rustls::crypto::ring::kx_group::X25519,
            rustls::crypto::ring::kx_group::SECP384R1,
        ],
        secure_random: random,
        ..ring
    })
}

impl SeededRng {
    /// An RSA-2048 key drawn from the stream, PKCS#8 DER.
    pub fn rsa2048_pkcs8(&self) -> anyhow::Result<Vec<u8>> {
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut *lock(&self.0), 2048)?;
        Ok(key.to_pkcs8_der()?.as_bytes().to_vec())
    }
}

/// An RSA signing key that prefers PKCS#1 v1.5 whenever the peer allows it (TLS 1.2): those
/// signatures are deterministic, PSS ones are salted at random. TLS 1.3 offers only PSS.
#[derive(Debug)]
pub struct DeterministicRsa(pub Arc<dyn rustls::sign::SigningKey>);

impl rustls::sign::SigningKey for DeterministicRsa {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        let pkcs1: Vec<SignatureScheme> = offered
            .iter()
            .copied()
            .filter(|s| {
                matches!(
                    s,
                    SignatureScheme::RSA_PKCS1_SHA256
                        | SignatureScheme::RSA_PKCS1_SHA384
                        | SignatureScheme::RSA_PKCS1_SHA512
                )
            })
            .collect();
        if pkcs1.is_empty() {
            self.0.choose_scheme(offered)
        } else {
            self.0.choose_scheme(&pkcs1)
        }
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RSA
    }
}
