//! Endpoint restarts on virtual time, seen by a rustls client on a smoltcp guest: open
//! connections are reset (RST, not FIN) at the restart, connections are refused while the
//! endpoint is down, the tables survive, and a restart fault stores the write it interrupts.
//! (`scenarios/endpoint-restart.toml` runs the firmware through the same restarts.)

mod common;

use common::*;
use scenarios::endpoint::{
    Credentials, Endpoint, EndpointConfig, Fault, FaultAction, FaultPlan, FaultTrigger, Restart,
};
use serde_json::{json, Value};
use smoltcp::socket::tcp::State;

fn call(sim: &mut Sim, conn: &mut Conn, op: &str, body: Value) -> Reply {
    let body = serde_json::to_vec(&body).unwrap();
    let req = signed_request(&Credentials::test_key(), sim.unix(), op, &body);
    conn.call(&mut sim.g, &req)
}

fn put(sim: &mut Sim, conn: &mut Conn, item: &Value) -> Reply {
    call(
        sim,
        conn,
        "PutItem",
        json!({"TableName": "SensorReadings", "Item": item}),
    )
}

fn reading(seq: u32) -> Value {
    json!({"deviceId": {"S": "hopper"}, "seq": {"N": seq.to_string()}})
}

#[test]
fn a_scheduled_restart_resets_open_connections_refuses_while_down_and_keeps_the_tables() {
    let ep = Endpoint::new(EndpointConfig {
        restarts: vec![Restart {
            at: 3 * SEC,
            down: SEC,
        }],
        ..EndpointConfig::default()
    })
    .unwrap();
    let mut sim = Sim::new(ep.clone(), 21);
    let ca = ep.ca_cert_der();
    let mut a = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ca);
    assert_eq!(put(&mut sim, &mut a, &reading(1)).status, 200);
    assert!(sim.g.now() < 3 * SEC, "the put ends before the restart");

    // Idle keep-alive connection: reset at the restart itself, not when next used.
    assert!(a.wait_closed(&mut sim.g, 10 * SEC), "reset by the restart");
    let reset_at = sim.g.now();
    assert!(
        (3 * SEC..3 * SEC + 5 * MS).contains(&reset_at),
        "reset at {reset_at} ns, expected right after 3 s"
    );
    assert_eq!(a.state(&mut sim.g), State::Closed, "RST, not FIN");
    assert_eq!(
        ep.restarts(reset_at),
        vec![Restart {
            at: 3 * SEC,
            down: SEC
        }]
    );

    // Down until 4 s: the SYN is answered with RST.
    let mut b = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ca);
    assert!(b.wait_closed(&mut sim.g, 500 * MS), "refused while down");
    assert_eq!(b.state(&mut sim.g), State::Closed);
    assert!(sim.g.now() < 4 * SEC);

    // Back up: new connections are served, and the table kept its item.
    sim.g.run_until(4 * SEC, |_| false);
    let mut c = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ca);
    let got = call(
        &mut sim,
        &mut c,
        "GetItem",
        json!({"TableName": "SensorReadings", "Key": reading(1)}),
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["Item"], reading(1));
    assert_eq!(put(&mut sim, &mut c, &reading(2)).status, 200);
    assert_eq!(ep.items("SensorReadings").unwrap().len(), 2);
}

#[test]
fn a_restart_fault_stores_the_write_then_resets_every_connection_before_answering() {
    let ep = Endpoint::new(EndpointConfig {
        faults: FaultPlan {
            faults: vec![Fault {
                action: FaultAction::Restart { down_nanos: 0 },
                trigger: FaultTrigger::Requests { skip: 1, count: 1 },
                operations: vec!["PutItem".into()],
            }],
        },
        ..EndpointConfig::default()
    })
    .unwrap();
    let mut sim = Sim::new(ep.clone(), 22);
    let ca = ep.ca_cert_der();
    let mut a = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ca);
    let mut b = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ca);
    assert_eq!(put(&mut sim, &mut a, &reading(1)).status, 200);
    let describe = json!({"TableName": "SensorReadings"});
    assert_eq!(
        call(&mut sim, &mut b, "DescribeTable", describe.clone()).status,
        200
    );

    // The second PutItem: processed, then the endpoint restarts; no answer, a reset.
    let body =
        serde_json::to_vec(&json!({"TableName": "SensorReadings", "Item": reading(2)})).unwrap();
    a.send(&signed_request(
        &Credentials::test_key(),
        sim.unix(),
        "PutItem",
        &body,
    ));
    assert!(
        a.recv(&mut sim.g, 10 * SEC).is_none(),
        "no response after the restart"
    );
    assert_eq!(a.state(&mut sim.g), State::Closed, "reset");
    assert_eq!(ep.restarts(sim.g.now()).len(), 1);
    // The write landed before the crash: a client that retries rewrites the same item.
    assert_eq!(
        ep.items("SensorReadings").unwrap(),
        vec![reading(1), reading(2)]
    );
    let faulted: Vec<_> = ep
        .requests()
        .into_iter()
        .filter(|r| r.fault.as_deref().is_some_and(|f| f.starts_with("Restart")))
        .collect();
    assert_eq!(faulted.len(), 1, "one request met the restart");

    // The other, idle connection went down with the process.
    assert!(
        b.wait_closed(&mut sim.g, SEC),
        "the idle connection is reset too"
    );
    assert_eq!(b.state(&mut sim.g), State::Closed);

    // No downtime: a new connection at once, and the retry is idempotent.
    let mut c = Conn::https(&mut sim, ENDPOINT_IP, HOST, &ca);
    assert_eq!(put(&mut sim, &mut c, &reading(2)).status, 200);
    assert_eq!(ep.items("SensorReadings").unwrap().len(), 2);
    assert_eq!(
        call(&mut sim, &mut c, "DescribeTable", describe).status,
        200
    );
}
