//! The timeline: an SVG with a lane per device on virtual time — milestones and backoffs as
//! spans, requests as marks, UART lines as ticks, each with its text on hover (`<title>`) —
//! and the world's outages, restarts and fault windows as bands across every lane.
//!
//! The SVG has a fixed coordinate system (`viewBox`) and scales to the page's width; every
//! element that stands for a request carries `class="req"` and `data-device`, so that a test
//! (or a script) can count them per device.

use maud::{html, Markup};
use net_bridge::Nanos;

use super::events::{Activity, Kind, Lane, Request};
use super::faults::{WorldEvent, WorldKind};

/// Width of the drawing, in SVG units.
const WIDTH: f64 = 1200.0;
/// Left column with the device names.
const LABEL_W: f64 = 120.0;
/// Right margin.
const RIGHT_PAD: f64 = 16.0;
/// Height of the time axis at the top.
const AXIS_H: f64 = 24.0;
/// Height of the row naming the bands across all lanes.
const WORLD_H: f64 = 20.0;
/// Height of one device's lane.
const LANE_H: f64 = 50.0;
/// Narrowest a span is drawn, so that a 0 ms milestone still shows.
const MIN_SPAN_W: f64 = 2.0;

/// Maps virtual time to x.
#[derive(Debug, Clone, Copy)]
struct Scale {
    end: Nanos,
}

impl Scale {
    fn x(self, t: Nanos) -> f64 {
        LABEL_W + (t.min(self.end) as f64 / self.end as f64) * (WIDTH - LABEL_W - RIGHT_PAD)
    }

    /// `(x, width)` of `[start, end]`, at least `MIN_SPAN_W` wide.
    fn span(self, start: Nanos, end: Nanos) -> (f64, f64) {
        let (a, b) = (self.x(start), self.x(end));
        (a, (b - a).max(MIN_SPAN_W))
    }
}

/// A number as SVG wants it: one decimal is finer than a pixel.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

fn secs(t: Nanos) -> String {
    format!("{:.3} s", t as f64 / 1e9)
}

/// Tick spacing: 1, 2 or 5 × 10^k seconds, for at most about ten ticks.
pub fn tick_step(end: Nanos) -> Nanos {
    let target = end as f64 / 10.0;
    let mut step = 1_000_000.0; // 1 ms
    loop {
        for m in [1.0, 2.0, 5.0] {
            if step * m >= target {
                return (step * m) as Nanos;
            }
        }
        step *= 10.0;
    }
}

fn tick_label(t: Nanos, step: Nanos) -> String {
    if step >= 1_000_000_000 {
        format!("{} s", t / 1_000_000_000)
    } else {
        format!("{} ms", t / 1_000_000)
    }
}

/// The CSS class of a request's status.
pub fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "s2xx",
        400..=499 => "s4xx",
        500..=599 => "s5xx",
        _ => "s0",
    }
}

/// The CSS classes of a request's mark: `req`, its status class, `retried`, `faulted`.
pub fn request_class(r: &Request) -> String {
    let mut class = format!("req {}", status_class(r.record.status));
    if r.retry.is_some() {
        class.push_str(" retried");
    }
    if r.record.fault.is_some() {
        class.push_str(" faulted");
    }
    class
}

/// What the hover of a request says.
pub fn request_tip(r: &Request) -> String {
    let rec = &r.record;
    let mut tip = format!(
        "{} {} at {}",
        if rec.operation.is_empty() {
            &rec.method
        } else {
            &rec.operation
        },
        rec.status,
        secs(rec.time)
    );
    if let Some(t) = &rec.error_type {
        tip += &format!("\nerror {}", t.rsplit('#').next().unwrap_or(t));
    }
    if let Some(f) = &rec.fault {
        tip += &format!("\ninjected fault {f}");
    }
    if let Some(rt) = &r.retry {
        tip += &format!(
            "\nretried: attempt {} failed (device saw status {} {}), backoff {} ms",
            rt.attempt, rt.status, rt.error_type, rt.backoff_ms
        );
    }
    tip
}

/// The end of the drawing: the run's end, or anything later drawn.
fn drawing_end(activity: &Activity, world: &[WorldEvent], run_end: Nanos) -> Nanos {
    let lanes = activity
        .lanes
        .iter()
        .flat_map(|l| l.events.iter().map(|e| e.end).chain([l.end]));
    let requests = activity.requests.iter().map(|r| r.record.time);
    let bands = world.iter().map(|w| w.end);
    lanes
        .chain(requests)
        .chain(bands)
        .fold(run_end, Nanos::max)
        .max(1)
}

/// The timeline SVG.
pub fn svg(activity: &Activity, world: &[WorldEvent], run_end: Nanos) -> Markup {
    let end = drawing_end(activity, world, run_end);
    let scale = Scale { end };
    let lanes_h = activity.lanes.len() as f64 * LANE_H;
    let height = AXIS_H + WORLD_H + lanes_h + 4.0;
    let step = tick_step(end);
    let ticks: Vec<Nanos> = (0..).map(|i| i * step).take_while(|t| *t <= end).collect();
    let top = AXIS_H + WORLD_H;
    html! {
        svg #timeline xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {}", n(height)))
            role="img" aria-label="timeline of the run on virtual time" {
            g .axis {
                @for t in &ticks {
                    line x1=(n(scale.x(*t))) x2=(n(scale.x(*t))) y1=(n(AXIS_H - 6.0)) y2=(n(height)) {}
                    text x=(n(scale.x(*t))) y=(n(AXIS_H - 9.0)) text-anchor="middle" { (tick_label(*t, step)) }
                }
                text x="4" y=(n(AXIS_H - 9.0)) { "virtual time" }
            }
            g .lane-bgs {
                @for i in 0..activity.lanes.len() {
                    rect class=(if i % 2 == 0 { "lane-bg even" } else { "lane-bg odd" })
                        x="0" y=(n(top + i as f64 * LANE_H)) width=(n(WIDTH)) height=(n(LANE_H)) {}
                }
            }
            g .world {
                @for w in world {
                    @let (x, wd) = scale.span(w.start, w.end);
                    rect class=(format!("band {}", w.kind.class())) x=(n(x)) y=(n(AXIS_H)) width=(n(wd)) height=(n(height - AXIS_H)) {
                        title { (w.text) }
                    }
                    @if w.kind != WorldKind::Impaired {
                        text .band-label x=(n(x + 3.0)) y=(n(AXIS_H + 14.0)) {
                            (w.kind.label())
                            title { (w.text) }
                        }
                    }
                }
                @if world.iter().any(|w| w.kind == WorldKind::Impaired) {
                    text .band-label x=(n(LABEL_W - 8.0)) y=(n(AXIS_H + 14.0)) text-anchor="end" { "impaired" }
                }
            }
            @for (i, lane) in activity.lanes.iter().enumerate() {
                (lane_markup(activity, lane, top + i as f64 * LANE_H, scale))
            }
        }
    }
}

/// One device's lane at height `y` (its background is drawn under the world's bands).
fn lane_markup(activity: &Activity, lane: &Lane, y: f64, scale: Scale) -> Markup {
    let (x_end, _) = scale.span(lane.end, lane.end);
    html! {
        g .lane data-device=(lane.id) {
            text .lane-label x=(n(LABEL_W - 8.0)) y=(n(y + 30.0)) text-anchor="end" {
                (lane.id)
                title { (format!("{}: ran until {}", lane.id, secs(lane.end))) }
            }
            line .lane-end x1=(n(x_end)) x2=(n(x_end)) y1=(n(y + 3.0)) y2=(n(y + LANE_H - 3.0)) {
                title { (format!("{} stopped at {}", lane.id, secs(lane.end))) }
            }
            @for e in &lane.events {
                @let (x, w) = scale.span(e.start, e.end);
                @if e.kind == Kind::Error || e.kind == Kind::Dns {
                    circle class=(format!("ev {}", e.kind.class())) cx=(n(x)) cy=(n(y + 11.0)) r="4" {
                        title { (format!("{} {}", secs(e.start), e.text)) }
                    }
                } @else {
                    rect class=(format!("ev {}", e.kind.class())) x=(n(x)) y=(n(y + 5.0)) width=(n(w)) height="12" {
                        title { (format!("{}–{} {}", secs(e.start), secs(e.end), e.text)) }
                    }
                }
            }
            @for &i in &lane.requests {
                @let r = &activity.requests[i];
                @let x = scale.x(r.record.time);
                @let cy = y + 29.0;
                path class=(request_class(r)) data-device=(lane.id) data-index=(i) data-status=(r.record.status)
                    d=(format!("M{} {}l6 6l-6 6l-6 -6z", n(x), n(cy - 6.0))) {
                    title { (request_tip(r)) }
                }
            }
            @for (t, text) in &lane.uart {
                rect .uart x=(n(scale.x(*t) - 1.0)) y=(n(y + 39.0)) width="2" height="8" {
                    title { (secs(*t)) " " (printable(text)) }
                }
            }
        }
    }
}

/// A guest's line with its control characters (escape sequences, NULs) made visible: they are
/// not text, and some are not even allowed in an HTML document.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            match c as u32 {
                0x09 => c,
                // The Control Pictures block: ␀ to ␟, and ␡.
                v @ 0..=0x1f => char::from_u32(0x2400 + v).unwrap_or('\u{fffd}'),
                0x7f => '\u{2421}',
                _ if c.is_control() => '\u{fffd}',
                _ => c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_few() {
        assert_eq!(tick_step(75_000_000_000), 10_000_000_000);
        assert_eq!(tick_step(9_000_000_000), 1_000_000_000);
        assert_eq!(tick_step(300_000_000), 50_000_000);
        assert_eq!(tick_label(20_000_000_000, 10_000_000_000), "20 s");
        assert_eq!(tick_label(150_000_000, 50_000_000), "150 ms");
    }

    #[test]
    fn guest_text_is_escaped_and_every_request_has_a_mark() {
        use crate::endpoint::RequestRecord;
        let mut record = RequestRecord::empty(2_000_000_000, "id");
        record.operation = "PutItem\"><script>".into();
        record.status = 503;
        let activity = Activity {
            lanes: vec![Lane {
                id: "a\"<b>".into(),
                end: 3_000_000_000,
                events: Vec::new(),
                requests: vec![0],
                uart: vec![(1_000_000_000, "</title><script>alert(1)</script>".into())],
            }],
            requests: vec![Request {
                record,
                device: Some("a\"<b>".into()),
                retry: None,
            }],
        };
        let svg = svg(&activity, &[], 3_000_000_000).into_string();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(
            svg.contains("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{svg}"
        );
        assert!(svg.contains(r#"data-device="a&quot;&lt;b&gt;""#), "{svg}");
        assert_eq!(svg.matches(r#"<path class="req s5xx""#).count(), 1, "{svg}");
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(
            printable("a\u{1b}[31mb\0\t\u{7f}\u{85}"),
            "a\u{241b}[31mb\u{2400}\t\u{2421}\u{fffd}"
        );
        assert_eq!(status_class(503), "s5xx");
        assert_eq!(status_class(0), "s0");
    }
}
