//! Sync on contact (SPEC 10): an end user a webhook created is synced with the tenant's CRM as
//! `POST /api/EndUsers/{id}/sync` would sync it, in the background: the webhook's answer never
//! waits for the CRM, and a failing CRM is tried again later without touching the message the
//! webhook recorded. What announces such an end user is its `EndUserCreated` change event naming
//! the channel. Deployed, an EventBridge rule queues those events for the contact-sync function
//! (template.yaml: a failed message comes back after the queue's visibility timeout, and lands in
//! the dead-letter queue after [`ATTEMPTS`] receives); the local server reads them from the outbox
//! items it writes and retries on its own.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::change_events::{BatchResponse, ItemFailure};
use super::crm::{self, Connector};
use crate::crm::CrmClient;
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::store::Table;
use crate::vault::Vault;
use crate::vault::suppression::Suppressions;

/// Attempts of one contact's sync before it is given up (the queue's `maxReceiveCount`).
pub const ATTEMPTS: usize = 4;
/// The local server's waits before each attempt after the first (deployed, the queue's
/// visibility timeout spaces them).
pub const LOCAL_WAITS: [Duration; ATTEMPTS - 1] = [
    Duration::from_secs(5),
    Duration::from_secs(15),
    Duration::from_secs(40),
];

/// An end user a webhook created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contact {
    pub tenant: TenantId,
    pub end_user_id: u64,
}

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "customerID")]
    customer_id: u64,
    #[serde(rename = "endUserID")]
    end_user_id: u64,
    #[serde(rename = "channelID")]
    channel_id: Option<u64>,
}

impl Contact {
    /// The contact a change event announces: an `EndUserCreated` naming a channel; `None` for
    /// any other event.
    pub fn announced(detail_type: &str, detail: &Value) -> Option<Contact> {
        if detail_type != "EndUserCreated" {
            return None;
        }
        let created = Created::deserialize(detail).ok()?;
        created.channel_id?;
        Some(Contact {
            tenant: TenantId::new(created.customer_id)?,
            end_user_id: created.end_user_id,
        })
    }
}

/// The contacts the events of one outbox item announce (JSON text, as the item holds them).
pub fn contacts_in(events: &str) -> Vec<Contact> {
    let events: Vec<Map<String, Value>> = serde_json::from_str(events).unwrap_or_default();
    events
        .into_iter()
        .filter_map(|event| {
            let detail_type = event.get("detailType")?.as_str()?.to_owned();
            Contact::announced(&detail_type, &Value::Object(event))
        })
        .collect()
}

/// How one sync on contact ended when it needs no other attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Synced: the end user's version after, and how many UIDs other end users hold.
    Synced { version: u64, conflicts: usize },
    /// Nothing to do, or nothing another attempt could change: why.
    Skipped(String),
}

/// Syncs `contact`: `Ok` when done (synced, or skipped: no connector, the end user gone or
/// anonymized, a customerRef held by another, secrets that no longer open); `Err` when another
/// attempt may succeed (the CRM, the table or the key service unavailable).
pub async fn sync(
    table: &dyn Table,
    connector: &Connector<'_>,
    contact: Contact,
) -> Result<Outcome, String> {
    let Contact {
        tenant,
        end_user_id,
    } = contact;
    match crm::sync_on_contact(table, connector, tenant, end_user_id).await {
        Ok(synced) => Ok(Outcome::Synced {
            version: synced.user.version,
            conflicts: synced.conflicts.len(),
        }),
        Err(
            error @ (ApiError::CrmUnavailable(_)
            | ApiError::Unavailable(_)
            | ApiError::ConcurrentModification
            | ApiError::Internal(_)),
        ) => Err(error.to_string()),
        Err(error) => Ok(Outcome::Skipped(error.to_string())),
    }
}

#[derive(Deserialize)]
struct QueueEvent {
    #[serde(rename = "Records")]
    records: Vec<QueueRecord>,
}

#[derive(Deserialize)]
struct QueueRecord {
    #[serde(rename = "messageId")]
    message_id: String,
    body: String,
}

/// The EventBridge event a queued message carries.
#[derive(Deserialize)]
struct BusEvent {
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: Value,
}

/// Syncs the contacts of one batch of queued change events (SQS, `ReportBatchItemFailures`),
/// all at once; answers the messages to deliver again: those whose sync may succeed later, and
/// those that are no EventBridge event at all (they end in the dead-letter queue). Another event
/// is done without a call. A batch that is not an SQS event is an error: it comes again whole.
pub async fn handle_queued(
    table: &dyn Table,
    connector: &Connector<'_>,
    event: Value,
) -> Result<BatchResponse, String> {
    let event: QueueEvent =
        serde_json::from_value(event).map_err(|e| format!("not an SQS event: {e}"))?;
    let synced = event.records.into_iter().map(|record| async move {
        let event: BusEvent = match serde_json::from_str(&record.body) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(message = record.message_id, %error, "not an EventBridge event");
                return Some(record.message_id);
            }
        };
        let contact = Contact::announced(&event.detail_type, &event.detail)?;
        match sync(table, connector, contact).await {
            Ok(outcome) => {
                logged(contact, &outcome);
                None
            }
            Err(error) => {
                tracing::warn!(
                    tenant = contact.tenant.get(),
                    end_user = contact.end_user_id,
                    error,
                    "sync on contact failed; the queue delivers it again"
                );
                Some(record.message_id)
            }
        }
    });
    let failures = join_all(synced).await.into_iter().flatten();
    Ok(BatchResponse {
        failures: failures
            .map(|item_identifier| ItemFailure { item_identifier })
            .collect(),
    })
}

/// What syncs contacts, owned: the table and the connector's parts.
#[derive(Clone)]
pub struct ContactSyncer {
    pub table: Arc<dyn Table>,
    pub vault: Arc<Vault>,
    pub suppressions: Arc<Suppressions>,
    pub crm: CrmClient,
}

impl ContactSyncer {
    pub fn connector(&self) -> Connector<'_> {
        Connector {
            vault: &self.vault,
            suppressions: &self.suppressions,
            crm: &self.crm,
        }
    }

    /// Syncs `contact`, again after each of `waits` while another attempt may succeed.
    pub async fn sync_retrying(&self, contact: Contact, waits: &[Duration]) {
        let mut waits = waits.iter();
        loop {
            match sync(self.table.as_ref(), &self.connector(), contact).await {
                Ok(outcome) => return logged(contact, &outcome),
                Err(error) => {
                    let (tenant, end_user) = (contact.tenant.get(), contact.end_user_id);
                    let Some(wait) = waits.next() else {
                        tracing::warn!(tenant, end_user, error, "sync on contact given up");
                        return;
                    };
                    tracing::warn!(tenant, end_user, error, ?wait, "sync on contact failed");
                    tokio::time::sleep(*wait).await;
                }
            }
        }
    }
}

/// Syncs the contacts announced by the outbox items' events `announced` receives (the local
/// server's [`crate::store::outbox::OutboxTap`]), each in its own task, retried after `waits`.
pub async fn sync_in_background(
    mut announced: mpsc::Receiver<String>,
    syncer: ContactSyncer,
    waits: &'static [Duration],
) {
    while let Some(events) = announced.recv().await {
        for contact in contacts_in(&events) {
            let syncer = syncer.clone();
            tokio::spawn(async move { syncer.sync_retrying(contact, waits).await });
        }
    }
}

/// One log line per contact done.
fn logged(contact: Contact, outcome: &Outcome) {
    let (tenant, end_user) = (contact.tenant.get(), contact.end_user_id);
    match outcome {
        Outcome::Synced { version, conflicts } => {
            tracing::info!(tenant, end_user, version, conflicts, "synced on contact")
        }
        Outcome::Skipped(reason) => {
            tracing::info!(tenant, end_user, reason, "not synced on contact")
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_a_created_end_user_naming_its_channel_is_a_contact() {
        let detail = json!({"customerID": 4, "endUserID": 1200, "channelID": 7, "version": 1});
        let contact = Contact::announced("EndUserCreated", &detail);
        assert_eq!(
            contact,
            Some(Contact {
                tenant: TenantId::new(4).expect("a tenant"),
                end_user_id: 1200,
            })
        );
        assert_eq!(Contact::announced("EndUserUpdated", &detail), None);
        assert_eq!(Contact::announced("TicketCreated", &detail), None);
        let by_the_api = json!({"customerID": 4, "endUserID": 1200, "version": 1});
        assert_eq!(Contact::announced("EndUserCreated", &by_the_api), None);
        let no_tenant = json!({"customerID": 0, "endUserID": 1200, "channelID": 7});
        assert_eq!(Contact::announced("EndUserCreated", &no_tenant), None);
        assert_eq!(Contact::announced("EndUserCreated", &json!("text")), None);
    }

    #[test]
    fn an_outbox_item_announces_its_lead_only() {
        let events = json!([
            {"detailType": "EndUserCreated", "customerID": 2, "endUserID": 1300, "channelID": 5},
            {"detailType": "UidLinked", "customerID": 2, "endUserID": 1300, "channelID": 5},
            {"detailType": "EndUserCreated", "customerID": 2, "endUserID": 1301},
        ]);
        let contacts = contacts_in(&events.to_string());
        let tenant = TenantId::new(2).expect("a tenant");
        assert_eq!(
            contacts,
            [Contact {
                tenant,
                end_user_id: 1300
            }]
        );
        assert!(contacts_in("not json").is_empty());
    }
}
