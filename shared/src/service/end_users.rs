//! End users: create, read, update, delete, list and resolve by UID or customerRef.

use std::collections::{BTreeSet, HashMap};

use super::unit_of_work::{self, Exhausted, Record, Step};
use super::{duplicates, suppression};
use crate::domain::change;
use crate::domain::end_user::{
    self, EndUser, EndUserBody, EndUserView, ListQuery, MergeRecord, select_page,
};
use crate::domain::errors::FieldErrors;
use crate::domain::fields::CountryCode;
use crate::domain::ids::IdBlock;
use crate::domain::page::{Page, SortOrder};
use crate::domain::precondition::Preconditions;
use crate::domain::uid::Uid;
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::end_user::Profile;
use crate::store::erasure::ErasureJob;
use crate::store::{
    self, Key, Kind, MAX_BATCH_GET, MAX_PLANNED_WRITES, Query, Table, Transaction, customer_ref,
    owner, uid_index,
};
use crate::vault::suppression::Suppressions;

/// Timeline records a deletion removes itself; a longer timeline is removed in the background.
const REMOVED_IN_REQUEST: usize = 25;

/// Reads one end user of the tenant; 404 when it does not exist.
pub(super) async fn load(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
) -> Result<EndUser, ApiError> {
    live(load_profile(table, tenant, id).await?)
}

/// Reads one end user's record of the tenant, live or a tombstone; 404 when there is none.
pub(super) async fn load_profile(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
) -> Result<Profile, ApiError> {
    match table.get(&store::end_user::key(tenant, id)).await? {
        Some(item) => Ok(store::end_user::profile_from_item(item)?),
        None => Err(ApiError::NotFound(format!("end user {id} not found"))),
    }
}

/// The end user holding customerRef `reference`, from its index item (strongly consistent).
pub(super) async fn reference_holder(
    table: &dyn Table,
    tenant: TenantId,
    reference: &str,
) -> Result<Option<u64>, ApiError> {
    let index = table.get(&customer_ref::key(tenant, reference)).await?;
    Ok(index.as_ref().and_then(owner::of))
}

/// The profile of `key` among `items` (a batch or a partition read): 404 when missing.
pub(super) fn profile_in(items: &[store::Item], key: &Key, id: u64) -> Result<Profile, ApiError> {
    let item = key
        .find_in(items)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("end user {id} not found")))?;
    Ok(store::end_user::profile_from_item(item)?)
}

/// The end user of a record; a merged one's tombstone is a 410 naming where it went.
pub(super) fn live(profile: Profile) -> Result<EndUser, ApiError> {
    match profile {
        Profile::Live(user) => Ok(*user),
        Profile::Merged(tombstone) => Err(ApiError::Gone {
            id: tombstone.id,
            merged_into: tombstone.merged_into,
        }),
    }
}

/// What an end user's partition holds besides its open-ticket guards: the record, its ticket
/// count and the merge records into it that still hold values.
pub(super) struct Partition {
    pub user: EndUser,
    pub tickets: u64,
    pub merges: Vec<MergeRecord>,
}

/// The end user's partition, in one consistent query; 404 without a record, 410 for a
/// tombstone.
pub(super) async fn read_partition(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
) -> Result<Partition, ApiError> {
    let profile = store::end_user::key(tenant, id);
    let items = store::every_item(table, &Query::table(&profile.pk, "")).await?;
    let user = live(profile_in(&items, &profile, id)?)?;
    let count = store::ticket::count_key(tenant, id);
    let tickets = count
        .find_in(&items)
        .map_or(0, store::ticket::tickets_counted);
    let merges = items
        .into_iter()
        .filter(|item| Kind::of(item) == Some(Kind::Merge))
        .map(store::merge::from_item)
        .collect::<Result<Vec<_>, _>>()?;
    let merges = merges.into_iter().filter(|m| m.source.is_some()).collect();
    Ok(Partition {
        user,
        tickets,
        merges,
    })
}

/// `tx` when it fits in one transaction; a 400 asking to split the request otherwise.
pub(super) fn one_transaction(tx: Transaction) -> Result<Transaction, ApiError> {
    if tx.writes.len() > MAX_PLANNED_WRITES {
        return Err(ApiError::Validation(FieldErrors::single(
            "uids",
            format!(
                "this request changes too many UIDs at once ({} writes, at most {MAX_PLANNED_WRITES}); split it",
                tx.writes.len()
            ),
        )));
    }
    Ok(tx)
}

pub async fn get(table: &dyn Table, tenant: TenantId, id: u64) -> Result<EndUser, ApiError> {
    load(table, tenant, id).await
}

/// Creates an end user from `body`, completing `record` with it.
pub async fn create(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    body: &EndUserBody,
    record: Option<&dyn Record<EndUser>>,
) -> Result<EndUser, ApiError> {
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| async {
        let now = Timestamp::now();
        let mut block = IdBlock::for_new_end_user();
        let mut revision = end_user::create(body, &mut block, now)?;
        let new = &mut revision.user;
        let (checks, suspected) =
            duplicates::screened(table, suppressions, tenant, None, new, now).await?;
        let mut tx = store::end_user::created(tenant, &revision, &block, now)?;
        tx.push_all(checks);
        let mut changes = change::of_end_user(tenant, None, Some(&revision.user), now);
        changes.extend(suspected);
        Ok(Step::announce(
            one_transaction(tx)?,
            revision.user,
            changes,
            now,
        ))
    })
    .await
}

/// Applies `body` to end user `id` when `pre` holds of it, completing `record` with it.
pub async fn update(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    id: u64,
    body: &EndUserBody,
    pre: &Preconditions,
    record: Option<&dyn Record<EndUser>>,
) -> Result<EndUser, ApiError> {
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| async {
        let current = load(table, tenant, id).await?;
        pre.allow_write(Some(current.version))?;
        updated(table, suppressions, tenant, current, body, |user| user).await
    })
    .await
}

/// The step that applies `body` to `current`, answering `answer(the end user)`: nothing to
/// write when nothing changes.
pub(super) async fn updated<T>(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    current: EndUser,
    body: &EndUserBody,
    answer: impl FnOnce(EndUser) -> T,
) -> Result<Step<T>, ApiError> {
    let now = Timestamp::now();
    let mut block = IdBlock::for_existing_end_user();
    let revision = end_user::update(&current, body, &mut block, now)?;
    let revised = Revised {
        revision,
        block: &block,
        now,
    };
    write_revision(table, suppressions, tenant, current, revised, answer).await
}

/// A validated change of an end user, made at `now`, its new UIDs' IDs from `block`.
pub(super) struct Revised<'a> {
    pub revision: end_user::Revision,
    pub block: &'a IdBlock,
    pub now: Timestamp,
}

/// The step that writes `revised` of `current`, answering `answer(the end user)`: nothing to
/// write when it changes nothing.
pub(super) async fn write_revision<T>(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    current: EndUser,
    revised: Revised<'_>,
    answer: impl FnOnce(EndUser) -> T,
) -> Result<Step<T>, ApiError> {
    let Revised {
        mut revision,
        block,
        now,
    } = revised;
    if revision.user == current {
        return Ok(Step::Done(answer(current)));
    }
    let linked = &mut revision.user;
    let (checks, suspected) =
        duplicates::screened(table, suppressions, tenant, Some(&current), linked, now).await?;
    let mut tx = store::end_user::changes(
        tenant,
        Some(&current),
        Some(&revision.user),
        block.is_used().then_some(block),
        &revision.uid_paths,
        now,
    )?;
    tx.push_all(checks);
    let tx = one_transaction(tx)?;
    let mut changes = change::of_end_user(tenant, Some(&current), Some(&revision.user), now);
    changes.extend(suspected);
    Ok(Step::announce(tx, answer(revision.user), changes, now))
}

/// Removes the end user with its UIDs and customerRef, which become free, and what its merges
/// left: the tombstones of the end users merged into it and the merge records holding their
/// values (an undone merge's record, which holds none, stays).
pub async fn delete(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    id: u64,
    pre: &Preconditions,
    record: Option<&dyn Record<()>>,
) -> Result<(), ApiError> {
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| async {
        let read = read_partition(table, tenant, id).await?;
        pre.allow_write(Some(read.user.version))?;
        let now = Timestamp::now();
        let mut tx =
            store::end_user::changes(tenant, Some(&read.user), None, None, &HashMap::new(), now)?;
        tx.push_all(suppression::kept(suppressions, tenant, &read.user).await?);
        for write in store::merge::forgotten(tenant, &read.user, &read.merges) {
            tx.push(write);
        }
        tx.push_all(forget_timeline(table, tenant, &read.user, tx.writes.len(), now).await?);
        let changes = change::of_end_user(tenant, Some(&read.user), None, now);
        Ok(Step::announce(one_transaction(tx)?, (), changes, now))
    })
    .await
}

/// The writes that remove deleted end user `user`'s timeline, and those of the end users merged
/// into it, beside `planned` other writes: their records when few enough for the transaction
/// (one query per end user), else a job that removes them in the background.
async fn forget_timeline(
    table: &dyn Table,
    tenant: TenantId,
    user: &EndUser,
    planned: usize,
    now: Timestamp,
) -> Result<Vec<store::Write>, ApiError> {
    let room = MAX_PLANNED_WRITES
        .saturating_sub(planned)
        .min(REMOVED_IN_REQUEST);
    let owners: Vec<u64> = [user.id]
        .into_iter()
        .chain(user.merged_from.iter().copied())
        .collect();
    let reads = owners
        .iter()
        .map(|owner| super::timeline::few_keys(table, tenant, *owner, room));
    let found = futures_util::future::try_join_all(reads).await?;
    let keys: Option<Vec<Key>> = found.into_iter().try_fold(Vec::new(), |mut all, few| {
        all.extend(few?);
        Some(all)
    });
    if let Some(keys) = keys.filter(|k| k.len() <= room) {
        let remove = |key| store::Write::Delete {
            key,
            condition: None,
        };
        return Ok(keys.into_iter().map(remove).collect());
    }
    let job = ErasureJob::removing(tenant, user.id, owners, now);
    Ok(vec![store::erasure::start(&job)?])
}

/// One page of the tenant's end users: the list index in one query, then the page's end users
/// in one batch read.
pub async fn list(
    table: &dyn Table,
    tenant: TenantId,
    query: &ListQuery,
) -> Result<Page<EndUserView>, ApiError> {
    let partition = store::end_user::list_partition(tenant);
    let index = Query::index(&store::end_user::BY_TENANT, &partition);
    // One entry that does not decode is left out (and logged), not the whole list.
    let summaries = store::every_item(table, &index)
        .await?
        .into_iter()
        .filter_map(|item| match store::end_user::summary_from_item(item) {
            Ok(summary) => Some(summary),
            Err(error) => {
                tracing::warn!(tenant = tenant.get(), %error, "an unreadable end user entry");
                None
            }
        })
        .collect();
    let (page_ids, total) = select_page(summaries, query);
    let items = read_page(table, tenant, &page_ids).await?;
    Ok(Page::new(items, total, query.page))
}

/// The end users of `ids`, in that order, in batch reads (consistent); one deleted or merged
/// since the index was read is left out.
async fn read_page(
    table: &dyn Table,
    tenant: TenantId,
    ids: &[u64],
) -> Result<Vec<EndUserView>, ApiError> {
    let keys: Vec<Key> = ids
        .iter()
        .map(|id| store::end_user::key(tenant, *id))
        .collect();
    let mut found = HashMap::new();
    for chunk in keys.chunks(MAX_BATCH_GET) {
        for item in table.batch_get(chunk).await? {
            match store::end_user::live_from_item(item) {
                Ok(Some(user)) => {
                    found.insert(user.id, user);
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(tenant = tenant.get(), %error, "an unreadable end user")
                }
            }
        }
    }
    Ok(ids
        .iter()
        .filter_map(|id| found.get(id))
        .map(EndUser::view)
        .collect())
}

/// A page of the tenant's end users by ID after end user `after` (cursor paging): one query of
/// the list index that stops at the page and one batch read of its end users, whatever the
/// tenant's size. Answers the ID the next page starts after, when more follow.
pub async fn list_after(
    table: &dyn Table,
    tenant: TenantId,
    size: usize,
    order: SortOrder,
    after: Option<u64>,
) -> Result<(Vec<EndUserView>, Option<u64>), ApiError> {
    let partition = store::end_user::list_partition(tenant);
    let index = Query::index(&store::end_user::BY_TENANT, &partition);
    let index = match order {
        SortOrder::Desc => index.descending(),
        SortOrder::Asc => index,
    };
    let start = after.map(|id| store::end_user::list_start(tenant, id));
    let page = table.query_page(&index, start.as_ref(), size).await?;
    let ids: Vec<u64> = page
        .items
        .into_iter()
        .filter_map(|item| store::end_user::summary_from_item(item).ok())
        .map(|summary| summary.id)
        .collect();
    let next = match page.next {
        Some(start) => Some(start.sort_value(&store::end_user::BY_TENANT)?),
        None => None,
    };
    let next = next.map(|n| u64::try_from(n).unwrap_or(u64::MAX));
    Ok((read_page(table, tenant, &ids).await?, next))
}

const MAX_CUSTOMER_REF_CHARS: usize = 128;

/// The end user that holds `raw` as a UID of any type (after that type's normalization, national
/// phone numbers read in `country`) or as its customerRef.
pub async fn by_uid(
    table: &dyn Table,
    tenant: TenantId,
    raw: Option<&str>,
    country: Option<CountryCode>,
) -> Result<EndUser, ApiError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Err(ApiError::Validation(FieldErrors::single(
            "uid",
            "is required",
        )));
    }
    let mut lookups: Vec<Key> = Uid::candidates(raw, country)
        .iter()
        .map(|uid| uid_index::key(tenant, uid))
        .collect();
    if raw.chars().count() <= MAX_CUSTOMER_REF_CHARS {
        lookups.push(customer_ref::key(tenant, raw));
    }
    let owners: BTreeSet<u64> = table
        .batch_get(&lookups)
        .await?
        .iter()
        .filter_map(owner::of)
        .collect();
    let mut owners = owners.into_iter();
    match (owners.next(), owners.next()) {
        (None, _) => Err(ApiError::NotFound(
            "no end user holds this UID or customerRef".into(),
        )),
        (Some(id), None) => load(table, tenant, id).await,
        (Some(first), Some(second)) => Err(ApiError::Ambiguous {
            end_user_ids: [first, second].into_iter().chain(owners).collect(),
        }),
    }
}
