//! The single-table design: every key and item layout, written once (see docs/access-patterns.md).
//!
//! | item | PK | SK |
//! |---|---|---|
//! | end user (UIDs inside) | `T#{tenant}#EU#{endUserID}` | `PROFILE` |
//! | UID index | `T#{tenant}#UID#{normalized value}` | `{uidType}` |
//! | customerRef index | `T#{tenant}#REF#{customerRef}` | `REF` |
//! | ID block guard | `T#{tenant}#IDB#{block base}` | `IDB` |
//!
//! End users also carry `GSI1PK = T#{tenant}#EU`, `GSI1SK = endUserID` for the list.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AttributeValue, Condition, Index, Item, Key, PK, SK, StoreError};
use crate::domain::TenantId;
use crate::domain::end_user::EndUser;
use crate::domain::uid::Uid;

pub const PROFILE: &str = "PROFILE";
pub const OWNER: &str = "endUserID";
pub const VERSION: &str = "version";
/// Epoch seconds after which DynamoDB's TTL removes an item.
pub const EXPIRES_AT: &str = "expiresAt";
/// ID block guards only matter while their millisecond can still be drawn.
const ID_BLOCK_TTL_SECONDS: i64 = 24 * 60 * 60;

/// The end users of a tenant, by ID, with what the list filters and sorts on.
pub const END_USERS_BY_TENANT: Index = Index {
    name: "GSI1",
    partition_key: "GSI1PK",
    sort_key: "GSI1SK",
    projected: &[
        "endUserID",
        "firstname",
        "lastname",
        "name",
        "company",
        "customerRef",
        "uids",
        "createdAt",
        "updatedAt",
    ],
};

/// Every secondary index of the table.
pub const INDEXES: [&Index; 1] = [&END_USERS_BY_TENANT];

fn tenant_prefix(tenant: TenantId) -> String {
    format!("T#{tenant}")
}

pub fn profile(tenant: TenantId, end_user_id: u64) -> Key {
    Key::new(format!("T#{tenant}#EU#{end_user_id}"), PROFILE)
}

pub fn uid_index(tenant: TenantId, uid: &Uid) -> Key {
    Key::new(
        format!("T#{tenant}#UID#{}", uid.value()),
        uid.uid_type().as_str(),
    )
}

pub fn customer_ref(tenant: TenantId, customer_ref: &str) -> Key {
    Key::new(format!("T#{tenant}#REF#{customer_ref}"), "REF")
}

pub fn id_block(tenant: TenantId, base: u64) -> Key {
    Key::new(format!("T#{tenant}#IDB#{base}"), "IDB")
}

pub fn end_users_partition(tenant: TenantId) -> String {
    format!("{}#EU", tenant_prefix(tenant))
}

pub fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn keyed(key: Key, mut item: Item) -> Item {
    item.insert(PK.into(), AttributeValue::S(key.pk));
    item.insert(SK.into(), AttributeValue::S(key.sk));
    item
}

fn encode<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Internal(format!("encode item: {e}")))
}

pub fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Internal(format!("decode item: {e}")))
}

pub fn end_user_item(tenant: TenantId, user: &EndUser) -> Result<Item, StoreError> {
    let mut item = encode(user)?;
    item.insert(
        END_USERS_BY_TENANT.partition_key.into(),
        AttributeValue::S(end_users_partition(tenant)),
    );
    item.insert(END_USERS_BY_TENANT.sort_key.into(), number(user.id));
    Ok(keyed(profile(tenant, user.id), item))
}

/// An index item pointing at its owner (UID or customerRef index).
pub fn owner_item(key: Key, owner: u64) -> Item {
    let mut item = Item::default();
    item.insert(OWNER.into(), number(owner));
    keyed(key, item)
}

pub fn id_block_item(tenant: TenantId, base: u64, now_unix_seconds: i64) -> Item {
    let mut item = Item::default();
    item.insert(
        EXPIRES_AT.into(),
        number(now_unix_seconds + ID_BLOCK_TTL_SECONDS),
    );
    keyed(id_block(tenant, base), item)
}

/// The end user an index item points at.
pub fn owner_of(item: &Item) -> Option<u64> {
    match item.get(OWNER) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

pub fn owned_by(end_user_id: u64) -> Condition {
    Condition::Equals {
        attribute: OWNER,
        value: number(end_user_id),
    }
}

pub fn at_version(version: u64) -> Condition {
    Condition::Equals {
        attribute: VERSION,
        value: number(version),
    }
}
