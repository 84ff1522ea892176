//! External events (SPEC 10): something that happened to the person elsewhere (an order, a
//! marketing mail), recorded on its timeline by an integrator.

use serde::Serialize;
use serde_json::{Map, Value};

use super::Detail;
use crate::domain::Timestamp;
use crate::domain::errors::FieldErrors;

pub const MAX_TYPE_CHARS: usize = 64;
pub const MAX_MESSAGE_CHARS: usize = 2000;
const MAX_INITIATED_BY_CHARS: usize = 200;
const MAX_SOURCE_URL_CHARS: usize = 2048;

/// A validated external event of an end user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExternalEvent {
    #[serde(rename = "eventID")]
    pub id: u64,
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub message: String,
    pub initiated_by: String,
    pub source_url: Option<String>,
    pub occurred_at: Timestamp,
}

/// A required text of 1 to `max` characters (not only spaces), kept as written.
fn text(body: &Map<String, Value>, name: &str, max: usize) -> Result<String, String> {
    match body.get(name) {
        None | Some(Value::Null) => Err("is required".into()),
        Some(Value::String(s)) if s.trim().is_empty() => Err("must not be empty".into()),
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(format!("must be at most {max} characters"))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err("must be a string".into()),
    }
}

fn event_type(body: &Map<String, Value>) -> Result<String, String> {
    let raw = text(body, "type", MAX_TYPE_CHARS)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if !raw.chars().all(allowed) {
        return Err("may hold only letters A-Z and a-z, digits, '_', '.' and '-'".into());
    }
    Ok(raw)
}

fn source_url(body: &Map<String, Value>) -> Result<Option<String>, String> {
    let raw = match body.get("sourceUrl") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(raw)) => raw,
        Some(_) => return Err("must be a string".into()),
    };
    if raw.len() > MAX_SOURCE_URL_CHARS {
        return Err(format!("must be at most {MAX_SOURCE_URL_CHARS} characters"));
    }
    match url::Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            Ok(Some(raw.clone()))
        }
        _ => Err("must be an absolute http or https URL".into()),
    }
}

fn occurred_at(body: &Map<String, Value>, now: Timestamp) -> Result<Timestamp, String> {
    match body.get("occurredAt") {
        None | Some(Value::Null) => Ok(now),
        Some(Value::String(raw)) => Timestamp::try_from(raw.clone()),
        Some(_) => Err("must be an RFC 3339 timestamp".into()),
    }
}

/// The value of a field, or `None` with its error added to `errors`.
fn checked<T>(errors: &mut FieldErrors, name: &str, result: Result<T, String>) -> Option<T> {
    result.map_err(|message| errors.add(name, message)).ok()
}

impl ExternalEvent {
    /// The event `body` describes, of end user `end_user_id`, as event `id`; every invalid
    /// field named.
    pub fn read(
        body: &Map<String, Value>,
        id: u64,
        end_user_id: u64,
        now: Timestamp,
    ) -> Result<ExternalEvent, FieldErrors> {
        let errors = &mut FieldErrors::default();
        let event_type = checked(errors, "type", event_type(body));
        let message = checked(errors, "message", text(body, "message", MAX_MESSAGE_CHARS));
        let initiated_by = checked(
            errors,
            "initiatedBy",
            text(body, "initiatedBy", MAX_INITIATED_BY_CHARS),
        );
        let source_url = checked(errors, "sourceUrl", source_url(body));
        let occurred_at = checked(errors, "occurredAt", occurred_at(body, now));
        match (event_type, message, initiated_by, source_url, occurred_at) {
            (Some(event_type), Some(message), Some(initiated_by), Some(source_url), Some(at)) => {
                Ok(ExternalEvent {
                    id,
                    end_user_id,
                    event_type,
                    message,
                    initiated_by,
                    source_url,
                    occurred_at: at,
                })
            }
            _ => Err(std::mem::take(errors)),
        }
    }

    /// Its timeline entry.
    pub fn detail(&self) -> Detail {
        Detail::External {
            event_id: self.id,
            event_type: self.event_type.clone(),
            message: self.message.clone(),
            source_url: self.source_url.clone(),
            initiated_by: self.initiated_by.clone(),
        }
    }
}
