//! Ethernet MAC and the integrated PHY (AN_324 §10; docs/hardware/ethernet.md).
//!
//! # Registers (base 0x10220, offsets 0x00–0x17)
//! Byte registers, reachable with 8, 16 and 32-bit accesses (a wider access touches the
//! neighbouring registers, lowest address first). The data port ETH_DATA (offset 4) is 32-bit
//! only: AN_324 says "the FIFO must be accessed in Double-Word mode only", so an 8 or 16-bit
//! access to offsets 4–7 is reported as unmodelled by the bus (it reads 0 and does not pop or
//! append anything), as is anything at offsets 0x18–0x1F.
//!
//! # Transmit
//! A 512-word TX RAM with a write pointer; each 32-bit write to ETH_DATA stores a word and
//! advances the pointer (writes past the end are lost and make the next request fail with
//! TX_ERR). Setting ETH_TR_REQ (with TX_ENABLE, or later when TX_ENABLE is set) reads the
//! "Data Length" L from word 0 (payload bytes after the 14-byte header); L > 2032 fails at once
//! with TX_ERR. Otherwise the frame (14 + L bytes from the RAM, padded to 60 if PAD_ENABLE)
//! takes its wire time at the PHY's speed (sim-link's [`wire_time_100m`], ×10 at 10 Mbit/s),
//! and at the end of it goes to the [`Link`] (without FCS), TR_REQ clears, TX_EMPTY is set and
//! the write pointer returns to 0. With CRC_ENABLE the FCS is computed (kept for inspection);
//! without it the last four bytes the firmware wrote are the FCS, and a frame whose FCS is wrong
//! is transmitted but never reaches the link (every receiver would drop it).
//!
//! # Receive
//! A 512-word FIFO of records: word 0 holds L = frame length + 4 (FCS) + 2 in bits 15:0,
//! followed by the frame and its FCS, little-endian byte lanes (docs/hardware/ethernet.md §3). Link
//! frames carry no FCS: the MAC computes and appends it. Frames shorter than 60 bytes are padded
//! with zeros to 60, as the sending station's MAC would have done on a real wire. ETH_NUM_PKT
//! counts the records not yet read to their last word; RX_INT is live (NUM_PKT > 0).
//!
//! # Time
//! Everything is in CPU cycles (10 ns). Link arrival times are converted from nanoseconds by
//! rounding up; a link is polled with one event at its next arrival time, re-armed after every
//! poll, every transmission, every reset and every register access (a cheap check). Events carry
//! generation tokens, so a superseded event is ignored.
//!
//! # Decisions where AN_324 is silent (docs/hardware/open-questions.md)
//! * Reset values: ETH_INT_ENABLE 0x00, ETH_RX_CNTL 0x08 (q9); ETH_MNG_DIV 0x80.
//! * TR_REQ while TX_ENABLE = 0 stays pending until TX_ENABLE is set (q20). Clearing TX_ERR
//!   (writing 1 while it is set) resets the TX write pointer; the pointer is also reset when a
//!   transmission completes. Words written during a transmission are lost at its end (the SDK
//!   waits for TR_REQ = 0 first). A short record sends stale RAM bytes up to 14 + L, like RAM.
//! * ETH_DATA reads pop one word, 0 when empty; NUM_PKT drops when a record's last word has
//!   been read (q10). RESET_FIFO acts at once and reads back 0. A FIFO overrun (no room for the
//!   whole record, or NUM_PKT = 63) drops the frame and sets FIFO_OV.
//! * A frame with a bad FCS that passes the address filter sets RX_ERR whether BAD_CRC drops it
//!   or not (AN_324: "RX_ERR will still be flagged"); only [`Eth::deliver_wire_frame`] can
//!   produce one, as links carry no FCS. Broadcast is always accepted (q12).
//! * MDIO: START latches MNG_ADDR, the register, the direction and MNG_TX; the transaction ends
//!   64 MDC periods later (128 × (DIV + 1) cycles) whatever is written meanwhile (START stays
//!   set). The PHY answers at the address in `ETH_PHY_CFG[4:0]` unless MSC0CFG.MAC_RESET_PHY holds
//!   it in reset; otherwise a read returns 0xFFFF (pulled-up MDIO).
//! * PHY: ETH_PHY_CFG bit 8 (PWRDN) or BMCR bit 11 = powered down: no link, negotiation
//!   forgotten; MDIO still works (clause 22 requires it). Bit 9 (PWRSV, energy-detect power
//!   save) has no visible effect. The MAC sees ETH_PHY_CFG only when it is called (access,
//!   event, PHY reset), so a power-up starts negotiation then; the SDK resets the PHY right
//!   after powering it anyway. Negotiation completes [`AN_CYCLES`] (1.5 ms) after power-up,
//!   PHY reset, BMCR reset/restart or the cable appearing. Loopback (BMCR bit 14 or
//!   ETH_PHY_CFG bit 10) sends frames back to the MAC's receiver and not to the link; wire
//!   frames are lost meanwhile. Isolate (BMCR bit 10) cuts both directions.
//! * No link attached, link down or PHY isolated: a transmission still takes its wire time and
//!   sets TX_EMPTY, but the frame is lost (counted in `tx-dropped`); frames arriving then are
//!   lost too (`rx-dropped-phy`). Frames arriving while RX_ENABLE = 0 or the MAC clock is off
//!   are counted in `rx-dropped-disabled`.
//! * THRESHOLD is stored and ignored (transmission starts on TR_REQ); DUPLEX_MODE is stored
//!   (no collisions are modelled).

pub mod phy;

use std::collections::VecDeque;

use sim_link::{wire_time_100m, Link};

pub use self::phy::{Mode, Phy, AN_CYCLES};
use super::device::{read_bytes, write_bytes, Access, Ctx, Device, NS_PER_CYCLE};
use super::sys::{clk, msc0, PHY_RESET_CYCLES};
use crate::isa::Width;

/// Register offsets from 0x10220.
pub mod reg {
    pub use crate::profile::ft900::regs::eth::*;
    /// ETH_ADDR_1 (first octet on the wire); ETH_ADDR_6 is at [`ADDR_6`].
    pub const ADDR: u32 = ADDR_1;
    /// ETH_MNG_TX0 (ETH_MNG_TX1 at [`MNG_TX1`]).
    pub const MNG_TX: u32 = MNG_TX0;
    /// ETH_MNG_RX0 (ETH_MNG_RX1 at [`MNG_RX1`]).
    pub const MNG_RX: u32 = MNG_RX0;
}

/// ETH_INT_STATUS / ETH_INT_ENABLE bits.
pub mod int {
    /// MDIO transaction done (RW1C).
    pub const MD_INT: u8 = 1 << 5;
    /// Receive error (RW1C).
    pub const RX_ERR: u8 = 1 << 4;
    /// RX FIFO overrun (RW1C).
    pub const FIFO_OV: u8 = 1 << 3;
    /// Frame sent (RW1C).
    pub const TX_EMPTY: u8 = 1 << 2;
    /// Transmit error (RW1C; clearing it resets the TX write pointer).
    pub const TX_ERR: u8 = 1 << 1;
    /// At least one packet in the RX FIFO (read-only, live).
    pub const RX_INT: u8 = 1 << 0;
    /// Every interrupt bit.
    pub const ALL: u8 = 0x3F;
}

/// ETH_RX_CNTL bits.
pub mod rx_cntl {
    /// Empty the RX FIFO (self-clearing in the model).
    pub const RESET_FIFO: u8 = 1 << 4;
    /// Discard frames with a bad FCS.
    pub const BAD_CRC: u8 = 1 << 3;
    /// Promiscuous mode.
    pub const PRMS_MODE: u8 = 1 << 2;
    /// Accept every frame whose destination has the group bit set.
    pub const ACC_MULTI: u8 = 1 << 1;
    /// Receiver on.
    pub const RX_ENABLE: u8 = 1 << 0;
    /// Bits that hold what was written (RX_MEM_SIZE reads 0 = 2048 bytes).
    pub const STORED: u8 = BAD_CRC | PRMS_MODE | ACC_MULTI | RX_ENABLE;
    /// Value after reset (AN_324 bit table; docs/hardware/open-questions.md q9).
    pub const RESET_VALUE: u8 =
        crate::profile::ft900::regs::reset_at(super::reg::REGS, super::reg::RX_CNTL, false) as u8;
}

/// ETH_TX_CNTL bits.
pub mod tx_cntl {
    /// Full duplex (stored; collisions are not modelled).
    pub const DUPLEX_MODE: u8 = 1 << 4;
    /// Append the FCS.
    pub const CRC_ENABLE: u8 = 1 << 2;
    /// Pad short frames to 60 bytes.
    pub const PAD_ENABLE: u8 = 1 << 1;
    /// Transmitter on.
    pub const TX_ENABLE: u8 = 1 << 0;
    /// Bits that hold what was written (TX_MEM_SIZE reads 0 = 2048 bytes).
    pub const STORED: u8 = DUPLEX_MODE | CRC_ENABLE | PAD_ENABLE | TX_ENABLE;
}

/// Words in the TX RAM and in the RX FIFO (2 KiB each).
pub const BUFFER_WORDS: usize = 512;
/// Largest TX "Data Length" (payload bytes after the 14-byte header).
pub const MAX_TX_DATA_LEN: usize = 2032;
/// Most records ETH_NUM_PKT can count.
pub const MAX_NUM_PKT: usize = 63;
/// Minimum frame length without FCS.
pub const MIN_FRAME_LEN: usize = 60;
/// Destination, source and type.
const HEADER_LEN: usize = 14;
/// ETH_PHY_CFG bit 8: PHY power-down.
const PHY_CFG_PWRDN: u32 = 1 << 8;
/// ETH_PHY_CFG bit 10: loopback.
const PHY_CFG_LOOPBACK: u32 = 1 << 10;
/// ETH_PHY_CFG bits 4:0: the PHY's MDIO address.
const PHY_CFG_PHYAD: u32 = 0x1F;
/// ETH_PHY_CFG bit 31 (rev C, read-only): link status.
pub const PHY_CFG_LINK_STATUS: u32 = 1 << 31;
/// ETH_PHY_CFG bits 29 (link/traffic LED), 24 (speed LED), 25 (duplex LED), all active low.
const PHY_CFG_LINK_LED: u32 = 1 << 29;
const PHY_CFG_DUPLEX_LED: u32 = 1 << 25;
const PHY_CFG_SPEED_LED: u32 = 1 << 24;
/// ETH_PHY_CFG bits 24..=29: the LED outputs (rev C, read-only, active low), all dark.
const PHY_CFG_LEDS_DARK: u32 = 0x3F << 24;
/// ETH_PHY_CFG: every read-only status bit of rev C.
pub const PHY_CFG_STATUS_MASK: u32 = PHY_CFG_LINK_STATUS | PHY_CFG_LEDS_DARK;
/// ETH_MNG_DIV after reset.
const MNG_DIV_RESET: u8 =
    crate::profile::ft900::regs::reset_at(reg::REGS, reg::MNG_DIV, false) as u8;

/// Event kinds (low two bits of a token; the rest is a serial number).
const EV_TX_DONE: u64 = 0;
const EV_MDIO_DONE: u64 = 1;
const EV_RX_POLL: u64 = 2;

/// CRC-32 of IEEE 802.3 (reflected, polynomial 0x04C11DB7, initial and final XOR all ones).
/// The FCS goes on the wire least-significant byte first: `crc32(frame).to_le_bytes()`.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Converts virtual nanoseconds to CPU cycles, rounding up.
fn ns_to_cycles(ns: u64) -> u64 {
    ns.div_ceil(NS_PER_CYCLE)
}

/// Counters for statistics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthCounters {
    /// Transmissions completed (TX_EMPTY set), whether or not a link took the frame.
    pub tx_frames: u64,
    /// Bytes of those frames (header, payload and padding; no FCS).
    pub tx_bytes: u64,
    /// Requests that failed with TX_ERR (length over 2032 or TX RAM overflow).
    pub tx_errors: u64,
    /// Completed transmissions that reached no link: no cable attached, link down, PHY
    /// isolated, or a firmware-supplied FCS that is wrong (CRC_ENABLE = 0).
    pub tx_dropped: u64,
    /// Frames stored in the RX FIFO.
    pub rx_frames: u64,
    /// Bytes of those frames (without FCS).
    pub rx_bytes: u64,
    /// Frames dropped by the address filter.
    pub rx_filtered: u64,
    /// Frames dropped because the FIFO had no room or NUM_PKT was 63 (FIFO_OV).
    pub rx_overflows: u64,
    /// Frames dropped because RX_ENABLE was 0 or the MAC clock was off.
    pub rx_dropped_disabled: u64,
    /// Frames from the link lost in the PHY: link down, powered down, isolated or in loopback.
    pub rx_dropped_phy: u64,
    /// Frames with a bad FCS dropped because BAD_CRC = 1.
    pub rx_bad_fcs: u64,
    /// Frames shorter than the 14-byte header, dropped.
    pub rx_runts: u64,
    /// MDIO transactions completed.
    pub mdio_transactions: u64,
}

/// A frame on its way out.
struct TxInFlight {
    token: u64,
    /// The frame without FCS.
    frame: Vec<u8>,
    /// Its FCS is right (always with CRC_ENABLE).
    fcs_ok: bool,
}

/// An MDIO transaction on its way.
struct MdioOp {
    token: u64,
    phy_addr: u8,
    reg: u8,
    write: bool,
    data: u16,
}

/// The MAC, its buffers and the PHY.
pub struct Eth {
    link: Option<Box<dyn Link>>,
    // Registers.
    /// RW1C bits of ETH_INT_STATUS (bit 0 is computed).
    int_status: u8,
    int_enable: u8,
    rx_cntl: u8,
    tx_cntl: u8,
    mac: [u8; 6],
    threshold: u8,
    mng_cntl: u8,
    mng_div: u8,
    mng_addr: u8,
    mng_tx: u16,
    mng_rx: u16,
    tr_req: bool,
    // Transmit.
    tx_ram: Box<[u32; BUFFER_WORDS]>,
    tx_wp: usize,
    tx_overflow: bool,
    tx_in_flight: Option<TxInFlight>,
    last_tx_fcs: Option<u32>,
    // Receive.
    rx_fifo: VecDeque<u32>,
    /// Words not yet read of each record in the FIFO, oldest first.
    rx_records: VecDeque<usize>,
    // Management.
    mdio: Option<MdioOp>,
    phy: Phy,
    // Events.
    serial: u64,
    /// The pending link poll: (cycle, token).
    poll: Option<(u64, u64)>,
    counters: EthCounters,
}

impl Default for Eth {
    fn default() -> Self {
        Self::new()
    }
}

impl Eth {
    /// Power-on state, no cable.
    pub fn new() -> Eth {
        Eth {
            link: None,
            int_status: 0,
            int_enable: 0,
            rx_cntl: rx_cntl::RESET_VALUE,
            tx_cntl: 0,
            mac: [0; 6],
            threshold: 0,
            mng_cntl: 0,
            mng_div: MNG_DIV_RESET,
            mng_addr: 0,
            mng_tx: 0,
            mng_rx: 0,
            tr_req: false,
            tx_ram: Box::new([0; BUFFER_WORDS]),
            tx_wp: 0,
            tx_overflow: false,
            tx_in_flight: None,
            last_tx_fcs: None,
            rx_fifo: VecDeque::with_capacity(BUFFER_WORDS),
            rx_records: VecDeque::new(),
            mdio: None,
            phy: Phy::new(),
            serial: 0,
            poll: None,
            counters: EthCounters::default(),
        }
    }

    /// Plugs the cable into `link`. The link is first polled at the next reset, event or
    /// register access.
    pub fn attach_link(&mut self, link: Box<dyn Link>) {
        self.link = Some(link);
        self.poll = None;
    }

    /// Unplugs the cable and returns it. A harness does this when the firmware has stopped,
    /// so that a shared medium (a switch) stops waiting for this device's clock.
    pub fn detach_link(&mut self) -> Option<Box<dyn Link>> {
        self.poll = None;
        self.link.take()
    }

    /// Looks at the link's next arrival again and schedules a poll for it. The model does this
    /// by itself after every event, transmission and register access; a harness that feeds the
    /// link from outside while the firmware does not touch the MAC calls it after feeding.
    pub fn poll_link(&mut self, ctx: &mut Ctx) {
        self.observe(ctx);
        self.sync_poll(ctx, ctx.now);
    }

    /// A link is attached.
    pub fn has_link(&self) -> bool {
        self.link.is_some()
    }

    /// MSC0CFG.MAC_RESET_PHY: the PHY goes back to its reset state; negotiation starts again
    /// when the reset pulse ends.
    pub fn phy_reset(&mut self, ctx: &mut Ctx) {
        self.observe(ctx);
        self.phy.reset(ctx.now + PHY_RESET_CYCLES);
        self.sync_poll(ctx, ctx.now);
    }

    /// Counters since the simulator started (kept across chip resets).
    pub fn counters(&self) -> EthCounters {
        self.counters
    }

    /// The PHY (link state, registers).
    pub fn phy(&self) -> &Phy {
        &self.phy
    }

    /// Link up at cycle `now`, as the PHY last saw its inputs (for ETH_PHY_CFG.LINK_STATUS on
    /// rev C silicon).
    pub fn link_up(&self, now: u64) -> bool {
        self.phy.link_up(now)
    }

    /// The read-only PHY status bits of ETH_PHY_CFG (0x100A8) on rev C silicon, at `ctx.now`:
    /// bit 31 LINK_STATUS (1 = up); the LED outputs, active low: 29 link/traffic (lit while
    /// the link is up), 28/27/26 TX/RX activity and collision (never lit: activity blinks are
    /// not modelled), 25 full duplex and 24 speed (lit for full duplex and 100 Mbit/s while
    /// up). The SDK's `ethernet_is_link_up`, `ethernet_link_speed` and `ethernet_link_duplex`
    /// read these instead of MII registers on rev C (docs/hardware/revisions.md, docs/hardware/ethernet.md §7).
    pub fn phy_cfg_status(&mut self, ctx: &Ctx) -> u32 {
        self.observe(ctx);
        self.phy_cfg_status_at(ctx.now)
    }

    /// [`Eth::phy_cfg_status`] without bringing the PHY up to `now` first (for debugger views).
    pub fn phy_cfg_status_at(&self, now: u64) -> u32 {
        let up = self.phy.link_up(now);
        let mode = self.phy.mode().filter(|_| up);
        let mut bits = PHY_CFG_LEDS_DARK;
        if up {
            bits |= PHY_CFG_LINK_STATUS;
            bits &= !PHY_CFG_LINK_LED;
        }
        if mode.is_some_and(|m| m.full_duplex) {
            bits &= !PHY_CFG_DUPLEX_LED;
        }
        if mode.is_some_and(|m| m.speed_100) {
            bits &= !PHY_CFG_SPEED_LED;
        }
        bits
    }

    /// The station address in ETH_ADDR_1..6.
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    /// Complete records in the RX FIFO (ETH_NUM_PKT).
    pub fn num_pkt(&self) -> usize {
        self.rx_records.len()
    }

    /// Words in the RX FIFO.
    pub fn rx_fifo_words(&self) -> usize {
        self.rx_fifo.len()
    }

    /// FCS of the last frame transmitted (computed with CRC_ENABLE, else the one the firmware
    /// wrote).
    pub fn last_tx_fcs(&self) -> Option<u32> {
        self.last_tx_fcs
    }

    /// Delivers a frame as it arrives from a wire, FCS included (at least 4 bytes), bypassing
    /// the link: for tests and backends that carry the FCS. A wrong FCS sets RX_ERR and the
    /// frame is dropped (BAD_CRC = 1) or stored (BAD_CRC = 0). No padding is added.
    pub fn deliver_wire_frame(&mut self, wire: &[u8], ctx: &mut Ctx) {
        self.observe(ctx);
        if wire.len() < 4 {
            self.counters.rx_runts += 1;
            return;
        }
        let (frame, fcs) = wire.split_at(wire.len() - 4);
        let fcs = u32::from_le_bytes([fcs[0], fcs[1], fcs[2], fcs[3]]);
        if self.phy_passes_rx(ctx) {
            self.mac_receive(frame, fcs, ctx);
        } else {
            self.counters.rx_dropped_phy += 1;
        }
    }

    fn next_token(&mut self, kind: u64) -> u64 {
        self.serial += 1;
        (self.serial << 2) | kind
    }

    fn int_status(&self) -> u8 {
        self.int_status | u8::from(!self.rx_records.is_empty())
    }

    /// Hands the PHY what it cannot see itself: the power-down pin and the cable.
    fn observe(&mut self, ctx: &Ctx) {
        let pin = ctx.sys.eth_phy_cfg & PHY_CFG_PWRDN != 0;
        let carrier = self.link.as_ref().is_some_and(|l| l.carrier());
        self.phy.observe(ctx.now, pin, carrier);
    }

    fn loopback(&self, ctx: &Ctx) -> bool {
        self.phy.loopback() || ctx.sys.eth_phy_cfg & PHY_CFG_LOOPBACK != 0
    }

    /// Frames from the wire reach the MAC.
    fn phy_passes_rx(&self, ctx: &Ctx) -> bool {
        self.phy.link_up(ctx.now) && !self.phy.isolated() && !self.loopback(ctx)
    }

    /// Makes sure an event is pending for the link's next arrival, no earlier than `earliest`.
    fn sync_poll(&mut self, ctx: &mut Ctx, earliest: u64) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        let Some(t) = link.next_arrival(ctx.now * NS_PER_CYCLE) else {
            return;
        };
        let at = ns_to_cycles(t).max(earliest);
        if self.poll.is_some_and(|(p, _)| p <= at) {
            return;
        }
        let token = self.next_token(EV_RX_POLL);
        self.poll = Some((at, token));
        ctx.schedule_at(at, token);
    }

    /// Receives every frame the link has for this cycle.
    fn rx_poll(&mut self, ctx: &mut Ctx) {
        let now_ns = ctx.now * NS_PER_CYCLE;
        let mut frames = Vec::new();
        if let Some(link) = self.link.as_mut() {
            while let Some(f) = link.receive(now_ns) {
                frames.push(f);
            }
        }
        for mut frame in frames {
            if !self.phy_passes_rx(ctx) {
                self.counters.rx_dropped_phy += 1;
                continue;
            }
            if frame.len() >= HEADER_LEN && frame.len() < MIN_FRAME_LEN {
                frame.resize(MIN_FRAME_LEN, 0);
            }
            let fcs = crc32(&frame);
            self.mac_receive(&frame, fcs, ctx);
        }
    }

    /// The MAC's receive path for a frame (without FCS) and the FCS it arrived with.
    fn mac_receive(&mut self, frame: &[u8], fcs: u32, ctx: &mut Ctx) {
        if self.rx_cntl & rx_cntl::RX_ENABLE == 0 || ctx.sys.clkcfg & clk::MAC == 0 {
            self.counters.rx_dropped_disabled += 1;
            return;
        }
        if frame.len() < HEADER_LEN {
            self.counters.rx_runts += 1;
            return;
        }
        let da = &frame[..6];
        let accept = self.rx_cntl & rx_cntl::PRMS_MODE != 0
            || da == self.mac
            || da == [0xFF; 6]
            || (self.rx_cntl & rx_cntl::ACC_MULTI != 0 && da[0] & 1 != 0);
        if !accept {
            self.counters.rx_filtered += 1;
            return;
        }
        if crc32(frame) != fcs {
            self.int_status |= int::RX_ERR;
            if self.rx_cntl & rx_cntl::BAD_CRC != 0 {
                self.counters.rx_bad_fcs += 1;
                return;
            }
        }
        let len = 2 + frame.len() + 4;
        let words = len.div_ceil(4);
        if self.rx_records.len() >= MAX_NUM_PKT || self.rx_fifo.len() + words > BUFFER_WORDS {
            self.int_status |= int::FIFO_OV;
            self.counters.rx_overflows += 1;
            return;
        }
        let mut bytes = Vec::with_capacity(words * 4);
        bytes.extend_from_slice(&(len as u16).to_le_bytes());
        bytes.extend_from_slice(frame);
        bytes.extend_from_slice(&fcs.to_le_bytes());
        bytes.resize(words * 4, 0);
        self.rx_fifo.extend(
            bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        self.rx_records.push_back(words);
        self.counters.rx_frames += 1;
        self.counters.rx_bytes += frame.len() as u64;
    }

    /// A 32-bit read of ETH_DATA: the next FIFO word (0 when empty).
    fn pop_rx(&mut self) -> u32 {
        let Some(word) = self.rx_fifo.pop_front() else {
            return 0;
        };
        if let Some(left) = self.rx_records.front_mut() {
            *left -= 1;
            if *left == 0 {
                self.rx_records.pop_front();
            }
        }
        word
    }

    /// A 32-bit write of ETH_DATA: the next TX RAM word.
    fn push_tx(&mut self, word: u32) {
        if self.tx_wp < BUFFER_WORDS {
            self.tx_ram[self.tx_wp] = word;
            self.tx_wp += 1;
        } else {
            self.tx_overflow = true;
        }
    }

    /// Starts the requested transmission if the transmitter is on and idle.
    fn maybe_start_tx(&mut self, ctx: &mut Ctx) {
        if !self.tr_req || self.tx_in_flight.is_some() || self.tx_cntl & tx_cntl::TX_ENABLE == 0 {
            return;
        }
        let data_len = (self.tx_ram[0] & 0xFFFF) as usize;
        if self.tx_overflow || data_len > MAX_TX_DATA_LEN {
            self.int_status |= int::TX_ERR;
            self.tr_req = false;
            self.counters.tx_errors += 1;
            return;
        }
        let ram: Vec<u8> = self.tx_ram.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut frame = ram[2..2 + HEADER_LEN + data_len].to_vec();
        if self.tx_cntl & tx_cntl::PAD_ENABLE != 0 && frame.len() < MIN_FRAME_LEN {
            frame.resize(MIN_FRAME_LEN, 0);
        }
        let mut wire_ns = wire_time_100m(frame.len());
        let fcs_ok = if self.tx_cntl & tx_cntl::CRC_ENABLE != 0 {
            self.last_tx_fcs = Some(crc32(&frame));
            true
        } else if frame.len() >= 4 {
            // The firmware supplied the FCS as the frame's last four bytes.
            let body = frame.len() - 4;
            let fcs = u32::from_le_bytes([
                frame[body],
                frame[body + 1],
                frame[body + 2],
                frame[body + 3],
            ]);
            frame.truncate(body);
            wire_ns = wire_time_100m(body);
            self.last_tx_fcs = Some(fcs);
            crc32(&frame) == fcs
        } else {
            self.last_tx_fcs = None;
            false
        };
        if self.phy.mode().is_some_and(|m| !m.speed_100) {
            wire_ns *= 10;
        }
        let token = self.next_token(EV_TX_DONE);
        self.tx_in_flight = Some(TxInFlight {
            token,
            frame,
            fcs_ok,
        });
        ctx.schedule_in(ns_to_cycles(wire_ns), token);
    }

    /// The last bit of the frame has left.
    fn tx_done(&mut self, ctx: &mut Ctx) {
        let Some(tx) = self.tx_in_flight.take() else {
            return;
        };
        self.tr_req = false;
        self.int_status |= int::TX_EMPTY;
        self.tx_wp = 0;
        self.tx_overflow = false;
        self.counters.tx_frames += 1;
        self.counters.tx_bytes += tx.frame.len() as u64;
        let phy_ok = self.phy.powered() && !self.phy.isolated();
        if self.loopback(ctx) {
            if phy_ok && tx.fcs_ok {
                let fcs = crc32(&tx.frame);
                self.mac_receive(&tx.frame, fcs, ctx);
            } else {
                self.counters.tx_dropped += 1;
            }
        } else if phy_ok && tx.fcs_ok && self.phy.link_up(ctx.now) && self.link.is_some() {
            if let Some(link) = self.link.as_mut() {
                link.transmit(ctx.now * NS_PER_CYCLE, &tx.frame);
            }
        } else {
            self.counters.tx_dropped += 1;
        }
    }

    /// START was written: the transaction runs for 64 MDC periods.
    fn start_mdio(&mut self, ctx: &mut Ctx) {
        let token = self.next_token(EV_MDIO_DONE);
        self.mdio = Some(MdioOp {
            token,
            phy_addr: self.mng_addr,
            reg: self.mng_cntl >> 3,
            write: self.mng_cntl & 2 != 0,
            data: self.mng_tx,
        });
        ctx.schedule_in(64 * 2 * (u64::from(self.mng_div) + 1), token);
    }

    fn mdio_done(&mut self, ctx: &mut Ctx) {
        let Some(op) = self.mdio.take() else {
            return;
        };
        let responds = u32::from(op.phy_addr) == ctx.sys.eth_phy_cfg & PHY_CFG_PHYAD
            && ctx.sys.msc0cfg & msc0::MAC_RESET_PHY == 0;
        if op.write {
            if responds {
                self.phy.write(op.reg, op.data, ctx.now);
            }
        } else {
            self.mng_rx = if responds {
                self.phy.read(op.reg, ctx.now, ctx.sys.eth_phy_id)
            } else {
                0xFFFF
            };
        }
        self.mng_cntl &= !1;
        self.int_status |= int::MD_INT;
        self.counters.mdio_transactions += 1;
    }

    /// The register byte at `offset`, read without side effects (`None` for the data port
    /// and offsets with no register).
    pub fn peek(&self, offset: u32) -> Option<u8> {
        self.read_reg(offset)
    }

    fn read_reg(&self, offset: u32) -> Option<u8> {
        Some(match offset {
            reg::INT_STATUS => self.int_status(),
            reg::INT_ENABLE => self.int_enable,
            reg::RX_CNTL => self.rx_cntl,
            reg::TX_CNTL => self.tx_cntl,
            reg::ADDR_1..=reg::ADDR_6 => self.mac[(offset - reg::ADDR_1) as usize],
            reg::THRESHOLD => self.threshold,
            reg::MNG_CNTL => self.mng_cntl,
            reg::MNG_DIV => self.mng_div,
            reg::MNG_ADDR => self.mng_addr,
            reg::MNG_TX0 => self.mng_tx as u8,
            reg::MNG_TX1 => (self.mng_tx >> 8) as u8,
            reg::MNG_RX0 => self.mng_rx as u8,
            reg::MNG_RX1 => (self.mng_rx >> 8) as u8,
            reg::NUM_PKT => self.rx_records.len() as u8,
            reg::TR_REQ => u8::from(self.tr_req),
            _ => return None,
        })
    }

    fn write_reg(&mut self, offset: u32, b: u8, ctx: &mut Ctx) -> bool {
        match offset {
            reg::INT_STATUS => {
                let clear = b & (int::ALL & !int::RX_INT);
                if clear & self.int_status & int::TX_ERR != 0 {
                    self.tx_wp = 0;
                    self.tx_overflow = false;
                }
                self.int_status &= !clear;
            }
            reg::INT_ENABLE => self.int_enable = b & int::ALL,
            reg::RX_CNTL => {
                if b & rx_cntl::RESET_FIFO != 0 {
                    self.rx_fifo.clear();
                    self.rx_records.clear();
                }
                self.rx_cntl = b & rx_cntl::STORED;
            }
            reg::TX_CNTL => {
                self.tx_cntl = b & tx_cntl::STORED;
                self.maybe_start_tx(ctx);
            }
            reg::ADDR_1..=reg::ADDR_6 => self.mac[(offset - reg::ADDR_1) as usize] = b,
            reg::THRESHOLD => self.threshold = b & 0x3F,
            reg::MNG_CNTL => {
                if self.mdio.is_some() {
                    // Busy: the running transaction keeps its latched register and direction,
                    // and START stays set until it ends.
                    self.mng_cntl = (b & 0xFA) | 1;
                } else {
                    self.mng_cntl = b & 0xFB;
                    if b & 1 != 0 {
                        self.start_mdio(ctx);
                    }
                }
            }
            reg::MNG_DIV => self.mng_div = b,
            reg::MNG_ADDR => self.mng_addr = b & 0x1F,
            reg::MNG_TX0 => self.mng_tx = (self.mng_tx & 0xFF00) | u16::from(b),
            reg::MNG_TX1 => self.mng_tx = (self.mng_tx & 0x00FF) | (u16::from(b) << 8),
            // AN_324 lists MNG_RX0/1 as RW: a write sticks until the next MDIO read.
            reg::MNG_RX0 => self.mng_rx = (self.mng_rx & 0xFF00) | u16::from(b),
            reg::MNG_RX1 => self.mng_rx = (self.mng_rx & 0x00FF) | (u16::from(b) << 8),
            reg::NUM_PKT => {}
            reg::TR_REQ => {
                if b & 1 != 0 && !self.tr_req {
                    self.tr_req = true;
                    self.maybe_start_tx(ctx);
                }
            }
            _ => return false,
        }
        true
    }

    fn is_data_port(offset: u32) -> bool {
        offset & !3 == reg::DATA
    }
}

impl Device for Eth {
    fn name(&self) -> &'static str {
        "eth"
    }

    fn read(&mut self, offset: u32, width: Width, ctx: &mut Ctx) -> Access<u32> {
        self.observe(ctx);
        let result = if Eth::is_data_port(offset) {
            if width == Width::Word {
                Access::Done(self.pop_rx())
            } else {
                Access::Unmodelled
            }
        } else {
            read_bytes(offset, width, |o| self.read_reg(o))
        };
        self.sync_poll(ctx, ctx.now);
        result
    }

    fn write(&mut self, offset: u32, width: Width, value: u32, ctx: &mut Ctx) -> Access<()> {
        self.observe(ctx);
        let result = if Eth::is_data_port(offset) {
            if width == Width::Word {
                self.push_tx(value);
                Access::Done(())
            } else {
                Access::Unmodelled
            }
        } else {
            write_bytes(offset, width, value, |o, b| self.write_reg(o, b, ctx))
        };
        self.sync_poll(ctx, ctx.now);
        result
    }

    fn event(&mut self, token: u64, ctx: &mut Ctx) {
        self.observe(ctx);
        let mut earliest = ctx.now;
        match token & 3 {
            EV_TX_DONE if self.tx_in_flight.as_ref().is_some_and(|t| t.token == token) => {
                self.tx_done(ctx);
            }
            EV_MDIO_DONE if self.mdio.as_ref().is_some_and(|m| m.token == token) => {
                self.mdio_done(ctx);
            }
            EV_RX_POLL if self.poll.is_some_and(|(_, t)| t == token) => {
                self.poll = None;
                self.rx_poll(ctx);
                // Everything due by now has been taken: a poll at this same cycle again
                // would find nothing.
                earliest = ctx.now + 1;
            }
            _ => {} // superseded
        }
        self.sync_poll(ctx, earliest);
    }

    fn irq(&self) -> bool {
        self.int_status() & self.int_enable & int::ALL != 0
    }

    /// Power-on state of the MAC and the PHY; the link stays attached, counters keep counting.
    fn reset(&mut self, ctx: &mut Ctx) {
        let link = self.link.take();
        let serial = self.serial;
        let counters = self.counters;
        *self = Eth::new();
        self.link = link;
        self.serial = serial;
        self.counters = counters;
        let pin = ctx.sys.eth_phy_cfg & PHY_CFG_PWRDN != 0;
        let carrier = self.link.as_ref().is_some_and(|l| l.carrier());
        self.phy.power_on(ctx.now, pin, carrier);
        self.sync_poll(ctx, ctx.now);
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let c = &self.counters;
        vec![
            ("tx-frames", c.tx_frames),
            ("tx-bytes", c.tx_bytes),
            ("tx-errors", c.tx_errors),
            ("tx-dropped", c.tx_dropped),
            ("rx-frames", c.rx_frames),
            ("rx-bytes", c.rx_bytes),
            ("rx-filtered", c.rx_filtered),
            ("rx-fifo-overflows", c.rx_overflows),
            ("rx-dropped-disabled", c.rx_dropped_disabled),
            ("rx-dropped-phy", c.rx_dropped_phy),
            ("rx-bad-fcs", c.rx_bad_fcs),
            ("rx-runts", c.rx_runts),
            ("mdio-transactions", c.mdio_transactions),
        ]
    }
}

#[cfg(test)]
mod tests {
    use sim_link::{test_link, LoopbackLink, TestLinkHandle};

    use super::phy::reg as mii;
    use super::*;
    use crate::profile::ft900::device::SysView;
    use crate::profile::ft900::event::{EventQueue, Source};

    const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    const PEER: [u8; 6] = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE];
    /// ETH_PHY_CFG as the SDK leaves it: powered, LED sources at reset, PHY address 0x17.
    const PHY_CFG_SDK: u32 = 0x0007_0017;
    const PHY_ID: u32 = 0x0044_1400;

    /// An Eth with its own event queue and clock, driven like the bus drives it.
    struct Bench {
        eth: Eth,
        queue: EventQueue,
        now: u64,
        sys: SysView,
    }

    impl Bench {
        /// MAC clock on, PHY powered at address 0x17, `link` attached, reset at cycle 0.
        fn with_link(link: Option<Box<dyn Link>>) -> Bench {
            let mut b = Bench {
                eth: Eth::new(),
                queue: EventQueue::new(),
                now: 0,
                sys: SysView {
                    clkcfg: clk::MAC,
                    msc0cfg: 0,
                    eth_phy_cfg: PHY_CFG_SDK,
                    eth_phy_id: PHY_ID,
                },
            };
            if let Some(link) = link {
                b.eth.attach_link(link);
            }
            b.with_ctx(|eth, ctx| eth.reset(ctx));
            b
        }

        fn new() -> (Bench, TestLinkHandle) {
            let (link, handle) = test_link();
            (Bench::with_link(Some(Box::new(link))), handle)
        }

        /// Like [`Bench::new`], with the link up, the station address set and RX/TX on with
        /// the SDK's settings (CRC, padding, full duplex, BAD_CRC).
        fn ready() -> (Bench, TestLinkHandle) {
            let (mut b, h) = Bench::new();
            b.run_until(AN_CYCLES);
            assert!(b.eth.link_up(b.now));
            for (i, &o) in MAC.iter().enumerate() {
                b.wr8(reg::ADDR + i as u32, o);
            }
            b.wr8(reg::TX_CNTL, 0x17);
            b.wr8(reg::RX_CNTL, 0x09);
            (b, h)
        }

        fn with_ctx<R>(&mut self, f: impl FnOnce(&mut Eth, &mut Ctx) -> R) -> R {
            let mut ctx = Ctx {
                now: self.now,
                queue: &mut self.queue,
                source: Source::Eth,
                sys: self.sys,
            };
            f(&mut self.eth, &mut ctx)
        }

        fn rd(&mut self, offset: u32, width: Width) -> u32 {
            match self.with_ctx(|e, c| e.read(offset, width, c)) {
                Access::Done(v) => v,
                Access::Unmodelled => panic!("read {offset:#x} unmodelled"),
            }
        }
        fn rd8(&mut self, offset: u32) -> u8 {
            self.rd(offset, Width::Byte) as u8
        }
        fn wr(&mut self, offset: u32, width: Width, value: u32) {
            let r = self.with_ctx(|e, c| e.write(offset, width, value, c));
            assert_eq!(r, Access::Done(()), "write {offset:#x}");
        }
        fn wr8(&mut self, offset: u32, value: u8) {
            self.wr(offset, Width::Byte, value.into());
        }

        /// Queues `frame` on the link at `at_ns` and lets the MAC know, as a harness would.
        fn inject(&mut self, h: &TestLinkHandle, at_ns: u64, frame: Vec<u8>) {
            h.inject(at_ns, frame);
            self.with_ctx(|e, c| e.poll_link(c));
        }

        /// Runs every event due up to and including cycle `t`, then sets the clock to `t`.
        fn run_until(&mut self, t: u64) {
            while let Some((at, source, token)) = self.queue.pop_due(t) {
                assert_eq!(source, Source::Eth);
                self.now = at;
                self.with_ctx(|e, c| e.event(token, c));
            }
            self.now = t;
        }
        fn run_for(&mut self, cycles: u64) {
            self.run_until(self.now + cycles);
        }

        /// Writes a TX record (length word = payload after the header) with 32-bit writes.
        fn load_tx(&mut self, frame: &[u8]) {
            let data_len = frame.len() - HEADER_LEN;
            let mut rec = (data_len as u16).to_le_bytes().to_vec();
            rec.extend_from_slice(frame);
            rec.resize(rec.len().div_ceil(4) * 4, 0);
            for w in rec.chunks_exact(4) {
                self.wr(
                    reg::DATA,
                    Width::Word,
                    u32::from_le_bytes(w.try_into().unwrap()),
                );
            }
        }

        /// Pops `n` words of the RX FIFO as bytes.
        fn pop_bytes(&mut self, words: usize) -> Vec<u8> {
            (0..words)
                .flat_map(|_| self.rd(reg::DATA, Width::Word).to_le_bytes())
                .collect()
        }

        fn mdio(&mut self, reg_no: u8, write: Option<u16>) -> u16 {
            assert_eq!(self.rd8(reg::MNG_CNTL) & 1, 0);
            if let Some(v) = write {
                self.wr(reg::MNG_TX, Width::Half, v.into());
                self.wr8(reg::MNG_CNTL, (reg_no << 3) | 3);
            } else {
                self.wr8(reg::MNG_CNTL, (reg_no << 3) | 1);
            }
            let div = u64::from(self.rd8(reg::MNG_DIV));
            let t = 128 * (div + 1);
            self.run_for(t - 1);
            assert_eq!(self.rd8(reg::INT_STATUS) & int::MD_INT, 0);
            assert_eq!(self.rd8(reg::MNG_CNTL) & 1, 1);
            self.run_for(1);
            assert_eq!(self.rd8(reg::INT_STATUS) & int::MD_INT, int::MD_INT);
            assert_eq!(self.rd8(reg::MNG_CNTL) & 1, 0);
            self.wr8(reg::INT_STATUS, int::MD_INT);
            let v = self.rd(reg::MNG_RX, Width::Half) as u16;
            self.wr8(reg::MNG_CNTL, 0);
            v
        }
    }

    fn frame(da: [u8; 6], len: usize, seed: u8) -> Vec<u8> {
        let mut f = da.to_vec();
        f.extend_from_slice(&PEER);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend((0..len - HEADER_LEN).map(|i| seed.wrapping_add(i as u8)));
        f
    }

    /// Bit by bit, straight from the definition (reflected 0x04C11DB7).
    fn crc32_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                let lsb = crc & 1;
                crc >>= 1;
                if lsb != 0 {
                    crc ^= 0xEDB8_8320;
                }
            }
        }
        !crc
    }

    /// The record the FIFO should hold for `frame` (without FCS).
    fn record(frame: &[u8]) -> Vec<u8> {
        let len = frame.len() + 6;
        let mut r = (len as u16).to_le_bytes().to_vec();
        r.extend_from_slice(frame);
        r.extend_from_slice(&crc32_bitwise(frame).to_le_bytes());
        r.resize(len.div_ceil(4) * 4, 0);
        r
    }

    #[test]
    fn crc32_matches_the_check_value_and_the_bitwise_definition() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let f = frame(MAC, 97, 3);
        assert_eq!(crc32(&f), crc32_bitwise(&f));
        // The residue over frame + FCS (LSB first) is the IEEE magic constant.
        let mut with_fcs = f.clone();
        with_fcs.extend_from_slice(&crc32(&f).to_le_bytes());
        assert_eq!(crc32(&with_fcs), 0x2144_DF1C);
    }

    #[test]
    fn reset_values_and_register_widths() {
        let (mut b, _h) = Bench::new();
        let expect = [
            (reg::INT_STATUS, 0x00),
            (reg::INT_ENABLE, 0x00),
            (reg::RX_CNTL, 0x08),
            (reg::TX_CNTL, 0x00),
            (reg::THRESHOLD, 0),
            (reg::MNG_CNTL, 0),
            (reg::MNG_DIV, 0x80),
            (reg::MNG_ADDR, 0),
            (reg::NUM_PKT, 0),
            (reg::TR_REQ, 0),
        ];
        for (off, v) in expect {
            assert_eq!(b.rd8(off), v, "offset {off:#x}");
        }
        for o in 0x08..=0x15 {
            if o != reg::MNG_DIV {
                assert_eq!(b.rd8(o), 0, "offset {o:#x}");
            }
        }
        assert_eq!(b.rd(0x00, Width::Word), 0x0008_0000);
        assert_eq!(b.rd(0x10, Width::Word), 0x0000_0080);
        assert_eq!(b.rd(0x02, Width::Half), 0x0008);
        // The data port is 32-bit only; nothing lives past 0x17.
        for (off, w) in [
            (4, Width::Byte),
            (5, Width::Byte),
            (7, Width::Byte),
            (4, Width::Half),
            (6, Width::Half),
        ] {
            assert_eq!(b.with_ctx(|e, c| e.read(off, w, c)), Access::Unmodelled);
            assert_eq!(b.with_ctx(|e, c| e.write(off, w, 1, c)), Access::Unmodelled);
        }
        assert_eq!(
            b.with_ctx(|e, c| e.read(0x18, Width::Word, c)),
            Access::Unmodelled
        );
        assert_eq!(
            b.with_ctx(|e, c| e.write(0x1F, Width::Byte, 0, c)),
            Access::Unmodelled
        );
        // Station address through wider accesses.
        b.wr(0x08, Width::Word, 0x3322_1102);
        b.wr(0x0C, Width::Half, 0x5544);
        assert_eq!(b.eth.mac_address(), MAC);
        assert_eq!(b.rd(0x0C, Width::Half), 0x5544);
        // Read-only and reserved bits.
        b.wr8(reg::RX_CNTL, 0xFF);
        assert_eq!(b.rd8(reg::RX_CNTL), 0x0F);
        b.wr8(reg::TX_CNTL, 0xFF);
        assert_eq!(b.rd8(reg::TX_CNTL), 0x17);
        b.wr8(reg::TX_CNTL, 0);
        b.wr8(reg::INT_ENABLE, 0xFF);
        assert_eq!(b.rd8(reg::INT_ENABLE), 0x3F);
        b.wr8(reg::MNG_ADDR, 0xFF);
        assert_eq!(b.rd8(reg::MNG_ADDR), 0x1F);
        b.wr8(reg::THRESHOLD, 0xFF);
        assert_eq!(b.rd8(reg::THRESHOLD), 0x3F);
        b.wr8(reg::NUM_PKT, 0xFF);
        assert_eq!(b.rd8(reg::NUM_PKT), 0);
        b.wr(reg::MNG_TX, Width::Half, 0xBEEF);
        assert_eq!(b.rd8(0x12), 0xEF);
        assert_eq!(b.rd8(0x13), 0xBE);
        // Writing RX_INT does nothing; the RW1C bits are clear.
        b.wr8(reg::INT_STATUS, 0xFF);
        assert_eq!(b.rd8(reg::INT_STATUS), 0);
        assert!(!b.eth.irq());
    }

    #[test]
    fn transmits_a_padded_frame_after_its_wire_time() {
        let (mut b, h) = Bench::ready();
        let f = frame(PEER, 42, 1);
        b.load_tx(&f);
        let start = b.now;
        b.wr8(reg::TR_REQ, 1);
        assert_eq!(b.rd8(reg::TR_REQ), 1);
        // 60 bytes padded: (8 + 60 + 4 + 12) × 80 ns = 6720 ns = 672 cycles.
        let wire = ns_to_cycles(wire_time_100m(60));
        assert_eq!(wire, 672);
        b.run_until(start + wire - 1);
        assert!(h.sent().is_empty());
        assert_eq!(b.rd8(reg::TR_REQ), 1);
        assert_eq!(b.rd8(reg::INT_STATUS) & int::TX_EMPTY, 0);
        b.run_until(start + wire);
        let mut padded = f.clone();
        padded.resize(60, 0);
        assert_eq!(
            h.take_sent(),
            vec![((start + wire) * NS_PER_CYCLE, padded.clone())]
        );
        assert_eq!(b.rd8(reg::TR_REQ), 0);
        assert_eq!(b.rd8(reg::INT_STATUS) & int::TX_EMPTY, int::TX_EMPTY);
        assert_eq!(b.eth.last_tx_fcs(), Some(crc32_bitwise(&padded)));
        b.wr8(reg::INT_STATUS, int::TX_EMPTY);
        assert_eq!(b.rd8(reg::INT_STATUS), 0);
        let c = b.eth.counters();
        assert_eq!((c.tx_frames, c.tx_bytes, c.tx_dropped), (1, 60, 0));

        // Without padding the frame goes out as written; a long one takes longer. The write
        // pointer was reset, so the next record starts at word 0.
        b.wr8(reg::TX_CNTL, 0x15);
        b.load_tx(&f);
        let start = b.now;
        b.wr8(reg::TR_REQ, 1);
        b.run_for(1000);
        assert_eq!(
            h.take_sent(),
            vec![((start + 672) * NS_PER_CYCLE, f.clone())]
        );
        let long = frame(PEER, 1514, 9);
        b.load_tx(&long);
        let start = b.now;
        b.wr8(reg::TR_REQ, 1);
        let wire = (8 + 1514 + 4 + 12) * 8;
        b.run_until(start + wire - 1);
        assert!(h.sent().is_empty());
        b.run_until(start + wire);
        assert_eq!(h.take_sent(), vec![((start + wire) * NS_PER_CYCLE, long)]);
    }

    #[test]
    fn tx_request_waits_for_tx_enable() {
        let (mut b, h) = Bench::ready();
        b.wr8(reg::TX_CNTL, 0x16);
        b.load_tx(&frame(PEER, 60, 0));
        b.wr8(reg::TR_REQ, 1);
        b.run_for(10_000);
        assert!(h.sent().is_empty());
        assert_eq!(b.rd8(reg::TR_REQ), 1);
        b.wr8(reg::TX_CNTL, 0x17);
        let start = b.now;
        b.run_for(10_000);
        assert_eq!(h.sent().len(), 1);
        assert_eq!(h.sent()[0].0, (start + 672) * NS_PER_CYCLE);
        assert_eq!(b.rd8(reg::TR_REQ), 0);
    }

    #[test]
    fn oversize_and_overflowing_frames_fail_with_tx_err() {
        let (mut b, h) = Bench::ready();
        b.wr8(reg::INT_ENABLE, int::TX_ERR);
        b.wr(reg::DATA, Width::Word, 2033);
        b.wr8(reg::TR_REQ, 1);
        assert_eq!(b.rd8(reg::TR_REQ), 0);
        assert_eq!(b.rd8(reg::INT_STATUS), int::TX_ERR);
        assert!(b.eth.irq());
        // The write pointer stays until TX_ERR is cleared.
        b.wr(reg::DATA, Width::Word, 0xDEAD);
        b.wr8(reg::INT_STATUS, int::TX_ERR);
        assert!(!b.eth.irq());
        let f = frame(PEER, 64, 5);
        b.load_tx(&f);
        b.wr8(reg::TR_REQ, 1);
        b.run_for(1000);
        assert_eq!(h.take_sent().len(), 1);

        // 2032 is the largest length: the whole RAM.
        let max = frame(PEER, HEADER_LEN + MAX_TX_DATA_LEN, 7);
        b.load_tx(&max);
        let start = b.now;
        b.wr8(reg::TR_REQ, 1);
        b.run_for(20_000);
        let wire = (8 + 2046 + 4 + 12) * 8;
        assert_eq!(h.take_sent(), vec![((start + wire) * NS_PER_CYCLE, max)]);

        // 513 words: the RAM overflowed.
        for _ in 0..=BUFFER_WORDS {
            b.wr(reg::DATA, Width::Word, 60 - 14);
        }
        b.wr8(reg::TR_REQ, 1);
        assert_eq!(b.rd8(reg::INT_STATUS) & int::TX_ERR, int::TX_ERR);
        assert_eq!(b.rd8(reg::TR_REQ), 0);
        b.run_for(10_000);
        assert!(h.sent().is_empty());
        assert_eq!(b.eth.counters().tx_errors, 2);
    }

    #[test]
    fn rx_record_format_num_pkt_and_pop_order() {
        let (mut b, h) = Bench::ready();
        let f1 = frame(MAC, 60, 0x10);
        let f2 = frame(MAC, 103, 0x80);
        b.inject(&h, 1_600_000, f1.clone());
        b.inject(&h, 1_600_005, f2.clone());
        b.run_until(159_999);
        assert_eq!(b.rd8(reg::NUM_PKT), 0);
        b.run_until(160_000);
        assert_eq!(b.rd8(reg::NUM_PKT), 1);
        assert_eq!(b.rd8(reg::INT_STATUS), int::RX_INT);
        // 1_600_005 ns rounds up to cycle 160_001.
        b.run_until(160_001);
        assert_eq!(b.rd8(reg::NUM_PKT), 2);

        // Word 0: L = 60 + 4 + 2 = 66, then DA octets 1 and 2.
        let w0 = b.rd(reg::DATA, Width::Word);
        assert_eq!(
            w0,
            66 | (u32::from(MAC[0]) << 16) | (u32::from(MAC[1]) << 24)
        );
        let words = (66usize).div_ceil(4);
        let mut got = w0.to_le_bytes().to_vec();
        got.extend(b.pop_bytes(words - 2));
        assert_eq!(b.rd8(reg::NUM_PKT), 2, "not before the last word");
        got.extend(b.pop_bytes(1));
        assert_eq!(b.rd8(reg::NUM_PKT), 1);
        assert_eq!(got, record(&f1));
        assert_eq!(&got[2 + 60..2 + 64], &crc32_bitwise(&f1).to_le_bytes());

        let rec2 = b.pop_bytes((103 + 6usize).div_ceil(4));
        assert_eq!(rec2, record(&f2));
        assert_eq!(u16::from_le_bytes([rec2[0], rec2[1]]), 109);
        assert_eq!(b.rd8(reg::NUM_PKT), 0);
        assert_eq!(b.rd8(reg::INT_STATUS) & int::RX_INT, 0);
        assert_eq!(b.rd(reg::DATA, Width::Word), 0, "empty FIFO reads 0");
        let c = b.eth.counters();
        assert_eq!((c.rx_frames, c.rx_bytes), (2, 163));
    }

    #[test]
    fn short_link_frames_are_padded_to_60() {
        let (mut b, h) = Bench::ready();
        let arp = frame([0xFF; 6], 42, 0);
        b.inject(&h, 1_600_000, arp.clone());
        b.run_until(160_000);
        let mut padded = arp;
        padded.resize(60, 0);
        assert_eq!(b.pop_bytes(17), record(&padded));
    }

    #[test]
    fn address_filter() {
        let (mut b, h) = Bench::ready();
        let mut t = 1_600_000;
        let mut deliver = |b: &mut Bench, da: [u8; 6]| -> bool {
            let before = b.eth.num_pkt();
            b.inject(&h, t, frame(da, 64, 0));
            t += 10_000;
            b.run_until(t / 10);
            let got = b.eth.num_pkt() > before;
            let cntl = b.rd8(reg::RX_CNTL);
            b.wr8(reg::RX_CNTL, cntl | rx_cntl::RESET_FIFO);
            got
        };
        let multicast = [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB];
        assert!(deliver(&mut b, MAC));
        assert!(deliver(&mut b, [0xFF; 6]));
        assert!(!deliver(&mut b, PEER));
        assert!(!deliver(&mut b, multicast));
        assert_eq!(b.eth.counters().rx_filtered, 2);
        b.wr8(reg::RX_CNTL, 0x0B); // ACC_MULTI
        assert!(deliver(&mut b, multicast));
        assert!(!deliver(&mut b, PEER));
        b.wr8(reg::RX_CNTL, 0x0D); // PRMS_MODE
        assert!(deliver(&mut b, PEER));
        assert!(deliver(&mut b, multicast));
        assert!(deliver(&mut b, MAC));
        assert_eq!(b.eth.counters().rx_filtered, 3);
        assert_eq!(b.eth.counters().rx_frames, 6);
    }

    #[test]
    fn fifo_overflow_drops_and_counts() {
        let (mut b, h) = Bench::ready();
        b.wr8(reg::INT_ENABLE, int::FIFO_OV);
        // 1514-byte frames take 380 words each: the second does not fit.
        for i in 0..3 {
            b.inject(&h, 1_600_000 + i, frame(MAC, 1514, i as u8));
        }
        b.run_until(160_001);
        assert_eq!(b.rd8(reg::NUM_PKT), 1);
        assert_eq!(b.rd8(reg::INT_STATUS), int::FIFO_OV | int::RX_INT);
        assert!(b.eth.irq());
        assert_eq!(b.eth.counters().rx_overflows, 2);
        b.wr8(reg::INT_STATUS, int::FIFO_OV);
        assert!(!b.eth.irq());
        // Room again once the record is read.
        b.pop_bytes(380);
        assert_eq!(b.eth.rx_fifo_words(), 0);
        b.inject(&h, 1_700_000, frame(MAC, 1514, 7));
        b.run_until(170_000);
        assert_eq!(b.rd8(reg::NUM_PKT), 1);

        // Empty again; 31 records of 60-byte frames (17 words) = 527 words > 512: 30 fit.
        b.wr8(reg::RX_CNTL, 0x19);
        for i in 0..31 {
            b.inject(&h, 1_800_000 + i, frame(MAC, 60, i as u8));
        }
        b.run_until(180_100);
        assert_eq!(b.rd8(reg::NUM_PKT), 30);
        assert_eq!(b.eth.rx_fifo_words(), 510);
        assert_eq!(b.eth.counters().rx_overflows, 3);
    }

    #[test]
    fn num_pkt_saturates_at_63() {
        let (mut b, _h) = Bench::ready();
        // Minimal frames with their FCS, straight from a wire: 5 words per record.
        let mut f = frame(MAC, 14, 0);
        f.extend_from_slice(&crc32(&f).to_le_bytes());
        for _ in 0..64 {
            b.with_ctx(|e, c| e.deliver_wire_frame(&f, c));
        }
        assert_eq!(b.rd8(reg::NUM_PKT), 63);
        assert_eq!(b.eth.rx_fifo_words(), 63 * 5);
        assert_eq!(b.rd8(reg::INT_STATUS) & int::FIFO_OV, int::FIFO_OV);
        assert_eq!(b.eth.counters().rx_overflows, 1);
        assert_eq!(
            b.rd(reg::DATA, Width::Word),
            20 | (u32::from(MAC[0]) << 16) | (u32::from(MAC[1]) << 24)
        );
    }

    #[test]
    fn bad_fcs_is_dropped_or_kept_per_bad_crc() {
        let (mut b, _h) = Bench::ready();
        let mut f = frame(MAC, 60, 0);
        f.extend_from_slice(&(crc32(&f) ^ 1).to_le_bytes());
        b.with_ctx(|e, c| e.deliver_wire_frame(&f, c));
        assert_eq!(b.rd8(reg::NUM_PKT), 0);
        assert_eq!(b.rd8(reg::INT_STATUS), int::RX_ERR);
        assert_eq!(b.eth.counters().rx_bad_fcs, 1);
        b.wr8(reg::INT_STATUS, int::RX_ERR);
        b.wr8(reg::RX_CNTL, 0x01);
        b.with_ctx(|e, c| e.deliver_wire_frame(&f, c));
        assert_eq!(b.rd8(reg::NUM_PKT), 1);
        assert_eq!(b.rd8(reg::INT_STATUS), int::RX_ERR | int::RX_INT);
        let rec = b.pop_bytes(17);
        assert_eq!(&rec[2..66], &f[..]);
    }

    #[test]
    fn reset_fifo_and_disabled_receiver() {
        let (mut b, h) = Bench::ready();
        b.inject(&h, 1_600_000, frame(MAC, 100, 0));
        b.inject(&h, 1_600_000, frame(MAC, 100, 1));
        b.run_until(160_000);
        assert_eq!(b.rd8(reg::NUM_PKT), 2);
        b.rd(reg::DATA, Width::Word);
        b.wr8(reg::RX_CNTL, 0x08);
        b.wr8(reg::RX_CNTL, 0x18);
        assert_eq!(b.rd8(reg::RX_CNTL), 0x08, "RESET_FIFO self-clears");
        assert_eq!(b.rd8(reg::NUM_PKT), 0);
        assert_eq!(b.eth.rx_fifo_words(), 0);
        assert_eq!(b.rd(reg::DATA, Width::Word), 0);
        // Receiver off: frames are lost.
        b.inject(&h, 1_700_000, frame(MAC, 100, 2));
        b.run_until(170_000);
        assert_eq!(b.rd8(reg::NUM_PKT), 0);
        assert_eq!(b.eth.counters().rx_dropped_disabled, 1);
        // MAC clock off: lost too.
        b.wr8(reg::RX_CNTL, 0x09);
        b.sys.clkcfg = 0;
        b.inject(&h, 1_800_000, frame(MAC, 100, 3));
        b.run_until(180_000);
        assert_eq!(b.eth.counters().rx_dropped_disabled, 2);
        b.sys.clkcfg = clk::MAC;
        b.inject(&h, 1_900_000, frame(MAC, 100, 4));
        b.run_until(190_000);
        assert_eq!(b.rd8(reg::NUM_PKT), 1);
    }

    #[test]
    fn mdio_reads_the_phy_with_md_int_timing() {
        let (mut b, _h) = Bench::new();
        b.wr8(reg::MNG_ADDR, 0x17);
        b.wr8(reg::MNG_DIV, 19);
        // 64 × 2 × 20 = 2560 cycles per transaction (checked inside `mdio`).
        assert_eq!(b.mdio(mii::BMSR, None), 0x7849);
        assert_eq!(b.mdio(mii::BMCR, None), 0x3100);
        assert_eq!(b.mdio(mii::PHYID1, None), (PHY_ID >> 16) as u16);
        assert_eq!(b.mdio(mii::PHYID2, None), PHY_ID as u16);
        assert_eq!(b.mdio(mii::ANAR, None), 0x01E1);
        assert_eq!(b.mdio(mii::ANLPAR, None), 0);
        assert_eq!(b.mdio(mii::ANER, None), 0x0001);
        assert_eq!(b.mdio(20, None), 0);
        b.run_until(AN_CYCLES);
        assert_eq!(b.mdio(mii::BMSR, None), 0x786D);
        assert_eq!(b.mdio(mii::ANLPAR, None), 0x45E1);
        // The SDK's sequence: reset, poll until bit 15 reads 0, advertise, restart.
        b.mdio(mii::BMCR, Some(0x8000));
        let reset_at = b.now;
        assert_eq!(b.mdio(mii::BMCR, None), 0x3100);
        assert_eq!(b.mdio(mii::BMSR, None), 0x7849);
        b.mdio(mii::ANAR, Some(0x41E1));
        assert_eq!(b.mdio(mii::ANAR, None), 0x41E1);
        let bmcr = b.mdio(mii::BMCR, None);
        b.mdio(mii::BMCR, Some((bmcr & !0x0400) | 0x1200));
        let restart_at = b.now;
        assert!(restart_at > reset_at);
        assert_eq!(b.mdio(mii::BMCR, None), 0x3100, "restart AN self-clears");
        b.run_until(restart_at + AN_CYCLES - 2560 - 1);
        assert_eq!(b.mdio(mii::BMSR, None), 0x7849);
        b.run_until(restart_at + AN_CYCLES - 2560);
        assert_eq!(b.mdio(mii::BMSR, None), 0x786D);
        // Another address: nobody answers.
        b.wr8(reg::MNG_ADDR, 0x01);
        assert_eq!(b.mdio(mii::BMSR, None), 0xFFFF);
        // At the reset divider (0x80): 64 × 2 × 129 cycles.
        b.wr8(reg::MNG_ADDR, 0x17);
        b.wr8(reg::MNG_DIV, 0x80);
        assert_eq!(b.mdio(mii::PHYID1, None), (PHY_ID >> 16) as u16);
        assert_eq!(b.eth.counters().mdio_transactions, 22);
    }

    #[test]
    fn rev_c_phy_cfg_status_shows_link_speed_and_duplex() {
        let (mut b, _h) = Bench::new();
        let status = |b: &mut Bench| b.with_ctx(|e, c| e.phy_cfg_status(c));
        // Negotiating: link down, every LED dark (active low).
        assert_eq!(status(&mut b), 0x3F00_0000);
        b.run_until(AN_CYCLES);
        assert!(b.eth.link_up(b.now));
        // Up at 100 Mbit/s full duplex: LINK_STATUS, and the link, duplex and speed LEDs lit.
        assert_eq!(status(&mut b), 0x9C00_0000);
    }

    #[test]
    fn phy_reset_pulse_restarts_negotiation_and_mdio_is_deaf_during_it() {
        let (mut b, _h) = Bench::new();
        b.wr8(reg::MNG_ADDR, 0x17);
        b.wr8(reg::MNG_DIV, 0);
        b.run_until(AN_CYCLES);
        assert!(b.eth.link_up(b.now));
        b.mdio(mii::ANAR, Some(0x41E1));
        b.sys.msc0cfg = msc0::MAC_RESET_PHY;
        let at = b.now;
        b.with_ctx(|e, c| e.phy_reset(c));
        assert!(!b.eth.link_up(b.now));
        assert_eq!(b.mdio(mii::BMCR, None), 0xFFFF);
        b.sys.msc0cfg = 0;
        b.run_until(at + PHY_RESET_CYCLES);
        assert_eq!(b.mdio(mii::ANAR, None), 0x01E1);
        b.run_until(at + PHY_RESET_CYCLES + AN_CYCLES - 1);
        assert!(!b.eth.link_up(b.now));
        b.run_until(at + PHY_RESET_CYCLES + AN_CYCLES);
        assert!(b.eth.link_up(b.now));
    }

    #[test]
    fn powered_down_phy_or_no_cable_loses_frames() {
        let (mut b, h) = Bench::ready();
        b.sys.eth_phy_cfg |= PHY_CFG_PWRDN;
        b.inject(&h, 1_600_000, frame(MAC, 60, 0));
        b.run_until(160_000);
        assert_eq!(b.eth.counters().rx_dropped_phy, 1);
        b.load_tx(&frame(PEER, 60, 0));
        b.wr8(reg::TR_REQ, 1);
        b.run_for(1000);
        assert_eq!(b.rd8(reg::INT_STATUS) & int::TX_EMPTY, int::TX_EMPTY);
        assert!(h.sent().is_empty());
        assert_eq!(b.eth.counters().tx_dropped, 1);
        // Power back: negotiation runs again from the first time the MAC sees it.
        b.sys.eth_phy_cfg &= !PHY_CFG_PWRDN;
        let up = b.now;
        b.rd8(reg::INT_STATUS);
        assert!(!b.eth.link_up(up + AN_CYCLES - 1));
        assert!(b.eth.link_up(up + AN_CYCLES));
        b.run_until(up + AN_CYCLES);
        // Cable out.
        h.set_carrier(false);
        b.load_tx(&frame(PEER, 60, 0));
        b.wr8(reg::TR_REQ, 1);
        b.run_for(1000);
        assert!(h.sent().is_empty());
        assert_eq!(b.eth.counters().tx_dropped, 2);
        // No link attached at all: still "sent".
        let mut n = Bench::with_link(None);
        n.run_until(AN_CYCLES);
        n.wr8(reg::TX_CNTL, 0x17);
        n.load_tx(&frame(PEER, 60, 0));
        n.wr8(reg::TR_REQ, 1);
        n.run_for(1000);
        assert_eq!(n.rd8(reg::INT_STATUS), int::TX_EMPTY);
        assert_eq!(n.eth.counters().tx_dropped, 1);
        assert_eq!(n.eth.counters().tx_frames, 1);
    }

    #[test]
    fn loopback_link_round_trip() {
        let mut b = Bench::with_link(Some(Box::new(LoopbackLink::new(1_000))));
        b.run_until(AN_CYCLES);
        for (i, &o) in MAC.iter().enumerate() {
            b.wr8(reg::ADDR + i as u32, o);
        }
        b.wr8(reg::TX_CNTL, 0x17);
        b.wr8(reg::RX_CNTL, 0x09);
        b.wr8(reg::INT_ENABLE, int::RX_INT);
        let f = frame(MAC, 200, 0x33);
        b.load_tx(&f);
        let start = b.now;
        b.wr8(reg::TR_REQ, 1);
        let done = start + (8 + 200 + 4 + 12) * 8;
        b.run_until(done + 99);
        assert_eq!(b.rd8(reg::NUM_PKT), 0);
        assert!(!b.eth.irq());
        b.run_until(done + 100);
        assert_eq!(b.rd8(reg::NUM_PKT), 1);
        assert!(b.eth.irq());
        assert_eq!(b.pop_bytes(206usize.div_ceil(4)), record(&f));
        assert!(!b.eth.irq());
    }

    #[test]
    fn phy_loopback_returns_frames_without_touching_the_wire() {
        let (mut b, h) = Bench::ready();
        b.sys.eth_phy_cfg |= PHY_CFG_LOOPBACK;
        let f = frame(MAC, 60, 1);
        b.load_tx(&f);
        b.wr8(reg::TR_REQ, 1);
        b.run_for(672);
        assert!(h.sent().is_empty());
        assert_eq!(b.rd8(reg::NUM_PKT), 1);
        assert_eq!(b.pop_bytes(17), record(&f));
        // Wire frames do not get in meanwhile.
        b.inject(&h, b.now * NS_PER_CYCLE, frame(MAC, 60, 2));
        b.run_for(1);
        assert_eq!(b.rd8(reg::NUM_PKT), 0);
        assert_eq!(b.eth.counters().rx_dropped_phy, 1);
    }

    #[test]
    fn irq_follows_status_and_enable() {
        let (mut b, h) = Bench::ready();
        b.inject(&h, 1_600_000, frame(MAC, 60, 0));
        b.run_until(160_000);
        assert_eq!(b.rd8(reg::INT_STATUS), int::RX_INT);
        assert!(!b.eth.irq(), "masked");
        b.wr8(reg::INT_ENABLE, int::TX_EMPTY);
        assert!(!b.eth.irq());
        b.wr8(reg::INT_ENABLE, int::RX_INT);
        assert!(b.eth.irq());
        b.wr8(reg::INT_STATUS, int::RX_INT);
        assert!(b.eth.irq(), "RX_INT cannot be cleared by writing it");
        b.pop_bytes(17);
        assert!(!b.eth.irq());
        b.wr8(reg::INT_ENABLE, int::TX_EMPTY | int::MD_INT);
        b.load_tx(&frame(PEER, 60, 0));
        b.wr8(reg::TR_REQ, 1);
        b.run_for(672);
        assert!(b.eth.irq());
        b.wr8(reg::INT_STATUS, int::TX_EMPTY);
        assert!(!b.eth.irq());
        b.wr8(reg::MNG_CNTL, 1);
        b.run_for(128 * 129);
        assert!(b.eth.irq());
        b.wr8(reg::INT_ENABLE, 0);
        assert!(!b.eth.irq());
        assert_eq!(b.rd8(reg::INT_STATUS), int::MD_INT);
    }

    #[test]
    fn forced_10_mbit_takes_ten_times_longer() {
        let (mut b, h) = Bench::ready();
        b.wr8(reg::MNG_ADDR, 0x17);
        b.wr8(reg::MNG_DIV, 0);
        b.mdio(mii::BMCR, Some(0x0100));
        let f = frame(PEER, 60, 0);
        b.load_tx(&f);
        let start = b.now;
        b.wr8(reg::TR_REQ, 1);
        b.run_for(6720);
        assert_eq!(h.take_sent(), vec![((start + 6720) * NS_PER_CYCLE, f)]);
    }

    #[test]
    fn runs_are_deterministic_and_reset_keeps_the_link() {
        /// What a run produced: frames sent with their times, counters, RX bytes read.
        type Outcome = (Vec<(u64, Vec<u8>)>, EthCounters, Vec<u8>);
        fn run() -> Outcome {
            let (mut b, h) = Bench::ready();
            for i in 0..5u64 {
                b.inject(
                    &h,
                    1_510_000 + i * 7_777,
                    frame(MAC, 60 + i as usize, i as u8),
                );
            }
            let mut rx = Vec::new();
            for i in 0..5 {
                b.load_tx(&frame(PEER, 100 + i, i as u8));
                b.wr8(reg::TR_REQ, 1);
                b.run_for(1_500);
                while b.rd8(reg::NUM_PKT) > 0 {
                    let w0 = b.rd(reg::DATA, Width::Word);
                    let l = (w0 & 0xFFFF) as usize;
                    rx.extend(w0.to_le_bytes());
                    rx.extend(b.pop_bytes(l.div_ceil(4) - 1));
                }
            }
            (h.sent(), b.eth.counters(), rx)
        }
        let a = run();
        assert_eq!(a.0.len(), 5);
        assert_eq!(a.1.rx_frames, 5);
        assert_eq!(a, run());

        let (mut b, h) = Bench::ready();
        b.wr8(reg::INT_ENABLE, 0x3F);
        b.with_ctx(|e, c| e.reset(c));
        assert_eq!(b.rd8(reg::RX_CNTL), 0x08);
        assert_eq!(b.rd8(reg::INT_ENABLE), 0);
        assert!(b.eth.has_link());
        b.inject(&h, b.now * NS_PER_CYCLE + 10, frame(MAC, 60, 0));
        b.run_for(1);
        assert_eq!(b.eth.counters().rx_dropped_phy, 1, "negotiating again");
    }

    #[test]
    fn mdio_start_while_busy_does_not_restart() {
        let (mut b, _h) = Bench::new();
        b.wr8(reg::MNG_ADDR, 0x17);
        b.wr8(reg::MNG_DIV, 0);
        b.wr8(reg::MNG_CNTL, (mii::PHYID1 << 3) | 1);
        b.run_for(100);
        b.wr8(reg::MNG_CNTL, (mii::ANAR << 3) | 1);
        assert_eq!(b.rd8(reg::MNG_CNTL), (mii::ANAR << 3) | 1);
        b.wr8(reg::MNG_CNTL, 0);
        assert_eq!(b.rd8(reg::MNG_CNTL), 1, "START stays set while busy");
        b.run_for(27);
        assert_eq!(b.rd8(reg::INT_STATUS), 0);
        b.run_for(1);
        assert_eq!(b.rd8(reg::INT_STATUS), int::MD_INT);
        assert_eq!(b.rd(reg::MNG_RX, Width::Half), PHY_ID >> 16);
        assert_eq!(b.rd8(reg::MNG_CNTL), 0);
        b.run_for(1000);
        assert_eq!(b.eth.counters().mdio_transactions, 1);
    }
}
