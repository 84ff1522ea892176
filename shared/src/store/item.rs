//! Conversions between items and Rust values, shared by every item kind.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AttributeValue, Item, Key, PK, SK, StoreError};

pub fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// The attribute naming an item's [`Kind`].
pub const KIND: &str = "kind";

/// What a stored item is: every item names its kind, so that a reader of raw items (the table's
/// stream, an export) tells them apart without parsing keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Account,
    Channel,
    CustomerRef,
    Delivery,
    Dismissal,
    EndUser,
    Erasure,
    IdBlock,
    Idempotency,
    Merge,
    Message,
    OpenTicket,
    Outbox,
    Suppression,
    Ticket,
    TicketCount,
    Timeline,
    Tombstone,
    UidIndex,
}

impl Kind {
    pub const ALL: [Kind; 19] = [
        Kind::Account,
        Kind::Channel,
        Kind::CustomerRef,
        Kind::Delivery,
        Kind::Dismissal,
        Kind::EndUser,
        Kind::Erasure,
        Kind::IdBlock,
        Kind::Idempotency,
        Kind::Merge,
        Kind::Message,
        Kind::OpenTicket,
        Kind::Outbox,
        Kind::Suppression,
        Kind::Ticket,
        Kind::TicketCount,
        Kind::Timeline,
        Kind::Tombstone,
        Kind::UidIndex,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Account => "Account",
            Kind::Channel => "Channel",
            Kind::CustomerRef => "CustomerRef",
            Kind::Delivery => "Delivery",
            Kind::Dismissal => "Dismissal",
            Kind::EndUser => "EndUser",
            Kind::Erasure => "Erasure",
            Kind::IdBlock => "IdBlock",
            Kind::Idempotency => "Idempotency",
            Kind::Merge => "Merge",
            Kind::Message => "Message",
            Kind::OpenTicket => "OpenTicket",
            Kind::Outbox => "Outbox",
            Kind::Suppression => "Suppression",
            Kind::Ticket => "Ticket",
            Kind::TicketCount => "TicketCount",
            Kind::Timeline => "Timeline",
            Kind::Tombstone => "Tombstone",
            Kind::UidIndex => "UidIndex",
        }
    }

    /// The attribute an update sets to name the kind of the item it may create.
    pub fn attribute(self) -> (&'static str, AttributeValue) {
        (KIND, AttributeValue::S(self.as_str().into()))
    }

    /// The kind a stored item names.
    pub fn of(item: &Item) -> Option<Kind> {
        match item.get(KIND) {
            Some(AttributeValue::S(name)) => Kind::ALL.into_iter().find(|k| k.as_str() == name),
            _ => None,
        }
    }
}

/// `item`, of `kind`, stored under `key`.
pub fn keyed(kind: Kind, key: Key, mut item: Item) -> Item {
    item.insert(PK.into(), AttributeValue::S(key.pk));
    item.insert(SK.into(), AttributeValue::S(key.sk));
    item.insert(KIND.into(), AttributeValue::S(kind.as_str().into()));
    item
}

pub fn encode<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Internal(format!("encode item: {e}")))
}

/// `from_item` would first copy the item's map into a new one, hashing every name again (3% of
/// a local-server GET); the map as it is makes the same `M` value.
pub fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_attribute_value(AttributeValue::M(item.into_inner()))
        .map_err(|e| StoreError::Internal(format!("decode item: {e}")))
}
