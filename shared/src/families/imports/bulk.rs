//! `POST /api/EndUsers/bulk` (SPEC 7): up to 100 creates, upserts, updates and deletes, each
//! applied on its own (all or nothing per item) by the use case its single route calls, a few at
//! a time so that one request holds at most [`IN_FLIGHT`] items' calls open and starts no item
//! past half its deadline; results in input order.
//!
//! With an `Idempotency-Key`, each applied item's result is recorded in the item's own
//! transaction, beside the request's record: a repeat of a request cut off half-way answers the
//! items that applied from their records and runs only the others.

use std::future::Future;
use std::time::Instant;

use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt, stream};
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::end_user::{EndUser, EndUserBody};
use crate::domain::errors::FieldErrors;
use crate::domain::idempotency::Recorded;
use crate::domain::precondition::Preconditions;
use crate::domain::{TenantId, Timestamp, parse_id};
use crate::error::ApiError;
use crate::families::keyed::{self, Keyed, record};
use crate::http::request::{Call, parse_json};
use crate::http::response::{Reply, json};
use crate::service::upsert::{self, Upserted};
use crate::service::{Record, end_users, idempotency};
use crate::store::idempotency::Lease;
use crate::store::{Table, Write};
use crate::vault::suppression::Suppressions;

/// The most items one request takes.
pub const MAX_ITEMS: usize = 100;

/// Items applied at once: bounds the transactions (and capacity) one request holds.
pub const IN_FLIGHT: usize = 8;

#[derive(Deserialize)]
struct BulkBody {
    items: Option<Vec<Box<RawValue>>>,
}

/// What an item names besides the end-user fields.
#[derive(Deserialize)]
struct Head {
    op: Option<String>,
    #[serde(rename = "endUserID")]
    end_user_id: Option<serde_json::Value>,
}

/// One item, read.
enum Op {
    Create(EndUserBody),
    Upsert(String, EndUserBody),
    Update(u64, EndUserBody),
    Delete(u64),
}

/// One item's outcome, in the answer and in an item record.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct ItemResult {
    index: usize,
    status: u16,
    #[serde(rename = "endUserID", skip_serializing_if = "Option::is_none")]
    end_user_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<serde_json::Value>,
}

/// The schema of the answer (the request's items are the end-user body and `op`).
#[cfg(feature = "openapi")]
pub(crate) fn schemas(found: &mut Vec<crate::families::NamedSchema>) {
    crate::families::add::<Results>(found);
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = BulkResults))]
struct Results {
    results: Vec<ItemResult>,
}

/// The status and end user of an applied item's answer, given the ID the item named.
type Outcome<T> = fn(&T, Option<u64>) -> (u16, u64);

/// An item's result, recorded in the item's transaction.
struct ItemRecord<T> {
    lease: Lease,
    index: usize,
    named: Option<u64>,
    outcome: Outcome<T>,
}

impl<T> Record<T> for ItemRecord<T> {
    fn write(&self, answer: &T) -> Result<Write, ApiError> {
        let (status, id) = (self.outcome)(answer, self.named);
        let result = applied(self.index, status, id);
        let body = serde_json::to_string(&result)
            .map_err(|e| ApiError::Internal(format!("serialize an item result: {e}")))?;
        let recorded = Recorded {
            status,
            body: Some(body),
            location: None,
            version: None,
        };
        Ok(self
            .lease
            .applied_item(self.index, recorded, Timestamp::now())?)
    }
}

fn applied(index: usize, status: u16, id: u64) -> ItemResult {
    ItemResult {
        index,
        status,
        end_user_id: Some(id),
        problem: None,
    }
}

fn failed(index: usize, named: Option<u64>, error: &ApiError) -> ItemResult {
    // The request answers 200: what would have been logged of its failure is logged here.
    match error {
        ApiError::Internal(cause) => tracing::error!(index, cause, "a bulk item failed"),
        ApiError::Unavailable(cause) => tracing::warn!(index, cause, "a bulk item failed"),
        _ => {}
    }
    ItemResult {
        index,
        status: error.status().as_u16(),
        end_user_id: named,
        problem: Some(error.problem_value()),
    }
}

/// The items of the body: 1 to [`MAX_ITEMS`], each still unread.
fn items(call: &Call<'_>) -> Result<Vec<Box<RawValue>>, ApiError> {
    let body: BulkBody = call.json()?;
    let items = body.items.unwrap_or_default();
    if items.is_empty() || items.len() > MAX_ITEMS {
        let message = format!("must hold 1 to {MAX_ITEMS} items");
        return Err(ApiError::Validation(FieldErrors::single("items", message)));
    }
    Ok(items)
}

/// An item as its op reads it; field paths as within the item.
fn read(item: &RawValue) -> Result<Op, ApiError> {
    let head: Head = parse_json(item.get().as_bytes())?;
    let id = || {
        match &head.end_user_id {
            Some(serde_json::Value::Number(n)) => parse_id(&n.to_string()),
            Some(_) => Err("must be an integer".to_owned()),
            None => Err("is required".to_owned()),
        }
        .map_err(|m| ApiError::Validation(FieldErrors::single("endUserID", m)))
    };
    let body = || parse_json::<EndUserBody>(item.get().as_bytes());
    match head.op.as_deref() {
        Some("create") => Ok(Op::Create(body()?)),
        Some("upsert") => {
            let body = body()?;
            let reference = body.customer_ref.clone().ok_or_else(|| {
                ApiError::Validation(FieldErrors::single(
                    "customerRef",
                    "is required: the upsert's reference",
                ))
            })?;
            Ok(Op::Upsert(reference, body))
        }
        Some("update") => Ok(Op::Update(id()?, body()?)),
        Some("delete") => Ok(Op::Delete(id()?)),
        _ => Err(ApiError::Validation(FieldErrors::single(
            "op",
            "must be create, upsert, update or delete",
        ))),
    }
}

/// Runs one op through its use case: `work` given the item's record, if the request is keyed.
async fn settle<T, F, Fut>(
    lease: Option<&Lease>,
    index: usize,
    named: Option<u64>,
    outcome: Outcome<T>,
    work: F,
) -> ItemResult
where
    F: FnOnce(Option<ItemRecord<T>>) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let item_record = lease.map(|lease| ItemRecord {
        lease: lease.clone(),
        index,
        named,
        outcome,
    });
    match work(item_record).await {
        Ok(answer) => {
            let (status, id) = outcome(&answer, named);
            applied(index, status, id)
        }
        Err(error) => failed(index, named, &error),
    }
}

fn created(user: &EndUser, _: Option<u64>) -> (u16, u64) {
    (201, user.id)
}

fn upserted(upserted: &Upserted, _: Option<u64>) -> (u16, u64) {
    match upserted {
        Upserted::Created(user) => (201, user.id),
        Upserted::Updated(user) => (200, user.id),
    }
}

fn updated(user: &EndUser, _: Option<u64>) -> (u16, u64) {
    (200, user.id)
}

fn deleted(_: &(), named: Option<u64>) -> (u16, u64) {
    (204, named.unwrap_or_default())
}

/// Applies item `index`.
async fn apply(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    lease: Option<&Lease>,
    index: usize,
    item: &RawValue,
) -> ItemResult {
    let op = match read(item) {
        Ok(op) => op,
        Err(error) => return failed(index, None, &error),
    };
    let pre = Preconditions::default();
    match op {
        Op::Create(body) => {
            settle(lease, index, None, created, |r| async move {
                end_users::create(table, suppressions, tenant, &body, record(&r)).await
            })
            .await
        }
        Op::Upsert(reference, body) => {
            settle(lease, index, None, upserted, |r| async move {
                let keyed = record(&r);
                upsert::upsert(table, suppressions, tenant, &reference, &body, &pre, keyed).await
            })
            .await
        }
        Op::Update(id, body) => {
            settle(lease, index, Some(id), updated, |r| async move {
                end_users::update(table, suppressions, tenant, id, &body, &pre, record(&r)).await
            })
            .await
        }
        Op::Delete(id) => {
            settle(lease, index, Some(id), deleted, |r| async move {
                end_users::delete(table, suppressions, tenant, id, &pre, record(&r)).await
            })
            .await
        }
    }
}

/// What an earlier run of the request recorded of an item it applied.
fn replayed_item(recorded: Recorded) -> Option<ItemResult> {
    serde_json::from_str(recorded.body.as_deref()?).ok()
}

/// The result of an item not started: the request's time was half gone.
fn not_started(index: usize) -> ItemResult {
    let error =
        ApiError::Unavailable("not started within the request's time; send it again".into());
    failed(index, None, &error)
}

fn answered(results: &Results) -> Result<Reply, ApiError> {
    json(StatusCode::OK, results)
}

/// `POST /api/EndUsers/bulk`.
pub(super) async fn bulk(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let started = Instant::now();
    let start_by = started + call.deadline() / 2;
    keyed::once(
        table,
        call,
        answered,
        |keyed: Option<Keyed<Results>>| async move {
            let items = items(call)?;
            let lease = keyed.as_ref().map(Keyed::lease);
            let mut done = match lease {
                Some(lease) => idempotency::recorded_items(table, lease).await?,
                None => Default::default(),
            };
            // Each item's future boxed as `Send` where it is made: a stream of futures that borrow
            // the request is otherwise not provably `Send` (a known limit of the compiler's
            // higher-ranked reasoning).
            let pending: Vec<BoxFuture<'_, ItemResult>> = items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let earlier = done.remove(&index);
                    async move {
                        if let Some(result) = earlier.and_then(replayed_item) {
                            return result;
                        }
                        if Instant::now() >= start_by {
                            return not_started(index);
                        }
                        apply(table, suppressions, tenant, lease, index, item).await
                    }
                    .boxed()
                })
                .collect();
            // Unordered, so that a slow item holds one slot and not the items behind it.
            let mut results: Vec<ItemResult> = stream::iter(pending)
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            results.sort_by_key(|result| result.index);
            let results = Results { results };
            if let Some(keyed) = &keyed {
                keyed.complete(table, &results).await?;
            }
            Ok(results)
        },
    )
    .await
}
