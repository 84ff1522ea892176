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
    pub requested_at: Timestamp,
    /// Counts the steps done: each step's write is conditional on it.
    pub step: u64,
}

pub fn key(tenant: TenantId, end_user_id: u64) -> Key {
    Key::new(format!("T#{tenant}#ERASE#{end_user_id}"), "ERASURE")
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
    Ok(keyed(Kind::Erasure, key(tenant, job.end_user_id), item))
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
        key: key(tenant, read.end_user_id),
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
