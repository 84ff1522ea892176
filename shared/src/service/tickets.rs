//! Tickets and messages, as the desk reads and changes them (SPEC 4).

use super::unit_of_work::{self, Exhausted, Step};
use crate::domain::ids::IdBlock;
use crate::domain::page::{Page, PageRequest, SortOrder};
use crate::domain::ticket::{
    Direction, Message, Ticket, TicketQuery, TicketUpdate, Transition, select_page,
};
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::ticket::{self, StoredTicket};
use crate::store::{
    Query, Table, Transaction, every_item, first_items, id_block, message, open_ticket,
};

/// The ticket, strongly consistent: one read.
pub async fn load(table: &dyn Table, tenant: TenantId, id: u64) -> Result<StoredTicket, ApiError> {
    match table.get(&ticket::key(tenant, id)).await? {
        Some(item) => Ok(ticket::from_item(item)?),
        None => Err(ApiError::NotFound(format!("no ticket {id}"))),
    }
}

/// `PUT /api/Tickets/{ticketID}`: one read and one write. Closing frees the channel for a new
/// ticket; reopening claims it again, which fails (409) while another ticket of the end user is
/// open there.
pub async fn update(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
    change: &TicketUpdate,
) -> Result<Ticket, ApiError> {
    unit_of_work::run(table, Exhausted::Conflict, |_| async {
        let read = load(table, tenant, id).await?;
        let Some((next, transition)) = change.apply(&read.ticket, Timestamp::now()) else {
            return Ok(Step::Done(read.ticket));
        };
        let mut tx = Transaction::new();
        tx.push(ticket::save(tenant, &read, &next)?);
        match transition {
            Transition::Same => {}
            Transition::Closed => tx.push(open_ticket::release(tenant, &read.ticket)),
            Transition::Reopened => tx.push_exclusive(
                open_ticket::claim(tenant, &next),
                "status",
                format!(
                    "another ticket of end user {} is open on channel {}",
                    next.end_user_id, next.channel_id
                ),
            ),
        }
        Ok(Step::commit(tx, next))
    })
    .await
}

/// An end user's tickets, filtered, sorted and paged: one batch read of the end user (404) and
/// its ticket count, then, in the index's own order (no filter, by `lastMessageAt`), one query
/// that stops at the page's end; any other list reads the end user's tickets whole.
pub async fn list(
    table: &dyn Table,
    tenant: TenantId,
    end_user_id: u64,
    query: &TicketQuery,
) -> Result<Page<Ticket>, ApiError> {
    let user = crate::store::end_user::key(tenant, end_user_id);
    let count = ticket::count_key(tenant, end_user_id);
    let found = table.batch_get(&[user.clone(), count.clone()]).await?;
    if user.find_in(&found).is_none() {
        return Err(ApiError::NotFound(format!(
            "end user {end_user_id} not found"
        )));
    }
    let partition = ticket::list_partition(tenant, end_user_id);
    let index = Query::index(&ticket::BY_END_USER, &partition);
    if query.in_recency_order() {
        let total = count.find_in(&found).map_or(0, ticket::tickets_counted);
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        let range = query.page.range(total);
        if range.is_empty() {
            return Ok(Page::new(Vec::new(), total, query.page));
        }
        let index = match query.order {
            SortOrder::Desc => index.descending(),
            SortOrder::Asc => index,
        };
        let items = first_items(table, &index, None, range.end).await?;
        let tickets = items
            .into_iter()
            .skip(range.start)
            .map(|item| ticket::from_item(item).map(|stored| stored.ticket))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Page::new(tickets, total, query.page));
    }
    let items = every_item(table, &index).await?;
    let tickets = items
        .into_iter()
        .map(|item| ticket::from_item(item).map(|stored| stored.ticket))
        .collect::<Result<Vec<_>, _>>()?;
    let (page, total) = select_page(tickets, query);
    Ok(Page::new(page, total, query.page))
}

/// A page of a ticket's messages, oldest first: the ticket (its message count, 404) and one
/// query of the page alone (messages are keyed by their position).
pub async fn messages(
    table: &dyn Table,
    tenant: TenantId,
    ticket_id: u64,
    page: PageRequest,
) -> Result<Page<Message>, ApiError> {
    let read = load(table, tenant, ticket_id).await?;
    let total = usize::try_from(read.ticket.message_count).unwrap_or(usize::MAX);
    let range = page.range(total);
    if range.is_empty() {
        return Ok(Page::new(Vec::new(), total, page));
    }
    let partition = ticket::partition(tenant, ticket_id);
    let start = message::page_start(tenant, ticket_id, range.start as u64);
    let query = Query::table(&partition, message::PREFIX);
    let items = first_items(table, &query, start, range.len()).await?;
    let messages = items
        .into_iter()
        .map(message::from_item)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::new(messages, total, page))
}

/// `POST /api/Tickets/{ticketID}/messages`: the desk's reply, from `author`. One read (404, and
/// 409 when closed) and one transaction: the message, its ID block's guard, and the ticket
/// counting it while still open.
pub async fn reply(
    table: &dyn Table,
    tenant: TenantId,
    ticket_id: u64,
    text: &str,
    author: &str,
) -> Result<Message, ApiError> {
    unit_of_work::run(table, Exhausted::Conflict, |notes| async move {
        let read = load(table, tenant, ticket_id).await?;
        if read.ticket.is_closed() {
            return Err(ApiError::Conflict {
                detail: format!("ticket {ticket_id} is closed"),
                errors: crate::domain::errors::FieldErrors::single(
                    "ticketID",
                    "a closed ticket takes no replies; reopen it first",
                ),
                holder: None,
            });
        }
        let now = Timestamp::now();
        let mut block = IdBlock::for_existing_end_user();
        let id = block
            .next_id()
            .ok_or_else(|| ApiError::Internal("an empty ID block".into()))?;
        let reply = Message {
            id,
            ticket_id,
            direction: Direction::Outbound,
            provider_message_id: None,
            from: author.to_owned(),
            text: text.to_owned(),
            subject: None,
            received_at: now,
        };
        let mut tx = Transaction::new();
        tx.push(id_block::claim(tenant, &block, now));
        let counted = read.ticket.message_count;
        let open = open_ticket::Open {
            ticket_id,
            message_count: counted,
        };
        let ticket = &read.ticket;
        tx.push(open_ticket::count(
            tenant,
            ticket.end_user_id,
            ticket.channel_id,
            open,
        ));
        tx.push(message::create(tenant, &reply, counted + 1)?);
        let count = ticket::count_message(tenant, &reply, notes.met(ticket::COUNTED));
        tx.push_noted(count, ticket::COUNTED);
        Ok(Step::commit(tx, reply))
    })
    .await
}
