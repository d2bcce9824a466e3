//! The page's tables: the expectations with their verdicts, the run's figures (the same as
//! `scenarios run --summary` and the printed report), each device's figures, the request log
//! (filtered by the page's script) and the capture's frames per device.

use maud::{html, Markup};

use super::events::{Activity, UNATTRIBUTED};
use super::pcap::FrameCounts;
use super::timeline::{printable, status_class};
use crate::runner::expect::Check;
use crate::runner::table::{mips, Row};
use crate::runner::world::DeviceOutcome;

/// The expectations, one line each, failures with their detail.
pub fn checks(checks: &[Check]) -> Markup {
    html! {
        ul .checks {
            @for c in checks {
                li class=(if c.ok { "ok" } else { "fail" }) {
                    span .verdict { (if c.ok { "ok" } else { "FAIL" }) }
                    " " (c.what)
                    @if !c.ok && !c.detail.is_empty() {
                        div .detail { (c.detail) }
                    }
                }
            }
        }
    }
}

/// The run's figures: the row `scenarios run --summary` writes.
pub fn figures(row: &Row) -> Markup {
    let host = if row.host_total_s > row.host_s {
        format!("{:.2} (both runs: {:.2})", row.host_s, row.host_total_s)
    } else {
        format!("{:.2}", row.host_s)
    };
    html! {
        table .figures {
            thead { tr {
                th { "devices" } th { "virtual s" } th { "host s" } th { "instructions" }
                th { "MIPS" } th { "busy instructions" } th { "busy MIPS" } th { "requests" }
            } }
            tbody { tr {
                td { (row.devices) }
                td { (format!("{:.2}", row.virtual_s)) }
                td { (host) }
                td { (row.instructions) }
                td { (format!("{:.0}", row.mips)) }
                td { (row.busy_instructions) }
                td { (format!("{:.0}", row.busy_mips)) }
                td { (row.requests) }
            } }
        }
    }
}

fn stop_words(d: &DeviceOutcome) -> String {
    match &d.stop {
        None => "running at the limit".into(),
        Some(ft900_sim::StopReason::Exited(c)) => format!("exit {c}"),
        Some(other) => format!("{other:?}"),
    }
}

/// Each device's figures, as the printed report has them, with its request and frame counts.
pub fn devices(
    devices: &[DeviceOutcome],
    activity: &Activity,
    frames: Option<&FrameCounts>,
) -> Markup {
    html! {
        table .devices {
            thead { tr {
                th { "device" } th { "stopped" } th { "at virtual s" } th { "cycles" }
                th { "instructions" } th { "busy" } th { "busy MIPS" } th { "UART lines" }
                th { "requests" } th { "frames" }
            } }
            tbody {
                @for (i, d) in devices.iter().enumerate() {
                    @let busy = d.insns.saturating_sub(d.idle_insns);
                    tr {
                        td { (d.id) }
                        td { (stop_words(d)) }
                        td { (format!("{:.3}", d.end_ns as f64 / 1e9)) }
                        td { (d.cycles) }
                        td { (d.insns) }
                        td { (busy) }
                        td { (format!("{:.0}", mips(busy, d.host.as_secs_f64()))) }
                        td { (activity.lanes.get(i).map_or(0, |l| l.uart.len())) }
                        td { (activity.lanes.get(i).map_or(0, |l| l.requests.len())) }
                        td { (frames.and_then(|f| f.per_mac.get(i)).map_or("-".into(), |n| n.to_string())) }
                    }
                }
            }
        }
    }
}

/// The request log with a filter per device and per status (the page's script fills the
/// choices from the rows' `data-device` and `data-status`).
pub fn requests(activity: &Activity) -> Markup {
    html! {
        div .filters {
            label { "device " select #filter-device { option value="" { "all" } } }
            " "
            label { "status " select #filter-status { option value="" { "all" } } }
            " "
            span #filter-count { (activity.requests.len()) " requests" }
        }
        table #requests {
            thead { tr {
                th { "#" } th { "virtual s" } th { "device" } th { "operation" } th { "status" }
                th { "error" } th { "injected fault" } th { "device retried" } th { "verdict" }
            } }
            tbody {
                @for (i, r) in activity.requests.iter().enumerate() {
                    @let rec = &r.record;
                    @let device = r.device.as_deref().unwrap_or(UNATTRIBUTED);
                    tr id=(format!("req-{i}")) class=(status_class(rec.status))
                        data-device=(device) data-status=(rec.status) {
                        td { (i + 1) }
                        td { (format!("{:.3}", rec.time as f64 / 1e9)) }
                        td { (device) }
                        td { (if rec.operation.is_empty() { &rec.method } else { &rec.operation }) }
                        td { (rec.status) }
                        td { (rec.error_type.as_deref().map(|t| t.rsplit('#').next().unwrap_or(t)).unwrap_or("")) }
                        td { (rec.fault.as_deref().unwrap_or("")) }
                        td {
                            @if let Some(rt) = &r.retry {
                                (format!("attempt {} ({} {}), backoff {} ms", rt.attempt, rt.status, rt.error_type, rt.backoff_ms))
                            }
                        }
                        td .verdict { (printable(&rec.verdict)) }
                    }
                }
            }
        }
    }
}

/// The capture: a link to the pcap (`href`, relative to the page) and its frames per device.
pub fn capture(
    href: &str,
    sha256: Option<&str>,
    devices: &[DeviceOutcome],
    macs: &[String],
    frames: &Result<FrameCounts, String>,
) -> Markup {
    html! {
        p {
            a #pcap-link href=(href) { (href) }
            " (Wireshark and tshark read it)"
            @if let Some(h) = sha256 { ", sha256 " code { (h) } }
        }
        @match frames {
            Ok(f) => {
                table .frames {
                    thead { tr { th { "device" } th { "MAC" } th { "frames to or from it" } } }
                    tbody {
                        @for (i, d) in devices.iter().enumerate() {
                            tr {
                                td { (d.id) }
                                td { code { (macs.get(i).map_or("", |m| m.as_str())) } }
                                td { (f.per_mac.get(i).copied().unwrap_or(0)) }
                            }
                        }
                        tr .total { td { "all" } td { "(" (f.broadcast) " broadcast or multicast)" } td { (f.total) } }
                    }
                }
            }
            Err(e) => { p .fail { "cannot count the frames: " (e) } }
        }
    }
}
