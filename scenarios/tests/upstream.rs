//! `scenarios serve --upstream URL`: requests that pass the local checks are re-signed with
//! the upstream's key and forwarded to a DynamoDB-compatible engine — here moto_server over
//! plain HTTP on loopback, checking signatures against an IAM user's key. Items written
//! through the endpoint land in moto; a request the endpoint refuses never reaches it; moto's
//! own refusal (wrong upstream secret) comes back to the client.
//!
//! Without moto (python3 -c "import moto.server") the test says so and passes, except in CI.

mod common;
mod moto;

use std::path::PathBuf;
use std::process::{Child, Command};

use common::{https_call, pem_to_der, spawn_serve, Reply};
use moto::{helper, moto_present, start_moto};
use scenarios::endpoint::Credentials;
use serde_json::{json, Value};

const TABLE: &str = "SensorReadings";

struct Serve {
    child: Child,
    addr: String,
    ca_der: Vec<u8>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn local() -> Credentials {
    Credentials::new("AKIALOCALKEY", "local/secret")
}

/// `scenarios serve` forwarding to `upstream`, the upstream's key in the environment.
fn serve(name: &str, upstream: &str, key: (&str, &str)) -> Serve {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("upstream-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (child, url) = spawn_serve(
        Command::new(env!("CARGO_BIN_EXE_scenarios"))
            .args(["serve", "--listen", "127.0.0.1:0", "--ca-out"])
            .arg(dir.join("ca.pem"))
            .args(["--credentials", "AKIALOCALKEY:local/secret"])
            .args(["--upstream", upstream])
            .env("AWS_ACCESS_KEY_ID", key.0)
            .env("AWS_SECRET_ACCESS_KEY", key.1)
            .env_remove("AWS_SESSION_TOKEN"),
    );
    let addr = url.trim_start_matches("https://").to_string();
    let ca_der = pem_to_der(&std::fs::read_to_string(dir.join("ca.pem")).unwrap());
    Serve {
        child,
        addr,
        ca_der,
    }
}

fn call(s: &Serve, cred: &Credentials, op: &str, body: Value) -> Reply {
    https_call(&s.addr, &s.ca_der, cred, op, &body)
}

fn reading(seq: u32) -> Value {
    json!({"deviceId": {"S": "hopper"}, "seq": {"N": seq.to_string()}, "humidity": {"N": "40.5"}})
}

#[test]
fn checked_requests_are_resigned_into_moto_and_refusals_on_either_side_are_kept_apart() {
    if !moto_present() {
        return;
    }
    let moto = start_moto(None);
    let url = format!("http://{}", moto.addr);
    let keys = helper(&["setup", &url, "/dev/null", TABLE]);
    assert_eq!(keys["wrong_secret"], "SignatureDoesNotMatch");
    let (akid, secret) = (
        keys["access_key_id"].as_str().unwrap(),
        keys["secret_access_key"].as_str().unwrap(),
    );
    let posts = || moto.log().matches("\"POST / HTTP/1.1\"").count();

    let ep = serve("ok", &url, (akid, secret));
    for seq in [1, 2] {
        let r = call(
            &ep,
            &local(),
            "PutItem",
            json!({"TableName": TABLE, "Item": reading(seq)}),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let got = call(
        &ep,
        &local(),
        "GetItem",
        json!({"TableName": TABLE, "Key": {"deviceId": {"S": "hopper"}, "seq": {"N": "2"}}}),
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["Item"], reading(2));
    // The items are in moto itself, read with moto's own client.
    let scan = helper(&["scan", &url, "/dev/null", akid, secret, TABLE]);
    assert_eq!(scan, json!([reading(1), reading(2)]));

    // Refused locally (wrong local secret): moto never sees it.
    let before = posts();
    let bad = Credentials::new("AKIALOCALKEY", "not/the/secret");
    let r = call(
        &ep,
        &bad,
        "PutItem",
        json!({"TableName": TABLE, "Item": reading(3)}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_type().as_deref(), Some("InvalidSignatureException"));
    assert_eq!(
        posts(),
        before,
        "a locally refused request is not forwarded"
    );
    drop(ep);

    // Refused upstream (the endpoint holds a wrong upstream secret): moto's answer comes back,
    // nothing is stored.
    let wrong = format!("{}x", &secret[..secret.len() - 1]);
    let ep = serve("wrong", &url, (akid, &wrong));
    let r = call(
        &ep,
        &local(),
        "PutItem",
        json!({"TableName": TABLE, "Item": reading(4)}),
    );
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert!(String::from_utf8_lossy(&r.body).contains("SignatureDoesNotMatch"));
    let scan = helper(&["scan", &url, "/dev/null", akid, secret, TABLE]);
    assert_eq!(scan.as_array().unwrap().len(), 2, "{scan}");
}
