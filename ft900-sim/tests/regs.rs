//! The register description (`profile::ft900::regs`) is the one place a register is declared:
//! for every block and register, on both revisions, the model's value after reset read over
//! the bus, `monitor io`'s listing and the generated C header agree with it (name, address,
//! reset value); and the committed header is the generated text.
//!
//! Adding a register is one line in its block's `registers!` list in
//! `ft900-sim/src/profile/ft900/regs/blocks.rs`; this test then checks it everywhere.
//! Regenerate the header with `FT900_BLESS=1 cargo test -p ft900-sim --test regs`.

use std::collections::HashMap;

use ft900_sim::inspect::Inspect;
use ft900_sim::isa::Width;
use ft900_sim::profile::ft900::regs::{self, Access, Bank, Block, Reg, Unit, MAP};
use ft900_sim::profile::ft900::{ChipRevision, Ft900, Ft900Config};
use ft900_sim::{Machine, Profile};

/// CLKCFG bits that clock the MAC, both UARTs and the I2C master: their registers read only
/// with the clock on.
const CLOCKS_ON: u32 = 1 << 13 | 1 << 9 | 1 << 4 | 1 << 3;

fn chip_after_reset(chip: ChipRevision) -> Machine<Ft900> {
    let profile = Ft900::new(Ft900Config {
        chip,
        strict: true,
        ..Ft900Config::default()
    });
    let mut m = Machine::with_standard_memory(profile);
    let Machine { core, profile, .. } = &mut m;
    profile.reset(core, 0);
    m
}

fn width(bytes: u8) -> Width {
    match bytes {
        1 => Width::Byte,
        2 => Width::Half,
        _ => Width::Word,
    }
}

/// The blocks of `chip` that declare registers.
fn described(chip: ChipRevision) -> impl Iterator<Item = &'static Block> {
    MAP.iter()
        .filter(move |b| !b.regs.is_empty() && b.revs.includes(chip))
}

/// Registers whose reset value a plain read at their own offset shows (views that need LCR or
/// ACR set, write-only registers and unmodelled ones excluded).
fn readable(r: &Reg) -> bool {
    matches!(r.bank, Bank::Always | Bank::Read)
        && !matches!(r.access, Access::WriteOnly | Access::Unmodelled)
}

#[test]
fn the_description_is_consistent() {
    if let Err(problems) = regs::validate() {
        panic!("{}", problems.join("\n"));
    }
}

#[test]
fn the_model_reads_every_declared_reset_value_over_the_bus() {
    let mut checked = 0;
    for chip in ChipRevision::ALL {
        for block in described(chip) {
            for r in block.regs_on(chip).filter(|r| readable(r)) {
                let Some(reset) = r.reset.on(chip) else {
                    continue;
                };
                for i in 0..u32::from(r.count) {
                    // A fresh chip per register: some reads have side effects (FIFOs, EOI).
                    let mut m = chip_after_reset(chip);
                    let Machine { core, profile, .. } = &mut m;
                    if block.name != "sys" {
                        profile
                            .io_write(core, 0x1_0008, Width::Word, CLOCKS_ON)
                            .unwrap();
                    }
                    let addr = block.base + r.offset + i * u32::from(r.bytes);
                    let got = profile
                        .io_read(core, addr, width(r.bytes))
                        .unwrap_or_else(|e| {
                            panic!("{chip} {} {} at {addr:#x}: {e:?}", block.name, r.name)
                        });
                    assert_eq!(
                        got, reset,
                        "{chip} {} {} at {addr:#x}: the model reads {got:#x}, the description says {reset:#x}",
                        block.name, r.name
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 150, "only {checked} registers read");
}

#[test]
fn accesses_to_undeclared_offsets_are_reported_by_name() {
    // Rev B has no TIMER_WDG_STATUS: the report names it and says why.
    let mut m = chip_after_reset(ChipRevision::Ft900RevB);
    let Machine { core, profile, .. } = &mut m;
    assert!(
        profile.io_read(core, 0x1_034F, Width::Byte).is_err(),
        "strict stops"
    );
    let seen = &profile.unmodelled_accesses()[0];
    assert_eq!(seen.block, "timers");
    assert_eq!(
        seen.register.as_deref(),
        Some("TIMER_WDG_STATUS: rev C only, not on ft900-revb")
    );
    // A byte read of the Ethernet data port.
    let mut m = chip_after_reset(ChipRevision::Ft900RevC);
    let Machine { core, profile, .. } = &mut m;
    profile
        .io_write(core, 0x1_0008, Width::Word, CLOCKS_ON)
        .unwrap();
    assert!(profile.io_read(core, 0x1_0224, Width::Byte).is_err());
    assert_eq!(
        profile.unmodelled_accesses()[0].register.as_deref(),
        Some("ETH_DATA: a 1-byte access to a 4-byte port")
    );
}

/// The address `monitor io` shows for a register of `block` (indexed ones: the ICR port).
fn listed_addr(block: &Block, r: &Reg) -> u32 {
    if r.bank == Bank::Indexed {
        block.base + regs::uart::ICR
    } else {
        block.base + r.offset
    }
}

/// The name `monitor io` shows for a register (indexed ones: `ICR[ii] NAME`).
fn listed_name(r: &Reg) -> String {
    if r.bank == Bank::Indexed {
        format!("ICR[{:02x}] {}", r.offset, r.name)
    } else {
        r.name.to_string()
    }
}

#[test]
fn monitor_io_lists_declared_registers_with_their_reset_values() {
    for chip in ChipRevision::ALL {
        let mut m = chip_after_reset(chip);
        let chip_model = &mut m.profile;
        let mut listed_total = 0;
        for name in chip_model.io_blocks() {
            let block = regs::block(name, chip)
                .or_else(|| regs::block("sys", chip))
                .unwrap();
            let (list, _) = chip_model.io_dump(name, 0).unwrap();
            assert!(!list.is_empty(), "{chip} monitor io {name} lists nothing");
            let by_name: HashMap<String, &Reg> =
                block.regs_on(chip).map(|r| (listed_name(r), r)).collect();
            for v in &list {
                let r = by_name.get(&v.name).unwrap_or_else(|| {
                    panic!(
                        "{chip} monitor io {name}: {} is not declared in {}",
                        v.name, block.name
                    )
                });
                assert_eq!(v.addr, listed_addr(block, r), "{chip} {name} {}", v.name);
                assert_eq!(v.bytes, r.bytes, "{chip} {name} {}", v.name);
                if let Some(reset) = r.reset.on(chip) {
                    assert_eq!(
                        v.value, reset,
                        "{chip} monitor io {name} {}: {:#x}, declared reset {reset:#x}",
                        v.name, v.value
                    );
                }
                listed_total += 1;
            }
            // Listings are built from the description: every declared register the block can
            // show without side effects is listed (a register added to the table appears by
            // itself).
            // `gpio` is the GPIO part of the system block, `sys` the rest.
            for r in block.regs_on(chip).filter(|r| r.count == 1 && peekable(r)) {
                let gpio = r.name.starts_with("GPIO_");
                if block.unit == Unit::Sys && gpio != (name == "gpio") {
                    continue;
                }
                assert!(
                    list.iter().any(|v| v.name == listed_name(r)),
                    "{chip} monitor io {name} does not list {}",
                    r.name
                );
            }
        }
        assert!(listed_total > 80, "{chip}: {listed_total} registers listed");
    }
}

/// Registers `monitor io` shows: those with a value to read that a read would not change.
fn peekable(r: &Reg) -> bool {
    !matches!(
        r.access,
        Access::Port | Access::ReadLatches | Access::ReadClears | Access::Unmodelled
    )
}

#[test]
fn the_c_header_declares_every_register_at_its_address_with_its_reset() {
    let text = regs::c_header();
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("#define "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    let defines: HashMap<&str, &str> = pairs.iter().copied().collect();
    assert_eq!(defines.len(), pairs.len(), "a macro name is defined twice");
    let num = |s: &str| -> u32 {
        let s = s.split_whitespace().next().unwrap().trim_end_matches('u');
        u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
    };
    for chip in ChipRevision::ALL {
        for block in described(chip) {
            assert_eq!(num(defines[block.c_base]), block.base, "{}", block.c_base);
            let shared = MAP
                .iter()
                .filter(|o| std::ptr::eq(o.regs, block.regs))
                .count()
                > 1;
            for r in block.regs_on(chip) {
                let name = regs::c_ident(block, r);
                if shared || r.bank == Bank::Indexed {
                    assert_eq!(num(defines[name.as_str()]), r.offset, "{name}");
                } else {
                    let addr = defines
                        .get(format!("{name}_ADDR").as_str())
                        .unwrap_or_else(|| panic!("{name}_ADDR missing"));
                    assert_eq!(num(addr), block.base + r.offset, "{name}_ADDR");
                }
                match r.reset {
                    regs::Reset::Value(v) => {
                        assert_eq!(num(defines[format!("{name}_RESET").as_str()]), v, "{name}")
                    }
                    regs::Reset::PerRev { .. } => {
                        let key = if chip.is_rev_b() { "REV_B" } else { "REV_C" };
                        let got = num(defines[format!("{name}_RESET_{key}").as_str()]);
                        assert_eq!(Some(got), r.reset.on(chip), "{name}");
                    }
                    regs::Reset::Varies(_) => {}
                }
            }
        }
    }
}

#[test]
fn the_committed_c_header_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(regs::C_HEADER_PATH);
    let want = regs::c_header();
    if std::env::var_os("FT900_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} differs from the register description; regenerate it with\n  \
         FT900_BLESS=1 cargo test -p ft900-sim --test regs\nand commit it",
        regs::C_HEADER_PATH
    );
}

#[test]
fn the_map_has_one_base_per_block_and_the_soc_uses_it() {
    // Every modelled unit's block decodes to itself at its base and last byte.
    for chip in ChipRevision::ALL {
        for b in MAP.iter().filter(|b| b.revs.includes(chip)) {
            for addr in [b.base, b.base + b.size - 1] {
                let got = regs::decode(addr, chip).unwrap();
                if got.name != b.name {
                    // Only the ADC/DAC window sits inside another block (sys).
                    assert_eq!(
                        b.unit,
                        Unit::Sys,
                        "{chip} {addr:#x}: {} vs {}",
                        got.name,
                        b.name
                    );
                }
            }
        }
    }
}
