//! Every response the API suite receives is checked against the served OpenAPI document: its
//! route's operation documents the status, and the body validates against that status's schema
//! (JSON Schema 2020-12, formats such as `date-time` asserted). A response to a path or method no
//! route has must be a 404 or 405 problem.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        serde_json::from_str(answerpal::families::openapi::DOCUMENT).expect("the document")
    })
}

/// The validator of each schema, built once (`$ref`s resolve within the document).
fn validator(schema: &Value) -> Arc<Validator> {
    static BUILT: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let key = schema.to_string();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .expect("validators");
    let found = built.entry(key).or_insert_with(|| {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": document()["components"],
        });
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema {schema} does not build: {e}"));
        Arc::new(validator)
    });
    Arc::clone(found)
}

/// The document's path template that `path` takes: the one whose literal segments all match,
/// literals preferred over parameters (`/api/EndUsers/byUid` over `/api/EndUsers/{id}`).
fn template_of(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    paths
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literals = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literals += 1;
                } else {
                    return None;
                }
            }
            Some((literals, template.as_str()))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, template)| template)
}

/// Panics unless the response (`status`, `content_type`, `body`) to `method` `path` is one the
/// document describes.
pub fn check(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &Value) {
    let operation = template_of(path)
        .map(|template| &document()["paths"][template][method.to_ascii_lowercase()])
        .filter(|operation| operation.is_object());
    let Some(operation) = operation else {
        assert!(
            matches!(status, 404 | 405),
            "{method} {path}: {status} from no documented operation: {body}"
        );
        return;
    };
    let id = operation["operationId"].as_str().unwrap_or_default();
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{id} ({method} {path}): status {status} is not documented: {body}"
    );
    let Some(content) = response["content"].as_object() else {
        assert!(body.is_null(), "{id}: {status} documents no body: {body}");
        return;
    };
    let media = content_type.unwrap_or_default();
    let described = content
        .get(media)
        .unwrap_or_else(|| panic!("{id}: {status} in {media} is not documented"));
    if media == "text/xml" {
        return;
    }
    let validator = validator(&described["schema"]);
    if let Err(error) = validator.validate(body) {
        panic!("{id} ({method} {path}) {status} does not match its schema: {error}\n{body}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn the_most_literal_template_is_taken() {
        assert_eq!(
            template_of("/api/EndUsers/byUid"),
            Some("/api/EndUsers/byUid")
        );
        assert_eq!(template_of("/api/EndUsers/12"), Some("/api/EndUsers/{id}"));
        assert_eq!(template_of("/api/Nothing"), None);
    }

    #[test]
    fn a_documented_answer_passes() {
        let problem = json!({"type": "/problems/not-found", "title": "Not found", "status": 404,
            "detail": "no end user 12"});
        check(
            "GET",
            "/api/EndUsers/12",
            404,
            Some("application/problem+json"),
            &problem,
        );
        check("DELETE", "/api/EndUsers/12", 204, None, &Value::Null);
        check(
            "GET",
            "/api/Nothing",
            404,
            Some("application/problem+json"),
            &problem,
        );
    }

    #[test]
    #[should_panic(expected = "does not match its schema")]
    fn a_body_off_its_schema_fails() {
        check(
            "GET",
            "/api/Tickets/3",
            200,
            JSON,
            &json!({"ticketID": "three"}),
        );
    }

    #[test]
    #[should_panic(expected = "does not match its schema")]
    fn a_malformed_timestamp_fails() {
        let messages = json!({"items": [{"messageID": 1, "ticketID": 3, "direction": "Inbound",
            "providerMessageID": null, "from": "x", "text": "y", "subject": null,
            "receivedAt": "yesterday"}], "totalCount": 1, "totalPages": 1, "pageNumber": 1,
            "pageSize": 25});
        check("GET", "/api/Tickets/3/messages", 200, JSON, &messages);
    }

    #[test]
    #[should_panic(expected = "is not documented")]
    fn an_undocumented_status_fails() {
        check("GET", "/api/Tickets/3", 418, JSON, &json!({}));
    }

    #[test]
    #[should_panic(expected = "from no documented operation")]
    fn a_success_of_no_route_fails() {
        check("GET", "/api/Nothing", 200, JSON, &json!({}));
    }
}
