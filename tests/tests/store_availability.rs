//! A store that does not answer, or a table that is not there, is a 503 with `Retry-After` in
//! bounded time, never a hang or a 500.

use std::sync::Arc;
use std::time::{Duration, Instant};

use answerpal::config::{DynamoSettings, StoreTimeouts};
use answerpal::http::REQUEST_DEADLINE;
use answerpal::store::dynamodb::{self, DynamoTable, RecreatingTable};
use answerpal_testkit::{TestApi, dynamodb_endpoint};
use serde_json::json;

fn table_at(endpoint: &str, name: &str) -> DynamoTable {
    DynamoTable::new(
        dynamodb::client(&DynamoSettings::local(endpoint), None),
        name,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_store_answers_503_within_the_operation_timeout() {
    // Bound but never accepted: the kernel completes the connections and nobody ever answers,
    // as with a stopped process.
    let frozen = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", frozen.local_addr().expect("address"));
    // No request deadline of the API's own: only the store's time limits can end the calls.
    let never = Duration::from_secs(24 * 60 * 60);
    let api = TestApi::with_table(Arc::new(table_at(&endpoint, "frozen")), never);
    let started = Instant::now();
    let answers = async {
        tokio::join!(
            api.get("/api/EndUsers/1", 1),
            api.post("/api/EndUsers", 1, json!({"firstname": "Jane"})),
        )
    };
    // A guard against a hang, far past the SDK's operation timeout: how fast the answer comes
    // is the bench's to measure, that it comes is this test's.
    let guard = StoreTimeouts::default().operation * 10;
    let (read, write) = tokio::time::timeout(guard, answers)
        .await
        .expect("a frozen store hung the requests");
    eprintln!("a frozen store answered 503 after {:?}", started.elapsed());
    for response in [&read, &write] {
        assert_eq!(response.status, 503, "{:?}", response.body);
        assert_eq!(response.header("retry-after"), Some("1"));
    }
    drop(frozen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_is_503_and_the_local_server_creates_it_again() {
    let endpoint = dynamodb_endpoint();
    let name = format!("missing-{:016x}", fastrand::u64(..));
    let deployed = TestApi::with_table(Arc::new(table_at(&endpoint, &name)), REQUEST_DEADLINE);
    let response = deployed.get("/api/EndUsers/1", 1).await;
    assert_eq!(response.status, 503, "{:?}", response.body);
    assert_eq!(response.header("retry-after"), Some("1"));
    assert_eq!(
        deployed.get("/api/EndUsers/1", 1).await.status,
        503,
        "a deployed table is never created by the function"
    );

    let local = RecreatingTable::new(table_at(&endpoint, &name))
        .await
        .expect("the table created");
    let local = TestApi::with_table(Arc::new(local), REQUEST_DEADLINE);
    assert_eq!(local.get("/api/EndUsers/1", 1).await.status, 404);
    dynamodb::client(&DynamoSettings::local(&endpoint), None)
        .delete_table()
        .table_name(&name)
        .send()
        .await
        .expect("the table dropped");
    assert_eq!(local.get("/api/EndUsers/1", 1).await.status, 503);
    // The call that found it missing had it created again; the next one works.
    assert_eq!(local.get("/api/EndUsers/1", 1).await.status, 404);
    assert_eq!(
        local
            .post("/api/EndUsers", 1, json!({"firstname": "Jane"}))
            .await
            .status,
        201
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warm_up_opens_the_connection_to_the_resolved_endpoint_or_fails_harmlessly() {
    let endpoint = dynamodb_endpoint();
    let (client, connection) = dynamodb::connect(&DynamoSettings::local(&endpoint), None);
    // The endpoint override resolves to moto, as the client's calls do.
    connection.open().await.expect("a connection to moto");
    let name = format!("warm-{:016x}", fastrand::u64(..));
    let table = RecreatingTable::new(DynamoTable::new(client, name))
        .await
        .expect("the table created");
    let api = TestApi::with_table(Arc::new(table), REQUEST_DEADLINE);
    assert_eq!(api.get("/api/EndUsers/1", 1).await.status, 404);

    // Nothing listening: an error for the log, and the function starts as it would without.
    let (_, nowhere) = dynamodb::connect(&DynamoSettings::local("http://127.0.0.1:1"), None);
    assert!(nowhere.open().await.is_err());
}
