//! The one unit of work of every write use case: an attempt reads what it needs and plans one
//! transaction with its answer; [`run`] commits the plan and settles what a failed condition
//! means (a value another end user holds, an exclusive claim, a replayed request, or a race lost
//! to a concurrent writer, which starts a fresh attempt after a short jittered back-off).
//! docs/architecture.md says where what SPEC 7 adds to every write joins the plan.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use crate::domain::Timestamp;
use crate::domain::change::Change;
use crate::domain::errors::FieldErrors;
use crate::error::ApiError;
use crate::store::{FailedCondition, Item, Key, Table, Transaction, Write, WriteError, outbox};

/// Attempts of one write use case before a conflict with concurrent writers is reported.
const ATTEMPTS: u32 = 8;

/// What one attempt of a write use case decided.
pub(super) enum Step<T> {
    /// Nothing to write: the answer as it stands.
    Done(T),
    /// Write this plan's transaction; its answer once it applied.
    Commit(Plan<T>),
}

/// One attempt's transaction and the answer it gives once applied.
pub(super) struct Plan<T> {
    pub tx: Transaction,
    pub answer: T,
    /// How the earlier record a replay claim met answers (the same request ran before).
    replay: Option<fn(Item) -> Result<T, ApiError>>,
    /// The change events the transaction announces, in its one outbox item.
    changes: Vec<Change>,
    /// When the change happened.
    at: Timestamp,
}

impl<T> Plan<T> {
    pub fn new(tx: Transaction, answer: T) -> Self {
        Plan {
            tx,
            answer,
            replay: None,
            changes: Vec::new(),
            at: Timestamp::now(),
        }
    }

    /// The plan, announcing `changes` (made at `at`) once it applies.
    pub fn announcing(self, changes: Vec<Change>, at: Timestamp) -> Self {
        Plan {
            changes,
            at,
            ..self
        }
    }

    /// The plan, answering a replayed request with `answer_of` the earlier record.
    pub fn replaying(self, answer_of: fn(Item) -> Result<T, ApiError>) -> Self {
        Plan {
            replay: Some(answer_of),
            ..self
        }
    }
}

impl<T> Step<T> {
    /// A plan announcing nothing: for changes no event names (the tenant's account).
    pub fn commit(tx: Transaction, answer: T) -> Self {
        Step::Commit(Plan::new(tx, answer))
    }

    /// A plan announcing `changes`, made at `at`.
    pub fn announce(tx: Transaction, answer: T, changes: Vec<Change>, at: Timestamp) -> Self {
        Step::Commit(Plan::new(tx, answer).announcing(changes, at))
    }
}

/// What the noted writes of earlier attempts met, by note: the item, or `None` when missing.
#[derive(Clone, Debug, Default)]
pub(super) struct Notes(HashMap<&'static str, Option<Item>>);

impl Notes {
    /// The item the last failed write noted `note` met.
    pub fn met(&self, note: &str) -> Option<&Item> {
        self.0.get(note).and_then(Option::as_ref)
    }
}

/// What every attempt lost to concurrent writers answers.
#[derive(Clone, Copy)]
pub(super) enum Exhausted {
    /// 409: the caller's change met changes of others; it may retry.
    Conflict,
    /// 503: a provider delivers the request again later (a 409 would make it drop it).
    Unavailable(&'static str),
}

/// A keyed request's record (SPEC 7 Idempotency-Key): the write that completes it with the
/// response `answer` gives, joined to the transaction of the change it guards.
pub trait Record<T>: Sync {
    fn write(&self, answer: &T) -> Result<Write, ApiError>;
}

/// A short jittered back-off before attempt `n` (none before the first).
async fn pause_before_attempt(n: u32) {
    if n > 0 {
        let jitter = fastrand::u64(0..10);
        tokio::time::sleep(Duration::from_millis((5 << n) + jitter)).await;
    }
}

/// Runs `attempt` and commits what it plans until it applies: a value held by another end
/// user is a 409 naming each such request field and the first holder; a failed exclusive claim
/// a 409 of its own; a replay claim the earlier answer; a failed noted write, any other failed
/// condition or a transaction conflict a fresh attempt, given what the noted writes met.
pub(super) async fn run<T, F, Fut>(
    table: &dyn Table,
    exhausted: Exhausted,
    attempt: F,
) -> Result<T, ApiError>
where
    F: FnMut(Notes) -> Fut,
    Fut: Future<Output = Result<Step<T>, ApiError>>,
{
    run_recorded(table, exhausted, None, attempt).await
}

/// [`run`], completing `record` in the transaction that applies (or alone, when the answer
/// writes nothing); its failed condition means another request holds the key now (409).
pub(super) async fn run_recorded<T, F, Fut>(
    table: &dyn Table,
    exhausted: Exhausted,
    record: Option<&dyn Record<T>>,
    mut attempt: F,
) -> Result<T, ApiError>
where
    F: FnMut(Notes) -> Fut,
    Fut: Future<Output = Result<Step<T>, ApiError>>,
{
    let mut notes = Notes::default();
    for n in 0..ATTEMPTS {
        pause_before_attempt(n).await;
        let mut plan = match attempt(notes.clone()).await? {
            Step::Done(answer) => match record {
                None => return Ok(answer),
                Some(_) => Plan::new(Transaction::new(), answer),
            },
            Step::Commit(plan) => plan,
        };
        if let Some(record) = record {
            plan.tx.push_record(record.write(&plan.answer)?);
        }
        if let Some(outbox) = outbox::put(&plan.changes, plan.at)? {
            plan.tx.push(outbox);
        }
        let Transaction { writes, claims } = plan.tx;
        let failed = match table.write(writes).await {
            Ok(()) => return Ok(plan.answer),
            Err(WriteError::Contention) => continue,
            Err(WriteError::Store(e)) => return Err(e.into()),
            Err(WriteError::ConditionFailed { failed }) => failed,
        };
        if claims.record_lost(&failed) {
            return Err(ApiError::IdempotencyInFlight);
        }
        if let (Some(answer_of), Some(earlier)) = (plan.replay, claims.replayed(&failed)) {
            return answer_of(earlier);
        }
        // A noted write that failed is a state the next attempt reads and may take over; what
        // else failed with it is judged again then.
        let noted = claims.notes(&failed);
        if noted.is_empty()
            && let Some(conflict) = conflict(&claims, &failed)
        {
            return Err(conflict);
        }
        notes.0.extend(noted);
    }
    Err(match exhausted {
        Exhausted::Conflict => ApiError::ConcurrentModification,
        Exhausted::Unavailable(detail) => ApiError::Unavailable(detail.into()),
    })
}

/// Applies `write` alone: `Ok(None)`, or the item its failed condition met (`Some(None)`:
/// none). For what guards a request before its plan: an idempotency key's running record.
pub(super) async fn write_alone(
    table: &dyn Table,
    write: Write,
) -> Result<Option<Option<Item>>, ApiError> {
    match table.write(vec![write]).await {
        Ok(()) => Ok(None),
        Err(WriteError::ConditionFailed { mut failed }) => {
            Ok(Some(failed.pop().and_then(|f| f.existing)))
        }
        Err(WriteError::Contention) => Err(ApiError::IdempotencyInFlight),
        Err(WriteError::Store(e)) => Err(e.into()),
    }
}

/// Stores `item` whatever its key holds, in one call that answers the item it replaced: the
/// single write a plan cannot express (a transaction returns no old items). Only channels
/// write this way; SPEC 7 adds nothing to them (a PUT is idempotent by itself, and channel
/// changes are no change events), so they stay outside plans.
pub(super) async fn replace(table: &dyn Table, item: Item) -> Result<Option<Item>, ApiError> {
    Ok(table.replace(item).await?)
}

/// Deletes the item of `key`, in one call that answers the item it removed (see [`replace`]).
pub(super) async fn remove(table: &dyn Table, key: &Key) -> Result<Option<Item>, ApiError> {
    Ok(table.remove(key).await?)
}

/// The 409 a failed transaction is, when it claimed what another holds.
fn conflict(claims: &crate::store::Claims, failed: &[FailedCondition]) -> Option<ApiError> {
    if let Some((path, message)) = claims.exclusive_conflict(failed) {
        return Some(ApiError::Conflict {
            detail: message.to_owned(),
            errors: FieldErrors::single(path, message),
            holder: None,
        });
    }
    let mut errors = FieldErrors::default();
    let mut first_holder = None;
    for (path, holder) in claims.taken(failed) {
        first_holder.get_or_insert(holder);
        let what = if path == "customerRef" {
            "customerRef"
        } else {
            "UID"
        };
        errors.add(
            path,
            format!("this {what} already belongs to end user {holder}"),
        );
    }
    first_holder.map(|holder| ApiError::Conflict {
        detail: "a value of the request already belongs to another end user".into(),
        errors,
        holder: Some(holder),
    })
}
