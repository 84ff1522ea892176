//! Merge records (`T#{tenant}#EU#{targetID}` / `MERGE#{mergeID, 16 digits}`, in the target's
//! partition, newest last) and the one transaction of a merge: the target's new version, the
//! source's tombstone, every moved index item handed over, the tombstones of end users merged
//! into the source before pointed at the target, and the record.

use std::collections::HashMap;

use super::end_user::{self, at_version, key as profile_key, tombstone_item};
use super::item::{Kind, decode, encode, keyed, number};
use super::transaction::Transaction;
use super::{Condition, Item, Key, StoreError, Write, customer_ref, owner, uid_index};
use crate::domain::end_user::{EndUser, Folded, MergeRecord, Tombstone, Unfolded};
use crate::domain::{TenantId, Timestamp};

pub const PREFIX: &str = "MERGE#";
const MERGED_INTO: &str = "mergedInto";

/// The partition of the merges into `target_id` (its end user's own).
pub fn partition(tenant: TenantId, target_id: u64) -> String {
    profile_key(tenant, target_id).pk
}

pub fn key(tenant: TenantId, target_id: u64, merge_id: u64) -> Key {
    Key::new(
        partition(tenant, target_id),
        format!("{PREFIX}{merge_id:016}"),
    )
}

pub fn to_item(tenant: TenantId, record: &MergeRecord) -> Result<Item, StoreError> {
    let key = key(tenant, record.target_id, record.merge_id);
    Ok(keyed(Kind::Merge, key, encode(record)?))
}

pub fn from_item(item: Item) -> Result<MergeRecord, StoreError> {
    decode(item)
}

/// The index items `moved` names (its UIDs and a moved customerRef) passed from `from` to
/// `receiver`, filed under the match keys it gives them.
fn hand_over(
    tx: &mut Transaction,
    tenant: TenantId,
    moved: &MergeRecord,
    from: u64,
    receiver: &EndUser,
) {
    let entries = end_user::index_entries(tenant, Some(receiver), &HashMap::new());
    let uids = moved
        .moved_uids
        .iter()
        .map(|uid| (Kind::UidIndex, uid_index::key(tenant, &uid.as_uid())));
    let reference = moved
        .moved_fields
        .get("customerRef")
        .map(|reference| (Kind::CustomerRef, customer_ref::key(tenant, reference)));
    for (kind, key) in uids.chain(reference) {
        let item = match entries.get(&key) {
            Some(entry) => entry.item(key, receiver.id),
            None => owner::item(kind, key, receiver.id),
        };
        tx.push(owner::handover(item, from));
    }
}

/// The index items `before` keeps as `after` whose match keys changed (a name a merge brought).
fn restamp(tx: &mut Transaction, tenant: TenantId, before: &EndUser, after: &EndUser) {
    let old = end_user::index_entries(tenant, Some(before), &HashMap::new());
    let new = end_user::index_entries(tenant, Some(after), &HashMap::new());
    tx.push_all(end_user::restamps(&old, &new, after.id));
}

/// The tombstones of `ids`, pointing at `from`, pointed at `to`.
fn repoint(tx: &mut Transaction, tenant: TenantId, ids: &[u64], from: u64, to: u64) {
    for id in ids {
        tx.push(Write::Update {
            key: profile_key(tenant, *id),
            set: vec![(MERGED_INTO, number(to))],
            add: Vec::new(),
            remove: Vec::new(),
            condition: Some(Condition::Equals {
                attribute: MERGED_INTO,
                value: number(from),
            }),
        });
    }
}

/// The transaction of a merge of `source` into `target` (both as read) that `folded` planned.
pub fn merged(
    tenant: TenantId,
    target: &EndUser,
    source: &EndUser,
    folded: &Folded,
    now: Timestamp,
) -> Result<Transaction, StoreError> {
    let record = &folded.record;
    let mut tx = Transaction::new();
    tx.push(Write::Put {
        item: end_user::to_item(tenant, &folded.target)?,
        condition: Some(at_version(target.version)),
    });
    let tombstone = Tombstone {
        id: source.id,
        merged_into: target.id,
        merge_id: record.merge_id,
        merged_at: now,
        version: source.version + 1,
    };
    tx.push(Write::Put {
        item: tombstone_item(tenant, &tombstone)?,
        condition: Some(at_version(source.version)),
    });
    hand_over(&mut tx, tenant, record, source.id, &folded.target);
    restamp(&mut tx, tenant, target, &folded.target);
    repoint(&mut tx, tenant, &record.repointed, source.id, target.id);
    tx.push(Write::Put {
        item: to_item(tenant, record)?,
        condition: Some(Condition::NotExists),
    });
    Ok(tx)
}

/// The transaction of the undo of `record` (as read) that `unfolded` planned: both end users'
/// records (the target at the version read, the tombstone at its own), every moved index item
/// handed back, the end users merged into the source before pointed back at it, and the record
/// marked undone without the values it held.
pub fn undone(
    tenant: TenantId,
    target: &EndUser,
    tombstone_version: u64,
    record: &MergeRecord,
    unfolded: &Unfolded,
    by: Option<&str>,
    now: Timestamp,
) -> Result<Transaction, StoreError> {
    let mut tx = Transaction::new();
    tx.push(Write::Put {
        item: end_user::to_item(tenant, &unfolded.target)?,
        condition: Some(at_version(target.version)),
    });
    tx.push(Write::Put {
        item: end_user::to_item(tenant, &unfolded.source)?,
        condition: Some(at_version(tombstone_version)),
    });
    hand_over(&mut tx, tenant, record, target.id, &unfolded.source);
    restamp(&mut tx, tenant, target, &unfolded.target);
    repoint(
        &mut tx,
        tenant,
        &record.repointed,
        target.id,
        record.source_id,
    );
    let mut closed = record.clone();
    closed.erase_values();
    closed.undone_at = Some(now);
    closed.undone_by = by.map(str::to_owned);
    tx.push(Write::Put {
        item: to_item(tenant, &closed)?,
        condition: Some(Condition::Exists),
    });
    Ok(tx)
}

/// What the merges into `target` left, removed with it: the tombstones of the end users merged
/// into it (each still pointing at it) and `records`.
pub fn forgotten(tenant: TenantId, target: &EndUser, records: &[MergeRecord]) -> Vec<Write> {
    let tombstones = target.merged_from.iter().map(|id| Write::Delete {
        key: profile_key(tenant, *id),
        condition: Some(Condition::Equals {
            attribute: MERGED_INTO,
            value: number(target.id),
        }),
    });
    let records = records.iter().map(|record| Write::Delete {
        key: key(tenant, record.target_id, record.merge_id),
        condition: None,
    });
    tombstones.chain(records).collect()
}
