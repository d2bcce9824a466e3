//! UART0/UART1: a 16C550-compatible UART with the 650/750/950 extensions of the FT900's core
//! (AN_324 §13; docs/hardware/uart.md), on virtual time.
//!
//! # Time
//! A character takes its real time on the wire:
//!
//! ```text
//! cycles = bits × samples × divisor × prescaler      (sysclk = CPU clock, 100 MHz)
//! bits      = 1 start + 5..8 data + parity + 1, 1.5 (5 data bits) or 2 stop (LCR)
//! samples   = TCR (ICR 0x02): 0..3 → 16, 4..15 → that value
//! divisor   = DLM:DLL, 0 → 65536 (the divisor counter wraps)
//! prescaler = `MCR[7]` ? `CPR[7:3]` + `CPR[2:0]`/8 (M = 0 counts as 1) : 1
//! ```
//!
//! rounded up to whole cycles. The SDK's 115200 setting (TCR 4, divisor 217, 8N1) gives
//! 10 × 4 × 217 = 8680 cycles per byte. The timing is taken when a character starts, so a
//! baud change affects the next character.
//!
//! * **TX**: writing THR puts the byte in the TX FIFO (1 deep with FIFOs off = the THR). When
//!   the shift register is idle it takes the FIFO's head at once (THRE goes back to 1, as on a
//!   16550) and the byte reaches the host when its stop bit ends, one character time later;
//!   then the next byte starts. LSR.THRE = TX FIFO empty, LSR.TEMT = FIFO and shifter empty.
//! * **RX**: once per character time the UART asks the host side for a byte
//!   ([`SerialBackend::receive`]), so input arrives at most at the line rate and, for scripted
//!   input, always at the same cycles. A byte that finds the RX FIFO full is lost and sets
//!   LSR.OE. The UART does not poll backends that can never send
//!   ([`SerialBackend::may_receive`]), nor while in loopback, with the receiver disabled
//!   (`ACR[0]`) or with its clock off; it starts polling at the first register access after
//!   that, so an unused UART costs no events.
//! * **Clock off** (CLKCFG): a character that completes while the UART's clock is off is held
//!   until the next register access (which needs the clock on); no input is taken meanwhile.
//!
//! # Interrupts (ISR priority order of docs/hardware/uart.md §3)
//! line status (overrun, ISR 0x06) > RX data at the trigger level (0x04) > RX time-out (0x0C:
//! FIFO mode, data in the RX FIFO, no character in or out of it for 4 character times) > THR
//! empty (0x02) > modem status (0x00, only from MCR changes in loopback). The request line
//! ([`Device::irq`]) is `ISR[0]` == 0; the profile gates it with MSC0CFG INTSEL.
//!
//! # Choices where the sources leave room
//! * `ISR[7:6]` read 0 in every mode (AN_324), not 11 with FIFOs as on a PC 16550.
//! * The THR-empty interrupt is raised when the TX FIFO drains to its trigger level (empty in
//!   450/550/750 modes; `FCR[5:4]` → 16/32/64/112 in 650 mode, TTL in 950 mode), after a FIFO
//!   reset, and when ETBEI goes from 0 to 1 at or below that level (not on IER writes that
//!   leave ETBEI set). LSR.THRE always means "TX FIFO empty".
//! * `FCR[5]` (128-byte FIFOs, 750 mode) is written only while `LCR[7]` = 1 (AN_324's mode
//!   table); with `FCR[0]` = 0 the other FCR bits are not written.
//! * CPR resets to 0x00 (AN_324 Tables 13.1 and 13.30; the 16C950 uses 0x20), so a prescaler
//!   enabled without programming CPR divides by 1 (M = 0 counts as 1); ID1..ID3/REV read 0
//!   (AN_324's defaults).
//! * A byte read from an empty RBR is 0. Loopback does not consume host input.
//! * [`Uart::flush`] (end of run) hands the host whatever is still in the transmitter.
//! * Not modelled: parity/framing/break errors (host bytes are always good), break
//!   transmission, flow control (auto RTS/CTS/DSR, XON/XOFF, special characters: ISR 0x10 and
//!   0x20 never occur), 9-bit mode, IrDA, sleep, DMA signalling, external clocks (CKS, CKA).

use std::collections::VecDeque;

use super::device::{read_bytes, write_bytes, Access, Ctx, Device, SysView, NS_PER_CYCLE};
use super::regs::uart as reg;
use super::regs::{Bank, Reg};
use super::serial::{Disconnected, SerialBackend};
use super::sys::{clk, msc0};
use super::txlog::TxLog;
use crate::isa::Width;

// Register bits.
const IER_ERBFI: u8 = 0x01;
const IER_ETBEI: u8 = 0x02;
const IER_ELSI: u8 = 0x04;
const IER_EDSSI: u8 = 0x08;

const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
/// Error bits that LSR reads clear (OE, PE, FE, BI); only OE can happen here.
const LSR_ERRORS: u8 = 0x1E;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;

const LCR_DLAB: u8 = 0x80;
/// LCR value that opens the 650 register set (EFR, XON/XOFF).
const LCR_650: u8 = 0xBF;

const MCR_LOOP: u8 = 0x10;
const MCR_PRESCALE: u8 = 0x80;

const FCR_ENABLE: u8 = 0x01;
const FCR_RX_RESET: u8 = 0x02;
const FCR_TX_RESET: u8 = 0x04;
const FCR_750_FIFO: u8 = 0x20;

const EFR_ENHANCED: u8 = 0x10;

const ACR_RX_DISABLE: u8 = 0x01;
const ACR_TX_DISABLE: u8 = 0x02;
const ACR_950_TRIGGERS: u8 = 0x20;
const ACR_ICR_READ: u8 = 0x40;
const ACR_STATUS: u8 = 0x80;

/// MSR with no loopback: CTS, DSR and DCD asserted, no change (docs/hardware/uart.md §3).
const MSR_IDLE: u8 = 0xB0;

// Indexed control registers (index in SPR, data at offset 5), as the register map declares
// them.
const ICR_ACR: u8 = reg::ACR as u8;
const ICR_CPR: u8 = reg::CPR as u8;
const ICR_TCR: u8 = reg::TCR as u8;
const ICR_CKS: u8 = reg::CKS as u8;
const ICR_TTL: u8 = reg::TTL as u8;
const ICR_RTL: u8 = reg::RTL as u8;
const ICR_FCL: u8 = reg::FCL as u8;
const ICR_FCH: u8 = reg::FCH as u8;
const ICR_ID1: u8 = reg::ID1 as u8;
const ICR_REV: u8 = reg::REV as u8;
const ICR_CSR: u8 = reg::CSR as u8;
const ICR_NMR: u8 = reg::NMR as u8;
const ICR_MDM: u8 = reg::MDM as u8;
const ICR_RFC: u8 = reg::RFC as u8;
const ICR_GDS: u8 = reg::GDS as u8;
const ICR_PIDX: u8 = reg::PIDX as u8;
const ICR_CKA: u8 = reg::CKA as u8;

/// CPR after reset (AN_324 Tables 13.1 and 13.30; used only while MCR[7] = 1).
const CPR_RESET: u8 = 0x00;

// ISR identification values.
const ISR_NONE: u8 = 0x01;
const ISR_LINE: u8 = 0x06;
const ISR_RX_DATA: u8 = 0x04;
const ISR_RX_TIMEOUT: u8 = 0x0C;
const ISR_THRE: u8 = 0x02;
const ISR_MODEM: u8 = 0x00;

// Event kinds (low 2 bits of a token; the rest is the kind's generation).
const EV_TX_DONE: u64 = 0;
const EV_RX_POLL: u64 = 1;
const EV_RX_TIMEOUT: u64 = 2;

/// Character times without RX FIFO activity before the time-out interrupt.
const TIMEOUT_CHARS: u64 = 4;

/// Registers and line state, everything that a reset puts back.
#[derive(Clone, Debug)]
struct Regs {
    ier: u8,
    lcr: u8,
    mcr: u8,
    spr: u8,
    dll: u8,
    dlm: u8,
    /// FCR as last accepted, without the self-clearing reset bits (ICR RFC reads it).
    fcr: u8,
    efr: u8,
    xon1: u8,
    xon2: u8,
    xoff1: u8,
    xoff2: u8,
    acr: u8,
    cpr: u8,
    tcr: u8,
    cks: u8,
    ttl: u8,
    rtl: u8,
    fcl: u8,
    fch: u8,
    nmr: u8,
    mdm: u8,
    cka: u8,
    /// The last LCR write was 0xBF: offsets 2 and 4..7 are EFR, XON1/2, XOFF1/2.
    lcr_650: bool,
    /// Sticky LSR error bits (OE), cleared by reading LSR.
    lsr_errors: u8,
    /// MSR change bits [3:0], cleared by reading MSR.
    msr_delta: u8,
    /// THR-empty interrupt latch: set when the TX FIFO drains to its trigger level or ETBEI
    /// is enabled while it is there; cleared by reading ISR while reported, or by THR writes.
    thre_pending: bool,
    /// RX time-out latch; cleared by RBR reads and by new characters.
    timeout_pending: bool,
}

impl Regs {
    /// Power-on values (docs/hardware/uart.md §7; LSR 0x60 and MSR 0xB0 are computed from the
    /// state).
    fn reset() -> Regs {
        Regs {
            ier: 0,
            lcr: 0,
            mcr: 0,
            spr: 0,
            dll: 0,
            dlm: 0,
            fcr: 0,
            efr: 0,
            xon1: 0,
            xon2: 0,
            xoff1: 0,
            xoff2: 0,
            acr: 0,
            cpr: CPR_RESET,
            tcr: 0,
            cks: 0,
            ttl: 0,
            rtl: 0,
            fcl: 0,
            fch: 0,
            nmr: 0,
            mdm: 0,
            cka: 0,
            lcr_650: false,
            lsr_errors: 0,
            msr_delta: 0,
            thre_pending: false,
            timeout_pending: false,
        }
    }
}

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    tx_bytes: u64,
    rx_bytes: u64,
    rx_overruns: u64,
    tx_overflows: u64,
    loopback_bytes: u64,
}

/// One UART.
pub struct Uart {
    index: usize,
    name: &'static str,
    backend: Box<dyn SerialBackend>,
    r: Regs,
    rx: VecDeque<u8>,
    tx: VecDeque<u8>,
    /// Byte in the transmit shift register.
    shifter: Option<u8>,
    /// Cycle at which the shifter's byte finishes.
    tx_done_at: u64,
    /// A character finished while the clock was off; it completes at the next access.
    tx_stalled: bool,
    /// A time-out check fell while the clock was off; it runs at the next access.
    timeout_stalled: bool,
    /// An RX poll is scheduled.
    rx_polling: bool,
    /// Cycle of the last RX FIFO activity (character in, RBR read, FIFO reset).
    rx_activity: u64,
    /// A time-out check is scheduled (one at a time; it moves itself to the current
    /// deadline when activity happened since it was scheduled).
    timeout_armed: bool,
    /// Current generation of each event kind; events of older generations are stale.
    gen: [u64; 3],
    /// Time of the most recent event or access, for [`Uart::flush`].
    last_now: u64,
    counters: Counters,
    /// What went out on the line, for `monitor uart` (kept across resets, like the host side).
    log: TxLog,
}

impl Uart {
    /// UART `index` (0 or 1), disconnected.
    pub fn new(index: usize) -> Uart {
        Uart {
            index,
            name: if index == 0 { "uart0" } else { "uart1" },
            backend: Box::new(Disconnected),
            r: Regs::reset(),
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            shifter: None,
            tx_done_at: 0,
            tx_stalled: false,
            timeout_stalled: false,
            rx_polling: false,
            rx_activity: 0,
            timeout_armed: false,
            gen: [0; 3],
            last_now: 0,
            counters: Counters::default(),
            log: TxLog::new(),
        }
    }

    /// Connects the host side.
    pub fn set_backend(&mut self, backend: Box<dyn SerialBackend>) {
        self.backend = backend;
    }

    /// The host side, e.g. to print [`SerialBackend::describe`].
    pub fn backend(&self) -> &dyn SerialBackend {
        self.backend.as_ref()
    }

    /// End of the run: whatever the transmitter still holds (the shift register, then the TX
    /// FIFO) is delivered to the host, stamped with the times at which it would have finished
    /// on the wire, as the line would carry it after the CPU stopped; then the host side is
    /// flushed. Meant for the end of a run: the transmitter is empty afterwards.
    pub fn flush(&mut self) {
        if self.r.mcr & MCR_LOOP == 0 {
            let ct = self.char_cycles();
            let mut t = self.last_now;
            if let Some(byte) = self.shifter.take() {
                t = self.tx_done_at.max(self.last_now);
                self.counters.tx_bytes += 1;
                self.log.push(byte);
                self.backend.transmit(t * NS_PER_CYCLE, byte);
            }
            if self.r.acr & ACR_TX_DISABLE == 0 {
                while let Some(byte) = self.tx.pop_front() {
                    t += ct;
                    self.counters.tx_bytes += 1;
                    self.log.push(byte);
                    self.backend.transmit(t * NS_PER_CYCLE, byte);
                }
            }
            self.tx_stalled = false;
            self.gen[EV_TX_DONE as usize] += 1;
        }
        self.backend.flush();
    }

    /// The bytes that went out on the line so far (the newest 64 KiB; see [`TxLog`]).
    pub fn tx_log(&self) -> &TxLog {
        &self.log
    }

    /// Bytes the firmware wrote that are still in the transmitter (TX FIFO and shifter).
    pub fn tx_pending(&self) -> usize {
        self.tx.len() + usize::from(self.shifter.is_some())
    }

    /// Register `r` of the UART's description ([`reg::REGS`]) as the firmware configured it,
    /// read without side effects (no FIFO pops, no status clears, whatever LCR/ACR select);
    /// `None` for the data ports (RBR, THR, ICR).
    pub fn peek(&self, r: &Reg, sys: &SysView) -> Option<u8> {
        let regs = &self.r;
        Some(match (r.bank, r.offset) {
            (Bank::Indexed, index) => self.icr_value(index as u8),
            (Bank::Dlab, reg::DLL) => regs.dll,
            (Bank::Dlab, reg::DLM) => regs.dlm,
            (Bank::Always, reg::IER) => regs.ier,
            (Bank::Status, reg::ASR) => self.asr_in(sys),
            (Bank::Read, reg::ISR) => self.interrupt_id(),
            (Bank::Write, reg::FCR) => regs.fcr,
            (Bank::Enhanced, reg::EFR) => regs.efr,
            (Bank::Always, reg::LCR) => regs.lcr,
            (Bank::Status, reg::RFL) => self.rx.len().min(255) as u8,
            (Bank::Always, reg::MCR) => regs.mcr,
            (Bank::Status, reg::TFL) => self.tx.len().min(255) as u8,
            (Bank::Enhanced, reg::XON1) => regs.xon1,
            (Bank::Read, reg::LSR) => self.lsr(),
            (Bank::Enhanced, reg::XON2) => regs.xon2,
            (Bank::Always, reg::MSR) => self.msr(),
            (Bank::Enhanced, reg::XOFF1) => regs.xoff1,
            (Bank::Always, reg::SPR) => regs.spr,
            (Bank::Enhanced, reg::XOFF2) => regs.xoff2,
            _ => return None,
        })
    }

    /// Levels of the RX and TX FIFOs (what RFL and TFL would read).
    pub fn fifo_levels(&self) -> (usize, usize) {
        (self.rx.len(), self.tx.len())
    }

    // ----- derived configuration -------------------------------------------------------

    fn clock_bit(&self) -> u32 {
        if self.index == 0 {
            clk::UART0
        } else {
            clk::UART1
        }
    }

    fn clocked(&self, ctx: &Ctx) -> bool {
        ctx.sys.clkcfg & self.clock_bit() != 0
    }

    fn fifosel_in(&self, sys: &SysView) -> bool {
        let bit = if self.index == 0 {
            msc0::UART0_FIFOSEL
        } else {
            msc0::UART1_FIFOSEL
        };
        sys.msc0cfg & bit != 0
    }

    fn fifo_enabled(&self) -> bool {
        self.r.fcr & FCR_ENABLE != 0
    }

    /// 650 mode: enhanced features on (EFR[4]); FCR[5:4] are then the TX trigger.
    fn mode_650(&self) -> bool {
        self.r.efr & EFR_ENHANCED != 0
    }

    /// 950 trigger levels (ACR[5]): TTL/RTL.
    fn mode_950(&self) -> bool {
        self.r.acr & ACR_950_TRIGGERS != 0
    }

    /// 128-byte FIFOs: FCR[5] (750 mode), EFR[4] (650 mode) or the FIFOSEL pin (MSC0CFG).
    fn deep(&self, ctx: &Ctx) -> bool {
        self.deep_in(&ctx.sys)
    }

    fn deep_in(&self, sys: &SysView) -> bool {
        self.mode_650() || self.r.fcr & FCR_750_FIFO != 0 || self.fifosel_in(sys)
    }

    /// FIFO depth: 1 with FIFOs off (the holding registers), else 16 or 128.
    fn depth(&self, ctx: &Ctx) -> usize {
        if !self.fifo_enabled() {
            1
        } else if self.deep(ctx) {
            128
        } else {
            16
        }
    }

    /// RX level at which the data-available interrupt is raised.
    fn rx_trigger(&self) -> usize {
        if !self.fifo_enabled() {
            return 1;
        }
        let sel = (self.r.fcr >> 6) as usize;
        if self.mode_950() {
            (self.r.rtl as usize).max(1)
        } else if self.mode_650() {
            [16, 32, 112, 120][sel]
        } else if self.r.fcr & FCR_750_FIFO != 0 {
            [1, 32, 64, 112][sel]
        } else {
            // FIFOSEL alone gives 128-byte FIFOs with the 550 trigger table (the pin changes
            // the size, not the register layout).
            [1, 4, 8, 14][sel]
        }
    }

    /// TX level at or below which the THR-empty interrupt is raised (0 = empty).
    fn tx_trigger(&self) -> usize {
        if !self.fifo_enabled() {
            0
        } else if self.mode_950() {
            self.r.ttl as usize
        } else if self.mode_650() {
            [16, 32, 64, 112][((self.r.fcr >> 4) & 3) as usize]
        } else {
            0
        }
    }

    fn divisor(&self) -> u64 {
        match u16::from_le_bytes([self.r.dll, self.r.dlm]) {
            0 => 65536,
            d => d as u64,
        }
    }

    /// Sysclk cycles per character with the current settings (module docs).
    pub fn char_cycles(&self) -> u64 {
        let lcr = self.r.lcr;
        let data = 5 + (lcr & 3) as u64;
        let parity = ((lcr >> 3) & 1) as u64;
        let stop_halves = match (lcr & 0x04 != 0, data) {
            (false, _) => 2,
            (true, 5) => 3,
            (true, _) => 4,
        };
        let half_bits = 2 * (1 + data + parity) + stop_halves;
        let samples = match self.r.tcr & 0x0F {
            0..=3 => 16,
            n => n as u64,
        };
        let eighths = if self.r.mcr & MCR_PRESCALE != 0 {
            if self.r.cpr >> 3 == 0 {
                8 + (self.r.cpr & 7) as u64
            } else {
                self.r.cpr as u64
            }
        } else {
            8
        };
        (half_bits * samples * self.divisor() * eighths).div_ceil(16)
    }

    fn lsr(&self) -> u8 {
        let mut v = self.r.lsr_errors;
        if !self.rx.is_empty() {
            v |= LSR_DR;
        }
        if self.tx.is_empty() {
            v |= LSR_THRE;
            if self.shifter.is_none() {
                v |= LSR_TEMT;
            }
        }
        v
    }

    /// Modem inputs, MSR[7:4]: fixed (CTS, DSR, DCD) or, in loopback, MCR's outputs
    /// (RTS → CTS, DTR → DSR, OUT1 → RI, OUT2 → DCD).
    fn modem_inputs(mcr: u8) -> u8 {
        if mcr & MCR_LOOP != 0 {
            ((mcr & 0x02) << 3) | ((mcr & 0x01) << 5) | ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4)
        } else {
            MSR_IDLE
        }
    }

    fn msr(&self) -> u8 {
        Uart::modem_inputs(self.r.mcr) | self.r.msr_delta
    }

    /// ASR (950 status, offset 1 with ACR[7]).
    fn asr(&self, ctx: &Ctx) -> u8 {
        self.asr_in(&ctx.sys)
    }

    fn asr_in(&self, sys: &SysView) -> u8 {
        let mut v = 0;
        if self.lsr() & LSR_TEMT != 0 {
            v |= 0x80;
        }
        if self.fifo_enabled() && self.deep_in(sys) {
            v |= 0x40;
        }
        if self.fifosel_in(sys) {
            v |= 0x20;
        }
        if self.r.mcr & 0x01 != 0 {
            v |= 0x08;
        }
        if self.r.mcr & 0x02 != 0 {
            v |= 0x04;
        }
        v
    }

    /// ISR[5:0] of the highest-priority pending, enabled source.
    fn interrupt_id(&self) -> u8 {
        let ier = self.r.ier;
        if ier & IER_ELSI != 0 && self.r.lsr_errors & LSR_ERRORS != 0 {
            ISR_LINE
        } else if ier & IER_ERBFI != 0 && !self.rx.is_empty() && self.rx.len() >= self.rx_trigger()
        {
            ISR_RX_DATA
        } else if ier & IER_ERBFI != 0 && self.r.timeout_pending {
            ISR_RX_TIMEOUT
        } else if ier & IER_ETBEI != 0 && self.r.thre_pending {
            ISR_THRE
        } else if ier & IER_EDSSI != 0 && self.r.msr_delta & 0x0F != 0 {
            ISR_MODEM
        } else {
            ISR_NONE
        }
    }

    // ----- events ----------------------------------------------------------------------

    fn token(&self, kind: u64) -> u64 {
        kind | (self.gen[kind as usize] << 2)
    }

    /// Schedules `kind` at `at`, making every earlier event of that kind stale.
    fn schedule(&mut self, ctx: &mut Ctx, kind: u64, at: u64) {
        self.gen[kind as usize] += 1;
        let token = self.token(kind);
        ctx.schedule_at(at, token);
    }

    /// Called on every register access: catches up on work held while the clock was off and
    /// starts polling the host when it should.
    fn kick(&mut self, ctx: &mut Ctx) {
        self.last_now = ctx.now;
        if !self.clocked(ctx) {
            return;
        }
        if self.tx_stalled {
            self.tx_stalled = false;
            self.finish_tx(ctx);
        }
        if self.timeout_stalled {
            self.timeout_stalled = false;
            self.check_timeout(ctx);
        }
        self.ensure_rx_poll(ctx);
    }

    /// Whether host input can reach the RX FIFO.
    fn rx_path_open(&self) -> bool {
        self.r.mcr & MCR_LOOP == 0 && self.r.acr & ACR_RX_DISABLE == 0 && self.backend.may_receive()
    }

    fn ensure_rx_poll(&mut self, ctx: &mut Ctx) {
        if !self.rx_polling && self.rx_path_open() && self.clocked(ctx) {
            self.rx_polling = true;
            let at = ctx.now + self.char_cycles();
            self.schedule(ctx, EV_RX_POLL, at);
        }
    }

    /// The character time may have changed: a pending poll moves to one (new) character
    /// time from now.
    fn retime(&mut self, ctx: &mut Ctx, old_cycles: u64) {
        if self.rx_polling && self.char_cycles() != old_cycles {
            let at = ctx.now + self.char_cycles();
            self.schedule(ctx, EV_RX_POLL, at);
        }
    }

    fn rx_poll(&mut self, ctx: &mut Ctx) {
        self.rx_polling = false;
        if !self.clocked(ctx) || !self.rx_path_open() {
            return;
        }
        if let Some(byte) = self.backend.receive(ctx.now * NS_PER_CYCLE) {
            self.push_rx(ctx, byte);
        }
        self.ensure_rx_poll(ctx);
    }

    /// A character was received (from the host or looped back).
    fn push_rx(&mut self, ctx: &mut Ctx, byte: u8) {
        if self.rx.len() >= self.depth(ctx) {
            self.r.lsr_errors |= LSR_OE;
            self.counters.rx_overruns += 1;
        } else {
            self.rx.push_back(byte);
            self.counters.rx_bytes += 1;
        }
        self.rx_activity_at(ctx);
    }

    /// RX FIFO activity: the time-out starts again.
    fn rx_activity_at(&mut self, ctx: &mut Ctx) {
        self.rx_activity = ctx.now;
        self.r.timeout_pending = false;
        self.arm_timeout(ctx);
    }

    fn timeout_deadline(&self) -> u64 {
        self.rx_activity + TIMEOUT_CHARS * self.char_cycles()
    }

    fn arm_timeout(&mut self, ctx: &mut Ctx) {
        if !self.timeout_armed && self.fifo_enabled() && !self.rx.is_empty() {
            self.timeout_armed = true;
            let at = self.timeout_deadline();
            self.schedule(ctx, EV_RX_TIMEOUT, at);
        }
    }

    /// The time-out check is due: 4 character times without activity raise the time-out,
    /// otherwise it waits for the current deadline.
    fn check_timeout(&mut self, ctx: &mut Ctx) {
        self.timeout_armed = false;
        if !self.fifo_enabled() || self.rx.is_empty() {
            return;
        }
        if ctx.now >= self.timeout_deadline() {
            self.r.timeout_pending = true;
        } else {
            self.arm_timeout(ctx);
        }
    }

    /// The shifter is idle: take the next byte from the TX FIFO.
    fn start_tx(&mut self, ctx: &mut Ctx) {
        if self.shifter.is_some() || self.r.acr & ACR_TX_DISABLE != 0 || self.tx_stalled {
            return;
        }
        let before = self.tx.len();
        let Some(byte) = self.tx.pop_front() else {
            return;
        };
        self.tx_level_fell(before);
        self.shifter = Some(byte);
        self.tx_done_at = ctx.now + self.char_cycles();
        self.schedule(ctx, EV_TX_DONE, self.tx_done_at);
    }

    /// The TX FIFO went from `before` bytes to its current level.
    fn tx_level_fell(&mut self, before: usize) {
        let trigger = self.tx_trigger();
        if before > trigger && self.tx.len() <= trigger {
            self.r.thre_pending = true;
        }
    }

    /// The shifter's byte is on the other side.
    fn finish_tx(&mut self, ctx: &mut Ctx) {
        let Some(byte) = self.shifter.take() else {
            return;
        };
        if self.r.mcr & MCR_LOOP != 0 {
            self.counters.loopback_bytes += 1;
            self.push_rx(ctx, byte);
        } else {
            self.counters.tx_bytes += 1;
            self.log.push(byte);
            self.backend.transmit(ctx.now * NS_PER_CYCLE, byte);
        }
        self.start_tx(ctx);
    }

    fn clear_rx_fifo(&mut self, ctx: &mut Ctx) {
        self.rx.clear();
        self.rx_activity_at(ctx);
    }

    fn clear_tx_fifo(&mut self) {
        self.tx.clear();
        // The FIFO is (now) empty: THR-empty is signalled, as a 16550 does after a reset or
        // mode change of its FIFOs.
        self.r.thre_pending = true;
    }

    /// Power-on / software reset: registers and FIFOs; host side and counters stay.
    fn reset_state(&mut self) {
        self.r = Regs::reset();
        self.rx.clear();
        self.tx.clear();
        self.shifter = None;
        self.tx_stalled = false;
        self.timeout_stalled = false;
        self.rx_polling = false;
        self.timeout_armed = false;
        for g in &mut self.gen {
            *g += 1;
        }
    }

    // ----- register access -------------------------------------------------------------

    fn read_reg(&mut self, offset: u32, ctx: &mut Ctx) -> Option<u8> {
        let dlab = self.r.lcr & LCR_DLAB != 0;
        let r650 = self.r.lcr_650;
        let acr = self.r.acr;
        Some(match offset {
            reg::DLL if dlab => self.r.dll,
            reg::RBR => {
                let byte = self.rx.pop_front().unwrap_or(0);
                self.rx_activity_at(ctx);
                byte
            }
            reg::DLM if dlab => self.r.dlm,
            reg::ASR if acr & ACR_STATUS != 0 => self.asr(ctx),
            reg::IER => self.r.ier,
            reg::EFR if r650 => self.r.efr,
            reg::ISR => {
                let id = self.interrupt_id();
                if id == ISR_THRE {
                    self.r.thre_pending = false;
                }
                // ISR[7:6] read 0 on the FT900 (AN_324), whatever the FIFO mode.
                id
            }
            reg::RFL if acr & ACR_STATUS != 0 => self.rx.len().min(255) as u8,
            reg::LCR => self.r.lcr,
            reg::XON1 if r650 => self.r.xon1,
            reg::TFL if acr & ACR_STATUS != 0 => self.tx.len().min(255) as u8,
            reg::MCR => self.r.mcr,
            reg::XON2 if r650 => self.r.xon2,
            reg::ICR if acr & ACR_ICR_READ != 0 => self.read_icr(),
            reg::LSR => {
                let v = self.lsr();
                self.r.lsr_errors = 0;
                v
            }
            reg::XOFF1 if r650 => self.r.xoff1,
            reg::MSR => {
                let v = self.msr();
                self.r.msr_delta = 0;
                v
            }
            reg::XOFF2 if r650 => self.r.xoff2,
            reg::SPR => self.r.spr,
            _ => return None,
        })
    }

    fn read_icr(&self) -> u8 {
        self.icr_value(self.r.spr)
    }

    /// The indexed control register `index`, without side effects.
    fn icr_value(&self, index: u8) -> u8 {
        match index {
            ICR_ACR => self.r.acr,
            ICR_CPR => self.r.cpr,
            ICR_TCR => self.r.tcr,
            ICR_CKS => self.r.cks,
            ICR_TTL => self.r.ttl,
            ICR_RTL => self.r.rtl,
            ICR_FCL => self.r.fcl,
            ICR_FCH => self.r.fch,
            // ID1..ID3 and REV: AN_324 gives 0 for all four.
            ICR_ID1..=ICR_REV => 0,
            ICR_CSR => 0,
            ICR_NMR => self.r.nmr,
            ICR_MDM => self.r.mdm,
            ICR_RFC => self.r.fcr,
            // Good data: the byte at the head of the RX FIFO has no error (none ever has).
            ICR_GDS => u8::from(!self.rx.is_empty()),
            ICR_PIDX => 0,
            ICR_CKA => self.r.cka,
            _ => 0,
        }
    }

    fn write_reg(&mut self, offset: u32, v: u8, ctx: &mut Ctx) -> bool {
        let dlab = self.r.lcr & LCR_DLAB != 0;
        let r650 = self.r.lcr_650;
        let old_cycles = self.char_cycles();
        match offset {
            reg::DLL if dlab => {
                self.r.dll = v;
                self.retime(ctx, old_cycles);
            }
            reg::THR => self.write_thr(v, ctx),
            reg::DLM if dlab => {
                self.r.dlm = v;
                self.retime(ctx, old_cycles);
            }
            reg::IER => {
                let old = self.r.ier;
                self.r.ier = v;
                if old & IER_ETBEI == 0 && v & IER_ETBEI != 0 && self.tx.len() <= self.tx_trigger()
                {
                    self.r.thre_pending = true;
                }
            }
            reg::EFR if r650 => self.r.efr = v,
            reg::FCR => self.write_fcr(v, ctx),
            reg::LCR => {
                self.r.lcr = v;
                self.r.lcr_650 = v == LCR_650;
                self.retime(ctx, old_cycles);
            }
            reg::XON1 if r650 => self.r.xon1 = v,
            reg::MCR => self.write_mcr(v, ctx, old_cycles),
            reg::XON2 if r650 => self.r.xon2 = v,
            reg::ICR => self.write_icr(v, ctx, old_cycles),
            reg::XOFF1 if r650 => self.r.xoff1 = v,
            // MSR is read-only: the write is ignored.
            reg::MSR => {}
            reg::XOFF2 if r650 => self.r.xoff2 = v,
            reg::SPR => self.r.spr = v,
            _ => return false,
        }
        true
    }

    fn write_thr(&mut self, v: u8, ctx: &mut Ctx) {
        if self.tx.len() >= self.depth(ctx) {
            // Data written to a full THR/FIFO is lost.
            self.counters.tx_overflows += 1;
            return;
        }
        self.tx.push_back(v);
        if self.tx.len() > self.tx_trigger() {
            self.r.thre_pending = false;
        }
        self.start_tx(ctx);
    }

    fn write_fcr(&mut self, v: u8, ctx: &mut Ctx) {
        let old = self.r.fcr;
        let mut new = if v & FCR_ENABLE == 0 {
            // With FCR[0] = 0 the other bits are not written; the FIFOs are off.
            old & !FCR_ENABLE
        } else {
            v & !(FCR_RX_RESET | FCR_TX_RESET)
        };
        // 750 mode: FCR[5] (128-byte FIFOs) is only written while LCR[7] = 1. In 650 mode
        // FCR[5:4] are the TX trigger and written freely.
        if !self.mode_650() && self.r.lcr & LCR_DLAB == 0 {
            new = (new & !FCR_750_FIFO) | (old & FCR_750_FIFO);
        }
        self.r.fcr = new;
        if (old ^ new) & FCR_ENABLE != 0 {
            // Switching between byte and FIFO mode empties both FIFOs.
            self.clear_rx_fifo(ctx);
            self.clear_tx_fifo();
        } else if v & FCR_ENABLE != 0 {
            if v & FCR_RX_RESET != 0 {
                self.clear_rx_fifo(ctx);
            }
            if v & FCR_TX_RESET != 0 {
                self.clear_tx_fifo();
            }
        }
    }

    fn write_mcr(&mut self, v: u8, ctx: &mut Ctx, old_cycles: u64) {
        let before = Uart::modem_inputs(self.r.mcr);
        self.r.mcr = v;
        let after = Uart::modem_inputs(v);
        let changed = before ^ after;
        let mut delta = 0;
        if changed & 0x10 != 0 {
            delta |= 0x01; // ΔCTS
        }
        if changed & 0x20 != 0 {
            delta |= 0x02; // ΔDSR
        }
        if before & 0x40 != 0 && after & 0x40 == 0 {
            delta |= 0x04; // TERI: RI went inactive
        }
        if changed & 0x80 != 0 {
            delta |= 0x08; // ΔDCD
        }
        self.r.msr_delta |= delta;
        self.retime(ctx, old_cycles);
        // Loopback off: the host line is back (polling restarts); on: it stops at the next
        // poll.
        self.ensure_rx_poll(ctx);
    }

    fn write_icr(&mut self, v: u8, ctx: &mut Ctx, old_cycles: u64) {
        match self.r.spr {
            ICR_ACR => {
                self.r.acr = v;
                self.start_tx(ctx);
                self.ensure_rx_poll(ctx);
            }
            ICR_CPR => {
                self.r.cpr = v;
                self.retime(ctx, old_cycles);
            }
            ICR_TCR => {
                self.r.tcr = v & 0x0F;
                self.retime(ctx, old_cycles);
            }
            ICR_CKS => self.r.cks = v,
            ICR_TTL => self.r.ttl = v & 0x7F,
            ICR_RTL => self.r.rtl = v & 0x7F,
            ICR_FCL => self.r.fcl = v & 0x7F,
            ICR_FCH => self.r.fch = v & 0x7F,
            // Writing 0 to CSR resets the channel.
            ICR_CSR if v == 0 => self.reset_state(),
            ICR_NMR => self.r.nmr = v,
            ICR_MDM => self.r.mdm = v,
            ICR_CKA => self.r.cka = v,
            // ID1..REV, RFC, GDS, PIDX are read-only; other indices do not exist.
            _ => {}
        }
    }
}

impl Device for Uart {
    fn name(&self) -> &'static str {
        self.name
    }

    fn read(&mut self, offset: u32, width: Width, ctx: &mut Ctx) -> Access<u32> {
        self.kick(ctx);
        read_bytes(offset, width, |o| self.read_reg(o, ctx))
    }

    fn write(&mut self, offset: u32, width: Width, value: u32, ctx: &mut Ctx) -> Access<()> {
        self.kick(ctx);
        write_bytes(offset, width, value, |o, b| self.write_reg(o, b, ctx))
    }

    fn event(&mut self, token: u64, ctx: &mut Ctx) {
        let kind = token & 3;
        if kind > EV_RX_TIMEOUT || token >> 2 != self.gen[kind as usize] {
            return;
        }
        self.last_now = ctx.now;
        let clocked = self.clocked(ctx);
        match kind {
            EV_TX_DONE if !clocked => self.tx_stalled = true,
            EV_TX_DONE => self.finish_tx(ctx),
            EV_RX_POLL => self.rx_poll(ctx),
            _ if !clocked => self.timeout_stalled = true,
            _ => self.check_timeout(ctx),
        }
    }

    fn irq(&self) -> bool {
        self.interrupt_id() != ISR_NONE
    }

    fn reset(&mut self, ctx: &mut Ctx) {
        self.reset_state();
        self.last_now = ctx.now;
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let c = &self.counters;
        vec![
            ("tx-bytes", c.tx_bytes),
            ("rx-bytes", c.rx_bytes),
            ("rx-overruns", c.rx_overruns),
            ("tx-overflows", c.tx_overflows),
            ("loopback-bytes", c.loopback_bytes),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ft900::device::SysView;
    use crate::profile::ft900::event::{EventQueue, Source};
    use crate::profile::ft900::serial::Capture;

    /// SDK 115200 setting: 10 bits × 4 samples × 217.
    const CHAR: u64 = 8680;

    // Offsets.
    const THR: u32 = 0;
    const IER: u32 = 1;
    const ISR: u32 = 2;
    const FCR: u32 = 2;
    const LCR: u32 = 3;
    const MCR: u32 = 4;
    const LSR: u32 = 5;
    const ICR: u32 = 5;
    const MSR: u32 = 6;
    const SPR: u32 = 7;

    /// A UART with its own event queue and clock; events run only when the test says.
    struct Rig {
        uart: Uart,
        queue: EventQueue,
        now: u64,
        sys: SysView,
        cap: Capture,
    }

    impl Rig {
        /// UART0, clock on, Capture backend, power-on state at cycle 0.
        fn new() -> Rig {
            let cap = Capture::new();
            let mut uart = Uart::new(0);
            uart.set_backend(Box::new(cap.clone()));
            let mut rig = Rig {
                uart,
                queue: EventQueue::new(),
                now: 0,
                sys: SysView {
                    clkcfg: clk::UART0,
                    ..SysView::default()
                },
                cap,
            };
            let mut ctx = Ctx {
                now: 0,
                queue: &mut rig.queue,
                source: Source::Uart0,
                sys: rig.sys,
            };
            rig.uart.reset(&mut ctx);
            rig
        }

        /// [`Rig::new`] then the SDK's `uart_open` for 115200 8N1 (docs/hardware/uart.md §6).
        fn at_115200() -> Rig {
            let mut rig = Rig::new();
            rig.icr_write(ICR_TCR, 4);
            rig.w(LCR, 0x80);
            rig.w(0, 217);
            rig.w(1, 0);
            rig.w(LCR, 0x03);
            rig
        }

        /// Runs `f` with the UART and a context at the current cycle.
        fn with<R>(&mut self, f: impl FnOnce(&mut Uart, &mut Ctx) -> R) -> R {
            let mut ctx = Ctx {
                now: self.now,
                queue: &mut self.queue,
                source: Source::Uart0,
                sys: self.sys,
            };
            f(&mut self.uart, &mut ctx)
        }

        fn w(&mut self, offset: u32, value: u8) {
            let mut ctx = Ctx {
                now: self.now,
                queue: &mut self.queue,
                source: Source::Uart0,
                sys: self.sys,
            };
            let r = self.uart.write(offset, Width::Byte, value as u32, &mut ctx);
            assert_eq!(r, Access::Done(()), "write offset {offset}");
        }

        fn r(&mut self, offset: u32) -> u8 {
            let mut ctx = Ctx {
                now: self.now,
                queue: &mut self.queue,
                source: Source::Uart0,
                sys: self.sys,
            };
            match self.uart.read(offset, Width::Byte, &mut ctx) {
                Access::Done(v) => v as u8,
                Access::Unmodelled => panic!("read offset {offset} unmodelled"),
            }
        }

        fn icr_write(&mut self, index: u8, value: u8) {
            self.w(SPR, index);
            self.w(ICR, value);
        }

        /// Reads an indexed register the documented way (ACR[6] on, read, ACR[6] off).
        fn icr_read(&mut self, index: u8) -> u8 {
            let acr = self.uart.r.acr;
            self.icr_write(ICR_ACR, acr | ACR_ICR_READ);
            self.w(SPR, index);
            let v = self.r(ICR);
            self.icr_write(ICR_ACR, acr);
            v
        }

        /// Runs every event due up to and including cycle `t`, then sets the clock to `t`.
        fn run_to(&mut self, t: u64) {
            while let Some((at, source, token)) = self.queue.pop_due(t) {
                assert_eq!(source, Source::Uart0);
                assert!(at >= self.now, "event in the past: {at} < {}", self.now);
                self.now = at;
                let mut ctx = Ctx {
                    now: at,
                    queue: &mut self.queue,
                    source: Source::Uart0,
                    sys: self.sys,
                };
                self.uart.event(token, &mut ctx);
            }
            self.now = t;
        }

        fn run_for(&mut self, cycles: u64) {
            self.run_to(self.now + cycles);
        }

        fn isr(&mut self) -> u8 {
            self.r(ISR)
        }
    }

    #[test]
    fn a_loopback_plug_brings_each_byte_back_one_character_later_at_the_line_rate() {
        let mut rig = Rig::at_115200();
        rig.uart
            .set_backend(Box::new(crate::profile::ft900::serial::LoopbackPlug::new()));
        rig.w(FCR, 0x01);
        rig.w(THR, b'x');
        rig.w(THR, b'y');
        // 8680 cycles a character: 'x' is on the wire at 8680, 'y' at 17360; the receiver
        // polls once a character time, so each arrives within one more character time.
        rig.run_for(8679);
        assert_eq!(rig.r(LSR) & LSR_DR, 0, "nothing before the first stop bit");
        rig.run_for(8680 + 1);
        assert_ne!(rig.r(LSR) & LSR_DR, 0);
        assert_eq!(rig.r(THR), b'x');
        rig.run_for(2 * 8680);
        assert_eq!(rig.r(THR), b'y');
        assert_eq!(rig.r(LSR) & LSR_DR, 0);
        assert!(rig.cap.output().is_empty(), "nothing reaches the host");
    }

    #[test]
    fn reset_values_match_section_6_6() {
        let mut rig = Rig::new();
        assert_eq!(rig.r(LSR), 0x60, "LSR: THRE and TEMT after reset");
        assert_eq!(rig.r(MSR), 0xB0, "MSR: CTS, DSR, DCD, no change");
        assert_eq!(rig.isr(), 0x01);
        assert_eq!(rig.r(IER), 0);
        assert_eq!(rig.r(LCR), 0);
        assert_eq!(rig.r(MCR), 0);
        assert_eq!(rig.r(SPR), 0);
        assert_eq!(
            rig.icr_read(ICR_ACR),
            ACR_ICR_READ,
            "ACR 0 plus the read enable"
        );
        assert_eq!(rig.icr_read(ICR_TCR), 0);
        assert_eq!(rig.icr_read(ICR_CPR), CPR_RESET);
        assert_eq!(rig.icr_read(ICR_RFC), 0);
        assert!(!rig.uart.irq());
        // LCR 0 = 5N1 (7 bits), DLL/DLM 0 = divisor 65536, 16 samples.
        assert_eq!(rig.uart.char_cycles(), 7 * 16 * 65536);
        // Reading an empty RBR gives 0 and changes nothing.
        assert_eq!(rig.r(THR), 0);
        assert_eq!(rig.r(LSR), 0x60);
    }

    #[test]
    fn dlab_switches_offsets_0_and_1_between_data_and_divisor() {
        let mut rig = Rig::new();
        rig.w(IER, 0x05);
        rig.w(LCR, 0x83);
        rig.w(0, 0x34);
        rig.w(1, 0x12);
        assert_eq!(rig.r(0), 0x34);
        assert_eq!(rig.r(1), 0x12);
        assert_eq!(rig.r(LSR), 0x60, "a DLL write is not a THR write");
        rig.w(LCR, 0x03);
        assert_eq!(rig.r(IER), 0x05, "IER kept while DLAB was set");
        assert_eq!(rig.uart.divisor(), 0x1234);
        rig.w(LCR, 0x80);
        assert_eq!(rig.r(0), 0x34, "divisor kept");
    }

    #[test]
    fn character_time_follows_frame_samples_divisor_and_prescaler() {
        let mut rig = Rig::at_115200();
        assert_eq!(rig.uart.char_cycles(), CHAR);
        // 8E2: 1 + 8 + 1 + 2 = 12 bits.
        rig.w(LCR, 0x1F);
        assert_eq!(rig.uart.char_cycles(), 12 * 4 * 217);
        // 5N1.5: 1 + 5 + 1.5 = 7.5 bits.
        rig.w(LCR, 0x04);
        assert_eq!(rig.uart.char_cycles(), (15 * 4 * 217u64).div_ceil(2));
        // 7O1: 1 + 7 + 1 + 1 = 10 bits.
        rig.w(LCR, 0x0A);
        assert_eq!(rig.uart.char_cycles(), CHAR);
        rig.w(LCR, 0x03);
        // TCR 0..3 mean 16 samples.
        for tcr in 0..4 {
            rig.icr_write(ICR_TCR, tcr);
            assert_eq!(rig.uart.char_cycles(), 10 * 16 * 217);
        }
        rig.icr_write(ICR_TCR, 15);
        assert_eq!(rig.uart.char_cycles(), 10 * 15 * 217);
        rig.icr_write(ICR_TCR, 4);
        // Prescaler only with MCR[7]: CPR 0x1C = 3.5.
        rig.icr_write(ICR_CPR, 0x1C);
        assert_eq!(rig.uart.char_cycles(), CHAR);
        rig.w(MCR, 0x80);
        assert_eq!(rig.uart.char_cycles(), CHAR * 7 / 2);
        // M = 0 counts as 1 (plus the fraction).
        rig.icr_write(ICR_CPR, 0x00);
        assert_eq!(rig.uart.char_cycles(), CHAR);
        rig.w(MCR, 0x00);
        // Other rates of the SDK table.
        for (div, baud) in [(434u16, 57_600u64), (2604, 9600), (27, 921_600)] {
            rig.w(LCR, 0x83);
            rig.w(0, div as u8);
            rig.w(1, (div >> 8) as u8);
            rig.w(LCR, 0x03);
            let cycles = rig.uart.char_cycles();
            assert_eq!(cycles, 40 * div as u64);
            let actual = 100_000_000.0 * 10.0 / cycles as f64;
            assert!(
                (actual / baud as f64 - 1.0).abs() < 0.01,
                "{baud}: {actual}"
            );
        }
    }

    #[test]
    fn a_byte_takes_exactly_8680_cycles_at_115200_and_thre_temt_follow_the_wire() {
        let mut rig = Rig::at_115200();
        rig.run_to(1000);
        rig.w(THR, b'h');
        // The shifter took the byte at once: THRE = 1, TEMT = 0.
        assert_eq!(rig.r(LSR), 0x20);
        rig.w(THR, b'i');
        assert_eq!(rig.r(LSR), 0x00, "second byte waits in the THR");
        rig.w(THR, b'!');
        assert_eq!(
            rig.uart.counters.tx_overflows, 1,
            "FIFOs off: one holding byte"
        );
        rig.run_to(1000 + CHAR - 1);
        assert_eq!(rig.cap.output(), b"");
        assert_eq!(rig.r(LSR), 0x00);
        rig.run_to(1000 + CHAR);
        assert_eq!(rig.cap.output(), b"h");
        assert_eq!(rig.r(LSR), 0x20, "'i' moved to the shifter");
        rig.run_to(1000 + 2 * CHAR - 1);
        assert_eq!(rig.r(LSR), 0x20);
        rig.run_to(1000 + 2 * CHAR);
        assert_eq!(rig.cap.output(), b"hi");
        assert_eq!(rig.r(LSR), 0x60);
        assert_eq!(
            rig.cap.output_times(),
            vec![(1000 + CHAR) * 10, (1000 + 2 * CHAR) * 10],
            "host sees virtual ns at the end of each stop bit"
        );
        assert_eq!(rig.uart.stats()[0], ("tx-bytes", 2));
    }

    #[test]
    fn polled_transmit_of_a_string_takes_one_character_time_per_byte() {
        let mut rig = Rig::at_115200();
        let text = b"hello\n";
        for &c in text {
            // Wait for THRE the way firmware does: jump to the next event while it is 0.
            while rig.r(LSR) & LSR_THRE == 0 {
                let next = rig.queue.next_at();
                rig.run_to(next);
            }
            rig.w(THR, c);
        }
        while rig.r(LSR) & LSR_TEMT == 0 {
            let next = rig.queue.next_at();
            rig.run_to(next);
        }
        assert_eq!(rig.cap.output(), text);
        assert_eq!(rig.now, 6 * CHAR);
    }

    #[test]
    fn wider_accesses_split_into_byte_registers_and_offsets_past_7_are_unmodelled() {
        let mut rig = Rig::new();
        rig.w(SPR, 0x5A);
        rig.with(|u, ctx| {
            // Offsets 4..7: MCR, LSR, MSR, SPR.
            assert_eq!(u.read(4, Width::Word, ctx), Access::Done(0x5AB0_6000));
            assert_eq!(u.read(6, Width::Half, ctx), Access::Done(0x5AB0));
            assert_eq!(u.read(8, Width::Byte, ctx), Access::Unmodelled);
            assert_eq!(u.write(12, Width::Word, 0, ctx), Access::Unmodelled);
            // A half-word write at 6 ignores MSR and sets SPR.
            assert_eq!(u.write(6, Width::Half, 0x7700, ctx), Access::Done(()));
        });
        assert_eq!(rig.r(SPR), 0x77);
    }

    #[test]
    fn fifo_depth_is_1_16_or_128_and_a_full_rx_fifo_overruns() {
        // (setup, expected RX depth)
        type Setup = fn(&mut Rig);
        let cases: [(&str, Setup, usize); 5] = [
            ("fifos off", |_| {}, 1),
            ("550", |r| r.w(FCR, 0x01), 16),
            (
                "750: FCR[5] written with DLAB",
                |r| {
                    r.w(LCR, 0x83);
                    r.w(FCR, 0x21);
                    r.w(LCR, 0x03);
                },
                128,
            ),
            (
                "650: EFR[4]",
                |r| {
                    r.w(LCR, 0xBF);
                    r.w(FCR, 0x10);
                    r.w(LCR, 0x03);
                    r.w(FCR, 0x01);
                },
                128,
            ),
            (
                "FIFOSEL pin",
                |r| {
                    r.sys.msc0cfg |= msc0::UART0_FIFOSEL;
                    r.w(FCR, 0x01);
                },
                128,
            ),
        ];
        for (what, setup, depth) in cases {
            let mut rig = Rig::at_115200();
            setup(&mut rig);
            rig.cap.feed(&vec![b'x'; depth + 3]);
            rig.run_for(CHAR * (depth as u64 + 3));
            assert_eq!(rig.uart.rx.len(), depth, "{what}");
            assert_eq!(rig.uart.counters.rx_overruns, 3, "{what}");
            assert_eq!(rig.r(LSR) & 0x03, 0x03, "{what}: DR and OE");
            assert_eq!(rig.r(LSR) & 0x02, 0, "{what}: OE cleared by the LSR read");
            // TX side has the same depth (+ the shifter).
            let mut accepted = 0;
            for i in 0..depth + 5 {
                let before = rig.uart.counters.tx_overflows;
                rig.w(THR, i as u8);
                if rig.uart.counters.tx_overflows == before {
                    accepted += 1;
                }
            }
            assert_eq!(accepted, depth + 1, "{what}: FIFO plus shifter");
        }
    }

    #[test]
    fn fcr_bit_5_is_only_written_while_dlab_is_set() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x21);
        assert_eq!(rig.icr_read(ICR_RFC), 0x01, "FCR[5] ignored with DLAB = 0");
        rig.w(LCR, 0x83);
        rig.w(FCR, 0x21);
        rig.w(LCR, 0x03);
        assert_eq!(rig.icr_read(ICR_RFC), 0x21);
        // FCR[0] = 0: FIFOs off, other bits not written.
        rig.w(FCR, 0xC0);
        assert_eq!(rig.icr_read(ICR_RFC), 0x20);
    }

    #[test]
    fn fcr_resets_empty_the_fifos_and_mode_changes_do_too() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x01);
        rig.cap.feed(b"abc");
        rig.run_for(3 * CHAR);
        for c in b"0123" {
            rig.w(THR, *c);
        }
        assert_eq!(rig.uart.rx.len(), 3);
        assert_eq!(rig.uart.tx.len(), 3, "one byte went to the shifter");
        rig.w(FCR, 0x03);
        assert!(rig.uart.rx.is_empty());
        assert_eq!(rig.uart.tx.len(), 3);
        rig.w(FCR, 0x05);
        assert!(rig.uart.tx.is_empty());
        assert_eq!(rig.r(LSR), 0x20, "shifter still busy: THRE but not TEMT");
        rig.run_for(CHAR);
        assert_eq!(rig.cap.output(), b"0", "the shifter's byte is not lost");
        rig.cap.feed(b"d");
        rig.run_for(CHAR);
        assert_eq!(rig.uart.rx.len(), 1);
        rig.w(FCR, 0x00);
        assert!(rig.uart.rx.is_empty(), "leaving FIFO mode clears the FIFOs");
    }

    #[test]
    fn isr_reports_sources_in_priority_order_and_each_clears_its_own_way() {
        let mut rig = Rig::at_115200();
        rig.w(IER, 0x0F);
        // THRE is pending (ETBEI enabled with an empty THR).
        assert_eq!(rig.isr(), 0x02);
        assert_eq!(
            rig.isr(),
            0x01,
            "reading ISR while THRE is reported clears it"
        );
        // Byte mode: one byte fills the RX "FIFO", the next overruns.
        rig.cap.feed(b"ab");
        rig.run_for(2 * CHAR);
        rig.w(MCR, 0x10); // loopback: MSR changes (modem status) too
        rig.w(MCR, 0x12);
        rig.w(IER, 0x0D); // ETBEI off, on again → THRE pending
        rig.w(IER, 0x0F);
        assert!(rig.uart.irq());
        assert_eq!(rig.isr(), 0x06, "line status first");
        assert_eq!(rig.isr(), 0x06, "ISR reads do not clear line status");
        assert_eq!(rig.r(LSR) & 0x03, 0x03);
        assert_eq!(rig.isr(), 0x04, "then RX data");
        assert_eq!(rig.r(THR), b'a');
        assert_eq!(rig.isr(), 0x02, "then THR empty");
        assert_eq!(rig.isr(), 0x00, "then modem status");
        assert_eq!(
            rig.r(MSR) & 0x0F,
            0x0B,
            "entering loopback dropped CTS, DSR, DCD"
        );
        assert_eq!(rig.isr(), 0x01);
        assert!(!rig.uart.irq());
    }

    #[test]
    fn thre_interrupt_rearms_on_etbei_and_clears_on_thr_write() {
        let mut rig = Rig::at_115200();
        assert!(!rig.uart.irq(), "ETBEI off: nothing");
        rig.w(IER, IER_ETBEI);
        assert!(
            rig.uart.irq(),
            "enabling ETBEI with an empty THR raises THRE"
        );
        assert_eq!(rig.isr(), 0x02);
        assert!(!rig.uart.irq());
        // Writing IER again with ETBEI already set does not re-raise it.
        rig.w(IER, IER_ETBEI);
        assert!(!rig.uart.irq());
        // Off and on again: it does.
        rig.w(IER, 0);
        rig.w(IER, IER_ETBEI);
        assert!(rig.uart.irq());
        // A THR write clears it; the shifter takes the byte at once: pending again.
        rig.w(THR, b'a');
        assert_eq!(rig.isr(), 0x02);
        rig.w(THR, b'b');
        assert!(!rig.uart.irq(), "THR full");
        rig.run_for(CHAR - 1);
        assert!(!rig.uart.irq());
        rig.run_for(1);
        assert!(rig.uart.irq(), "THR emptied into the shifter");
        assert_eq!(rig.isr(), 0x02);
        assert!(!rig.uart.irq());
        rig.run_for(CHAR);
        assert!(!rig.uart.irq(), "TEMT alone raises nothing");
        assert_eq!(rig.cap.output(), b"ab");
    }

    #[test]
    fn fifo_mode_thre_fires_when_the_fifo_drains() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x07);
        rig.w(IER, IER_ETBEI);
        assert_eq!(rig.isr(), 0x02);
        for c in b"abcd" {
            rig.w(THR, *c);
        }
        assert!(!rig.uart.irq());
        rig.run_for(3 * CHAR - 1);
        assert!(!rig.uart.irq(), "'d' still in the FIFO");
        rig.run_for(1);
        assert!(rig.uart.irq(), "FIFO empty, 'd' in the shifter");
        assert_eq!(rig.r(LSR), 0x20);
    }

    #[test]
    fn rx_trigger_level_and_timeout() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x41); // FIFO, trigger 4
        rig.w(IER, IER_ERBFI);
        rig.cap.feed(b"abc");
        rig.run_for(3 * CHAR);
        assert_eq!(rig.uart.rx.len(), 3);
        assert!(!rig.uart.irq(), "below the trigger");
        // The last character arrived at 3 × CHAR: time-out 4 character times later.
        rig.run_to(7 * CHAR - 1);
        assert!(!rig.uart.irq());
        rig.run_to(7 * CHAR);
        assert_eq!(rig.isr(), 0x0C);
        assert_eq!(rig.isr(), 0x0C, "ISR reads do not clear the time-out");
        assert_eq!(rig.r(THR), b'a');
        assert!(
            !rig.uart.irq(),
            "an RBR read clears it and restarts the timer"
        );
        rig.run_for(4 * CHAR);
        assert_eq!(rig.isr(), 0x0C);
        // Reaching the trigger: RX data available, until the level drops below it.
        rig.cap.feed(b"def");
        rig.run_for(2 * CHAR);
        assert_eq!(rig.uart.rx.len(), 4);
        assert_eq!(rig.isr(), 0x04);
        rig.r(THR);
        assert!(!rig.uart.irq(), "3 < 4 and the read restarted the timer");
        rig.run_for(CHAR);
        assert_eq!(rig.isr(), 0x04);
        // Drain: no data, no time-out.
        while rig.r(LSR) & LSR_DR != 0 {
            rig.r(THR);
        }
        rig.run_for(10 * CHAR);
        assert_eq!(rig.isr(), 0x01);
        assert_eq!(rig.cap.pending_input(), 0);
    }

    #[test]
    fn trigger_tables_of_550_750_650_and_950_modes() {
        let mut rig = Rig::at_115200();
        assert_eq!(rig.uart.rx_trigger(), 1, "byte mode");
        for (fcr, level) in [(0x01, 1), (0x41, 4), (0x81, 8), (0xC1, 14)] {
            rig.w(FCR, fcr);
            assert_eq!(rig.uart.rx_trigger(), level);
        }
        rig.w(LCR, 0x83);
        for (fcr, level) in [(0x21, 1), (0x61, 32), (0xA1, 64), (0xE1, 112)] {
            rig.w(FCR, fcr);
            assert_eq!(rig.uart.rx_trigger(), level);
        }
        rig.w(LCR, 0xBF);
        rig.w(FCR, EFR_ENHANCED);
        rig.w(LCR, 0x03);
        for (fcr, rx, tx) in [
            (0x01, 16, 16),
            (0x51, 32, 32),
            (0xA1, 112, 64),
            (0xF1, 120, 112),
        ] {
            rig.w(FCR, fcr);
            assert_eq!((rig.uart.rx_trigger(), rig.uart.tx_trigger()), (rx, tx));
        }
        rig.icr_write(ICR_TTL, 10);
        rig.icr_write(ICR_RTL, 0);
        rig.icr_write(ICR_ACR, ACR_950_TRIGGERS);
        assert_eq!((rig.uart.rx_trigger(), rig.uart.tx_trigger()), (1, 10));
        rig.icr_write(ICR_RTL, 100);
        assert_eq!(rig.uart.rx_trigger(), 100);
    }

    #[test]
    fn enhanced_tx_trigger_raises_thre_at_the_level() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x01);
        rig.icr_write(ICR_TTL, 2);
        rig.icr_write(ICR_ACR, ACR_950_TRIGGERS);
        rig.w(IER, IER_ETBEI);
        assert_eq!(rig.isr(), 0x02);
        for c in b"abcdef" {
            rig.w(THR, *c);
        }
        // 'a' in the shifter, 5 in the FIFO; the level reaches 2 after three more starts.
        rig.run_for(3 * CHAR - 1);
        assert!(!rig.uart.irq());
        rig.run_for(1);
        assert_eq!(rig.uart.tx.len(), 2);
        assert_eq!(rig.isr(), 0x02);
        assert_eq!(rig.r(LSR) & LSR_THRE, 0, "LSR.THRE still means empty");
    }

    #[test]
    fn loopback_sends_tx_to_rx_and_leaves_the_host_alone() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x01);
        rig.cap.feed(b"host");
        rig.w(MCR, 0x10);
        for c in b"loop" {
            rig.w(THR, *c);
        }
        rig.run_for(4 * CHAR);
        assert_eq!(rig.cap.output(), b"", "nothing on the wire");
        assert_eq!(rig.cap.pending_input(), 4, "host input not taken");
        let mut got = Vec::new();
        while rig.r(LSR) & LSR_DR != 0 {
            got.push(rig.r(THR));
        }
        assert_eq!(got, b"loop");
        assert_eq!(rig.uart.counters.loopback_bytes, 4);
        // MSR mirrors MCR in loopback: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
        rig.r(MSR);
        rig.w(MCR, 0x1F);
        assert_eq!(rig.r(MSR), 0xFB, "all four inputs, ΔCTS ΔDSR ΔDCD");
        rig.w(MCR, 0x1B);
        assert_eq!(rig.r(MSR), 0xB4, "RI went away: TERI");
        // Leaving loopback: the host line is back.
        rig.w(MCR, 0x00);
        rig.run_for(4 * CHAR);
        let mut got = Vec::new();
        while rig.r(LSR) & LSR_DR != 0 {
            got.push(rig.r(THR));
        }
        assert_eq!(got, b"host");
    }

    #[test]
    fn indexed_registers_and_950_status_registers() {
        let mut rig = Rig::at_115200();
        // Written values read back through ACR[6].
        for (index, value) in [
            (ICR_CPR, 0x4A),
            (ICR_CKS, 0x11),
            (ICR_TTL, 0x22),
            (ICR_RTL, 0x33),
            (ICR_FCL, 0x44),
            (ICR_FCH, 0x55),
            (ICR_NMR, 0x03),
            (ICR_MDM, 0x0E),
            (ICR_CKA, 0x01),
        ] {
            rig.icr_write(index, value);
            assert_eq!(rig.icr_read(index), value, "index {index:#x}");
        }
        assert_eq!(rig.icr_read(ICR_TCR), 4);
        for id in ICR_ID1..=ICR_REV {
            assert_eq!(
                rig.icr_read(id),
                0,
                "ID registers read as AN_324 lists them"
            );
        }
        rig.w(FCR, 0x87);
        assert_eq!(
            rig.icr_read(ICR_RFC),
            0x81,
            "RFC: FCR without the reset bits"
        );
        rig.icr_write(ICR_RFC, 0xFF);
        assert_eq!(rig.icr_read(ICR_RFC), 0x81, "RFC is read-only");
        // Without ACR[6], offset 5 reads LSR.
        rig.w(SPR, ICR_CPR);
        assert_eq!(rig.r(LSR), 0x60);
        // ACR[7]: ASR, RFL, TFL.
        rig.cap.feed(b"xyz");
        rig.run_for(3 * CHAR);
        rig.w(THR, b'1');
        rig.w(THR, b'2');
        rig.w(MCR, 0x03);
        rig.icr_write(ICR_ACR, ACR_STATUS);
        assert_eq!(rig.r(LCR), 3, "RFL");
        assert_eq!(rig.r(MCR), 1, "TFL ('1' is in the shifter)");
        assert_eq!(rig.r(IER), 0x0C, "ASR: DTR, RTS, busy, 16-byte FIFO");
        rig.sys.msc0cfg |= msc0::UART0_FIFOSEL;
        rig.run_for(2 * CHAR);
        assert_eq!(rig.r(IER), 0xEC, "ASR: idle, 128-byte FIFO, FIFOSEL");
        rig.icr_write(ICR_ACR, 0);
        assert_eq!(rig.r(LCR), 0x03);
        assert_eq!(rig.r(MCR), 0x03);
        assert_eq!(rig.cap.output(), b"12");
    }

    #[test]
    fn csr_software_reset_restores_power_on_state() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x01);
        rig.w(IER, 0x0F);
        rig.w(SPR, 0x55);
        rig.cap.feed(b"abc");
        rig.run_for(CHAR);
        rig.w(THR, b'x');
        rig.w(THR, b'y');
        rig.icr_write(ICR_CSR, 0x00);
        assert_eq!(rig.r(LSR), 0x60);
        assert_eq!(rig.isr(), 0x01);
        assert_eq!(rig.r(IER), 0);
        assert_eq!(rig.r(SPR), 0);
        assert_eq!(rig.r(LCR), 0);
        assert_eq!(rig.uart.char_cycles(), 7 * 16 * 65536);
        // Events scheduled before the reset are stale.
        rig.run_for(4 * CHAR);
        assert_eq!(rig.cap.output(), b"");
        assert_eq!(rig.r(LSR), 0x60);
    }

    #[test]
    fn lcr_bf_opens_the_650_registers() {
        let mut rig = Rig::at_115200();
        rig.w(MCR, 0x02);
        rig.w(SPR, 0x99);
        rig.w(LCR, 0xBF);
        for (off, v) in [(2, 0xD0), (4, 0x11), (5, 0x13), (6, 0x91), (7, 0x93)] {
            rig.w(off, v);
        }
        for (off, v) in [(2, 0xD0), (4, 0x11), (5, 0x13), (6, 0x91), (7, 0x93)] {
            assert_eq!(rig.r(off), v, "offset {off}");
        }
        // 0xBF has DLAB set: offsets 0/1 are the divisor.
        assert_eq!(rig.r(0), 217);
        assert_eq!(rig.r(3), 0xBF);
        rig.w(LCR, 0x03);
        assert_eq!(rig.r(MCR), 0x02);
        assert_eq!(rig.r(SPR), 0x99);
        assert_eq!(rig.r(LSR), 0x60);
        assert_eq!(rig.uart.r.efr, 0xD0);
        assert_eq!(rig.with(|u, c| u.depth(c)), 1, "EFR[4] but FIFOs off");
        rig.w(FCR, 0x01);
        assert_eq!(rig.with(|u, c| u.depth(c)), 128);
        // Any other LCR value with DLAB keeps the standard registers at 2 and 4..7.
        rig.w(LCR, 0x83);
        assert_eq!(rig.r(SPR), 0x99);
        assert_eq!(rig.r(MCR), 0x02);
    }

    #[test]
    fn irq_follows_isr_bit_0() {
        let mut rig = Rig::at_115200();
        rig.w(IER, IER_ERBFI);
        assert!(!rig.uart.irq());
        rig.cap.feed(b"a");
        rig.run_for(CHAR);
        assert!(rig.uart.irq());
        assert_eq!(rig.isr() & 1, 0);
        rig.w(IER, 0);
        assert!(!rig.uart.irq(), "masked by IER");
        assert_eq!(rig.isr(), 0x01);
        rig.w(IER, IER_ERBFI);
        rig.r(THR);
        assert!(!rig.uart.irq());
    }

    #[test]
    fn host_bytes_arrive_one_per_character_time_and_late_feeds_are_noticed() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x01);
        // Polling starts at the first access after the clock is on: cycle 0 here.
        rig.cap.feed(b"ab");
        rig.run_to(CHAR - 1);
        assert_eq!(rig.uart.rx.len(), 0);
        rig.run_to(CHAR);
        assert_eq!(rig.uart.rx.len(), 1);
        rig.run_to(2 * CHAR);
        assert_eq!(rig.uart.rx.len(), 2);
        // Idle for a while, then more input.
        rig.run_to(50 * CHAR);
        rig.cap.feed(b"c");
        rig.run_to(51 * CHAR);
        assert_eq!(rig.uart.rx.len(), 3);
        assert_eq!(rig.uart.stats()[1], ("rx-bytes", 3));
        // One poll and one time-out check at a time, plus the stale polls of the setup's
        // baud changes (far in the future, ignored when they come).
        assert!(rig.queue.len() <= 5, "{} events queued", rig.queue.len());
        rig.run_for(100_000_000);
        assert_eq!(rig.queue.len(), 1, "just the next poll");
    }

    #[test]
    fn a_divisor_change_moves_the_next_poll() {
        let mut rig = Rig::new();
        rig.w(SPR, 0); // first access: polling at the reset rate (73 ms per character)
        assert_eq!(rig.queue.next_at(), 7 * 16 * 65536);
        rig.icr_write(ICR_TCR, 4);
        rig.w(LCR, 0x80);
        rig.w(0, 217);
        rig.w(1, 0);
        rig.w(LCR, 0x03);
        rig.cap.feed(b"z");
        rig.run_for(CHAR);
        assert_eq!(rig.r(THR), b'z');
    }

    #[test]
    fn backends_that_cannot_send_cost_no_events() {
        let mut rig = Rig::at_115200();
        rig.uart.set_backend(Box::new(Disconnected));
        // The poll scheduled for the capture runs and stops; stale events drain.
        rig.run_for(100_000_000);
        assert!(rig.queue.is_empty());
        rig.w(FCR, 0x01);
        rig.r(LSR);
        assert!(rig.queue.is_empty(), "no polling of a disconnected line");
        rig.w(THR, b'x');
        assert_eq!(rig.queue.len(), 1, "just the TX completion");

        // An output-only capture: its output is kept, and it is not polled either.
        let out = Capture::output_only();
        rig.uart.set_backend(Box::new(out.clone()));
        rig.run_for(100_000_000);
        assert!(rig.queue.is_empty(), "no polling of an output-only capture");
        assert_eq!(out.output(), b"x");
        rig.w(THR, b'y');
        rig.run_for(100_000_000);
        assert_eq!(out.output(), b"xy");
        assert!(rig.queue.is_empty());
    }

    #[test]
    fn with_the_clock_off_nothing_moves_until_the_next_access() {
        let mut rig = Rig::at_115200();
        rig.w(THR, b'a');
        rig.cap.feed(b"in");
        rig.sys.clkcfg = 0;
        rig.run_for(100_000_000);
        assert_eq!(rig.cap.output(), b"", "held while the clock is off");
        assert_eq!(rig.cap.pending_input(), 2);
        assert!(rig.queue.is_empty(), "no polling without a clock");
        rig.sys.clkcfg = clk::UART0;
        assert_eq!(
            rig.r(LSR),
            0x60,
            "the held character completes at the access"
        );
        assert_eq!(rig.cap.output(), b"a");
        rig.run_for(CHAR);
        assert_eq!(rig.r(LSR) & LSR_DR, LSR_DR);
    }

    #[test]
    fn flush_delivers_what_the_transmitter_still_holds() {
        let mut rig = Rig::at_115200();
        rig.w(FCR, 0x01);
        rig.run_to(100);
        for c in b"bye\n" {
            rig.w(THR, *c);
        }
        rig.run_for(CHAR);
        assert_eq!(rig.cap.output(), b"b");
        rig.uart.flush();
        assert_eq!(rig.cap.output(), b"bye\n");
        let t = rig.cap.output_times();
        assert_eq!(
            t,
            vec![
                (100 + CHAR) * 10,
                (100 + 2 * CHAR) * 10,
                (100 + 3 * CHAR) * 10,
                (100 + 4 * CHAR) * 10
            ]
        );
        // Stale completion events do nothing.
        rig.run_for(10 * CHAR);
        assert_eq!(rig.cap.output(), b"bye\n");
        assert_eq!(rig.r(LSR), 0x60);
    }

    #[test]
    fn uart1_uses_its_own_clock_and_fifosel_bits() {
        let mut u = Uart::new(1);
        assert_eq!(u.name(), "uart1");
        let mut q = EventQueue::new();
        let sys = SysView {
            clkcfg: clk::UART1,
            msc0cfg: msc0::UART1_FIFOSEL,
            ..SysView::default()
        };
        let mut ctx = Ctx {
            now: 0,
            queue: &mut q,
            source: Source::Uart1,
            sys,
        };
        u.reset(&mut ctx);
        assert!(u.clocked(&ctx));
        u.write(FCR, Width::Byte, 1, &mut ctx);
        assert_eq!(u.depth(&ctx), 128);
        assert_eq!(Uart::new(0).name(), "uart0");
    }
}
