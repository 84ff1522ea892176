//! End user items: `T#{tenant}#EU#{endUserID}` / `PROFILE`, the whole record with its UIDs, and
//! `GSI1PK = T#{tenant}#EU`, `GSI1SK = endUserID` for the list. Every write is conditional on the
//! version it read. [`changes`] is the one transaction that moves an end user from one state to
//! the next together with its index items.

use std::collections::{BTreeMap, HashMap};

use super::item::{Kind, decode, encode, keyed, number};
use super::transaction::Transaction;
use super::{
    AttributeValue, Condition, Index, Item, Key, PageStart, Projection, StoreError, Write,
    customer_ref, id_block, match_key, owner, ticket, uid_index,
};
use crate::domain::duplicates::MatchKey;
use crate::domain::end_user::{EndUser, EndUserSummary, Revision, Tombstone};
use crate::domain::ids::IdBlock;
use crate::domain::timeline;
use crate::domain::uid::Uid;
use crate::domain::{TenantId, Timestamp};

const PROFILE: &str = "PROFILE";
const VERSION: &str = "version";

/// The end users of a tenant, by ID, with what the list searches and sorts on: the attributes
/// of [`EndUserSummary`], without the large free-text fields.
pub const BY_TENANT: Index = Index {
    name: "GSI1",
    partition_key: "GSI1PK",
    sort_key: "GSI1SK",
    projection: Projection::Include(&[
        "endUserID",
        "firstname",
        "lastname",
        "name",
        "company",
        "customerRef",
        "uids",
        "attributes",
        "createdAt",
        "updatedAt",
    ]),
};

/// The attributes [`BY_TENANT`] holds.
pub const LISTED: &[&str] = match BY_TENANT.projection {
    Projection::Include(names) => names,
    Projection::All | Projection::KeysOnly => &[],
};

pub fn key(tenant: TenantId, end_user_id: u64) -> Key {
    Key::new(format!("T#{tenant}#EU#{end_user_id}"), PROFILE)
}

/// The [`BY_TENANT`] partition of a tenant's end users.
pub fn list_partition(tenant: TenantId) -> String {
    format!("T#{tenant}#EU")
}

/// The [`BY_REFERENCE`] partition of the end user holding `reference` as its customerRef.
pub fn reference_partition(tenant: TenantId, reference: &str) -> String {
    format!("T#{tenant}#REF#{reference}")
}

/// The end user holding a customerRef, whole: an end user with one is also an entry of the
/// tickets' index (every attribute projected) under [`reference_partition`], so an upsert by
/// reference reads it in one query.
pub const BY_REFERENCE: Index = ticket::BY_END_USER;

/// Where a page of [`BY_TENANT`] after end user `id` starts (the end user need not exist).
pub fn list_start(tenant: TenantId, id: u64) -> PageStart {
    let mut item = Item::default();
    item.insert(
        BY_TENANT.partition_key.into(),
        AttributeValue::S(list_partition(tenant)),
    );
    item.insert(BY_TENANT.sort_key.into(), number(id));
    PageStart::after(
        &keyed(Kind::EndUser, key(tenant, id), item),
        Some(&BY_TENANT),
    )
}

pub fn to_item(tenant: TenantId, user: &EndUser) -> Result<Item, StoreError> {
    let mut item = encode(user)?;
    item.insert(
        BY_TENANT.partition_key.into(),
        AttributeValue::S(list_partition(tenant)),
    );
    item.insert(BY_TENANT.sort_key.into(), number(user.id));
    if let Some(reference) = &user.customer_ref {
        let partition = reference_partition(tenant, reference);
        item.insert(
            BY_REFERENCE.partition_key.into(),
            AttributeValue::S(partition),
        );
        item.insert(BY_REFERENCE.sort_key.into(), number(0));
    }
    if user.anonymized_at.is_none() {
        let name_and_company = MatchKey::name_and_company(user);
        match_key::file(&mut item, &match_key::attributes(tenant, &name_and_company));
    }
    Ok(keyed(Kind::EndUser, key(tenant, user.id), item))
}

pub fn from_item(item: Item) -> Result<EndUser, StoreError> {
    decode(item)
}

/// What an end user's record is: the end user, or the tombstone a merge left.
#[derive(Debug)]
pub enum Profile {
    Live(Box<EndUser>),
    Merged(Tombstone),
}

pub fn profile_from_item(item: Item) -> Result<Profile, StoreError> {
    match Kind::of(&item) {
        Some(Kind::Tombstone) => decode(item).map(Profile::Merged),
        _ => decode(item).map(|user| Profile::Live(Box::new(user))),
    }
}

/// The end user of a record, `None` for a tombstone.
pub fn live_from_item(item: Item) -> Result<Option<EndUser>, StoreError> {
    Ok(match profile_from_item(item)? {
        Profile::Live(user) => Some(*user),
        Profile::Merged(_) => None,
    })
}

/// A merged end user's record: its tombstone, on no index.
pub fn tombstone_item(tenant: TenantId, tombstone: &Tombstone) -> Result<Item, StoreError> {
    Ok(keyed(
        Kind::Tombstone,
        key(tenant, tombstone.id),
        encode(tombstone)?,
    ))
}

/// An end user as [`BY_TENANT`] projects it.
pub fn summary_from_item(item: Item) -> Result<EndUserSummary, StoreError> {
    decode(item)
}

pub fn at_version(version: u64) -> Condition {
    Condition::Equals {
        attribute: VERSION,
        value: number(version),
    }
}

/// The transaction that moves an end user's items from `before` to `after`: `before: None`
/// creates, `after: None` deletes. `block` is the ID block the change used IDs of, whose guard
/// is claimed when it needs one (a new end user's own record proves its block); `paths` names
/// the request field behind each new UID value (for a 409 that names it).
pub fn changes(
    tenant: TenantId,
    before: Option<&EndUser>,
    after: Option<&EndUser>,
    block: Option<&IdBlock>,
    paths: &HashMap<Uid, String>,
    now: Timestamp,
) -> Result<Transaction, StoreError> {
    let end_user_id = after.or(before).map_or(0, |u| u.id);
    let mut tx = Transaction::new();
    if let Some(block) = block.filter(|b| b.needs_guard()) {
        tx.push(id_block::claim(tenant, block, now));
    }
    let condition = match before {
        Some(user) => at_version(user.version),
        None => Condition::NotExists,
    };
    let record = match after {
        Some(user) => Write::Put {
            item: to_item(tenant, user)?,
            condition: Some(condition),
        },
        None => Write::Delete {
            key: key(tenant, end_user_id),
            condition: Some(condition),
        },
    };
    tx.push(record);

    let old = index_entries(tenant, before, paths);
    let new = index_entries(tenant, after, paths);
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        let release = Write::Delete {
            key: key.clone(),
            condition: Some(owner::held_by(end_user_id)),
        };
        tx.push(release);
    }
    tx.push_all(restamps(&old, &new, end_user_id));
    for (key, entry) in new.into_iter().filter(|(k, _)| !old.contains_key(k)) {
        let claim = Write::Put {
            item: entry.item(key, end_user_id),
            condition: Some(Condition::NotExists),
        };
        tx.claim(claim, end_user_id, entry.path);
    }
    // What the change records on the end user's timeline (a deletion records nothing: a deleted
    // end user's timeline is read no more).
    for record in after.map_or_else(Vec::new, |a| timeline::of_end_user(before, a, now)) {
        tx.push(super::timeline::put(tenant, &record)?);
    }
    Ok(tx)
}

/// The transaction that stores a new end user, `revision` of the one `block` it took its IDs
/// from, with its index items.
pub fn created(
    tenant: TenantId,
    revision: &Revision,
    block: &IdBlock,
    now: Timestamp,
) -> Result<Transaction, StoreError> {
    changes(
        tenant,
        None,
        Some(&revision.user),
        Some(block),
        &revision.uid_paths,
        now,
    )
}

/// An index item an end user holds.
pub(super) struct Entry {
    kind: Kind,
    /// The request field that brings its value in (for a 409 that names it).
    path: String,
    /// The match keys it files (SPEC 9 duplicate candidates), as index attributes.
    matches: Vec<(&'static str, AttributeValue)>,
}

impl Entry {
    /// The item under `key`, held by `owner`.
    pub(super) fn item(&self, key: Key, owner: u64) -> Item {
        let mut item = owner::item(self.kind, key, owner);
        match_key::file(&mut item, &self.matches);
        item
    }
}

/// The index items an end user holds (its UID values and customerRef), each with its kind, the
/// request field path that brings it in and its match keys.
pub(super) fn index_entries(
    tenant: TenantId,
    user: Option<&EndUser>,
    paths: &HashMap<Uid, String>,
) -> BTreeMap<Key, Entry> {
    let Some(user) = user else {
        return BTreeMap::new();
    };
    let uids = user.uids.iter().map(|u| {
        let uid = u.as_uid();
        let keys = [
            MatchKey::of_uid(&uid),
            MatchKey::name_and_domain(user, &uid),
        ];
        let entry = Entry {
            kind: Kind::UidIndex,
            path: paths.get(&uid).cloned().unwrap_or_else(|| "uids".into()),
            matches: match_key::attributes(tenant, keys.iter().flatten()),
        };
        (uid_index::key(tenant, &uid), entry)
    });
    let reference = user.customer_ref.iter().map(|r| {
        let entry = Entry {
            kind: Kind::CustomerRef,
            path: "customerRef".to_string(),
            matches: match_key::attributes(tenant, &MatchKey::of_reference(r)),
        };
        (customer_ref::key(tenant, r), entry)
    });
    uids.chain(reference).collect()
}

/// The index items `end_user_id` keeps from `old` to `new` whose match keys changed (a new name
/// changes the name and domain keys), written again while it holds them.
pub(super) fn restamps(
    old: &BTreeMap<Key, Entry>,
    new: &BTreeMap<Key, Entry>,
    end_user_id: u64,
) -> Vec<Write> {
    new.iter()
        .filter(|(key, entry)| {
            old.get(*key)
                .is_some_and(|was| was.matches != entry.matches)
        })
        .map(|(key, entry)| Write::Put {
            item: entry.item(key.clone(), end_user_id),
            condition: Some(owner::held_by(end_user_id)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> EndUser {
        serde_json::from_value(serde_json::json!({
            "endUserID": 1000, "firstname": "Jane", "lastname": "Doe", "customerRef": "ERP-1",
            "company": "Acme", "customerType": "Customer", "aiDocumentation": "long notes",
            "uids": [{"endUserUIDID": 1001, "uidType": "Email", "uid": "jane@example.com", "isPrimary": true}],
            "attributes": {"plan": "gold", "seats": 3},
            "createdAt": "2026-11-22T10:15:30Z", "updatedAt": "2026-11-22T10:15:30Z", "version": 3
        }))
        .expect("an end user")
    }

    #[test]
    fn the_list_projection_carries_the_whole_summary() {
        let tenant = TenantId::new(1).expect("tenant");
        let item = to_item(tenant, &user()).expect("encode");
        let mut projected = Item::default();
        for name in LISTED {
            if let Some(value) = item.get(*name) {
                projected.insert((*name).to_owned(), value.clone());
            }
        }
        let summary = summary_from_item(projected).expect("a summary from the projection");
        let full: EndUserSummary =
            serde_json::from_value(serde_json::to_value(user()).expect("json")).expect("summary");
        assert_eq!(summary, full);
    }

    #[test]
    fn a_new_name_files_the_e_mails_again_and_nothing_else() {
        let tenant = TenantId::new(1).expect("tenant");
        let mut renamed = user();
        renamed.name = Some("Jane Smith".into());
        renamed.version += 1;
        let tx = changes(
            tenant,
            Some(&user()),
            Some(&renamed),
            None,
            &HashMap::new(),
            Timestamp::now(),
        )
        .expect("tx");
        let email = uid_index::key(tenant, &user().uids[0].as_uid());
        let rewritten: Vec<&Write> = tx
            .writes
            .iter()
            .filter(|w| w.key() == Some(email.clone()))
            .collect();
        assert_eq!(rewritten.len(), 1, "{:?}", tx.writes);
        let Write::Put { item, condition } = rewritten[0] else {
            panic!("a put: {rewritten:?}");
        };
        assert_eq!(condition, &Some(owner::held_by(1000)));
        assert_eq!(
            item.get(match_key::NAME_MATCHES.partition_key),
            Some(&AttributeValue::S(
                "T#1#MK#nameDomain:jane smith\nexample.com".into()
            ))
        );
        let reference = customer_ref::key(tenant, "ERP-1");
        assert!(tx.writes.iter().all(|w| w.key() != Some(reference.clone())));
        let record = to_item(tenant, &renamed).expect("record");
        assert_eq!(
            record.get(match_key::MATCHES.partition_key),
            Some(&AttributeValue::S(
                "T#1#MK#nameCompany:jane smith\nacme".into()
            ))
        );
    }

    #[test]
    fn a_delete_releases_every_index_item_of_its_holder() {
        let tenant = TenantId::new(1).expect("tenant");
        let tx = changes(
            tenant,
            Some(&user()),
            None,
            None,
            &HashMap::new(),
            Timestamp::now(),
        )
        .expect("tx");
        let deleted: Vec<Key> = tx
            .writes
            .iter()
            .filter(|w| matches!(w, Write::Delete { .. }))
            .filter_map(Write::key)
            .collect();
        assert_eq!(deleted.len(), 3, "{deleted:?}");
        assert!(deleted.contains(&key(tenant, 1000)));
        assert!(deleted.contains(&customer_ref::key(tenant, "ERP-1")));
    }
}
