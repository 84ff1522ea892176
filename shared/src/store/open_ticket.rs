//! The open-ticket guard: `T#{tenant}#EU#{endUserID}` / `OPEN#{channelID}`, naming the end
//! user's one open ticket on that channel and how many messages it holds. It is written with
//! `attribute_not_exists` in the transaction that opens (or reopens) a ticket and deleted in the
//! one that closes it, so two writers can never both open a ticket for one end user and channel;
//! every message of the open ticket counts itself on it, conditional on the count it read, which
//! gives each message its position in the ticket (`message`), with no read of the ticket.

use super::item::{Kind, keyed, number};
use super::{AttributeValue, Condition, Item, Key, Write};
use crate::domain::TenantId;
use crate::domain::ticket::Ticket;

const TICKET_ID: &str = "ticketID";
const MESSAGE_COUNT: &str = "messageCount";

pub fn key(tenant: TenantId, end_user_id: u64, channel_id: u64) -> Key {
    Key::new(
        format!("T#{tenant}#EU#{end_user_id}"),
        format!("OPEN#{channel_id}"),
    )
}

/// Claims the channel for `ticket`: fails when another ticket is open there.
pub fn claim(tenant: TenantId, ticket: &Ticket) -> Write {
    let mut item = Item::default();
    item.insert(TICKET_ID.into(), number(ticket.id));
    item.insert(MESSAGE_COUNT.into(), number(ticket.message_count));
    Write::Put {
        item: keyed(
            Kind::OpenTicket,
            key(tenant, ticket.end_user_id, ticket.channel_id),
            item,
        ),
        condition: Some(Condition::NotExists),
    }
}

/// Frees the channel `ticket` held.
pub fn release(tenant: TenantId, ticket: &Ticket) -> Write {
    Write::Delete {
        key: key(tenant, ticket.end_user_id, ticket.channel_id),
        condition: Some(Condition::Equals {
            attribute: TICKET_ID,
            value: number(ticket.id),
        }),
    }
}

/// Counts one more message of the open ticket it names: fails unless the guard still names
/// `open.ticket_id` with the count read.
pub fn count(tenant: TenantId, end_user_id: u64, channel_id: u64, open: Open) -> Write {
    Write::Update {
        key: key(tenant, end_user_id, channel_id),
        set: Vec::new(),
        add: vec![(MESSAGE_COUNT, 1)],
        remove: Vec::new(),
        condition: Some(Condition::All(vec![
            Condition::Equals {
                attribute: TICKET_ID,
                value: number(open.ticket_id),
            },
            Condition::Equals {
                attribute: MESSAGE_COUNT,
                value: number(open.message_count),
            },
        ])),
    }
}

/// What a guard names: the open ticket and its message count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Open {
    pub ticket_id: u64,
    pub message_count: u64,
}

/// The open ticket a guard names, with its count.
pub fn open_of(item: &Item) -> Option<Open> {
    let number_of = |name: &str| match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    Some(Open {
        ticket_id: number_of(TICKET_ID)?,
        message_count: number_of(MESSAGE_COUNT)?,
    })
}
