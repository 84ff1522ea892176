//! The one mapping of [`ApiError`] to RFC 9457 problem responses (`application/problem+json`):
//! status, stable `type` and `title` per kind, and the members a caller acts on. Internal causes
//! are logged, never sent.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::errors::FieldErrors;
use crate::domain::precondition::etag;
use crate::error::ApiError;

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a FieldErrors>,
    #[serde(rename = "endUserID", skip_serializing_if = "Option::is_none")]
    end_user_id: Option<u64>,
    #[serde(rename = "endUserIDs", skip_serializing_if = "Option::is_none")]
    end_user_ids: Option<&'a [u64]>,
    #[serde(rename = "mergedInto", skip_serializing_if = "Option::is_none")]
    merged_into: Option<u64>,
}

/// Every problem `type` the API answers, as the OpenAPI document lists them (a test holds it to
/// [`ApiError::kind`]).
pub const PROBLEM_TYPES: [&str; 23] = [
    "/problems/validation",
    "/problems/malformed-body",
    "/problems/unauthenticated",
    "/problems/invalid-token",
    "/problems/invalid-request",
    "/problems/forbidden",
    "/problems/not-found",
    "/problems/merged",
    "/problems/method-not-allowed",
    "/problems/conflict",
    "/problems/precondition-failed",
    "/problems/secrets-unreadable",
    "/problems/no-crm-connector",
    "/problems/ambiguous-match",
    "/problems/concurrent-modification",
    "/problems/idempotency-key-reused",
    "/problems/idempotency-in-flight",
    "/problems/payload-too-large",
    "/problems/request-timeout",
    "/problems/unsupported-media-type",
    "/problems/crm-unavailable",
    "/problems/unavailable",
    "/problems/internal",
];

/// Seconds a client should wait after a 503.
const RETRY_AFTER_SECONDS: &str = "1";

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_)
            | ApiError::MalformedBody(_)
            | ApiError::RepeatedCredentials => StatusCode::BAD_REQUEST,
            ApiError::MissingCredentials | ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::Conflict { .. }
            | ApiError::SecretsUnreadable(_)
            | ApiError::NoCrmConnector(_)
            | ApiError::Ambiguous { .. }
            | ApiError::ConcurrentModification
            | ApiError::IdempotencyInFlight => StatusCode::CONFLICT,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::CrmUnavailable(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem `type` (a stable URI reference documented in docs/problems.md) and `title`.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Validation(_) => ("/problems/validation", "Invalid request"),
            ApiError::MalformedBody(_) => ("/problems/malformed-body", "Malformed request body"),
            ApiError::MissingCredentials => {
                ("/problems/unauthenticated", "Authentication required")
            }
            ApiError::InvalidToken(_) => ("/problems/invalid-token", "Invalid token"),
            ApiError::RepeatedCredentials => ("/problems/invalid-request", "Invalid request"),
            ApiError::Forbidden(_) => ("/problems/forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("/problems/not-found", "Not found"),
            ApiError::Gone { .. } => ("/problems/merged", "Merged into another end user"),
            ApiError::MethodNotAllowed(_) => ("/problems/method-not-allowed", "Method not allowed"),
            ApiError::Conflict { .. } => ("/problems/conflict", "Conflict"),
            ApiError::PreconditionFailed { .. } => {
                ("/problems/precondition-failed", "Precondition failed")
            }
            ApiError::SecretsUnreadable(_) => {
                ("/problems/secrets-unreadable", "Stored secrets unreadable")
            }
            ApiError::NoCrmConnector(_) => ("/problems/no-crm-connector", "No CRM connector"),
            ApiError::Ambiguous { .. } => ("/problems/ambiguous-match", "Ambiguous match"),
            ApiError::ConcurrentModification => (
                "/problems/concurrent-modification",
                "Concurrent modification",
            ),
            ApiError::IdempotencyKeyReused => {
                ("/problems/idempotency-key-reused", "Idempotency key reused")
            }
            ApiError::IdempotencyInFlight => {
                ("/problems/idempotency-in-flight", "Request in progress")
            }
            ApiError::PayloadTooLarge(_) => ("/problems/payload-too-large", "Payload too large"),
            ApiError::BodyTimeout => ("/problems/request-timeout", "Request timeout"),
            ApiError::UnsupportedMediaType(_) => {
                ("/problems/unsupported-media-type", "Unsupported media type")
            }
            ApiError::CrmUnavailable(_) => ("/problems/crm-unavailable", "CRM unavailable"),
            ApiError::Unavailable(_) => ("/problems/unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("/problems/internal", "Internal error"),
        }
    }

    /// What the caller is told; internal causes stay in the logs.
    fn detail(&self) -> String {
        match self {
            ApiError::Unavailable(_) => "the store is unavailable or throttling; retry".into(),
            ApiError::Internal(_) => "an internal error occurred".into(),
            ApiError::InvalidToken(_) => "the bearer token is invalid or expired".into(),
            other => other.to_string(),
        }
    }

    /// The problem document this error answers.
    fn problem(&self) -> Problem<'_> {
        let (kind, title) = self.kind();
        let (errors, end_user_id, end_user_ids) = match self {
            ApiError::Validation(errors) | ApiError::SecretsUnreadable(errors) => {
                (Some(errors), None, None)
            }
            ApiError::Conflict { errors, holder, .. } => {
                (Some(errors).filter(|e| !e.is_empty()), *holder, None)
            }
            ApiError::Ambiguous { end_user_ids } => (None, None, Some(end_user_ids.as_slice())),
            _ => (None, None, None),
        };
        let merged_into = match self {
            ApiError::Gone { merged_into, .. } => Some(*merged_into),
            _ => None,
        };
        Problem {
            kind,
            title,
            status: self.status().as_u16(),
            detail: self.detail(),
            errors,
            end_user_id,
            end_user_ids,
            merged_into,
        }
    }

    /// The problem document as a JSON value: what a bulk item that failed answers.
    pub fn problem_value(&self) -> serde_json::Value {
        serde_json::to_value(self.problem()).unwrap_or_default()
    }

    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        let problem = self.problem();
        let body = serde_json::to_string(&problem).unwrap_or_default();
        let mut response = Response::new(Body::Text(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        self.add_headers(headers);
        response
    }

    /// The headers a kind of problem carries besides its content type.
    fn add_headers(&self, headers: &mut lambda_http::http::HeaderMap) {
        match self {
            ApiError::MissingCredentials => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::InvalidToken(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            ApiError::RepeatedCredentials => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_request\""),
                );
            }
            ApiError::MethodNotAllowed(allow) => {
                if let Ok(allow) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, allow);
                }
            }
            ApiError::PreconditionFailed {
                current: Some(version),
            } => {
                if let Ok(tag) = HeaderValue::from_str(&etag(*version)) {
                    headers.insert(header::ETAG, tag);
                }
            }
            ApiError::Gone { merged_into, .. } => {
                let canonical = format!("</api/EndUsers/{merged_into}>; rel=\"canonical\"");
                if let Ok(link) = HeaderValue::from_str(&canonical) {
                    headers.insert(header::LINK, link);
                }
            }
            ApiError::Unavailable(_) | ApiError::IdempotencyInFlight => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_error_answers_a_listed_problem_type_and_every_listed_one_is_answered() {
        use super::PROBLEM_TYPES;
        use crate::domain::errors::FieldErrors;
        use crate::error::ApiError;
        let every = [
            ApiError::Validation(FieldErrors::single("a", "b")),
            ApiError::MalformedBody("x".into()),
            ApiError::MissingCredentials,
            ApiError::InvalidToken("x".into()),
            ApiError::RepeatedCredentials,
            ApiError::Forbidden("x".into()),
            ApiError::NotFound("x".into()),
            ApiError::Gone {
                id: 1,
                merged_into: 2,
            },
            ApiError::MethodNotAllowed("GET".into()),
            ApiError::Conflict {
                detail: "x".into(),
                errors: FieldErrors::default(),
                holder: None,
            },
            ApiError::PreconditionFailed { current: None },
            ApiError::SecretsUnreadable(FieldErrors::default()),
            ApiError::NoCrmConnector("x".into()),
            ApiError::Ambiguous {
                end_user_ids: vec![1],
            },
            ApiError::ConcurrentModification,
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyInFlight,
            ApiError::PayloadTooLarge(1),
            ApiError::BodyTimeout,
            ApiError::UnsupportedMediaType("application/json"),
            ApiError::CrmUnavailable("x".into()),
            ApiError::Unavailable("x".into()),
            ApiError::Internal("x".into()),
        ];
        // A new variant fails to compile here until it is in the list above.
        for error in &every {
            match error {
                ApiError::Validation(_)
                | ApiError::MalformedBody(_)
                | ApiError::MissingCredentials
                | ApiError::InvalidToken(_)
                | ApiError::RepeatedCredentials
                | ApiError::Forbidden(_)
                | ApiError::NotFound(_)
                | ApiError::Gone { .. }
                | ApiError::MethodNotAllowed(_)
                | ApiError::Conflict { .. }
                | ApiError::PreconditionFailed { .. }
                | ApiError::SecretsUnreadable(_)
                | ApiError::NoCrmConnector(_)
                | ApiError::Ambiguous { .. }
                | ApiError::ConcurrentModification
                | ApiError::IdempotencyKeyReused
                | ApiError::IdempotencyInFlight
                | ApiError::PayloadTooLarge(_)
                | ApiError::BodyTimeout
                | ApiError::UnsupportedMediaType(_)
                | ApiError::CrmUnavailable(_)
                | ApiError::Unavailable(_)
                | ApiError::Internal(_) => {}
            }
        }
        let answered: Vec<&str> = every.iter().map(|e| e.kind().0).collect();
        assert_eq!(answered, PROBLEM_TYPES);
        let documented = include_str!("../../../docs/problems.md");
        for kind in PROBLEM_TYPES {
            assert!(
                documented.contains(&format!("| `{kind}` |")),
                "{kind}: docs/problems.md"
            );
        }
    }

    use super::*;

    fn body_json(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).expect("problem body is JSON")
    }

    #[test]
    fn validation_problem_lists_every_field() {
        let mut errors = FieldErrors::default();
        errors.add("uids[1].uid", "not a valid e-mail address");
        errors.add("customerType", "must be Lead, Customer or Partner");
        let response = ApiError::Validation(errors).into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = body_json(&response);
        assert_eq!(body["status"], 400);
        assert_eq!(body["type"], "/problems/validation");
        assert_eq!(
            body["errors"]["uids[1].uid"][0],
            "not a valid e-mail address"
        );
        assert_eq!(
            body["errors"]["customerType"].as_array().map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn a_merged_end_user_is_gone_with_a_canonical_link() {
        let response = ApiError::Gone {
            id: 7,
            merged_into: 9,
        }
        .into_response();
        assert_eq!(response.status(), 410);
        assert_eq!(
            response.headers()[header::LINK],
            "</api/EndUsers/9>; rel=\"canonical\""
        );
        let body = body_json(&response);
        assert_eq!(body["mergedInto"], 9);
        assert_eq!(body["type"], "/problems/merged");
    }

    #[test]
    fn internal_causes_are_not_sent() {
        let response = ApiError::Internal("secret table detail".into()).into_response();
        assert_eq!(response.status(), 500);
        let text = String::from_utf8_lossy(response.body().as_ref()).to_string();
        assert!(!text.contains("secret table detail"), "{text}");
    }

    #[test]
    fn unavailable_carries_retry_after() {
        let response = ApiError::Unavailable("throttled".into()).into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn conflict_names_the_holder() {
        let response = ApiError::Conflict {
            detail: "taken".into(),
            errors: FieldErrors::single("customerRef", "held by end user 7"),
            holder: Some(7),
        }
        .into_response();
        let body = body_json(&response);
        assert_eq!(response.status(), 409);
        assert_eq!(body["endUserID"], 7);
        assert_eq!(body["errors"]["customerRef"][0], "held by end user 7");
    }

    #[test]
    fn invalid_token_challenges_with_error_code() {
        let response = ApiError::InvalidToken("expired".into()).into_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
    }
}
