//! Message items: `T#{tenant}#TK#{ticketID}` / `MSG#{position, 10 digits}`, beside their
//! ticket, in the order they were recorded: the n-th message of a ticket is at position n (its
//! writer counted it on the open-ticket guard or the ticket, conditional on the count it read),
//! so a page of messages starts at a key known in advance and costs what it holds.

use super::item::{Kind, decode, encode, keyed};
use super::{Condition, Item, Key, PageStart, StoreError, Write, ticket};
use crate::domain::TenantId;
use crate::domain::ticket::Message;

pub const PREFIX: &str = "MSG#";

/// The key of the message at `position` (1 for the first) of ticket `ticket_id`.
pub fn key(tenant: TenantId, ticket_id: u64, position: u64) -> Key {
    Key::new(
        ticket::partition(tenant, ticket_id),
        format!("{PREFIX}{position:010}"),
    )
}

/// Where the page of a ticket's messages after the first `skipped` starts.
pub fn page_start(tenant: TenantId, ticket_id: u64, skipped: u64) -> Option<PageStart> {
    let key = key(tenant, ticket_id, skipped);
    (skipped > 0).then(|| PageStart::after(&keyed(Kind::Message, key, Item::default()), None))
}

/// The position of the message a key names.
pub fn position(key: &Key) -> Option<u64> {
    key.sk.strip_prefix(PREFIX)?.parse().ok()
}

/// `message` as the one at `position` of its ticket.
pub fn create(tenant: TenantId, message: &Message, position: u64) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: keyed(
            Kind::Message,
            key(tenant, message.ticket_id, position),
            encode(message)?,
        ),
        condition: Some(Condition::NotExists),
    })
}

pub fn from_item(item: Item) -> Result<Message, StoreError> {
    decode(item)
}
