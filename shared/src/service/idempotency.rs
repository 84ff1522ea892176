//! A keyed request's hold on its `Idempotency-Key` (SPEC 7): [`begin`] before it runs, the
//! complete record in its plan ([`super::unit_of_work::Record`]), [`release`] when it failed.

use std::collections::HashMap;

use crate::domain::Timestamp;
use crate::domain::idempotency::Recorded;
use crate::error::ApiError;
use crate::store::idempotency::{self, ITEM_PREFIX, Lease, Record};
use crate::store::{Query, Table};

use super::unit_of_work;

/// How a keyed request goes on.
#[derive(Debug)]
pub enum Began {
    /// It runs: the key is its own.
    Run,
    /// It ran before: its response.
    Replay(Recorded),
}

/// Takes the key for `lease`'s request, in one write: a first request runs; a repeat of a
/// complete one replays it; a repeat of a running one is a 409; another request with the key
/// (method, path or body) a 422.
pub async fn begin(table: &dyn Table, lease: &Lease) -> Result<Began, ApiError> {
    let met = match unit_of_work::write_alone(table, lease.take(Timestamp::now())?).await {
        Ok(None) => return Ok(Began::Run),
        Ok(Some(met)) => met,
        Err(error) => {
            // The take may have applied with its answer lost.
            release(table, lease).await;
            return Err(error);
        }
    };
    match met.map(idempotency::from_item).transpose()? {
        Some(Record::Complete {
            fingerprint,
            response,
        }) if fingerprint == lease.fingerprint => Ok(Began::Replay(response)),
        Some(Record::Running { fingerprint }) if fingerprint == lease.fingerprint => {
            Err(ApiError::IdempotencyInFlight)
        }
        Some(_) => Err(ApiError::IdempotencyKeyReused),
        // Gone between the write and its check: another request holds it now or just freed it.
        None => Err(ApiError::IdempotencyInFlight),
    }
}

/// Completes `record` with `answer` in a write of its own: for a request whose changes are
/// transactions of their own (a bulk request's items, each with its item record).
pub async fn complete<T>(
    table: &dyn Table,
    record: &dyn unit_of_work::Record<T>,
    answer: &T,
) -> Result<(), ApiError> {
    match unit_of_work::write_alone(table, record.write(answer)?).await? {
        None => Ok(()),
        Some(_) => Err(ApiError::IdempotencyInFlight),
    }
}

/// The recorded items of `lease`'s bulk request, by index: those an earlier run applied.
pub async fn recorded_items(
    table: &dyn Table,
    lease: &Lease,
) -> Result<HashMap<usize, Recorded>, ApiError> {
    let partition = lease.partition();
    let items = crate::store::every_item(table, &Query::table(&partition, ITEM_PREFIX)).await?;
    let recorded = items.into_iter().map(idempotency::item_from);
    Ok(recorded.collect::<Result<_, _>>()?)
}

/// Frees the key of a request that failed (nothing of it applied), so its repeat runs again;
/// a record that completed or changed hands meanwhile stays. A release that fails leaves the
/// key to its lease's end.
pub async fn release(table: &dyn Table, lease: &Lease) {
    if let Err(error) = unit_of_work::write_alone(table, lease.release()).await {
        tracing::warn!(%error, "an idempotency key was not released");
    }
}
