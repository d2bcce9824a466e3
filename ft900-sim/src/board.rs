//! Boards, declared not coded: what sits around the FT900 on a PCB, in a small TOML file (or one
//! of the built-in boards, e.g. `mm900ev1a` from `ft900-sim/boards/`).
//!
//! ```toml
//! name = "mm900ev1a"
//! description = "..."              # optional
//! chip = "ft900-revc"              # ft900-revb | ft900-revc (default ft900-revc)
//! uart0 = "stdio"                  # what is plugged into UART0 (--uart0's SPEC, or loopback)
//! uart1 = "none"
//! ethernet = "none"                # the jack: none (no cable) | loopback | user
//!
//! [[i2c]]                          # devices on the I2C master's channels
//! channel = 1                      # 0: GPIO44/45, 1: GPIO46/47 (MSC0CFG.I2C_SWOP)
//! part = "24AA02E48"               # 24AA02E48 (256 B, EUI-48 at 0xFA) | 24LC01 (128 B)
//! address = 0x50                   # 7-bit
//! eui48 = "00:04:a3:12:34:56"      # or eui48_seed = N (a locally administered address)
//! write_cycle_us = 3000            # optional
//!
//! [[led]]                          # LEDs on GPIO pins (shown by monitor io gpio, --trace gpio)
//! name = "LED1"
//! pin = 18
//! active_low = false
//! ```
//!
//! A file that does not parse, names an unknown key, or asks for something impossible (two
//! devices at one address, a pin the chip lacks) gives a [`BoardError`] that says where and
//! what, never a panic.

use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;

use crate::profile::ft900::chip::ChipRevision;
use crate::profile::ft900::gpio::{Led, PINS};
use crate::profile::ft900::i2c_eeprom::{EepromSpec, I2cEeprom};
use crate::profile::ft900::serial::SerialSpec;
use crate::profile::ft900::Ft900;

/// The boards built into the simulator: (name, TOML).
pub const BUILTIN: &[(&str, &str)] = &[("mm900ev1a", include_str!("../boards/mm900ev1a.toml"))];

/// What the Ethernet jack is plugged into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EthernetJack {
    /// No cable.
    None,
    /// A cable back into the jack.
    Loopback,
    /// The built-in user-mode gateway.
    User,
}

/// A device on the I2C bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct I2cDevice {
    /// Channel 0 or 1.
    pub channel: usize,
    /// The EEPROM.
    pub eeprom: EepromSpec,
}

/// A board, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Board {
    /// Its name.
    pub name: String,
    /// One line about it.
    pub description: Option<String>,
    /// The chip on it.
    pub chip: ChipRevision,
    /// UART0's and UART1's plugs.
    pub uarts: [SerialSpec; 2],
    /// The Ethernet jack.
    pub ethernet: EthernetJack,
    /// I2C devices.
    pub i2c: Vec<I2cDevice>,
    /// LEDs on pins.
    pub leds: Vec<Led>,
}

/// Why a board cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The file could not be read.
    #[error("board file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Neither a built-in board nor a file.
    #[error("no board {0:?}: not a built-in board ({builtins}) and no such file", builtins = builtin_names())]
    Unknown(String),
    /// Not TOML of the board's shape.
    #[error("board {origin}: {message}")]
    Syntax {
        /// Where it came from.
        origin: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// Well-formed, but impossible.
    #[error("board {origin}: {message}")]
    Invalid {
        /// Where it came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

fn builtin_names() -> String {
    BUILTIN
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoard {
    name: String,
    description: Option<String>,
    chip: Option<String>,
    uart0: Option<String>,
    uart1: Option<String>,
    ethernet: Option<String>,
    #[serde(default)]
    i2c: Vec<RawI2c>,
    #[serde(default)]
    led: Vec<RawLed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawI2c {
    channel: i64,
    part: String,
    address: i64,
    eui48: Option<String>,
    eui48_seed: Option<u64>,
    write_cycle_us: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLed {
    name: String,
    pin: i64,
    #[serde(default)]
    active_low: bool,
}

impl Board {
    /// A built-in board by name, or a board file by path.
    pub fn load(name_or_path: &str) -> Result<Board, BoardError> {
        if let Some((_, text)) = BUILTIN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name_or_path))
        {
            return Board::parse(text, name_or_path);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(BoardError::Unknown(name_or_path.to_string()));
        }
        let text = std::fs::read_to_string(path).map_err(|source| BoardError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Board::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a board description; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Board, BoardError> {
        let raw: RawBoard = toml::from_str(text).map_err(|e| BoardError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let invalid = |message: String| BoardError::Invalid {
            origin: origin.to_string(),
            message,
        };
        if raw.name.trim().is_empty() {
            return Err(invalid("`name` is empty".into()));
        }
        let chip = match &raw.chip {
            Some(c) => ChipRevision::from_str(c).map_err(|e| invalid(format!("chip: {e}")))?,
            None => ChipRevision::default(),
        };
        let uart = |v: &Option<String>, key: &str, default: SerialSpec| match v {
            Some(s) => SerialSpec::from_str(s).map_err(|e| invalid(format!("{key}: {e}"))),
            None => Ok(default),
        };
        let uarts = [
            uart(&raw.uart0, "uart0", SerialSpec::Stdio)?,
            uart(&raw.uart1, "uart1", SerialSpec::None)?,
        ];
        let ethernet = match raw.ethernet.as_deref() {
            None | Some("none") => EthernetJack::None,
            Some("loopback") => EthernetJack::Loopback,
            Some("user") => EthernetJack::User,
            Some(other) => {
                return Err(invalid(format!(
                    "ethernet: {other:?}: expected none, loopback or user (a host TAP is chosen \
                     on the command line with --net tap:NAME)"
                )))
            }
        };
        let mut i2c = Vec::new();
        for (k, d) in raw.i2c.iter().enumerate() {
            let dev = i2c_device(d).map_err(|m| invalid(format!("i2c device {}: {m}", k + 1)))?;
            if let Some(other) = i2c.iter().position(|o: &I2cDevice| {
                o.channel == dev.channel && o.eeprom.address == dev.eeprom.address
            }) {
                return Err(invalid(format!(
                    "i2c devices {} and {} both answer at {:#04x} on channel {}",
                    other + 1,
                    k + 1,
                    dev.eeprom.address,
                    dev.channel
                )));
            }
            i2c.push(dev);
        }
        let mut leds: Vec<Led> = Vec::new();
        for (k, l) in raw.led.iter().enumerate() {
            if l.name.trim().is_empty() {
                return Err(invalid(format!("led {}: `name` is empty", k + 1)));
            }
            let pin = u8::try_from(l.pin)
                .ok()
                .filter(|&p| usize::from(p) < PINS)
                .ok_or_else(|| {
                    invalid(format!(
                        "led {:?}: pin {} does not exist (GPIO0..GPIO{})",
                        l.name,
                        l.pin,
                        PINS - 1
                    ))
                })?;
            if let Some(o) = leds.iter().find(|o| o.pin == pin) {
                return Err(invalid(format!(
                    "leds {:?} and {:?} are both on pin {pin}",
                    o.name, l.name
                )));
            }
            leds.push(Led {
                name: l.name.clone(),
                pin,
                active_low: l.active_low,
            });
        }
        Ok(Board {
            name: raw.name,
            description: raw.description,
            chip,
            uarts,
            ethernet,
            i2c,
            leds,
        })
    }

    /// Puts the board's I2C devices and LEDs around `chip` (whose revision should be
    /// [`Board::chip`]; UART plugs and the Ethernet jack are the caller's, who may override
    /// them).
    pub fn attach(&self, chip: &mut Ft900) {
        for d in &self.i2c {
            chip.i2cm
                .buses_mut()
                .attach(d.channel, Box::new(I2cEeprom::new(d.eeprom.clone())));
        }
        chip.gpio.set_leds(self.leds.clone());
    }

    /// One line per part, for the start of a run with `chip` (the board's unless overridden).
    pub fn summary(&self, chip: ChipRevision) -> Vec<String> {
        let mut lines = vec![format!(
            "board {}: {}{}",
            self.name,
            chip,
            self.description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )];
        for d in &self.i2c {
            let eeprom = I2cEeprom::new(d.eeprom.clone());
            use crate::profile::ft900::i2c_bus::I2cTarget;
            lines.push(format!(
                "  i2c channel {}: {}",
                d.channel,
                eeprom.describe()
            ));
        }
        for l in &self.leds {
            lines.push(format!(
                "  led {} on gpio{}{}",
                l.name,
                l.pin,
                if l.active_low { " (active low)" } else { "" }
            ));
        }
        lines
    }
}

fn i2c_device(d: &RawI2c) -> Result<I2cDevice, String> {
    let channel = match d.channel {
        0 => 0,
        1 => 1,
        n => {
            return Err(format!(
                "channel {n}: the FT900's I2C master has channels 0 and 1"
            ))
        }
    };
    let address = u8::try_from(d.address)
        .ok()
        .filter(|a| (0x08..0x78).contains(a))
        .ok_or_else(|| {
            format!(
                "address {:#x}: expected a 7-bit address 0x08..0x77 (0x00-0x07 and 0x78-0x7f are reserved)",
                d.address
            )
        })?;
    let mut spec = match d.part.to_ascii_uppercase().as_str() {
        "24AA02E48" => {
            let eui = match (&d.eui48, d.eui48_seed) {
                (Some(_), Some(_)) => {
                    return Err("give eui48 or eui48_seed, not both".into());
                }
                (Some(text), None) => parse_eui48(text)?,
                (None, seed) => eui48_from_seed(seed.unwrap_or(0)),
            };
            EepromSpec::eui48_part(address, eui)
        }
        "24LC01" => {
            if d.eui48.is_some() || d.eui48_seed.is_some() {
                return Err("a 24LC01 holds no EUI-48".into());
            }
            EepromSpec {
                part: "24LC01".into(),
                address,
                size: 128,
                page: 8,
                protected: None,
                eui48: None,
                write_cycle_ns: 3_000_000,
            }
        }
        other => {
            return Err(format!(
            "part {other:?}: expected 24AA02E48 (256 bytes, EUI-48 at 0xFA) or 24LC01 (128 bytes)"
        ))
        }
    };
    if let Some(us) = d.write_cycle_us {
        if us > 1_000_000 {
            return Err(format!("write_cycle_us {us}: at most 1000000 (1 s)"));
        }
        spec.write_cycle_ns = us * 1_000;
    }
    Ok(I2cDevice {
        channel,
        eeprom: spec,
    })
}

/// `00:04:a3:12:34:56` (or with `-`).
pub fn parse_eui48(text: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    let bad = || format!("eui48 {text:?}: expected six hex bytes, e.g. 00:04:a3:12:34:56");
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(&parts) {
        if p.len() != 2 {
            return Err(bad());
        }
        *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    if out[0] & 1 != 0 {
        return Err(format!(
            "eui48 {text:?}: a group address (first byte odd) is no MAC"
        ));
    }
    Ok(out)
}

/// A locally administered unicast EUI-48 from `seed` (SplitMix64), so that simulated boards
/// never collide with real hardware's addresses.
pub fn eui48_from_seed(seed: u64) -> [u8; 6] {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let b = z.to_le_bytes();
    [(b[0] & 0xFC) | 0x02, b[1], b[2], b[3], b[4], b[5]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Board::parse(text, "test.toml").unwrap_err().to_string()
    }

    #[test]
    fn the_builtin_mm900ev1a_parses() {
        let b = Board::load("mm900ev1a").unwrap();
        assert_eq!(b.chip, ChipRevision::Ft900RevC);
        assert_eq!(b.uarts, [SerialSpec::Stdio, SerialSpec::None]);
        assert_eq!(b.ethernet, EthernetJack::None);
        assert_eq!(b.i2c.len(), 1);
        let e = &b.i2c[0];
        assert_eq!((e.channel, e.eeprom.address, e.eeprom.size), (1, 0x50, 256));
        assert_eq!(e.eeprom.eui48, Some((eui48_from_seed(1), 0xFA)));
        assert_eq!(b.leds.len(), 2);
        let summary = b.summary(b.chip);
        assert!(
            summary[0].starts_with("board mm900ev1a: ft900-revc"),
            "{summary:?}"
        );
        assert!(
            summary[1].contains("24AA02E48 EEPROM at 0x50"),
            "{summary:?}"
        );
    }

    #[test]
    fn a_minimal_board_takes_the_defaults() {
        let b = Board::parse("name = \"bare\"", "x").unwrap();
        assert_eq!(b.chip, ChipRevision::default());
        assert_eq!(b.uarts, [SerialSpec::Stdio, SerialSpec::None]);
        assert!(b.i2c.is_empty() && b.leds.is_empty());
        let b = Board::parse(
            "name = \"x\"\nchip = \"ft900-revb\"\nuart1 = \"loopback\"\nethernet = \"user\"\n\
             [[i2c]]\nchannel = 0\npart = \"24lc01\"\naddress = 0x51\n\
             [[i2c]]\nchannel = 0\npart = \"24AA02E48\"\naddress = 0x50\neui48 = \"00-04-A3-01-02-03\"",
            "x",
        )
        .unwrap();
        assert_eq!(b.chip, ChipRevision::Ft900RevB);
        assert_eq!(b.uarts[1], SerialSpec::Loopback);
        assert_eq!(b.ethernet, EthernetJack::User);
        assert_eq!(b.i2c[0].eeprom.size, 128);
        assert_eq!(
            b.i2c[1].eeprom.eui48,
            Some(([0x00, 0x04, 0xA3, 1, 2, 3], 0xFA))
        );
    }

    #[test]
    fn bad_boards_say_where_and_what() {
        assert!(err("name = ").contains("test.toml"), "{}", err("name = "));
        assert!(err("name = \"x\"\ncolour = 1").contains("unknown field `colour`"));
        assert!(err("chip = \"ft900-revc\"").contains("missing field `name`"));
        assert!(err("name = \"x\"\nchip = \"ft930\"").contains("unknown chip \"ft930\""));
        assert!(err("name = \"x\"\nuart1 = \"com1\"").contains("uart1: unknown UART connection"));
        assert!(err("name = \"x\"\nethernet = \"tap:t0\"").contains("--net tap:NAME"));
        let dev = |extra: &str| format!("name = \"x\"\n[[i2c]]\n{extra}");
        assert!(err(&dev("channel = 2\npart = \"24LC01\"\naddress = 0x50"))
            .contains("i2c device 1: channel 2"));
        assert!(err(&dev("channel = 1\npart = \"24LC01\"\naddress = 0x7f")).contains("reserved"));
        assert!(err(&dev("channel = 1\npart = \"24LC01\"\naddress = -1")).contains("7-bit"));
        assert!(err(&dev("channel = 1\npart = \"AT24C02\"\naddress = 0x50"))
            .contains("part \"AT24C02\""));
        assert!(err(&dev(
            "channel = 1\npart = \"24AA02E48\"\naddress = 0x50\neui48 = \"00:11\""
        ))
        .contains("six hex bytes"));
        assert!(err(&dev(
            "channel = 1\npart = \"24AA02E48\"\naddress = 0x50\neui48 = \"01:00:00:00:00:00\""
        ))
        .contains("group address"));
        assert!(err(&dev(
            "channel = 1\npart = \"24AA02E48\"\naddress = 0x50\neui48 = \"00:00:00:00:00:01\"\neui48_seed = 3"
        ))
        .contains("not both"));
        let two = "name = \"x\"\n[[i2c]]\nchannel = 1\npart = \"24LC01\"\naddress = 0x50\n\
                   [[i2c]]\nchannel = 1\npart = \"24LC01\"\naddress = 0x50";
        assert!(err(two).contains("both answer at 0x50 on channel 1"));
        assert!(
            err("name = \"x\"\n[[led]]\nname = \"L\"\npin = 67").contains("pin 67 does not exist")
        );
        assert!(err(
            "name = \"x\"\n[[led]]\nname = \"A\"\npin = 3\n[[led]]\nname = \"B\"\npin = 3"
        )
        .contains("both on pin 3"));
        assert!(err("name = \"  \"").contains("`name` is empty"));
    }

    #[test]
    fn unknown_names_list_the_builtin_boards() {
        let e = Board::load("no-such-board-here").unwrap_err().to_string();
        assert!(e.contains("mm900ev1a"), "{e}");
    }

    #[test]
    fn seeded_eui48s_are_local_unicast_and_differ() {
        let a = eui48_from_seed(1);
        let b = eui48_from_seed(2);
        assert_ne!(a, b);
        assert_eq!(a[0] & 3, 2, "locally administered, unicast");
        assert_eq!(eui48_from_seed(1), a, "deterministic");
    }
}
