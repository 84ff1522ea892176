//! Conversions between items and Rust values, shared by every item kind.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AttributeValue, Item, Key, PK, SK, StoreError};

pub fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// `item` stored under `key`.
pub fn keyed(key: Key, mut item: Item) -> Item {
    item.insert(PK.into(), AttributeValue::S(key.pk));
    item.insert(SK.into(), AttributeValue::S(key.sk));
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
