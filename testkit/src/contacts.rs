//! Sync on contact in the suites: the change events as the contact-sync queue delivers them, and
//! a syncer on the suites' keys whose connector stays on this machine.

use std::sync::Arc;

use answerpal::crm::CrmClient;
use answerpal::domain::customer::ConnectorPolicy;
use answerpal::service::contact_sync::ContactSyncer;
use answerpal::store::Table;
use serde_json::{Value, json};

use crate::{local_suppressions, local_vault};

/// A syncer on `table` with the suites' keys and a connector reaching a CRM on loopback (as
/// [`crate::TestApi::allowing_crm_loopback`] saves it).
pub fn contact_syncer(table: Arc<dyn Table>) -> ContactSyncer {
    ContactSyncer {
        table,
        vault: Arc::new(local_vault()),
        suppressions: Arc::new(local_suppressions()),
        crm: CrmClient::offline(ConnectorPolicy::AllowLoopback),
    }
}

/// The SQS event delivering `events` (as an outbox item holds them: `detailType` and the rest)
/// as the EventBridge rule queues them, message `m{i}` for the `i`-th.
pub fn queued(events: &[Value]) -> Value {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let mut detail = event.clone();
            let detail_type = detail
                .as_object_mut()
                .and_then(|fields| fields.remove("detailType"))
                .unwrap_or(Value::Null);
            let body = json!({
                "version": "0",
                "id": format!("bus-event-{i}"),
                "detail-type": detail_type,
                "source": "answerpal.endusers",
                "account": "123456789012",
                "time": "2026-12-07T12:00:00Z",
                "region": "us-east-1",
                "resources": [],
                "detail": detail,
            });
            json!({
                "messageId": format!("m{i}"),
                "receiptHandle": format!("handle-{i}"),
                "body": body.to_string(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:contact-sync",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}
