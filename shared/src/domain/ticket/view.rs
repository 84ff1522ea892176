//! TicketReadDTO and MessageReadDTO: what responses show of a ticket and a message, apart from
//! how they are stored (a stored field can be renamed or added without changing the API).

use serde::Serialize;

use super::{Direction, Message, Ticket, TicketStatus};
use crate::domain::Timestamp;
use crate::domain::customer::ChannelType;

/// TicketReadDTO.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketView<'a> {
    #[serde(rename = "ticketID")]
    pub ticket_id: u64,
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    pub subject: &'a str,
    pub status: TicketStatus,
    #[serde(rename = "customerRepID")]
    pub customer_rep_id: Option<u64>,
    pub channel_type: ChannelType,
    #[serde(rename = "channelID")]
    pub channel_id: u64,
    pub uid: &'a str,
    pub is_closed: bool,
    pub is_spam: bool,
    pub topics: &'a [String],
    pub ai_feedback_comments: Option<&'a str>,
    #[serde(rename = "lastEndUserMessageID")]
    pub last_end_user_message_id: Option<&'a str>,
    pub message_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_message_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

/// MessageReadDTO.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView<'a> {
    #[serde(rename = "messageID")]
    pub message_id: u64,
    #[serde(rename = "ticketID")]
    pub ticket_id: u64,
    pub direction: Direction,
    #[serde(rename = "providerMessageID")]
    pub provider_message_id: Option<&'a str>,
    pub from: &'a str,
    pub text: &'a str,
    pub subject: Option<&'a str>,
    pub received_at: Timestamp,
}

impl Ticket {
    pub fn view(&self) -> TicketView<'_> {
        TicketView {
            ticket_id: self.id,
            end_user_id: self.end_user_id,
            subject: &self.subject,
            status: self.status(),
            customer_rep_id: self.customer_rep_id,
            channel_type: self.channel_type,
            channel_id: self.channel_id,
            uid: &self.uid,
            is_closed: self.is_closed(),
            is_spam: self.is_spam,
            topics: &self.topics,
            ai_feedback_comments: self.ai_feedback_comments.as_deref(),
            last_end_user_message_id: self.last_end_user_message_id.as_deref(),
            message_count: self.message_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_message_at: self.last_message_at,
            closed_at: self.closed_at,
        }
    }
}

impl Message {
    pub fn view(&self) -> MessageView<'_> {
        MessageView {
            message_id: self.id,
            ticket_id: self.ticket_id,
            direction: self.direction,
            provider_message_id: self.provider_message_id.as_deref(),
            from: &self.from,
            text: &self.text,
            subject: self.subject.as_deref(),
            received_at: self.received_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::ticket;
    use super::*;

    fn keys(value: serde_json::Value) -> Vec<String> {
        let mut keys: Vec<String> = value
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn the_views_hold_exactly_the_read_dtos_fields() {
        let shown = serde_json::to_value(ticket().view()).expect("json");
        assert_eq!(
            keys(shown),
            sorted(&[
                "ticketID",
                "endUserID",
                "subject",
                "status",
                "customerRepID",
                "channelType",
                "channelID",
                "uid",
                "isClosed",
                "isSpam",
                "topics",
                "aiFeedbackComments",
                "lastEndUserMessageID",
                "messageCount",
                "createdAt",
                "updatedAt",
                "lastMessageAt",
                "closedAt",
            ])
        );
        let message = Message {
            id: 11,
            ticket_id: 10,
            direction: Direction::Inbound,
            provider_message_id: Some("SM-1".into()),
            from: "+32470000000".into(),
            text: "Hello".into(),
            subject: None,
            received_at: Timestamp::from_unix_seconds(1_800_000_000),
        };
        let shown = serde_json::to_value(message.view()).expect("json");
        assert_eq!(shown["messageID"], 11);
        assert_eq!(
            keys(shown),
            sorted(&[
                "messageID",
                "ticketID",
                "direction",
                "providerMessageID",
                "from",
                "text",
                "subject",
                "receivedAt",
            ])
        );
    }
}
