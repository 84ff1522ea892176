//! The query parameters of the routes and their schemas, the enumerations from the code's own
//! tables (sort fields).

use serde_json::{Value, json};

use answerpal::domain::MAX_ID;
use answerpal::domain::end_user::SORT_FIELDS;
use answerpal::domain::page::MAX_PAGE_SIZE;
use answerpal::domain::ticket::listing::SORT_FIELDS as TICKET_SORT_FIELDS;

use crate::operations::Param;

fn integer() -> Value {
    json!({"type": "integer", "minimum": 0})
}

pub(crate) fn id() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_ID})
}

pub(crate) fn text() -> Value {
    json!({"type": "string"})
}

fn non_empty() -> Value {
    json!({"type": "string", "minLength": 1, "pattern": "\\S"})
}

fn flag() -> Value {
    json!({"type": "string", "enum": ["true", "false"]})
}

fn page_number() -> Value {
    json!({"type": "integer", "minimum": 1, "default": 1})
}

fn page_size() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 25})
}

fn order() -> Value {
    json!({"type": "string", "enum": ["asc", "desc"]})
}

fn end_user_sort() -> Value {
    let names: Vec<&str> = SORT_FIELDS.iter().map(|(name, _)| *name).collect();
    json!({"type": "string", "enum": names})
}

fn ticket_sort() -> Value {
    let names: Vec<&str> = TICKET_SORT_FIELDS.iter().map(|(name, _)| *name).collect();
    json!({"type": "string", "enum": names})
}

fn status() -> Value {
    json!({"type": "string", "enum": ["Open", "Pending", "Closed"]})
}

fn channel_type() -> Value {
    json!({"type": "string", "enum": ["Email", "SMS", "WhatsApp", "Webchat", "Phone"]})
}

fn consent() -> Value {
    json!({"type": "string", "enum": ["unknown", "optedIn", "optedOut"]})
}

const fn param(name: &'static str, schema: fn() -> Value, description: &'static str) -> Param {
    Param {
        name,
        required: false,
        schema,
        description,
    }
}

pub(crate) const PAGE: [Param; 2] = [
    param("pageNumber", page_number, "The page, from 1."),
    param("pageSize", page_size, "Items per page, 1 to 100."),
];

pub(crate) const LIST: &[Param] = &[
    PAGE[0],
    PAGE[1],
    param(
        "sortBy",
        end_user_sort,
        "The sort field (default endUserID).",
    ),
    param("sortOrder", order, "asc (default) or desc."),
    param(
        "search",
        text,
        "A case-insensitive substring of the names, company, customerRef or a UID.",
    ),
    param(
        "consent",
        consent,
        "Only end users holding at least one UID with this consent.",
    ),
    param(
        "cursor",
        text,
        "Cursor paging: empty for the first page, then the previous page's nextCursor. \
         Only with pageSize and sortOrder. `attributes.<key>=<value>` filters pages by number.",
    ),
];

pub(crate) const TICKETS: &[Param] = &[
    param("status", status, "Only tickets of this status."),
    param(
        "customerRepID",
        integer,
        "Only those of this representative (0: unassigned).",
    ),
    param(
        "channelType",
        channel_type,
        "Only those of this channel type.",
    ),
    param(
        "channelIDs",
        text,
        "Only those of these channels (comma-separated).",
    ),
    param(
        "uid",
        text,
        "Only those of this UID (normalized as in byUid).",
    ),
    param(
        "isClosed",
        flag,
        "Only closed (true) or open (false) tickets.",
    ),
    param("isSpam", flag, "Only spam (true) or not (false)."),
    param(
        "search",
        text,
        "A case-insensitive substring of subject, topics or comments.",
    ),
    param(
        "sortBy",
        ticket_sort,
        "The sort field (default lastMessageAt).",
    ),
    param("sortOrder", order, "desc (default) or asc."),
    PAGE[0],
    PAGE[1],
    param(
        "cursor",
        text,
        "Cursor paging by lastMessageAt: empty for the first page, then nextCursor.",
    ),
];

pub(crate) const BY_UID: &[Param] = &[
    Param {
        name: "uid",
        required: true,
        schema: non_empty,
        description: "A UID of any type, or the customerRef.",
    },
    param(
        "country",
        text,
        "ISO 3166-1 alpha-2: reads a national phone number.",
    ),
];

pub(crate) const TIMELINE: &[Param] = &[
    PAGE[1],
    param(
        "kinds",
        text,
        "Only entries of these kinds (comma-separated): ticketOpened, ticketClosed, message, \
         uidLinked, uidUnlinked, merged, unmerged, consentChanged, external, crmSynced.",
    ),
    param(
        "cursor",
        text,
        "The previous page's nextCursor (with the same kinds).",
    ),
];
