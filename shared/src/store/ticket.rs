//! Ticket items: `T#{tenant}#TK#{ticketID}` / `TICKET`, found by ID alone (the messages share the
//! partition). `GSI2` lists an end user's tickets by recency (`lastMessageAt`, then ticket ID),
//! the list's default order, so its pages are read from the index alone; the end user's ticket
//! count (`T#{tenant}#EU#{endUserID}` / `TICKETS`) gives its total. A closed ticket also enters
//! the tenant's closed tickets in the sweep's index (`sweep`), by when it closed. Every desk write is
//! conditional on the version it read; a message counts itself in place (`ADD`), moving the
//! version on too.

use super::item::{Kind, decode, encode, keyed, number};
use super::{AttributeValue, Condition, Index, Item, Key, Projection, StoreError, Write, sweep};
use crate::domain::ticket::{Direction, Message, Ticket};
use crate::domain::{TenantId, Timestamp};

const TICKET: &str = "TICKET";
const VERSION: &str = "version";
const IS_CLOSED: &str = "isClosed";

/// An end user's tickets by recency ([`recency`]), whole.
pub const BY_END_USER: Index = Index {
    name: "GSI2",
    partition_key: "GSI2PK",
    sort_key: "GSI2SK",
    projection: Projection::All,
};

/// A ticket as stored: the version it was read at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTicket {
    pub ticket: Ticket,
    pub version: u64,
}

pub fn partition(tenant: TenantId, ticket_id: u64) -> String {
    format!("T#{tenant}#TK#{ticket_id}")
}

pub fn key(tenant: TenantId, ticket_id: u64) -> Key {
    Key::new(partition(tenant, ticket_id), TICKET)
}

/// The [`BY_END_USER`] partition of an end user's tickets.
pub fn list_partition(tenant: TenantId, end_user_id: u64) -> String {
    format!("T#{tenant}#EU#{end_user_id}#TK")
}

fn to_item(tenant: TenantId, stored: &StoredTicket) -> Result<Item, StoreError> {
    let ticket = &stored.ticket;
    let mut item = encode(ticket)?;
    item.insert(VERSION.into(), number(stored.version));
    item.insert(
        BY_END_USER.partition_key.into(),
        AttributeValue::S(list_partition(tenant, ticket.end_user_id)),
    );
    item.insert(
        BY_END_USER.sort_key.into(),
        number(recency(ticket.last_message_at, ticket.id)),
    );
    if let Some(closed_at) = ticket.closed_at {
        for (name, value) in sweep::closed_entry(tenant, closed_at) {
            item.insert(name.into(), value);
        }
    }
    Ok(keyed(Kind::Ticket, key(tenant, ticket.id), item))
}

pub fn from_item(item: Item) -> Result<StoredTicket, StoreError> {
    let version = match item.get(VERSION) {
        Some(AttributeValue::N(n)) => n
            .parse::<u64>()
            .map_err(|_| StoreError::Internal("ticket version is not a number".into()))?,
        _ => return Err(StoreError::Internal("ticket without version".into())),
    };
    Ok(StoredTicket {
        ticket: decode(item)?,
        version,
    })
}

/// A new ticket: its record proves its ID block (see `domain::ids`).
pub fn create(tenant: TenantId, ticket: &Ticket) -> Result<Write, StoreError> {
    let stored = StoredTicket {
        ticket: ticket.clone(),
        version: 1,
    };
    Ok(Write::Put {
        item: to_item(tenant, &stored)?,
        condition: Some(Condition::NotExists),
    })
}

/// `next` as the version after the one `read` was read at.
pub fn save(tenant: TenantId, read: &StoredTicket, next: &Ticket) -> Result<Write, StoreError> {
    let stored = StoredTicket {
        ticket: next.clone(),
        version: read.version + 1,
    };
    Ok(Write::Put {
        item: to_item(tenant, &stored)?,
        condition: Some(Condition::Equals {
            attribute: VERSION,
            value: number(read.version),
        }),
    })
}

/// The [`BY_END_USER`] sort key of a ticket: its latest message's time, then its ID (IDs are
/// below 10^16), so ties keep one order.
pub fn recency(last_message_at: Timestamp, ticket_id: u64) -> u128 {
    let seconds = u128::try_from(last_message_at.unix_seconds()).unwrap_or(0);
    seconds * 10_u128.pow(16) + u128::from(ticket_id)
}

const TICKETS: &str = "TICKETS";
const COUNT: &str = "count";

/// The item counting an end user's tickets, in the end user's partition.
pub fn count_key(tenant: TenantId, end_user_id: u64) -> Key {
    Key::new(format!("T#{tenant}#EU#{end_user_id}"), TICKETS)
}

/// Counts `by` more tickets of an end user (creating the count at the first).
pub fn count_tickets(tenant: TenantId, end_user_id: u64, by: i64) -> Write {
    Write::Update {
        key: count_key(tenant, end_user_id),
        set: vec![Kind::TicketCount.attribute()],
        add: vec![(COUNT, by)],
        remove: Vec::new(),
        condition: None,
    }
}

/// The count a ticket count item holds.
pub fn tickets_counted(item: &Item) -> u64 {
    match item.get(COUNT) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

/// The note under which a failed [`count_message`] hands the ticket it met to the next attempt.
pub const COUNTED: &str = "counted ticket";

/// The times a message moves forward: `updatedAt` and `lastMessageAt`.
const MESSAGE_TIMES: [&str; 2] = ["updatedAt", "lastMessageAt"];

/// Counts `message` on its ticket in place while the ticket is open. `updatedAt` and
/// `lastMessageAt` become the message's time only where they are not later already (a condition
/// of the write; `met`, the ticket a failed count met, tells the next attempt which one is), so
/// they never move backwards; an inbound message that is the latest names itself
/// `lastEndUserMessageID`. Fixed-width RFC 3339 UTC text sorts as the times it writes.
pub fn count_message(tenant: TenantId, message: &Message, met: Option<&Item>) -> Write {
    let at = message.received_at.to_string();
    let later_already = |name: &str| match met.and_then(|item| item.get(name)) {
        Some(AttributeValue::S(current)) => current.as_bytes() > at.as_bytes(),
        _ => false,
    };
    let mut set = Vec::new();
    let mut conditions = vec![Condition::Equals {
        attribute: IS_CLOSED,
        value: AttributeValue::Bool(false),
    }];
    for name in MESSAGE_TIMES
        .into_iter()
        .filter(|name| !later_already(name))
    {
        set.push((name, AttributeValue::S(at.clone())));
        conditions.push(Condition::AtMost {
            attribute: name,
            value: AttributeValue::S(at.clone()),
        });
    }
    let latest = !later_already("lastMessageAt");
    if latest {
        let sort = recency(message.received_at, message.ticket_id);
        set.push((BY_END_USER.sort_key, number(sort)));
    }
    if let (Direction::Inbound, Some(id), true) =
        (message.direction, &message.provider_message_id, latest)
    {
        set.push(("lastEndUserMessageID", AttributeValue::S(id.clone())));
    }
    Write::Update {
        key: key(tenant, message.ticket_id),
        set,
        add: vec![("messageCount", 1), (VERSION, 1)],
        remove: Vec::new(),
        condition: Some(Condition::All(conditions)),
    }
}

/// Removes a purged ticket, unless it was reopened (or changed) since the sweep read it.
pub fn purge(tenant: TenantId, stored: &StoredTicket) -> Write {
    Write::Delete {
        key: key(tenant, stored.ticket.id),
        condition: Some(unchanged_since(stored)),
    }
}

/// A check that the ticket is still as the sweep read it.
pub fn unchanged(tenant: TenantId, stored: &StoredTicket) -> Write {
    Write::Check {
        key: key(tenant, stored.ticket.id),
        condition: unchanged_since(stored),
    }
}

fn unchanged_since(stored: &StoredTicket) -> Condition {
    Condition::Equals {
        attribute: VERSION,
        value: number(stored.version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::domain::customer::ChannelType;
    use crate::domain::ticket::{Opening, TicketStatus};

    #[test]
    fn a_closed_ticket_enters_its_tenants_closed_tickets_and_round_trips() {
        let tenant = TenantId::new(4).expect("tenant");
        let mut ticket = Ticket::open(Opening {
            id: 77,
            end_user_id: 5,
            channel_type: ChannelType::Email,
            channel_id: 1,
            uid: "jane@example.com",
            subject: Some("Order"),
            text: "Where is it?",
            customer_rep_id: None,
            at: Timestamp::from_unix_seconds(1_800_000_000),
        });
        let Write::Put { item, .. } = create(tenant, &ticket).expect("create") else {
            panic!("a put")
        };
        assert!(!item.contains_key(sweep::SWEEP.sort_key));
        let stored = from_item(item).expect("decode");
        assert_eq!(stored.version, 1);
        ticket.set_status(
            TicketStatus::Closed,
            Timestamp::from_unix_seconds(1_800_000_100),
        );
        let Write::Put { item, .. } = save(tenant, &stored, &ticket).expect("save") else {
            panic!("a put")
        };
        assert_eq!(
            item.get(sweep::SWEEP.partition_key),
            Some(&AttributeValue::S("T#4#CLOSED".into()))
        );
        assert_eq!(
            item.get(sweep::SWEEP.sort_key),
            Some(&number(1_800_000_100))
        );
        assert_eq!(sweep::ticket_of(tenant, &item), Some(77));
        assert_eq!(from_item(item).expect("decode").ticket, ticket);
    }
}
