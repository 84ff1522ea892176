//! Publishing change events (SPEC 7): the table's stream hands the change-events function the
//! new outbox items, in order per end user; each item's events go to EventBridge in order, ten
//! at a time. The function reports the first record it could not publish, so the stream gives
//! it and everything after it again (nothing is skipped, nothing reordered); a record that can
//! never be published (a poison record) is reported each time until the event source mapping
//! gives up on it and sends it to the on-failure queue (template.yaml).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bus::{Entry, MAX_ENTRIES, Publisher};
use crate::store::item::{KIND, Kind};
use crate::store::outbox::EVENTS;

#[derive(Deserialize)]
struct StreamEvent {
    #[serde(rename = "Records", default)]
    records: Vec<StreamRecord>,
}

#[derive(Deserialize)]
struct StreamRecord {
    #[serde(rename = "eventName")]
    event_name: Option<String>,
    dynamodb: Option<StreamData>,
}

#[derive(Default, Deserialize)]
struct StreamData {
    #[serde(rename = "SequenceNumber")]
    sequence_number: Option<String>,
    #[serde(rename = "NewImage")]
    new_image: Option<Map<String, Value>>,
}

/// The answer to the stream (`ReportBatchItemFailures`): the first record not published.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub failures: Vec<ItemFailure>,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// Publishes the outbox items of one batch of stream records, in order; stops at the first
/// record that fails and names it. A batch that is not a stream event at all is an error: the
/// whole batch comes again.
pub async fn publish(publisher: &dyn Publisher, event: Value) -> Result<BatchResponse, String> {
    let event: StreamEvent =
        serde_json::from_value(event).map_err(|e| format!("not a DynamoDB stream event: {e}"))?;
    for record in event.records {
        let data = record.dynamodb.unwrap_or_default();
        let Some(sequence) = data.sequence_number else {
            return Err("a stream record without a sequence number".into());
        };
        let image = data.new_image.unwrap_or_default();
        if record.event_name.as_deref() != Some("INSERT") || !is_outbox(&image) {
            continue;
        }
        if let Err(error) = publish_record(publisher, &image).await {
            tracing::warn!(%sequence, %error, "change events not published; the stream retries");
            return Ok(BatchResponse {
                failures: vec![ItemFailure {
                    item_identifier: sequence,
                }],
            });
        }
    }
    Ok(BatchResponse::default())
}

fn is_outbox(image: &Map<String, Value>) -> bool {
    image.get(KIND).and_then(|kind| kind["S"].as_str()) == Some(Kind::Outbox.as_str())
}

/// The events of one outbox item, published ten at a time.
async fn publish_record(
    publisher: &dyn Publisher,
    image: &Map<String, Value>,
) -> Result<(), String> {
    let entries = entries(image)?;
    for chunk in entries.chunks(MAX_ENTRIES) {
        publisher.publish(chunk).await?;
    }
    Ok(())
}

/// The EventBridge entries of an outbox item's events: `detailType` apart, the rest the detail.
fn entries(image: &Map<String, Value>) -> Result<Vec<Entry>, String> {
    let text = image
        .get(EVENTS)
        .and_then(|events| events["S"].as_str())
        .ok_or("an outbox item without events")?;
    let events: Vec<Map<String, Value>> =
        serde_json::from_str(text).map_err(|e| format!("an outbox item's events: {e}"))?;
    events
        .into_iter()
        .map(|mut event| {
            let detail_type = match event.remove("detailType") {
                Some(Value::String(kind)) => kind,
                _ => return Err("an event without its detailType".to_owned()),
            };
            Ok(Entry {
                detail_type,
                detail: Value::Object(event).to_string(),
            })
        })
        .collect()
}
