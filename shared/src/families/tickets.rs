//! The `tickets` family: `/api/Tickets/...` and an end user's tickets,
//! `/api/EndUsers/{id}/tickets` (its function: `functions/tickets`).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};

use crate::domain::customer::ChannelType;
use crate::domain::errors::FieldErrors;
use crate::domain::fields::Choice;
use crate::domain::page::{PageRequest, SortOrder, parse_search, parse_sort_field};
use crate::domain::ticket::listing::SORT_FIELDS;
use crate::domain::ticket::{
    Message, ReplyBody, Ticket, TicketBody, TicketQuery, TicketStatus, TicketUpdate,
};
use crate::domain::uid::Uid;
use crate::domain::{MAX_ID, parse_id};
use crate::error::ApiError;
use crate::http::cursor::CursorKey;
use crate::http::request::{Call, QueryParams};
use crate::http::response::{Reply, created, json};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::tickets;
use crate::store::Table;

use super::keyed::{self, record};
use super::{page_request, paging, path_id};

#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// An end user's tickets.
    OfEndUser,
    /// One ticket's operation.
    Ticket(OnTicket),
}

#[derive(Clone, Copy, Debug)]
pub enum OnTicket {
    Get,
    Update,
    Messages,
    Reply,
}

const ROUTES: &[Route<Op>] = &[
    Route::new(
        Method::GET,
        "/api/EndUsers/{id}/tickets",
        AuthPolicy::Jwt,
        Op::OfEndUser,
    ),
    Route::new(
        Method::GET,
        "/api/Tickets/{ticketID}",
        AuthPolicy::Jwt,
        Op::Ticket(OnTicket::Get),
    ),
    Route::new(
        Method::PUT,
        "/api/Tickets/{ticketID}",
        AuthPolicy::Jwt,
        Op::Ticket(OnTicket::Update),
    ),
    Route::new(
        Method::GET,
        "/api/Tickets/{ticketID}/messages",
        AuthPolicy::Jwt,
        Op::Ticket(OnTicket::Messages),
    ),
    Route::new(
        Method::POST,
        "/api/Tickets/{ticketID}/messages",
        AuthPolicy::Jwt,
        Op::Ticket(OnTicket::Reply),
    ),
];

/// Who a reply is from when the token names no one (`sub`).
const DESK: &str = "desk";

pub struct Tickets {
    table: Arc<dyn Table>,
    /// Signs the cursors of an end user's tickets list.
    cursors: CursorKey,
}

impl Tickets {
    pub fn new(table: Arc<dyn Table>, cursors: CursorKey) -> Self {
        Tickets { table, cursors }
    }
}

/// A `true`/`false` filter, any case.
fn flag(raw: Option<&str>) -> Result<Option<bool>, String> {
    match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err("must be true or false".into()),
    }
}

/// The query of `GET /api/EndUsers/{id}/tickets`, every invalid parameter named.
fn ticket_query(query: &QueryParams) -> Result<TicketQuery, ApiError> {
    let mut errors = FieldErrors::default();
    let status = query.read("status", &mut errors, None, |raw| {
        raw.map(TicketStatus::parse).transpose()
    });
    let customer_rep_id = query.read("customerRepID", &mut errors, None, |raw| match raw {
        None => Ok(None),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(0) => Ok(Some(None)),
            Ok(id) if id <= MAX_ID => Ok(Some(Some(id))),
            _ => Err(format!("must be 0 (unassigned) to {MAX_ID}")),
        },
    });
    let channel_type = query.read("channelType", &mut errors, None, |raw| {
        raw.map(ChannelType::parse).transpose()
    });
    let mut channel_ids = Vec::new();
    for id in query.all("channelIDs").flat_map(|v| v.split(',')) {
        match parse_id(id.trim()) {
            Ok(id) => channel_ids.push(id),
            Err(message) => errors.add("channelIDs", message),
        }
    }
    let uids = query.read("uid", &mut errors, None, |raw| match raw.map(str::trim) {
        None => Ok(None),
        Some("") => Err("must not be empty".to_owned()),
        Some(raw) => Ok(Some(
            Uid::candidates(raw, None)
                .into_iter()
                .map(|uid| uid.value().to_owned())
                .collect(),
        )),
    });
    let is_closed = query.read("isClosed", &mut errors, None, flag);
    let is_spam = query.read("isSpam", &mut errors, None, flag);
    let search = query.read("search", &mut errors, None, parse_search);
    let sort_by = query.read("sortBy", &mut errors, SORT_FIELDS[0].1, |raw| {
        parse_sort_field(raw, SORT_FIELDS)
    });
    let order = query.read("sortOrder", &mut errors, SortOrder::Desc, |raw| {
        SortOrder::parse(raw, SortOrder::Desc)
    });
    let page = page_request(query, &mut errors);
    Ok(errors.into_result(TicketQuery {
        status,
        customer_rep_id,
        channel_type,
        channel_ids,
        uids,
        is_closed,
        is_spam,
        search,
        sort_by,
        order,
        page,
    })?)
}

/// `GET /api/EndUsers/{id}/tickets`: by cursor, or a numbered page of the filtered list.
async fn of_end_user(
    table: &dyn Table,
    cursors: &CursorKey,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let tenant = call.tenant()?;
    let id = path_id(call, "id")?;
    if let Some(paging) = paging::ticket_cursor(call.query(), cursors, tenant, id)? {
        return paging::tickets_by_cursor(table, tenant, id, cursors, paging).await;
    }
    let query = ticket_query(call.query())?;
    let page = tickets::list(table, tenant, id, &query).await?;
    json(StatusCode::OK, &page.map(Ticket::view))
}

/// 201 with the desk's reply, located at its ticket's messages.
fn replied(reply: &Message) -> Result<Reply, ApiError> {
    let location = format!("/api/Tickets/{}/messages", reply.ticket_id);
    created(&location, &reply.view())
}

/// `pageNumber` and `pageSize` of a messages page.
fn page(query: &QueryParams) -> Result<PageRequest, ApiError> {
    let mut errors = FieldErrors::default();
    let page = super::page_request(query, &mut errors);
    Ok(errors.into_result(page)?)
}

#[async_trait]
impl Family for Tickets {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let table = self.table.as_ref();
        match op {
            Op::OfEndUser => of_end_user(table, &self.cursors, call).await,
            Op::Ticket(op) => on_ticket(table, op, call).await,
        }
    }
}

/// The operations of `/api/Tickets/{ticketID}...`.
async fn on_ticket(table: &dyn Table, op: OnTicket, call: &Call<'_>) -> Result<Reply, ApiError> {
    let tenant = call.tenant()?;
    let id = path_id(call, "ticketID")?;
    match op {
        OnTicket::Get => {
            let stored = tickets::load(table, tenant, id).await?;
            json(StatusCode::OK, &stored.ticket.view())
        }
        OnTicket::Update => {
            let body: TicketBody = call.json()?;
            let change = TicketUpdate::read(&body)?;
            let ticket = tickets::update(table, tenant, id, &change).await?;
            json(StatusCode::OK, &ticket.view())
        }
        OnTicket::Messages => {
            let page = page(call.query())?;
            let messages = tickets::messages(table, tenant, id, page).await?;
            json(StatusCode::OK, &messages.map(Message::view))
        }
        OnTicket::Reply => {
            keyed::once(table, call, replied, |keyed| async move {
                let body: ReplyBody = call.json()?;
                let author = call.subject().unwrap_or(DESK);
                tickets::reply(table, tenant, id, body.text()?, author, record(&keyed)).await
            })
            .await
        }
    }
}
