//! What finishes an anonymization in the background: one erasure job per anonymized end user,
//! `T#{tenant}#ERASE#{endUserID}` / `ERASURE`, listed on the sweep index (`GSI3PK =
//! SWEEP#ERASURES`, `GSI3SK` = when it was asked for), and the writes that erase a message.
//! Each step of a job is conditional on the step the job was read at, so a step that ran is
//! never run again from a stale read, and one that crashed runs again (erasing is idempotent).

use serde::{Deserialize, Serialize};

use super::item::{Kind, decode, encode, keyed, number};
use super::sweep::SWEEP;
use super::{AttributeValue, Condition, Item, Key, StoreError, Write, message};
use crate::domain::end_user::ERASED;
use crate::domain::{TenantId, Timestamp};

pub const JOBS_PARTITION: &str = "SWEEP#ERASURES";
const STEP: &str = "step";

/// The erasure still to do for one anonymized end user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasureJob {
    #[serde(rename = "customerID")]
    pub tenant: u64,
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    /// End users (the anonymized one, those merged into it) whose tickets and merge records
    /// are still to be found.
    pub scan: Vec<u64>,
    /// Tickets still to erase, the first one from message `position` on.
    pub tickets: Vec<u64>,
    pub position: u64,
    /// Merge records still to erase: `[targetID, mergeID]`.
    pub merges: Vec<[u64; 2]>,
    /// End users whose timeline records are still to erase (removed instead when `removing`),
    /// the first one's after position `timelineAfter`.
    #[serde(default)]
    pub timelines: Vec<u64>,
    #[serde(default)]
    pub timeline_after: Option<String>,
    /// The end user was deleted: its timeline records go rather than being erased.
    #[serde(default)]
    pub removing: bool,
    pub requested_at: Timestamp,
    /// Counts the steps done: each step's write is conditional on it.
    pub step: u64,
}

impl ErasureJob {
    /// The job of anonymized end user `end_user_id` (`owners`: it and those merged into it):
    /// their tickets, merge records and timelines to erase.
    pub fn erasing(tenant: TenantId, end_user_id: u64, owners: Vec<u64>, now: Timestamp) -> Self {
        ErasureJob {
            tenant: tenant.get(),
            end_user_id,
            scan: owners.clone(),
            tickets: Vec::new(),
            position: 1,
            merges: Vec::new(),
            timelines: owners,
            timeline_after: None,
            removing: false,
            requested_at: now,
            step: 0,
        }
    }

    /// The job of deleted end user `end_user_id`: the timelines of `owners` to remove.
    pub fn removing(tenant: TenantId, end_user_id: u64, owners: Vec<u64>, now: Timestamp) -> Self {
        ErasureJob {
            scan: Vec::new(),
            removing: true,
            ..ErasureJob::erasing(tenant, end_user_id, owners, now)
        }
    }
}

/// The key of `job`: a deletion's job is kept apart from an anonymization's of the same end user,
/// which may still be under way.
fn key(tenant: TenantId, job: &ErasureJob) -> Key {
    let sort_key = if job.removing { "REMOVAL" } else { "ERASURE" };
    Key::new(format!("T#{tenant}#ERASE#{}", job.end_user_id), sort_key)
}

fn to_item(job: &ErasureJob) -> Result<Item, StoreError> {
    let tenant = TenantId::new(job.tenant)
        .ok_or_else(|| StoreError::Internal("an erasure job without a tenant".into()))?;
    let mut item = encode(job)?;
    item.insert(
        SWEEP.partition_key.into(),
        AttributeValue::S(JOBS_PARTITION.into()),
    );
    let asked = job.requested_at.unix_seconds().max(0);
    item.insert(SWEEP.sort_key.into(), number(asked));
    Ok(keyed(Kind::Erasure, key(tenant, job), item))
}

pub fn from_item(item: Item) -> Result<ErasureJob, StoreError> {
    decode(item)
}

/// A new job, replacing one left by an earlier anonymization of the end user (it starts over:
/// erasing is idempotent, and a step of the old job fails on its step counter).
pub fn start(job: &ErasureJob) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: to_item(job)?,
        condition: None,
    })
}

fn at_step(step: u64) -> Condition {
    Condition::Equals {
        attribute: STEP,
        value: number(step),
    }
}

/// `next`, the job after the step `read` was read at.
pub fn advance(read: &ErasureJob, next: &ErasureJob) -> Result<Write, StoreError> {
    let next = ErasureJob {
        step: read.step + 1,
        ..next.clone()
    };
    Ok(Write::Put {
        item: to_item(&next)?,
        condition: Some(at_step(read.step)),
    })
}

/// The job done, at the step it was read at.
pub fn finish(tenant: TenantId, read: &ErasureJob) -> Write {
    Write::Delete {
        key: key(tenant, read),
        condition: Some(at_step(read.step)),
    }
}

/// Message `position` of `ticket_id` with its `from`, `subject` and `text` erased.
pub fn erase_message_at(tenant: TenantId, ticket_id: u64, position: u64) -> Write {
    erase_message(message::key(tenant, ticket_id, position))
}

/// The message of `key` with its `from`, `subject` and `text` erased, when it exists (a message
/// is never created by its erasure).
pub fn erase_message(key: Key) -> Write {
    let erased = || AttributeValue::S(ERASED.into());
    Write::Update {
        key,
        set: vec![
            ("from", erased()),
            ("subject", erased()),
            ("text", erased()),
        ],
        add: Vec::new(),
        remove: Vec::new(),
        condition: Some(Condition::Exists),
    }
}
