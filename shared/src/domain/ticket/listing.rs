//! `GET /api/EndUsers/{id}/tickets`: filters, sort and paging on an end user's tickets.

use super::{Ticket, TicketStatus};
use crate::domain::customer::ChannelType;
use crate::domain::page::{PageRequest, SortOrder};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    LastMessageAt,
    CreatedAt,
    UpdatedAt,
    TicketId,
    Status,
}

/// The `sortBy` names, the default first.
pub const SORT_FIELDS: &[(&str, SortField)] = &[
    ("lastMessageAt", SortField::LastMessageAt),
    ("createdAt", SortField::CreatedAt),
    ("updatedAt", SortField::UpdatedAt),
    ("ticketID", SortField::TicketId),
    ("status", SortField::Status),
];

/// The filters (combined with AND), sort and page of a tickets list.
#[derive(Debug, Clone)]
pub struct TicketQuery {
    pub status: Option<TicketStatus>,
    /// `Some(None)`: unassigned tickets (`customerRepID=0`).
    pub customer_rep_id: Option<Option<u64>>,
    pub channel_type: Option<ChannelType>,
    /// Any of these channels.
    pub channel_ids: Vec<u64>,
    /// The values the `uid` filter can denote, one per UID type that accepts it.
    pub uids: Option<Vec<String>>,
    pub is_closed: Option<bool>,
    pub is_spam: Option<bool>,
    /// Lower-cased.
    pub search: Option<String>,
    pub sort_by: SortField,
    pub order: SortOrder,
    pub page: PageRequest,
}

impl TicketQuery {
    /// Whether the list is every ticket in the index's order (by `lastMessageAt`, ties by ID):
    /// no filter, that sort.
    pub fn in_recency_order(&self) -> bool {
        self.status.is_none()
            && self.customer_rep_id.is_none()
            && self.channel_type.is_none()
            && self.channel_ids.is_empty()
            && self.uids.is_none()
            && self.is_closed.is_none()
            && self.is_spam.is_none()
            && self.search.is_none()
            && self.sort_by == SortField::LastMessageAt
    }

    fn admits(&self, t: &Ticket) -> bool {
        let contains = |s: &str, term: &str| s.to_lowercase().contains(term);
        self.status.is_none_or(|s| t.status() == s)
            && self
                .customer_rep_id
                .is_none_or(|rep| t.customer_rep_id == rep)
            && self.channel_type.is_none_or(|c| t.channel_type == c)
            && (self.channel_ids.is_empty() || self.channel_ids.contains(&t.channel_id))
            && self.uids.as_ref().is_none_or(|uids| uids.contains(&t.uid))
            && self.is_closed.is_none_or(|c| t.is_closed() == c)
            && self.is_spam.is_none_or(|s| t.is_spam == s)
            && self.search.as_deref().is_none_or(|term| {
                contains(&t.subject, term)
                    || t.topics.iter().any(|topic| contains(topic, term))
                    || t.ai_feedback_comments
                        .as_deref()
                        .is_some_and(|c| contains(c, term))
            })
    }
}

/// Where a status sorts: in the order a conversation goes through them.
fn status_rank(status: TicketStatus) -> u8 {
    match status {
        TicketStatus::Open => 0,
        TicketStatus::Pending => 1,
        TicketStatus::Closed => 2,
    }
}

/// The page `query` asks for of `tickets`, and how many passed the filters. Ties go by ticket
/// ID in the same direction, so pages are stable.
pub fn select_page(mut tickets: Vec<Ticket>, query: &TicketQuery) -> (Vec<Ticket>, usize) {
    tickets.retain(|t| query.admits(t));
    tickets.sort_by_key(|t| {
        let primary = match query.sort_by {
            SortField::LastMessageAt => t.last_message_at.unix_seconds(),
            SortField::CreatedAt => t.created_at.unix_seconds(),
            SortField::UpdatedAt => t.updated_at.unix_seconds(),
            SortField::TicketId => 0,
            SortField::Status => i64::from(status_rank(t.status())),
        };
        (primary, t.id)
    });
    if query.order == SortOrder::Desc {
        tickets.reverse();
    }
    let total = tickets.len();
    let page = tickets.drain(query.page.range(total)).collect();
    (page, total)
}

#[cfg(test)]
mod tests {
    use super::super::Opening;
    use super::*;
    use crate::domain::Timestamp;

    fn ticket(id: u64, channel_id: u64, at: i64) -> Ticket {
        Ticket::open(Opening {
            id,
            end_user_id: 1,
            channel_type: if channel_id == 1 {
                ChannelType::Email
            } else {
                ChannelType::Sms
            },
            channel_id,
            uid: if channel_id == 1 {
                "jane@example.com"
            } else {
                "+32470000000"
            },
            subject: Some(&format!("Subject {id}")),
            text: "text",
            customer_rep_id: id.is_multiple_of(2).then_some(4),
            at: Timestamp::from_unix_seconds(at),
        })
    }

    fn query() -> TicketQuery {
        TicketQuery {
            status: None,
            customer_rep_id: None,
            channel_type: None,
            channel_ids: Vec::new(),
            uids: None,
            is_closed: None,
            is_spam: None,
            search: None,
            sort_by: SortField::LastMessageAt,
            order: SortOrder::Desc,
            page: PageRequest {
                number: 1,
                size: 25,
            },
        }
    }

    fn ids(tickets: &[Ticket], query: &TicketQuery) -> Vec<u64> {
        select_page(tickets.to_vec(), query)
            .0
            .iter()
            .map(|t| t.id)
            .collect()
    }

    #[test]
    fn newest_conversation_first_by_default_and_filters_combine() {
        let mut tickets = vec![ticket(1, 1, 100), ticket(2, 2, 300), ticket(3, 2, 200)];
        tickets[2].set_status(TicketStatus::Closed, Timestamp::from_unix_seconds(400));
        assert_eq!(ids(&tickets, &query()), [2, 3, 1]);
        let q = TicketQuery {
            channel_ids: vec![2],
            is_closed: Some(false),
            ..query()
        };
        assert_eq!(ids(&tickets, &q), [2]);
        let q = TicketQuery {
            customer_rep_id: Some(None),
            ..query()
        };
        assert_eq!(ids(&tickets, &q), [3, 1]);
        let q = TicketQuery {
            search: Some("subject 3".into()),
            ..query()
        };
        assert_eq!(ids(&tickets, &q), [3]);
        let q = TicketQuery {
            uids: Some(vec!["jane@example.com".into()]),
            ..query()
        };
        assert_eq!(ids(&tickets, &q), [1]);
        let q = TicketQuery {
            sort_by: SortField::Status,
            order: SortOrder::Asc,
            ..query()
        };
        assert_eq!(ids(&tickets, &q), [1, 2, 3]);
        let q = TicketQuery {
            page: PageRequest { number: 2, size: 2 },
            ..query()
        };
        let (page, total) = select_page(tickets.clone(), &q);
        assert_eq!((page.len(), total), (1, 3));
    }
}
