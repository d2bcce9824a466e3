//! Side-effect-free views of a machine's devices, for debuggers (the gdb stub's `monitor uart`,
//! `net`, `io` and `time`). Nothing here changes the machine: reading a register through these
//! views never pops a FIFO or clears a status bit, unlike an access by the CPU.

/// One register as a dump shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegValue {
    /// The register's name as the hardware manual spells it.
    pub name: String,
    /// Its data-space address (for indexed registers: the address of the index port).
    pub addr: u32,
    /// Its value.
    pub value: u32,
    /// Its width in bytes (1, 2 or 4).
    pub bytes: u8,
}

/// What one serial port has put on its line so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleLog {
    /// The port, e.g. `uart0`.
    pub port: &'static str,
    /// The newest bytes transmitted, oldest first.
    pub bytes: Vec<u8>,
    /// Bytes transmitted before those (no longer kept).
    pub omitted: u64,
    /// Bytes the firmware wrote that have not reached the line yet (in the transmitter).
    pub pending: usize,
}

/// A machine's devices as a debugger sees them. Profiles without peripherals (gdb-sim) have
/// none: [`crate::machine::Profile::inspect`] returns `None`.
pub trait Inspect {
    /// The serial ports' output so far, one entry per port.
    fn console(&self) -> Vec<ConsoleLog>;

    /// Ethernet MAC state and counters at cycle `now`, one line each; `None` without Ethernet.
    fn net(&self, now: u64) -> Option<Vec<String>>;

    /// Names of the register blocks [`Inspect::io_dump`] knows.
    fn io_blocks(&self) -> Vec<&'static str>;

    /// The registers of `block` (a name from [`Inspect::io_blocks`]) at cycle `now`, plus
    /// derived notes (FIFO levels, character time); `None` for an unknown block.
    fn io_dump(&self, block: &str, now: u64) -> Option<(Vec<RegValue>, Vec<String>)>;

    /// The machine's clocks at cycle `now` (real-time clock and the like), one line each.
    fn clocks(&self, now: u64) -> Vec<String>;
}
