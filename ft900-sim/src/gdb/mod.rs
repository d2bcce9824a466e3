//! A gdb remote-protocol stub for the simulated FT32 (`ft900-sim run --gdb PORT`), built on the
//! `gdbstub` crate.
//!
//! - [`arch`]: gdb's FT32 register file (33 registers: `fp`, `sp`, `r0`..`r28`, `cc`, `pc`).
//! - [`target`]: a [`Machine`](crate::Machine) under gdb's control: registers, memory in gdb's
//!   flat address space (program memory at 0, RAM at 0x800000, I/O at 0x810000 refused),
//!   breakpoints and watchpoints kept in the simulator, stepping, monitor commands.
//! - [`conn`]: the TCP connection, with a framer that keeps stray bytes away from `gdbstub`.
//! - [`serve`]: the server: listening, sessions, detaching and attaching again.
//!
//! # Sessions
//!
//! The server listens on one address. With `wait` the machine stays halted at reset until gdb
//! connects; without it the machine runs, and a gdb that connects later halts it wherever it
//! is. What ends a session decides what happens next:
//!
//! | session end | what happens |
//! |---|---|
//! | the program exits (gdb is told `W`) | [`serve`] returns [`Outcome::Finished`] with the exit |
//! | gdb's `kill` | [`serve`] returns [`Outcome::Killed`] |
//! | gdb's `detach` | breakpoints and watchpoints are dropped, the program runs on at full speed, and gdb may connect again (the machine halts then) |
//! | connection lost or protocol error | the program stays halted; the server waits for a new connection |
//!
//! With a pacer (`--realtime`, `--net tap:NAME`) the machine runs in real time whether gdb is
//! attached or not, and virtual time stands still while gdb holds the CPU; each resume gives
//! the halt up rather than making it up ([`target`]).
//!
//! A stop while no gdb is connected (the program exits or faults after a detach) ends
//! [`serve`] with [`Outcome::Finished`], as a run without gdb would end.

pub mod arch;
pub mod conn;
pub mod monitor;
pub mod target;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

use gdbstub::stub::{DisconnectReason, GdbStub};

use crate::machine::Profile;
use crate::stop::StopReason;
pub use target::{DebugTarget, EventLoop, GdbStop, ResetFn};

/// Largest packet accepted from gdb (advertised as `PacketSize`).
pub const PACKET_SIZE: usize = 0x4000;

/// Instructions run between two looks for a connecting gdb while none is attached.
const DETACHED_CHUNK: u64 = 1 << 22;

/// How [`serve`] is set up.
#[derive(Clone, Copy, Debug)]
pub struct ServeOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Halt until gdb connects (else run, and let gdb attach at any time).
    pub wait: bool,
}

/// How a debugging run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The machine stopped for good (an exit, or a stop while no gdb was attached).
    Finished(StopReason),
    /// gdb killed the program.
    Killed,
}

/// Parses `[ADDR:]PORT`; a bare port listens on 127.0.0.1 (loopback only).
pub fn parse_listen_addr(spec: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = spec.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    spec.parse::<SocketAddr>()
        .map_err(|_| format!("`{spec}` is neither a port nor ADDR:PORT (e.g. 1234, 0.0.0.0:1234)"))
}

/// Serves gdb until the program ends or is killed; progress messages go to stderr, starting
/// with `gdb: listening on ADDR:PORT` (the real port when 0 was asked for).
pub fn serve<P: Profile>(
    target: &mut DebugTarget<'_, P>,
    options: &ServeOptions,
) -> io::Result<Outcome> {
    let listener = TcpListener::bind(options.addr)?;
    let local = listener.local_addr()?;
    eprintln!("gdb: listening on {local}");
    let mut halted = options.wait;
    if halted {
        eprintln!("gdb: the program is halted at reset until gdb connects");
    } else {
        eprintln!("gdb: the program runs; gdb may connect at any time");
    }
    loop {
        let stream = if halted {
            listener.set_nonblocking(false)?;
            listener.accept()?.0
        } else {
            match run_detached(target, &listener)? {
                Ok(stream) => stream,
                Err(stop) => return Ok(Outcome::Finished(stop)),
            }
        };
        match session(target, stream) {
            Ok(DisconnectReason::TargetExited(code)) => {
                let stop = target
                    .last_stop()
                    .unwrap_or(StopReason::Exited(code as u32));
                return Ok(Outcome::Finished(stop));
            }
            Ok(DisconnectReason::TargetTerminated(signal)) => {
                eprintln!("gdb: program terminated with signal {}", signal.0);
                return Ok(Outcome::Killed);
            }
            Ok(DisconnectReason::Kill) => {
                eprintln!("gdb: program killed by the debugger");
                return Ok(Outcome::Killed);
            }
            Ok(DisconnectReason::Disconnect) => {
                eprintln!("gdb: detached; the program runs on (gdb may connect again to {local})");
                halted = false;
            }
            Err(e) => {
                let pc = target.machine().core.pc;
                eprintln!(
                    "gdb: session ended: {e}; the program stays halted at pc {pc:#x}, waiting for gdb on {local}"
                );
                halted = true;
            }
        }
    }
}

/// Runs the machine (at full speed, or paced) until gdb connects (`Ok`) or the machine stops
/// (`Err`).
fn run_detached<P: Profile>(
    target: &mut DebugTarget<'_, P>,
    listener: &TcpListener,
) -> io::Result<Result<TcpStream, StopReason>> {
    listener.set_nonblocking(true)?;
    // The machine may have been halted by gdb until now.
    target.resync_pacer();
    loop {
        match listener.accept() {
            Ok((stream, _)) => return Ok(Ok(stream)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        match target.advance(DETACHED_CHUNK) {
            StopReason::CountReached | StopReason::CycleLimit => {}
            stop => return Ok(Err(stop)),
        }
    }
}

/// One gdb session on an accepted connection; breakpoints and watchpoints end with it.
fn session<P: Profile>(
    target: &mut DebugTarget<'_, P>,
    stream: TcpStream,
) -> Result<DisconnectReason, String> {
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    match stream.peer_addr() {
        Ok(peer) => eprintln!(
            "gdb: connected to {peer}; halted at pc {:#x}",
            target.machine().core.pc
        ),
        Err(_) => eprintln!("gdb: connected"),
    }
    let conn = conn::RspConnection::new(stream, PACKET_SIZE);
    let result = GdbStub::builder(conn)
        .packet_buffer_size(PACKET_SIZE)
        .build()
        .map_err(|e| e.to_string())
        .and_then(|stub| {
            stub.run_blocking::<EventLoop<'_, P>>(target)
                .map_err(|e| e.to_string())
        });
    target.end_session();
    result
}
