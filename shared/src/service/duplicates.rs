//! Duplicate candidates (SPEC 9): `GET /api/EndUsers/{id}/duplicates` reads the end user's record
//! with its dismissals in one query, then each of its match keys' index partitions at once;
//! `POST .../duplicates/{otherID}/dismiss` records a pair as two people; and the writes that give
//! an end user new match keys announce `EndUserDuplicateSuspected` for each pair they make likely.

use std::collections::{BTreeSet, HashSet};

use futures_util::future::try_join_all;
use serde::Serialize;

use super::end_users::{live, profile_in};
use super::suppression;
use super::unit_of_work::{self, Exhausted, Step};
use crate::domain::change::{self, Change};
use crate::domain::duplicates::{self, Candidate, MatchKey, Reason, keys_of};
use crate::domain::end_user::EndUser;
use crate::domain::errors::FieldErrors;
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::{
    self, Key, MAX_BATCH_GET, Query, Table, Transaction, Write, dismissal, end_user, match_key,
    owner,
};
use crate::vault::suppression::Suppressions;

/// The holders read of one key: a key many end users share (a common name at a large company)
/// counts for its first ones by ID only.
pub const HOLDERS_PER_KEY: usize = 100;

/// The score from which a write announces a suspected duplicate.
pub const SUSPECTED_FROM: f64 = 0.8;

/// The answer of `GET /api/EndUsers/{id}/duplicates`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Duplicates {
    pub items: Vec<Candidate>,
}

/// The candidates of end user `id`: 404 when unknown, 410 when merged.
pub async fn candidates(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
) -> Result<Duplicates, ApiError> {
    let profile = end_user::key(tenant, id);
    let query = dismissal::record_and_dismissals(&profile.pk);
    let items = store::every_item(table, &query).await?;
    let user = live(profile_in(&items, &profile, id)?)?;
    let dismissed: HashSet<u64> = items.iter().filter_map(dismissal::other_of).collect();
    let keys = keys_of(&user);
    let found = holders(table, tenant, &keys).await?;
    let found = found.into_iter().map(|(id, key)| (id, key.reason()));
    Ok(Duplicates {
        items: duplicates::rank(user.id, found, &dismissed),
    })
}

/// The end users holding each of `keys` (one index query per key, all at once), with the key.
async fn holders<'k>(
    table: &dyn Table,
    tenant: TenantId,
    keys: &'k BTreeSet<MatchKey>,
) -> Result<Vec<(u64, &'k MatchKey)>, ApiError> {
    let reads = keys.iter().map(|key| async move {
        let partition = match_key::partition(tenant, key);
        let query = Query::index(match_key::index_of(key), &partition);
        let entries = store::first_items(table, &query, None, HOLDERS_PER_KEY).await?;
        Ok::<_, ApiError>(
            entries
                .iter()
                .filter_map(owner::of)
                .map(|holder| (holder, key))
                .collect::<Vec<_>>(),
        )
    });
    Ok(try_join_all(reads).await?.into_iter().flatten().collect())
}

/// Records that end users `id` and `other` are not the same person (both must exist, neither
/// merged): neither is a candidate of the other again.
pub async fn dismiss(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
    other: u64,
) -> Result<(), ApiError> {
    if id == other {
        let message = format!("must be another end user than {id}");
        return Err(ApiError::Validation(FieldErrors::single(
            "otherID", message,
        )));
    }
    unit_of_work::run(table, Exhausted::Conflict, |_| async {
        let keys = [end_user::key(tenant, id), end_user::key(tenant, other)];
        let items = table.batch_get(&keys).await?;
        let mut tx = Transaction::new();
        for (key, end_user_id) in keys.iter().zip([id, other]) {
            let user = live(profile_in(&items, key, end_user_id)?)?;
            tx.push(dismissal::while_at(tenant, user.id, user.version));
        }
        tx.push_all(dismissal::dismissed(tenant, id, other));
        Ok(Step::commit(tx, ()))
    })
    .await
}

/// The `EndUserDuplicateSuspected` events of a write taking an end user from `before` (as read;
/// `None`: new) to `after`. Only a pair sharing a key the write gains can become likely, so the
/// gained keys' holders are read (one index query per key that can matter, at once), then their
/// records with the pairs' dismissals (one batch): one event for each holder, live and not
/// dismissed, whose pair now scores at least [`SUSPECTED_FROM`] and did not before. A write that
/// gains no such key reads nothing.
pub(super) async fn suspected(
    table: &dyn Table,
    tenant: TenantId,
    before: Option<&EndUser>,
    after: &EndUser,
    now: Timestamp,
) -> Result<Vec<Change>, ApiError> {
    let keys = keys_of(after);
    let kept = before.map(keys_of).unwrap_or_default();
    // A name reason brings a pair to the threshold only beside an external id it shared before
    // (a phone or an e-mail shared before made it likely already; one gained finds it anyway):
    // without one kept, the gained name keys' holders need not be read.
    let names_count = kept
        .iter()
        .any(|key| key.reason() == Reason::SameExternalIgnoringCase);
    let gained: BTreeSet<MatchKey> = keys
        .difference(&kept)
        .filter(|key| names_count || !key.reason().is_name())
        .cloned()
        .collect();
    if gained.is_empty() {
        return Ok(Vec::new());
    }
    let mut others: Vec<u64> = holders(table, tenant, &gained)
        .await?
        .into_iter()
        .map(|(holder, _)| holder)
        .filter(|holder| *holder != after.id)
        .collect();
    others.sort_unstable();
    others.dedup();
    // Each holder's record and its dismissal with `after`: one batch read.
    others.truncate(MAX_BATCH_GET / 2);
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let likely = newly_likely(table, tenant, after, &others, &keys, &kept).await?;
    Ok(likely
        .into_iter()
        .map(|candidate| change::duplicate_suspected(tenant, after, candidate, now))
        .collect())
}

/// Of `others` (holders of keys `after` gains), those live, not dismissed with it, whose pair
/// scores at least [`SUSPECTED_FROM`] by `keys` (its keys now) and did not by `kept` (before):
/// their records and dismissals in one batch read.
async fn newly_likely(
    table: &dyn Table,
    tenant: TenantId,
    after: &EndUser,
    others: &[u64],
    keys: &BTreeSet<MatchKey>,
    kept: &BTreeSet<MatchKey>,
) -> Result<Vec<Candidate>, ApiError> {
    let records: Vec<Key> = others.iter().map(|id| end_user::key(tenant, *id)).collect();
    let dismissals: Vec<Key> = others
        .iter()
        .map(|id| dismissal::key(tenant, after.id, *id))
        .collect();
    let found = table
        .batch_get(&[records.as_slice(), &dismissals].concat())
        .await?;
    let mut likely = Vec::new();
    for ((id, record), dismissal) in others.iter().zip(&records).zip(&dismissals) {
        let dismissed = dismissal.find_in(&found).is_some();
        let Some(item) = record.find_in(&found).filter(|_| !dismissed) else {
            continue;
        };
        let Some(other) = end_user::live_from_item(item.clone())? else {
            continue;
        };
        let theirs = keys_of(&other);
        let shared = |ours: &BTreeSet<MatchKey>| -> BTreeSet<Reason> {
            ours.intersection(&theirs).map(MatchKey::reason).collect()
        };
        let (now_shared, shared_before) = (shared(keys), shared(kept));
        if duplicates::score(&now_shared) >= SUSPECTED_FROM
            && duplicates::score(&shared_before) < SUSPECTED_FROM
        {
            likely.push(duplicates::candidate(*id, &now_shared));
        }
    }
    Ok(likely)
}

/// What a write linking `user`'s addresses reads before its transaction, at once: the
/// suppression checks (`user` screened, SPEC 9) and the duplicates it makes likely.
pub(super) async fn screened(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    before: Option<&EndUser>,
    user: &mut EndUser,
    now: Timestamp,
) -> Result<(Vec<Write>, Vec<Change>), ApiError> {
    // Screening sets consent only, which no match key depends on.
    let after = user.clone();
    futures_util::try_join!(
        suppression::screen(table, suppressions, tenant, before, user, now),
        suspected(table, tenant, before, &after, now),
    )
}
