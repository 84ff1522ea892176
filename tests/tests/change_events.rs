//! The change-events function (SPEC 7): recorded DynamoDB stream events (`events/stream/`) and
//! the outbox items of real changes go through the handler to a fake EventBridge client; what it
//! publishes, in what order, and what it reports to the stream when a record cannot be published.

use std::sync::Mutex;

use answerpal::bus::{Entry, MAX_ENTRIES, Publisher};
use answerpal::service::change_events::{BatchResponse, ItemFailure, publish};
use answerpal::store::AttributeValue;
use answerpal_testkit::TestApi;
use async_trait::async_trait;
use serde_json::{Map, Value, json};

const STREAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/stream");

/// An EventBridge that keeps what it is sent, failing the calls numbered in `failing` (from 0).
#[derive(Default)]
struct FakeBus {
    published: Mutex<Vec<Entry>>,
    calls: Mutex<usize>,
    failing: Vec<usize>,
}

#[async_trait]
impl Publisher for FakeBus {
    async fn publish(&self, entries: &[Entry]) -> Result<(), String> {
        assert!(
            entries.len() <= MAX_ENTRIES,
            "{} entries in one call",
            entries.len()
        );
        let mut calls = self.calls.lock().expect("calls");
        let call = *calls;
        *calls += 1;
        if self.failing.contains(&call) {
            return Err(format!("call {call} throttled"));
        }
        self.published
            .lock()
            .expect("published")
            .extend_from_slice(entries);
        Ok(())
    }
}

impl FakeBus {
    fn details(&self) -> Vec<(String, Value)> {
        self.published
            .lock()
            .expect("published")
            .iter()
            .map(|e| {
                (
                    e.detail_type.clone(),
                    serde_json::from_str(&e.detail).expect("JSON"),
                )
            })
            .collect()
    }
}

fn recorded(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{STREAM}/{name}")).expect("a recorded event");
    serde_json::from_str(text.as_str()).expect("JSON")
}

fn failure_at(sequence: &str) -> BatchResponse {
    BatchResponse {
        failures: vec![ItemFailure {
            item_identifier: sequence.into(),
        }],
    }
}

#[tokio::test]
async fn recorded_outbox_inserts_are_published_in_order() {
    let bus = FakeBus::default();
    let answer = publish(&bus, recorded("outbox-batch.json")).await;
    assert_eq!(answer, Ok(BatchResponse::default()));
    let details = bus.details();
    let kinds: Vec<&str> = details.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "EndUserCreated",
            "UidLinked",
            "EndUserMerged",
            "TicketCreated"
        ],
        "in stream order, the REMOVE of an expired item left out"
    );
    for (_, detail) in &details {
        assert_eq!(detail["customerID"], 1);
        assert!(detail["eventID"].is_string() && detail["version"].is_u64());
        assert!(
            detail.get("detailType").is_none(),
            "the kind is the detail-type only"
        );
    }
    assert_eq!(details[2].1["sourceEndUserID"], 1100);
    assert_eq!(details[2].1["targetEndUserID"], 1000);
}

#[tokio::test]
async fn a_poison_record_is_reported_and_nothing_after_it_is_published() {
    let bus = FakeBus::default();
    let answer = publish(&bus, recorded("poison-batch.json")).await;
    // The stream gives the poison record (and what follows it) again until its retries run
    // out; the event source mapping then sends it to the on-failure queue (template.yaml).
    assert_eq!(answer, Ok(failure_at("200000000000000000002")));
    let kinds: Vec<String> = bus.details().into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, ["EndUserCreated", "UidLinked"]);
}

#[tokio::test]
async fn a_failed_publish_is_retried_from_its_record_and_keeps_the_order() {
    let bus = FakeBus {
        failing: vec![1],
        ..FakeBus::default()
    };
    let batch = recorded("outbox-batch.json");
    let answer = publish(&bus, batch.clone()).await;
    assert_eq!(answer, Ok(failure_at("100000000000000000002")));
    // The stream's retry starts at the reported record.
    let mut retry = batch;
    let records = retry["Records"].as_array_mut().expect("records");
    records.remove(0);
    assert_eq!(publish(&bus, retry).await, Ok(BatchResponse::default()));
    let ids: Vec<String> = bus
        .details()
        .into_iter()
        .map(|(_, d)| d["eventID"].as_str().expect("eventID").to_owned())
        .collect();
    assert_eq!(
        ids,
        [
            "1-1000-1-EndUserCreated",
            "1-1000-1-UidLinked-1001",
            "1-1000-2-EndUserMerged",
            "1-ticket-5000-TicketCreated-5001"
        ]
    );
}

#[tokio::test]
async fn what_is_not_a_stream_event_fails_the_whole_batch() {
    let bus = FakeBus::default();
    assert!(publish(&bus, json!({"Records": "no"})).await.is_err());
    let unnumbered = json!({"Records": [{"eventName": "INSERT", "dynamodb": {}}]});
    assert!(publish(&bus, unnumbered).await.is_err());
    assert!(bus.details().is_empty());
}

/// A stream record of `item` as DynamoDB's stream shows a new image (strings and numbers).
fn stream_record(item: &answerpal::store::Item, sequence: usize) -> Value {
    let image: Map<String, Value> = item
        .iter()
        .filter_map(|(name, value)| {
            let value = match value {
                AttributeValue::S(s) => json!({"S": s}),
                AttributeValue::N(n) => json!({"N": n}),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect();
    json!({"eventName": "INSERT", "eventSource": "aws:dynamodb",
        "dynamodb": {"SequenceNumber": format!("{sequence:021}"), "NewImage": image,
            "StreamViewType": "NEW_IMAGE"}})
}

/// The outbox items real changes write, handed over as the stream would, publish what the
/// changes did: ten entries per call at most, an end user's events in version order.
#[tokio::test]
async fn the_outbox_of_real_changes_is_published() {
    let api = TestApi::memory().await;
    let uids: Vec<Value> = (0..12)
        .map(|n| json!({"uidType": "External", "uid": format!("crm-{n}")}))
        .collect();
    let target = api.create(1, json!({"firstname": "T", "uids": uids})).await;
    let target = target["endUserID"].as_u64().expect("endUserID");
    let source = api.create(1, json!({"firstname": "S"})).await;
    let source = source["endUserID"].as_u64().expect("endUserID");
    let merge = format!("/api/EndUsers/{target}/merge");
    let merged = api
        .post(&merge, 1, json!({"sourceEndUserID": source}))
        .await;
    assert_eq!(merged.status, 200);
    let mut outbox: Vec<_> = api
        .raw_items()
        .await
        .into_iter()
        .filter(|item| item.get("kind") == Some(&AttributeValue::S("Outbox".into())))
        .filter(|item| item.get("PK") == Some(&AttributeValue::S(format!("T#1#OUTBOX#{target}"))))
        .collect();
    outbox.sort_by_key(|item| match item.get("SK") {
        Some(AttributeValue::S(sk)) => sk.clone(),
        _ => String::new(),
    });
    let records: Vec<Value> = outbox
        .iter()
        .enumerate()
        .map(|(n, i)| stream_record(i, n + 1))
        .collect();
    let bus = FakeBus::default();
    let answer = publish(&bus, json!({"Records": records})).await;
    assert_eq!(answer, Ok(BatchResponse::default()));
    let details = bus.details();
    assert_eq!(details.len(), 1 + 12 + 1, "created, 12 UIDs linked, merged");
    assert_eq!(
        *bus.calls.lock().expect("calls"),
        3,
        "13 events take two calls, the merge one"
    );
    let versions: Vec<u64> = details
        .iter()
        .map(|(_, d)| d["version"].as_u64().expect("v"))
        .collect();
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "{versions:?}");
    let (kind, last) = details.last().expect("the merge");
    assert_eq!(kind, "EndUserMerged");
    assert_eq!(
        (
            last["sourceEndUserID"].as_u64(),
            last["targetEndUserID"].as_u64()
        ),
        (Some(source), Some(target))
    );
}
