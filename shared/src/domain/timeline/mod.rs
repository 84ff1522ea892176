//! An end user's timeline (SPEC 10): what happened to it, newest first. Each write that records
//! something stores its entries in its own transaction, one [`Record`] per end user and kind
//! (a change linking three UIDs is one record of three `uidLinked` entries), so a page is read
//! from the records alone, never from the tickets and messages behind them.

mod external;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use external::{ExternalEvent, MAX_MESSAGE_CHARS, MAX_TYPE_CHARS};

use super::Timestamp;
use super::change::consent_changes;
use super::consent::ConsentStatus;
use super::customer::ChannelType;
use super::end_user::{ERASED, EndUser, StoredUid};
use super::ticket::{Direction, Message, Ticket};
use super::uid::UidType;

/// Characters of a message's text its entry shows.
pub const MESSAGE_EXCERPT_CHARS: usize = 200;

/// The kinds of entries, in the order entries of one write are listed (oldest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EntryKind {
    UidUnlinked,
    UidLinked,
    ConsentChanged,
    Merged,
    Unmerged,
    CrmSynced,
    TicketOpened,
    Message,
    TicketClosed,
    External,
}

impl EntryKind {
    pub const ALL: [EntryKind; 10] = [
        EntryKind::UidUnlinked,
        EntryKind::UidLinked,
        EntryKind::ConsentChanged,
        EntryKind::Merged,
        EntryKind::Unmerged,
        EntryKind::CrmSynced,
        EntryKind::TicketOpened,
        EntryKind::Message,
        EntryKind::TicketClosed,
        EntryKind::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::UidUnlinked => "uidUnlinked",
            EntryKind::UidLinked => "uidLinked",
            EntryKind::ConsentChanged => "consentChanged",
            EntryKind::Merged => "merged",
            EntryKind::Unmerged => "unmerged",
            EntryKind::CrmSynced => "crmSynced",
            EntryKind::TicketOpened => "ticketOpened",
            EntryKind::Message => "message",
            EntryKind::TicketClosed => "ticketClosed",
            EntryKind::External => "external",
        }
    }

    /// A kind as `kinds=` names it, exactly.
    pub fn parse(raw: &str) -> Result<Self, String> {
        EntryKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<_> = EntryKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind {raw:?}; one of {}", names.join(", "))
            })
    }

    /// Its rank among the kinds, from 1.
    fn rank(self) -> u128 {
        EntryKind::ALL
            .iter()
            .position(|k| *k == self)
            .map_or(0, |i| i as u128 + 1)
    }
}

/// What one entry says, by kind (its members as SPEC 10 lists them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Detail {
    #[serde(rename_all = "camelCase")]
    TicketOpened {
        #[serde(rename = "ticketID")]
        ticket_id: u64,
        channel_type: ChannelType,
        #[serde(rename = "channelID")]
        channel_id: u64,
        subject: String,
    },
    TicketClosed {
        #[serde(rename = "ticketID")]
        ticket_id: u64,
    },
    #[serde(rename_all = "camelCase")]
    Message {
        #[serde(rename = "ticketID")]
        ticket_id: u64,
        #[serde(rename = "messageID")]
        message_id: u64,
        direction: Direction,
        channel_type: ChannelType,
        /// The first [`MESSAGE_EXCERPT_CHARS`] characters.
        text: String,
    },
    #[serde(rename_all = "camelCase")]
    UidLinked { uid_type: UidType, uid: String },
    #[serde(rename_all = "camelCase")]
    UidUnlinked { uid_type: UidType, uid: String },
    Merged {
        #[serde(rename = "mergeID")]
        merge_id: u64,
        #[serde(rename = "sourceEndUserID")]
        source_end_user_id: u64,
    },
    Unmerged {
        #[serde(rename = "mergeID")]
        merge_id: u64,
        #[serde(rename = "sourceEndUserID")]
        source_end_user_id: u64,
    },
    #[serde(rename_all = "camelCase")]
    ConsentChanged {
        uid_type: UidType,
        uid: String,
        status: ConsentStatus,
        source: String,
    },
    #[serde(rename_all = "camelCase")]
    External {
        #[serde(rename = "eventID")]
        event_id: u64,
        #[serde(rename = "type")]
        event_type: String,
        message: String,
        source_url: Option<String>,
        initiated_by: String,
    },
    #[serde(rename_all = "camelCase")]
    CrmSynced { changed_fields: Vec<String> },
}

impl Detail {
    pub fn kind(&self) -> EntryKind {
        match self {
            Detail::TicketOpened { .. } => EntryKind::TicketOpened,
            Detail::TicketClosed { .. } => EntryKind::TicketClosed,
            Detail::Message { .. } => EntryKind::Message,
            Detail::UidLinked { .. } => EntryKind::UidLinked,
            Detail::UidUnlinked { .. } => EntryKind::UidUnlinked,
            Detail::Merged { .. } => EntryKind::Merged,
            Detail::Unmerged { .. } => EntryKind::Unmerged,
            Detail::ConsentChanged { .. } => EntryKind::ConsentChanged,
            Detail::External { .. } => EntryKind::External,
            Detail::CrmSynced { .. } => EntryKind::CrmSynced,
        }
    }

    /// The ticket an entry of a ticket is about.
    pub fn ticket_id(&self) -> Option<u64> {
        match self {
            Detail::TicketOpened { ticket_id, .. }
            | Detail::TicketClosed { ticket_id }
            | Detail::Message { ticket_id, .. } => Some(*ticket_id),
            _ => None,
        }
    }

    /// The entry with its personal values replaced (SPEC 7 erasure): addresses, a ticket's
    /// subject, a message's text, an external event's message, source and initiator.
    pub fn erased(self) -> Detail {
        let erased = || ERASED.to_owned();
        match self {
            Detail::TicketOpened {
                ticket_id,
                channel_type,
                channel_id,
                ..
            } => Detail::TicketOpened {
                ticket_id,
                channel_type,
                channel_id,
                subject: erased(),
            },
            Detail::Message {
                ticket_id,
                message_id,
                direction,
                channel_type,
                ..
            } => Detail::Message {
                ticket_id,
                message_id,
                direction,
                channel_type,
                text: erased(),
            },
            Detail::UidLinked { uid_type, .. } => Detail::UidLinked {
                uid_type,
                uid: erased(),
            },
            Detail::UidUnlinked { uid_type, .. } => Detail::UidUnlinked {
                uid_type,
                uid: erased(),
            },
            Detail::ConsentChanged {
                uid_type,
                status,
                source,
                ..
            } => Detail::ConsentChanged {
                uid_type,
                uid: erased(),
                status,
                source,
            },
            Detail::External {
                event_id,
                event_type,
                ..
            } => Detail::External {
                event_id,
                event_type,
                message: erased(),
                source_url: None,
                initiated_by: erased(),
            },
            other @ (Detail::TicketClosed { .. }
            | Detail::Merged { .. }
            | Detail::Unmerged { .. }
            | Detail::CrmSynced { .. }) => other,
        }
    }
}

/// One listed entry: when, and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub at: Timestamp,
    #[serde(flatten)]
    pub detail: Detail,
}

/// Where a record sorts in its end user's timeline, unique within the tenant: its second, the
/// microsecond of the write within it (a dated message or event sorts at its second's
/// start), its kind's rank and an ID (the ticket's,
/// message's, merge's or event's, or the end user's own for its changes, which a version
/// condition keeps a microsecond apart), packed into one number below 2^115, which DynamoDB's 38
/// digits hold exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(pub u128);

const SECOND_BITS: u32 = 38;
const MICROSECOND_BITS: u32 = 20;
const KIND_BITS: u32 = 4;
const ID_BITS: u32 = 53;

impl Position {
    fn of(at: Timestamp, kind: EntryKind, id: u64) -> Self {
        let max = |bits: u32| (1_u128 << bits) - 1;
        let second = u128::try_from(at.unix_seconds())
            .unwrap_or(0)
            .min(max(SECOND_BITS));
        let id = u128::from(id) & max(ID_BITS);
        let packed = (((second << MICROSECOND_BITS | microsecond_of(at)) << KIND_BITS
            | kind.rank())
            << ID_BITS)
            | id;
        Position(packed)
    }
}

/// Seconds after its own during which a record's write counts as of its time (the write took
/// its time, then read before recording).
const LATE_SECONDS: u64 = 60;

/// The clock's microsecond within `at`'s second while that second is the current one; the
/// second's last one shortly after it (the write took its time stamp in that second, before
/// the read it did since); else 0 (a dated record).
fn microsecond_of(at: Timestamp) -> u128 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    match u64::try_from(at.unix_seconds()).map(|second| now.as_secs().checked_sub(second)) {
        Ok(Some(0)) => u128::from(now.subsec_micros()),
        Ok(Some(late)) if late <= LATE_SECONDS => 999_999,
        _ => 0,
    }
}

/// What one write records on one end user's timeline: entries of one kind, at one time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub end_user_id: u64,
    pub at: Timestamp,
    pub kind: EntryKind,
    pub position: Position,
    /// Entries of `kind`, at least one.
    pub details: Vec<Detail>,
}

impl Record {
    /// A record of `details` (none: no record), all of `kind`.
    fn of(
        end_user_id: u64,
        at: Timestamp,
        kind: EntryKind,
        id: u64,
        details: Vec<Detail>,
    ) -> Option<Record> {
        debug_assert!(details.iter().all(|d| d.kind() == kind));
        (!details.is_empty()).then(|| Record {
            end_user_id,
            at,
            kind,
            position: Position::of(at, kind, id),
            details,
        })
    }

    fn single(end_user_id: u64, at: Timestamp, id: u64, detail: Detail) -> Record {
        let kind = detail.kind();
        Record {
            end_user_id,
            at,
            kind,
            position: Position::of(at, kind, id),
            details: vec![detail],
        }
    }

    /// The ticket a ticket's record is about.
    pub fn ticket_id(&self) -> Option<u64> {
        self.details.first().and_then(Detail::ticket_id)
    }

    /// Its entries, in the order they were recorded.
    pub fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        self.details.iter().map(|detail| Entry {
            at: self.at,
            detail: detail.clone(),
        })
    }

    /// The record with its personal values replaced.
    pub fn erased(self) -> Record {
        Record {
            details: self.details.into_iter().map(Detail::erased).collect(),
            ..self
        }
    }
}

/// The records of an end user going from `before` (`None`: created) to `after`: its UIDs
/// unlinked and linked on the way (an address whose value changed is both), and each UID whose
/// consent changed. An anonymization records nothing (its values are erased, not listed).
pub fn of_end_user(before: Option<&EndUser>, after: &EndUser, now: Timestamp) -> Vec<Record> {
    if after.anonymized_at.is_some() {
        return Vec::new();
    }
    let same =
        |a: &StoredUid, b: &StoredUid| a.id == b.id && a.uid_type == b.uid_type && a.uid == b.uid;
    let old: &[StoredUid] = before.map_or(&[], |b| b.uids.as_slice());
    let unlinked = old
        .iter()
        .filter(|uid| !after.uids.iter().any(|new| same(uid, new)))
        .map(|uid| Detail::UidUnlinked {
            uid_type: uid.uid_type,
            uid: uid.uid.clone(),
        })
        .collect();
    let linked = after
        .uids
        .iter()
        .filter(|uid| !old.iter().any(|was| same(uid, was)))
        .map(|uid| Detail::UidLinked {
            uid_type: uid.uid_type,
            uid: uid.uid.clone(),
        })
        .collect();
    let consent = consent_changes(before, Some(after))
        .map(|uid| {
            let consent = uid.consent();
            Detail::ConsentChanged {
                uid_type: uid.uid_type,
                uid: uid.uid.clone(),
                status: consent.status,
                source: consent.source.unwrap_or_default(),
            }
        })
        .collect();
    let id = after.id;
    [
        (EntryKind::UidUnlinked, unlinked),
        (EntryKind::UidLinked, linked),
        (EntryKind::ConsentChanged, consent),
    ]
    .into_iter()
    .filter_map(|(kind, details)| Record::of(id, now, kind, id, details))
    .collect()
}

/// The ticket `ticket` opened (when it was created).
pub fn ticket_opened(ticket: &Ticket) -> Record {
    let detail = Detail::TicketOpened {
        ticket_id: ticket.id,
        channel_type: ticket.channel_type,
        channel_id: ticket.channel_id,
        subject: ticket.subject.clone(),
    };
    Record::single(ticket.end_user_id, ticket.created_at, ticket.id, detail)
}

/// `ticket` closed (again, after a reopening: a microsecond later at least).
pub fn ticket_closed(ticket: &Ticket, now: Timestamp) -> Record {
    let detail = Detail::TicketClosed {
        ticket_id: ticket.id,
    };
    Record::single(ticket.end_user_id, now, ticket.id, detail)
}

/// `message` on a ticket of `end_user_id` on a channel of `channel_type`.
pub fn message(end_user_id: u64, channel_type: ChannelType, message: &Message) -> Record {
    let detail = Detail::Message {
        ticket_id: message.ticket_id,
        message_id: message.id,
        direction: message.direction,
        channel_type,
        text: message.text.chars().take(MESSAGE_EXCERPT_CHARS).collect(),
    };
    Record::single(end_user_id, message.received_at, message.id, detail)
}

/// `source_id` merged into `target_id` (`undone`: the merge undone), on the target's timeline.
pub fn merge(
    target_id: u64,
    source_id: u64,
    merge_id: u64,
    undone: bool,
    now: Timestamp,
) -> Record {
    let detail = if undone {
        Detail::Unmerged {
            merge_id,
            source_end_user_id: source_id,
        }
    } else {
        Detail::Merged {
            merge_id,
            source_end_user_id: source_id,
        }
    };
    Record::single(target_id, now, merge_id, detail)
}

/// A sync with the tenant's CRM that changed `changed_fields` of `end_user_id`.
pub fn crm_synced(end_user_id: u64, changed_fields: Vec<String>, now: Timestamp) -> Record {
    let detail = Detail::CrmSynced { changed_fields };
    Record::single(end_user_id, now, end_user_id, detail)
}

/// An external event recorded on `end_user_id`'s timeline.
pub fn external(end_user_id: u64, event: &ExternalEvent) -> Record {
    Record::single(end_user_id, event.occurred_at, event.id, event.detail())
}

#[cfg(test)]
mod tests;
