//! Cursor paging (SPEC 7) of the end-user list (by `endUserID`) and of an end user's tickets
//! (by `lastMessageAt`): a page and a cursor at a time, its cost that of the page whatever the
//! tenant's size or the end user's history.

use lambda_http::http::StatusCode;

use crate::domain::TenantId;
use crate::domain::end_user::SORT_FIELDS;
use crate::domain::errors::FieldErrors;
use crate::domain::page::{CursorPage, PageRequest, SortOrder};
use crate::domain::ticket::Ticket;
use crate::domain::ticket::listing::SORT_FIELDS as TICKET_SORT_FIELDS;
use crate::error::ApiError;
use crate::http::cursor::CursorKey;
use crate::http::request::QueryParams;
use crate::http::response::{Reply, json};
use crate::service::{end_users, tickets};
use crate::store::Table;

/// The filters of the tickets list, which only paging by number serves.
const TICKET_FILTERS: [&str; 7] = [
    "status",
    "customerRepID",
    "channelType",
    "channelIDs",
    "uid",
    "isClosed",
    "isSpam",
];

/// What a cursor-paged list asks for: its page size, order and where it goes on (the sort key
/// of the previous page's last entry).
pub(super) struct CursorPaging {
    /// Names the list in its cursors (the tickets list: with its end user), so that a cursor of
    /// one list is refused by every other.
    list: String,
    size: u32,
    order: SortOrder,
    after: Option<u128>,
}

fn order_name(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Asc => "asc",
        SortOrder::Desc => "desc",
    }
}

impl CursorPaging {
    /// The cursor of the page after the entry whose sort key is `last`.
    fn cursor(&self, cursors: &CursorKey, tenant: TenantId, last: u128) -> String {
        let position = format!("{}:{}:{last}", self.list, order_name(self.order));
        cursors.seal(tenant, &position)
    }
}

/// The cursor paging of `GET /api/EndUsers?cursor=...` (`cursor=` empty for the first page),
/// `None` without `cursor`. It lists by `endUserID` only: `search`, another `sortBy`,
/// `pageNumber`, attribute and consent filters are 400s beside it, as is a cursor of another order.
pub(super) fn end_user_cursor(
    query: &QueryParams,
    cursors: &CursorKey,
    tenant: TenantId,
) -> Result<Option<CursorPaging>, ApiError> {
    let attributes = query.prefixed("attributes.").next().is_some();
    let consent = query.all("consent").next().is_some();
    let filters = [(attributes, "attributes"), (consent, "consent")]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect();
    let list = List {
        name: "endusers".into(),
        sort_field: SORT_FIELDS[0].0,
        default_order: SortOrder::Asc,
        filters,
    };
    cursor_query(query, cursors, tenant, list)
}

/// The cursor paging of `GET /api/EndUsers/{id}/tickets?cursor=...`, `None` without `cursor`:
/// by `lastMessageAt` only (newest first by default), without filters or `search`.
pub(super) fn ticket_cursor(
    query: &QueryParams,
    cursors: &CursorKey,
    tenant: TenantId,
    end_user_id: u64,
) -> Result<Option<CursorPaging>, ApiError> {
    let filters = TICKET_FILTERS
        .into_iter()
        .filter(|name| query.all(name).next().is_some())
        .collect();
    let list = List {
        name: format!("tickets/{end_user_id}"),
        sort_field: TICKET_SORT_FIELDS[0].0,
        default_order: SortOrder::Desc,
        filters,
    };
    cursor_query(query, cursors, tenant, list)
}

/// A cursor-paged list, as [`cursor_query`] reads a request of it.
struct List {
    name: String,
    /// Its one sort field.
    sort_field: &'static str,
    default_order: SortOrder,
    /// The filters the request gives, which the list cannot combine with a cursor.
    filters: Vec<&'static str>,
}

fn cursor_query(
    query: &QueryParams,
    cursors: &CursorKey,
    tenant: TenantId,
    list: List,
) -> Result<Option<CursorPaging>, ApiError> {
    let raw = query
        .single("cursor")
        .map_err(|m| ApiError::Validation(FieldErrors::single("cursor", m)))?;
    let Some(raw) = raw.map(str::trim) else {
        return Ok(None);
    };
    let mut errors = FieldErrors::default();
    let size = query.read("pageSize", &mut errors, 1, PageRequest::size);
    let order = query.read("sortOrder", &mut errors, list.default_order, |raw| {
        SortOrder::parse(raw, list.default_order)
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
                .all(|field| field.trim().eq_ignore_ascii_case(list.sort_field)),
        ),
    ];
    let refused = combined
        .iter()
        .filter(|(_, fine)| !fine)
        .map(|(name, _)| name);
    for name in refused.chain(&list.filters) {
        errors.add(*name, "cannot be combined with cursor");
    }
    let mut after = None;
    if !raw.is_empty() {
        let position = cursors.open(tenant, raw).map_err(ApiError::Validation)?;
        let mut parts = position.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(kind), Some(last)) if name == list.name => {
                if kind == order_name(order) {
                    after = last.parse().ok();
                } else {
                    errors.add("cursor", "belongs to a list of another sortOrder");
                }
            }
            _ => errors.add("cursor", "is not a cursor of this list"),
        }
    }
    Ok(Some(errors.into_result(CursorPaging {
        list: list.name,
        size,
        order,
        after,
    })?))
}

/// One cursor-paged page of the tenant's end users, and the cursor of the next.
pub(super) async fn end_users_by_cursor(
    table: &dyn Table,
    tenant: TenantId,
    cursors: &CursorKey,
    paging: CursorPaging,
) -> Result<Reply, ApiError> {
    let after = paging.after.and_then(|id| u64::try_from(id).ok());
    let size = paging.size as usize;
    let (items, next) = end_users::list_after(table, tenant, size, paging.order, after).await?;
    let next_cursor = next.map(|id| paging.cursor(cursors, tenant, u128::from(id)));
    let page = CursorPage {
        items,
        page_size: paging.size,
        next_cursor,
    };
    json(StatusCode::OK, &page)
}

/// One cursor-paged page of an end user's tickets, and the cursor of the next.
pub(super) async fn tickets_by_cursor(
    table: &dyn Table,
    tenant: TenantId,
    end_user_id: u64,
    cursors: &CursorKey,
    paging: CursorPaging,
) -> Result<Reply, ApiError> {
    let size = paging.size as usize;
    let (tickets, next) =
        tickets::list_after(table, tenant, end_user_id, size, paging.order, paging.after).await?;
    let page = CursorPage {
        items: tickets.iter().map(Ticket::view).collect(),
        page_size: paging.size,
        next_cursor: next.map(|last| paging.cursor(cursors, tenant, last)),
    };
    json(StatusCode::OK, &page)
}
