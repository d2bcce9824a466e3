//! `scenarios serve --data FILE`: tables survive SIGKILL. Writes acknowledged by the process
//! are in the file when it is killed right after the acknowledgement, a restart on the same
//! file serves them, and a damaged file stops the server with a clear error.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::{https_call, pem_to_der, spawn_serve, Reply};
use scenarios::endpoint::Credentials;
use serde_json::{json, Value};

const SECRET: &str = "persist/SECRET+key";

fn cred() -> Credentials {
    Credentials::new("AKIAPERSIST", SECRET)
}

struct Server {
    child: Child,
    addr: String,
    ca_der: Vec<u8>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// SIGKILL: no chance to flush or clean up, as in a crash.
    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

fn serve_args(dir: &Path, data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scenarios"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--ca-out"])
        .arg(dir.join("ca.pem"))
        .arg("--data")
        .arg(data)
        .args(["--credentials", &format!("AKIAPERSIST:{SECRET}")]);
    cmd
}

fn start(dir: &Path, data: &Path) -> Server {
    let (child, url) = spawn_serve(&mut serve_args(dir, data));
    let addr = url.trim_start_matches("https://").to_string();
    let ca_der = pem_to_der(&std::fs::read_to_string(dir.join("ca.pem")).unwrap());
    Server {
        child,
        addr,
        ca_der,
    }
}

fn call(srv: &Server, op: &str, body: Value) -> Reply {
    https_call(&srv.addr, &srv.ca_der, &cred(), op, &body)
}

fn ok(r: Reply) -> Value {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn reading(seq: u32) -> Value {
    json!({"deviceId": {"S": "hopper"}, "seq": {"N": seq.to_string()}, "temperature": {"N": "21.5"}})
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("persist-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn acknowledged_writes_survive_sigkill_and_a_restart_serves_them() {
    let dir = fresh_dir("kill");
    let data = dir.join("tables.json");
    let srv = start(&dir, &data);
    ok(call(
        &srv,
        "CreateTable",
        json!({
            "TableName": "Extra",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    ));
    ok(call(
        &srv,
        "PutItem",
        json!({"TableName": "SensorReadings", "Item": reading(1)}),
    ));
    ok(call(
        &srv,
        "BatchWriteItem",
        json!({"RequestItems": {"SensorReadings": [
            {"PutRequest": {"Item": reading(2)}},
            {"PutRequest": {"Item": reading(3)}},
            {"DeleteRequest": {"Key": {"deviceId": {"S": "hopper"}, "seq": {"N": "1"}}}}
        ]}}),
    ));
    ok(call(
        &srv,
        "PutItem",
        json!({"TableName": "Extra", "Item": {"id": {"S": "x"}}}),
    ));
    // Killed the instant the last acknowledgement arrived.
    srv.kill9();
    assert!(
        !dir.join("tables.json.tmp").exists(),
        "no temp file left behind"
    );

    let srv = start(&dir, &data);
    let tables = ok(call(&srv, "ListTables", json!({})));
    assert_eq!(tables["TableNames"], json!(["Extra", "SensorReadings"]));
    let scan = ok(call(&srv, "Scan", json!({"TableName": "SensorReadings"})));
    assert_eq!(scan["Items"], json!([reading(2), reading(3)]));
    let got = ok(call(
        &srv,
        "GetItem",
        json!({"TableName": "Extra", "Key": {"id": {"S": "x"}}}),
    ));
    assert_eq!(got["Item"], json!({"id": {"S": "x"}}));
    // And it keeps going: a change after the restart survives the next kill too.
    ok(call(&srv, "DeleteTable", json!({"TableName": "Extra"})));
    srv.kill9();
    let srv = start(&dir, &data);
    let tables = ok(call(&srv, "ListTables", json!({})));
    assert_eq!(tables["TableNames"], json!(["SensorReadings"]));
}

#[test]
fn a_damaged_data_file_stops_the_server_with_the_reason() {
    let dir = fresh_dir("corrupt");
    let data = dir.join("tables.json");
    std::fs::write(&data, "{\"format\": \"ft900-sim-dynamodb-tables\", \"vers").unwrap();
    let out = serve_args(&dir, &data)
        .output()
        .expect("scenarios serve runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit status 2 on a bad data file"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tables.json: not a usable tables file") && err.contains("move it away"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // The damaged file is left as it was, for the user to look at.
    assert!(std::fs::read_to_string(&data).unwrap().ends_with("\"vers"));
}

#[test]
fn update_item_and_transaction_writes_are_written_through_too() {
    let dir = fresh_dir("update");
    let data = dir.join("tables.json");
    let srv = start(&dir, &data);
    let key = |s: u32| json!({"deviceId": {"S": "hopper"}, "seq": {"N": s.to_string()}});
    ok(call(
        &srv,
        "UpdateItem",
        json!({"TableName": "SensorReadings", "Key": key(1), "UpdateExpression": "SET temperature = :t",
               "ExpressionAttributeValues": {":t": {"N": "21.5"}}}),
    ));
    ok(call(
        &srv,
        "TransactWriteItems",
        json!({"TransactItems": [
            {"Put": {"TableName": "SensorReadings", "Item": reading(2)}},
            {"Update": {"TableName": "SensorReadings", "Key": key(1), "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}]}),
    ));
    srv.kill9();
    let srv = start(&dir, &data);
    let scan = ok(call(&srv, "Scan", json!({"TableName": "SensorReadings"})));
    let mut first = reading(1);
    first["n"] = json!({"N": "1"});
    assert_eq!(scan["Items"], json!([first, reading(2)]));
}
