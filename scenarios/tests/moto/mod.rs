//! Shared by the tests that use moto_server (PyPI `moto[server]`) as an independent DynamoDB:
//! starting it, and the boto3 helper `tests/py/moto_peer.py`.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use serde_json::Value;

const HELPER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/moto_peer.py");

/// A running `moto_server`, killed on drop; its console is collected in `log`.
pub struct Moto {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Responses moto logged with this HTTP status (werkzeug's `"POST / HTTP/1.1" 403 -`).
    pub fn responses_with(&self, status: u16) -> usize {
        let needle = format!("HTTP/1.1\" {status} ");
        self.log().lines().filter(|l| l.contains(&needle)).count()
    }
}

/// Whether moto's server and boto3 import; without them: skip outside CI, fail in CI.
pub fn moto_present() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import moto.server, flask, flask_cors, boto3"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let how = "pip install 'moto[server]==5.2.1' boto3 (.ci/run installs them)";
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but python3 cannot import moto.server: {how}"
        );
        eprintln!("SKIPPED: moto_peer needs moto_server and boto3 in python3: {how}");
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts `python3 -m moto.server` (with TLS from `tls_dir`'s `server.pem` and `server.key`,
/// else plain HTTP) and IAM authentication after three requests; returns once it listens
/// (werkzeug prints "Running on"). A port taken between choosing and binding it is retried.
pub fn start_moto(tls_dir: Option<&Path>) -> Moto {
    for _ in 0..3 {
        let port = free_port();
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string());
        if let Some(dir) = tls_dir {
            cmd.arg("--ssl-cert")
                .arg(dir.join("server.pem"))
                .arg("--ssl-key")
                .arg(dir.join("server.key"));
        }
        let mut child = cmd
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 -m moto.server starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let pipes: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for pipe in pipes {
            let (tx, log) = (tx.clone(), log.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    log.lock().unwrap().push_str(&format!("{line}\n"));
                    let _ = tx.send(line);
                }
            });
        }
        drop(tx);
        // Lines until it listens; the channel closes if moto exits first.
        let listening = rx.iter().any(|l| l.contains("Running on"));
        let moto = Moto {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        if listening {
            return moto;
        }
        let text = moto.log();
        assert!(
            text.contains("already in use"),
            "moto_server did not start:\n{text}"
        );
    }
    panic!("moto_server found no free port in three attempts");
}

/// Runs the boto3 helper; its stdout is one JSON value.
pub fn helper(args: &[&str]) -> Value {
    let out = Command::new("python3")
        .arg(HELPER)
        .args(args)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "moto_peer.py {} failed:\n{}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "moto_peer.py {}: not JSON ({e}): {}",
            args[0],
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
