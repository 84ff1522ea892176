//! What each route takes and answers: its query and header parameters, its body and its
//! statuses. The statuses every route of a kind shares (credentials, bodies, keys) are added by
//! [`Operation::render`], so a route lists only its own.

use serde_json::{Map, Value, json};

use answerpal::domain::MAX_ID;
use answerpal::domain::end_user::SORT_FIELDS;
use answerpal::domain::page::MAX_PAGE_SIZE;
use answerpal::domain::ticket::listing::SORT_FIELDS as TICKET_SORT_FIELDS;

/// How a route authenticates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Jwt,
    /// A phone-auth JWT only.
    PhoneJwt,
    /// The tenant's `X-Webhook-Signature` over the body.
    Signature,
    /// Twilio's `X-Twilio-Signature`.
    Twilio,
    /// No credentials.
    Public,
}

/// A query parameter.
#[derive(Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub schema: fn() -> Value,
    pub description: &'static str,
}

/// A request body.
#[derive(Clone, Copy)]
pub enum Body {
    /// `application/json` of the named schema.
    Json(&'static str),
    /// `application/x-www-form-urlencoded` of the named schema.
    Form(&'static str),
}

/// A successful answer.
#[derive(Clone, Copy)]
pub enum Answer {
    /// `application/json` of the named schema.
    Json(&'static str),
    /// The same, with the end user's `ETag`.
    Tagged(&'static str),
    /// The same, with `Location` and `ETag` (a new end user).
    Created(&'static str),
    /// No body.
    Empty,
    /// Twilio's empty TwiML answer.
    Twiml,
}

/// The request headers a route honours.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Header {
    IdempotencyKey,
    IfMatch,
    IfNoneMatch,
}

pub struct Operation {
    pub id: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    pub query: &'static [Param],
    pub headers: &'static [Header],
    pub body: Option<Body>,
    pub answers: &'static [(u16, Answer)],
    /// The problem statuses of the route itself.
    pub problems: &'static [u16],
}

fn integer() -> Value {
    json!({"type": "integer", "minimum": 0})
}

fn id() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_ID})
}

fn text() -> Value {
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

const fn param(name: &'static str, schema: fn() -> Value, description: &'static str) -> Param {
    Param {
        name,
        required: false,
        schema,
        description,
    }
}

const PAGE: [Param; 2] = [
    param("pageNumber", page_number, "The page, from 1."),
    param("pageSize", page_size, "Items per page, 1 to 100."),
];

const LIST: &[Param] = &[
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
        "cursor",
        text,
        "Cursor paging: empty for the first page, then the previous page's nextCursor. \
         Only with pageSize and sortOrder. `attributes.<key>=<value>` filters pages by number.",
    ),
];

const TICKETS: &[Param] = &[
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

const BY_UID: &[Param] = &[
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

use Answer::*;
use Header::*;

/// The description of `route` (`"METHOD /path"`).
pub fn operation(route: &str) -> Option<Operation> {
    let op = |id, summary, answers, problems| Operation {
        id,
        summary,
        auth: Auth::Jwt,
        query: &[],
        headers: &[],
        body: None,
        answers,
        problems,
    };
    let end_user = Some(Body::Json("EndUserBody"));
    Some(match route {
        "GET /api/EndUsers" => Operation {
            query: LIST,
            ..op(
                "listEndUsers",
                "The tenant's end users, a page at a time",
                &[(200, Json("EndUserPage"))],
                &[],
            )
        },
        "POST /api/EndUsers" => Operation {
            headers: &[IdempotencyKey],
            body: end_user,
            ..op(
                "createEndUser",
                "Create an end user",
                &[(201, Created("EndUserView"))],
                &[409],
            )
        },
        "POST /api/EndUsers/bulk" => Operation {
            headers: &[IdempotencyKey],
            body: Some(Body::Json("BulkRequest")),
            ..op(
                "bulkEndUsers",
                "Apply up to 100 creates, upserts, updates and deletes, each on its own",
                &[(200, Json("BulkResults"))],
                &[],
            )
        },
        "GET /api/EndUsers/byUid" => Operation {
            query: BY_UID,
            ..op(
                "endUserByUid",
                "The end user holding a UID or customerRef",
                &[(200, Tagged("EndUserView"))],
                &[404, 409],
            )
        },
        "GET /api/EndUsers/{id}" => Operation {
            headers: &[IfMatch, IfNoneMatch],
            ..op(
                "getEndUser",
                "Read an end user",
                &[(200, Tagged("EndUserView")), (304, Empty)],
                &[404, 410, 412],
            )
        },
        "PUT /api/EndUsers/{id}" => Operation {
            headers: &[IfMatch],
            body: end_user,
            ..op(
                "updateEndUser",
                "Update an end user partially",
                &[(200, Tagged("EndUserView"))],
                &[404, 409, 410, 412],
            )
        },
        "DELETE /api/EndUsers/{id}" => Operation {
            headers: &[IfMatch],
            ..op(
                "deleteEndUser",
                "Delete an end user, freeing its UIDs",
                &[(204, Empty)],
                &[404, 409, 410, 412],
            )
        },
        "GET /api/EndUsers/{id}/tickets" => Operation {
            query: TICKETS,
            ..op(
                "listEndUserTickets",
                "The end user's tickets",
                &[(200, Json("TicketPage"))],
                &[404, 410],
            )
        },
        "PUT /api/EndUsers/byRef/{customerRef}" => Operation {
            headers: &[IfMatch, IfNoneMatch],
            body: end_user,
            ..op(
                "upsertEndUser",
                "Update the end user holding a customerRef, or create one holding it",
                &[(200, Tagged("EndUserView")), (201, Created("EndUserView"))],
                &[409, 410, 412],
            )
        },
        "POST /api/EndUsers/{id}/merge" => Operation {
            headers: &[IdempotencyKey, IfMatch],
            body: Some(Body::Json("MergeBody")),
            ..op(
                "mergeEndUsers",
                "Merge another end user into this one",
                &[(200, Tagged("MergedView"))],
                &[404, 409, 410, 412],
            )
        },
        "GET /api/EndUsers/{id}/merges" => op(
            "listMerges",
            "The merges into an end user, newest first",
            &[(200, Json("Merges"))],
            &[404, 410],
        ),
        "POST /api/EndUsers/{id}/merges/{mergeID}/undo" => Operation {
            headers: &[IdempotencyKey],
            ..op(
                "undoMerge",
                "Undo a merge within 30 days",
                &[(200, Json("UndoneView"))],
                &[404, 409, 410],
            )
        },
        "POST /api/EndUsers/{id}/anonymize" => Operation {
            headers: &[IdempotencyKey, IfMatch],
            ..op(
                "anonymizeEndUser",
                "Erase an end user's personal data, keeping its statistics",
                &[(200, Tagged("EndUserView"))],
                &[404, 409, 410, 412],
            )
        },
        "POST /api/EndUserUIDs/assign" => Operation {
            headers: &[IdempotencyKey],
            body: Some(Body::Json("AssignBody")),
            ..op(
                "assignUid",
                "Link a UID to an end user",
                &[(200, Json("Link")), (201, Json("Link"))],
                &[404, 409, 410],
            )
        },
        "GET /api/Tickets/{ticketID}" => op(
            "getTicket",
            "Read a ticket",
            &[(200, Json("TicketView"))],
            &[404],
        ),
        "PUT /api/Tickets/{ticketID}" => Operation {
            body: Some(Body::Json("TicketBody")),
            ..op(
                "updateTicket",
                "Update a ticket partially",
                &[(200, Json("TicketView"))],
                &[404, 409],
            )
        },
        "GET /api/Tickets/{ticketID}/messages" => Operation {
            query: &PAGE,
            ..op(
                "listMessages",
                "A ticket's messages, oldest first",
                &[(200, Json("MessagePage"))],
                &[404],
            )
        },
        "POST /api/Tickets/{ticketID}/messages" => Operation {
            headers: &[IdempotencyKey],
            body: Some(Body::Json("ReplyBody")),
            ..op(
                "replyToTicket",
                "Record an outbound reply",
                &[(201, Json("MessageView"))],
                &[404, 409],
            )
        },
        "POST /webhooks/twilio/{customerID}/{channelID}" => Operation {
            auth: Auth::Twilio,
            body: Some(Body::Form("TwilioMessage")),
            ..op(
                "twilioWebhook",
                "An inbound SMS or WhatsApp message from Twilio",
                &[(200, Twiml)],
                &[404, 409],
            )
        },
        "POST /webhooks/email/{customerID}/{channelID}" => Operation {
            auth: Auth::Signature,
            body: Some(Body::Json("EmailPayload")),
            ..op(
                "emailWebhook",
                "An inbound e-mail",
                &[(200, Json("RecordedView"))],
                &[404, 409],
            )
        },
        "POST /webhooks/webchat/{customerID}/{channelID}" => Operation {
            auth: Auth::Signature,
            body: Some(Body::Json("WebchatPayload")),
            ..op(
                "webchatWebhook",
                "An inbound web chat message",
                &[(200, Json("RecordedView"))],
                &[404, 409],
            )
        },
        "GET /api/Customers/me" => op(
            "getAccount",
            "The tenant's account",
            &[(200, Json("AccountView"))],
            &[409],
        ),
        "PUT /api/Customers/me" => Operation {
            body: Some(Body::Json("AccountUpdate")),
            ..op(
                "updateAccount",
                "Update the tenant's settings and secrets partially",
                &[(200, Json("AccountView"))],
                &[409],
            )
        },
        "GET /api/Customers/models" => op(
            "listModels",
            "The models the tenant may choose",
            &[(200, Json("Models"))],
            &[],
        ),
        "GET /api/Customers/channels" => op(
            "listChannels",
            "The tenant's channels",
            &[(200, Json("Channels"))],
            &[],
        ),
        "PUT /api/Customers/channels/{channelID}" => Operation {
            body: Some(Body::Json("ChannelBody")),
            ..op(
                "putChannel",
                "Create or replace a channel",
                &[(200, Json("ChannelView")), (201, Json("ChannelView"))],
                &[409],
            )
        },
        "DELETE /api/Customers/channels/{channelID}" => {
            op("deleteChannel", "Delete a channel", &[(204, Empty)], &[404])
        }
        "GET /api/Customers/my-secrets" => Operation {
            auth: Auth::PhoneJwt,
            ..op(
                "getProviderSecrets",
                "The provider secrets a phone client needs",
                &[(200, Json("ProviderSecrets"))],
                &[409],
            )
        },
        "GET /api/openapi.json" => Operation {
            auth: Auth::Public,
            ..op(
                "getOpenApi",
                "This document",
                &[(200, Json("OpenApiDocument"))],
                &[],
            )
        },
        _ => return None,
    })
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": schema_ref("Problem")}},
    })
}

fn status_description(status: u16) -> &'static str {
    match status {
        400 => "Invalid parameters or body (each invalid field named in `errors`)",
        401 => "Missing or invalid credentials",
        403 => "Credentials of the wrong kind for this route",
        404 => "Not found (or another tenant's)",
        409 => "A conflict: a value held by another, a concurrent change, a key in flight",
        410 => "Merged into another end user (`mergedInto`, `Link: rel=canonical`)",
        412 => "If-Match does not match the current ETag",
        413 => "Body too large",
        415 => "Body not of the route's media type",
        422 => "Idempotency-Key reused with another request",
        503 => "Try again (Retry-After)",
        _ => "Problem",
    }
}

impl Operation {
    /// The OpenAPI operation object of this route at `path`.
    pub fn render(&self, path: &str) -> Value {
        let mut parameters: Vec<Value> = path_parameters(path);
        for p in self.query {
            parameters.push(json!({
                "name": p.name, "in": "query", "required": p.required,
                "description": p.description, "schema": (p.schema)(),
            }));
        }
        for header in self.headers {
            parameters.push(header_parameter(*header));
        }
        let mut responses = Map::new();
        for (status, answer) in self.answers {
            let mut object = answer_object(*status, *answer);
            let links = links(self.id);
            if !matches!(answer, Empty | Twiml) && !links.is_empty() {
                object["links"] = Value::Object(links);
            }
            responses.insert(status.to_string(), object);
        }
        for status in self.problem_statuses() {
            responses.insert(status.to_string(), problem(status_description(status)));
        }
        let mut operation = json!({
            "operationId": self.id,
            "summary": self.summary,
            "parameters": parameters,
            "responses": responses,
            "security": match self.auth {
                Auth::Jwt | Auth::PhoneJwt => json!([{"bearer": []}]),
                Auth::Signature => json!([{"signature": []}]),
                Auth::Twilio => json!([{"twilio": []}]),
                Auth::Public => json!([]),
            },
        });
        if let Some(body) = self.body {
            let (media, name) = match body {
                Body::Json(name) => ("application/json", name),
                Body::Form(name) => ("application/x-www-form-urlencoded", name),
            };
            operation["requestBody"] = json!({
                "required": true,
                "content": {media: {"schema": schema_ref(name)}},
            });
        }
        operation
    }

    /// The route's own problem statuses and those of its kind: 400 always (a parameter, a
    /// header), credentials, bodies, keys; 503 when the store is busy.
    fn problem_statuses(&self) -> Vec<u16> {
        let mut statuses = vec![400];
        if self.auth != Auth::Public {
            statuses.extend([401, 403]);
        }
        if self.body.is_some() {
            statuses.extend([413, 415]);
        }
        if self.headers.contains(&IdempotencyKey) {
            statuses.extend([409, 422]);
        }
        if self.auth != Auth::Public {
            statuses.push(503);
        }
        statuses.extend(self.problems);
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    }
}

/// The operations an answer of `operation` leads to, with the values of the answer they take
/// (OpenAPI links: what a client, and the fuzzer's stateful phase, does next).
fn links(operation: &str) -> Map<String, Value> {
    const END_USER: [&str; 7] = [
        "getEndUser",
        "updateEndUser",
        "deleteEndUser",
        "listEndUserTickets",
        "listMerges",
        "mergeEndUsers",
        "anonymizeEndUser",
    ];
    let by_id = |targets: &[&str], parameter: &str, pointer: &str| -> Map<String, Value> {
        targets
            .iter()
            .map(|target| {
                let link = json!({"operationId": target,
                    "parameters": {parameter: format!("$response.body#/{pointer}")}});
                (target.to_string(), link)
            })
            .collect()
    };
    let mut found = match operation {
        "createEndUser" | "upsertEndUser" | "updateEndUser" | "getEndUser" | "endUserByUid" => {
            by_id(&END_USER, "id", "endUserID")
        }
        "assignUid" => by_id(&END_USER, "id", "endUserID"),
        "putChannel" => by_id(&["deleteChannel"], "channelID", "channelID"),
        _ => Map::new(),
    };
    if operation == "mergeEndUsers" {
        let undo = json!({"operationId": "undoMerge", "parameters": {
            "id": "$response.body#/endUserID", "mergeID": "$response.body#/mergeID"}});
        found.insert("undoMerge".into(), undo);
    }
    found
}

/// The `{name}` parameters of a route template: IDs, but `customerRef` (text).
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = match name {
                "customerRef" => json!({"type": "string", "minLength": 1, "maxLength": 128}),
                _ => id(),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

/// `*` or entity tags (`"3"`, `W/"3"`, comma-separated).
fn entity_tags() -> Value {
    json!({"type": "string", "pattern": "^(\\*|(W/)?\"[0-9]+\"( ?, ?(W/)?\"[0-9]+\")*)$"})
}

fn header_parameter(header: Header) -> Value {
    let (name, description, schema) = match header {
        IdempotencyKey => (
            "Idempotency-Key",
            "Retries of this request with the same key and body answer the first response.",
            json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"}),
        ),
        IfMatch => (
            "If-Match",
            "Apply only while the end user's ETag is this one (412 otherwise).",
            entity_tags(),
        ),
        IfNoneMatch => (
            "If-None-Match",
            "GET: 304 while this ETag is current; the upsert: `*` creates only.",
            entity_tags(),
        ),
    };
    json!({"name": name, "in": "header", "required": false, "description": description, "schema": schema})
}

fn answer_object(status: u16, answer: Answer) -> Value {
    let content = |name: &str| json!({"application/json": {"schema": schema_ref(name)}});
    let etag =
        json!({"ETag": {"schema": {"type": "string"}, "description": "The end user's version"}});
    match answer {
        Json(name) => json!({"description": "OK", "content": content(name)}),
        Tagged(name) => json!({"description": "OK", "content": content(name), "headers": etag}),
        Created(name) => {
            let mut headers = etag;
            headers["Location"] = json!({"schema": {"type": "string"}});
            json!({"description": "Created", "content": content(name), "headers": headers})
        }
        Empty if status == 304 => json!({"description": "Not modified"}),
        Empty => json!({"description": "No content"}),
        Twiml => json!({
            "description": "Recorded (or already recorded)",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        }),
    }
}

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
            "type": {"type": "string"},
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
    let secrets = [
        "apiPassword",
        "apiToken",
        "graphClientSecret",
        "twilioAuthToken",
        "openAIApiKey",
        "openAIAdminApiKey",
        "googleMapsApiKey",
        "webhookSigningSecret",
    ];
    let properties: Map<String, Value> = secrets
        .iter()
        .map(|name| {
            let schema = json!({"type": ["string", "null"], "writeOnly": true});
            ((*name).to_owned(), schema)
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
