//! `PUT /api/Tickets/{ticketID}`: the desk's partial update of a ticket.

use serde::Deserialize;
use serde_json::Value;

use super::{Ticket, TicketStatus};
use crate::domain::errors::FieldErrors;
use crate::domain::fields::{Change, Choice, TextRule};
use crate::domain::{MAX_ID, Timestamp};

const MAX_TOPICS: usize = 50;
const TOPIC: TextRule = TextRule::trimmed(100);
const FEEDBACK: TextRule = TextRule::verbatim(4000);

/// The body as sent; each field read by [`TicketUpdate::read`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketBody {
    pub status: Option<String>,
    #[serde(rename = "customerRepID", default)]
    pub customer_rep_id: Value,
    pub is_spam: Option<bool>,
    pub topics: Option<Vec<String>>,
    pub ai_feedback_comments: Option<String>,
}

/// A valid update: absent or null fields keep their value.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TicketUpdate {
    status: Option<TicketStatus>,
    customer_rep_id: Change<u64>,
    is_spam: Option<bool>,
    topics: Option<Vec<String>>,
    ai_feedback_comments: Change<String>,
}

/// What an applied update did to whether the ticket is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Open stays open, closed stays closed.
    Same,
    Closed,
    Reopened,
}

impl TicketUpdate {
    pub fn read(body: &TicketBody) -> Result<TicketUpdate, FieldErrors> {
        let mut errors = FieldErrors::default();
        let status = match body.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => errors.check("status", TicketStatus::parse(raw).map(Some), None),
        };
        let customer_rep_id = match &body.customer_rep_id {
            Value::Null => Change::Keep,
            Value::Number(n) => match n.as_u64() {
                Some(0) => Change::Clear,
                Some(id) if id <= MAX_ID => Change::Set(id),
                _ => {
                    errors.add(
                        "customerRepID",
                        format!("must be 0 (unassigned) to {MAX_ID}"),
                    );
                    Change::Keep
                }
            },
            _ => {
                errors.add("customerRepID", "must be a number (0 unassigns)");
                Change::Keep
            }
        };
        let topics = body.topics.as_ref().map(|topics| {
            if topics.len() > MAX_TOPICS {
                errors.add("topics", format!("must hold at most {MAX_TOPICS} topics"));
            }
            let mut kept: Vec<String> = Vec::new();
            for (n, topic) in topics.iter().enumerate() {
                match TOPIC.read(Some(topic)) {
                    Ok(Change::Set(topic)) => {
                        if !kept.iter().any(|t| t.eq_ignore_ascii_case(&topic)) {
                            kept.push(topic);
                        }
                    }
                    Ok(_) => errors.add(format!("topics[{n}]"), "must not be empty"),
                    Err(message) => errors.add(format!("topics[{n}]"), message),
                }
            }
            kept
        });
        let ai_feedback_comments = errors.check(
            "aiFeedbackComments",
            FEEDBACK.read(body.ai_feedback_comments.as_deref()),
            Change::Keep,
        );
        errors.into_result(TicketUpdate {
            status,
            customer_rep_id,
            is_spam: body.is_spam,
            topics,
            ai_feedback_comments,
        })
    }

    /// `ticket` with the update applied at `now`, and what it did to its being open; `None` when
    /// nothing changes.
    pub fn apply(&self, ticket: &Ticket, now: Timestamp) -> Option<(Ticket, Transition)> {
        let mut next = ticket.clone();
        if let Some(status) = self.status {
            next.set_status(status, now);
        }
        self.customer_rep_id
            .clone()
            .apply_to(&mut next.customer_rep_id);
        if let Some(is_spam) = self.is_spam {
            next.is_spam = is_spam;
        }
        if let Some(topics) = &self.topics {
            next.topics = topics.clone();
        }
        self.ai_feedback_comments
            .clone()
            .apply_to(&mut next.ai_feedback_comments);
        if next == *ticket {
            return None;
        }
        next.updated_at = now.max(ticket.updated_at);
        let transition = match (ticket.is_closed(), next.is_closed()) {
            (false, true) => Transition::Closed,
            (true, false) => Transition::Reopened,
            _ => Transition::Same,
        };
        Some((next, transition))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::ticket;
    use super::*;

    fn read(body: Value) -> Result<TicketUpdate, FieldErrors> {
        TicketUpdate::read(&serde_json::from_value(body).expect("a body"))
    }

    #[test]
    fn fields_are_kept_cleared_or_replaced() {
        let t = ticket();
        let now = Timestamp::from_unix_seconds(1_900_000_000);
        let update = read(
            json!({"customerRepID": 0, "topics": [" billing ", "Billing", "late"],
            "aiFeedbackComments": "good", "isSpam": true}),
        )
        .expect("valid");
        let (next, transition) = update.apply(&t, now).expect("changed");
        assert_eq!(next.customer_rep_id, None);
        assert_eq!(next.topics, ["billing", "late"]);
        assert_eq!(next.ai_feedback_comments.as_deref(), Some("good"));
        assert!(next.is_spam);
        assert_eq!((next.updated_at, transition), (now, Transition::Same));
        let cleared = read(json!({"aiFeedbackComments": "", "customerRepID": null}))
            .expect("valid")
            .apply(&next, now)
            .expect("changed")
            .0;
        assert_eq!(cleared.ai_feedback_comments, None);
        assert_eq!(read(json!({})).expect("valid").apply(&t, now), None);
    }

    #[test]
    fn status_changes_close_and_reopen() {
        let now = Timestamp::from_unix_seconds(1_900_000_000);
        let (closed, transition) = read(json!({"status": "closed"}))
            .expect("valid")
            .apply(&ticket(), now)
            .expect("changed");
        assert_eq!(
            (transition, closed.closed_at),
            (Transition::Closed, Some(now))
        );
        let (reopened, transition) = read(json!({"status": "Pending"}))
            .expect("valid")
            .apply(&closed, now)
            .expect("changed");
        assert_eq!(
            (transition, reopened.closed_at),
            (Transition::Reopened, None)
        );
    }

    #[test]
    fn invalid_fields_are_named() {
        let errors = read(json!({"status": "Solved", "customerRepID": -1,
            "topics": ["ok", ""], "aiFeedbackComments": "x".repeat(4001)}))
        .expect_err("invalid");
        for field in ["status", "customerRepID", "topics[1]", "aiFeedbackComments"] {
            assert!(errors.contains(field), "{field}");
        }
        assert!(read(json!({"customerRepID": "5"})).is_err());
    }
}
