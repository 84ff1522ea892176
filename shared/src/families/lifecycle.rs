//! The `end-user-lifecycle` family (SPEC 7's identity lifecycle): merge, the merges list, undo,
//! anonymize (its function: `functions/end-user-lifecycle`). Its own function keeps the code of
//! merges and erasure out of the end-users function's binary.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::domain::end_user::{EndUser, Unfolded};
use crate::domain::end_user::{EndUserView, MergeView};
use crate::domain::errors::FieldErrors;
use crate::domain::{TenantId, parse_id};
use crate::error::ApiError;
use crate::families::keyed::{self, record};
use crate::families::path_id;
use crate::http::request::Call;
use crate::http::response::{Reply, json};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::merges::Merged;
use crate::service::{anonymize, merges};
use crate::store::Table;
use crate::vault::suppression::Suppressions;

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Merge,
    Merges,
    Undo,
    Anonymize,
}

const ROUTES: &[Route<Op>] = &[
    Route::new(
        Method::POST,
        "/api/EndUsers/{id}/merge",
        AuthPolicy::Jwt,
        Op::Merge,
    ),
    Route::new(
        Method::GET,
        "/api/EndUsers/{id}/merges",
        AuthPolicy::Jwt,
        Op::Merges,
    ),
    Route::new(
        Method::POST,
        "/api/EndUsers/{id}/merges/{mergeID}/undo",
        AuthPolicy::Jwt,
        Op::Undo,
    ),
    Route::new(
        Method::POST,
        "/api/EndUsers/{id}/anonymize",
        AuthPolicy::Jwt,
        Op::Anonymize,
    ),
];

pub struct Lifecycle {
    table: Arc<dyn Table>,
    /// Keeps the erased opted-out addresses (SPEC 9).
    suppressions: Arc<Suppressions>,
}

impl Lifecycle {
    pub fn new(table: Arc<dyn Table>, suppressions: Arc<Suppressions>) -> Self {
        Lifecycle {
            table,
            suppressions,
        }
    }
}

#[async_trait]
impl Family for Lifecycle {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let table = self.table.as_ref();
        let tenant = call.tenant()?;
        match op {
            Op::Merge => merge(table, tenant, call).await,
            Op::Merges => list(table, tenant, call).await,
            Op::Undo => undo(table, tenant, call).await,
            Op::Anonymize => anonymize(table, &self.suppressions, tenant, call).await,
        }
    }
}

/// The schemas of the family's own bodies and answers.
#[cfg(feature = "openapi")]
pub(super) fn schemas(found: &mut Vec<super::NamedSchema>) {
    super::add::<MergeBody>(found);
    super::add::<MergedView>(found);
    super::add::<UndoneView>(found);
    super::add::<Merges>(found);
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct MergeBody {
    #[serde(rename = "sourceEndUserID")]
    source: Option<u64>,
}

/// The answer of a merge: the target, with the merge's ID.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct MergedView {
    #[serde(flatten)]
    target: EndUserView,
    #[serde(rename = "mergeID")]
    merge_id: u64,
}

/// The answer of an undo: both end users.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct UndoneView {
    target: EndUserView,
    source: EndUserView,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct Merges {
    items: Vec<MergeView>,
}

/// `POST /api/EndUsers/{id}/merge` `{"sourceEndUserID"}`.
async fn merge(table: &dyn Table, tenant: TenantId, call: &Call<'_>) -> Result<Reply, ApiError> {
    keyed::once(table, call, merged, |keyed| async move {
        let target = path_id(call, "id")?;
        let pre = call.preconditions()?;
        let body: MergeBody = call.json()?;
        let source = body
            .source
            .ok_or_else(|| "is required".to_owned())
            .and_then(|id| parse_id(&id.to_string()))
            .map_err(|m| ApiError::Validation(FieldErrors::single("sourceEndUserID", m)))?;
        let by = call.subject();
        merges::merge(table, tenant, target, source, by, &pre, record(&keyed)).await
    })
    .await
}

/// 200 with the target of a merge and the merge's ID.
fn merged(merged: &Merged) -> Result<Reply, ApiError> {
    let view = MergedView {
        target: merged.target.view(),
        merge_id: merged.merge_id,
    };
    Ok(json(StatusCode::OK, &view)?.tagged(merged.target.version))
}

/// `GET /api/EndUsers/{id}/merges`.
async fn list(table: &dyn Table, tenant: TenantId, call: &Call<'_>) -> Result<Reply, ApiError> {
    let records = merges::list(table, tenant, path_id(call, "id")?).await?;
    let items = records.iter().map(|r| r.view()).collect();
    json(StatusCode::OK, &Merges { items })
}

/// `POST /api/EndUsers/{id}/merges/{mergeID}/undo`.
async fn undo(table: &dyn Table, tenant: TenantId, call: &Call<'_>) -> Result<Reply, ApiError> {
    keyed::once(table, call, undone, |keyed| async move {
        let target = path_id(call, "id")?;
        let merge_id = path_id(call, "mergeID")?;
        let by = call.subject();
        merges::undo(table, tenant, target, merge_id, by, record(&keyed)).await
    })
    .await
}

/// 200 with both end users of an undone merge.
fn undone(undone: &Unfolded) -> Result<Reply, ApiError> {
    let view = UndoneView {
        target: undone.target.view(),
        source: undone.source.view(),
    };
    json(StatusCode::OK, &view)
}

/// `POST /api/EndUsers/{id}/anonymize`.
async fn anonymize(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    keyed::once(table, call, anonymized, |keyed| async move {
        let pre = call.preconditions()?;
        let id = path_id(call, "id")?;
        anonymize::anonymize(table, suppressions, tenant, id, &pre, record(&keyed)).await
    })
    .await
}

/// 200 with the anonymized end user.
fn anonymized(user: &EndUser) -> Result<Reply, ApiError> {
    Ok(json(StatusCode::OK, &user.view())?.tagged(user.version))
}
