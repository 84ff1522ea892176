//! Outbox items (SPEC 7 change events): `T#{tenant}#OUTBOX#{endUserID}` / the ID of the
//! change's first event, written in the transaction of the change it announces, with that
//! change's events as JSON text (`events`). The table's stream carries each new one to the
//! change-events function, which publishes it; the item then only waits for its TTL. One
//! partition per end user keeps its events in the stream's order.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::item::{Kind, keyed, number};
use super::{
    AttributeValue, EXPIRES_AT, Item, Key, PageStart, Query, QueryPage, StoreError, Table, Write,
    WriteError,
};
use crate::domain::Timestamp;
use crate::domain::change::Change;

/// The attribute holding the events, a JSON array.
pub const EVENTS: &str = "events";
/// How long an outbox item stays after its change: the stream has published it long before.
const KEPT_SECONDS: i64 = 24 * 60 * 60;

/// The outbox item announcing `changes` (one change's events, the first naming the end user);
/// `None` when there is nothing to announce.
pub fn put(changes: &[Change], now: Timestamp) -> Result<Option<Write>, StoreError> {
    let Some(first) = changes.first() else {
        return Ok(None);
    };
    let events = serde_json::to_string(changes)
        .map_err(|e| StoreError::Internal(format!("encode change events: {e}")))?;
    let key = Key::new(
        format!("T#{}#OUTBOX#{}", first.customer_id, first.end_user_id),
        first.event_id.clone(),
    );
    let mut item = Item::default();
    item.insert(EVENTS.into(), AttributeValue::S(events));
    item.insert(EXPIRES_AT.into(), number(now.unix_seconds() + KEPT_SECONDS));
    Ok(Some(Write::Put {
        item: keyed(Kind::Outbox, key, item),
        condition: None,
    }))
}

/// A table that also hands on the events of each outbox item it commits, as the table's stream
/// hands them to the change-events function: the local server's stand-in for the stream (its
/// sync on contact). Events are dropped, with a warning, while `BACKLOG` wait unread.
pub struct OutboxTap {
    inner: Arc<dyn Table>,
    committed: mpsc::Sender<String>,
}

/// Outbox items' events waiting for their reader at most.
const BACKLOG: usize = 1024;

impl OutboxTap {
    /// `inner`, tapped; the receiver of the committed outbox items' events (JSON text each).
    pub fn new(inner: Arc<dyn Table>) -> (Self, mpsc::Receiver<String>) {
        let (committed, receiver) = mpsc::channel(BACKLOG);
        (OutboxTap { inner, committed }, receiver)
    }
}

/// The events of the outbox items among `writes`.
fn announced(writes: &[Write]) -> Vec<String> {
    writes
        .iter()
        .filter_map(|write| match write {
            Write::Put { item, .. } if Kind::of(item) == Some(Kind::Outbox) => {
                match item.get(EVENTS) {
                    Some(AttributeValue::S(events)) => Some(events.clone()),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

#[async_trait]
impl Table for OutboxTap {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.inner.batch_get(keys).await
    }

    async fn query_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        self.inner.query_page(query, start, limit).await
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        let events = announced(&writes);
        self.inner.write(writes).await?;
        for events in events {
            if self.committed.try_send(events).is_err() {
                tracing::warn!("outbox events dropped: their reader is behind or gone");
            }
        }
        Ok(())
    }

    async fn replace(&self, item: Item) -> Result<Option<Item>, StoreError> {
        self.inner.replace(item).await
    }

    async fn remove(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.remove(key).await
    }
}
