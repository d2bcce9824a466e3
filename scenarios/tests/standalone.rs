//! The standalone endpoint (`scenarios serve`) with a real AWS SDK: boto3 over HTTPS with the
//! CA written by `--ca-out`, and the request log it keeps.

mod common;

use common::spawn_serve;

use std::path::PathBuf;
use std::process::{Child, Command};

struct Server {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &str, extra: &[&str]) -> Server {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("standalone-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (child, url) = spawn_serve(
        Command::new(env!("CARGO_BIN_EXE_scenarios"))
            .args(["serve", "--listen", "127.0.0.1:0", "--ca-out"])
            .arg(dir.join("ca.pem"))
            .arg("--request-log")
            .arg(dir.join("requests.jsonl"))
            .args(extra),
    );
    let url = url.replace("127.0.0.1", "localhost");
    Server { child, url, dir }
}

fn python_with_boto3() -> &'static str {
    let ok = Command::new("python3")
        .args(["-c", "import boto3"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "this test needs python3 with boto3 (pip install boto3; .ci/run installs it)"
    );
    "python3"
}

/// Runs a Python script of `tests/` as a boto3 client of `srv` with the key `akid`/`secret`
/// (arguments: URL, CA file, key id, secret, then `extra`), isolated from the host's AWS
/// configuration; asserts it succeeded and returns what it printed on stdout.
fn run_boto3_script(
    script: &str,
    srv: &Server,
    akid: &str,
    secret: &str,
    extra: &[&str],
    what: &str,
) -> String {
    let out = Command::new(python_with_boto3())
        .arg(format!("{}/tests/{script}", env!("CARGO_MANIFEST_DIR")))
        .arg(&srv.url)
        .arg(srv.dir.join("ca.pem"))
        .args([akid, secret])
        .args(extra)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn boto3_creates_puts_gets_batches_queries_and_is_refused_with_a_wrong_secret() {
    let secret = "s3cr3t/KEY+for+the+test";
    let cred = format!("AKIATESTKEY:{secret}");
    // An RSA identity here (the in-process tests cover ECDSA), so both kinds meet a real SDK.
    let srv = start("boto3", &["--credentials", &cred, "--rsa"]);
    let stdout = run_boto3_script(
        "py/boto3_client.py",
        &srv,
        "AKIATESTKEY",
        secret,
        &[],
        "boto3 script",
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON summary");
    assert_eq!(v["tables"], serde_json::json!(["Boto", "SensorReadings"]));
    assert_eq!(v["status"], "ACTIVE");
    assert_eq!(v["second_put"], "ConditionalCheckFailedException");
    assert_eq!(
        v["get"],
        serde_json::json!({"pk": {"S": "a"}, "n": {"N": "1"}, "v": {"SS": ["x", "y"]}})
    );
    assert_eq!(v["unprocessed"], serde_json::json!({}));
    assert_eq!(v["query"], serde_json::json!([2, 3, 4]));
    assert_eq!(v["query_t"], "2.5");
    assert_eq!(v["wrong_secret"], "InvalidSignatureException");
    assert_eq!(v["wrong_secret_status"], 400);
    assert!(v["wrong_secret_message"]
        .as_str()
        .unwrap()
        .starts_with("The request signature we calculated does not match"));

    // The request log: one line per request, verdicts, no secrets or signatures.
    let log = std::fs::read_to_string(srv.dir.join("requests.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let ops: Vec<&str> = lines
        .iter()
        .map(|l| l["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "CreateTable",
            "ListTables",
            "DescribeTable",
            "PutItem",
            "PutItem",
            "GetItem",
            "BatchWriteItem",
            "Query",
            "GetItem"
        ]
    );
    let statuses: Vec<u64> = lines
        .iter()
        .map(|l| l["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200, 400, 200, 200, 200, 400]);
    assert_eq!(
        lines[4]["error_type"],
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    );
    assert_eq!(
        lines[8]["error_type"],
        "com.amazon.coral.service#InvalidSignatureException"
    );
    assert!(!log.contains(secret));
    assert!(log.contains("Signature=<redacted>"));
    let sig_hex = regex_free_sig(&log);
    assert!(!sig_hex, "a signature leaked into the request log");
}

#[test]
fn boto3_writes_2000_items_and_reads_every_one_back_in_pages_over_64_kib_and_near_1_mb() {
    let secret = "pages/SECRET";
    let srv = start("pages", &["--credentials", &format!("AKIAPAGES:{secret}")]);
    let t0 = std::time::Instant::now();
    let stdout = run_boto3_script(
        "py/boto3_pages.py",
        &srv,
        "AKIAPAGES",
        secret,
        &[],
        "boto3 script",
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON summary");
    eprintln!("2,000 items through serve in {:?}: {v}", t0.elapsed());
    assert_eq!(v["items"], 2000);
    let scan: Vec<u64> = v["scan_pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert_eq!(scan.iter().sum::<u64>(), 2000);
    assert!(scan.len() >= 5, "the Scan came in {} pages", scan.len());
    // Query pages of 30 items of 3 KB: each over 64 KiB of items.
    let q30 = v["query_30_pages"].as_array().unwrap();
    assert_eq!(q30.len(), 1600 / 30 + 1);
    assert!(q30[..q30.len() - 1]
        .iter()
        .all(|p| p[0] == 30 && p[1].as_u64().unwrap() > 64 * 1024));
    // Unlimited Query pages: stopped by the 1 MB limit, each just over 1 MiB of JSON.
    let q1 = v["query_1mb_pages"].as_array().unwrap();
    assert_eq!(q1.len(), 5, "{q1:?}");
    for p in &q1[..4] {
        let bytes = p[1].as_u64().unwrap();
        assert!(
            (1024 * 1024..1200 * 1024).contains(&bytes),
            "a page of {bytes} bytes"
        );
    }
}

/// Whether any `Signature=` in `s` is followed by hex (i.e. was not redacted).
fn regex_free_sig(s: &str) -> bool {
    s.match_indices("Signature=")
        .any(|(i, _)| s[i + 10..].starts_with(|c: char| c.is_ascii_hexdigit()))
}

#[test]
fn serve_refuses_non_loopback_and_bad_arguments() {
    for args in [
        &["serve", "--listen", "0.0.0.0:0"][..],
        &["serve", "--credentials", "nocolon"],
        &["serve", "--table", "T:pk:X"],
        &["serve", "--listen", "nonsense"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_scenarios"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.is_empty(), "{args:?}: no error message");
    }
}

#[test]
fn plain_http_mode_answers_signed_requests_over_keep_alive() {
    use std::io::{Read, Write};
    let srv = start("plain", &["--plain", "--table", "Plain:id:S"]);
    let addr = srv
        .url
        .trim_start_matches("http://")
        .replace("localhost", "127.0.0.1");
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let cred = scenarios::endpoint::Credentials::test_key();
    let mut got = Vec::new();
    for _ in 0..2 {
        s.write_all(&common::signed_request(
            &cred,
            common::wall_unix(),
            "ListTables",
            b"{}",
        ))
        .unwrap();
        let reply = loop {
            if let Some(r) = common::take_response(&mut got) {
                break r;
            }
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "connection closed early");
            got.extend_from_slice(&buf[..n]);
        };
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.json(), serde_json::json!({"TableNames": ["Plain"]}));
    }
}

/// dynalite (npm `dynalite`, installed by `.ci/run` under `.cache/dynalite`, or where
/// `DYNALITE_DIR` points) running on a loopback port; killed when dropped. `None` (with a
/// message) when it is not installed, which fails in CI (`CI` set).
struct Dynalite {
    child: Child,
    url: String,
}

impl Drop for Dynalite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_dynalite() -> Option<Dynalite> {
    use std::io::{BufRead, BufReader};
    let dir = std::env::var_os("DYNALITE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../.cache/dynalite/node_modules/dynalite")
        });
    let node = Command::new("node").arg("--version").output().is_ok();
    if !node || !dir.join("package.json").is_file() {
        let how = "npm install --prefix .cache/dynalite dynalite@4.0.0 (.ci/run installs it)";
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but node or dynalite is missing ({}): {how}",
            dir.display()
        );
        eprintln!("SKIPPED: needs node and dynalite: {how}");
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dynalite/server.js");
    let mut child = Command::new("node")
        .arg(script)
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("dynalite prints its port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("dynalite printed {line:?}"));
    Some(Dynalite {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

#[test]
fn new_operations_and_their_errors_match_dynalite_or_dynamodbs_documented_behaviour() {
    python_with_boto3(); // fails at once without boto3, before dynalite is started
    let Some(dynalite) = start_dynalite() else {
        return;
    };
    let secret = "cmp/SECRET";
    let srv = start("dynalite", &["--credentials", &format!("AKIACMP:{secret}")]);
    let stdout = run_boto3_script(
        "dynalite/compare.py",
        &srv,
        "AKIACMP",
        secret,
        &[&dynalite.url],
        "comparison script",
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(stdout.trim()).expect("JSON rows");
    assert!(rows.len() >= 50, "{} steps", rows.len());
    let mut differ = Vec::new();
    for r in &rows {
        let brief = |v: &serde_json::Value| match v.get("ok") {
            Some(_) => "ok".to_string(),
            None => v.to_string(),
        };
        eprintln!(
            "{:<62} ours {:<34} dynalite {:<34}{}",
            r["step"].as_str().unwrap(),
            brief(&r["ours"]),
            brief(&r["dynalite"]),
            if r["expected"] != r["dynalite"] {
                format!(" (DynamoDB: {})", brief(&r["expected"]))
            } else {
                String::new()
            }
        );
        if r["same"] != true {
            differ.push(r.to_string());
        }
    }
    assert!(differ.is_empty(), "outcomes differ:\n{}", differ.join("\n"));
    // The steps dynalite cannot answer are the transactions (it has none).
    let unknown: Vec<&str> = rows
        .iter()
        .filter(|r| r["dynalite"] == "UnknownOperationException")
        .map(|r| r["step"].as_str().unwrap())
        .collect();
    assert!(
        unknown.iter().all(|s| s.starts_with("Transact")),
        "{unknown:?}"
    );
}
