//! Use cases, written against the storage port.

pub mod account;
pub mod end_users;
pub mod inbound;
pub mod retention;
pub mod tickets;
pub mod uids;

use std::future::Future;
use std::time::Duration;

use crate::domain::errors::FieldErrors;
use crate::error::ApiError;
use crate::store::{Table, Transaction, WriteError};

/// Attempts of one write use case before a conflict with concurrent writers is reported.
const ATTEMPTS: u32 = 5;

/// A short jittered back-off before attempt `n` (none before the first).
async fn pause_before_attempt(n: u32) {
    if n > 0 {
        let jitter = fastrand::u64(0..10);
        tokio::time::sleep(Duration::from_millis((5 << n) + jitter)).await;
    }
}

/// What one attempt of a write use case decided.
enum Step<T> {
    /// Nothing to write: the answer as it stands.
    Done(T),
    /// Write this transaction; the answer once it applied.
    Commit(Transaction, T),
}

/// Runs `attempt` and commits what it decides, until it applies: a lost race (a transaction
/// conflict, or a failed condition that claims no value another end user holds) starts a fresh
/// attempt after a short jittered back-off; a value held by another end user is a 409 naming
/// each such request field and the first holder; a failed exclusive claim a 409 of its own.
async fn commit_with_retries<T, F, Fut>(table: &dyn Table, mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>, ApiError>>,
{
    for n in 0..ATTEMPTS {
        pause_before_attempt(n).await;
        let (transaction, answer) = match attempt().await? {
            Step::Done(answer) => return Ok(answer),
            Step::Commit(transaction, answer) => (transaction, answer),
        };
        let Transaction { writes, claims } = transaction;
        let failed = match table.write(writes).await {
            Ok(()) => return Ok(answer),
            Err(WriteError::Contention) => continue,
            Err(WriteError::Store(e)) => return Err(e.into()),
            Err(WriteError::ConditionFailed { failed }) => failed,
        };
        if let Some((path, message)) = claims.exclusive_conflict(&failed) {
            return Err(ApiError::Conflict {
                detail: message.to_owned(),
                errors: FieldErrors::single(path, message),
                holder: None,
            });
        }
        let mut errors = FieldErrors::default();
        let mut first_holder = None;
        for (path, holder) in claims.taken(&failed) {
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
        if let Some(holder) = first_holder {
            return Err(ApiError::Conflict {
                detail: "a value of the request already belongs to another end user".into(),
                errors,
                holder: Some(holder),
            });
        }
    }
    Err(ApiError::ConcurrentModification)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::end_users;
    use super::uids::{self, AssignBody, AssignRequest};
    use crate::domain::end_user::EndUserBody;
    use crate::domain::{TenantId, Timestamp};
    use crate::store::memory::MemoryTable;

    /// Create+delete churn leaves nothing behind, and the ID block guards of other writes go
    /// once their time to live has passed: the embedded table does not grow.
    #[tokio::test]
    async fn churn_leaves_an_empty_embedded_table() {
        let now = Arc::new(AtomicI64::new(Timestamp::now().unix_seconds()));
        let clock = Arc::clone(&now);
        let table = MemoryTable::with_clock(Box::new(move || clock.load(Ordering::Relaxed)));
        let tenant = TenantId::new(1).expect("tenant");
        let body: EndUserBody = serde_json::from_value(serde_json::json!({
            "customerRef": "churn", "uids": [{"uidType": "Email", "uid": "churn@example.com"}]
        }))
        .expect("a body");
        for n in 0..3_000 {
            let user = end_users::create(&table, tenant, &body)
                .await
                .expect("create");
            if n % 10 == 0 {
                let assign = AssignRequest::parse(AssignBody {
                    uid: Some(format!("visitor-{n}")),
                    end_user_id: Some(user.id),
                    uid_type: Some("Webchat".into()),
                    is_primary: None,
                })
                .expect("an assign request");
                uids::assign(&table, tenant, &assign).await.expect("assign");
            }
            end_users::delete(&table, tenant, user.id)
                .await
                .expect("delete");
        }
        // Creates write no guard; the 300 assigns each left one, which lives a day.
        assert_eq!(table.item_count().expect("count"), 300);
        now.fetch_add(2 * 24 * 60 * 60, Ordering::Relaxed);
        assert_eq!(table.item_count().expect("count"), 0);
    }
}
