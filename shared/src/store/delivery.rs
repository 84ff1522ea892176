//! Inbound delivery records: `T#{tenant}#CH#{channelID}#MSGID#{provider message id}` /
//! `MSGID`, written with `attribute_not_exists` in the transaction that records the message, so
//! a provider's message is recorded once per channel however often (and however concurrently)
//! it is delivered; a redelivery reads what the first delivery answered. Per channel: two
//! providers' ids may meet (SPEC 5). Kept for [`KEPT_DAYS`] (TTL): providers retry for
//! hours, not weeks.

use serde::{Deserialize, Serialize};

use super::item::{Kind, decode, encode, keyed, number};
use super::{Condition, EXPIRES_AT, Item, Key, StoreError, Write};
use crate::domain::{TenantId, Timestamp};

pub const KEPT_DAYS: i64 = 30;

/// How a provider's message was recorded: what a redelivery answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    #[serde(rename = "ticketID")]
    pub ticket_id: u64,
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    #[serde(rename = "messageID")]
    pub message_id: u64,
}

pub fn key(tenant: TenantId, channel_id: u64, provider_message_id: &str) -> Key {
    Key::new(
        format!("T#{tenant}#CH#{channel_id}#MSGID#{provider_message_id}"),
        "MSGID",
    )
}

pub fn record(
    tenant: TenantId,
    channel_id: u64,
    provider_message_id: &str,
    delivered: &Delivered,
    now: Timestamp,
) -> Result<Write, StoreError> {
    let mut item = encode(delivered)?;
    item.insert(
        EXPIRES_AT.into(),
        number(now.unix_seconds() + KEPT_DAYS * 24 * 60 * 60),
    );
    Ok(Write::Put {
        item: keyed(
            Kind::Delivery,
            key(tenant, channel_id, provider_message_id),
            item,
        ),
        condition: Some(Condition::NotExists),
    })
}

pub fn from_item(item: Item) -> Result<Delivered, StoreError> {
    decode(item)
}
