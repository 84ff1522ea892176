//! POSTs with an `Idempotency-Key` (SPEC 7): the key is taken before the request runs, its
//! complete record (the response) joins the transaction of the change, and a request that fails
//! frees it. How a route answers is one function, used for the record and for the response.

use std::future::Future;

use crate::domain::Timestamp;
use crate::error::ApiError;
use crate::http::request::Call;
use crate::http::response::Reply;
use crate::service::Record;
use crate::service::idempotency::{self, Began};
use crate::store::idempotency::Lease;
use crate::store::{Table, Write};

/// How a route answers its use case's answer.
pub(super) type Render<T> = fn(&T) -> Result<Reply, ApiError>;

/// A keyed request's record, as its use case writes it.
pub(super) struct Keyed<T> {
    lease: Lease,
    render: Render<T>,
}

impl<T> Record<T> for Keyed<T> {
    fn write(&self, answer: &T) -> Result<Write, ApiError> {
        let recorded = (self.render)(answer)?.recorded()?;
        Ok(self.lease.complete(recorded, Timestamp::now())?)
    }
}

impl<T> Keyed<T> {
    /// The request's hold on its key.
    pub(super) fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Completes the record with `answer` in a write of its own (a request whose changes
    /// commit one by one).
    pub(super) async fn complete(&self, table: &dyn Table, answer: &T) -> Result<(), ApiError> {
        idempotency::complete(table, self, answer).await
    }
}

/// The record to hand a use case, if there is one.
pub(super) fn record<T, R: Record<T>>(record: &Option<R>) -> Option<&dyn Record<T>> {
    record.as_ref().map(|r| r as &dyn Record<T>)
}

/// Answers a POST: `work` runs given the record of the request's key, if it has one, and its
/// answer is rendered by `render`; a repeat replays the first response.
pub(super) async fn once<T, F, Fut>(
    table: &dyn Table,
    call: &Call<'_>,
    render: Render<T>,
    work: F,
) -> Result<Reply, ApiError>
where
    F: FnOnce(Option<Keyed<T>>) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let Some(key) = call.idempotency_key()? else {
        return render(&work(None).await?);
    };
    let lease = Lease {
        tenant: call.tenant()?,
        key: key.as_str().to_owned(),
        fingerprint: call.fingerprint(),
        token: fastrand::u64(..),
        // Whole seconds past the deadline: expiry times count in seconds.
        seconds: i64::try_from(call.deadline().as_secs()).unwrap_or(i64::MAX / 2) + 1,
    };
    if let Began::Replay(recorded) = idempotency::begin(table, &lease).await? {
        return Reply::replayed(recorded);
    }
    let keyed = Keyed {
        lease: lease.clone(),
        render,
    };
    match work(Some(keyed)).await {
        Ok(answer) => render(&answer),
        Err(error) => {
            if !matches!(error, ApiError::IdempotencyInFlight) {
                idempotency::release(table, &lease).await;
            }
            Err(error)
        }
    }
}
