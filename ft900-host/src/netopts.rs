//! The `run` command's network options: what the Ethernet port is
//! plugged into (`--net`) and the seeded impairments applied to it (`--net-loss` ...), checked
//! here so that a bad value is a one-line usage error.

use net_bridge::{Impairments, Nanos};

/// What the FT900's Ethernet port is plugged into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetKind {
    /// No cable.
    None,
    /// A cable from the MAC back to itself.
    Loopback,
    /// The built-in user-mode gateway.
    User,
    /// A host TAP device, by name.
    Tap(String),
}

/// Parses `none`, `loopback`, `user` or `tap:NAME`.
pub fn parse_net(s: &str) -> Result<NetKind, String> {
    match s {
        "none" => Ok(NetKind::None),
        "loopback" => Ok(NetKind::Loopback),
        "user" => Ok(NetKind::User),
        _ => match s.strip_prefix("tap:") {
            Some("") => Err("tap: needs a device name, e.g. tap:tap0".into()),
            Some(name) => Ok(NetKind::Tap(name.to_string())),
            None => Err(format!(
                "{s:?}: expected none, loopback, user or tap:NAME (e.g. tap:tap0)"
            )),
        },
    }
}

/// Seeded impairments of the link, the same in both directions.
#[derive(clap::Args, Debug, Default)]
pub struct ImpairArgs {
    /// Probability (0 to 1) that a frame is lost, each direction.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub net_loss: Option<f64>,
    /// Probability (0 to 1) that a frame is delivered twice.
    #[arg(long, visible_alias = "net-dup", value_name = "P", value_parser = parse_probability)]
    pub net_duplicate: Option<f64>,
    /// Probability (0 to 1) that one bit after a frame's Ethernet header is flipped (the IP,
    /// TCP and UDP checksums must catch it).
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub net_corrupt: Option<f64>,
    /// Extra one-way delay of every frame, with an optional jitter drawn uniformly from
    /// 0..=JITTER_MS per frame (jitter keeps frames in order), in milliseconds.
    #[arg(long, value_name = "MS[:JITTER_MS]", value_parser = parse_delay)]
    pub net_delay: Option<(Nanos, Nanos)>,
    /// Probability (0 to 1) that a frame is held back by HOLD_MS (default 10) and overtaken by
    /// later ones.
    #[arg(long, value_name = "P[:HOLD_MS]", value_parser = parse_reorder)]
    pub net_reorder: Option<(f64, Nanos)>,
    /// Bandwidth limit in Mbit/s (frames queue behind each other).
    #[arg(long, value_name = "MBIT", value_parser = parse_rate)]
    pub net_rate: Option<u64>,
    /// The link is down from START_S to END_S seconds of virtual time: frames are lost and the
    /// PHY sees no carrier (repeatable).
    #[arg(long, value_name = "START_S..END_S", value_parser = parse_down)]
    pub net_down: Vec<(Nanos, Nanos)>,
    /// Seed of the impairments' random streams: the same seed, firmware and options give the
    /// same faults, frame for frame.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub net_seed: u64,
}

impl ImpairArgs {
    /// The impairments asked for, or `None` when no impairment flag was given.
    pub fn impairments(&self) -> Option<Impairments> {
        let imp = Impairments {
            loss: self.net_loss.unwrap_or(0.0),
            duplicate: self.net_duplicate.unwrap_or(0.0),
            corrupt: self.net_corrupt.unwrap_or(0.0),
            delay: self.net_delay.map_or(0, |d| d.0),
            jitter: self.net_delay.map_or(0, |d| d.1),
            reorder: self.net_reorder.map_or(0.0, |r| r.0),
            reorder_delay: self.net_reorder.map_or(0, |r| r.1),
            rate_bps: self.net_rate,
            down: self.net_down.clone(),
        };
        (imp != Impairments::default()).then_some(imp)
    }
}

const NS_PER_MS: f64 = 1e6;
/// Longest delay, jitter or hold accepted: an hour.
const MAX_MS: f64 = 3_600_000.0;
/// Default hold of a reordered frame.
const DEFAULT_HOLD_MS: f64 = 10.0;

fn number(s: &str, what: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number ({what})"))?;
    if !v.is_finite() {
        return Err(format!("{s:?} is not a finite number ({what})"));
    }
    Ok(v)
}

/// A probability in 0..=1.
pub fn parse_probability(s: &str) -> Result<f64, String> {
    let p = number(s, "a probability from 0 to 1")?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!(
            "{s}: a probability must be from 0 to 1 (e.g. 0.05 for 5%)"
        ));
    }
    Ok(p)
}

/// Milliseconds (fractions allowed) in 0..=1 hour, as nanoseconds.
fn millis(s: &str, what: &str) -> Result<Nanos, String> {
    let ms = number(s, what)?;
    if !(0.0..=MAX_MS).contains(&ms) {
        return Err(format!("{s}: {what} must be from 0 to {MAX_MS} ms"));
    }
    Ok((ms * NS_PER_MS).round() as Nanos)
}

/// `MS[:JITTER_MS]`.
pub fn parse_delay(s: &str) -> Result<(Nanos, Nanos), String> {
    let (d, j) = s.split_once(':').unwrap_or((s, "0"));
    Ok((millis(d, "the delay")?, millis(j, "the jitter")?))
}

/// `P[:HOLD_MS]`.
pub fn parse_reorder(s: &str) -> Result<(f64, Nanos), String> {
    let (p, hold) = match s.split_once(':') {
        Some((p, h)) => (p, millis(h, "the hold time")?),
        None => (s, (DEFAULT_HOLD_MS * NS_PER_MS) as Nanos),
    };
    let p = parse_probability(p)?;
    if p > 0.0 && hold == 0 {
        return Err(format!(
            "{s}: a reordered frame must be held back for more than 0 ms"
        ));
    }
    Ok((p, hold))
}

/// Mbit/s (fractions allowed, above 0 and at most 100 000), as bits per second.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let mbit = number(s, "a rate in Mbit/s")?;
    if !(mbit > 0.0 && mbit <= 100_000.0) {
        return Err(format!(
            "{s}: the rate must be above 0 and at most 100000 Mbit/s"
        ));
    }
    Ok(((mbit * 1e6).round() as u64).max(1))
}

/// `START_S..END_S`, seconds of virtual time (fractions allowed), start before end.
pub fn parse_down(s: &str) -> Result<(Nanos, Nanos), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("{s:?}: expected START_S..END_S, e.g. 2..5.5"))?;
    let secs = |x: &str| -> Result<Nanos, String> {
        let v = number(x, "seconds of virtual time")?;
        if !(0.0..=1e9).contains(&v) {
            return Err(format!("{x}: seconds must be from 0 to 1e9"));
        }
        Ok((v * 1e9).round() as Nanos)
    };
    let (start, end) = (secs(a)?, secs(b)?);
    if start >= end {
        return Err(format!("{s}: the interval must end after it starts"));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_kinds() {
        assert_eq!(parse_net("user"), Ok(NetKind::User));
        assert_eq!(parse_net("tap:tap0"), Ok(NetKind::Tap("tap0".into())));
        assert!(parse_net("tap:")
            .unwrap_err()
            .contains("needs a device name"));
        assert!(parse_net("slirp").unwrap_err().contains("tap:NAME"));
    }

    #[test]
    fn values_are_checked_with_clear_errors() {
        assert_eq!(parse_probability("0.05"), Ok(0.05));
        assert!(parse_probability("1.5")
            .unwrap_err()
            .contains("from 0 to 1"));
        assert!(parse_probability("NaN").is_err());
        assert!(parse_probability("five")
            .unwrap_err()
            .contains("not a number"));
        assert_eq!(parse_delay("20"), Ok((20_000_000, 0)));
        assert_eq!(parse_delay("20:2.5"), Ok((20_000_000, 2_500_000)));
        assert!(parse_delay("-1").is_err());
        assert_eq!(parse_reorder("0.1"), Ok((0.1, 10_000_000)));
        assert_eq!(parse_reorder("0.1:3"), Ok((0.1, 3_000_000)));
        assert!(parse_reorder("0.1:0").is_err());
        assert_eq!(parse_rate("1.5"), Ok(1_500_000));
        assert!(parse_rate("0").is_err());
        assert_eq!(parse_down("2..5.5"), Ok((2_000_000_000, 5_500_000_000)));
        assert!(parse_down("5..2")
            .unwrap_err()
            .contains("end after it starts"));
        assert!(parse_down("5").unwrap_err().contains("START_S..END_S"));
    }

    #[test]
    fn no_flag_means_no_impairment() {
        assert_eq!(ImpairArgs::default().impairments(), None);
        let a = ImpairArgs {
            net_loss: Some(0.05),
            net_delay: Some((1, 2)),
            ..ImpairArgs::default()
        };
        let imp = a.impairments().unwrap();
        assert_eq!((imp.loss, imp.delay, imp.jitter), (0.05, 1, 2));
    }
}
