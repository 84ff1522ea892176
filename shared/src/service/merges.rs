//! Merge, the merges list and undo (SPEC 7). A merge reads both end users in one batch and
//! commits one transaction; an undo reads the target with the record, then the tombstone, and
//! commits one transaction. Both end users' versions and every handed-over index item are
//! conditions, so concurrent merges and undos of the same end users serialize.

use super::end_users::{live, load, load_profile, one_transaction, profile_in};
use super::unit_of_work::{self, Exhausted, Record, Step};
use crate::domain::change::{self, ChangeKind};
use crate::domain::end_user::{self, EndUser, MergeRecord, Unfolded};
use crate::domain::errors::FieldErrors;
use crate::domain::ids::IdBlock;
use crate::domain::precondition::Preconditions;
use crate::domain::timeline;
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::end_user::Profile;
use crate::store::timeline as records;
use crate::store::{self, Query, Table};

/// A merge as it answers: the target after it and the merge's ID.
#[derive(Debug)]
pub struct Merged {
    pub target: EndUser,
    pub merge_id: u64,
}

fn cannot(detail: &str, errors: FieldErrors) -> ApiError {
    ApiError::Conflict {
        detail: detail.into(),
        errors,
        holder: None,
    }
}

/// Folds end user `source_id` into `target_id`, when `pre` holds of the target.
pub async fn merge(
    table: &dyn Table,
    tenant: TenantId,
    target_id: u64,
    source_id: u64,
    by: Option<&str>,
    pre: &Preconditions,
    record: Option<&dyn Record<Merged>>,
) -> Result<Merged, ApiError> {
    if target_id == source_id {
        return Err(ApiError::Validation(FieldErrors::single(
            "sourceEndUserID",
            "an end user cannot be merged into itself",
        )));
    }
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| async {
        let keys = [
            store::end_user::key(tenant, target_id),
            store::end_user::key(tenant, source_id),
        ];
        let found = table.batch_get(&keys).await?;
        let target = live(profile_in(&found, &keys[0], target_id)?)?;
        pre.allow_write(Some(target.version))?;
        let source = live(profile_in(&found, &keys[1], source_id)?)?;
        if target.is_anonymized() || source.is_anonymized() {
            let errors =
                FieldErrors::single("sourceEndUserID", "an anonymized end user is not merged");
            return Err(cannot("the end users cannot be merged", errors));
        }
        let now = Timestamp::now();
        let merge_id = IdBlock::for_new_end_user().base();
        let folded = end_user::fold(&target, &source, merge_id, by.map(str::to_owned), now)
            .map_err(|errors| cannot("the end users cannot be merged", errors))?;
        let mut tx = store::merge::merged(tenant, &target, &source, &folded, now)?;
        let entry = timeline::merge(target_id, source_id, merge_id, false, now);
        tx.push(records::put(tenant, &entry)?);
        let tx = one_transaction(tx)?;
        let changes = vec![change::of_merge(
            ChangeKind::EndUserMerged,
            tenant,
            &folded.target,
            source_id,
            merge_id,
            now,
        )];
        let merged = Merged {
            target: folded.target,
            merge_id,
        };
        Ok(Step::announce(tx, merged, changes, now))
    })
    .await
}

/// The merges into end user `id`, newest first: its record and its merge records, read
/// together.
pub async fn list(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
) -> Result<Vec<MergeRecord>, ApiError> {
    let partition = store::merge::partition(tenant, id);
    let query = Query::table(&partition, store::merge::PREFIX).descending();
    let (user, records) = tokio::join!(load(table, tenant, id), store::every_item(table, &query));
    user?;
    let records = records?.into_iter().map(store::merge::from_item);
    Ok(records.collect::<Result<Vec<_>, _>>()?)
}

/// Undoes merge `merge_id` into `target_id`: both end users as the undo leaves them.
pub async fn undo(
    table: &dyn Table,
    tenant: TenantId,
    target_id: u64,
    merge_id: u64,
    by: Option<&str>,
    record: Option<&dyn Record<Unfolded>>,
) -> Result<Unfolded, ApiError> {
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| async {
        let keys = [
            store::end_user::key(tenant, target_id),
            store::merge::key(tenant, target_id, merge_id),
        ];
        let found = table.batch_get(&keys).await?;
        let target = live(profile_in(&found, &keys[0], target_id)?)?;
        let record = keys[1]
            .find_in(&found)
            .cloned()
            .map(store::merge::from_item)
            .transpose()?
            .ok_or_else(|| {
                ApiError::NotFound(format!("no merge {merge_id} into end user {target_id}"))
            })?;
        let now = Timestamp::now();
        if target.is_anonymized() {
            let errors = FieldErrors::single("mergeID", "the end user was anonymized since");
            return Err(cannot("the merge cannot be undone", errors));
        }
        if record.undone_at.is_some() {
            let errors = FieldErrors::single("mergeID", "this merge was undone already");
            return Err(cannot("the merge was undone already", errors));
        }
        if !record.within_undo_window(now) {
            let errors = FieldErrors::single("mergeID", "a merge can be undone for 30 days");
            return Err(cannot("the merge is too old to be undone", errors));
        }
        let tombstone = match load_profile(table, tenant, record.source_id).await? {
            Profile::Merged(t) if t.merge_id == merge_id && t.merged_into == target_id => t,
            _ => {
                let errors = FieldErrors::single("mergeID", "the source is no longer this merge's");
                return Err(cannot("the merge cannot be undone", errors));
            }
        };
        let unfolded = end_user::unfold(&target, &record, tombstone.version, now)
            .map_err(|errors| cannot("values the merge moved changed since", errors))?;
        let mut tx = store::merge::undone(
            tenant,
            &target,
            tombstone.version,
            &record,
            &unfolded,
            by,
            now,
        )?;
        let source = record.source_id;
        let entry = timeline::merge(target_id, source, merge_id, true, now);
        tx.push(records::put(tenant, &entry)?);
        let tx = one_transaction(tx)?;
        let changes = vec![change::of_merge(
            ChangeKind::EndUserUnmerged,
            tenant,
            &unfolded.target,
            source,
            merge_id,
            now,
        )];
        Ok(Step::announce(tx, unfolded, changes, now))
    })
    .await
}
