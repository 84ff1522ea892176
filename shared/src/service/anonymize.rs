//! Anonymize (SPEC 7's right to erasure). One consistent query of the end user's partition
//! reads its record, its ticket count and the merge records into it; when its tickets hold at
//! most 25 messages (and no one was merged into it), one more query reads them and one
//! transaction erases everything; otherwise the transaction erases the record, frees its values
//! and leaves an erasure job that `service::erasure` finishes in the background.

use std::collections::HashMap;

use super::end_users::{Partition, one_transaction, read_partition};
use super::suppression;
use super::timeline::few_records;
use super::unit_of_work::{self, Exhausted, Record, Step};
use crate::domain::change;
use crate::domain::end_user::{EndUser, Erasure, MergeRecord};
use crate::domain::precondition::Preconditions;
use crate::domain::timeline;
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::erasure::ErasureJob;
use crate::store::ticket::{self, StoredTicket};
use crate::store::timeline as records;
use crate::store::{
    self, Condition, MAX_PLANNED_WRITES, Query, Table, Transaction, Write, erasure, merge,
};
use crate::vault::suppression::Suppressions;

/// At most this many messages are erased in the request itself.
pub const ERASED_IN_REQUEST: u64 = 25;

/// The end user's tickets when the request can erase them itself: none merged into it, no
/// erasure of it pending, at most [`ERASED_IN_REQUEST`] messages (and as many timeline
/// records: [`few_records`]).
async fn few_tickets(
    table: &dyn Table,
    tenant: TenantId,
    read: &Partition,
) -> Result<Option<Vec<StoredTicket>>, ApiError> {
    // Someone merged into it, or an earlier erasure still under way: the background's.
    let pending = read.user.erasure == Some(Erasure::Pending);
    if !read.user.merged_from.is_empty() || pending {
        return Ok(None);
    }
    if read.tickets == 0 {
        return Ok(Some(Vec::new()));
    }
    let partition = ticket::list_partition(tenant, read.user.id);
    let index = Query::index(&ticket::BY_END_USER, &partition);
    let tickets = store::every_item(table, &index)
        .await?
        .into_iter()
        .map(ticket::from_item)
        .collect::<Result<Vec<_>, _>>()?;
    let messages: u64 = tickets.iter().map(|t| t.ticket.message_count).sum();
    // The index lags the ticket count by moments: a ticket it does not show yet is left to
    // the background, whose scan comes later.
    let all_listed = tickets.len() as u64 >= read.tickets;
    Ok((all_listed && messages <= ERASED_IN_REQUEST).then_some(tickets))
}

/// The merge record without the values it held.
pub(super) fn erased_record(tenant: TenantId, record: &MergeRecord) -> Result<Write, ApiError> {
    let mut erased = record.clone();
    erased.erase_values();
    Ok(Write::Put {
        item: merge::to_item(tenant, &erased)?,
        condition: Some(Condition::Exists),
    })
}

/// The transaction that erases everything now: record, values (the opted-out ones `kept` as
/// suppressions), merge records, tickets and their messages; `None` when it does not fit in one.
fn erased_now(
    tenant: TenantId,
    read: &Partition,
    (tickets, entries): (&[StoredTicket], &[timeline::Record]),
    kept: Vec<Write>,
    now: Timestamp,
) -> Result<Option<Transaction>, ApiError> {
    let next = read.user.anonymized(Erasure::Complete, now);
    let mut tx = store::end_user::changes(
        tenant,
        Some(&read.user),
        Some(&next),
        None,
        &HashMap::new(),
        now,
    )?;
    tx.push_all(kept);
    for record in &read.merges {
        tx.push(erased_record(tenant, record)?);
    }
    for stored in tickets {
        tx.push(ticket::save(tenant, stored, &stored.ticket.erased())?);
        for position in 1..=stored.ticket.message_count {
            tx.push(erasure::erase_message_at(
                tenant,
                stored.ticket.id,
                position,
            ));
        }
    }
    for record in entries {
        tx.push(records::erase(tenant, record.clone())?);
    }
    Ok((tx.writes.len() <= MAX_PLANNED_WRITES).then_some(tx))
}

/// The transaction that erases the record and frees its values now (the opted-out ones `kept`
/// as suppressions) and leaves the rest to an erasure job.
fn erased_later(
    tenant: TenantId,
    read: &Partition,
    kept: Vec<Write>,
    now: Timestamp,
) -> Result<Transaction, ApiError> {
    let user = &read.user;
    let next = user.anonymized(Erasure::Pending, now);
    let mut tx =
        store::end_user::changes(tenant, Some(user), Some(&next), None, &HashMap::new(), now)?;
    tx.push_all(kept);
    let owners = [user.id]
        .into_iter()
        .chain(user.merged_from.iter().copied());
    let job = ErasureJob::erasing(tenant, user.id, owners.collect(), now);
    tx.push(erasure::start(&job)?);
    one_transaction(tx)
}

/// Anonymizes end user `id` when `pre` holds of it; one anonymized and given nothing since
/// answers as it is.
pub async fn anonymize(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    id: u64,
    pre: &Preconditions,
    record: Option<&dyn Record<EndUser>>,
) -> Result<EndUser, ApiError> {
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| async {
        let read = read_partition(table, tenant, id).await?;
        pre.allow_write(Some(read.user.version))?;
        if read.user.is_erased() {
            return Ok(Step::Done(read.user));
        }
        let now = Timestamp::now();
        let kept = suppression::kept(suppressions, tenant, &read.user).await?;
        if let Some(tickets) = few_tickets(table, tenant, &read).await?
            && let Some(entries) =
                few_records(table, tenant, id, ERASED_IN_REQUEST as usize).await?
            && let Some(tx) = erased_now(tenant, &read, (&tickets, &entries), kept.clone(), now)?
        {
            let user = read.user.anonymized(Erasure::Complete, now);
            let changes = vec![change::anonymized(tenant, &user, now)];
            return Ok(Step::announce(tx, user, changes, now));
        }
        let tx = erased_later(tenant, &read, kept, now)?;
        let user = read.user.anonymized(Erasure::Pending, now);
        let changes = vec![change::anonymized(tenant, &user, now)];
        Ok(Step::announce(tx, user, changes, now))
    })
    .await
}
