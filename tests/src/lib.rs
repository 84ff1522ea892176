//! Support for the API-level suite: a local DynamoDB-compatible server (moto, started once per
//! test process) and fresh tables on it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use answerpal::store::dynamodb::{self, CallCounter, DynamoTable};

/// moto's child process (kept so its stdin stays open while tests run) and its endpoint.
static MOTO: OnceLock<(Child, String)> = OnceLock::new();

fn start_moto() -> (Child, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| format!("{root}/.venv/bin/python"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/moto_server.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start moto with {python} ({e}); run scripts/test.sh once to install it")
        });
    let stdout = child.stdout.take().expect("moto stdout is piped");
    let mut port = String::new();
    BufReader::new(stdout)
        .read_line(&mut port)
        .expect("moto prints its port");
    let port = port.trim();
    assert!(!port.is_empty(), "moto exited before printing its port");
    (child, format!("http://127.0.0.1:{port}"))
}

/// `DYNAMODB_ENDPOINT` when set, otherwise a moto server started for this test process.
pub fn dynamodb_endpoint() -> String {
    match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => MOTO.get_or_init(start_moto).1.clone(),
    }
}

/// A new, empty table on the local DynamoDB-compatible server, and the counter of its calls.
pub async fn fresh_dynamo_table() -> (DynamoTable, CallCounter) {
    let counter = CallCounter::default();
    let client = dynamodb::client(Some(&dynamodb_endpoint()), Some(counter.clone())).await;
    let name = format!("test-{:016x}", fastrand::u64(..));
    let table = DynamoTable::new(client, name);
    table.create_if_missing().await.expect("create the test table");
    (table, counter)
}
