//! Outbox items (SPEC 7 change events): `T#{tenant}#OUTBOX#{endUserID}` / the ID of the
//! change's first event, written in the transaction of the change it announces, with that
//! change's events as JSON text (`events`). The table's stream carries each new one to the
//! change-events function, which publishes it; the item then only waits for its TTL. One
//! partition per end user keeps its events in the stream's order.

use super::item::{Kind, keyed, number};
use super::{AttributeValue, EXPIRES_AT, Item, Key, StoreError, Write};
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
