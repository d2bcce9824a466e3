//! `ft900-sim`: an instruction-level simulator of the Bridgetek FT900 microcontroller's FT32 CPU.
//!
//! The API follows the shape of the Unicorn engine (which has no FT32 back end), so that its
//! users feel at home:
//!
//! ```
//! use ft900_sim::{Machine, Reg, StopReason, profile::gdbsim::GdbSim, RAM_BIAS};
//!
//! let mut m = Machine::new(GdbSim::with_output(Box::new(std::io::sink())));
//! m.mem_map(0, 0x1000).unwrap();          // program memory
//! m.mem_map(RAM_BIAS, 0x1000).unwrap();   // data RAM
//! // ldk.l $r0,5 ; add.l $r0,$r0,$r0 ; sta.l 0x1fffc,$r0 (exit)
//! for (i, w) in [0x6400_0005u32, 0x4400_0000, 0xBC01_FFFC].iter().enumerate() {
//!     m.mem_write(4 * i as u32, &w.to_le_bytes()).unwrap();
//! }
//! assert_eq!(m.emu_start(0, None, None), StopReason::Exited(10));
//! assert_eq!(m.reg_read(Reg::R0), 10);
//! ```
//!
//! Layers: [`isa`] decodes words, [`core`] holds registers and memories, [`machine`] runs code
//! with hooks, [`profile`] gives the I/O space its meaning, [`elf`] loads programs and
//! [`report`] explains faults; [`jit`] compiles hot blocks to host code (`Engine::Jit`); [`gdb`] serves gdb's remote protocol; [`provision`] writes the
//! device configuration block into flash; [`debuginfo`] names addresses (symbols, DWARF lines)
//! for [`trace`] (symbolized traces) and [`profiler`] (cycles per function and call stack).

pub mod board;
pub mod core;
pub mod debuginfo;
pub mod disasm;
pub mod elf;
pub mod gdb;
pub mod inspect;
pub mod isa;
pub mod jit;
pub mod lockstep;
pub mod machine;
pub mod profile;
pub mod profiler;
pub mod provision;
pub mod realtime;
pub mod report;
pub mod stop;
pub mod trace;

pub use crate::core::{Core, Reg, PM_SIZE, RAM_BIAS, RAM_SIZE};
pub use crate::jit::{Engine, EngineEnvError, JitUnavailable, UnknownEngine, ENGINE_ENV};
pub use crate::machine::{
    HookAction, HookId, IntrEvent, Machine, MemAccess, MemError, MemHookKind, Profile, RunLimits,
    StopHandle,
};
pub use crate::stop::{Fault, FaultKind, Signal, StopReason};
