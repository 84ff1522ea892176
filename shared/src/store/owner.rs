//! The layout the index items share (UID index, customerRef index): a pointer to the end user
//! that holds the value, which only that end user's writes may remove.

use super::item::{Kind, keyed, number};
use super::{AttributeValue, Condition, Item, Key, Write};

/// The attribute naming the holder.
const OWNER: &str = "endUserID";

/// An index item of `kind` under `key` held by end user `owner`.
pub fn item(kind: Kind, key: Key, owner: u64) -> Item {
    let mut item = Item::default();
    item.insert(OWNER.into(), number(owner));
    keyed(kind, key, item)
}

/// The end user an index item points at.
pub fn of(item: &Item) -> Option<u64> {
    match item.get(OWNER) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// The item is held by `end_user_id`.
pub fn held_by(end_user_id: u64) -> Condition {
    Condition::Equals {
        attribute: OWNER,
        value: number(end_user_id),
    }
}

/// An index item (`item`, naming its new holder) passed from end user `from` to another (a merge
/// or its undo): only while `from` holds it.
pub fn handover(item: Item, from: u64) -> Write {
    Write::Put {
        item,
        condition: Some(held_by(from)),
    }
}
