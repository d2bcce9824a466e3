//! Starting `scenarios serve` for the limit and load tests, calling it, and reading its memory
//! use from /proc. Uses `common` (declared by the test file) and leaves it unchanged.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use scenarios::endpoint::Credentials;
use serde_json::Value;

use super::common::{
    https_call, pem_to_der, signed_request, spawn_serve, take_response, wall_unix, Reply,
};

/// A fresh directory under the test target directory.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `scenarios serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The CA to trust (TLS), `None` for plain HTTP.
    pub ca_der: Option<Vec<u8>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `scenarios serve` on a free loopback port, writing its CA into `dir`.
    pub fn bare_command(dir: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scenarios"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--ca-out"])
            .arg(dir.join("ca.pem"));
        cmd
    }

    /// [`Server::bare_command`] with more arguments.
    pub fn command(dir: &Path, extra: &[&str]) -> Command {
        let mut cmd = Self::bare_command(dir);
        cmd.args(extra);
        cmd
    }

    /// Starts `cmd` (from [`Server::bare_command`]).
    pub fn spawn(dir: &Path, cmd: &mut Command) -> Server {
        let (child, url) = spawn_serve(cmd);
        let plain = url.starts_with("http://");
        let addr = url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_string();
        let ca_der =
            (!plain).then(|| pem_to_der(&std::fs::read_to_string(dir.join("ca.pem")).unwrap()));
        Server {
            child,
            addr,
            ca_der,
        }
    }

    /// Starts a server with the default key (AKIDEXAMPLE) and `extra` arguments.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        Self::spawn(dir, &mut Self::command(dir, extra))
    }

    /// Starts a server keeping its tables in `data`.
    pub fn start_with_data(dir: &Path, data: &Path, extra: &[&str]) -> Server {
        let mut cmd = Self::command(dir, extra);
        cmd.arg("--data").arg(data);
        Self::spawn(dir, &mut cmd)
    }

    /// One request signed with the default key, on a fresh connection.
    pub fn call(&self, op: &str, body: &Value) -> Reply {
        self.call_as(&Credentials::test_key(), op, body)
    }

    /// One request signed with `cred`, on a fresh connection.
    pub fn call_as(&self, cred: &Credentials, op: &str, body: &Value) -> Reply {
        match &self.ca_der {
            Some(ca) => https_call(&self.addr, ca, cred, op, body),
            None => {
                let mut s = std::net::TcpStream::connect(&self.addr).expect("connect");
                s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
                    .unwrap();
                let body = serde_json::to_vec(body).unwrap();
                s.write_all(&signed_request(cred, wall_unix(), op, &body))
                    .unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    if let Some(r) = take_response(&mut buf) {
                        return r;
                    }
                    let n = s.read(&mut chunk).expect("response bytes");
                    assert!(n > 0, "connection closed before a whole response");
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }

    /// The server's (current, peak) resident set in KiB: VmRSS and VmHWM.
    pub fn memory_kib(&self) -> (u64, u64) {
        memory_kib(self.child.id())
    }
}

/// VmRSS and VmHWM of a process, KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
