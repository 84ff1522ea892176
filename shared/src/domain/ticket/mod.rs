//! Tickets (one conversation of an end user on one channel of the tenant) and their messages.

pub mod listing;
pub mod message;
pub mod update;
pub mod view;

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;
use crate::domain::customer::ChannelType;
use crate::domain::fields::Choice;

pub use listing::{TicketQuery, select_page};
pub use message::{Direction, Message, ReplyBody};
pub use update::{TicketBody, TicketUpdate, Transition};
pub use view::{MessageView, TicketView};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TicketStatus {
    Open,
    Pending,
    Closed,
}

impl Choice for TicketStatus {
    const ALL: &'static [Self] = &[Self::Open, Self::Pending, Self::Closed];
    fn name(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Pending => "Pending",
            Self::Closed => "Closed",
        }
    }
}

/// Longest subject of a ticket (characters).
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The subject taken from a message's text: its first characters.
const SUBJECT_FROM_TEXT_CHARS: usize = 80;

/// A ticket, as stored (responses show its [`TicketView`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    #[serde(rename = "ticketID")]
    pub id: u64,
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    pub subject: String,
    status: TicketStatus,
    #[serde(rename = "customerRepID")]
    pub customer_rep_id: Option<u64>,
    pub channel_type: ChannelType,
    #[serde(rename = "channelID")]
    pub channel_id: u64,
    pub uid: String,
    /// Exactly when `status` is `Closed` (kept so by [`Ticket::set_status`]).
    is_closed: bool,
    pub is_spam: bool,
    pub topics: Vec<String>,
    pub ai_feedback_comments: Option<String>,
    #[serde(rename = "lastEndUserMessageID")]
    pub last_end_user_message_id: Option<String>,
    pub message_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_message_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

/// What opens a ticket: the first message of a conversation.
pub struct Opening<'a> {
    pub id: u64,
    pub end_user_id: u64,
    pub channel_type: ChannelType,
    pub channel_id: u64,
    pub uid: &'a str,
    pub subject: Option<&'a str>,
    pub text: &'a str,
    pub customer_rep_id: Option<u64>,
    pub at: Timestamp,
}

impl Ticket {
    /// The ticket with what names its end user or quotes a message erased (its UID, subject and
    /// the desk's feedback); the statistics stay.
    pub fn erased(&self) -> Ticket {
        Ticket {
            uid: crate::domain::end_user::ERASED.into(),
            subject: crate::domain::end_user::ERASED.into(),
            ai_feedback_comments: None,
            ..self.clone()
        }
    }

    /// A new `Open` ticket: its subject is the given one (trimmed, at most 200 characters), or
    /// else the first 80 characters of the text, as written.
    pub fn open(opening: Opening<'_>) -> Ticket {
        let subject = match opening.subject.map(str::trim).filter(|s| !s.is_empty()) {
            Some(subject) => subject.chars().take(MAX_SUBJECT_CHARS).collect(),
            None => opening.text.chars().take(SUBJECT_FROM_TEXT_CHARS).collect(),
        };
        Ticket {
            id: opening.id,
            end_user_id: opening.end_user_id,
            subject,
            status: TicketStatus::Open,
            customer_rep_id: opening.customer_rep_id,
            channel_type: opening.channel_type,
            channel_id: opening.channel_id,
            uid: opening.uid.to_owned(),
            is_closed: false,
            is_spam: false,
            topics: Vec::new(),
            ai_feedback_comments: None,
            last_end_user_message_id: None,
            message_count: 0,
            created_at: opening.at,
            updated_at: opening.at,
            last_message_at: opening.at,
            closed_at: None,
        }
    }

    pub fn status(&self) -> TicketStatus {
        self.status
    }

    pub fn is_closed(&self) -> bool {
        self.is_closed
    }

    /// Moves to `status`: closing stamps `closedAt`, reopening clears it.
    pub fn set_status(&mut self, status: TicketStatus, now: Timestamp) {
        self.status = status;
        self.is_closed = status == TicketStatus::Closed;
        self.closed_at = match (self.is_closed, self.closed_at) {
            (true, Some(at)) => Some(at),
            (true, None) => Some(now),
            (false, _) => None,
        };
    }

    /// Counts a message of the conversation: inbound ones (with the provider's id) also become
    /// the end user's latest.
    pub fn record_message(&mut self, message: &Message) {
        self.message_count += 1;
        self.updated_at = self.updated_at.max(message.received_at);
        self.last_message_at = self.last_message_at.max(message.received_at);
        if message.direction == Direction::Inbound {
            self.last_end_user_message_id = message.provider_message_id.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn ticket() -> Ticket {
        Ticket::open(Opening {
            id: 10,
            end_user_id: 7,
            channel_type: ChannelType::Sms,
            channel_id: 2,
            uid: "+32470000000",
            subject: None,
            text: "Hello, my order 1234 has not arrived yet and I would like to know where it is now please",
            customer_rep_id: Some(3),
            at: Timestamp::from_unix_seconds(1_800_000_000),
        })
    }

    #[test]
    fn a_new_ticket_is_open_with_a_subject_from_the_text() {
        let t = ticket();
        assert_eq!(t.status(), TicketStatus::Open);
        assert!(!t.is_closed());
        assert_eq!(t.subject.chars().count(), 80);
        assert!(t.subject.starts_with("Hello, my order 1234"));
        let json = serde_json::to_value(&t).expect("json");
        for field in [
            "ticketID",
            "endUserID",
            "customerRepID",
            "channelID",
            "isClosed",
            "lastEndUserMessageID",
            "aiFeedbackComments",
            "lastMessageAt",
            "closedAt",
        ] {
            assert!(json.get(field).is_some(), "{field}");
        }
        assert_eq!(json["channelType"], "SMS");
    }

    #[test]
    fn closing_stamps_closed_at_and_reopening_clears_it() {
        let mut t = ticket();
        let now = Timestamp::from_unix_seconds(1_800_000_100);
        t.set_status(TicketStatus::Closed, now);
        assert!(t.is_closed() && t.closed_at == Some(now));
        t.set_status(
            TicketStatus::Closed,
            Timestamp::from_unix_seconds(1_800_000_200),
        );
        assert_eq!(
            t.closed_at,
            Some(now),
            "closing again keeps the first close"
        );
        t.set_status(TicketStatus::Pending, now);
        assert!(!t.is_closed() && t.closed_at.is_none());
    }
}
