//! An end user's timeline (SPEC 10): a page of the records its writes left, with those of the
//! end users merged into it, and the external events integrators record on it.

use futures_util::future::try_join_all;

use super::end_users::{live, load, load_profile, reference_holder};
use super::unit_of_work::{self, Exhausted, Record, Step};
use crate::domain::change;
use crate::domain::errors::FieldErrors;
use crate::domain::ids::IdBlock;
use crate::domain::timeline::{self, Entry, EntryKind, ExternalEvent, Position};
use crate::domain::{TenantId, Timestamp, end_user};
use crate::error::ApiError;
use crate::store::timeline::{self as records, BY_KIND};
use crate::store::{self, Query, Table, Transaction, Write, id_block};

/// Where a page goes on: the position of the record its last entry came from, and how many of
/// that record's entries it showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct After {
    pub position: Position,
    pub shown: usize,
}

/// A page of entries and where the next one goes on (`None`: nothing follows).
pub type TimelinePage = (Vec<Entry>, Option<After>);

/// The end user holding `reference`, from its index item (strongly consistent): 404 when none.
pub async fn holder_of(
    table: &dyn Table,
    tenant: TenantId,
    reference: &str,
) -> Result<u64, ApiError> {
    let reference = end_user::parse_reference(reference)
        .map_err(|m| ApiError::Validation(FieldErrors::single("customerRef", m)))?;
    let holder = reference_holder(table, tenant, &reference).await?;
    holder.ok_or_else(|| ApiError::NotFound(format!("no end user holds customerRef {reference:?}")))
}

/// End user `id`'s own timeline items when there are at most `at_most` (a request that erases
/// or removes them itself): one query.
async fn few_items(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
    at_most: usize,
) -> Result<Option<Vec<store::Item>>, ApiError> {
    let partition = records::partition(tenant, id);
    let query = Query::table(&partition, records::PREFIX);
    let items = store::first_items(table, &query, None, at_most.saturating_add(1)).await?;
    Ok((items.len() <= at_most).then_some(items))
}

/// End user `id`'s own timeline records when there are at most `at_most`, to erase them.
pub(super) async fn few_records(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
    at_most: usize,
) -> Result<Option<Vec<timeline::Record>>, ApiError> {
    let Some(items) = few_items(table, tenant, id, at_most).await? else {
        return Ok(None);
    };
    let found = items.into_iter().map(records::from_item);
    Ok(Some(found.collect::<Result<Vec<_>, _>>()?))
}

/// The keys of end user `id`'s own timeline records when there are at most `at_most`, to
/// remove them (nothing decoded: a deletion needs no entry).
pub(super) async fn few_keys(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
    at_most: usize,
) -> Result<Option<Vec<store::Key>>, ApiError> {
    let items = few_items(table, tenant, id, at_most).await?;
    Ok(items.map(|items| items.iter().filter_map(store::Key::of).collect()))
}

/// The records of `owner`'s timeline at `after` and before, newest first, of `kinds` (none:
/// every kind): at most `n` of each query.
async fn records_of(
    table: &dyn Table,
    tenant: TenantId,
    owner: u64,
    kinds: &[EntryKind],
    after: Option<After>,
    n: usize,
) -> Result<Vec<timeline::Record>, ApiError> {
    let mut items = Vec::new();
    if kinds.is_empty() {
        let partition = records::partition(tenant, owner);
        let query = Query::table(&partition, records::PREFIX).descending();
        let start = after.map(|a| records::descending_from(tenant, owner, a.position));
        items = store::first_items(table, &query, start, n).await?;
    } else {
        let partitions: Vec<_> = kinds
            .iter()
            .map(|kind| records::kind_partition(tenant, owner, *kind))
            .collect();
        let reads = partitions.iter().map(|partition| {
            let query = Query::index(&BY_KIND, partition).descending();
            let query = match after {
                Some(after) => query.up_to(after.position.0),
                None => query,
            };
            async move { store::first_items(table, &query, None, n).await }
        });
        for found in try_join_all(reads).await? {
            items.extend(found);
        }
    }
    let records = items.into_iter().map(records::from_item);
    Ok(records.collect::<Result<Vec<_>, _>>()?)
}

/// A page of at most `size` entries of end user `id`'s timeline (with those of the end users
/// merged into it), newest first, of `kinds` (none: every kind), after `after`: one read of the
/// end user (404, 410), then one query per end user and asked kind, each of at most the page
/// and two more records, whatever the history. An anonymized end user's entries read erased.
pub async fn page(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
    kinds: &[EntryKind],
    size: usize,
    after: Option<After>,
) -> Result<TimelinePage, ApiError> {
    let user = load(table, tenant, id).await?;
    let owners = [id].into_iter().chain(user.merged_from.iter().copied());
    // The first record may have shown all its entries already: one more than the page needs.
    let n = size + 2;
    let reads = owners.map(|owner| records_of(table, tenant, owner, kinds, after, n));
    let mut found: Vec<_> = try_join_all(reads).await?.into_iter().flatten().collect();
    found.sort_by_key(|record| std::cmp::Reverse(record.position));
    let erased = user.is_anonymized();
    let mut entries = Vec::with_capacity(size);
    let mut last = None;
    for record in found {
        let shown = after
            .filter(|a| a.position == record.position)
            .map_or(0, |a| a.shown);
        for (index, entry) in record.entries().enumerate().skip(shown) {
            if entries.len() == size {
                return Ok((entries, last));
            }
            let entry = match erased {
                true => Entry {
                    detail: entry.detail.erased(),
                    ..entry
                },
                false => entry,
            };
            entries.push(entry);
            last = Some(After {
                position: record.position,
                shown: index + 1,
            });
        }
    }
    Ok((entries, None))
}

/// `POST /api/EndUsers/{id}/events`: records the external event `body` describes on end user
/// `id`'s timeline, in one transaction with its change event, conditional on the end user's
/// version (a merge or anonymization meanwhile is read again): one read, one transaction.
/// An anonymized end user takes no events (409): they would hold values of an erased person.
pub async fn record_external(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
    body: &serde_json::Map<String, serde_json::Value>,
    record: Option<&dyn Record<ExternalEvent>>,
) -> Result<ExternalEvent, ApiError> {
    let requested_at = Timestamp::now();
    // Validated before the end user is looked for: a bad body is a 400 whoever it names.
    ExternalEvent::read(body, 0, id, requested_at)?;
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| async {
        let user = live(load_profile(table, tenant, id).await?)?;
        if user.is_anonymized() {
            return Err(ApiError::Conflict {
                detail: format!("end user {id} was anonymized"),
                errors: FieldErrors::single("id", "an anonymized end user takes no events"),
                holder: None,
            });
        }
        let now = Timestamp::now();
        let mut block = IdBlock::for_existing_end_user();
        let event_id = block
            .next_id()
            .ok_or_else(|| ApiError::Internal("an empty ID block".into()))?;
        let event = ExternalEvent::read(body, event_id, id, requested_at)?;
        let mut tx = Transaction::new();
        tx.push(id_block::claim(tenant, &block, now));
        tx.push(Write::Check {
            key: store::end_user::key(tenant, id),
            condition: store::end_user::at_version(user.version),
        });
        tx.push(records::put(tenant, &timeline::external(id, &event))?);
        let changes = vec![change::external_event_recorded(tenant, &user, &event, now)];
        Ok(Step::announce(tx, event, changes, now))
    })
    .await
}
