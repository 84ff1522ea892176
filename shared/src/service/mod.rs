//! Use cases, written against the storage port.

pub mod end_users;
pub mod uids;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use crate::domain::TenantId;
use crate::domain::end_user::EndUser;
use crate::domain::ids::IdBlock;
use crate::domain::uid::Uid;
use crate::error::{ApiError, FieldErrors};
use crate::store::keys::{self, at_version, owned_by};
use crate::store::{Condition, MAX_WRITES, Table, Write, WriteError};

/// Attempts of one write use case before a conflict with concurrent writers is reported.
const ATTEMPTS: u32 = 5;

/// The writes that move one end user's items from `before` to `after` in one transaction.
struct Plan {
    end_user_id: u64,
    writes: Vec<Write>,
    /// Per write, what its failed condition means: `Some(path)` for a value the request brings
    /// in, which another end user holding it makes a 409 on `path`; `None` for a lost race (ID
    /// block taken, end user changed or gone, index entry moved), which a fresh attempt retries.
    conflict_paths: Vec<Option<String>>,
}

impl Plan {
    /// `before: None` creates, `after: None` deletes. `block` is written as a guard when the change
    /// used IDs from it; `paths` names the request field behind each new UID value.
    fn new(
        tenant: TenantId,
        before: Option<&EndUser>,
        after: Option<&EndUser>,
        block: Option<&IdBlock>,
        paths: &HashMap<Uid, String>,
        now_unix_seconds: i64,
    ) -> Result<Plan, ApiError> {
        let end_user_id = after.or(before).map_or(0, |u| u.id);
        let mut plan = Plan {
            end_user_id,
            writes: Vec::new(),
            conflict_paths: Vec::new(),
        };
        if let Some(block) = block {
            plan.push(
                Write::Put {
                    item: keys::id_block_item(tenant, block.base(), now_unix_seconds),
                    condition: Some(Condition::NotExists),
                },
                None,
            );
        }
        let record_condition = match before {
            Some(user) => at_version(user.version),
            None => Condition::NotExists,
        };
        let record = match after {
            Some(user) => Write::Put {
                item: keys::end_user_item(tenant, user)?,
                condition: Some(record_condition),
            },
            None => Write::Delete {
                key: keys::profile(tenant, end_user_id),
                condition: Some(record_condition),
            },
        };
        plan.push(record, None);

        // Index entries: the UID values and the customerRef, before and after.
        let entries = |user: Option<&EndUser>| -> BTreeMap<crate::store::Key, String> {
            let Some(user) = user else {
                return BTreeMap::new();
            };
            let uids = user.uids.iter().map(|u| {
                let uid = u.as_uid();
                let path = paths.get(&uid).cloned().unwrap_or_else(|| "uids".into());
                (keys::uid_index(tenant, &uid), path)
            });
            let reference = user
                .customer_ref
                .iter()
                .map(|r| (keys::customer_ref(tenant, r), "customerRef".to_string()));
            uids.chain(reference).collect()
        };
        let old = entries(before);
        let new = entries(after);
        for key in old.keys().filter(|k| !new.contains_key(*k)) {
            plan.push(
                Write::Delete {
                    key: key.clone(),
                    condition: Some(owned_by(end_user_id)),
                },
                None,
            );
        }
        for (key, path) in new.into_iter().filter(|(k, _)| !old.contains_key(k)) {
            plan.push(
                Write::Put {
                    item: keys::owner_item(key, end_user_id),
                    condition: Some(Condition::NotExists),
                },
                Some(path),
            );
        }
        if plan.writes.len() > MAX_WRITES {
            return Err(ApiError::Validation(FieldErrors::single(
                "uids",
                format!(
                    "this request changes too many UIDs at once ({} writes, at most {MAX_WRITES}); split it",
                    plan.writes.len()
                ),
            )));
        }
        Ok(plan)
    }

    fn push(&mut self, write: Write, conflict_path: Option<String>) {
        self.writes.push(write);
        self.conflict_paths.push(conflict_path);
    }
}

/// How one attempt of a write use case ended.
enum Attempt<T> {
    Done(T),
    /// Lost a race that a fresh attempt can win.
    Retry,
}

/// Applies a plan: `done` once written, `Retry` when a fresh attempt may succeed.
async fn commit<T>(table: &dyn Table, plan: Plan, done: T) -> Result<Attempt<T>, ApiError> {
    let failed = match table.write(plan.writes).await {
        Ok(()) => return Ok(Attempt::Done(done)),
        Err(WriteError::Contention) => return Ok(Attempt::Retry),
        Err(WriteError::Store(e)) => return Err(e.into()),
        Err(WriteError::ConditionFailed { failed }) => failed,
    };
    let mut errors = FieldErrors::default();
    let mut first_holder = None;
    for failure in &failed {
        let Some(Some(path)) = plan.conflict_paths.get(failure.index) else {
            continue;
        };
        let holder = failure.existing.as_ref().and_then(keys::owner_of);
        match holder {
            Some(holder) if holder != plan.end_user_id => {
                first_holder.get_or_insert(holder);
                let what = if path == "customerRef" {
                    "customerRef"
                } else {
                    "UID"
                };
                errors.add(
                    path.clone(),
                    format!("this {what} already belongs to end user {holder}"),
                );
            }
            // Taken by this very end user in a concurrent request, or released meanwhile.
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(Attempt::Retry)
    } else {
        Err(ApiError::Conflict {
            detail: "a value of the request already belongs to another end user".into(),
            errors,
            holder: first_holder,
        })
    }
}

/// Runs `attempt` until it is done, backing off between lost races.
async fn with_retries<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, ApiError>>,
{
    for n in 0..ATTEMPTS {
        if n > 0 {
            let jitter = fastrand::u64(0..10);
            tokio::time::sleep(Duration::from_millis((5 << n) + jitter)).await;
        }
        if let Attempt::Done(value) = attempt().await? {
            return Ok(value);
        }
    }
    Err(ApiError::ConcurrentModification)
}

/// Reads one end user of the tenant; 404 when it does not exist.
async fn load(table: &dyn Table, tenant: TenantId, id: u64) -> Result<EndUser, ApiError> {
    match table.get(&keys::profile(tenant, id)).await? {
        Some(item) => Ok(keys::decode(item)?),
        None => Err(ApiError::NotFound(format!("end user {id} not found"))),
    }
}
