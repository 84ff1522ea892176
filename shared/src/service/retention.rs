//! Retention (SPEC 4): a closed ticket and its messages are removed once `closedAt` is older
//! than the tenant's `ticketCleanupRetentionDays`. Closing stamps the ticket with its purge time,
//! which puts it into the sparse `GSI3`; a scheduled sweep (`functions/retention`, hourly) reads
//! the entries that are due and removes each ticket with its messages. Every batch of message
//! deletions carries a check that the ticket is unchanged, so a ticket reopened meanwhile keeps
//! what the sweep has not removed yet (reopening also takes it out of the index).

use crate::domain::TenantId;
use crate::domain::Timestamp;
use crate::error::ApiError;
use crate::store::item::number;
use crate::store::ticket::{self, PURGE, PURGE_PARTITION, StoredTicket};
use crate::store::{Condition, Key, MAX_WRITES, Table, Write, WriteError, message};

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub tickets: usize,
    pub messages: usize,
}

/// Removes every ticket whose purge time is at or before `now`, with its messages.
pub async fn sweep(table: &dyn Table, now: Timestamp) -> Result<Swept, ApiError> {
    let up_to = u64::try_from(now.unix_seconds()).unwrap_or(0);
    let due = table
        .query_index(&PURGE, PURGE_PARTITION, Some(up_to))
        .await?;
    let mut swept = Swept::default();
    for entry in due {
        let Some((tenant, ticket_id)) = ticket::purge_entry(&entry) else {
            continue;
        };
        let Some(item) = table.get(&ticket::key(tenant, ticket_id)).await? else {
            continue;
        };
        let stored = ticket::from_item(item)?;
        let due = stored
            .ticket
            .closed_at
            .is_some_and(|at| ticket::purge_at(at, stored.retention_days) <= now.unix_seconds());
        if !due {
            continue;
        }
        match purge(table, tenant, &stored).await {
            Ok(messages) => {
                swept.tickets += 1;
                swept.messages += messages;
            }
            // Reopened or changed meanwhile: it stays.
            Err(WriteError::ConditionFailed { .. } | WriteError::Contention) => {}
            Err(WriteError::Store(error)) => return Err(error.into()),
        }
    }
    Ok(swept)
}

/// Removes `stored` and its messages, in batches each conditional on the ticket being as read.
async fn purge(
    table: &dyn Table,
    tenant: TenantId,
    stored: &StoredTicket,
) -> Result<usize, WriteError> {
    let id = stored.ticket.id;
    let keys: Vec<Key> = table
        .query(&ticket::partition(tenant, id), message::PREFIX, None)
        .await?
        .iter()
        .filter_map(Key::of)
        .collect();
    // Adds nothing: a check that the ticket is as read, in the batch's transaction.
    let unchanged = || Write::Update {
        key: ticket::key(tenant, id),
        set: Vec::new(),
        add: vec![("version", 0)],
        remove: Vec::new(),
        condition: Some(Condition::Equals {
            attribute: "version",
            value: number(stored.version),
        }),
    };
    let mut batches = keys.chunks(MAX_WRITES - 1).peekable();
    while let Some(batch) = batches.next() {
        let last = batches.peek().is_none();
        let mut writes: Vec<Write> = batch
            .iter()
            .map(|key| Write::Delete {
                key: key.clone(),
                condition: None,
            })
            .collect();
        writes.push(if last {
            ticket::purge(tenant, stored)
        } else {
            unchanged()
        });
        table.write(writes).await?;
    }
    if keys.is_empty() {
        table.write(vec![ticket::purge(tenant, stored)]).await?;
    }
    Ok(keys.len())
}
