//! The change events' bus (the change-events function): a [`Publisher`] port, and its adapter
//! on Amazon EventBridge's SDK client.

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::config::DynamoSettings;

/// The `source` of every change event.
pub const SOURCE: &str = "answerpal.endusers";
/// At most this many entries in one `PutEvents` call.
pub const MAX_ENTRIES: usize = 10;

/// One event to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub detail_type: String,
    /// The event's `detail`, JSON text.
    pub detail: String,
}

/// Where change events are published.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes up to [`MAX_ENTRIES`] `entries`: all of them, or an error saying what failed
    /// (some may have been published: a retry publishes them again, and consumers dedupe by
    /// `eventID`).
    async fn publish(&self, entries: &[Entry]) -> Result<(), String>;
}

/// The event bus `bus` through the SDK.
pub struct EventBridge {
    client: Client,
    bus: String,
}

impl EventBridge {
    /// The client of the process's region and credentials (as the other AWS clients).
    pub fn new(settings: &DynamoSettings, bus: &str) -> Self {
        let shared = crate::aws::sdk_config(settings, None);
        EventBridge {
            client: Client::new(&shared),
            bus: bus.to_owned(),
        }
    }
}

#[async_trait]
impl Publisher for EventBridge {
    async fn publish(&self, entries: &[Entry]) -> Result<(), String> {
        let entries = entries.iter().map(|entry| {
            PutEventsRequestEntry::builder()
                .event_bus_name(&self.bus)
                .source(SOURCE)
                .detail_type(&entry.detail_type)
                .detail(&entry.detail)
                .build()
        });
        let output = self
            .client
            .put_events()
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .map_err(|error| crate::aws::judge(error).1)?;
        match output.failed_entry_count {
            0 => Ok(()),
            failed => {
                let first = output
                    .entries
                    .unwrap_or_default()
                    .into_iter()
                    .find_map(|entry| entry.error_code.map(|code| (code, entry.error_message)));
                Err(format!("{failed} entries failed, the first: {first:?}"))
            }
        }
    }
}
