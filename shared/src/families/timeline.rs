//! The `end-user-timeline` family (SPEC 10): an end user's timeline and the external events
//! recorded on it, by ID or by customerRef (its function: `functions/end-user-timeline`).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};
use serde::Serialize;

use crate::domain::TenantId;
use crate::domain::errors::FieldErrors;
use crate::domain::page::PageRequest;
use crate::domain::timeline::{Entry, EntryKind, ExternalEvent, Position};
use crate::error::ApiError;
use crate::http::cursor::CursorKey;
use crate::http::request::{Call, QueryParams};
use crate::http::response::{Reply, created, json};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::timeline::{self, After};
use crate::store::Table;

use super::keyed::{self, record};
use super::{path_id, path_text};

/// Which end user a route names.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// `{id}`.
    Id,
    /// `byRef/{customerRef}`.
    Reference,
}

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Timeline(Target),
    RecordEvent(Target),
}

const ROUTES: &[Route<Op>] = &[
    Route::new(
        Method::GET,
        "/api/EndUsers/{id}/timeline",
        AuthPolicy::Jwt,
        Op::Timeline(Target::Id),
    ),
    Route::new(
        Method::GET,
        "/api/EndUsers/byRef/{customerRef}/timeline",
        AuthPolicy::Jwt,
        Op::Timeline(Target::Reference),
    ),
    Route::new(
        Method::POST,
        "/api/EndUsers/{id}/events",
        AuthPolicy::Jwt,
        Op::RecordEvent(Target::Id),
    ),
    Route::new(
        Method::POST,
        "/api/EndUsers/byRef/{customerRef}/events",
        AuthPolicy::Jwt,
        Op::RecordEvent(Target::Reference),
    ),
];

pub struct Timeline {
    table: Arc<dyn Table>,
    /// Signs the timeline's cursors.
    cursors: CursorKey,
}

impl Timeline {
    pub fn new(table: Arc<dyn Table>, cursors: CursorKey) -> Self {
        Timeline { table, cursors }
    }
}

/// A page of a timeline, as answered.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TimelinePage {
    items: Vec<Entry>,
    next_cursor: Option<String>,
}

/// What a timeline request asks for.
struct Asked {
    kinds: Vec<EntryKind>,
    size: u32,
    after: Option<After>,
}

/// The name of a timeline list in its cursors: its end user and kinds, so a cursor of one end
/// user's or one filter's list is refused by every other.
fn list_name(end_user_id: u64, kinds: &[EntryKind]) -> String {
    let kinds: Vec<_> = kinds.iter().map(|k| k.as_str()).collect();
    format!("timeline:{end_user_id}:{}", kinds.join(","))
}

/// `kinds=` (comma-separated, repeatable; blank names none), sorted and without repeats.
fn kinds(query: &QueryParams, errors: &mut FieldErrors) -> Vec<EntryKind> {
    let mut kinds = Vec::new();
    let names = query.all("kinds").flat_map(|v| v.split(','));
    for name in names.map(str::trim).filter(|n| !n.is_empty()) {
        match EntryKind::parse(name) {
            Ok(kind) => kinds.push(kind),
            Err(message) => errors.add("kinds", message),
        }
    }
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Where a cursor of list `list` goes on; `None` for a cursor of any other (or none at all).
fn opened(cursors: &CursorKey, tenant: TenantId, list: &str, raw: &str) -> Option<After> {
    let position = cursors.open(tenant, raw).ok()?;
    let (name, place) = position.rsplit_once('@')?;
    let (at, shown) = place.split_once('.')?;
    let after = After {
        position: Position(at.parse().ok()?),
        shown: shown.parse().ok()?,
    };
    (name == list).then_some(after)
}

fn asked(
    query: &QueryParams,
    cursors: &CursorKey,
    tenant: TenantId,
    end_user_id: u64,
) -> Result<Asked, ApiError> {
    let mut errors = FieldErrors::default();
    let kinds = kinds(query, &mut errors);
    let size = query.read("pageSize", &mut errors, 1, PageRequest::size);
    let raw = match query.single("cursor") {
        Ok(raw) => raw.map(str::trim).filter(|raw| !raw.is_empty()),
        Err(message) => {
            errors.add("cursor", message);
            None
        }
    };
    let after = raw.and_then(|raw| {
        let after = opened(cursors, tenant, &list_name(end_user_id, &kinds), raw);
        if after.is_none() {
            errors.add("cursor", "is not a cursor of this list");
        }
        after
    });
    Ok(errors.into_result(Asked { kinds, size, after })?)
}

/// `GET .../timeline`: a page of the end user's timeline and the cursor of the next.
async fn page(
    table: &dyn Table,
    cursors: &CursorKey,
    tenant: TenantId,
    end_user_id: u64,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let asked = asked(call.query(), cursors, tenant, end_user_id)?;
    let size = asked.size as usize;
    let (items, next) =
        timeline::page(table, tenant, end_user_id, &asked.kinds, size, asked.after).await?;
    let list = list_name(end_user_id, &asked.kinds);
    let next_cursor = next.map(|after| {
        let place = format!("{list}@{}.{}", after.position.0, after.shown);
        cursors.seal(tenant, &place)
    });
    json(StatusCode::OK, &TimelinePage { items, next_cursor })
}

/// 201 with the recorded event, located at its end user's timeline.
fn recorded(event: &ExternalEvent) -> Result<Reply, ApiError> {
    let location = format!("/api/EndUsers/{}/timeline", event.end_user_id);
    created(&location, event)
}

#[async_trait]
impl Family for Timeline {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let table = self.table.as_ref();
        let tenant = call.tenant()?;
        match op {
            Op::Timeline(target) => {
                let id = end_user(table, tenant, target, call).await?;
                page(table, &self.cursors, tenant, id, call).await
            }
            Op::RecordEvent(target) => {
                keyed::once(table, call, recorded, |keyed| async move {
                    let body: serde_json::Map<String, serde_json::Value> = call.json()?;
                    let id = end_user(table, tenant, target, call).await?;
                    timeline::record_external(table, tenant, id, &body, record(&keyed)).await
                })
                .await
            }
        }
    }
}

/// The end user a route names: its ID, or the holder of its customerRef (404 when none).
async fn end_user(
    table: &dyn Table,
    tenant: TenantId,
    target: Target,
    call: &Call<'_>,
) -> Result<u64, ApiError> {
    match target {
        Target::Id => path_id(call, "id"),
        Target::Reference => {
            let reference = path_text(call, "customerRef")?;
            timeline::holder_of(table, tenant, &reference).await
        }
    }
}
