//! Tickets and messages, as the desk reads and changes them (SPEC 4).

use super::end_users;
use super::unit_of_work::{self, Exhausted, Record, Step};
use crate::domain::change::{self, ChangeKind};
use crate::domain::ids::IdBlock;
use crate::domain::page::{Page, PageRequest, SortOrder};
use crate::domain::ticket::{
    Direction, Message, Ticket, TicketQuery, TicketUpdate, Transition, select_page,
};
use crate::domain::timeline;
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::ticket::{self, StoredTicket};
use crate::store::timeline as records;
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
    requested: &TicketUpdate,
) -> Result<Ticket, ApiError> {
    unit_of_work::run(table, Exhausted::Conflict, |_| async {
        let read = load(table, tenant, id).await?;
        let now = Timestamp::now();
        let Some((next, transition)) = requested.apply(&read.ticket, now) else {
            return Ok(Step::Done(read.ticket));
        };
        let mut tx = Transaction::new();
        tx.push(ticket::save(tenant, &read, &next)?);
        match transition {
            Transition::Same => {}
            Transition::Closed => {
                tx.push(open_ticket::release(tenant, &read.ticket));
                let closed = timeline::ticket_closed(&next, now);
                tx.push(records::put(tenant, &closed)?);
            }
            Transition::Reopened => tx.push_exclusive(
                open_ticket::claim(tenant, &next),
                "status",
                format!(
                    "another ticket of end user {} is open on channel {}",
                    next.end_user_id, next.channel_id
                ),
            ),
        }
        let kind = ChangeKind::TicketUpdated;
        let changes = vec![change::of_ticket(
            kind,
            tenant,
            &next,
            read.version + 1,
            now,
        )];
        Ok(Step::announce(tx, next, changes, now))
    })
    .await
}

/// An end user's tickets (with those of the end users merged into it), filtered, sorted and
/// paged: one batch read of the end user (404, 410) and its ticket count, then, in the index's
/// own order (no filter, by `lastMessageAt`), one query per end user that stops at the page's
/// end; any other list reads the tickets whole. A merged-into end user costs one more batch
/// read (its sources' counts) and one query per source.
pub async fn list(
    table: &dyn Table,
    tenant: TenantId,
    end_user_id: u64,
    query: &TicketQuery,
) -> Result<Page<Ticket>, ApiError> {
    let user = crate::store::end_user::key(tenant, end_user_id);
    let count = ticket::count_key(tenant, end_user_id);
    let found = table.batch_get(&[user.clone(), count.clone()]).await?;
    let Some(record) = user.find_in(&found).cloned() else {
        return Err(ApiError::NotFound(format!(
            "end user {end_user_id} not found"
        )));
    };
    let user = end_users::live(crate::store::end_user::profile_from_item(record)?)?;
    let owners: Vec<u64> = [end_user_id].into_iter().chain(user.merged_from).collect();
    if !query.in_recency_order() {
        let mut tickets = Vec::new();
        for owner in &owners {
            let partition = ticket::list_partition(tenant, *owner);
            let index = Query::index(&ticket::BY_END_USER, &partition);
            tickets.extend(decoded(every_item(table, &index).await?)?);
        }
        let (page, total) = select_page(tickets, query);
        return Ok(Page::new(page, total, query.page));
    }
    let own = count.find_in(&found).map_or(0, ticket::tickets_counted);
    let total = own + merged_count(table, tenant, &owners[1..]).await?;
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let range = query.page.range(total);
    let mut tickets = Vec::new();
    for owner in owners.iter().filter(|_| !range.is_empty()) {
        let partition = ticket::list_partition(tenant, *owner);
        let index = Query::index(&ticket::BY_END_USER, &partition);
        let index = match query.order {
            SortOrder::Desc => index.descending(),
            SortOrder::Asc => index,
        };
        tickets.extend(decoded(first_items(table, &index, None, range.end).await?)?);
    }
    // The index's own order, across the end users' partitions.
    tickets.sort_by_key(|t| ticket::recency(t.last_message_at, t.id));
    if query.order == SortOrder::Desc {
        tickets.reverse();
    }
    let page = tickets
        .into_iter()
        .take(range.end)
        .skip(range.start)
        .collect();
    Ok(Page::new(page, total, query.page))
}

/// A cursor page of an end user's tickets (with those of the end users merged into it) in
/// recency order, past the ticket whose [`ticket::recency`] is `after`: one read of the end user
/// (404, 410), then one query per end user of at most the page and one more (whether more
/// follow), so its cost is the page's whatever the history. The recency of its last ticket is
/// where the next page goes on, one position shared by every merged partition.
pub async fn list_after(
    table: &dyn Table,
    tenant: TenantId,
    end_user_id: u64,
    size: usize,
    order: SortOrder,
    after: Option<u128>,
) -> Result<(Vec<Ticket>, Option<u128>), ApiError> {
    let Some(record) = table
        .get(&crate::store::end_user::key(tenant, end_user_id))
        .await?
    else {
        return Err(ApiError::NotFound(format!(
            "end user {end_user_id} not found"
        )));
    };
    let user = end_users::live(crate::store::end_user::profile_from_item(record)?)?;
    let mut tickets = Vec::new();
    for owner in [end_user_id].into_iter().chain(user.merged_from) {
        let partition = ticket::list_partition(tenant, owner);
        let index = Query::index(&ticket::BY_END_USER, &partition);
        let index = match (order, after) {
            (SortOrder::Asc, None) => index,
            (SortOrder::Asc, Some(last)) => index.at_least(last.saturating_add(1)),
            (SortOrder::Desc, None) => index.descending(),
            (SortOrder::Desc, Some(last)) => index.up_to(last.saturating_sub(1)).descending(),
        };
        tickets.extend(decoded(first_items(table, &index, None, size + 1).await?)?);
    }
    tickets.sort_by_key(|t| ticket::recency(t.last_message_at, t.id));
    if order == SortOrder::Desc {
        tickets.reverse();
    }
    let more = tickets.len() > size;
    tickets.truncate(size);
    let next = tickets
        .last()
        .filter(|_| more)
        .map(|t| ticket::recency(t.last_message_at, t.id));
    Ok((tickets, next))
}

/// The tickets of the end users `merged` into another: one batch read of their counts.
async fn merged_count(
    table: &dyn Table,
    tenant: TenantId,
    merged: &[u64],
) -> Result<u64, ApiError> {
    if merged.is_empty() {
        return Ok(0);
    }
    let counts: Vec<_> = merged
        .iter()
        .map(|id| ticket::count_key(tenant, *id))
        .collect();
    let found = table.batch_get(&counts).await?;
    Ok(found.iter().map(ticket::tickets_counted).sum())
}

fn decoded(items: Vec<crate::store::Item>) -> Result<Vec<Ticket>, ApiError> {
    let tickets = items
        .into_iter()
        .map(|item| ticket::from_item(item).map(|stored| stored.ticket));
    Ok(tickets.collect::<Result<Vec<_>, _>>()?)
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
    record: Option<&dyn Record<Message>>,
) -> Result<Message, ApiError> {
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |notes| async move {
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
        let entry = timeline::message(ticket.end_user_id, ticket.channel_type, &reply);
        tx.push(records::put(tenant, &entry)?);
        let count = ticket::count_message(tenant, &reply, notes.met(ticket::COUNTED));
        tx.push_noted(count, ticket::COUNTED);
        let added = change::message_added(
            tenant,
            ticket.end_user_id,
            ticket_id,
            ticket.channel_id,
            reply.id,
            counted + 1,
            now,
        );
        Ok(Step::announce(tx, reply, vec![added], now))
    })
    .await
}
