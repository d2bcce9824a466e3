//! The vendor SDK's RTC and timer examples, unmodified, on both silicon revisions: built with
//! `sdk/build.sh` (see sdk/README.md) and run from the reset vector, their UART0 output checked
//! in virtual time against what they print on a board.
//!
//! * RTC Example 1 prints the uptime twice a second: on rev B from the legacy counter, which
//!   counts 32 times per second (the example shifts out 5 fractional bits), on rev C from the
//!   calendar RTC (hours, minutes, seconds in BCD after a manual refresh).
//! * RTC Example 2 prints "N seconds elapsed" from the RTC's interrupt every two seconds: on
//!   rev B a counter match re-armed `(seconds + 2) << 5`, on rev C alarm 1 on the seconds field
//!   with auto-refresh.
//! * Timer Examples 1–3 show once a second which of the timers A–D fired (one-shot after 5, 6,
//!   7, 8 s; continuous every 2, 3, 4, 5 s, polled and from the interrupt); rev C gives each
//!   timer its own prescaler, rev B shares one.
//!
//! The examples pace themselves with the SDK's `delayms`, whose loop the cycle model runs in
//! 4 cycles per pass while it subtracts 3 (docs/hardware/vendor-sdk.md §4), so a "1 s" delay lasts
//! 4/3 s here: the checks compare what each line shows with the virtual time it was printed
//! at, not with a line count.
//!
//! A missing SDK or toolchain fails these tests (build.sh's message); they never skip.

mod support;
mod vendor_support;

use sim_link::Nanos;
use vendor_support::{build_example, Chip, RunOpts, Session, Transcript, SECOND};

/// UART0's output split at every `\r` or `\n` (the RTC examples redraw one line with `\r`),
/// empty pieces dropped; each piece with the virtual time of its first byte.
fn pieces(t: &Transcript) -> Vec<(Nanos, String)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in t.uart0.iter().chain(std::iter::once(&b'\n')).enumerate() {
        if b == b'\r' || b == b'\n' {
            if i > start {
                let text = String::from_utf8_lossy(&t.uart0[start..i]).into_owned();
                out.push((t.uart0_times[start], text));
            }
            start = i + 1;
        }
    }
    out
}

/// Runs the SDK example `name` on `chip` for `secs` seconds of virtual time.
fn run(name: &str, chip: Chip, secs: u64) -> Transcript {
    let elf = build_example(name);
    let opts = RunOpts {
        max_virtual_secs: secs,
        ..RunOpts::new(chip)
    };
    let t = Session::new(&elf, opts).finish();
    t.assert_all_modelled();
    t
}

/// The virtual time the banner's last rule line started (the examples start their RTC or
/// timers right after `uart_puts` of the banner returns).
fn banner_end(t: &Transcript) -> Nanos {
    pieces(t)
        .into_iter()
        .rev()
        .find(|(_, l)| l.starts_with("-----"))
        .map(|(at, _)| at)
        .unwrap_or_else(|| panic!("no banner\n{}", t.context()))
}

// ---- RTC Example 1 ---------------------------------------------------------------------------

/// Parses "Uptime H h M m S s" into seconds.
fn uptime(line: &str) -> Option<u64> {
    let f: Vec<&str> = line.split_whitespace().collect();
    match f.as_slice() {
        ["Uptime", h, "h", m, "m", s, "s"] => Some(
            h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?,
        ),
        _ => None,
    }
}

/// RTC Example 1: the uptime it prints every "500 ms" is the virtual time since it started the
/// RTC, in whole seconds: it starts at 0, never goes back or skips a second, and is never
/// ahead of the time since the banner nor behind the time since its first line.
fn rtc_example_1(chip: Chip, format: &str) {
    let t = run("RTC Example 1", chip, 5);
    let start = banner_end(&t);
    let lines: Vec<(Nanos, String)> = pieces(&t)
        .into_iter()
        .filter(|(_, l)| l.starts_with("Uptime"))
        .collect();
    assert!(
        lines.len() >= 7,
        "{} uptime lines\n{}",
        lines.len(),
        t.context()
    );
    assert!(
        lines[0].1.starts_with(format),
        "{chip}: the example's own format is {format:?}: {:?}",
        lines[0].1
    );
    let first = lines[0].0;
    let mut seen = Vec::new();
    for (at, line) in &lines {
        let up = uptime(line).unwrap_or_else(|| panic!("{line:?}\n{}", t.context()));
        let since_first = (at - first) / SECOND;
        let since_banner = (at - start) / SECOND;
        assert!(
            up >= since_first && up <= since_banner,
            "{chip}: {line:?} at {:.3} s: expected {since_first}..={since_banner} s\n{}",
            *at as f64 / SECOND as f64,
            t.context()
        );
        seen.push(up);
    }
    assert_eq!(seen[0], 0, "{chip}: the uptime starts at 0");
    assert!(seen.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1));
    let last = *seen.last().unwrap();
    assert!(last >= 4, "{chip}: uptime after ~4.9 s is {last} s");
    eprintln!(
        "RTC Example 1 on {chip}: {} lines, uptime {seen:?}, first line {:.3} s after the banner",
        lines.len(),
        (first - start) as f64 / SECOND as f64
    );
}

#[test]
fn rtc_example_1_counts_uptime_rev_b() {
    // "%5d h": hours from the counter's whole seconds.
    rtc_example_1(Chip::RevB, "Uptime     0 h  0 m  0 s");
}

#[test]
fn rtc_example_1_counts_uptime_rev_c() {
    // "%2d h": the calendar's hours.
    rtc_example_1(Chip::RevC, "Uptime  0 h  0 m  0 s");
}

// ---- RTC Example 2 ---------------------------------------------------------------------------

/// RTC Example 2: the RTC interrupt prints "2 seconds elapsed", "4 …", "6 …" …, each at the
/// virtual time the RTC reached that many seconds after the example set it (within 100 ms of
/// banner + N s: the RTC is set right after the banner).
fn rtc_example_2(chip: Chip) {
    let t = run("RTC Example 2", chip, 7);
    let start = banner_end(&t);
    let lines: Vec<(Nanos, u64)> = pieces(&t)
        .into_iter()
        .filter_map(|(at, l)| {
            let n = l.strip_suffix(" seconds elapsed")?.trim().parse().ok()?;
            Some((at, n))
        })
        .collect();
    let values: Vec<u64> = lines.iter().map(|&(_, n)| n).collect();
    assert_eq!(values, [2, 4, 6], "{chip}\n{}", t.context());
    for &(at, n) in &lines {
        let after = at - start;
        assert!(
            after >= n * SECOND && after < n * SECOND + 100_000_000,
            "{chip}: \"{n} seconds elapsed\" at {:.3} s after the banner\n{}",
            after as f64 / SECOND as f64,
            t.context()
        );
    }
    eprintln!(
        "RTC Example 2 on {chip}: {values:?} at {:?} ms after the banner",
        lines
            .iter()
            .map(|&(at, _)| (at - start) / 1_000_000)
            .collect::<Vec<_>>()
    );
}

#[test]
fn rtc_example_2_interrupts_every_two_seconds_rev_b() {
    rtc_example_2(Chip::RevB);
}

#[test]
fn rtc_example_2_interrupts_every_two_seconds_rev_c() {
    rtc_example_2(Chip::RevC);
}

// ---- Timer Examples 1–3 ----------------------------------------------------------------------

/// The "Timer A B C D" lines (`_` for a timer that did not fire), with their times.
fn timer_lines(t: &Transcript) -> Vec<(Nanos, [bool; 4])> {
    pieces(t)
        .into_iter()
        .filter_map(|(at, l)| {
            let b = l.as_bytes();
            if !l.starts_with("Timer ") || b.len() != 13 {
                return None;
            }
            let mut fired = [false; 4];
            for (i, f) in fired.iter_mut().enumerate() {
                *f = match b[6 + 2 * i] {
                    b'_' => false,
                    c if c == b'A' + i as u8 => true,
                    _ => return None,
                };
            }
            Some((at, fired))
        })
        .collect()
}

/// Checks that each "Timer" line shows exactly the timers whose expiries (at `expiries(i)` s
/// after the first line, the timers being started just before it) fall after the previous
/// line and no later than this one, and that every timer fired; returns the lines shown.
fn check_timers(t: &Transcript, expiries: impl Fn(usize) -> Vec<u64>) -> Vec<String> {
    let lines = timer_lines(t);
    assert!(
        lines.len() >= 8,
        "{} timer lines\n{}",
        lines.len(),
        t.context()
    );
    let first = lines[0].0;
    let mut shown = Vec::new();
    for (k, &(at, fired)) in lines.iter().enumerate() {
        let prev = if k == 0 { 0 } else { lines[k - 1].0 - first };
        let now = at - first;
        for (i, &f) in fired.iter().enumerate() {
            let due = expiries(i)
                .iter()
                .any(|&s| s * SECOND > prev && s * SECOND <= now);
            assert_eq!(
                f,
                due,
                "{}: line {k} at {:.3} s shows timer {} {}\n{}",
                t.chip,
                now as f64 / SECOND as f64,
                (b'A' + i as u8) as char,
                if f { "fired" } else { "not fired" },
                t.context()
            );
        }
        let text: Vec<String> = std::iter::once("Timer".to_string())
            .chain(fired.iter().enumerate().map(|(i, &f)| {
                if f {
                    ((b'A' + i as u8) as char).to_string()
                } else {
                    "_".to_string()
                }
            }))
            .collect();
        shown.push(text.join(" "));
    }
    for (i, name) in ["A", "B", "C", "D"].iter().enumerate() {
        assert!(
            lines.iter().any(|(_, fired)| fired[i]),
            "{}: timer {name} never fired\n{}",
            t.chip,
            t.context()
        );
    }
    eprintln!("{} on {}: {shown:?}", t.name, t.chip);
    shown
}

/// Timer Example 1: timers A–D one-shot, expiring 5, 6, 7 and 8 s after they start; each
/// letter shows once, on the line of its second, and never again.
fn timer_example_1(chip: Chip) {
    let t = run("Timer Example 1", chip, 10);
    let shown = check_timers(&t, |i| vec![5 + i as u64]);
    for letter in ["A", "B", "C", "D"] {
        let n = shown
            .iter()
            .filter(|l| l.split(' ').any(|f| f == letter))
            .count();
        assert_eq!(
            n, 1,
            "{chip}: one-shot timer {letter} shown {n} times: {shown:?}"
        );
    }
}

/// Timers A–D of Timer Examples 2 and 3: every 2, 3, 4 and 5 s.
fn continuous_expiries(i: usize) -> Vec<u64> {
    let period = 2 + i as u64;
    (1..=20).map(|n| n * period).collect()
}

/// Timer Example 2: the four timers continuous, polled by the main loop once a "second".
fn timer_example_2(chip: Chip) {
    let t = run("Timer Example 2", chip, 11);
    check_timers(&t, continuous_expiries);
}

/// Timer Example 3: the same timers counted by the timer interrupt (IRQ 17).
fn timer_example_3(chip: Chip) {
    let t = run("Timer Example 3", chip, 11);
    check_timers(&t, continuous_expiries);
}

#[test]
fn timer_example_1_one_shots_fire_in_their_second_rev_b() {
    timer_example_1(Chip::RevB);
}

#[test]
fn timer_example_1_one_shots_fire_in_their_second_rev_c() {
    timer_example_1(Chip::RevC);
}

#[test]
fn timer_example_2_polled_continuous_timers_rev_b() {
    timer_example_2(Chip::RevB);
}

#[test]
fn timer_example_2_polled_continuous_timers_rev_c() {
    timer_example_2(Chip::RevC);
}

#[test]
fn timer_example_3_interrupt_counted_timers_rev_b() {
    timer_example_3(Chip::RevB);
}

#[test]
fn timer_example_3_interrupt_counted_timers_rev_c() {
    timer_example_3(Chip::RevC);
}
