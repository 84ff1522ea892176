//! The open-ticket guard: `T#{tenant}#EU#{endUserID}` / `OPEN#{channelID}`, naming the end
//! user's one open ticket on that channel. It is written with `attribute_not_exists` in the
//! transaction that opens (or reopens) a ticket and deleted in the one that closes it, so two
//! writers can never both open a ticket for one end user and channel.

use super::item::{Kind, keyed, number};
use super::{AttributeValue, Condition, Item, Key, Write};
use crate::domain::TenantId;
use crate::domain::ticket::Ticket;

const TICKET_ID: &str = "ticketID";

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

/// A check that the guard of the end user's channel still names `ticket_id`.
pub fn names(tenant: TenantId, end_user_id: u64, channel_id: u64, ticket_id: u64) -> Write {
    Write::Check {
        key: key(tenant, end_user_id, channel_id),
        condition: Condition::Equals {
            attribute: TICKET_ID,
            value: number(ticket_id),
        },
    }
}

/// The open ticket a guard names.
pub fn ticket_of(item: &Item) -> Option<u64> {
    match item.get(TICKET_ID) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}
