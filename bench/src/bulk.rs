//! Bulk creates on the local server: items per second of 100-item `POST /api/EndUsers/bulk`
//! requests, one at a time, beside the baseline of the same 100 creates as single POSTs from as
//! many concurrent clients as a bulk request applies items at once. Rounds alternate the two;
//! the figures are medians over the rounds.

use std::sync::Arc;
use std::time::Instant;

use answerpal::http::auth::hs256_token;
use answerpal::store::memory::MemoryTable;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::{SECRET, Target, start_server};

const ITEMS: usize = 100;
const ROUNDS: usize = 21;
/// The baseline's clients: as many as a bulk request's items in flight.
const CLIENTS: usize = answerpal::families::BULK_IN_FLIGHT;

fn create_body(round: usize, n: usize, kind: &str) -> Value {
    json!({"firstname": "Bulk", "lastname": format!("{kind} {round}-{n}"),
        "uids": [{"uidType": "Email", "uid": format!("{kind}{round}-{n}@example.com")}]})
}

/// One bulk request of 100 creates: its items per second.
async fn bulk_round(target: &Target, round: usize) -> f64 {
    let items: Vec<Value> = (0..ITEMS)
        .map(|n| {
            let mut item = create_body(round, n, "bulk");
            item["op"] = json!("create");
            item
        })
        .collect();
    let started = Instant::now();
    let (status, body) = target
        .send("POST", "/api/EndUsers/bulk", Some(json!({"items": items})))
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let results = body["results"]
        .as_array()
        .map_or(0, |r| r.iter().filter(|item| item["status"] == 201).count());
    assert_eq!(
        (status, results),
        (200, ITEMS),
        "a bulk round failed: {body}"
    );
    ITEMS as f64 / elapsed
}

/// The same 100 creates as single POSTs from [`CLIENTS`] clients: creates per second.
async fn single_round(target: &Arc<Target>, round: usize) -> f64 {
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let target = Arc::clone(target);
            tokio::spawn(async move {
                for n in (client..ITEMS).step_by(CLIENTS) {
                    let body = create_body(round, n, "single");
                    let (status, _) = target.send("POST", "/api/EndUsers", Some(body)).await;
                    assert_eq!(status, 201, "a single create failed");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a client");
    }
    ITEMS as f64 / started.elapsed().as_secs_f64()
}

fn median(mut figures: Vec<f64>) -> f64 {
    figures.sort_by(f64::total_cmp);
    figures[figures.len() / 2]
}

pub async fn bulk_figures() {
    let base = start_server(Arc::new(MemoryTable::new()));
    let target = Arc::new(Target {
        client: Client::builder(TokioExecutor::new()).build_http(),
        base,
        token: hs256_token(SECRET, 1, 3600).expect("token"),
    });
    let (mut bulk, mut single) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternated, so that a drift of the machine touches both alike.
        if round % 2 == 0 {
            bulk.push(bulk_round(&target, round).await);
            single.push(single_round(&target, round).await);
        } else {
            single.push(single_round(&target, round).await);
            bulk.push(bulk_round(&target, round).await);
        }
    }
    let (bulk, single) = (median(bulk), median(single));
    println!(
        "Bulk creates, local server, embedded table, medians of {ROUNDS} alternated rounds of {ITEMS} creates:"
    );
    println!("one bulk request of {ITEMS} creates          {bulk:>9.0} items/s");
    println!(
        "{ITEMS} single POSTs from {CLIENTS} clients (baseline) {single:>9.0} creates/s   bulk/baseline {:.2}",
        bulk / single
    );
}
