//! Lockstep debugger: run a program instruction by instruction in the reference simulator (gdb 13's
//! FT32 simulator, driven through `ft32-elf-gdb` in batch mode) and in our simulator side by side, and
//! report the first instruction after which the pc or any register differs.
//!
//! # How the reference is driven
//!
//! gdb runs a generated script:
//!
//! ```text
//! target sim --load-vma
//! load
//! break *0
//! run                  # stops at pc 0 before the first instruction; sp = ELF entry, like `run`
//! delete               # no breakpoint left in PM while stepping
//! set $__ls_i = 0
//! while $__ls_i < N
//!   printf "@@LS %u %x ... \n", $__ls_i, (unsigned int)$pc, (unsigned int)$r0, ..., (unsigned int)$sp
//!   stepi
//!   set $__ls_i = $__ls_i + 1
//! end
//! ```
//!
//! and its standard output is read line by line while gdb is still running (one process for the whole
//! run; a pipe provides the back-pressure), so long programs need no restarts. gdb steps about 5000
//! instructions per second.
//!
//! # The RAM bias of `$sp` and `$fp`
//!
//! gdb types `$sp` and `$fp` as data pointers, and the FT32 `pointer_to_address` hook ORs the RAM bias
//! into them: `printf "%x", $sp` shows `raw | 0x800000` (a raw 0 prints as 0x800000, 0xFFFC as 0x80FFFC,
//! but 0xFFFFFFE8 stays 0xFFFFFFE8 and 0x1234678 shows as 0x1A34678). The OR cannot be undone when the
//! raw value already had bit 23 set, so the script casts instead: `(unsigned int)$sp` converts the
//! register's raw bytes and prints the exact value (checked against raw values 0, 0x10, 0xFFFFFFE8,
//! 0x1234678, 0x7FFFF, 0xFFFFF). [`unbias_gdb_pointer`] documents the rule for uncast output.
//!
//! # Setting up our side
//!
//! The caller resets its machine to the state gdb's `run` creates (PC = 0, sp = ELF entry, other
//! registers 0, ELF loaded at its VMAs) and gives the guest an empty console input: gdb runs with
//! standard input from /dev/null, so the reference guest reads EOF (0xFFFFFFFF) from 0x10000.
//! Guest console output of the reference is discarded with gdb's other chatter.
//!
//! # End of the reference run
//!
//! * normal exit: `[Inferior 1 (process N) exited normally]` or `... exited with code NNN]` (octal, not
//!   truncated to 8 bits);
//! * guest fault: `Program terminated with signal SIGILL, Illegal instruction.` (SIGSEGV likewise);
//! * the breakpoint word `call 8` (0x00340002): gdb takes the simulator's SIGTRAP for a breakpoint of
//!   its own, so `stepi` never gets past it — the state simply stops changing. When our simulator stops
//!   at an instruction after which the reference made no progress, both are considered stopped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// What lockstep needs from our simulator.
pub trait Stepper {
    fn pc(&self) -> u32;
    /// Hardware numbering r0..r31 (r31 = sp, r30 = cc, r29 = fp).
    fn regs(&self) -> [u32; 32];
    /// Execute exactly one instruction; `Err(description)` when the machine stopped (exit, fault).
    fn step(&mut self) -> Result<(), String>;
}

/// Any machine steps in lockstep: the reference's state after each instruction is compared with
/// ours. A stop (exit, fault, breakpoint) ends our side with its description.
impl<P: crate::machine::Profile> Stepper for crate::machine::Machine<P> {
    fn pc(&self) -> u32 {
        self.core.pc
    }

    fn regs(&self) -> [u32; 32] {
        self.core.regs
    }

    fn step(&mut self) -> Result<(), String> {
        match crate::machine::Machine::step(self) {
            None => Ok(()),
            Some(stop) => Err(stop.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LockstepConfig {
    /// Path of `ft32-elf-gdb`.
    pub gdb: PathBuf,
    /// Stop after this many instructions without a divergence.
    pub max_steps: u64,
    /// Steps per inner gdb `while` loop (the script nests loops of this size; 0 = a single loop).
    /// The whole run is still one gdb process whose output is streamed.
    pub chunk: u64,
}

impl LockstepConfig {
    pub fn new(gdb: impl Into<PathBuf>) -> Self {
        LockstepConfig {
            gdb: gdb.into(),
            max_steps: 1_000_000,
            chunk: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockstepOutcome {
    /// `steps` instructions executed in both simulators with identical pc and registers after each.
    Agreed { steps: u64 },
    /// After `step` instructions (i.e. instruction number `step`, counting from 1; `step == 0` means
    /// the initial states differ) the pc or registers differ. `pc_ref`/`pc_ours` are the pcs *after*
    /// that instruction; `diffs` lists (name, reference value, our value) of every differing item.
    Diverged {
        step: u64,
        pc_ref: u32,
        pc_ours: u32,
        diffs: Vec<(String, u32, u32)>,
    },
    /// The reference stopped (exit, fault) after `steps` instructions; `message` says how, and whether
    /// our simulator stopped at the same instruction.
    ReferenceStopped {
        steps: u64,
        message: String,
        /// Whether our simulator stopped at the same instruction (agreement) or went on.
        ours_stopped: bool,
    },
}

impl LockstepOutcome {
    /// `true` when both simulators went the same way: no divergence within the step budget, or
    /// both stopped at the same instruction.
    pub fn agrees(&self) -> bool {
        match self {
            LockstepOutcome::Agreed { .. } => true,
            LockstepOutcome::ReferenceStopped { ours_stopped, .. } => *ours_stopped,
            LockstepOutcome::Diverged { .. } => false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockstepError {
    #[error("cannot start {gdb}: {source}")]
    Spawn {
        gdb: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the gdb script {path}: {source}")]
    Script {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("I/O error while reading gdb output: {0}")]
    Io(#[from] std::io::Error),
    #[error("gdb never reported the initial state (does the ELF load?); gdb said:\n{0}")]
    Startup(String),
    #[error("malformed gdb state line {line:?}: {reason}")]
    Parse { line: String, reason: String },
    #[error("gdb state lines out of sequence: expected step {expected}, got {got}")]
    OutOfSync { expected: u64, got: u64 },
}

/// Undo the RAM bias gdb adds when it prints `$sp`/`$fp` without a cast: it ORs 0x800000 into the raw
/// value. Exact whenever the raw value has bit 23 clear (every sp/fp inside the 64 KiB RAM); a raw
/// value with bit 23 set cannot be told apart, which is why the lockstep script prints
/// `(unsigned int)$sp` instead.
pub fn unbias_gdb_pointer(printed: u32) -> u32 {
    printed & !0x0080_0000
}

/// Register names in hardware order, as used in the diff table.
pub const REG_NAMES: [&str; 32] = [
    "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15", "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27",
    "r28", "fp(r29)", "cc(r30)", "sp(r31)",
];

/// gdb's names for hardware r0..r31.
const GDB_REG: [&str; 32] = [
    "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15", "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27",
    "r28", "fp", "cc", "sp",
];

const MARK: &str = "@@LS ";

/// The gdb script that produces the state stream.
pub fn gdb_script(max_steps: u64, chunk: u64) -> String {
    let mut fmt = String::from("@@LS %u %x");
    let mut args = String::from("$__ls_i, (unsigned int)$pc");
    for r in GDB_REG {
        fmt.push_str(" %x");
        args.push_str(&format!(", (unsigned int)${r}"));
    }
    let chunk = if chunk == 0 || chunk > max_steps {
        max_steps.max(1)
    } else {
        chunk
    };
    let outer = max_steps.div_ceil(chunk);
    format!(
        "set pagination off\nset confirm off\nset height 0\nset width 0\nset print symbol-filename off\n\
         target sim --load-vma\nload\nbreak *0\nrun\ndelete\n\
         set $__ls_i = 0\nset $__ls_o = 0\n\
         while $__ls_o < {outer}\n\
         set $__ls_j = 0\n\
         while $__ls_j < {chunk} && $__ls_i < {max_steps}\n\
         printf \"{fmt}\\n\", {args}\n\
         stepi\n\
         set $__ls_i = $__ls_i + 1\n\
         set $__ls_j = $__ls_j + 1\n\
         end\n\
         set $__ls_o = $__ls_o + 1\n\
         end\n\
         printf \"{fmt}\\n\", {args}\n\
         printf \"@@LS-END\\n\"\n"
    )
}

/// One machine state reported by gdb: before instruction `index` (0-based) was executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefState {
    pub index: u64,
    pub pc: u32,
    pub regs: [u32; 32],
}

/// A classified line of gdb output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GdbEvent {
    State(RefState),
    /// The inferior exited with this status (gdb prints it in octal; not truncated).
    Exited(u32),
    /// The inferior was terminated by a signal (e.g. "SIGILL, Illegal instruction").
    Signalled(String),
    /// "Program received signal ..." (the inferior still exists).
    Received(String),
    /// The script finished all steps.
    End,
    /// Anything else (gdb chatter, guest console output).
    Other(String),
}

/// Classify one line of gdb output.
pub fn parse_gdb_line(line: &str) -> Result<GdbEvent, LockstepError> {
    if let Some(p) = line.find(MARK) {
        let fields: Vec<&str> = line[p + MARK.len()..].split_whitespace().collect();
        if fields.len() != 34 {
            return Err(LockstepError::Parse {
                line: line.to_string(),
                reason: format!("expected 34 fields, found {}", fields.len()),
            });
        }
        let index = fields[0].parse::<u64>().map_err(|e| LockstepError::Parse {
            line: line.to_string(),
            reason: format!("step index: {e}"),
        })?;
        let hex = |s: &str| {
            u64::from_str_radix(s, 16)
                .map(|v| v as u32)
                .map_err(|e| LockstepError::Parse {
                    line: line.to_string(),
                    reason: format!("hex value {s:?}: {e}"),
                })
        };
        let pc = hex(fields[1])?;
        let mut regs = [0u32; 32];
        for (i, f) in fields[2..].iter().enumerate() {
            regs[i] = hex(f)?;
        }
        return Ok(GdbEvent::State(RefState { index, pc, regs }));
    }
    if line.contains("@@LS-END") {
        return Ok(GdbEvent::End);
    }
    if let Some(p) = line.find("[Inferior ") {
        let rest = &line[p..];
        if rest.contains("exited normally") {
            return Ok(GdbEvent::Exited(0));
        }
        if let Some(q) = rest.find("exited with code ") {
            let num: String = rest[q + 17..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            // gdb prints the code with %02o
            if let Ok(v) = u32::from_str_radix(&num, 8) {
                return Ok(GdbEvent::Exited(v));
            }
        }
    }
    if let Some(p) = line.find("Program terminated with signal ") {
        return Ok(GdbEvent::Signalled(
            line[p + 31..].trim_end_matches('.').trim().to_string(),
        ));
    }
    if let Some(p) = line.find("Program received signal ") {
        return Ok(GdbEvent::Received(
            line[p + 24..].trim_end_matches('.').trim().to_string(),
        ));
    }
    Ok(GdbEvent::Other(line.to_string()))
}

/// Where the reference is, as seen from the stream.
#[derive(Debug)]
enum RefNext {
    State(RefState),
    /// The reference stopped; the message says how.
    Stopped(String),
    /// The script ran out of steps (only after `max_steps`).
    End,
}

/// Incremental reader of the gdb state stream.
pub struct GdbStream<R: Read> {
    reader: BufReader<R>,
    /// Recent non-state lines (for error messages).
    chatter: VecDeque<String>,
    line: Vec<u8>,
}

impl<R: Read> GdbStream<R> {
    pub fn new(r: R) -> Self {
        GdbStream {
            reader: BufReader::with_capacity(1 << 16, r),
            chatter: VecDeque::new(),
            line: Vec::new(),
        }
    }

    /// The next classified event, `None` at end of stream.
    pub fn next_event(&mut self) -> Result<Option<GdbEvent>, LockstepError> {
        self.line.clear();
        if self.reader.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&self.line);
        let text = text.trim_end_matches(['\n', '\r']);
        let ev = parse_gdb_line(text)?;
        if let GdbEvent::Other(s) = &ev {
            if !s.trim().is_empty() {
                self.chatter.push_back(s.clone());
                if self.chatter.len() > 12 {
                    self.chatter.pop_front();
                }
            }
        }
        Ok(Some(ev))
    }

    fn recent_chatter(&self) -> String {
        self.chatter.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Skip to the next state or stop.
    fn next_ref(&mut self) -> Result<RefNext, LockstepError> {
        let mut received: Option<String> = None;
        loop {
            match self.next_event()? {
                None => {
                    let why = received.unwrap_or_else(|| {
                        let c = self.recent_chatter();
                        if c.is_empty() {
                            "gdb ended".to_string()
                        } else {
                            format!("gdb ended: {}", c.replace('\n', " | "))
                        }
                    });
                    return Ok(RefNext::Stopped(why));
                }
                Some(GdbEvent::State(s)) => {
                    if let Some(sig) = received {
                        // gdb stopped with a signal but the inferior still exists
                        return Ok(RefNext::Stopped(format!(
                            "received signal {sig} at pc {:#x}",
                            s.pc
                        )));
                    }
                    return Ok(RefNext::State(s));
                }
                Some(GdbEvent::Exited(code)) => {
                    return Ok(RefNext::Stopped(format!(
                        "exited with status {code} ({code:#x})"
                    )))
                }
                Some(GdbEvent::Signalled(s)) => {
                    return Ok(RefNext::Stopped(format!("terminated with signal {s}")))
                }
                Some(GdbEvent::Received(s)) => received = Some(s),
                Some(GdbEvent::End) => return Ok(RefNext::End),
                Some(GdbEvent::Other(_)) => {}
            }
        }
    }
}

/// Compare a reference state with ours; the differing items (pc first).
pub fn diff_states(
    pc_ref: u32,
    regs_ref: &[u32; 32],
    pc_ours: u32,
    regs_ours: &[u32; 32],
) -> Vec<(String, u32, u32)> {
    let mut d = Vec::new();
    if pc_ref != pc_ours {
        d.push(("pc".to_string(), pc_ref, pc_ours));
    }
    for i in 0..32 {
        if regs_ref[i] != regs_ours[i] {
            d.push((REG_NAMES[i].to_string(), regs_ref[i], regs_ours[i]));
        }
    }
    d
}

/// Everything a lockstep run found out (the outcome plus context for a report).
#[derive(Debug, Clone)]
pub struct LockstepRun {
    pub outcome: LockstepOutcome,
    /// pc of the last instruction both simulators executed from the same state (the culprit on a
    /// divergence), if any instruction was executed.
    pub last_pc: Option<u32>,
    /// Full register state of the reference and ours at the point of the outcome.
    pub regs_ref: [u32; 32],
    pub regs_ours: [u32; 32],
}

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run `elf` in gdb's simulator and in `ours` in lockstep (see the module docs).
pub fn run_lockstep(
    elf: &Path,
    cfg: &LockstepConfig,
    ours: &mut dyn Stepper,
) -> Result<LockstepOutcome, LockstepError> {
    run_lockstep_detailed(elf, cfg, ours).map(|r| r.outcome)
}

/// Like [`run_lockstep`], with the context needed for a readable report ([`describe`]).
pub fn run_lockstep_detailed(
    elf: &Path,
    cfg: &LockstepConfig,
    ours: &mut dyn Stepper,
) -> Result<LockstepRun, LockstepError> {
    let script_path = std::env::temp_dir().join(format!(
        "ft900-lockstep-{}-{}.gdb",
        std::process::id(),
        unique()
    ));
    std::fs::write(&script_path, gdb_script(cfg.max_steps, cfg.chunk)).map_err(|source| {
        LockstepError::Script {
            path: script_path.clone(),
            source,
        }
    })?;
    let child = Command::new(&cfg.gdb)
        .arg("-batch")
        .arg("-nx")
        .arg("-x")
        .arg(&script_path)
        .arg(elf)
        .stdin(Stdio::null()) // the guest's console input sees EOF
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| LockstepError::Spawn {
            gdb: cfg.gdb.clone(),
            source,
        });
    let mut child = match child {
        Ok(c) => KillOnDrop(c),
        Err(e) => {
            let _ = std::fs::remove_file(&script_path);
            return Err(e);
        }
    };
    let stdout: ChildStdout = child.0.stdout.take().expect("piped stdout");
    let result = lockstep_on_stream(GdbStream::new(stdout), cfg.max_steps, ours);
    drop(child);
    let _ = std::fs::remove_file(&script_path);
    result
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The comparison loop, on any stream of gdb output (unit-testable with captured output).
pub fn lockstep_on_stream<R: Read>(
    mut stream: GdbStream<R>,
    max_steps: u64,
    ours: &mut dyn Stepper,
) -> Result<LockstepRun, LockstepError> {
    let first = match stream.next_ref()? {
        RefNext::State(s) => s,
        RefNext::Stopped(msg) => {
            return Err(LockstepError::Startup(format!(
                "{msg}\n{}",
                stream.recent_chatter()
            )))
        }
        RefNext::End => return Err(LockstepError::Startup(stream.recent_chatter())),
    };
    if first.index != 0 {
        return Err(LockstepError::OutOfSync {
            expected: 0,
            got: first.index,
        });
    }
    let mut cur = first;
    let diffs = diff_states(cur.pc, &cur.regs, ours.pc(), &ours.regs());
    if !diffs.is_empty() {
        return Ok(LockstepRun {
            outcome: LockstepOutcome::Diverged {
                step: 0,
                pc_ref: cur.pc,
                pc_ours: ours.pc(),
                diffs,
            },
            last_pc: None,
            regs_ref: cur.regs,
            regs_ours: ours.regs(),
        });
    }
    let mut step: u64 = 0;
    loop {
        if step >= max_steps {
            return Ok(LockstepRun {
                outcome: LockstepOutcome::Agreed { steps: step },
                last_pc: Some(cur.pc),
                regs_ref: cur.regs,
                regs_ours: ours.regs(),
            });
        }
        let executed_pc = cur.pc;
        let ours_result = ours.step();
        step += 1;
        let next = stream.next_ref()?;
        let run = |outcome, regs_ref| LockstepRun {
            outcome,
            last_pc: Some(executed_pc),
            regs_ref,
            regs_ours: ours.regs(),
        };
        match (ours_result, next) {
            (Ok(()), RefNext::State(s)) => {
                if s.index != step {
                    return Err(LockstepError::OutOfSync {
                        expected: step,
                        got: s.index,
                    });
                }
                let diffs = diff_states(s.pc, &s.regs, ours.pc(), &ours.regs());
                if !diffs.is_empty() {
                    // gdb cannot step over `call 8`: no progress at all in the reference
                    if s.pc == cur.pc && s.regs == cur.regs {
                        let msg = format!(
                            "reference made no progress at pc {:#x} (gdb treats the SIGTRAP of the breakpoint word `call 8` as its own breakpoint); OUR SIMULATOR EXECUTED IT (now at pc {:#x})",
                            s.pc,
                            ours.pc()
                        );
                        return Ok(run(
                            LockstepOutcome::ReferenceStopped {
                                steps: step - 1,
                                message: msg,
                                ours_stopped: false,
                            },
                            s.regs,
                        ));
                    }
                    let (pc_ref, pc_ours) = (s.pc, ours.pc());
                    return Ok(run(
                        LockstepOutcome::Diverged {
                            step,
                            pc_ref,
                            pc_ours,
                            diffs,
                        },
                        s.regs,
                    ));
                }
                cur = s;
            }
            (Ok(()), RefNext::Stopped(msg)) => {
                let message = format!(
                    "reference {msg} at instruction {step} (pc {executed_pc:#x}); OUR SIMULATOR DID NOT STOP (now at pc {:#x})",
                    ours.pc()
                );
                return Ok(run(
                    LockstepOutcome::ReferenceStopped {
                        steps: step,
                        message,
                        ours_stopped: false,
                    },
                    cur.regs,
                ));
            }
            (Err(e), RefNext::Stopped(msg)) => {
                let message = format!("reference {msg} at instruction {step} (pc {executed_pc:#x}); ours stopped there too: {e}");
                return Ok(run(
                    LockstepOutcome::ReferenceStopped {
                        steps: step,
                        message,
                        ours_stopped: true,
                    },
                    cur.regs,
                ));
            }
            (Err(e), RefNext::State(s)) => {
                if s.pc == cur.pc && s.regs == cur.regs {
                    // the reference did not get past this instruction either (breakpoint trap)
                    let message = format!(
                        "reference made no progress at pc {:#x} (the breakpoint word `call 8`: SIGTRAP, which gdb takes as its own breakpoint); ours stopped there too: {e}",
                        s.pc
                    );
                    return Ok(run(
                        LockstepOutcome::ReferenceStopped {
                            steps: step - 1,
                            message,
                            ours_stopped: true,
                        },
                        s.regs,
                    ));
                }
                let mut diffs = vec![(format!("stopped (ours: {e})"), 0, 1)];
                diffs.extend(diff_states(s.pc, &s.regs, ours.pc(), &ours.regs()));
                let (pc_ref, pc_ours) = (s.pc, ours.pc());
                return Ok(run(
                    LockstepOutcome::Diverged {
                        step,
                        pc_ref,
                        pc_ours,
                        diffs,
                    },
                    s.regs,
                ));
            }
            (Ok(()), RefNext::End) | (Err(_), RefNext::End) => {
                // the script's step budget is exhausted (max_steps): nothing more to compare
                return Ok(run(LockstepOutcome::Agreed { steps: step - 1 }, cur.regs));
            }
        }
    }
}

/// Disassemble the instruction at `pc` with `ft32-elf-objdump` (None if that fails).
pub fn disassemble_at(objdump: &Path, elf: &Path, pc: u32) -> Option<String> {
    let out = Command::new(objdump)
        .arg("-d")
        .arg(format!("--start-address={pc:#x}"))
        .arg(format!("--stop-address={:#x}", pc.wrapping_add(4)))
        .arg(elf)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let prefix = format!("{pc:x}:");
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with(&prefix))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A human-readable report of a lockstep run; `objdump` (optional) adds disassembly.
pub fn describe(run: &LockstepRun, elf: &Path, objdump: Option<&Path>) -> String {
    let dis = |pc: u32| {
        objdump
            .and_then(|o| disassemble_at(o, elf, pc))
            .map(|d| format!("  {d}"))
            .unwrap_or_default()
    };
    let mut s = String::new();
    match &run.outcome {
        LockstepOutcome::Agreed { steps } => {
            s.push_str(&format!(
                "lockstep: {steps} instructions executed, no divergence\n"
            ));
        }
        LockstepOutcome::ReferenceStopped { steps, message, .. } => {
            s.push_str(&format!(
                "lockstep: {steps} instructions agreed; {message}\n"
            ));
            if let Some(pc) = run.last_pc {
                s.push_str(&format!("last instruction: pc {pc:#010x}{}\n", dis(pc)));
            }
        }
        LockstepOutcome::Diverged {
            step,
            pc_ref,
            pc_ours,
            diffs,
        } => {
            if *step == 0 {
                s.push_str("lockstep: the initial states differ (before any instruction)\n");
            } else {
                let pc = run.last_pc.unwrap_or(0);
                s.push_str(&format!(
                    "lockstep: first divergence after instruction {step} at pc {pc:#010x}{}\n",
                    dis(pc)
                ));
                s.push_str(&format!(
                    "next pc: reference {pc_ref:#010x}, ours {pc_ours:#010x}\n"
                ));
            }
            s.push_str(&format!(
                "{:<28} {:>10} {:>10}\n",
                "item", "reference", "ours"
            ));
            for (name, r, o) in diffs {
                s.push_str(&format!("{name:<28} {r:#010x} {o:#010x}\n"));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from `ft32-elf-gdb -batch -nx -x script exit_status.elf` (gdb 13.1), plus chatter.
    const CAPTURED: &str = "\
Connected to the simulator.
Loading section .text, size 0xdfa0 vma 0
Start address 0
Transfer rate: 490576 bits in <1 sec.
Breakpoint 1 at 0x0

Breakpoint 1, 0x00000000 in __start ()
@@LS 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
0x00000088 in __start ()
@@LS 1 88 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
0x0000008c in __start ()
hello@@LS 2 8c 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 fffc
0x00000090 in __start ()
@@LS 3 90 1ab 0 8438 fa8 1460 409 444 18 0 0 0 0 0 1ab 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 11 ffd8
[Inferior 1 (process 42000) exited with code 0653]
stream.gdb:15: Error in sourced command file:
No registers.
";

    /// A scripted stepper replaying a list of states.
    struct Replay {
        states: Vec<(u32, [u32; 32])>,
        pos: usize,
        stop_at: Option<(usize, String)>,
    }
    impl Stepper for Replay {
        fn pc(&self) -> u32 {
            self.states[self.pos].0
        }
        fn regs(&self) -> [u32; 32] {
            self.states[self.pos].1
        }
        fn step(&mut self) -> Result<(), String> {
            if let Some((at, msg)) = &self.stop_at {
                if *at == self.pos {
                    return Err(msg.clone());
                }
            }
            self.pos += 1;
            Ok(())
        }
    }

    fn regs(f: &[(usize, u32)]) -> [u32; 32] {
        let mut r = [0u32; 32];
        for &(i, v) in f {
            r[i] = v;
        }
        r
    }

    fn captured_states() -> Vec<(u32, [u32; 32])> {
        vec![
            (0, regs(&[])),
            (0x88, regs(&[])),
            (0x8c, regs(&[(31, 0xfffc)])),
            (
                0x90,
                regs(&[
                    (0, 0x1ab),
                    (2, 0x8438),
                    (3, 0xfa8),
                    (4, 0x1460),
                    (5, 0x409),
                    (6, 0x444),
                    (7, 0x18),
                    (13, 0x1ab),
                    (30, 0x11),
                    (31, 0xffd8),
                ]),
            ),
            (0x94, regs(&[])),
        ]
    }

    #[test]
    fn parses_state_lines() {
        let ev = parse_gdb_line("@@LS 3 90 1ab 0 8438 fa8 1460 409 444 18 0 0 0 0 0 1ab 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 11 ffd8").unwrap();
        match ev {
            GdbEvent::State(s) => {
                assert_eq!(s.index, 3);
                assert_eq!(s.pc, 0x90);
                assert_eq!(s.regs[0], 0x1ab);
                assert_eq!(s.regs[13], 0x1ab);
                assert_eq!(s.regs[29], 0);
                assert_eq!(s.regs[30], 0x11);
                assert_eq!(s.regs[31], 0xffd8);
            }
            other => panic!("{other:?}"),
        }
        // guest console output glued in front of the marker
        assert!(matches!(
            parse_gdb_line(
                "hello@@LS 2 8c 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 fffc"
            )
            .unwrap(),
            GdbEvent::State(_)
        ));
        assert!(parse_gdb_line("@@LS 2 8c 0 0").is_err());
        assert!(parse_gdb_line(
            "@@LS 2 8c 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 zz"
        )
        .is_err());
        assert_eq!(
            parse_gdb_line("[Inferior 1 (process 42000) exited with code 0653]").unwrap(),
            GdbEvent::Exited(0x1ab)
        );
        assert_eq!(
            parse_gdb_line("[Inferior 1 (process 42000) exited normally]").unwrap(),
            GdbEvent::Exited(0)
        );
        assert_eq!(
            parse_gdb_line("Program terminated with signal SIGILL, Illegal instruction.").unwrap(),
            GdbEvent::Signalled("SIGILL, Illegal instruction".into())
        );
        assert_eq!(
            parse_gdb_line("Program received signal SIGSEGV, Segmentation fault.").unwrap(),
            GdbEvent::Received("SIGSEGV, Segmentation fault".into())
        );
        assert_eq!(parse_gdb_line("@@LS-END").unwrap(), GdbEvent::End);
        assert!(matches!(
            parse_gdb_line("0x00000088 in __start ()").unwrap(),
            GdbEvent::Other(_)
        ));
    }

    #[test]
    fn unbias_rule() {
        assert_eq!(unbias_gdb_pointer(0x800000), 0);
        assert_eq!(unbias_gdb_pointer(0x80fffc), 0xfffc);
        assert_eq!(unbias_gdb_pointer(0xffffffe8), 0xff7fffe8); // ambiguous case: why the script casts
    }

    #[test]
    fn agreeing_run_ends_when_reference_exits() {
        let mut ours = Replay {
            states: captured_states(),
            pos: 0,
            stop_at: Some((3, "exit 427".into())),
        };
        let run = lockstep_on_stream(GdbStream::new(CAPTURED.as_bytes()), 1000, &mut ours).unwrap();
        match &run.outcome {
            LockstepOutcome::ReferenceStopped { steps, message, .. } => {
                assert_eq!(*steps, 4);
                assert!(message.contains("exited with status 427"), "{message}");
                assert!(message.contains("ours stopped there too"), "{message}");
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(run.last_pc, Some(0x90));
    }

    #[test]
    fn reports_first_divergence() {
        let mut states = captured_states();
        states[2].1[31] = 0xfff8; // ours: wrong sp after instruction 2
        states[2].1[5] = 7;
        let mut ours = Replay {
            states,
            pos: 0,
            stop_at: None,
        };
        let run = lockstep_on_stream(GdbStream::new(CAPTURED.as_bytes()), 1000, &mut ours).unwrap();
        assert_eq!(
            run.outcome,
            LockstepOutcome::Diverged {
                step: 2,
                pc_ref: 0x8c,
                pc_ours: 0x8c,
                diffs: vec![("r5".into(), 0, 7), ("sp(r31)".into(), 0xfffc, 0xfff8)]
            }
        );
        assert_eq!(run.last_pc, Some(0x88));
        let text = describe(&run, Path::new("x.elf"), None);
        assert!(
            text.contains("after instruction 2 at pc 0x00000088"),
            "{text}"
        );
        assert!(text.contains("sp(r31)"), "{text}");
    }

    #[test]
    fn reports_pc_divergence_and_early_stop() {
        let mut states = captured_states();
        states[1].0 = 0x84;
        let mut ours = Replay {
            states,
            pos: 0,
            stop_at: None,
        };
        let run = lockstep_on_stream(GdbStream::new(CAPTURED.as_bytes()), 1000, &mut ours).unwrap();
        assert!(matches!(
            run.outcome,
            LockstepOutcome::Diverged {
                step: 1,
                pc_ref: 0x88,
                pc_ours: 0x84,
                ..
            }
        ));

        let mut ours = Replay {
            states: captured_states(),
            pos: 0,
            stop_at: Some((1, "guest fault: SIGILL".into())),
        };
        let run = lockstep_on_stream(GdbStream::new(CAPTURED.as_bytes()), 1000, &mut ours).unwrap();
        match run.outcome {
            LockstepOutcome::Diverged { step: 2, diffs, .. } => {
                assert!(diffs[0].0.contains("guest fault: SIGILL"))
            }
            o => panic!("{o:?}"),
        }

        // reference exits but ours keeps going
        let mut ours = Replay {
            states: captured_states(),
            pos: 0,
            stop_at: None,
        };
        let run = lockstep_on_stream(GdbStream::new(CAPTURED.as_bytes()), 1000, &mut ours).unwrap();
        match run.outcome {
            LockstepOutcome::ReferenceStopped {
                steps: 4, message, ..
            } => {
                assert!(message.contains("DID NOT STOP"), "{message}")
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn max_steps_and_initial_state() {
        let mut ours = Replay {
            states: captured_states(),
            pos: 0,
            stop_at: None,
        };
        let run = lockstep_on_stream(GdbStream::new(CAPTURED.as_bytes()), 2, &mut ours).unwrap();
        assert_eq!(run.outcome, LockstepOutcome::Agreed { steps: 2 });

        let mut states = captured_states();
        states[0].1[31] = 0xfffc;
        let mut ours = Replay {
            states,
            pos: 0,
            stop_at: None,
        };
        let run = lockstep_on_stream(GdbStream::new(CAPTURED.as_bytes()), 10, &mut ours).unwrap();
        assert!(matches!(
            run.outcome,
            LockstepOutcome::Diverged { step: 0, .. }
        ));

        let err = lockstep_on_stream(
            GdbStream::new("Connected to the simulator.\nNo symbol table\n".as_bytes()),
            10,
            &mut Replay {
                states: captured_states(),
                pos: 0,
                stop_at: None,
            },
        );
        assert!(matches!(err, Err(LockstepError::Startup(_))));
    }

    #[test]
    fn breakpoint_word_without_progress() {
        let stream = "\
@@LS 0 1c0 a 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 ffe0
0x000001c0 in main ()
@@LS 1 1c0 a 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 ffe0
";
        let st = regs(&[(0, 0xa), (31, 0xffe0)]);
        let mut ours = Replay {
            states: vec![(0x1c0, st), (0x1c4, st)],
            pos: 0,
            stop_at: Some((0, "guest fault: SIGTRAP".into())),
        };
        let run = lockstep_on_stream(GdbStream::new(stream.as_bytes()), 100, &mut ours).unwrap();
        match run.outcome {
            LockstepOutcome::ReferenceStopped {
                steps: 0, message, ..
            } => {
                assert!(message.contains("ours stopped there too"), "{message}")
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn script_shape() {
        let s = gdb_script(1000, 300);
        assert!(s.contains("target sim --load-vma\nload\nbreak *0\nrun\ndelete\n"));
        assert!(s.contains("while $__ls_o < 4\n"));
        assert!(s.contains("(unsigned int)$sp"));
        assert!(s.contains("(unsigned int)$fp"));
        assert_eq!(s.matches("%x").count(), 2 * 33);
    }
}
