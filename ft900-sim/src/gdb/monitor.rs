//! The `monitor` commands that look at a machine's devices: `uart`, `net`, `io` and `time`.
//!
//! They read the machine through [`Inspect`], which never changes it: a dump does not pop a
//! FIFO or clear a status bit, so looking does not alter what the firmware sees next. Each
//! command returns its answer as lines; the stub sends them to gdb's console.

use crate::core::Core;
use crate::inspect::{ConsoleLog, Inspect};

/// Lines per port `monitor uart` shows when no count is given.
pub const UART_DEFAULT_LINES: usize = 200;

/// One-line usages, for `monitor help` and for answers to bad arguments.
pub const USAGE: [(&str, &str); 4] = [
    (
        "uart [N|all]",
        "what the UARTs transmitted so far: the last N lines (default 200)",
    ),
    (
        "net",
        "Ethernet MAC: address, link, RX FIFO fill, frame and byte counters",
    ),
    (
        "io [BLOCK]",
        "peripheral registers of BLOCK, read without side effects (no BLOCK: the list)",
    ),
    (
        "time",
        "virtual time (cycles, seconds) and the real-time clock",
    ),
];

/// Answers `monitor WORDS` for the device commands; `None` when `words` is not one of them.
/// `machine` names the machine for the "not available" answers.
pub fn device_command(
    inspect: Option<&dyn Inspect>,
    machine: &str,
    core: &Core,
    words: &[&str],
) -> Option<Vec<String>> {
    let (&cmd, args) = words.split_first()?;
    let usage = || usage_of(cmd);
    let unavailable = |what: &str| {
        vec![format!(
            "`monitor {cmd}` is not available on the {machine} machine: it has no {what}"
        )]
    };
    Some(match cmd {
        "uart" => {
            let Some(limit) = parse_line_limit(args) else {
                return Some(usage());
            };
            match inspect {
                Some(i) => uart(&i.console(), limit),
                None => {
                    unavailable("UART (its console output goes to the simulator's standard output)")
                }
            }
        }
        "net" => {
            if !args.is_empty() {
                return Some(usage());
            }
            match inspect.and_then(|i| i.net(core.cycles)) {
                Some(lines) => lines,
                None => unavailable("Ethernet MAC"),
            }
        }
        "io" | "periph" => match (inspect, args) {
            (None, _) => unavailable("memory-mapped peripherals"),
            (Some(i), []) => io_list(i),
            (Some(i), [block]) => match i.io_dump(&block.to_ascii_lowercase(), core.cycles) {
                Some((regs, notes)) => {
                    let mut lines: Vec<String> = regs
                        .iter()
                        .map(|r| {
                            let width = usize::from(r.bytes) * 2;
                            format!("{:#07x}  {:<24} {:0width$x}", r.addr, r.name, r.value)
                        })
                        .collect();
                    lines.extend(notes);
                    lines
                }
                None => {
                    let mut lines = vec![format!("no register block `{block}`")];
                    lines.extend(io_list(i));
                    lines
                }
            },
            (Some(_), _) => usage(),
        },
        "time" => {
            if !args.is_empty() {
                return Some(usage());
            }
            let mut lines = vec![format!(
                "virtual time {:.9} s: {} cycles at 100 MHz, {} instructions",
                core.cycles as f64 / 1e8,
                core.cycles,
                core.insns
            )];
            match inspect {
                Some(i) => lines.extend(i.clocks(core.cycles)),
                None => lines.push(format!("the {machine} machine has no real-time clock")),
            }
            lines.push("virtual time stands still while gdb holds the CPU".to_string());
            lines
        }
        _ => return None,
    })
}

/// `usage: monitor CMD ARGS  what it does`.
fn usage_of(cmd: &str) -> Vec<String> {
    let cmd = if cmd == "periph" { "io" } else { cmd };
    USAGE
        .iter()
        .filter(|(u, _)| u.split_whitespace().next() == Some(cmd))
        .map(|(u, what)| format!("usage: monitor {u}   ({what})"))
        .collect()
}

/// `[]` → the default, `["all"]` → everything, `["N"]` → N lines; `None` for anything else.
fn parse_line_limit(args: &[&str]) -> Option<Option<usize>> {
    match args {
        [] => Some(Some(UART_DEFAULT_LINES)),
        ["all"] => Some(None),
        [n] => n.parse::<usize>().ok().filter(|&n| n > 0).map(Some),
        _ => None,
    }
}

fn io_list(i: &dyn Inspect) -> Vec<String> {
    vec![
        format!("register blocks: {}", i.io_blocks().join(", ")),
        "usage: monitor io BLOCK".to_string(),
    ]
}

/// The ports' output as lines, the last `limit` of each (all with `None`).
fn uart(logs: &[ConsoleLog], limit: Option<usize>) -> Vec<String> {
    let mut out = Vec::new();
    for log in logs {
        if log.bytes.is_empty() && log.omitted == 0 {
            out.push(format!("{}: nothing transmitted", log.port));
            continue;
        }
        let lines = split_lines(&log.bytes);
        let shown = limit.map_or(lines.len(), |n| n.min(lines.len()));
        let hidden = lines.len() - shown;
        let mut header = format!("{}: {} lines", log.port, lines.len());
        if hidden > 0 {
            header += &format!(", the last {shown} shown (`monitor uart all` for every one)");
        }
        if log.omitted > 0 {
            header += &format!("; {} older bytes no longer kept", log.omitted);
        }
        out.push(header);
        out.extend(lines[hidden..].iter().map(|l| format!("  {l}")));
        if log.pending > 0 {
            out.push(format!(
                "  ({} more bytes written by the firmware, still in the transmitter)",
                log.pending
            ));
        }
    }
    out
}

/// Splits on `\n` (dropping `\r`), escaping bytes that are not printable ASCII so that gdb's
/// console shows exactly what went out; a last line without `\n` is kept.
fn split_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for &b in bytes {
        match b {
            b'\n' => lines.push(std::mem::take(&mut line)),
            b'\r' => {}
            b'\t' | 0x20..=0x7E => line.push(b as char),
            _ => line += &format!("\\x{b:02x}"),
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(text: &str) -> ConsoleLog {
        ConsoleLog {
            port: "uart0",
            bytes: text.as_bytes().to_vec(),
            omitted: 0,
            pending: 0,
        }
    }

    #[test]
    fn uart_shows_the_last_lines_and_says_how_many_are_hidden() {
        let out = uart(&[log("one\r\ntwo\r\nthree\r\npart")], Some(2));
        assert_eq!(
            out,
            [
                "uart0: 4 lines, the last 2 shown (`monitor uart all` for every one)",
                "  three",
                "  part"
            ]
        );
        let out = uart(&[log("a\n\x01\n")], None);
        assert_eq!(out, ["uart0: 2 lines", "  a", "  \\x01"]);
    }

    #[test]
    fn bad_counts_are_refused() {
        assert_eq!(parse_line_limit(&[]), Some(Some(UART_DEFAULT_LINES)));
        assert_eq!(parse_line_limit(&["all"]), Some(None));
        assert_eq!(parse_line_limit(&["7"]), Some(Some(7)));
        assert_eq!(parse_line_limit(&["0"]), None);
        assert_eq!(parse_line_limit(&["x"]), None);
        assert_eq!(parse_line_limit(&["1", "2"]), None);
    }

    #[test]
    fn machines_without_devices_say_so() {
        let core = Core::new();
        let out = device_command(None, "gdb-sim", &core, &["net"]).unwrap();
        assert!(
            out[0].contains("not available on the gdb-sim machine"),
            "{out:?}"
        );
        let out = device_command(None, "gdb-sim", &core, &["uart", "x"]).unwrap();
        assert!(out[0].starts_with("usage: monitor uart"), "{out:?}");
        assert!(device_command(None, "gdb-sim", &core, &["bogus"]).is_none());
    }
}
