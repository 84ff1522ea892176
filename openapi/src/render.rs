//! An [`Operation`] as an OpenAPI operation object: its parameters, body, answers (with their
//! links) and the problem statuses its kind shares.

use serde_json::{Map, Value, json};

use crate::operations::{Answer, Auth, Body, Header, Operation};
use crate::params::id;

use Answer::*;
use Header::*;

pub(crate) fn schema_ref(name: &str) -> Value {
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
        502 => "The tenant's CRM gave no usable answer (`crm-unavailable`): nothing changed",
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
    const END_USER: [&str; 12] = [
        "getEndUser",
        "updateEndUser",
        "deleteEndUser",
        "listEndUserTickets",
        "endUserTimeline",
        "recordExternalEvent",
        "syncEndUser",
        "listMerges",
        "listConsent",
        "listDuplicates",
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
        "assignUid" | "syncEndUser" => by_id(&END_USER, "id", "endUserID"),
        "putChannel" => by_id(&["deleteChannel"], "channelID", "channelID"),
        "recordExternalEvent" => by_id(&["endUserTimeline"], "id", "endUserID"),
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
