//! Success answers. A handler says what it answers (a [`Reply`]); [`Reply::into_response`] is
//! the one place that turns it into the HTTP response with the headers every answer shares
//! (content type, `Location`, `ETag`, `Idempotent-Replayed`, cache policy).

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::idempotency::Recorded;
use crate::domain::precondition::etag;
use crate::error::ApiError;

/// What a handler answers.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    content: Content,
    location: Option<String>,
    no_store: bool,
    /// The version of the one record answered: its `ETag`.
    version: Option<u64>,
    /// The response of an earlier request with the same `Idempotency-Key`.
    replayed: bool,
}

#[derive(Debug)]
enum Content {
    Empty,
    Json(String),
    /// A provider's XML acknowledgement (Twilio's TwiML).
    Xml(&'static str),
}

impl Reply {
    fn new(status: StatusCode, content: Content) -> Self {
        Reply {
            status,
            content,
            location: None,
            no_store: false,
            version: None,
            replayed: false,
        }
    }

    /// What an idempotency record keeps of this reply.
    pub fn recorded(&self) -> Result<Recorded, ApiError> {
        let body = match &self.content {
            Content::Empty => None,
            Content::Json(text) => Some(text.clone()),
            Content::Xml(_) => {
                return Err(ApiError::Internal("an XML reply is not recorded".into()));
            }
        };
        Ok(Recorded {
            status: self.status.as_u16(),
            body,
            location: self.location.clone(),
            version: self.version,
        })
    }

    /// The reply `recorded` kept, told as a replay.
    pub fn replayed(recorded: Recorded) -> Result<Self, ApiError> {
        let status = StatusCode::from_u16(recorded.status)
            .map_err(|e| ApiError::Internal(format!("a recorded status: {e}")))?;
        let content = recorded.body.map_or(Content::Empty, Content::Json);
        Ok(Reply {
            location: recorded.location,
            version: recorded.version,
            replayed: true,
            ..Reply::new(status, content)
        })
    }

    /// This reply, with the `ETag` of the record at `version` it answers.
    pub fn tagged(self, version: u64) -> Self {
        Reply {
            version: Some(version),
            ..self
        }
    }

    /// 304: the caller's copy of the record at `version` is current.
    pub fn not_modified(version: u64) -> Self {
        Reply::new(StatusCode::NOT_MODIFIED, Content::Empty).tagged(version)
    }

    /// 200 with a JSON document kept as text (the OpenAPI document).
    pub fn json_document(text: &'static str) -> Self {
        Reply::new(StatusCode::OK, Content::Json(text.to_owned()))
    }

    /// An XML document, as a provider expects it.
    pub fn xml(document: &'static str) -> Self {
        Reply::new(StatusCode::OK, Content::Xml(document))
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP response, with the headers every answer shares.
    pub fn into_response(self) -> Response<Body> {
        let (body, content_type) = match self.content {
            Content::Empty => (Body::Empty, None),
            Content::Json(text) => (Body::Text(text), Some("application/json")),
            Content::Xml(text) => (Body::Text(text.into()), Some("text/xml")),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(content_type) = content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        if let Some(tag) = self
            .version
            .and_then(|v| HeaderValue::from_str(&etag(v)).ok())
        {
            headers.insert(header::ETAG, tag);
        }
        if self.replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        if self.no_store {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

/// `value` as JSON with `status`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Reply, ApiError> {
    let body = serde_json::to_string(value)
        .map_err(|e| ApiError::Internal(format!("serialize response: {e}")))?;
    Ok(Reply::new(status, Content::Json(body)))
}

/// 201 with the new resource's `Location`.
pub fn created<T: Serialize>(location: &str, value: &T) -> Result<Reply, ApiError> {
    let mut reply = json(StatusCode::CREATED, value)?;
    reply.location = Some(location.to_owned());
    Ok(reply)
}

pub fn no_content() -> Reply {
    Reply::new(StatusCode::NO_CONTENT, Content::Empty)
}

/// `reply`, kept out of every cache (it describes or carries secrets).
pub fn no_store(mut reply: Reply) -> Reply {
    reply.no_store = true;
    reply
}
