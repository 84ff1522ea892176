//! The schemas composed here rather than derived from the code's types.

use serde_json::{Map, Value, json};

use answerpal::domain::customer::SecretField;
use answerpal::domain::timeline::{EntryKind, MAX_MESSAGE_CHARS, MAX_TYPE_CHARS};
use answerpal::http::problem::PROBLEM_TYPES;

use crate::render::schema_ref;

/// The schemas composed here rather than derived: generic pages, bodies read item by item, the
/// problem document and the Twilio form.
pub fn composed() -> Vec<(&'static str, Value)> {
    let page = |item: &str| {
        json!({
            "type": "object",
            "required": ["items", "totalCount", "totalPages", "pageNumber", "pageSize"],
            "properties": {
                "items": {"type": "array", "items": schema_ref(item)},
                "totalCount": {"type": "integer", "minimum": 0},
                "totalPages": {"type": "integer", "minimum": 0},
                "pageNumber": {"type": "integer", "minimum": 1},
                "pageSize": {"type": "integer", "minimum": 1},
            },
        })
    };
    let cursor_page = |item: &str| {
        json!({
            "type": "object",
            "required": ["items", "pageSize", "nextCursor"],
            "properties": {
                "items": {"type": "array", "items": schema_ref(item)},
                "pageSize": {"type": "integer", "minimum": 1},
                "nextCursor": {"type": ["string", "null"]},
            },
        })
    };
    let either = |item: &str| json!({"oneOf": [page(item), cursor_page(item)]});
    vec![
        ("EndUserPage", either("EndUserView")),
        ("TicketPage", either("TicketView")),
        ("MessagePage", page("MessageView")),
        ("Problem", problem_schema()),
        ("BulkRequest", bulk_request()),
        ("AccountUpdate", account_update()),
        ("TwilioMessage", twilio_message()),
        (
            "Models",
            json!({"type": "array", "items": schema_ref("Model")}),
        ),
        (
            "Channels",
            json!({"type": "object", "required": ["items"],
                "properties": {"items": {"type": "array", "items": schema_ref("ChannelView")}}}),
        ),
        ("TimelinePage", timeline_page()),
        ("TimelineEntry", timeline_entry()),
        ("ExternalEventBody", external_event_body()),
        (
            "OpenApiDocument",
            json!({"type": "object", "required": ["openapi", "paths"]}),
        ),
    ]
}

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "enum": PROBLEM_TYPES,
                "description": "The kind of problem (docs/problems.md)"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "description": "Each invalid field's path, with what is wrong with it",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "endUserID": {"type": "integer"},
            "endUserIDs": {"type": "array", "items": {"type": "integer"}},
            "mergedInto": {"type": "integer"},
        },
    })
}

fn bulk_request() -> Value {
    let item = json!({
        "allOf": [schema_ref("EndUserBody")],
        "type": "object",
        "required": ["op"],
        "properties": {
            "op": {"type": "string", "enum": ["create", "upsert", "update", "delete"]},
            "endUserID": {"type": "integer", "description": "The end user of an update or delete"},
        },
    });
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "maxItems": 100, "items": item}},
    })
}

fn account_update() -> Value {
    let properties: Map<String, Value> = SecretField::ALL
        .iter()
        .map(|field| {
            let schema = json!({"type": ["string", "null"], "writeOnly": true});
            (field.name().to_owned(), schema)
        })
        .collect();
    json!({
        "description": "Any of the settings, and secrets to set (`\"\"` or null clears one)",
        "allOf": [schema_ref("Settings")],
        "type": "object",
        "properties": properties,
    })
}

fn twilio_message() -> Value {
    json!({
        "type": "object",
        "required": ["From", "MessageSid"],
        "properties": {
            "From": {"type": "string"},
            "To": {"type": "string"},
            "Body": {"type": "string"},
            "MessageSid": {"type": "string"},
            "OptOutType": {"type": "string"},
        },
    })
}

fn timeline_page() -> Value {
    json!({
        "type": "object",
        "required": ["items", "nextCursor"],
        "properties": {
            "items": {"type": "array", "items": schema_ref("TimelineEntry")},
            "nextCursor": {"type": ["string", "null"]},
        },
    })
}

/// The members of each kind of timeline entry (SPEC 10).
fn entry_members(kind: EntryKind) -> Vec<(&'static str, Value)> {
    let id = || json!({"type": "integer", "minimum": 1});
    let text = || json!({"type": "string"});
    let uid = || vec![("uidType", schema_ref("UidType")), ("uid", text())];
    let merge = || vec![("mergeID", id()), ("sourceEndUserID", id())];
    match kind {
        EntryKind::TicketOpened => vec![
            ("ticketID", id()),
            ("channelType", schema_ref("ChannelType")),
            ("channelID", id()),
            ("subject", text()),
        ],
        EntryKind::TicketClosed => vec![("ticketID", id())],
        EntryKind::Message => vec![
            ("ticketID", id()),
            ("messageID", id()),
            ("direction", schema_ref("Direction")),
            ("channelType", schema_ref("ChannelType")),
            ("text", json!({"type": "string", "maxLength": 200})),
        ],
        EntryKind::UidLinked | EntryKind::UidUnlinked => uid(),
        EntryKind::Merged | EntryKind::Unmerged => merge(),
        EntryKind::ConsentChanged => {
            let mut members = uid();
            members.push(("status", schema_ref("ConsentStatus")));
            members.push(("source", text()));
            members
        }
        EntryKind::External => vec![
            ("eventID", id()),
            ("type", text()),
            ("message", text()),
            ("sourceUrl", json!({"type": ["string", "null"]})),
            ("initiatedBy", text()),
        ],
        EntryKind::CrmSynced => vec![(
            "changedFields",
            json!({"type": "array", "items": {"type": "string"}}),
        )],
    }
}

/// One entry: `kind` and `at`, then its kind's members.
fn timeline_entry() -> Value {
    let variants: Vec<Value> = EntryKind::ALL
        .into_iter()
        .map(|kind| {
            let members = entry_members(kind);
            let mut required = vec!["kind", "at"];
            required.extend(members.iter().map(|(name, _)| *name));
            let mut properties = Map::new();
            properties.insert("kind".into(), json!({"const": kind.as_str()}));
            properties.insert(
                "at".into(),
                json!({"type": "string", "format": "date-time"}),
            );
            for (name, schema) in members {
                properties.insert(name.into(), schema);
            }
            json!({"type": "object", "required": required, "properties": properties})
        })
        .collect();
    json!({"oneOf": variants})
}

fn external_event_body() -> Value {
    json!({
        "type": "object",
        "required": ["type", "message", "initiatedBy"],
        "properties": {
            "type": {"type": "string", "minLength": 1, "maxLength": MAX_TYPE_CHARS,
                "pattern": "^[A-Za-z0-9_.-]+$"},
            "message": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
                "pattern": "\\S"},
            "initiatedBy": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
            "sourceUrl": {"type": ["string", "null"], "format": "uri", "maxLength": 2048},
            "occurredAt": {"type": ["string", "null"], "format": "date-time"},
        },
    })
}
