//! The configuration block: the reader of the block in flash (`ConfigBlock::decode`) and the
//! `key=value` settings that fill it (numbers, MACs, hex seeds, PEM certificate bundles).
//!
//! Input: the first byte picks the mode. 0: the rest is a whole block as read from flash.
//! 1: the rest is a payload, wrapped in a valid header and CRC so the record walk is reached.
//! 2: the rest is `key=value` lines (values naming a file, `@PATH`, are skipped). Otherwise:
//! the rest is a PEM bundle given as `tls.ca_cert`.
//!
//! Asserts: no panic; a block that decodes re-encodes to bytes that decode to the same block
//! (decode(encode(x)) == x); a block built from settings encodes and decodes to itself, and a
//! setting that was accepted is read back.
#![no_main]

use ft900_sim::provision::{crc32, ConfigBlock};
use libfuzzer_sys::fuzz_target;

fn round_trip(block: &ConfigBlock) {
    let _ = block.summary();
    if let Ok(bytes) = block.encode() {
        assert!(bytes.len() <= ConfigBlock::MAX_LEN);
        let back = ConfigBlock::decode(&bytes).expect("an encoded block decodes");
        assert_eq!(&back, block, "decode(encode(x)) != x");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode {
        0 => {
            if let Ok(block) = ConfigBlock::decode(rest) {
                round_trip(&block);
            }
        }
        1 => {
            let mut bytes = b"FTCF\x01\x00\x10\x00".to_vec();
            bytes.extend_from_slice(&(rest.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&crc32(rest).to_le_bytes());
            bytes.extend_from_slice(rest);
            if let Ok(block) = ConfigBlock::decode(&bytes) {
                round_trip(&block);
            }
        }
        2 => {
            let text = String::from_utf8_lossy(rest);
            let mut block = ConfigBlock::new();
            for line in text.lines() {
                let Some((key, value)) = line.split_once('=') else {
                    let _ = block.insert_pair(line);
                    continue;
                };
                if value.trim_start().starts_with('@') {
                    continue; // a file name: the fuzzer must not read the machine's files
                }
                if block.insert(key.trim(), value).is_ok() {
                    assert!(
                        block.get(key.trim()).is_some(),
                        "{key} accepted but not stored"
                    );
                }
            }
            round_trip(&block);
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            if text.trim_start().starts_with('@') {
                return;
            }
            let mut block = ConfigBlock::new();
            if block.insert("tls.ca_cert", &text).is_ok() {
                assert!(
                    block.get("tls.ca_cert").is_some(),
                    "a bundle accepted, nothing stored"
                );
            }
            round_trip(&block);
        }
    }
});
