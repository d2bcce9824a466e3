//! What the runner prints, and JUnit XML for CI systems.

use std::fmt::Write as _;

use super::ScenarioResult;

/// The header line of a scenario.
pub fn header(r: &ScenarioResult) -> String {
    let s = &r.scenario;
    let endpoint = match &s.endpoint.external {
        Some(addr) => format!("external {addr} (paced to the wall clock)"),
        None => "in-process (TLS, SigV4 strict)".to_string(),
    };
    format!(
        "scenario {}  seed {}  devices {}  net {}  endpoint {endpoint}",
        s.name,
        r.seed,
        s.devices.len(),
        match s.network.mode {
            super::spec::NetMode::User if s.network.impairments.is_active() => "user (impaired)",
            super::spec::NetMode::User => "user",
            super::spec::NetMode::None => "none",
        }
    )
}

/// The firmware's milestones for one device, from its UART lines (first match of each).
fn milestones(lines: &[(u64, String)]) -> String {
    const MARKS: &[&str] = &["dhcp", "sntp", "tls"];
    let mut out = Vec::new();
    for mark in MARKS {
        if let Some((_, l)) = lines.iter().find(|(_, l)| l.starts_with(mark)) {
            out.push(l.trim().to_string());
        }
    }
    out.join("  ")
}

/// The full report of one scenario, as printed.
pub fn summary(r: &ScenarioResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", header(r));
    for d in &r.outcome.devices {
        let stop = match &d.stop {
            None => "running at the limit".to_string(),
            Some(ft900_sim::StopReason::Exited(c)) => format!("exit {c}"),
            Some(other) => format!("{other:?}"),
        };
        let _ = writeln!(
            out,
            "  {:<8} {:<10} at {:>8.3} s  {} cycles  {} insns ({} busy, {:.0} MIPS)  {}",
            d.id,
            stop,
            d.end_ns as f64 / 1e9,
            d.cycles,
            d.insns,
            d.insns.saturating_sub(d.idle_insns),
            super::table::mips(d.insns.saturating_sub(d.idle_insns), d.host.as_secs_f64()),
            milestones(&d.lines())
        );
    }
    for c in &r.checks {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        if c.ok || c.detail.is_empty() {
            let _ = writeln!(out, "  {mark} {}", c.what);
        } else {
            let _ = writeln!(out, "  {mark} {}: {}", c.what, c.detail);
        }
    }
    let f = &r.fingerprint;
    let _ = writeln!(
        out,
        "  pcap sha256 {}   request log {} records (sha256 {})",
        f.pcap_sha256.as_deref().unwrap_or("- (no network)"),
        f.requests,
        f.requests_sha256
    );
    let host = r.outcome.host.as_secs_f64();
    let insns = r.outcome.insns();
    let busy = r.outcome.busy_insns();
    let _ = write!(
        out,
        "virtual {:.1} s   host {:.2} s   {:.2} G instructions   {:.0} MIPS   \
         (busy, idle loops skipped: {:.2} G, {:.0} MIPS)",
        r.outcome.virtual_ns as f64 / 1e9,
        host,
        insns as f64 / 1e9,
        super::table::mips(insns, host),
        busy as f64 / 1e9,
        super::table::mips(busy, host)
    );
    let _ = write!(
        out,
        "   cpu {:.2} s, span {:.2} s on {} thread{}: {:.0} busy MIPS in CPU time",
        r.outcome.cpu.as_secs_f64(),
        r.outcome.span.as_secs_f64(),
        r.outcome.threads,
        if r.outcome.threads == 1 { "" } else { "s" },
        r.outcome.busy_mips_cpu()
    );
    if r.rerun_host.is_some() {
        let _ = write!(
            out,
            " (both runs: host {:.2} s)",
            r.host_total().as_secs_f64()
        );
    }
    if let Some(dir) = &r.kept {
        let _ = write!(out, "   kept: {}/", dir.display());
    }
    out.push('\n');
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test suite, a test case per scenario (failures list the failed checks).
/// `errors` are scenarios that could not run at all: (file, message).
pub fn junit(results: &[ScenarioResult], errors: &[(String, String)]) -> String {
    let failures = results.iter().filter(|r| !r.passed()).count();
    let time: f64 = results.iter().map(|r| r.outcome.host.as_secs_f64()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"scenarios\" tests=\"{}\" failures=\"{failures}\" errors=\"{}\" time=\"{time:.3}\">",
        results.len() + errors.len(),
        errors.len()
    );
    for r in results {
        let _ = write!(
            out,
            "  <testcase classname=\"scenarios\" name=\"{}\" time=\"{:.3}\"",
            xml_escape(&r.scenario.name),
            r.outcome.host.as_secs_f64()
        );
        if r.passed() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let failed: Vec<String> = r
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.what, c.detail))
            .collect();
        let _ = writeln!(
            out,
            "    <failure message=\"{}\">{}</failure>",
            xml_escape(failed.first().map_or("", |s| s.as_str())),
            xml_escape(&summary(r))
        );
        out.push_str("  </testcase>\n");
    }
    for (file, msg) in errors {
        let _ = writeln!(
            out,
            "  <testcase classname=\"scenarios\" name=\"{}\">\n    <error message=\"{}\"/>\n  </testcase>",
            xml_escape(file),
            xml_escape(msg)
        );
    }
    out.push_str("</testsuite>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping_covers_markup_and_control_characters() {
        assert_eq!(xml_escape("a<b>&\"'\u{1}c"), "a&lt;b&gt;&amp;&quot;&apos;c");
    }
}
