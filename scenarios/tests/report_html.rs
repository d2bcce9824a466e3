//! The HTML report of a real run, opened in headless Chromium: `scenarios/endpoint-restart.toml`
//! (two devices, three endpoint restarts, one of them set off by an injected fault, a retried
//! request) runs with its artefacts kept; its `report.html` must load without a script error,
//! its script must have run (the filters filled, `data-ready` set), its timeline must hold one
//! request mark per request of the log for each device (the log's `requests.jsonl`, attributed
//! here by the `deviceId` in each body) and a band per endpoint restart, and a screenshot of it
//! goes to `target/report-html/endpoint-restart.png` (a CI artefact).
//!
//! Chromium is Debian's `chromium` package (`.ci/run` installs it). Without it the test fails
//! in CI (`CI` set) and is skipped, loudly, elsewhere.

mod fwbuild;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;
use scenarios::runner::{report, run_scenario, Options, Scenario};

/// The browser: `$CHROMIUM`, else the first of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` with `extra` arguments; a browser that hangs is killed
/// after a few minutes (a guard against a stuck CI job, not a measurement).
fn run_chromium(browser: &Path, page: &Path, extra: &[String], scratch: &Path) -> Output {
    let profile = scratch.join(format!("chromium-profile-{}", extra.len()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let url = format!("file://{}", std::path::absolute(page).unwrap().display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: cannot start: {e}", browser.display()));
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("{} did not finish with {url}", browser.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        browser.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Requests per device in the request log, from the `deviceId` of the item(s) each body
/// writes (independently of the report's own attribution).
fn requests_per_device(jsonl: &str) -> BTreeMap<String, usize> {
    let id = Regex::new(r#""deviceId":\{"S":"([^"]+)""#).unwrap();
    let mut counts = BTreeMap::new();
    for line in jsonl.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let body = record["body"].as_str().unwrap();
        let device = id
            .captures(body)
            .unwrap_or_else(|| panic!("a request that names no device: {body}"))[1]
            .to_string();
        *counts.entry(device).or_insert(0) += 1;
    }
    counts
}

/// A copy of the page beside it whose first script records every script error on `<html>`.
fn with_error_recorder(page: &Path) -> PathBuf {
    const RECORDER: &str = "<script>window.addEventListener('error', function (e) { \
        var h = document.documentElement; \
        h.setAttribute('data-script-errors', (h.getAttribute('data-script-errors') || '') + \
        e.message + ' at ' + e.filename + ':' + e.lineno + '; '); });</script>";
    let html = std::fs::read_to_string(page).unwrap();
    let at = html.find("<head>").expect("the page has a <head>") + "<head>".len();
    let copy = page.with_file_name("report-with-recorder.html");
    std::fs::write(&copy, format!("{}{RECORDER}{}", &html[..at], &html[at..])).unwrap();
    copy
}

fn count(re: &str, text: &str) -> usize {
    Regex::new(re).unwrap().find_iter(text).count()
}

#[test]
fn the_report_of_a_run_loads_in_chromium_with_every_request_on_the_timeline() {
    let Some(browser) = chromium() else {
        let msg = "no chromium on PATH (Debian: apt-get install chromium; or set CHROMIUM)";
        if std::env::var_os("CI").is_some() {
            panic!("{msg}: the report test needs it in CI");
        }
        eprintln!("\n################################################################");
        eprintln!("# SKIPPED the HTML report test: {msg}");
        eprintln!("################################################################\n");
        return;
    };
    let elf = fwbuild::firmware("dynamodb-client.elf");
    let file = fwbuild::workspace_root().join("scenarios/endpoint-restart.toml");
    let mut scenario = Scenario::load(&file).unwrap_or_else(|e| panic!("{e:#}"));
    scenario.firmware = elf;
    let out_root = fwbuild::target_dir().join("report-html");
    let opts = Options {
        jobs: 2,
        keep: true,
        out_root: out_root.clone(),
        ..Options::default()
    };
    let r = run_scenario(scenario, &opts).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(r.passed(), "{}", report::summary(&r));
    let dir = r.kept.clone().expect("artefacts kept");
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !Regex::new(r#"(src|href)="(https?:)?//"#)
            .unwrap()
            .is_match(&html),
        "the page must not fetch anything"
    );

    let want = requests_per_device(&std::fs::read_to_string(dir.join("requests.jsonl")).unwrap());
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        ["hopper", "lovelace"],
        "both devices sent requests"
    );
    let total: usize = want.values().sum();
    assert_eq!(total, r.fingerprint.requests);

    // The DOM after the page's script ran, with script errors recorded on <html>.
    let probe = with_error_recorder(&page);
    let out = run_chromium(&browser, &probe, &["--dump-dom".into()], &out_root);
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    // (The recorder's own source names the attribute too: look at <html> only.)
    let errors = Regex::new(r#"<html[^>]*data-script-errors="([^"]*)""#).unwrap();
    if let Some(c) = errors.captures(&dom) {
        panic!("script errors: {}", &c[1]);
    }
    assert!(dom.contains("<html"), "a DOM was dumped");
    let uncaught: Vec<&str> = log.lines().filter(|l| l.contains("Uncaught")).collect();
    assert!(
        uncaught.is_empty(),
        "console errors:\n{}",
        uncaught.join("\n")
    );
    assert!(
        dom.contains(r#"data-ready="yes""#),
        "the page's script did not run to its end"
    );
    for (device, n) in &want {
        let marks = count(
            &format!(r#"<path class="req [^"]*" data-device="{device}""#),
            &dom,
        );
        assert_eq!(marks, *n, "request marks of {device} on the timeline");
        let rows = count(
            &format!(r#"<tr id="req-\d+" class="\w+" data-device="{device}""#),
            &dom,
        );
        assert_eq!(rows, *n, "rows of {device} in the request table");
        // The script fills the device filter from the table.
        assert_eq!(count(&format!(r#"<option value="{device}">"#), &dom), 1);
    }
    assert_eq!(
        count(r#"class="req "#, &dom),
        total,
        "no other request marks"
    );
    assert!(
        dom.contains(&format!("{total} of {total} requests")),
        "the filter's count"
    );
    // Two scheduled restarts and one set off by the fault on the 11th PutItem.
    assert_eq!(count(r#"<rect class="band w-restart""#, &dom), 3);
    assert!(
        count(r#"class="ev k-tls""#, &dom) >= 4,
        "a TLS handshake per connection"
    );
    // The restart set off by the 11th PutItem cuts off its answer: the device that sent it
    // retries it, and that is the one request marked retried (a request cut off before it
    // reached the endpoint has no mark: the report never pins a retry on an answered request).
    assert_eq!(
        count(r#"class="req [^"]*retried"#, &dom),
        1,
        "the request the restart fault cut off is retried"
    );
    let pcap_link = Regex::new(r#"<a id="pcap-link" href="([^"]+)""#)
        .unwrap()
        .captures(&dom)
        .expect("a link to the pcap")[1]
        .to_string();
    assert!(
        dir.join(&pcap_link).is_file(),
        "{pcap_link} relative to the page"
    );

    // The screenshot: the CI artefact.
    let shot = out_root.join("endpoint-restart.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &browser,
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,1500".into(),
        ],
        &out_root,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a screenshot of a page, not a blank one"
    );
    eprintln!(
        "report {} ({} bytes), screenshot {} ({} bytes)",
        page.display(),
        html.len(),
        shot.display(),
        png.len()
    );
}
