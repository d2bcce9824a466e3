//! Machine profiles: what the I/O half of the data space holds.
//!
//! - [`gdbsim`]: the conventions of binutils-gdb's reference simulator (`ft32-elf-run`).
//! - [`ft900`]: the FT900's own register map and peripherals, on virtual time.

pub mod ft900;
pub mod gdbsim;
