//! ID block guards: `T#{tenant}#IDB#{block base}` / `IDB`. A write that hands out IDs of a block
//! creates its guard (`attribute_not_exists`) in the same transaction, so no two writes of a tenant
//! use one block (see `domain::ids`). DynamoDB's TTL removes a guard after a day, when its
//! millisecond can no longer be drawn.

use super::item::{Kind, keyed, number};
use super::{Condition, EXPIRES_AT, Item, Key, Write};
use crate::domain::ids::IdBlock;
use crate::domain::{TenantId, Timestamp};

const TTL_SECONDS: i64 = 24 * 60 * 60;

pub fn key(tenant: TenantId, base: u64) -> Key {
    Key::new(format!("T#{tenant}#IDB#{base}"), "IDB")
}

/// Creates the guard of `block`; fails when another write holds it.
pub fn claim(tenant: TenantId, block: &IdBlock, now: Timestamp) -> Write {
    let mut item = Item::default();
    item.insert(EXPIRES_AT.into(), number(now.unix_seconds() + TTL_SECONDS));
    Write::Put {
        item: keyed(Kind::IdBlock, key(tenant, block.base()), item),
        condition: Some(Condition::NotExists),
    }
}
