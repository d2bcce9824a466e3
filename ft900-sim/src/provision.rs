//! The device configuration block in flash, written at load time as a factory programmer would.
//!
//! One firmware image serves every device and scenario: what differs (credentials, endpoint,
//! table, device id, CA certificates, entropy seed, MAC) lives in an 8 KiB block of program
//! memory at 0x3C000..0x3DFFF, which the firmware reads at start-up (`firmware/app/config.c`) and
//! checks with a CRC. It lies below the FT9xx SDK's data-logger partition (0x3E000..0x3EFFF) and
//! the vendor's bootloader (0x3F000..0x3FFFF), above the application image, which the linker
//! keeps below 0x3C000: reprogramming the application leaves the block in place
//! (`firmware/README.md`, "Flash layout"). Layout (little-endian), shared with the firmware:
//!
//! ```text
//! 0x3C000  "FTCF"  u16 version=1  u16 header_len=16  u32 payload_len  u32 crc32(payload)
//! 0x3C010  records: u16 tag, u16 len, value[len], zero padding to a multiple of 4;
//!          a record with tag 0 ends the payload
//! ```
//!
//! Values are bytes; numbers are decimal ASCII. Certificates are stored as DER (a PEM bundle
//! given to [`ConfigBlock::set`] becomes one record per certificate: half the flash of PEM,
//! and no base64 decoding on the chip).
//!
//! ```
//! use ft900_sim::provision::ConfigBlock;
//! let block = ConfigBlock::new()
//!     .set("aws.region", "eu-west-1")?
//!     .set("device.id", "hopper")?
//!     .set("device.readings", "3")?;
//! let bytes = block.encode()?;
//! assert_eq!(&bytes[..4], b"FTCF");
//! assert_eq!(ConfigBlock::decode(&bytes)?.get("device.id"), Some(&b"hopper"[..]));
//! # Ok::<(), ft900_sim::provision::ConfigError>(())
//! ```

use std::fmt;
use std::path::Path;

use thiserror::Error;

use crate::machine::{Machine, Profile};

/// What a key's value is, which decides how text from the command line is turned into bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text, stored as its UTF-8 bytes.
    Text,
    /// A secret: stored like text, never shown.
    Secret,
    /// A decimal number in the given inclusive range, stored as decimal ASCII.
    Number { min: u64, max: u64 },
    /// Exactly 32 bytes, given as 64 hex digits.
    Seed,
    /// A unicast MAC address, given as `02:f9:00:00:00:01`.
    Mac,
    /// One or more X.509 certificates (PEM text, or `@PATH` to a PEM or DER file); repeatable.
    Certificates,
}

/// A key of the configuration block: its CLI name, its tag in flash and its kind.
#[derive(Debug, Clone, Copy)]
struct Key {
    name: &'static str,
    tag: u16,
    kind: Kind,
    help: &'static str,
}

const KEYS: &[Key] = &[
    Key {
        name: "aws.access_key_id",
        tag: 1,
        kind: Kind::Text,
        help: "AWS access key id",
    },
    Key {
        name: "aws.secret_access_key",
        tag: 2,
        kind: Kind::Secret,
        help: "AWS secret access key",
    },
    Key {
        name: "aws.session_token",
        tag: 3,
        kind: Kind::Secret,
        help: "AWS session token (temporary credentials)",
    },
    Key {
        name: "aws.region",
        tag: 4,
        kind: Kind::Text,
        help: "AWS region, e.g. us-east-1",
    },
    Key {
        name: "endpoint.host",
        tag: 5,
        kind: Kind::Text,
        help: "DynamoDB endpoint host name",
    },
    Key {
        name: "endpoint.port",
        tag: 6,
        kind: Kind::Number { min: 1, max: 65535 },
        help: "endpoint TCP port",
    },
    Key {
        name: "dynamodb.table",
        tag: 7,
        kind: Kind::Text,
        help: "table the readings go to",
    },
    Key {
        name: "dynamodb.partition_key",
        tag: 8,
        kind: Kind::Text,
        help: "partition key attribute name",
    },
    Key {
        name: "dynamodb.sort_key",
        tag: 9,
        kind: Kind::Text,
        help: "sort key attribute name",
    },
    Key {
        name: "device.id",
        tag: 10,
        kind: Kind::Text,
        help: "device id (partition key value)",
    },
    Key {
        name: "device.period_ms",
        tag: 11,
        kind: Kind::Number {
            min: 1,
            max: u32::MAX as u64,
        },
        help: "reading period in ms",
    },
    Key {
        name: "tls.ca_cert",
        tag: 12,
        kind: Kind::Certificates,
        help: "trusted CA certificate(s): PEM text or @PATH (repeatable)",
    },
    Key {
        name: "entropy.seed",
        tag: 13,
        kind: Kind::Seed,
        help: "32-byte entropy seed, 64 hex digits",
    },
    Key {
        name: "device.mac",
        tag: 14,
        kind: Kind::Mac,
        help: "Ethernet MAC address",
    },
    Key {
        name: "device.readings",
        tag: 15,
        kind: Kind::Number {
            min: 1,
            max: u32::MAX as u64,
        },
        help: "stop after this many acknowledged readings",
    },
    Key {
        name: "ntp.server",
        tag: 16,
        kind: Kind::Text,
        help: "SNTP server name or IPv4 address",
    },
    Key {
        name: "debug.hang_after",
        tag: 31,
        kind: Kind::Number {
            min: 1,
            max: u32::MAX as u64,
        },
        help: "debug only: the main loop hangs once after this many acknowledged readings \
               (the watchdog must reset the device)",
    },
];

fn key_by_name(name: &str) -> Result<&'static Key, ConfigError> {
    KEYS.iter()
        .find(|k| k.name == name)
        .ok_or_else(|| ConfigError::UnknownKey(name.to_string()))
}

fn key_by_tag(tag: u16) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.tag == tag)
}

/// Everything that can be wrong with a configuration or a block.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The key is not one of [`ConfigBlock::keys`].
    #[error("unknown configuration key {0:?} (known: {known})", known = ConfigBlock::keys().collect::<Vec<_>>().join(", "))]
    UnknownKey(String),
    /// The value does not fit the key.
    #[error("{key}: {why}")]
    BadValue {
        /// The key.
        key: &'static str,
        /// What is wrong, with the expected form.
        why: String,
    },
    /// A `KEY=VALUE` item without `=`.
    #[error("{0:?}: expected KEY=VALUE")]
    NotKeyValue(String),
    /// A line of a configuration file is wrong.
    #[error("{file}:{line}: {source}")]
    InFile {
        /// The file.
        file: String,
        /// Its 1-based line number.
        line: usize,
        /// What is wrong.
        source: Box<ConfigError>,
    },
    /// A file named by the configuration cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The encoded block is larger than the space reserved in flash.
    #[error("the configuration block is {len} bytes, more than the {max} bytes reserved in flash")]
    TooLarge {
        /// Encoded length.
        len: usize,
        /// [`ConfigBlock::MAX_LEN`].
        max: usize,
    },
    /// Bytes that are not a valid block.
    #[error("not a valid configuration block: {0}")]
    Corrupt(&'static str),
    /// The program itself has code or data where the block goes.
    #[error("the program occupies program memory 0x{start:05x}..0x{end:05x}, which overlaps the configuration block at 0x{:05x}..0x{:05x}; link it below 0x{:05x}", ConfigBlock::ADDRESS, ConfigBlock::ADDRESS as usize + ConfigBlock::MAX_LEN, ConfigBlock::ADDRESS)]
    Overlap {
        /// Start of the overlapping segment.
        start: u32,
        /// Its end.
        end: u32,
    },
}

/// The device configuration: an ordered list of (key, value) records.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConfigBlock {
    records: Vec<(u16, Vec<u8>)>,
}

impl fmt::Debug for ConfigBlock {
    /// Lists keys and value sizes; secrets are shown as `<secret>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (tag, value) in &self.records {
            match key_by_tag(*tag) {
                Some(k) if k.kind == Kind::Secret => {
                    list.entry(&format_args!("{}=<secret>", k.name))
                }
                Some(k) => list.entry(&format_args!("{}=<{} bytes>", k.name, value.len())),
                None => list.entry(&format_args!("tag {tag}=<{} bytes>", value.len())),
            };
        }
        list.finish()
    }
}

/// Magic bytes at the start of a block.
const MAGIC: &[u8; 4] = b"FTCF";
/// Layout version the firmware understands.
const VERSION: u16 = 1;
/// Bytes before the payload.
const HEADER_LEN: usize = 16;

impl ConfigBlock {
    /// Where the block lives in program memory (the firmware's linker script keeps code below).
    pub const ADDRESS: u32 = 0x3C000;
    /// Bytes reserved for the block (up to the data-logger partition at 0x3E000).
    pub const MAX_LEN: usize = 8192;

    /// An empty configuration (the firmware uses its defaults for every key).
    pub fn new() -> ConfigBlock {
        ConfigBlock::default()
    }

    /// The names of the keys, in tag order.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        KEYS.iter().map(|k| k.name)
    }

    /// One line per key: name and what it is (for `--help`-style listings).
    pub fn key_help() -> String {
        KEYS.iter()
            .map(|k| format!("  {:<24} {}\n", k.name, k.help))
            .collect()
    }

    /// Sets `key` from its textual form (as on the command line); see [`ConfigBlock::insert`].
    pub fn set(mut self, key: &str, value: &str) -> Result<ConfigBlock, ConfigError> {
        self.insert(key, value)?;
        Ok(self)
    }

    /// Sets `key` from its textual form: text as is; numbers in decimal; `entropy.seed` as 64
    /// hex digits; `device.mac` as `xx:xx:xx:xx:xx:xx`; `tls.ca_cert` as PEM text or `@PATH`
    /// (PEM bundle or DER), which adds certificates instead of replacing them. Any other key
    /// given twice keeps the last value.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<&mut ConfigBlock, ConfigError> {
        let k = key_by_name(key)?;
        let bad = |why: String| ConfigError::BadValue { key: k.name, why };
        match k.kind {
            Kind::Text | Kind::Secret => self.replace(k.tag, value.as_bytes().to_vec()),
            Kind::Number { min, max } => {
                let n: u64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a decimal number")))?;
                if n < min || n > max {
                    return Err(bad(format!("{n} is outside {min}..={max}")));
                }
                self.replace(k.tag, n.to_string().into_bytes());
            }
            Kind::Seed => {
                let bytes = parse_hex(value.trim())
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| bad("expected 64 hex digits (32 bytes)".into()))?;
                self.replace(k.tag, bytes);
            }
            Kind::Mac => {
                let mac = parse_mac(value.trim()).ok_or_else(|| {
                    bad(format!(
                        "{value:?} is not a MAC address like 02:f9:00:00:00:01"
                    ))
                })?;
                if mac[0] & 1 != 0 {
                    return Err(bad(format!("{value} is a multicast address")));
                }
                self.replace(k.tag, mac.to_vec());
            }
            Kind::Certificates => {
                let (bytes, origin) = match value.strip_prefix('@') {
                    Some(path) => (
                        std::fs::read(path).map_err(|source| ConfigError::Io {
                            path: path.to_string(),
                            source,
                        })?,
                        path.to_string(),
                    ),
                    None => (value.as_bytes().to_vec(), "the value".to_string()),
                };
                let certs =
                    certificates_der(&bytes).map_err(|why| bad(format!("{origin}: {why}")))?;
                for der in certs {
                    self.add_certificate_der(der);
                }
            }
        }
        Ok(self)
    }

    /// Adds one DER-encoded certificate to the trusted CAs.
    pub fn add_certificate_der(&mut self, der: Vec<u8>) -> &mut ConfigBlock {
        self.records.push((12, der));
        self
    }

    /// Sets a key to raw bytes, exactly as they will be stored (no validation beyond the key).
    pub fn insert_bytes(
        &mut self,
        key: &str,
        value: &[u8],
    ) -> Result<&mut ConfigBlock, ConfigError> {
        let k = key_by_name(key)?;
        if k.kind == Kind::Certificates {
            self.records.push((k.tag, value.to_vec()));
        } else {
            self.replace(k.tag, value.to_vec());
        }
        Ok(self)
    }

    /// Applies `KEY=VALUE` items (as given to `--config`).
    pub fn insert_pair(&mut self, item: &str) -> Result<&mut ConfigBlock, ConfigError> {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| ConfigError::NotKeyValue(item.to_string()))?;
        self.insert(key.trim(), value)
    }

    /// Reads a configuration file: `KEY=VALUE` lines, `#` comments and blank lines ignored;
    /// `@PATH` values are relative to the file's directory.
    pub fn insert_file(&mut self, path: &Path) -> Result<&mut ConfigBlock, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let in_file = |source| ConfigError::InFile {
                file: path.display().to_string(),
                line: index + 1,
                source: Box::new(source),
            };
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| in_file(ConfigError::NotKeyValue(line.to_string())))?;
            let value = value.trim();
            let value = match value.strip_prefix('@') {
                Some(rel) if Path::new(rel).is_relative() => {
                    format!("@{}", dir.join(rel).display())
                }
                _ => value.to_string(),
            };
            self.insert(key.trim(), &value).map_err(in_file)?;
        }
        Ok(self)
    }

    /// The value of `key` (the first one for certificates).
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        let tag = key_by_name(key).ok()?.tag;
        self.records
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of `key`, in order (several for `tls.ca_cert`).
    pub fn get_all<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
        let tag = key_by_name(key).map(|k| k.tag).unwrap_or(0);
        self.records
            .iter()
            .filter(move |(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The keys set, in order, with their value sizes and secrets masked: safe to log.
    pub fn summary(&self) -> String {
        format!("{self:?}")
    }

    fn replace(&mut self, tag: u16, value: Vec<u8>) {
        self.records.retain(|(t, _)| *t != tag);
        self.records.push((tag, value));
    }

    /// The block's bytes as they go into flash.
    pub fn encode(&self) -> Result<Vec<u8>, ConfigError> {
        let mut payload = Vec::new();
        for (tag, value) in &self.records {
            let len = u16::try_from(value.len()).map_err(|_| ConfigError::TooLarge {
                len: value.len(),
                max: Self::MAX_LEN,
            })?;
            payload.extend_from_slice(&tag.to_le_bytes());
            payload.extend_from_slice(&len.to_le_bytes());
            payload.extend_from_slice(value);
            payload.resize(payload.len().next_multiple_of(4), 0);
        }
        payload.extend_from_slice(&[0, 0, 0, 0]); // tag 0, length 0: the end
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        if out.len() > Self::MAX_LEN {
            return Err(ConfigError::TooLarge {
                len: out.len(),
                max: Self::MAX_LEN,
            });
        }
        Ok(out)
    }

    /// Parses and checks a block (e.g. read back from flash); the inverse of [`encode`](Self::encode).
    pub fn decode(bytes: &[u8]) -> Result<ConfigBlock, ConfigError> {
        let corrupt = ConfigError::Corrupt;
        if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC {
            return Err(corrupt("no FTCF magic"));
        }
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        if u16_at(4) != VERSION {
            return Err(corrupt("unknown version"));
        }
        let header_len = u16_at(6) as usize;
        let payload_len = u32_at(8) as usize;
        if header_len < HEADER_LEN || header_len + payload_len > bytes.len().min(Self::MAX_LEN) {
            return Err(corrupt("bad length"));
        }
        let payload = &bytes[header_len..header_len + payload_len];
        if crc32(payload) != u32_at(12) {
            return Err(corrupt("bad CRC"));
        }
        let mut records = Vec::new();
        let mut at = 0;
        loop {
            if at + 4 > payload.len() {
                return Err(corrupt("no end record"));
            }
            let tag = u16::from_le_bytes([payload[at], payload[at + 1]]);
            let len = u16::from_le_bytes([payload[at + 2], payload[at + 3]]) as usize;
            if tag == 0 {
                break;
            }
            let value = payload
                .get(at + 4..at + 4 + len)
                .ok_or(corrupt("record runs past the payload"))?;
            records.push((tag, value.to_vec()));
            at = (at + 4 + len).next_multiple_of(4);
        }
        Ok(ConfigBlock { records })
    }
}

/// Writes an encoded block into program memory at [`ConfigBlock::ADDRESS`], as a factory
/// programmer would, after checking that the loaded program does not use that space (it must
/// be erased: all 0x00 as the simulator maps it, or 0xFF as erased flash reads).
pub fn write_into<P: Profile>(
    machine: &mut Machine<P>,
    block: &ConfigBlock,
) -> Result<usize, ConfigError> {
    let bytes = block.encode()?;
    let start = ConfigBlock::ADDRESS as usize;
    let region = machine
        .core
        .pm()
        .get(start..start + ConfigBlock::MAX_LEN)
        .ok_or(ConfigError::Corrupt(
            "program memory is smaller than 256 KiB",
        ))?;
    if let Some(first) = region.iter().position(|&b| b != 0 && b != 0xFF) {
        let last = region
            .iter()
            .rposition(|&b| b != 0 && b != 0xFF)
            .unwrap_or(first);
        return Err(ConfigError::Overlap {
            start: (start + first) as u32,
            end: (start + last + 1) as u32,
        });
    }
    // Erase the whole region first (0xFF, as flash), so that nothing stale follows the block.
    let mut image = vec![0xFF; ConfigBlock::MAX_LEN];
    image[..bytes.len()].copy_from_slice(&bytes);
    if !machine.core.pm_write(ConfigBlock::ADDRESS, &image) {
        return Err(ConfigError::Corrupt(
            "program memory is smaller than 256 KiB",
        ));
    }
    Ok(bytes.len())
}

/// CRC-32 (IEEE 802.3, as zlib): what the firmware checks (the same CRC as the Ethernet FCS).
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// The certificates in `bytes`: every `CERTIFICATE` of a PEM text, or the bytes themselves if
/// they are DER (an ASN.1 SEQUENCE).
fn certificates_der(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "neither PEM text nor DER".to_string())?;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let end = body.find(END).ok_or("a PEM certificate has no END line")?;
        certs.push(base64_decode(&body[..end]).ok_or("bad base64 in a PEM certificate")?);
        rest = &body[end + END.len()..];
    }
    if certs.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) found".into());
    }
    Ok(certs)
}

/// Standard base64 with padding, whitespace ignored.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut padding = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => return None,
        };
        if padding > 0 {
            return None; // data after padding
        }
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (padding <= 2 && !out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn encode_lays_out_header_records_padding_and_end() {
        let block = ConfigBlock::new().set("device.id", "knuth").unwrap();
        let bytes = block.encode().unwrap();
        assert_eq!(&bytes[..4], b"FTCF");
        assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 1);
        assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), 16);
        // record: tag 10, len 5, "knuth", 3 bytes padding; end record: 4 bytes
        let payload: &[u8] = &[
            10, 0, 5, 0, b'k', b'n', b'u', b't', b'h', 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 16);
        assert_eq!(
            u32::from_le_bytes(bytes[12..16].try_into().unwrap()),
            crc32(payload)
        );
        assert_eq!(&bytes[16..], payload);
    }

    #[test]
    fn round_trip_keeps_every_record_and_order() {
        let block = ConfigBlock::new()
            .set("aws.access_key_id", "AKIDEXAMPLE")
            .unwrap()
            .set(
                "aws.secret_access_key",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            )
            .unwrap()
            .set("endpoint.port", "443")
            .unwrap()
            .set("device.mac", "02:f9:00:00:00:07")
            .unwrap()
            .set("entropy.seed", &"ab".repeat(32))
            .unwrap();
        let back = ConfigBlock::decode(&block.encode().unwrap()).unwrap();
        assert_eq!(back, block);
        assert_eq!(back.get("device.mac"), Some(&[2, 0xf9, 0, 0, 0, 7][..]));
        assert_eq!(back.get("entropy.seed").unwrap(), &[0xab; 32][..]);
        assert_eq!(back.get("endpoint.port"), Some(&b"443"[..]));
    }

    #[test]
    fn later_values_replace_earlier_ones_but_certificates_accumulate() {
        let mut block = ConfigBlock::new();
        block.insert("aws.region", "us-east-1").unwrap();
        block.insert("aws.region", "eu-west-1").unwrap();
        block.insert_bytes("tls.ca_cert", &[0x30, 1]).unwrap();
        block.insert_bytes("tls.ca_cert", &[0x30, 2]).unwrap();
        assert_eq!(block.get("aws.region"), Some(&b"eu-west-1"[..]));
        assert_eq!(block.get_all("tls.ca_cert").count(), 2);
    }

    #[test]
    fn pem_bundles_become_one_der_record_per_certificate() {
        // Two tiny "certificates" (the provisioning does not parse X.509; the firmware does).
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nMAEC\n-----END CERTIFICATE-----\n\
                   -----BEGIN CERTIFICATE-----\nMAIDBA==\n-----END CERTIFICATE-----\n";
        let block = ConfigBlock::new().set("tls.ca_cert", pem).unwrap();
        let certs: Vec<&[u8]> = block.get_all("tls.ca_cert").collect();
        assert_eq!(
            certs,
            vec![&[0x30, 0x01, 0x02][..], &[0x30, 0x02, 0x03, 0x04][..]]
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        let err = |k, v| ConfigBlock::new().set(k, v).unwrap_err().to_string();
        assert!(err("endpoint.port", "0").contains("endpoint.port: 0 is outside 1..=65535"));
        assert!(err("endpoint.port", "https").contains("not a decimal number"));
        assert!(err("entropy.seed", "abcd").contains("64 hex digits"));
        assert!(err("device.mac", "01:00:5e:00:00:01").contains("multicast"));
        assert!(err("device.mac", "02:00").contains("not a MAC address"));
        assert!(err("tls.ca_cert", "hello").contains("no PEM certificate"));
        assert!(err("aws.regoin", "x").contains("unknown configuration key \"aws.regoin\""));
        assert!(matches!(
            ConfigBlock::new().insert_pair("aws.region").unwrap_err(),
            ConfigError::NotKeyValue(_)
        ));
    }

    #[test]
    fn decode_rejects_damage() {
        let good = ConfigBlock::new()
            .set("device.id", "turing")
            .unwrap()
            .encode()
            .unwrap();
        let mut flipped = good.clone();
        flipped[20] ^= 1;
        assert!(ConfigBlock::decode(&flipped)
            .unwrap_err()
            .to_string()
            .contains("bad CRC"));
        assert!(ConfigBlock::decode(&good[..good.len() - 1])
            .unwrap_err()
            .to_string()
            .contains("bad length"));
        assert!(ConfigBlock::decode(&[0xFF; 64])
            .unwrap_err()
            .to_string()
            .contains("magic"));
    }

    #[test]
    fn too_large_blocks_are_refused() {
        let mut block = ConfigBlock::new();
        block
            .insert_bytes("tls.ca_cert", &vec![0x30; 5000])
            .unwrap();
        block
            .insert_bytes("tls.ca_cert", &vec![0x30; 5000])
            .unwrap();
        assert!(matches!(block.encode(), Err(ConfigError::TooLarge { .. })));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let block = ConfigBlock::new()
            .set("aws.secret_access_key", "SECRETSECRET")
            .unwrap()
            .set("aws.session_token", "TOKENTOKEN")
            .unwrap();
        let shown = block.summary();
        assert!(
            !shown.contains("SECRET") && !shown.contains("TOKEN"),
            "{shown}"
        );
        assert!(shown.contains("aws.secret_access_key=<secret>"));
    }

    #[test]
    fn write_into_places_the_block_in_erased_flash_and_refuses_overlap() {
        use crate::profile::gdbsim::GdbSim;
        let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(std::io::sink())));
        let block = ConfigBlock::new().set("device.id", "hopper").unwrap();
        let len = write_into(&mut m, &block).unwrap();
        let at = ConfigBlock::ADDRESS as usize;
        let pm = m.core.pm();
        assert_eq!(ConfigBlock::decode(&pm[at..at + len]).unwrap(), block);
        assert!(pm[at + len..at + ConfigBlock::MAX_LEN]
            .iter()
            .all(|&b| b == 0xFF));
        // Provisioning again over an old block is fine only if the region is erased first:
        // a program word inside the region is an overlap.
        let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(std::io::sink())));
        let inside = ConfigBlock::ADDRESS + 0x100;
        assert!(m.core.pm_write(inside, &[0x12, 0x34, 0x56, 0x78]));
        let err = write_into(&mut m, &block).unwrap_err().to_string();
        let range = format!("{:#x}..{:#x}", inside, inside + 4);
        assert!(err.contains(&range), "{err}");
    }

    #[test]
    fn config_files_resolve_paths_and_name_the_bad_line() {
        let dir = std::env::temp_dir().join(format!("ft9-provision-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.der"), [0x30, 0x03, 1, 2, 3]).unwrap();
        std::fs::write(
            dir.join("device.conf"),
            "# hopper\naws.region = eu-west-1\ntls.ca_cert=@ca.der\n\ndevice.id=hopper\n",
        )
        .unwrap();
        let mut block = ConfigBlock::new();
        block.insert_file(&dir.join("device.conf")).unwrap();
        assert_eq!(block.get("aws.region"), Some(&b"eu-west-1"[..]));
        assert_eq!(block.get("tls.ca_cert"), Some(&[0x30, 0x03, 1, 2, 3][..]));
        std::fs::write(dir.join("bad.conf"), "device.id=x\nendpoint.port=99999\n").unwrap();
        let err = ConfigBlock::new()
            .insert_file(&dir.join("bad.conf"))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("bad.conf:2: endpoint.port: 99999 is outside 1..=65535"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
