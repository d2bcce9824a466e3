//! The ELF loader on arbitrary files: header and program-header checks, symbols, line
//! information, loading under each policy, and a few thousand instructions of whatever code it
//! loaded on the gdb-sim machine.
//!
//! Asserts: no panic; a program that parses loads under the `Vma` policy (every segment was
//! checked to lie in program memory or RAM); its entry symbol lookups answer.
#![no_main]

use ft900_sim::debuginfo::{LineInfo, Symbolizer};
use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::{Machine, Profile, RunLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = LineInfo::parse(data);
    let Ok(program) = Program::parse(data) else {
        return;
    };
    let mut sym = Symbolizer::new(program.symbols.clone(), None);
    let _ = sym.describe(program.entry);
    let _ = program.symbols.describe_code(program.entry);
    if let Ok(mut s) = Symbolizer::from_elf(program.symbols.clone(), data) {
        let _ = s.describe(program.entry);
    }
    for policy in [LoadPolicy::Vma, LoadPolicy::Flash, LoadPolicy::Rom] {
        let profile = GdbSim::new(
            Box::new(std::io::sink()),
            Box::new(std::io::empty()),
            Box::new(std::io::sink()),
        );
        let mut machine = Machine::with_standard_memory(profile);
        let loaded = program.load_into(&mut machine.core, policy);
        if policy == LoadPolicy::Vma {
            if let Err(e) = &loaded {
                panic!("a parsed program does not load at its virtual addresses: {e}");
            }
        }
        if loaded.is_ok() {
            machine.profile.reset(&mut machine.core, program.entry);
            let _ = machine.run(RunLimits {
                max_insns: Some(2_000),
                ..RunLimits::default()
            });
        }
    }
});
