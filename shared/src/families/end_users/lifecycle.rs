//! The identity lifecycle routes of the family (SPEC 7): merge, the merges list, undo,
//! anonymize.

use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::domain::end_user::{EndUserView, MergeView};
use crate::domain::errors::FieldErrors;
use crate::domain::{TenantId, parse_id};
use crate::error::ApiError;
use crate::families::path_id;
use crate::http::request::Call;
use crate::http::response::{Reply, json};
use crate::service::{anonymize, merges};
use crate::store::Table;

#[derive(Deserialize)]
struct MergeBody {
    #[serde(rename = "sourceEndUserID")]
    source: Option<u64>,
}

/// The answer of a merge: the target, with the merge's ID.
#[derive(Serialize)]
struct MergedView {
    #[serde(flatten)]
    target: EndUserView,
    #[serde(rename = "mergeID")]
    merge_id: u64,
}

/// The answer of an undo: both end users.
#[derive(Serialize)]
struct UndoneView {
    target: EndUserView,
    source: EndUserView,
}

#[derive(Serialize)]
struct Merges {
    items: Vec<MergeView>,
}

/// `POST /api/EndUsers/{id}/merge` `{"sourceEndUserID"}`.
pub(super) async fn merge(
    table: &dyn Table,
    tenant: TenantId,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let target = path_id(call, "id")?;
    let pre = call.preconditions()?;
    let body: MergeBody = call.json()?;
    let source = body
        .source
        .ok_or_else(|| "is required".to_owned())
        .and_then(|id| parse_id(&id.to_string()))
        .map_err(|m| ApiError::Validation(FieldErrors::single("sourceEndUserID", m)))?;
    let merged = merges::merge(table, tenant, target, source, call.subject(), &pre).await?;
    let view = MergedView {
        target: merged.target.view(),
        merge_id: merged.merge_id,
    };
    Ok(json(StatusCode::OK, &view)?.tagged(merged.target.version))
}

/// `GET /api/EndUsers/{id}/merges`.
pub(super) async fn list(
    table: &dyn Table,
    tenant: TenantId,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let records = merges::list(table, tenant, path_id(call, "id")?).await?;
    let items = records.iter().map(|r| r.view()).collect();
    json(StatusCode::OK, &Merges { items })
}

/// `POST /api/EndUsers/{id}/merges/{mergeID}/undo`.
pub(super) async fn undo(
    table: &dyn Table,
    tenant: TenantId,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let target = path_id(call, "id")?;
    let merge_id = path_id(call, "mergeID")?;
    let undone = merges::undo(table, tenant, target, merge_id, call.subject()).await?;
    let view = UndoneView {
        target: undone.target.view(),
        source: undone.source.view(),
    };
    json(StatusCode::OK, &view)
}

/// `POST /api/EndUsers/{id}/anonymize`.
pub(super) async fn anonymize(
    table: &dyn Table,
    tenant: TenantId,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let pre = call.preconditions()?;
    let user = anonymize::anonymize(table, tenant, path_id(call, "id")?, &pre).await?;
    Ok(json(StatusCode::OK, &user.view())?.tagged(user.version))
}
