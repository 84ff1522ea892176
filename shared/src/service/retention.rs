//! Retention (SPEC 4): a closed ticket and its messages are removed once `closedAt` is older
//! than the tenant's current `ticketCleanupRetentionDays`. A scheduled sweep
//! (`functions/retention`, hourly) reads every tenant and its retention from the sweep's index
//! (`store::sweep`), then, tenant by tenant in rounds, the tenant's closed tickets that are due,
//! and removes each with its timeline records and messages, a page per transaction. Every
//! transaction carries a check that the ticket is unchanged, so a ticket reopened meanwhile
//! keeps what the sweep has not removed yet (reopening also takes it out of the index). The work
//! of one run is bounded by its time budget; what is left is due at the next run. A ticket that
//! cannot be read is counted and passed over, so it never holds back the others.

use std::time::Instant;

use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::sweep::{self, SWEEP, TENANT_SHARDS};
use crate::store::ticket::{self, StoredTicket};
use crate::store::timeline as records;
use crate::store::{MAX_WRITES, PageStart, Query, Table, Write, WriteError, message};

/// Due tickets read per tenant and round: one tenant's backlog cannot starve the others.
const TICKETS_PER_ROUND: usize = 25;
/// Messages removed per transaction, beside the check (or the delete) of their ticket and the
/// end user's ticket count.
const MESSAGES_PER_WRITE: usize = MAX_WRITES - 2;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    pub tickets: usize,
    pub messages: usize,
    /// Tickets (or tenant entries) that could not be read: passed over, logged.
    pub unreadable: usize,
    /// Whether every due ticket was reached before the time budget ran out.
    pub complete: bool,
}

/// A tenant's progress through its due tickets.
struct Tenant {
    id: TenantId,
    retention_days: u16,
    next: Option<PageStart>,
}

/// Removes the tickets due at `now` with their messages, until `stop_at`.
pub async fn sweep(table: &dyn Table, now: Timestamp, stop_at: Instant) -> Result<Swept, ApiError> {
    let mut swept = Swept::default();
    let mut tenants = tenants(table, &mut swept).await?;
    while !tenants.is_empty() {
        let mut left = Vec::with_capacity(tenants.len());
        for mut tenant in tenants {
            if Instant::now() >= stop_at {
                return Ok(swept);
            }
            let more = sweep_round(table, &mut tenant, now, stop_at, &mut swept).await?;
            if more {
                left.push(tenant);
            }
        }
        tenants = left;
    }
    swept.complete = true;
    Ok(swept)
}

/// Every tenant with its current retention: one query per shard of the index (more only past
/// 1 MB of entries).
async fn tenants(table: &dyn Table, swept: &mut Swept) -> Result<Vec<Tenant>, ApiError> {
    let mut found = Vec::new();
    for shard in 0..TENANT_SHARDS {
        let partition = sweep::tenants_partition(shard);
        let query = Query::index(&SWEEP, &partition);
        let mut start = None;
        loop {
            let page = table.query_page(&query, start.as_ref(), 1000).await?;
            for entry in &page.items {
                match sweep::tenant_of(entry) {
                    Some((id, retention_days)) => found.push(Tenant {
                        id,
                        retention_days,
                        next: None,
                    }),
                    None => {
                        tracing::warn!(?entry, "an unreadable tenant entry of the sweep");
                        swept.unreadable += 1;
                    }
                }
            }
            match page.next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
    }
    Ok(found)
}

/// One page of `tenant`'s due tickets removed; whether more may be due.
async fn sweep_round(
    table: &dyn Table,
    tenant: &mut Tenant,
    now: Timestamp,
    stop_at: Instant,
    swept: &mut Swept,
) -> Result<bool, ApiError> {
    let Some(up_to) = sweep::due_up_to(now, tenant.retention_days) else {
        return Ok(false);
    };
    let partition = sweep::closed_partition(tenant.id);
    let query = Query::index(&SWEEP, &partition).up_to(u128::from(up_to));
    let page = table
        .query_page(&query, tenant.next.as_ref(), TICKETS_PER_ROUND)
        .await?;
    for entry in &page.items {
        if Instant::now() >= stop_at {
            return Ok(true);
        }
        let Some(ticket_id) = sweep::ticket_of(tenant.id, entry) else {
            swept.unreadable += 1;
            continue;
        };
        match remove_if_due(table, tenant, ticket_id, now, stop_at).await {
            Ok(Some(messages)) => {
                swept.tickets += 1;
                swept.messages += messages;
            }
            Ok(None) => {}
            Err(Removal::Unreadable(cause)) => {
                tracing::warn!(
                    tenant = tenant.id.get(),
                    ticket_id,
                    cause,
                    "an unreadable ticket"
                );
                swept.unreadable += 1;
            }
            Err(Removal::Store(error)) => return Err(error),
        }
    }
    tenant.next = page.next;
    Ok(tenant.next.is_some())
}

enum Removal {
    Unreadable(String),
    Store(ApiError),
}

/// Removes ticket `ticket_id` of `tenant` with its messages when it is (still) closed and due:
/// how many messages went with it; `None` when it stays (reopened, changed meanwhile, gone, or
/// the budget ran out before its last messages: the next run finishes it).
async fn remove_if_due(
    table: &dyn Table,
    tenant: &Tenant,
    ticket_id: u64,
    now: Timestamp,
    stop_at: Instant,
) -> Result<Option<usize>, Removal> {
    let store = |e: crate::store::StoreError| Removal::Store(e.into());
    let Some(item) = table
        .get(&ticket::key(tenant.id, ticket_id))
        .await
        .map_err(store)?
    else {
        return Ok(None);
    };
    let stored = ticket::from_item(item).map_err(|e| Removal::Unreadable(e.to_string()))?;
    let retention = i64::from(tenant.retention_days) * sweep::SECONDS_PER_DAY;
    let due = stored
        .ticket
        .closed_at
        .is_some_and(|at| at.unix_seconds() <= now.unix_seconds() - retention);
    if !due {
        return Ok(None);
    }
    match purge(table, tenant.id, &stored, stop_at).await {
        Ok(removed) => Ok(removed),
        // Reopened or changed meanwhile: it stays.
        Err(WriteError::ConditionFailed { .. } | WriteError::Contention) => Ok(None),
        Err(WriteError::Store(error)) => Err(store(error)),
    }
}

/// The deletes of `items`.
fn deletes(items: &[crate::store::Item]) -> Vec<Write> {
    let delete = |key| Write::Delete {
        key,
        condition: None,
    };
    items
        .iter()
        .filter_map(crate::store::Key::of)
        .map(delete)
        .collect()
}

/// Removes the timeline records of `stored` (its opening, messages and closings) a page per
/// transaction, each with a check that the ticket is as read; whether all went before the
/// budget ran out.
async fn purge_timeline(
    table: &dyn Table,
    tenant: TenantId,
    stored: &StoredTicket,
    stop_at: Instant,
) -> Result<bool, WriteError> {
    let partition = records::ticket_partition(tenant, stored.ticket.id);
    let query = Query::index(&records::OF_TICKET, &partition);
    let mut start = None;
    loop {
        let page = table
            .query_page(&query, start.as_ref(), MESSAGES_PER_WRITE)
            .await?;
        if page.items.is_empty() {
            return Ok(true);
        }
        let mut writes = deletes(&page.items);
        writes.push(ticket::unchanged(tenant, stored));
        table.write(writes).await?;
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok(true),
        }
        if Instant::now() >= stop_at {
            return Ok(false);
        }
    }
}

/// Removes `stored`'s messages a page per transaction, each with a check that the ticket is as
/// read, then the ticket with the last page; the messages removed, or `None` when the budget
/// ran out first.
async fn purge(
    table: &dyn Table,
    tenant: TenantId,
    stored: &StoredTicket,
    stop_at: Instant,
) -> Result<Option<usize>, WriteError> {
    if !purge_timeline(table, tenant, stored, stop_at).await? {
        return Ok(None);
    }
    let partition = ticket::partition(tenant, stored.ticket.id);
    let query = Query::table(&partition, message::PREFIX);
    let mut removed = 0;
    loop {
        // Each transaction removes the page it read, so the next page starts at the front.
        let page = table.query_page(&query, None, MESSAGES_PER_WRITE).await?;
        let last = page.next.is_none();
        let mut writes = deletes(&page.items);
        removed += writes.len();
        if last {
            writes.push(ticket::purge(tenant, stored));
            writes.push(ticket::count_tickets(tenant, stored.ticket.end_user_id, -1));
        } else {
            writes.push(ticket::unchanged(tenant, stored));
        }
        table.write(writes).await?;
        if last {
            return Ok(Some(removed));
        }
        if Instant::now() >= stop_at {
            return Ok(None);
        }
    }
}
