//! No bit of the provisioned entropy seed on the wire: two devices whose seeds differ in one
//! bit run the product through the gateway, and from the captured traffic (the run's pcap)
//! every value the firmware draws at random is taken out: DHCP transaction ids, DNS query ids
//! and source ports, TCP initial sequence numbers and source ports, TLS ClientHello randoms.
//!
//! Asserted: none of them is (or contains) four consecutive bytes of the device's seed, none
//! equals an output of the former scheme (a xorshift32 seeded with the seed's first four
//! bytes, as DHCP xids, ports and ISNs came out of it before the DRBG), and the two devices'
//! values are unrelated (no value shared, ClientHello randoms about half their bits apart),
//! although their seeds differ in a single bit.
//!
//! Virtual time only. Needs the ft32-elf toolchain (see `fwbuild`).

mod fwbuild;

use std::collections::BTreeMap;

use scenarios::runner::{report, run_scenario, Options, Scenario};

/// Device A's seed; device B's differs in the lowest bit of its first byte.
const SEED_A: &str = "5eed00112233445566778899aabbccddeeff00112233445566778899aabbccdd";
const SEED_B: &str = "5fed00112233445566778899aabbccddeeff00112233445566778899aabbccdd";

/// The MACs the runner gives devices 0 and 1.
const MAC_A: [u8; 6] = [0x02, 0xf9, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [0x02, 0xf9, 0, 0, 0, 2];

fn scenario_text() -> String {
    format!(
        r#"
name = "wire-randomness"
seed = 14
firmware = "unused.elf"
max_virtual_seconds = 60

[config]
"device.readings" = "2"
"device.period_ms" = "1000"

[[device]]
id = "alice"
config = {{ "entropy.seed" = "{SEED_A}" }}

[[device]]
id = "bob"
config = {{ "entropy.seed" = "{SEED_B}" }}

[[expect.items]]
table = "SensorReadings"
count = 4
"#
    )
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What one device drew at random, as seen on the wire.
#[derive(Default, Debug)]
struct Drawn {
    dhcp_xids: Vec<u32>,
    dns_ids: Vec<u16>,
    udp_ports: Vec<u16>,
    tcp_isns: Vec<u32>,
    tcp_ports: Vec<u16>,
    client_randoms: Vec<[u8; 32]>,
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The frames of a classic pcap file (Ethernet link type).
fn frames(pcap: &[u8]) -> Vec<&[u8]> {
    assert!(pcap.len() >= 24, "pcap too short");
    let magic = u32::from_le_bytes(pcap[..4].try_into().unwrap());
    assert!(
        magic == 0xa1b2_c3d4 || magic == 0xa1b2_3c4d,
        "not a little-endian pcap: magic {magic:#x}"
    );
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16;
        assert!(at + len <= pcap.len(), "truncated pcap record");
        out.push(&pcap[at..at + len]);
        at += len;
    }
    out
}

/// Sorts what each device sent (by source MAC) into its random values.
fn extract(pcap: &[u8]) -> BTreeMap<[u8; 6], Drawn> {
    let mut by_mac: BTreeMap<[u8; 6], Drawn> = BTreeMap::new();
    for f in frames(pcap) {
        if f.len() < 34 || be16(&f[12..14]) != 0x0800 {
            continue;
        }
        let src: [u8; 6] = f[6..12].try_into().unwrap();
        if src != MAC_A && src != MAC_B {
            continue; // the gateway's frames
        }
        let d = by_mac.entry(src).or_default();
        let ip = &f[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(be16(&ip[2..4])).min(ip.len());
        let (proto, l4) = (ip[9], &ip[ihl..total]);
        match proto {
            17 if l4.len() >= 8 => {
                let (sport, dport, payload) = (be16(&l4[0..2]), be16(&l4[2..4]), &l4[8..]);
                if dport == 67 && payload.len() >= 8 {
                    d.dhcp_xids.push(be32(&payload[4..8]));
                } else if dport == 53 && payload.len() >= 2 {
                    d.dns_ids.push(be16(&payload[0..2]));
                    d.udp_ports.push(sport);
                }
            }
            6 if l4.len() >= 20 => {
                let flags = l4[13];
                let data_off = usize::from(l4[12] >> 4) * 4;
                if flags & 0x02 != 0 && flags & 0x10 == 0 {
                    d.tcp_isns.push(be32(&l4[4..8]));
                    d.tcp_ports.push(be16(&l4[0..2]));
                }
                let payload = &l4[data_off.min(l4.len())..];
                // A TLS handshake record holding a ClientHello: the random follows the
                // record header (5), the handshake header (4) and the version (2).
                if payload.len() >= 43 && payload[0] == 0x16 && payload[5] == 0x01 {
                    d.client_randoms
                        .push(payload[11..43].try_into().expect("32 bytes"));
                }
            }
            _ => {}
        }
    }
    by_mac
}

/// How many of the former scheme's first outputs 16-bit values are compared with (a run of
/// two readings draws fewer than this: DHCP, DNS, ports, ISNs).
const OLD_EARLY: usize = 16;

/// The former scheme: xorshift32 seeded with the seed's first four bytes (little-endian).
fn old_xorshift_outputs(seed: &[u8], n: usize) -> Vec<u32> {
    let mut x = u32::from_le_bytes(seed[..4].try_into().unwrap());
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        })
        .collect()
}

/// The values of `d` as byte strings (each in both byte orders).
fn wire_bytes(d: &Drawn) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = Vec::new();
    for x in d.dhcp_xids.iter().chain(&d.tcp_isns) {
        v.push(x.to_be_bytes().to_vec());
        v.push(x.to_le_bytes().to_vec());
    }
    for r in &d.client_randoms {
        v.push(r.to_vec());
    }
    v
}

fn check_device(name: &str, seed: &[u8], d: &Drawn) {
    assert!(
        !d.dhcp_xids.is_empty()
            && !d.tcp_isns.is_empty()
            && !d.client_randoms.is_empty()
            && !d.dns_ids.is_empty(),
        "{name}: the capture lacks DHCP, DNS, TCP SYN or ClientHello: {d:?}"
    );
    // No four consecutive seed bytes inside any value.
    for bytes in wire_bytes(d) {
        for w in seed.windows(4) {
            assert!(
                !bytes.windows(4).any(|b| b == w),
                "{name}: seed bytes {w:02x?} on the wire in {bytes:02x?}"
            );
        }
    }
    // Nothing the former xorshift scheme would have sent.
    let old = old_xorshift_outputs(seed, 256);
    for x in d.dhcp_xids.iter().chain(&d.tcp_isns) {
        assert!(
            !old.contains(x),
            "{name}: {x:#010x} is an old-scheme output"
        );
    }
    // 16-bit values against the outputs a short run would have used (against all 256, a
    // random 16-bit value would match one by chance every 256 runs).
    let early = &old[..OLD_EARLY];
    let old_ports: Vec<u16> = early
        .iter()
        .map(|x| (*x as u16 & 0x3fff) + 0xc000)
        .collect();
    let old_ids: Vec<u16> = early.iter().map(|x| *x as u16).collect();
    for p in d.tcp_ports.iter().chain(&d.udp_ports) {
        assert!(
            !old_ports.contains(p),
            "{name}: port {p} is an old-scheme port"
        );
    }
    for id in &d.dns_ids {
        assert!(
            !old_ids.contains(id),
            "{name}: DNS id {id:#06x} is old-scheme"
        );
    }
    // The old scheme's first output was the first DHCP xid: the seed's first four bytes
    // follow from it by inverting xorshift. Now the xid must not be that.
    assert_ne!(d.dhcp_xids[0], old[0], "{name}: first xid from the seed");
}

#[test]
fn nothing_sent_derives_from_the_entropy_seed() {
    let elf = fwbuild::firmware("dynamodb-client.elf");
    let dir = fwbuild::target_dir().join("wire-randomness");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wire-randomness.toml");
    std::fs::write(&path, scenario_text()).unwrap();
    let mut scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
    scenario.firmware = elf;
    let opts = Options {
        jobs: 2,
        keep: true,
        out_root: dir.join("out"),
        ..Options::default()
    };
    let r = run_scenario(scenario, &opts).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(r.passed(), "{}", report::summary(&r));
    let pcap_path = r.outcome.pcap.clone().expect("a pcap");
    let pcap = std::fs::read(&pcap_path).unwrap();
    let drawn = extract(&pcap);
    let (a, b) = (&drawn[&MAC_A], &drawn[&MAC_B]);
    let (seed_a, seed_b) = (unhex(SEED_A), unhex(SEED_B));
    assert_eq!(
        (seed_a[0] ^ seed_b[0]).count_ones()
            + seed_a[1..]
                .iter()
                .zip(&seed_b[1..])
                .map(|(x, y)| (x ^ y).count_ones())
                .sum::<u32>(),
        1,
        "the two seeds differ in one bit"
    );
    check_device("alice", &seed_a, a);
    check_device("bob", &seed_b, b);

    // Unrelated although the seeds are one bit apart: nothing in common...
    for x in &a.dhcp_xids {
        assert!(!b.dhcp_xids.contains(x), "shared DHCP xid {x:#010x}");
    }
    for x in &a.tcp_isns {
        assert!(!b.tcp_isns.contains(x), "shared TCP ISN {x:#010x}");
    }
    // ...and the ClientHello randoms' 28 random bytes about half their bits apart.
    let (ra, rb) = (&a.client_randoms[0][4..], &b.client_randoms[0][4..]);
    let distance: u32 = ra.iter().zip(rb).map(|(x, y)| (x ^ y).count_ones()).sum();
    assert!(
        (70..=154).contains(&distance),
        "ClientHello randoms {distance} of 224 bits apart"
    );
    eprintln!(
        "alice: xids {:08x?} isns {:08x?} ports {:?} dns {:04x?}; bob: xids {:08x?} isns {:08x?}; \
         ClientHello randoms {distance} bits apart",
        a.dhcp_xids, a.tcp_isns, a.tcp_ports, a.dns_ids, b.dhcp_xids, b.tcp_isns
    );
}
