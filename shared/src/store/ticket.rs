//! Ticket items: `T#{tenant}#TK#{ticketID}` / `TICKET`, found by ID alone (the messages share the
//! partition). `GSI2` lists an end user's tickets; a closed ticket also carries its purge time,
//! which puts it into the sparse `GSI3` the retention sweep reads. Every desk write is
//! conditional on the version it read; a message counts itself in place (`ADD`), moving the
//! version on too.

use super::item::{Kind, decode, encode, keyed, number};
use super::{AttributeValue, Condition, Index, Item, Key, Projection, StoreError, Write};
use crate::domain::ticket::{Direction, Message, Ticket};
use crate::domain::{TenantId, Timestamp};

const TICKET: &str = "TICKET";
const VERSION: &str = "version";
const RETENTION_DAYS: &str = "retentionDays";
const IS_CLOSED: &str = "isClosed";
/// The only partition of [`PURGE`]: the sweep reads closed tickets of every tenant by time.
pub const PURGE_PARTITION: &str = "PURGE";
const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

/// An end user's tickets by ID, whole.
pub const BY_END_USER: Index = Index {
    name: "GSI2",
    partition_key: "GSI2PK",
    sort_key: "GSI2SK",
    projection: Projection::All,
};

/// Closed tickets by the time they are to be removed (epoch seconds), of every tenant.
pub const PURGE: Index = Index {
    name: "GSI3",
    partition_key: "purgePartition",
    sort_key: "purgeAt",
    projection: Projection::KeysOnly,
};

/// A ticket as stored: the version it was read at, and the tenant's retention when it opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTicket {
    pub ticket: Ticket,
    pub version: u64,
    pub retention_days: u16,
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

/// When a ticket closed at `closed_at` is removed.
pub fn purge_at(closed_at: Timestamp, retention_days: u16) -> i64 {
    closed_at.unix_seconds() + i64::from(retention_days) * SECONDS_PER_DAY
}

fn to_item(tenant: TenantId, stored: &StoredTicket) -> Result<Item, StoreError> {
    let ticket = &stored.ticket;
    let mut item = encode(ticket)?;
    item.insert(VERSION.into(), number(stored.version));
    item.insert(RETENTION_DAYS.into(), number(stored.retention_days));
    item.insert(
        BY_END_USER.partition_key.into(),
        AttributeValue::S(list_partition(tenant, ticket.end_user_id)),
    );
    item.insert(BY_END_USER.sort_key.into(), number(ticket.id));
    if let Some(closed_at) = ticket.closed_at {
        item.insert(
            PURGE.partition_key.into(),
            AttributeValue::S(PURGE_PARTITION.into()),
        );
        item.insert(
            PURGE.sort_key.into(),
            number(purge_at(closed_at, stored.retention_days)),
        );
    }
    Ok(keyed(Kind::Ticket, key(tenant, ticket.id), item))
}

pub fn from_item(item: Item) -> Result<StoredTicket, StoreError> {
    let read_number = |name: &str| match item.get(name) {
        Some(AttributeValue::N(n)) => n
            .parse::<u64>()
            .map_err(|_| StoreError::Internal(format!("ticket {name} is not a number"))),
        _ => Err(StoreError::Internal(format!("ticket without {name}"))),
    };
    let version = read_number(VERSION)?;
    let retention_days = u16::try_from(read_number(RETENTION_DAYS)?)
        .map_err(|_| StoreError::Internal("ticket retention out of range".into()))?;
    Ok(StoredTicket {
        ticket: decode(item)?,
        version,
        retention_days,
    })
}

/// A new ticket: its record proves its ID block (see `domain::ids`).
pub fn create(tenant: TenantId, ticket: &Ticket, retention_days: u16) -> Result<Write, StoreError> {
    let stored = StoredTicket {
        ticket: ticket.clone(),
        version: 1,
        retention_days,
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
        retention_days: read.retention_days,
    };
    Ok(Write::Put {
        item: to_item(tenant, &stored)?,
        condition: Some(Condition::Equals {
            attribute: VERSION,
            value: number(read.version),
        }),
    })
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
        condition: Some(Condition::Equals {
            attribute: VERSION,
            value: number(stored.version),
        }),
    }
}

/// The tenant and ticket of a [`PURGE`] entry (its table keys).
pub fn purge_entry(item: &Item) -> Option<(TenantId, u64)> {
    let key = Key::of(item)?;
    let rest = key.pk.strip_prefix("T#")?;
    let (tenant, ticket) = rest.split_once("#TK#")?;
    Some((TenantId::new(tenant.parse().ok()?)?, ticket.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::ChannelType;
    use crate::domain::ticket::{Opening, TicketStatus};

    #[test]
    fn a_closed_ticket_enters_the_purge_index_and_round_trips() {
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
        let Write::Put { item, .. } = create(tenant, &ticket, 30).expect("create") else {
            panic!("a put")
        };
        assert!(!item.contains_key(PURGE.sort_key));
        let stored = from_item(item).expect("decode");
        assert_eq!((stored.version, stored.retention_days), (1, 30));
        ticket.set_status(
            TicketStatus::Closed,
            Timestamp::from_unix_seconds(1_800_000_100),
        );
        let Write::Put { item, .. } = save(tenant, &stored, &ticket).expect("save") else {
            panic!("a put")
        };
        assert_eq!(
            item.get(PURGE.sort_key),
            Some(&number(1_800_000_100 + 30 * SECONDS_PER_DAY))
        );
        assert_eq!(purge_entry(&item), Some((tenant, 77)));
        assert_eq!(from_item(item).expect("decode").ticket, ticket);
    }
}
