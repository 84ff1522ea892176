//! The schemas composed here rather than derived from the code's types.

use serde_json::{Map, Value, json};

use answerpal::domain::customer::SecretField;
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
