//! The Unicorn-shaped API and the instruction semantics that docs/hardware/isa.md §4 lists as
//! traps, exercised on hand-assembled code (no toolchain needed).

use std::io::Write;
use std::sync::{Arc, Mutex};

use ft900_sim::elf::{ElfError, LoadPolicy, Program};
use ft900_sim::profile::gdbsim::GdbSim;
use ft900_sim::{
    FaultKind, HookAction, Machine, MemHookKind, Profile, Reg, RunLimits, StopReason, RAM_BIAS,
};

/// A tiny assembler for the encodings used below (docs/hardware/isa.md §2.2).
mod asm {
    pub const EXIT: u32 = 0xBC01_FFFC; // sta.l 0x1fffc,$r0
    fn rimm_imm(v: i32) -> u32 {
        0x400 | (v as u32 & 0x3FF)
    }
    pub fn alu_i(al: u32, rd: u32, r1: u32, imm: i32) -> u32 {
        0x08 << 27 | 2 << 25 | rd << 20 | r1 << 15 | rimm_imm(imm) << 4 | al
    }
    pub fn cmp_i(dw: u32, r1: u32, imm: i32) -> u32 {
        0x0B << 27 | dw << 25 | 30 << 20 | r1 << 15 | rimm_imm(imm) << 4 | 2
    }
    pub fn ffu_r(al: u32, dw: u32, rd: u32, r1: u32, r2: u32) -> u32 {
        0x1E << 27 | dw << 25 | rd << 20 | r1 << 15 | r2 << 4 | al
    }
    pub fn ldk(rd: u32, k: i32) -> u32 {
        0x0C << 27 | 2 << 25 | rd << 20 | (k as u32 & 0xF_FFFF)
    }
    pub fn lda(dw: u32, rd: u32, aa: u32) -> u32 {
        0x18 << 27 | dw << 25 | rd << 20 | aa
    }
    pub fn sta(dw: u32, aa: u32, rd: u32) -> u32 {
        0x17 << 27 | dw << 25 | rd << 20 | aa
    }
    fn k15(off: i32) -> u32 {
        let mut f = off as u32 & 0x7FFF;
        if f & 0x80 != 0 {
            f ^= 0x7F00;
        }
        f
    }
    pub fn ldi(dw: u32, rd: u32, r1: u32, off: i32) -> u32 {
        0x15 << 27 | dw << 25 | rd << 20 | r1 << 15 | k15(off)
    }
    pub fn sti(dw: u32, base: u32, off: i32, data: u32) -> u32 {
        0x16 << 27 | dw << 25 | base << 20 | data << 15 | k15(off)
    }
    pub fn exa(dw: u32, rd: u32, aa: u32) -> u32 {
        0x07 << 27 | dw << 25 | rd << 20 | aa
    }
    pub fn push(r: u32) -> u32 {
        0x10 << 27 | 2 << 25 | r << 15
    }
    pub fn pop(r: u32) -> u32 {
        0x11 << 27 | 2 << 25 | r << 20
    }
    pub fn link(r: u32, k: u32) -> u32 {
        0x12 << 27 | 2 << 25 | r << 20 | k
    }
    pub fn unlink(r: u32) -> u32 {
        0x13 << 27 | 2 << 25 | r << 20
    }
    pub fn jmp(addr: u32) -> u32 {
        3 << 20 | addr >> 2
    }
    pub fn call(addr: u32) -> u32 {
        3 << 20 | 1 << 18 | addr >> 2
    }
    pub fn jmpc_nz(addr: u32) -> u32 {
        2 << 20 | addr >> 2
    }
    pub const RETURN: u32 = 0xA000_0000;
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn machine(code: &[u32]) -> (Machine<GdbSim>, Capture) {
    let out = Capture::default();
    let mut m = Machine::with_standard_memory(GdbSim::with_output(Box::new(out.clone())));
    for (i, w) in code.iter().enumerate() {
        m.mem_write(4 * i as u32, &w.to_le_bytes()).unwrap();
    }
    (m, out)
}

fn run(m: &mut Machine<GdbSim>) -> StopReason {
    m.emu_start(0, None, Some(10_000_000))
}

#[test]
fn cycle_counter_follows_the_reference_cycle_model() {
    use asm::*;
    // docs/hardware/isa.md §2.9: 1 cycle per instruction, +1 for taken branches and loads; the
    // counter at 0x1FFF4 reads cycles/100 and sees a load's first cycle only.
    let code = [
        ldk(1, 1000),
        ldk(2, 0),
        alu_i(2, 1, 1, 1), // 8: sub.l $r1,$r1,1
        cmp_i(2, 1, 0),
        jmpc_nz(8),
        lda(2, 3, 0x1FFF4),
        ldk(1, 1000),
        alu_i(2, 1, 1, 1), // 28
        lda(2, 4, 0x1FFF4),
        cmp_i(2, 1, 0),
        jmpc_nz(28),
        lda(2, 5, 0x1FFF4),
        EXIT,
    ];
    let (mut m, _) = machine(&code);
    assert_eq!(run(&mut m), StopReason::Exited(0));
    assert_eq!(m.reg_read(Reg::R3), 40); // 4002 cycles
    assert_eq!(m.reg_read(Reg::R5), 100);
    assert_eq!(m.core.cycles, 10_006);
    assert_eq!(m.core.insns, 2 + 3000 + 1 + 1 + 4000 + 2);
}

#[test]
fn implicit_stack_updates_wrap_at_16_bits_and_alu_writes_do_not() {
    use asm::*;
    let code = [
        ldk(0, 0x1234),
        push(0),            // sp 0 -> 0xFFFC
        alu_i(6, 5, 31, 0), // r5 = sp
        pop(4),             // sp back to 0
        ldk(14, 0x17566),
        link(14, 48),
        alu_i(6, 6, 14, 0), // r6 = r14 after link
        alu_i(6, 7, 31, 0), // r7 = sp after link
        unlink(14),
        alu_i(0, 31, 31, -24), // add.l $sp,$sp,-24: not masked
        ldk(0, 0),
        EXIT,
    ];
    let (mut m, _) = machine(&code);
    assert_eq!(run(&mut m), StopReason::Exited(0));
    assert_eq!(m.reg_read(Reg::R5), 0xFFFC);
    assert_eq!(m.reg_read(Reg::R4), 0x1234);
    let mut w = [0u8; 4];
    m.mem_read(RAM_BIAS + 0xFFFC, &mut w).unwrap();
    assert_eq!(
        u32::from_le_bytes(w),
        0x17566,
        "link pushed the old r14 at 0xFFFC"
    );
    assert_eq!(m.reg_read(Reg::R6), 0xFFFC);
    assert_eq!(m.reg_read(Reg::R7), (0xFFFC - 48) & 0xFFFF);
    assert_eq!(m.reg_read(Reg::R14), 0x17566);
    assert_eq!(m.reg_read(Reg::SP), 0xFFFF_FFE8);
}

#[test]
fn data_accesses_truncate_to_17_bits_and_round_down_to_the_width() {
    use asm::*;
    let code = [
        ldk(1, 0x1234_5678u32 as i32 & 0x7FFFF),
        alu_i(3, 1, 1, 0x278), // ldl: r1 = (r1 << 10) | 0x278
        ldk(2, 0x200),
        sti(2, 2, 0, 1), // RAM[0x200] = r1
        ldi(2, 3, 2, 2), // .l from 0x202 reads the word at 0x200
        ldi(1, 4, 2, 3), // .s from 0x203 reads the half at 0x202
        ldi(0, 5, 2, 1), // .b exact
        ldk(7, 0xF0),
        sti(0, 2, -127, 7), // byte store at 0x200-127
        ldi(0, 8, 2, -127),
        exa(2, 7, 0x200), // r7 <-> RAM[0x200]
        ldk(0, 0),
        EXIT,
    ];
    let (mut m, _) = machine(&code);
    assert_eq!(run(&mut m), StopReason::Exited(0));
    assert_eq!(m.reg_read(Reg::R3), (0x45678 << 10) | 0x278);
    assert_eq!(m.reg_read(Reg::R4), (m.reg_read(Reg::R3) >> 16) & 0xFFFF);
    assert_eq!(m.reg_read(Reg::R5), (m.reg_read(Reg::R3) >> 8) & 0xFF);
    assert_eq!(m.reg_read(Reg::R8), 0xF0);
    assert_eq!(m.reg_read(Reg::R7), m.reg_read(Reg::R3));
    let mut w = [0u8; 4];
    m.mem_read(RAM_BIAS + 0x200, &mut w).unwrap();
    assert_eq!(u32::from_le_bytes(w), 0xF0);
}

#[test]
fn ffu_division_by_zero_and_int_min_rules() {
    use asm::*;
    let code = [
        ldk(1, 7),
        ldk(2, 0),
        ffu_r(0, 2, 10, 1, 2), // udiv
        ffu_r(1, 2, 11, 1, 2), // umod
        ffu_r(2, 2, 12, 1, 2), // div 7/0
        ffu_r(3, 2, 13, 1, 2), // mod
        ldk(3, -7),
        ffu_r(2, 2, 14, 3, 2), // div -7/0
        ldk(4, 1),
        alu_i(8, 4, 4, 31), // r4 = 0x80000000
        ldk(5, -1),
        ffu_r(2, 2, 15, 4, 5), // INT_MIN / -1
        ffu_r(3, 2, 16, 4, 5), // INT_MIN % -1
        ldk(6, 2),
        ffu_r(2, 2, 17, 3, 6), // -7 / 2
        ffu_r(3, 2, 18, 3, 6), // -7 % 2
        ldk(0, 0),
        EXIT,
    ];
    let (mut m, _) = machine(&code);
    assert_eq!(run(&mut m), StopReason::Exited(0));
    let r = |n| m.reg_read(Reg::r(n).unwrap());
    assert_eq!((r(10), r(11), r(12), r(13)), (u32::MAX, 7, u32::MAX, 7));
    assert_eq!(r(14), 1);
    assert_eq!((r(15), r(16)), (0x8000_0000, 0));
    assert_eq!((r(17) as i32, r(18) as i32), (-3, -1));
}

#[test]
fn console_debug_port_and_streamout() {
    use asm::*;
    let code = [
        ldk(1, 0x100),
        ldk(2, 0x6968), // "hi"
        sti(2, 1, 0, 2),
        ldk(3, 0x10000),
        ldk(4, 2),
        ffu_r(14, 0, 3, 1, 4), // streamout.b $r3,$r1,$r4
        ldk(5, 0xABC),
        sta(2, 0x1FFF8, 5),
        ldk(0, 3),
        EXIT,
    ];
    let (mut m, out) = machine(&code);
    assert_eq!(run(&mut m), StopReason::Exited(3));
    assert_eq!(out.text(), "hiDebug write 00000abc\n");
}

#[test]
fn pm_write_port_writes_code_that_then_runs() {
    use asm::*;
    let target = 0x100;
    let payload = ldk(0, 9);
    let code = [
        ldk(1, (0x1337F7D1u32 >> 10) as i32), // ldk takes 20 bits: add the rest with ldl
        alu_i(3, 1, 1, 0x1337F7D1 & 0x3FF),
        sta(2, 0x1FC80, 1),
        ldk(2, target as i32),
        sta(2, 0x1FC84, 2),
        ldk(3, (payload >> 16) as i32),
        alu_i(8, 3, 3, 16),
        alu_i(5, 3, 3, (payload & 0x1FF) as i32),
        sta(2, 0x1FC88, 3),
        jmp(target),
    ];
    let (mut m, _) = machine(&code);
    m.mem_write(target + 4, &EXIT.to_le_bytes()).unwrap();
    assert_eq!(run(&mut m), StopReason::Exited(9));
}

#[test]
fn faults_report_pc_and_never_panic() {
    use asm::*;
    let (mut m, _) = machine(&[ldk(0, 1), 0xD000_0000]);
    match run(&mut m) {
        StopReason::Fault(f) => {
            assert_eq!(f.pc, 4);
            assert!(matches!(
                f.kind,
                FaultKind::IllegalInstruction {
                    word: 0xD000_0000,
                    ..
                }
            ));
        }
        other => panic!("expected a fault, got {other:?}"),
    }
    let (mut m, _) = machine(&[lda(2, 1, 0x10004)]);
    assert!(
        matches!(run(&mut m), StopReason::Fault(f) if f.kind == FaultKind::IoRead { addr: 0x10004 })
    );
    let (mut m, _) = machine(&[0x0034_0002]);
    assert_eq!(run(&mut m), StopReason::Breakpoint(0));
    let (mut m, _) = machine(&[ldk(1, 0x40000), 0x0830_0010]); // jmpi $r1
    assert!(
        matches!(run(&mut m), StopReason::Fault(f) if f.kind == FaultKind::FetchUnmapped && f.pc == 0x40000)
    );
    let (mut m, _) = machine(&[0x7800_0000]);
    assert_eq!(run(&mut m), StopReason::Halted(0));
}

#[test]
fn mem_map_limits_memory_like_unicorn() {
    use asm::*;
    let mut m = Machine::new(GdbSim::with_output(Box::new(std::io::sink())));
    assert!(m.mem_map(0x1000, 0x100).is_err());
    assert!(m.mem_map(0, 0x5_0000).is_err());
    m.mem_map(0, 0x100).unwrap();
    m.mem_map(RAM_BIAS, 0x100).unwrap();
    for (i, w) in [
        ldk(1, 0x80),
        sti(2, 1, 0, 1),
        ldk(1, 0x200),
        sti(2, 1, 0, 1),
    ]
    .iter()
    .enumerate()
    {
        m.mem_write(4 * i as u32, &w.to_le_bytes()).unwrap();
    }
    match m.emu_start(0, None, None) {
        StopReason::Fault(f) => {
            assert_eq!(f.pc, 12);
            assert_eq!(
                f.kind,
                FaultKind::DataUnmapped {
                    addr: 0x200,
                    write: true
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(m.mem_write(RAM_BIAS + 0xFE, &[0; 4]).is_err());
}

#[test]
fn emu_start_until_count_step_and_hooks() {
    use asm::*;
    let code = [
        ldk(1, 5),
        call(20),  // 4
        ldk(0, 0), // 8
        EXIT,      // 12
        0,
        alu_i(0, 1, 1, 1), // 20
        sta(2, 0x40, 1),   // 24
        RETURN,            // 28
    ];
    let (mut m, _) = machine(&code);
    assert_eq!(m.emu_start(0, Some(24), None), StopReason::Until(24));
    assert_eq!(m.reg_read(Reg::R1), 6);
    let (mut m, _) = machine(&code);
    assert_eq!(m.emu_start(0, None, Some(3)), StopReason::CountReached);
    assert_eq!(m.reg_read(Reg::Pc), 24);
    assert_eq!(m.step(), None);
    assert_eq!(m.reg_read(Reg::Pc), 28);

    // Code hooks see every instruction in range; memory hooks see the access and can stop
    // the machine after the instruction that made it.
    let (mut m, _) = machine(&code);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    m.add_code_hook(0, 100, move |_, pc| {
        s.lock().unwrap().push(pc);
        HookAction::Continue
    });
    let writes = Arc::new(Mutex::new(Vec::new()));
    let w = writes.clone();
    let hook = m.add_mem_hook(
        MemHookKind::Write,
        RAM_BIAS + 0x40,
        RAM_BIAS + 0x43,
        move |_, a| {
            w.lock().unwrap().push((a.addr, a.value, a.pc));
            HookAction::Stop
        },
    );
    assert_eq!(m.emu_start(0, None, None), StopReason::Stopped);
    assert_eq!(m.reg_read(Reg::Pc), 28, "stopped after the store completed");
    assert_eq!(*writes.lock().unwrap(), vec![(RAM_BIAS + 0x40, 6, 24)]);
    assert!(m.hook_del(hook));
    assert!(!m.hook_del(hook));
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(0));
    assert_eq!(*seen.lock().unwrap(), vec![0, 4, 20, 24, 28, 8, 12]);
}

#[test]
fn stop_handle_interrupts_an_endless_loop() {
    let (mut m, _) = machine(&[asm::jmp(0)]);
    let handle = m.stop_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        handle.stop();
    });
    assert_eq!(m.emu_start(0, None, None), StopReason::Stopped);
    t.join().unwrap();
    assert!(m.core.insns > 0);
}

/// Builds a minimal FT32 ELF executable with one code segment.
fn tiny_elf(code: &[u32]) -> Vec<u8> {
    let mut text = Vec::new();
    for w in code {
        text.extend_from_slice(&w.to_le_bytes());
    }
    let mut f = vec![0u8; 52 + 32];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // 32-bit
    f[5] = 1; // little-endian
    f[6] = 1; // version
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&222u16.to_le_bytes()); // EM_FT32
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..28].copy_from_slice(&0u32.to_le_bytes()); // entry
    f[28..32].copy_from_slice(&52u32.to_le_bytes()); // phoff
    f[40..42].copy_from_slice(&52u16.to_le_bytes()); // ehsize
    f[42..44].copy_from_slice(&32u16.to_le_bytes()); // phentsize
    f[44..46].copy_from_slice(&1u16.to_le_bytes()); // phnum
    f[46..48].copy_from_slice(&40u16.to_le_bytes()); // shentsize
    let ph = 52;
    let put =
        |f: &mut Vec<u8>, off: usize, v: u32| f[off..off + 4].copy_from_slice(&v.to_le_bytes());
    put(&mut f, ph, 1); // PT_LOAD
    put(&mut f, ph + 4, 84); // offset
    put(&mut f, ph + 8, 0); // vaddr
    put(&mut f, ph + 12, 0); // paddr
    put(&mut f, ph + 16, text.len() as u32);
    put(&mut f, ph + 20, text.len() as u32);
    f.extend_from_slice(&text);
    f
}

#[test]
fn elf_loader_runs_a_minimal_executable() {
    let elf = tiny_elf(&[asm::ldk(0, 42), asm::EXIT]);
    let program = Program::parse(&elf).unwrap();
    let (mut m, _) = machine(&[]);
    program.load_into(&mut m.core, LoadPolicy::Vma).unwrap();
    m.profile.reset(&mut m.core, program.entry);
    assert_eq!(m.run(RunLimits::default()), StopReason::Exited(42));
}

#[test]
fn elf_loader_rejects_bad_input_with_clear_errors() {
    let good = tiny_elf(&[asm::EXIT]);
    let err = |bytes: &[u8]| Program::parse(bytes).unwrap_err();
    assert!(matches!(err(b"#!/bin/sh\n"), ElfError::NotElf));
    assert!(matches!(err(&good[..30]), ElfError::Malformed(_)));
    assert!(matches!(
        err(&good[..good.len() - 2]),
        ElfError::Malformed(_)
    ));
    let mut arm = good.clone();
    arm[18] = 40;
    let e = err(&arm);
    assert!(e.to_string().contains("machine 40"), "{e}");
    let mut be = good.clone();
    be[5] = 2;
    assert!(matches!(err(&be), ElfError::WrongKind(_)));
    let mut far = good.clone();
    far[52 + 8..52 + 12].copy_from_slice(&0x90_0000u32.to_le_bytes());
    let e = err(&far);
    assert!(matches!(e, ElfError::OutsideMemory { .. }), "{e}");
    assert!(e.to_string().contains("outside program memory"));
}

/// This process's peak resident set, KiB (`VmHWM` in /proc/self/status).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

#[test]
fn elf_loader_checks_the_header_and_size_before_reading_a_file() {
    use ft900_sim::elf::{read_checked, MAX_FILE_BYTES};
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("elf-read");
    std::fs::create_dir_all(&dir).unwrap();
    // 1 GiB sparse files: reading either whole would raise the peak RSS by 1 GiB.
    let sparse = |name: &str, head: &[u8]| {
        let path = dir.join(name);
        let f = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut &f, head).unwrap();
        f.set_len(1 << 30).unwrap();
        path
    };
    let before = peak_rss_kib();
    let not_elf = sparse("big.bin", b"#!/bin/sh\n");
    let e = Program::read_file(&not_elf).unwrap_err();
    assert!(matches!(e, ElfError::NotElf), "{e}");
    let good = tiny_elf(&[asm::EXIT]);
    let big_elf = sparse("big.elf", &good);
    let e = Program::read_file(&big_elf).unwrap_err();
    assert!(
        matches!(e, ElfError::TooLarge { size, limit } if size == 1 << 30 && limit == MAX_FILE_BYTES),
        "{e}"
    );
    assert!(
        e.to_string().contains("larger than any FT32 executable"),
        "{e}"
    );
    let grown = peak_rss_kib() - before;
    println!("peak RSS grew by {grown} KiB over two 1 GiB files");
    assert!(grown < 64 * 1024, "peak RSS grew by {grown} KiB");
    // A header naming another machine is refused from its first 52 bytes too.
    let mut arm = good.clone();
    arm[18] = 40;
    let e = Program::read_file(&sparse("arm.elf", &arm)).unwrap_err();
    assert!(e.to_string().contains("machine 40"), "{e}");
    // A normal file still loads, and a missing one is an I/O error.
    let small = dir.join("small.elf");
    std::fs::write(&small, &good).unwrap();
    assert_eq!(Program::read_file(&small).unwrap().entry, 0);
    assert_eq!(read_checked(&small).unwrap(), good);
    let e = Program::read_file(&dir.join("missing.elf")).unwrap_err();
    assert!(matches!(e, ElfError::Io(_)), "{e}");
    for f in ["big.bin", "big.elf", "arm.elf"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
}
