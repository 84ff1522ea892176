//! The duplicate candidates' indexes (SPEC 9). Match keys are no items of their own: the items
//! that already stand for what a key is made of carry it as an index key, written in the same
//! transaction as the change, so a key is never left behind by its end user.
//!
//! - `GSI4` ([`MATCHES`]): a UID index item's key (phone, e-mail, external id), a customerRef
//!   index item's (external id), an end user's record's (name and company);
//! - `GSI5` ([`NAME_MATCHES`]): an e-mail UID index item's name and domain key (an item carries
//!   one key per index, and that item already has its address key on `GSI4`).
//!
//! Both: `GSI{n}PK = T#{tenant}#MK#{token}`, sorted by the holder's `endUserID`, keys only. A
//! merged end user's tombstone and an anonymized end user carry none.

use super::{AttributeValue, Index, Item, Projection};
use crate::domain::TenantId;
use crate::domain::duplicates::{MatchKey, Reason};

/// The attribute both indexes sort on: the holder's ID, on index items and records alike.
const HOLDER: &str = "endUserID";

pub const MATCHES: Index = Index {
    name: "GSI4",
    partition_key: "GSI4PK",
    sort_key: HOLDER,
    projection: Projection::KeysOnly,
};

pub const NAME_MATCHES: Index = Index {
    name: "GSI5",
    partition_key: "GSI5PK",
    sort_key: HOLDER,
    projection: Projection::KeysOnly,
};

/// The index a key is filed on.
pub fn index_of(key: &MatchKey) -> &'static Index {
    match key.reason() {
        Reason::SameNameAndEmailDomain => &NAME_MATCHES,
        _ => &MATCHES,
    }
}

/// The partition of `key` in its index.
pub fn partition(tenant: TenantId, key: &MatchKey) -> String {
    format!("T#{tenant}#MK#{}", key.token())
}

/// The index attributes that file an item under `keys` (each on its own index).
pub fn attributes<'k>(
    tenant: TenantId,
    keys: impl IntoIterator<Item = &'k MatchKey>,
) -> Vec<(&'static str, AttributeValue)> {
    keys.into_iter()
        .map(|key| {
            let value = AttributeValue::S(partition(tenant, key));
            (index_of(key).partition_key, value)
        })
        .collect()
}

/// Adds `attributes` to `item`.
pub fn file(item: &mut Item, attributes: &[(&'static str, AttributeValue)]) {
    for (name, value) in attributes {
        item.insert((*name).to_owned(), value.clone());
    }
}
