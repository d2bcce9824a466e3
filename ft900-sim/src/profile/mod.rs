//! Machine profiles: what the I/O half of the data space holds.
//!
//! - [`gdbsim`]: the conventions of binutils-gdb's reference simulator (`ft32-elf-run`).
//!
//! The FT900's own register map (profile `ft900`) comes with the SoC model.

pub mod gdbsim;
