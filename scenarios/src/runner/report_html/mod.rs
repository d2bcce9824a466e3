//! The HTML report of a run: one self-contained page (its style sheet, script and drawings
//! inline; nothing fetched when it is opened) with the scenario and seed, the verdict of every
//! expectation, the figures, a timeline per device on virtual time, the request log as a
//! filterable table, the capture's frames per device with a link to the pcap and, with
//! `--profile`, the profiled device's flame graph.
//!
//! The page is written with `maud`, which escapes every value put into it: the UART lines and
//! request bodies come from the guest and are not trusted.
//!
//! - [`events`]: each device's milestones and requests;
//! - [`faults`]: the outages, impairments, restarts and fault windows everyone shares;
//! - [`timeline`]: the SVG drawing of both;
//! - [`tables`]: expectations, figures, requests, frames;
//! - [`pcap`]: frames per device in the capture;
//! - [`flame`]: the flame graph.

pub mod events;
pub mod faults;
pub mod flame;
pub mod pcap;
pub mod tables;
pub mod timeline;

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::table::Row;
use super::{report, spec, ScenarioResult};

/// The page's style sheet.
const CSS: &str = include_str!("report.css");
/// The page's script: the request filters, the tooltips' link from a mark to its row, and a
/// `data-ready` mark on `<body>` once it has run.
const JS: &str = include_str!("report.js");

/// The name of the report among a run's artefacts.
pub const FILE_NAME: &str = "report.html";

/// The partition key the devices write (what attributes a request to its device).
fn partition_key(r: &ScenarioResult) -> String {
    r.scenario
        .endpoint
        .tables
        .first()
        .and_then(|t| spec::parse_key(&t.partition_key).ok())
        .map_or_else(|| "deviceId".to_string(), |k| k.0)
}

/// `to` as a link relative to directory `from` (both made absolute first); `to` as given if
/// there is no relative way (another drive on Windows).
pub fn relative_link(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (from, to_abs) = (abs(from), abs(to));
    fn normal(p: &Path) -> Vec<Component<'_>> {
        let mut out: Vec<Component<'_>> = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                    out.pop();
                }
                c => out.push(c),
            }
        }
        out
    }
    let (a, b) = (normal(&from), normal(&to_abs));
    if a.first() != b.first() {
        return to.display().to_string();
    }
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..a.len() {
        rel.push("..");
    }
    for c in &b[common..] {
        rel.push(c.as_os_str());
    }
    // A URL's separator is '/' everywhere.
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The page of a run, for a file in directory `dir` (links to the pcap are relative to it).
pub fn render(r: &ScenarioResult, dir: &Path) -> String {
    let s = &r.scenario;
    let out = &r.outcome;
    let activity = events::activity(
        &out.devices,
        out.endpoint.requests(),
        &partition_key(r),
        out.virtual_ns,
    );
    let world = faults::world_events(
        &s.network.impairments,
        &out.endpoint.restarts(out.virtual_ns),
        &s.endpoint.faults,
        out.virtual_ns,
    );
    let macs: Vec<String> = (0..s.devices.len())
        .map(|i| super::world::device_mac(s, i))
        .collect();
    let frames = out.pcap.as_ref().map(|path| {
        let parsed: Vec<[u8; 6]> = macs
            .iter()
            .map(|m| pcap::parse_mac(m).unwrap_or_default())
            .collect();
        pcap::count_file(path, &parsed).map_err(|e| format!("{e:#}"))
    });
    let row = Row::of(r);
    let title = format!("scenario {} — ft900-sim", s.name);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 {
                        "scenario " (s.name) " "
                        span class=(if r.passed() { "badge pass" } else { "badge fail" }) {
                            (if r.passed() { "pass" } else { "FAIL" })
                        }
                    }
                    @if !s.description.is_empty() { p .description { (s.description) } }
                    p .header-line { (report::header(r)) }
                    p .header-line { "firmware " code { (s.firmware.display().to_string()) } }
                }
                section #timeline-section {
                    h2 { "Timeline (virtual time)" }
                    (legend(&activity, &world))
                    div .timeline-box { (timeline::svg(&activity, &world, out.virtual_ns)) }
                    p .hint { "Hover over a span, a request or a UART tick for its text; click a request to find it in the log." }
                }
                section #expectations {
                    h2 { "Expectations" }
                    (tables::checks(&r.checks))
                }
                section #figures {
                    h2 { "Figures" }
                    (tables::figures(&row))
                    (tables::devices(&out.devices, &activity, frames.as_ref().and_then(|f| f.as_ref().ok())))
                }
                section #requests-section {
                    h2 { "Requests" }
                    (tables::requests(&activity))
                }
                section #capture {
                    h2 { "Capture" }
                    @match (&out.pcap, &frames) {
                        (Some(path), Some(frames)) => {
                            (tables::capture(&relative_link(dir, path), r.fingerprint.pcap_sha256.as_deref(), &out.devices, &macs, frames))
                        }
                        _ => { p { "No network: nothing captured." } }
                    }
                }
                @if let Some(profile) = &out.profile {
                    section #profile {
                        h2 { "Profile" }
                        (flame_section(r, profile))
                    }
                }
                footer { "ft900-sim scenarios run, seed " (r.seed) }
                script { (PreEscaped(JS)) }
            }
        }
    };
    page.into_string()
}

/// The legend of what this run's timeline shows (kinds that do not occur are left out).
fn legend(activity: &events::Activity, world: &[faults::WorldEvent]) -> Markup {
    let kinds: Vec<events::Kind> = events::Kind::ALL
        .into_iter()
        .filter(|k| {
            activity
                .lanes
                .iter()
                .any(|l| l.events.iter().any(|e| e.kind == *k))
        })
        .collect();
    let bands: Vec<faults::WorldKind> = faults::WorldKind::ALL
        .into_iter()
        .filter(|k| world.iter().any(|w| w.kind == *k))
        .collect();
    html! {
        ul .legend {
            @for k in kinds {
                li { span class=(format!("swatch {}", k.class())) {} (k.label()) }
            }
            @for k in bands {
                li { span class=(format!("swatch {}", k.class())) {} (k.label()) }
            }
            li { span .swatch.s2xx.diamond {} "request 2xx" }
            li { span .swatch.s4xx.diamond {} "4xx" }
            li { span .swatch.s5xx.diamond {} "5xx" }
            li { span .swatch.s0.diamond {} "no status" }
            li { span .swatch.retried.diamond {} "retried (ringed)" }
            li { span .swatch.uart-swatch {} "UART line" }
        }
    }
}

fn flame_section(r: &ScenarioResult, profile: &ft900_sim::profiler::Report) -> Markup {
    let device = r
        .scenario
        .devices
        .get(r.outcome.profiled_device.unwrap_or(0))
        .map_or("?", |d| d.id.as_str());
    let mut folded = Vec::new();
    let drawn = profile
        .write_folded(&mut folded)
        .context("the folded stacks")
        .and_then(|_| {
            flame::svg(
                &String::from_utf8_lossy(&folded),
                &format!("device {device}: CPU cycles by call stack"),
                "cycles",
            )
        });
    html! {
        @match drawn {
            Ok(svg) => {
                iframe .flame title="flame graph" src=(flame::data_url(&svg))
                    height=(flame::height(&svg).unwrap_or(600)) {}
                p .hint { "Click a frame to zoom in, Ctrl-F or “Search” to find a function." }
            }
            Err(e) => { p .fail { "cannot draw the flame graph: " (format!("{e:#}")) } }
        }
    }
}

/// Writes the page of `r` to `path`.
pub fn write(r: &ScenarioResult, path: &Path) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    std::fs::write(path, render(r, dir))
        .with_context(|| format!("{}: cannot write", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_to_the_page() {
        assert_eq!(
            relative_link(Path::new("/a/b/c"), Path::new("/a/b/c/network.pcap")),
            "network.pcap"
        );
        assert_eq!(
            relative_link(Path::new("/a/x"), Path::new("/a/b/c/network.pcap")),
            "../b/c/network.pcap"
        );
        assert_eq!(
            relative_link(Path::new("/a/./x/../y"), Path::new("/a/y/n.pcap")),
            "n.pcap"
        );
    }
}
