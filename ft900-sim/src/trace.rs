//! Symbolized execution traces: instructions, data accesses, interrupts and Ethernet frames,
//! one line each, filtered by function (call tree) or address range, written to any `Write`.
//!
//! Every line starts with the cycle count (virtual time: 100 MHz on the `ft900` machine), the
//! kind and the program address, and ends with `function+offset (file:line)`:
//!
//! ```text
//!        cycle kind pc        what                                     where
//!          142 insn 00000040  64000005  ldk.l $r0,5                    main+0x8 (hello.c:4)
//!          151 mem  00000048  store.l 0x0080fff8 = 0x00000005          main+0x10 (hello.c:5)
//!          160 mem  0000004c  load.b 0x00810325 uart0+0x5 = 0x60       main+0x14 (hello.c:6)
//!        99214 irq  00000220  enter vector 0x4c (priority 17) -> tick  idle+0x4 (main.c:30)
//!        99301 reti 000003f0  return to 0x00000220                     tick+0x50 (tick.c:12)
//!       120034 eth  rx 60 bytes 52:54:00:12:34:56 > ff:ff:ff:ff:ff:ff arp t=0.001200340s
//! ```
//!
//! Tracing works through the machine's hooks, so a machine without a trace runs its hook-free
//! fast path and pays nothing. Ethernet frames are seen by wrapping the MAC's [`Link`]
//! ([`Trace::wrap_link`]); they carry the link's virtual time and no program address.

use std::fmt::Write as _;
use std::io::Write;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use sim_link::{Link, Nanos};

use crate::core::{Core, RAM_BIAS};
use crate::debuginfo::Symbolizer;
use crate::disasm::disassemble;
use crate::isa::{Op, Width};
use crate::machine::{HookAction, HookId, IntrEvent, Machine, MemAccess, MemHookKind, Profile};

/// Virtual nanoseconds per CPU cycle (100 MHz), to stamp Ethernet frames with cycles.
const NS_PER_CYCLE: u64 = 10;

/// What to trace (`--trace insn,mem,irq,eth`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceKinds {
    /// Every instruction executed: word and disassembly.
    pub insn: bool,
    /// Data loads and stores (and program-memory loads): address, width, value; I/O addresses
    /// named by peripheral.
    pub mem: bool,
    /// Interrupt entry (vector, priority, interrupted PC) and `reti`.
    pub irq: bool,
    /// Ethernet frames in and out: length, MACs, EtherType (and IPv4 addresses and ports).
    pub eth: bool,
    /// GPIO pin changes (ft900): pin, old and new state, a board's LED, virtual time.
    pub gpio: bool,
}

impl TraceKinds {
    /// Whether nothing is traced.
    pub fn is_empty(&self) -> bool {
        *self == TraceKinds::default()
    }
}

/// A `--trace` list that names something unknown.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown trace kind {0:?}: expected a comma-separated list of insn, mem, irq, eth, gpio")]
pub struct UnknownKind(pub String);

impl FromStr for TraceKinds {
    type Err = UnknownKind;

    /// Parses `insn,mem,irq,eth` (any subset, any order).
    fn from_str(s: &str) -> Result<TraceKinds, UnknownKind> {
        let mut kinds = TraceKinds::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "insn" => kinds.insn = true,
                "mem" => kinds.mem = true,
                "irq" => kinds.irq = true,
                "eth" => kinds.eth = true,
                "gpio" => kinds.gpio = true,
                other => return Err(UnknownKind(other.to_string())),
            }
        }
        Ok(kinds)
    }
}

/// A program-address range `START..END` (end exclusive), numbers in hex (`0x`) or decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrRange {
    /// First address in the range.
    pub start: u32,
    /// First address after the range.
    pub end: u32,
}

impl AddrRange {
    /// Whether `pc` lies in the range.
    #[inline]
    pub fn contains(&self, pc: u32) -> bool {
        self.start <= pc && pc < self.end
    }
}

/// Parses a number: `0x` hex or decimal.
pub fn parse_u32(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(&hex.replace('_', ""), 16),
        None => s.replace('_', "").parse(),
    };
    parsed.map_err(|_| format!("{s:?} is not a number (decimal, or hex with 0x)"))
}

impl FromStr for AddrRange {
    type Err = String;

    fn from_str(s: &str) -> Result<AddrRange, String> {
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| format!("{s:?}: expected START..END, e.g. 0x100..0x200"))?;
        let (start, end) = (parse_u32(a)?, parse_u32(b)?);
        if end <= start {
            return Err(format!(
                "{s:?}: the range is empty (END must be above START)"
            ));
        }
        Ok(AddrRange { start, end })
    }
}

/// What to trace and which part of the program.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// Kinds of events.
    pub kinds: TraceKinds,
    /// Only while this function, or anything it calls, runs (interrupt handlers that interrupt
    /// it excluded). Filters instructions and memory accesses by the executing code, interrupt
    /// entries and `reti` by the interrupted code; Ethernet frames are not filtered.
    pub function: Option<String>,
    /// Only code in this range (same rules as `function`; both must hold when both are given).
    pub range: Option<AddrRange>,
}

/// Why a trace cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// `--trace-func` names no function of the program.
    #[error("--trace-func: no function {0:?} in the program's symbols")]
    NoSuchFunction(String),
    /// Writing the trace failed.
    #[error("writing the trace: {0}")]
    Io(#[from] std::io::Error),
}

/// The call-tree filter: inside from the function's entry until the stack pointer rises above
/// the return address its caller pushed (a return, or a longjmp past it), except while an
/// interrupt taken inside runs.
struct CallTree {
    entry: u32,
    /// Stack pointer after the function returns, while the function is active.
    return_sp: Option<u32>,
    /// Stack pointers just after the entry of interrupts taken while active, innermost last.
    interrupts: Vec<u32>,
}

impl CallTree {
    /// Updates the state for the current stack pointer and says whether code running with it
    /// is inside the call tree (an interrupt handler is not).
    fn inside(&mut self, sp: u32) -> bool {
        let Some(return_sp) = self.return_sp else {
            return false;
        };
        while self.interrupts.last().is_some_and(|&top| sp > top) {
            self.interrupts.pop();
        }
        if sp >= return_sp {
            self.return_sp = None;
            self.interrupts.clear();
            return false;
        }
        self.interrupts.is_empty()
    }

    /// The instruction at `pc` is about to run with stack pointer `sp`.
    fn at(&mut self, pc: u32, sp: u32) {
        if pc == self.entry && self.return_sp.is_none() {
            // sp points at the return address; the return pops it.
            self.return_sp = Some(sp.wrapping_add(4));
        }
    }
}

/// The state shared by the hooks and the link wrapper.
struct Writer {
    out: Box<dyn Write + Send>,
    symbolizer: Symbolizer,
    tree: Option<CallTree>,
    range: Option<AddrRange>,
    io_region: fn(u32) -> Option<(&'static str, u32)>,
    line: String,
    error: Option<std::io::Error>,
    lines: u64,
}

impl Writer {
    /// Whether code at `pc` running with stack pointer `sp` passes the filters.
    fn passes(&mut self, pc: u32, sp: u32) -> bool {
        // The call tree first: it must see every stack pointer to notice the return.
        let inside = match &mut self.tree {
            Some(tree) => tree.inside(sp),
            None => true,
        };
        inside && self.range.is_none_or(|r| r.contains(pc))
    }

    /// Writes `self.line` (after the common prefix) with the location of `pc`.
    fn emit(&mut self, cycles: u64, kind: &str, pc: u32, detail: std::fmt::Arguments) {
        self.line.clear();
        let _ = write!(self.line, "{cycles:>12} {kind:<4} {pc:08x}  ");
        let start = self.line.len();
        let _ = self.line.write_fmt(detail);
        let width = self.line.len() - start;
        for _ in width..40 {
            self.line.push(' ');
        }
        self.line.push(' ');
        self.line.push_str(self.symbolizer.describe(pc));
        self.line.push('\n');
        self.write_line();
    }

    fn write_line(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(self.line.as_bytes()) {
                self.error = Some(e);
            }
            self.lines += 1;
        }
    }

    fn insn(&mut self, core: &Core, pc: u32) {
        let word = core
            .pm()
            .get(pc as usize..pc as usize + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        match word {
            Some(w) => self.emit(
                core.cycles,
                "insn",
                pc,
                format_args!("{w:08x}  {}", disassemble(w)),
            ),
            None => self.emit(
                core.cycles,
                "insn",
                pc,
                format_args!("(outside program memory)"),
            ),
        }
    }

    fn mem(&mut self, core: &Core, a: &MemAccess) {
        let (verb, suffix) = match (a.write, a.width) {
            (false, w) => ("load", width_suffix(w)),
            (true, w) => ("store", width_suffix(w)),
        };
        let digits = 2 * a.width.bytes() as usize;
        let io = a
            .addr
            .checked_sub(RAM_BIAS)
            .filter(|&d| d >= 0x1_0000)
            .and_then(self.io_region);
        match io {
            Some((name, off)) => self.emit(
                core.cycles,
                "mem",
                a.pc,
                format_args!(
                    "{verb}.{suffix} {:#010x} {name}+{off:#x} = {:#0w$x}",
                    a.addr,
                    a.value,
                    w = digits + 2
                ),
            ),
            None => self.emit(
                core.cycles,
                "mem",
                a.pc,
                format_args!(
                    "{verb}.{suffix} {:#010x} = {:#0w$x}",
                    a.addr,
                    a.value,
                    w = digits + 2
                ),
            ),
        }
    }

    fn interrupt(&mut self, core: &Core, event: IntrEvent) {
        match event {
            IntrEvent::Enter { vector, from } => {
                // The vector holds a jump to the handler (or the handler itself).
                let handler = match core.fetch(vector) {
                    Some(insn) if insn.op == Op::Jmp => insn.imm,
                    _ => vector,
                };
                let handler = self
                    .symbolizer
                    .symbols()
                    .lookup_code(handler)
                    .map(|(name, _)| name.to_string())
                    .unwrap_or_else(|| format!("{handler:#x}"));
                let source = match vector {
                    0x04 => "watchdog".to_string(),
                    v if v >= 0x08 => format!("priority {}", (v - 0x08) / 4),
                    _ => "reset".to_string(),
                };
                self.emit(
                    core.cycles,
                    "irq",
                    from,
                    format_args!("enter vector {vector:#x} ({source}) -> {handler}"),
                );
            }
            IntrEvent::Return { at, to } => {
                self.emit(
                    core.cycles,
                    "reti",
                    at,
                    format_args!("return to {to:#010x}"),
                );
            }
        }
    }

    fn frame(&mut self, now: Nanos, dir: &str, frame: &[u8]) {
        self.line.clear();
        let _ = write!(
            self.line,
            "{:>12} eth  {dir} {} bytes {}",
            now / NS_PER_CYCLE,
            frame.len(),
            describe_frame(frame)
        );
        let _ = writeln!(
            self.line,
            " t={}.{:09}s",
            now / 1_000_000_000,
            now % 1_000_000_000
        );
        self.write_line();
    }
}

fn width_suffix(w: Width) -> char {
    match w {
        Width::Byte => 'b',
        Width::Half => 's',
        Width::Word => 'l',
    }
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `src > dst type` of an Ethernet frame, with addresses and ports of IPv4 packets.
pub fn describe_frame(frame: &[u8]) -> String {
    if frame.len() < 14 {
        return "(runt frame: no Ethernet header)".to_string();
    }
    let (dst, src) = (mac(&frame[0..6]), mac(&frame[6..12]));
    let mut ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let mut payload = &frame[14..];
    let mut out = format!("{src} > {dst}");
    if ethertype == 0x8100 && payload.len() >= 4 {
        let _ = write!(
            out,
            " vlan {}",
            u16::from_be_bytes([payload[0], payload[1]]) & 0xFFF
        );
        ethertype = u16::from_be_bytes([payload[2], payload[3]]);
        payload = &payload[4..];
    }
    match ethertype {
        0x0806 => out.push_str(" arp"),
        0x86DD => out.push_str(" ipv6"),
        0x0800 => {
            out.push_str(" ipv4");
            out.push_str(&describe_ipv4(payload));
        }
        other => {
            let _ = write!(out, " type {other:#06x}");
        }
    }
    out
}

fn describe_ipv4(p: &[u8]) -> String {
    if p.len() < 20 || p[0] >> 4 != 4 {
        return " (truncated)".to_string();
    }
    let ihl = (p[0] & 0xF) as usize * 4;
    let ip = |b: &[u8]| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
    let (src, dst) = (ip(&p[12..16]), ip(&p[16..20]));
    let l4 = p.get(ihl..).unwrap_or(&[]);
    let port = |at: usize| u16::from_be_bytes([l4[at], l4[at + 1]]);
    match p[9] {
        6 if l4.len() >= 4 => format!(" {src}:{} > {dst}:{} tcp", port(0), port(2)),
        17 if l4.len() >= 4 => format!(" {src}:{} > {dst}:{} udp", port(0), port(2)),
        1 => format!(" {src} > {dst} icmp"),
        proto => format!(" {src} > {dst} proto {proto}"),
    }
}

/// A trace being written: installs hooks on a machine and wraps links; cheap to clone (all
/// clones write to the same output).
#[derive(Clone)]
pub struct Trace {
    shared: Arc<Mutex<Writer>>,
    options: TraceOptions,
    entry: Option<(u32, u32)>,
}

impl Trace {
    /// A trace of `options.kinds` written to `out`, symbolized by `symbolizer`. Fails when
    /// `options.function` names no function.
    pub fn new(
        options: TraceOptions,
        symbolizer: Symbolizer,
        out: Box<dyn Write + Send>,
    ) -> Result<Trace, TraceError> {
        let entry = match &options.function {
            Some(name) => {
                let s = symbolizer
                    .symbols()
                    .code_symbol(name)
                    .ok_or_else(|| TraceError::NoSuchFunction(name.clone()))?;
                Some((s.addr, s.size))
            }
            None => None,
        };
        let writer = Writer {
            out,
            symbolizer,
            tree: entry.map(|(addr, _)| CallTree {
                entry: addr,
                return_sp: None,
                interrupts: Vec::new(),
            }),
            range: options.range,
            io_region: |_| None,
            line: String::with_capacity(160),
            error: None,
            lines: 0,
        };
        Ok(Trace {
            shared: Arc::new(Mutex::new(writer)),
            options,
            entry,
        })
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // A panic in a hook poisons the lock; the trace is still worth finishing.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Installs the hooks that the options need on `m`; returns their ids (for
    /// [`Machine::hook_del`]).
    pub fn install<P: Profile>(&self, m: &mut Machine<P>) -> Vec<HookId> {
        let kinds = self.options.kinds;
        self.writer().io_region = P::io_region;
        let mut ids = Vec::new();
        // The range alone narrows the instruction hook; with a function filter too, the hook
        // must also see the function's entry, which may lie outside the range.
        let (begin, end) = match self.options.range {
            Some(r) if self.entry.is_none() => (r.start, r.end - 1),
            _ => (0, u32::MAX),
        };
        if kinds.insn || self.entry.is_some() {
            // With a function filter, every instruction is looked at (the return out of the
            // function is seen from the stack pointer); otherwise only the range's.
            let w = self.shared.clone();
            ids.push(m.add_code_hook(begin, end, move |core, pc| {
                let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
                let sp = core.regs[31];
                if let Some(tree) = &mut w.tree {
                    tree.at(pc, sp);
                }
                if w.passes(pc, sp) && kinds.insn {
                    w.insn(core, pc);
                }
                HookAction::Continue
            }));
        }
        if kinds.mem {
            let w = self.shared.clone();
            ids.push(
                m.add_mem_hook(MemHookKind::Access, 0, u32::MAX, move |core, access| {
                    let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
                    if w.passes(access.pc, core.regs[31]) {
                        w.mem(core, access);
                    }
                    HookAction::Continue
                }),
            );
        }
        if kinds.irq || self.entry.is_some() {
            let w = self.shared.clone();
            ids.push(m.add_intr_hook(move |core, event| {
                let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
                let sp = core.regs[31];
                match event {
                    IntrEvent::Enter { from, .. } => {
                        // Judged by the interrupted code, before the handler's frame counts.
                        let inside = w.passes(from, sp.wrapping_add(4));
                        if inside {
                            if let Some(tree) = &mut w.tree {
                                tree.interrupts.push(sp);
                            }
                        }
                        if kinds.irq && inside {
                            w.interrupt(core, event);
                        }
                    }
                    IntrEvent::Return { to, .. } => {
                        if kinds.irq && w.passes(to, sp) {
                            w.interrupt(core, event);
                        }
                    }
                }
                HookAction::Continue
            }));
        }
        ids
    }

    /// Wraps the link of a MAC so that frames in and out are traced (when `eth` is traced;
    /// otherwise the link passes through untouched, but boxed).
    pub fn wrap_link(&self, link: Box<dyn Link>) -> Box<dyn Link> {
        if !self.options.kinds.eth {
            return link;
        }
        Box::new(TraceLink {
            inner: link,
            trace: self.shared.clone(),
        })
    }

    /// An observer of the FT900's pin changes that writes one `gpio` line each (when `gpio`
    /// is traced), e.g.
    /// `   100000000 gpio 00000164  gpio18 output 0 -> output 1 t=1.000000000s  main+0x40`.
    pub fn gpio_observer(&self) -> Option<crate::profile::ft900::gpio::GpioObserver> {
        if !self.options.kinds.gpio {
            return None;
        }
        let w = self.shared.clone();
        Some(Box::new(move |change| {
            let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
            let ns = change.cycle * NS_PER_CYCLE;
            w.emit(
                change.cycle,
                "gpio",
                change.pc,
                format_args!(
                    "{} t={}.{:09}s",
                    change.describe(),
                    ns / 1_000_000_000,
                    ns % 1_000_000_000
                ),
            );
        }))
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.writer().lines
    }

    /// Flushes the output; reports the first write error of the whole trace.
    pub fn finish(&self) -> Result<(), TraceError> {
        let mut w = self.writer();
        if let Some(e) = w.error.take() {
            return Err(TraceError::Io(e));
        }
        w.out.flush()?;
        Ok(())
    }
}

/// A [`Link`] that traces every frame passing through it.
struct TraceLink {
    inner: Box<dyn Link>,
    trace: Arc<Mutex<Writer>>,
}

impl Link for TraceLink {
    fn transmit(&mut self, now: Nanos, frame: &[u8]) {
        if let Ok(mut w) = self.trace.lock() {
            w.frame(now, "tx", frame);
        }
        self.inner.transmit(now, frame)
    }

    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        self.inner.next_arrival(now)
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        let frame = self.inner.receive(now)?;
        if let Ok(mut w) = self.trace.lock() {
            w.frame(now, "rx", &frame);
        }
        Some(frame)
    }

    fn carrier(&self) -> bool {
        self.inner.carrier()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn gpio_changes_become_lines_with_cycle_pc_and_virtual_time() {
        use crate::profile::ft900::gpio::{GpioChange, PinState};
        let symbolizer = || Symbolizer::new(crate::elf::Symbols::new(Vec::new()), None);
        let out = Shared::default();
        let none = Trace::new(TraceOptions::default(), symbolizer(), Box::new(out.clone()));
        assert!(
            none.unwrap().gpio_observer().is_none(),
            "only when gpio is traced"
        );
        let options = TraceOptions {
            kinds: "gpio".parse().unwrap(),
            ..TraceOptions::default()
        };
        let trace = Trace::new(options, symbolizer(), Box::new(out.clone())).unwrap();
        let mut observer = trace.gpio_observer().unwrap();
        observer(&GpioChange {
            cycle: 150_000_000,
            pc: 0x164,
            pin: 18,
            from: PinState::Output(false),
            to: PinState::Output(true),
            led: Some("LED1 on".into()),
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.starts_with(
                "   150000000 gpio 00000164  gpio18 output 0 -> output 1 (LED1 on) t=1.500000000s"
            ),
            "{text:?}"
        );
        assert_eq!(trace.lines(), 1);
    }

    #[test]
    fn kinds_parse_any_subset_and_reject_unknown_names() {
        let k: TraceKinds = "mem, irq".parse().unwrap();
        assert!(k.mem && k.irq && !k.insn && !k.eth);
        let k: TraceKinds = "insn,mem,irq,eth".parse().unwrap();
        assert!(k.insn && k.mem && k.irq && k.eth);
        assert_eq!(
            "insn,memory".parse::<TraceKinds>(),
            Err(UnknownKind("memory".into()))
        );
    }

    #[test]
    fn ranges_parse_hex_and_decimal_and_reject_empty_ones() {
        let r: AddrRange = "0x100..0x200".parse().unwrap();
        assert_eq!((r.start, r.end), (0x100, 0x200));
        assert!(r.contains(0x100) && r.contains(0x1FC) && !r.contains(0x200));
        let r: AddrRange = "16..32".parse().unwrap();
        assert_eq!((r.start, r.end), (16, 32));
        assert!("0x200..0x100".parse::<AddrRange>().is_err());
        assert!("0x100".parse::<AddrRange>().is_err());
        assert!("0x1g..0x20".parse::<AddrRange>().is_err());
    }

    #[test]
    fn frames_are_described_with_macs_type_and_ports() {
        let mut f = vec![0xFFu8; 6];
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
        f.resize(60, 0);
        assert_eq!(
            describe_frame(&f),
            "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff arp"
        );
        let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        let mut ip = vec![
            0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 2, 15, 10, 0, 2, 2,
        ];
        ip.extend_from_slice(&[0xC0, 0x00, 0x01, 0xBB]);
        f.extend_from_slice(&ip);
        assert_eq!(
            describe_frame(&f),
            "02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.2.15:49152 > 10.0.2.2:443 tcp"
        );
        assert_eq!(
            describe_frame(&[1, 2, 3]),
            "(runt frame: no Ethernet header)"
        );
    }

    #[test]
    fn the_call_tree_ends_at_return_and_excludes_interrupts() {
        let mut t = CallTree {
            entry: 0x100,
            return_sp: None,
            interrupts: Vec::new(),
        };
        assert!(!t.inside(0xF000));
        t.at(0x100, 0xF000); // entered: the return address is at 0xF000
        assert!(t.inside(0xF000));
        assert!(t.inside(0xEF00)); // a callee
        t.interrupts.push(0xEEFC); // an interrupt pushed its return address
        assert!(!t.inside(0xEEF0));
        assert!(t.inside(0xEF00)); // reti popped it
        assert!(!t.inside(0xF004)); // returned
        assert!(!t.inside(0xEF00)); // and stays out until the next entry
        t.at(0x100, 0xE000);
        assert!(t.inside(0xE000));
        assert!(!t.inside(0xF800)); // a longjmp far above the entry
    }
}
