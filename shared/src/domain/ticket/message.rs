//! Messages of a ticket, inbound from the end user or outbound from the desk.

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;
use crate::domain::errors::FieldErrors;

/// Longest message text (characters).
pub const MAX_TEXT_CHARS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Direction {
    Inbound,
    Outbound,
}

/// A message, as stored (responses show its [`super::MessageView`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(rename = "messageID")]
    pub id: u64,
    #[serde(rename = "ticketID")]
    pub ticket_id: u64,
    pub direction: Direction,
    #[serde(rename = "providerMessageID")]
    pub provider_message_id: Option<String>,
    pub from: String,
    pub text: String,
    pub subject: Option<String>,
    pub received_at: Timestamp,
}

/// The body of `POST /api/Tickets/{ticketID}/messages`.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyBody {
    pub text: Option<String>,
}

impl ReplyBody {
    /// The reply's text: 1 to 10,000 characters, kept as written.
    pub fn text(&self) -> Result<&str, FieldErrors> {
        match self.text.as_deref() {
            Some(text) if !text.trim().is_empty() && text.chars().count() <= MAX_TEXT_CHARS => {
                Ok(text)
            }
            Some(text) if !text.trim().is_empty() => Err(FieldErrors::single(
                "text",
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            )),
            _ => Err(FieldErrors::single("text", "is required")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_needs_1_to_10000_characters() {
        let body = |text: Option<&str>| ReplyBody {
            text: text.map(str::to_owned),
        };
        assert_eq!(body(Some(" Thanks! ")).text(), Ok(" Thanks! "));
        assert!(body(Some(&"x".repeat(MAX_TEXT_CHARS))).text().is_ok());
        for bad in [None, Some(""), Some("   ")] {
            assert!(body(bad).text().is_err());
        }
        assert!(body(Some(&"x".repeat(MAX_TEXT_CHARS + 1))).text().is_err());
    }
}
