//! The `tickets` family: `/api/Tickets/...` (its function: `functions/tickets`).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};

use crate::domain::errors::FieldErrors;
use crate::domain::page::PageRequest;
use crate::domain::ticket::{Message, ReplyBody, TicketBody, TicketUpdate};
use crate::error::ApiError;
use crate::http::request::{Call, QueryParams};
use crate::http::response::{Reply, created, json};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::tickets;
use crate::store::Table;

use super::keyed::{self, record};
use super::path_id;

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Get,
    Update,
    Messages,
    Reply,
}

const ROUTES: &[Route<Op>] = &[
    Route::new(
        Method::GET,
        "/api/Tickets/{ticketID}",
        AuthPolicy::Jwt,
        Op::Get,
    ),
    Route::new(
        Method::PUT,
        "/api/Tickets/{ticketID}",
        AuthPolicy::Jwt,
        Op::Update,
    ),
    Route::new(
        Method::GET,
        "/api/Tickets/{ticketID}/messages",
        AuthPolicy::Jwt,
        Op::Messages,
    ),
    Route::new(
        Method::POST,
        "/api/Tickets/{ticketID}/messages",
        AuthPolicy::Jwt,
        Op::Reply,
    ),
];

/// Who a reply is from when the token names no one (`sub`).
const DESK: &str = "desk";

pub struct Tickets {
    table: Arc<dyn Table>,
}

impl Tickets {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Tickets { table }
    }
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
        let tenant = call.tenant()?;
        let id = path_id(call, "ticketID")?;
        match op {
            Op::Get => {
                let stored = tickets::load(table, tenant, id).await?;
                json(StatusCode::OK, &stored.ticket.view())
            }
            Op::Update => {
                let body: TicketBody = call.json()?;
                let change = TicketUpdate::read(&body)?;
                let ticket = tickets::update(table, tenant, id, &change).await?;
                json(StatusCode::OK, &ticket.view())
            }
            Op::Messages => {
                let page = page(call.query())?;
                let messages = tickets::messages(table, tenant, id, page).await?;
                json(StatusCode::OK, &messages.map(Message::view))
            }
            Op::Reply => {
                keyed::once(table, call, replied, |keyed| async move {
                    let body: ReplyBody = call.json()?;
                    let author = call.subject().unwrap_or(DESK);
                    tickets::reply(table, tenant, id, body.text()?, author, record(&keyed)).await
                })
                .await
            }
        }
    }
}
