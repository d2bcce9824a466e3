//! Frames per device in a run's pcap: a frame belongs to a device when its Ethernet source or
//! destination is the device's MAC address; broadcasts and multicasts are counted apart.
//!
//! Only the classic pcap format with Ethernet frames is read (what `net_bridge` writes), in
//! either byte order and either timestamp resolution.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// Frame counts of a capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameCounts {
    /// Every frame in the file.
    pub total: u64,
    /// Frames to or from each MAC asked about, in the order asked.
    pub per_mac: Vec<u64>,
    /// Frames sent to a broadcast or multicast address.
    pub broadcast: u64,
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Counts the frames of the pcap bytes `data` for each of `macs`.
pub fn count(data: &[u8], macs: &[[u8; 6]]) -> Result<FrameCounts> {
    if data.len() < 24 {
        bail!(
            "not a pcap file: {} bytes, shorter than its header",
            data.len()
        );
    }
    let magic = [data[0], data[1], data[2], data[3]];
    let little = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => bail!("not a classic pcap file (magic {magic:02x?})"),
    };
    let u32_at = |at: usize| -> u32 {
        let b = [data[at], data[at + 1], data[at + 2], data[at + 3]];
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let link_type = u32_at(20);
    if link_type != 1 {
        bail!("pcap link type {link_type}, not Ethernet (1)");
    }
    let mut counts = FrameCounts {
        per_mac: vec![0; macs.len()],
        ..FrameCounts::default()
    };
    let mut at = 24;
    while at + 16 <= data.len() {
        let captured = u32_at(at + 8) as usize;
        let frame = data
            .get(at + 16..at + 16 + captured)
            .context("the pcap ends inside a frame")?;
        at += 16 + captured;
        counts.total += 1;
        if frame.len() < 12 {
            continue;
        }
        let (dst, src) = (&frame[0..6], &frame[6..12]);
        if dst[0] & 1 == 1 {
            counts.broadcast += 1;
        }
        for (n, mac) in counts.per_mac.iter_mut().zip(macs) {
            if dst == mac || src == mac {
                *n += 1;
            }
        }
    }
    if at != data.len() {
        bail!("the pcap ends inside a record header");
    }
    Ok(counts)
}

/// Counts the frames of the pcap file at `path`.
pub fn count_file(path: &Path, macs: &[[u8; 6]]) -> Result<FrameCounts> {
    let data = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    count(&data, macs).with_context(|| format!("{}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for f in frames {
            out.extend_from_slice(&[0; 8]);
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    fn frame(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
        let mut f = dst.to_vec();
        f.extend_from_slice(&src);
        f.extend_from_slice(&[0x08, 0x00, 1, 2, 3]);
        f
    }

    #[test]
    fn frames_count_for_their_source_and_destination() {
        let a = parse_mac("02:f9:00:00:00:01").unwrap();
        let b = parse_mac("02:f9:00:00:00:02").unwrap();
        let gw = parse_mac("52:55:0a:00:02:02").unwrap();
        let bc = [0xff; 6];
        let data = pcap(&[frame(bc, a), frame(gw, a), frame(a, gw), frame(b, gw)]);
        let c = count(&data, &[a, b]).unwrap();
        assert_eq!(
            c,
            FrameCounts {
                total: 4,
                per_mac: vec![3, 1],
                broadcast: 1
            }
        );
        let mut cut = data.clone();
        cut.truncate(data.len() - 2);
        assert!(count(&cut, &[a]).is_err());
        assert!(count(b"short", &[a]).is_err());
        assert!(parse_mac("02:f9:00:00:00").is_none());
        assert!(parse_mac("02:f9:00:00:00:01:07").is_none());
    }
}
