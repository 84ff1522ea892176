//! Dismissed duplicate pairs (SPEC 9): `T#{tenant}#EU#{endUserID}` / `PROFILE#DISMISSED#{otherID}`
//! in both end users' partitions, so that the one query of an end user's record
//! ([`record_and_dismissals`]) also reads whom it is not the same person as.

use super::end_user;
use super::item::{Kind, keyed, number};
use super::{Item, Key, Query, Write};
use crate::domain::TenantId;

const PREFIX: &str = "PROFILE#DISMISSED#";
const OTHER: &str = "otherEndUserID";

pub fn key(tenant: TenantId, end_user_id: u64, other_id: u64) -> Key {
    let partition = end_user::key(tenant, end_user_id).pk;
    Key::new(partition, format!("{PREFIX}{other_id}"))
}

/// The query of an end user's record (`PROFILE`) and its dismissals, which sort after it.
pub fn record_and_dismissals(partition: &str) -> Query<'_> {
    Query::table(partition, "PROFILE")
}

/// The writes that record `a` and `b` as not the same person, whichever way round it was asked.
pub fn dismissed(tenant: TenantId, a: u64, b: u64) -> [Write; 2] {
    [(a, b), (b, a)].map(|(own, other)| {
        let mut item = Item::default();
        item.insert(OTHER.into(), number(other));
        Write::Put {
            item: keyed(Kind::Dismissal, key(tenant, own, other), item),
            condition: None,
        }
    })
}

/// The other end user a dismissal names.
pub fn other_of(item: &Item) -> Option<u64> {
    match item.get(OTHER) {
        Some(super::AttributeValue::N(n)) if Kind::of(item) == Some(Kind::Dismissal) => {
            n.parse().ok()
        }
        _ => None,
    }
}

/// Only while end user `id`'s record is at `version`: neither end user changed kind (merged,
/// deleted) since it was read.
pub fn while_at(tenant: TenantId, id: u64, version: u64) -> Write {
    Write::Check {
        key: end_user::key(tenant, id),
        condition: end_user::at_version(version),
    }
}
