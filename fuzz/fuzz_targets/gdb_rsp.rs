//! The gdb remote protocol: bytes from a debugger through the stub's framer, then gdbstub's
//! packet decoder and command handlers, against the simulated FT900 (registers, memory,
//! breakpoints, watchpoints, stepping, `monitor` commands) with a small program loaded.
//!
//! Input: the first byte picks how the rest is sent. Even: raw bytes, as they come off the
//! socket (mostly refused by checksum). Odd: lines, each sent as one packet with a valid
//! checksum and followed by an ack; a line starting with `!` is sent as `monitor REST`
//! (`qRcmd`, hex-encoded), as gdb does.
//!
//! Asserts: no panic; every packet the framer passes on is `$body#xx` with a correct checksum;
//! a session ends cleanly (a protocol error ends it, as `serve` does).
#![no_main]

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::gdb::conn::{Framed, Framer};
use ft900_sim::gdb::{DebugTarget, GdbStop, PACKET_SIZE};
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::{Machine, Profile};
use gdbstub::common::Signal;
use gdbstub::conn::Connection;
use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::GdbStub;
use libfuzzer_sys::fuzz_target;

/// A small real guest, built with `ft32-elf-gcc -msim -nostdlib -O1 -g`.
const GUEST: &[u8] = include_bytes!("../corpus/elf/tiny.elf");

/// The stub's replies go nowhere (their size is bounded by the packet buffer).
struct Sink(usize);

impl Connection for Sink {
    type Error = std::convert::Infallible;

    fn write(&mut self, _byte: u8) -> Result<(), Self::Error> {
        self.0 += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn packet(body: &[u8]) -> Vec<u8> {
    let sum = body.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    let mut p = vec![b'$'];
    p.extend_from_slice(body);
    p.extend_from_slice(format!("#{sum:02x}+").as_bytes());
    p
}

fn wire(data: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    if mode % 2 == 0 {
        return rest.to_vec();
    }
    let mut out = Vec::new();
    for line in rest.split(|&b| b == b'\n') {
        match line.strip_prefix(b"!") {
            Some(cmd) => {
                let hex: String = cmd.iter().map(|b| format!("{b:02x}")).collect();
                out.extend(packet(format!("qRcmd,{hex}").as_bytes()));
            }
            None => out.extend(packet(line)),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let program = Program::parse(GUEST).expect("the guest parses");
    let mut machine = Machine::with_standard_memory(Ft900::new(Ft900Config::default()));
    program
        .load_into(&mut machine.core, LoadPolicy::Vma)
        .expect("the guest loads");
    machine.profile.reset(&mut machine.core, program.entry);
    let reset = {
        let program = program.clone();
        move |m: &mut Machine<Ft900>| -> Result<(), String> {
            program
                .load_into(&mut m.core, LoadPolicy::Vma)
                .map_err(|e| e.to_string())?;
            m.profile.reset(&mut m.core, program.entry);
            Ok(())
        }
    };
    let mut target = DebugTarget::new(&mut machine).with_reset(Box::new(reset));

    // The framer: only well-formed packets and control bytes reach gdbstub.
    let mut framer = Framer::new(PACKET_SIZE);
    let mut passed = Vec::new();
    for byte in wire(data) {
        match framer.push(byte) {
            Framed::Packet(p) => {
                let n = p.len();
                assert!(n >= 4 && p[0] == b'$' && p[n - 3] == b'#', "{p:?}");
                let sum = p[1..n - 3].iter().fold(0u8, |a, &b| a.wrapping_add(b));
                let given = std::str::from_utf8(&p[n - 2..]).unwrap();
                assert_eq!(u8::from_str_radix(given, 16).ok(), Some(sum));
                assert!(n <= PACKET_SIZE);
                passed.extend(p);
            }
            Framed::Byte(b) => passed.push(b),
            Framed::TooLong => break,
            Framed::Pending | Framed::Resend | Framed::BadChecksum => {}
        }
    }

    let Ok(stub) = GdbStub::builder(Sink(0))
        .packet_buffer_size(PACKET_SIZE)
        .build()
    else {
        return;
    };
    let Ok(mut gdb) = stub.run_state_machine(&mut target) else {
        return;
    };
    let mut bytes = passed.into_iter();
    loop {
        gdb = match gdb {
            GdbStubStateMachine::Idle(g) => match bytes.next() {
                Some(b) => match g.incoming_data(&mut target, b) {
                    Ok(next) => next,
                    Err(_) => break,
                },
                None => break,
            },
            GdbStubStateMachine::Running(g) => match bytes.next() {
                // gdb sent something while the program runs (Ctrl-C, or any packet).
                Some(b) => match g.incoming_data(&mut target, b) {
                    Ok(next) => next,
                    Err(_) => break,
                },
                None => {
                    // Run a while; a program that does not stop is interrupted, as gdb's
                    // user would.
                    let stop = target
                        .run_chunk(5_000)
                        .unwrap_or(GdbStop::Signal(Signal::SIGINT));
                    match g.report_stop(&mut target, stop) {
                        Ok(next) => next,
                        Err(_) => break,
                    }
                }
            },
            GdbStubStateMachine::CtrlCInterrupt(g) => {
                match g.interrupt_handled(&mut target, Some(GdbStop::Signal(Signal::SIGINT))) {
                    Ok(next) => next,
                    Err(_) => break,
                }
            }
            GdbStubStateMachine::Disconnected(_) => break,
        };
    }
    target.end_session();
    assert_eq!(
        target.debug_points(),
        0,
        "a session's breakpoints outlive it"
    );
});
