//! Message items: `T#{tenant}#TK#{ticketID}` / `MSG#{messageID, 16 digits}`, beside their ticket,
//! oldest first (IDs grow with time).

use super::item::{Kind, decode, encode, keyed};
use super::{Condition, Item, Key, StoreError, Write, ticket};
use crate::domain::TenantId;
use crate::domain::ticket::Message;

pub const PREFIX: &str = "MSG#";

pub fn key(tenant: TenantId, ticket_id: u64, message_id: u64) -> Key {
    Key::new(
        ticket::partition(tenant, ticket_id),
        format!("{PREFIX}{message_id:016}"),
    )
}

pub fn create(tenant: TenantId, message: &Message) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: keyed(
            Kind::Message,
            key(tenant, message.ticket_id, message.id),
            encode(message)?,
        ),
        condition: Some(Condition::NotExists),
    })
}

pub fn from_item(item: Item) -> Result<Message, StoreError> {
    decode(item)
}
