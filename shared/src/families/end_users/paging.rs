//! Cursor paging of the end-user list (SPEC 7): by `endUserID`, a page and a cursor at a time,
//! its cost that of the page whatever the tenant's size.

use lambda_http::http::StatusCode;

use crate::domain::TenantId;
use crate::domain::end_user::SORT_FIELDS;
use crate::domain::errors::FieldErrors;
use crate::domain::page::{CursorPage, PageRequest, SortOrder};
use crate::error::ApiError;
use crate::http::cursor::CursorKey;
use crate::http::request::QueryParams;
use crate::http::response::{Reply, json};
use crate::service::end_users;
use crate::store::Table;

/// What a cursor-paged list asks for: its page size, order and where it goes on.
pub(super) struct CursorPaging {
    size: u32,
    order: SortOrder,
    after: Option<u64>,
}

fn order_name(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Asc => "asc",
        SortOrder::Desc => "desc",
    }
}

/// The cursor paging of `GET /api/EndUsers?cursor=...` (`cursor=` empty for the first page),
/// `None` without `cursor`. It lists by `endUserID` only: `search`, another `sortBy`,
/// `pageNumber` and attribute filters are 400s beside it, as is a cursor of another order.
pub(super) fn cursor_query(
    query: &QueryParams,
    cursors: &CursorKey,
    tenant: TenantId,
) -> Result<Option<CursorPaging>, ApiError> {
    let raw = query
        .single("cursor")
        .map_err(|m| ApiError::Validation(FieldErrors::single("cursor", m)))?;
    let Some(raw) = raw.map(str::trim) else {
        return Ok(None);
    };
    let mut errors = FieldErrors::default();
    let size = query.read("pageSize", &mut errors, 1, PageRequest::size);
    let order = query.read("sortOrder", &mut errors, SortOrder::Asc, |raw| {
        SortOrder::parse(raw, SortOrder::Asc)
    });
    // Any of these given (a blank search is none) asks for what only pages by number do.
    let combined = [
        ("pageNumber", query.all("pageNumber").next().is_none()),
        (
            "search",
            query.all("search").all(|term| term.trim().is_empty()),
        ),
        (
            "sortBy",
            query
                .all("sortBy")
                .all(|field| field.trim().eq_ignore_ascii_case(SORT_FIELDS[0].0)),
        ),
        ("attributes", query.prefixed("attributes.").next().is_none()),
    ];
    for (name, _) in combined.iter().filter(|(_, fine)| !fine) {
        errors.add(*name, "cannot be combined with cursor");
    }
    let mut after = None;
    if !raw.is_empty() {
        match cursors.open(tenant, raw) {
            Ok(position) => match position.split_once(':') {
                Some((kind, id)) if kind == order_name(order) => after = id.parse().ok(),
                _ => errors.add("cursor", "belongs to a list of another sortOrder"),
            },
            Err(refused) => return Err(ApiError::Validation(refused)),
        }
    }
    Ok(Some(errors.into_result(CursorPaging {
        size,
        order,
        after,
    })?))
}

/// One cursor-paged page of the tenant's end users, and the cursor of the next.
pub(super) async fn list_by_cursor(
    table: &dyn Table,
    tenant: TenantId,
    cursors: &CursorKey,
    paging: CursorPaging,
) -> Result<Reply, ApiError> {
    let (items, next) = end_users::list_after(
        table,
        tenant,
        paging.size as usize,
        paging.order,
        paging.after,
    )
    .await?;
    let next_cursor =
        next.map(|id| cursors.seal(tenant, &format!("{}:{id}", order_name(paging.order))));
    let page = CursorPage {
        items,
        page_size: paging.size,
        next_cursor,
    };
    json(StatusCode::OK, &page)
}
