//! The background half of anonymization: each erasure job is worked through in small steps
//! (find the tickets and merge records of one end user; erase one merge record; erase up to 25
//! messages of a ticket, then the ticket; mark the record's erasure complete). Every step is one
//! transaction conditional on the job's step counter, so a crash anywhere loses nothing and
//! repeats nothing that committed. A background job with no caller to answer, like the
//! retention sweep, it writes to the table itself.

use std::time::Instant;

use super::anonymize::erased_record;
use crate::domain::TenantId;
use crate::domain::end_user::Erasure;
use crate::domain::timeline::Position;
use crate::error::ApiError;
use crate::store::erasure::{self, ErasureJob};
use crate::store::timeline as records;
use crate::store::{
    self, AttributeValue, Condition, Key, Kind, Query, Table, Write, WriteError, merge, message,
    sweep, ticket,
};

/// Messages erased per step.
const MESSAGES_PER_STEP: usize = 25;
/// A job whose steps keep losing to concurrent writers waits for the next run.
const ATTEMPTS_PER_STEP: u32 = 5;

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    /// Jobs finished.
    pub finished: usize,
    /// Steps committed.
    pub steps: usize,
    /// Every job found was finished.
    pub complete: bool,
}

enum Progress {
    Stepped,
    Finished,
    /// Another writer changed what the step read; read again.
    Lost,
}

/// Works through every pending erasure job until `stop_at`.
pub async fn run(table: &dyn Table, stop_at: Instant) -> Result<Erased, ApiError> {
    let jobs = Query::index(&sweep::SWEEP, erasure::JOBS_PARTITION);
    let entries = store::every_item(table, &jobs).await?;
    let mut erased = Erased::default();
    let mut left = false;
    for key in entries.iter().filter_map(Key::of) {
        let mut losses = 0;
        loop {
            if Instant::now() >= stop_at || losses >= ATTEMPTS_PER_STEP {
                left = true;
                break;
            }
            let Some(item) = table.get(&key).await? else {
                break;
            };
            match step(table, &erasure::from_item(item)?).await? {
                Progress::Stepped => erased.steps += 1,
                Progress::Finished => {
                    erased.steps += 1;
                    erased.finished += 1;
                    break;
                }
                Progress::Lost => losses += 1,
            }
        }
    }
    erased.complete = !left;
    Ok(erased)
}

/// One step of `job`.
async fn step(table: &dyn Table, job: &ErasureJob) -> Result<Progress, ApiError> {
    let tenant = TenantId::new(job.tenant)
        .ok_or_else(|| ApiError::Internal("an erasure job without a tenant".into()))?;
    let mut next = job.clone();
    let mut writes = Vec::new();
    if let Some(&owner) = job.scan.first() {
        scan(table, tenant, owner, &mut next).await?;
    } else if let Some(&[target, merge_id]) = job.merges.first() {
        let key = merge::key(tenant, target, merge_id);
        if let Some(item) = table.get(&key).await? {
            writes.push(erased_record(tenant, &merge::from_item(item)?)?);
        }
        next.merges.remove(0);
    } else if let Some(&ticket_id) = job.tickets.first() {
        erase_ticket(table, tenant, ticket_id, &mut next, &mut writes).await?;
    } else if let Some(&owner) = job.timelines.first() {
        erase_timeline(table, tenant, owner, &mut next, &mut writes).await?;
    } else {
        return finish(table, tenant, job).await;
    }
    writes.push(erasure::advance(job, &next)?);
    commit(table, writes, Progress::Stepped).await
}

/// Adds the tickets of `owner` and the merge records into it that hold values to the job.
async fn scan(
    table: &dyn Table,
    tenant: TenantId,
    owner: u64,
    next: &mut ErasureJob,
) -> Result<(), ApiError> {
    let partition = ticket::list_partition(tenant, owner);
    let tickets = store::every_item(table, &Query::index(&ticket::BY_END_USER, &partition)).await?;
    for item in tickets {
        next.tickets.push(ticket::from_item(item)?.ticket.id);
    }
    let records = merge::partition(tenant, owner);
    let records = store::every_item(table, &Query::table(&records, merge::PREFIX)).await?;
    for item in records {
        let record = merge::from_item(item)?;
        if record.source.is_some() {
            next.merges.push([record.target_id, record.merge_id]);
        }
    }
    next.scan.remove(0);
    Ok(())
}

/// The next messages of `ticket_id` erased, or, once none is left, the ticket itself.
async fn erase_ticket(
    table: &dyn Table,
    tenant: TenantId,
    ticket_id: u64,
    next: &mut ErasureJob,
    writes: &mut Vec<Write>,
) -> Result<(), ApiError> {
    let Some(item) = table.get(&ticket::key(tenant, ticket_id)).await? else {
        // Removed meanwhile (retention): nothing left to erase.
        next.tickets.remove(0);
        next.position = 1;
        return Ok(());
    };
    let stored = ticket::from_item(item)?;
    let partition = ticket::partition(tenant, ticket_id);
    let query = Query::table(&partition, message::PREFIX);
    let start = message::page_start(tenant, ticket_id, next.position - 1);
    let page = table
        .query_page(&query, start.as_ref(), MESSAGES_PER_STEP)
        .await?;
    if page.items.is_empty() {
        writes.push(ticket::save(tenant, &stored, &stored.ticket.erased())?);
        next.tickets.remove(0);
        next.position = 1;
        return Ok(());
    }
    for key in page.items.iter().filter_map(Key::of) {
        next.position = message::position(&key).map_or(next.position, |p| p + 1);
        writes.push(erasure::erase_message(key));
    }
    Ok(())
}

/// The next records of `owner`'s timeline erased (or removed, when the job's end user was
/// deleted), oldest first; once none is left, the next end user's.
async fn erase_timeline(
    table: &dyn Table,
    tenant: TenantId,
    owner: u64,
    next: &mut ErasureJob,
    writes: &mut Vec<Write>,
) -> Result<(), ApiError> {
    let partition = records::partition(tenant, owner);
    let query = Query::table(&partition, records::PREFIX);
    let after = next.timeline_after.as_deref().and_then(|p| p.parse().ok());
    let start = after.map(|p| records::ascending_after(tenant, owner, Position(p)));
    let page = table
        .query_page(&query, start.as_ref(), MESSAGES_PER_STEP)
        .await?;
    if page.items.is_empty() {
        next.timelines.remove(0);
        next.timeline_after = None;
        return Ok(());
    }
    for item in page.items {
        let record = records::from_item(item)?;
        next.timeline_after = Some(record.position.0.to_string());
        writes.push(match next.removing {
            true => Write::Delete {
                key: records::key(tenant, owner, record.position),
                condition: None,
            },
            false => records::erase(tenant, record)?,
        });
    }
    Ok(())
}

/// The job done: the record's erasure complete (unless it was deleted meanwhile) and the job
/// removed.
async fn finish(
    table: &dyn Table,
    tenant: TenantId,
    job: &ErasureJob,
) -> Result<Progress, ApiError> {
    let profile = store::end_user::key(tenant, job.end_user_id);
    let mut writes = vec![erasure::finish(tenant, job)];
    let record = table.get(&profile).await?;
    if record.as_ref().and_then(Kind::of) == Some(Kind::EndUser) {
        writes.push(Write::Update {
            key: profile,
            set: vec![(
                "erasure",
                AttributeValue::S(Erasure::Complete.as_str().into()),
            )],
            add: vec![("version", 1)],
            remove: Vec::new(),
            condition: Some(Condition::Exists),
        });
    }
    commit(table, writes, Progress::Finished).await
}

async fn commit(
    table: &dyn Table,
    writes: Vec<Write>,
    done: Progress,
) -> Result<Progress, ApiError> {
    match table.write(writes).await {
        Ok(()) => Ok(done),
        Err(WriteError::ConditionFailed { .. } | WriteError::Contention) => Ok(Progress::Lost),
        Err(WriteError::Store(error)) => Err(error.into()),
    }
}
