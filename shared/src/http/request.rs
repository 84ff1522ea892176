//! What every family's handlers read of a request, written once: the route path without the
//! API Gateway stage, the public URL, query parameters, and JSON or form bodies within the limit.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lambda_http::http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

use super::auth::Principal;
use crate::domain::TenantId;
use crate::domain::errors::FieldErrors;
use crate::domain::idempotency::{IdempotencyKey, fingerprint};
use crate::domain::precondition::Preconditions;
use crate::error::ApiError;

pub use super::query::QueryParams;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The API Gateway request id when there is one, otherwise a new one.
pub fn request_id(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(new_request_id)
}

/// A request id for a request that brought none.
pub fn new_request_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// The route path: lambda_http prefixes a named API Gateway stage, which is not part of it; a
/// trailing slash is ignored.
pub fn route_path(request: &Request) -> &str {
    let path = request.uri().path();
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.as_deref(),
        _ => None,
    };
    let path = match stage.filter(|s| *s != "$default") {
        Some(stage) => path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(stage))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .unwrap_or(path),
        None => path,
    };
    path.strip_suffix('/').unwrap_or(path)
}

/// Who the route's auth policy found behind a request.
#[derive(Clone, Debug)]
pub enum Caller {
    /// A bearer JWT.
    Token(Principal),
    /// A tenant's signature over the request (webhooks).
    SignedBy(Signed),
    /// A public route.
    Anonymous,
}

impl Caller {
    pub fn tenant(&self) -> Option<TenantId> {
        match self {
            Caller::Token(principal) => Some(principal.tenant),
            Caller::SignedBy(signed) => Some(signed.tenant),
            Caller::Anonymous => None,
        }
    }
}

/// A request its tenant signed, and what checking the signature read that the handler needs too
/// (so the store is read once per request).
#[derive(Clone)]
pub struct Signed {
    pub tenant: TenantId,
    context: Option<Arc<dyn Any + Send + Sync>>,
}

impl Signed {
    pub fn new(tenant: TenantId) -> Self {
        Signed {
            tenant,
            context: None,
        }
    }

    pub fn with_context(tenant: TenantId, context: impl Any + Send + Sync) -> Self {
        Signed {
            tenant,
            context: Some(Arc::new(context)),
        }
    }

    /// What the check handed over, when it is a `T`.
    pub fn context<T: Any>(&self) -> Option<&T> {
        self.context.as_deref()?.downcast_ref()
    }
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("tenant", &self.tenant)
            .finish()
    }
}

/// One request on its way through a route: the request, its path parameters and query, and its
/// caller once the route's auth policy found one.
pub struct Call<'a> {
    pub request: &'a Request,
    params: Vec<(&'static str, &'a str)>,
    query: QueryParams,
    caller: Caller,
    public_base_url: Option<&'a str>,
    /// How long the request may take before it is answered 503.
    deadline: Duration,
}

impl<'a> Call<'a> {
    pub fn new(
        request: &'a Request,
        params: Vec<(&'static str, &'a str)>,
        public_base_url: Option<&'a str>,
    ) -> Self {
        Call {
            request,
            params,
            query: QueryParams::parse(request.uri().query().unwrap_or_default()),
            caller: Caller::Anonymous,
            public_base_url,
            deadline: super::REQUEST_DEADLINE,
        }
    }

    pub(super) fn authenticated(&mut self, caller: Caller) {
        self.caller = caller;
    }

    pub(super) fn limited_to(&mut self, deadline: Duration) {
        self.deadline = deadline;
    }

    /// How long the request may take before it is answered 503 (and stops).
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The bearer token's `sub`, when it names one.
    pub fn subject(&self) -> Option<&str> {
        match &self.caller {
            Caller::Token(principal) => principal.subject.as_deref(),
            _ => None,
        }
    }

    /// The tenant of an authenticated route.
    pub fn tenant(&self) -> Result<TenantId, ApiError> {
        self.caller
            .tenant()
            .ok_or_else(|| ApiError::Internal("a route without a tenant asked for one".into()))
    }

    /// The path parameter `{name}` of the route.
    pub fn param(&self, name: &str) -> Result<&'a str, ApiError> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| *value)
            .ok_or_else(|| ApiError::Internal(format!("the route has no parameter {name}")))
    }

    pub fn query(&self) -> &QueryParams {
        &self.query
    }

    /// `If-Match` and `If-None-Match`, each header's values joined; 400 when unreadable.
    pub fn preconditions(&self) -> Result<Preconditions, ApiError> {
        let joined = |name: header::HeaderName| {
            let values: Vec<&str> = self
                .request
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        };
        let if_match = joined(header::IF_MATCH);
        let if_none_match = joined(header::IF_NONE_MATCH);
        Ok(Preconditions::parse(
            if_match.as_deref(),
            if_none_match.as_deref(),
        )?)
    }

    /// The `Idempotency-Key`, if sent; 400 when invalid or sent twice.
    pub fn idempotency_key(&self) -> Result<Option<IdempotencyKey>, ApiError> {
        const NAME: &str = "Idempotency-Key";
        let mut values = self.request.headers().get_all(NAME).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        let invalid = |message: String| ApiError::Validation(FieldErrors::single(NAME, message));
        if values.next().is_some() {
            return Err(invalid("send one Idempotency-Key header".into()));
        }
        let raw = value
            .to_str()
            .map_err(|_| invalid("must be printable ASCII".into()))?;
        IdempotencyKey::parse(raw).map(Some).map_err(invalid)
    }

    /// What tells this request apart from another with the same `Idempotency-Key`.
    pub fn fingerprint(&self) -> String {
        fingerprint(
            self.request.method().as_str(),
            route_path(self.request),
            self.request.body().as_ref(),
        )
    }

    fn header(&self, name: header::HeaderName) -> Option<&'a str> {
        self.request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// The URL the caller used, as providers sign it: `PUBLIC_BASE_URL` with the route path and
    /// query when set; otherwise the `Host` with the path as received (stage included), `https`
    /// behind API Gateway and `http` on the local server.
    pub fn public_url(&self) -> String {
        let uri = self.request.uri();
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        if let Some(base) = self.public_base_url {
            return format!("{base}{}{query}", route_path(self.request));
        }
        let scheme = match self.request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(_)) => "https",
            _ => "http",
        };
        let host = self.header(header::HOST).unwrap_or_default();
        format!("{scheme}://{host}{}{query}", uri.path())
    }

    /// The raw body, 415 unless its media type is one `accepts`, 413 past the limit.
    pub fn body_bytes(
        &self,
        accepts: impl Fn(&str) -> bool,
        expected: &'static str,
    ) -> Result<&'a [u8], ApiError> {
        let media_type = self
            .header(header::CONTENT_TYPE)
            .map(media_type)
            .unwrap_or_default();
        if !accepts(&media_type) {
            return Err(ApiError::UnsupportedMediaType(expected));
        }
        let bytes: &[u8] = self.request.body().as_ref();
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        Ok(bytes)
    }

    /// A JSON body: 415 unless declared JSON, 413 past the limit, 400 with the field path of a
    /// value of the wrong type.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let bytes = self.body_bytes(is_json, "a JSON body (Content-Type: application/json)")?;
        parse_json(bytes)
    }

    /// 415 unless the body is declared a form (`application/x-www-form-urlencoded`), 413 past
    /// the limit.
    pub fn form_type(&self) -> Result<(), ApiError> {
        self.body_bytes(
            |media_type| media_type == "application/x-www-form-urlencoded",
            "a form body (Content-Type: application/x-www-form-urlencoded)",
        )
        .map(|_| ())
    }
}

/// The media type of a `Content-Type` value, lower-cased, without parameters.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

fn field_error(path: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(FieldErrors::single(path, message))
}

/// One JSON value of type `T`: 400 naming the field path of a value of the wrong type.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::MalformedBody(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // serde_json appends the position; the field path says more.
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned();
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => field_error(&path, message),
            serde_json::error::Category::Data => {
                ApiError::MalformedBody("the body must be a JSON object".into())
            }
            _ => ApiError::MalformedBody(format!("malformed JSON: {message}")),
        }
    })?;
    // One JSON value: anything but whitespace after it is refused, not ignored.
    deserializer
        .end()
        .map_err(|_| ApiError::MalformedBody("the body has data after its JSON value".into()))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use lambda_http::Body;

    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)], body: &str) -> Request {
        let mut builder = lambda_http::http::Request::builder().uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::Text(body.into())).expect("request")
    }

    #[test]
    fn json_media_types() {
        assert!(is_json(&media_type("application/json")));
        assert!(is_json(&media_type("Application/JSON; charset=utf-8")));
        assert!(is_json(&media_type("application/problem+json")));
        assert!(!is_json(&media_type("text/plain")));
        assert!(!is_json(&media_type("application/x-www-form-urlencoded")));
    }

    #[test]
    fn query_parameters_match_names_case_insensitively_once() {
        let query = QueryParams::parse("PageSize=10&uid=a%40b.c&x=1&x=2");
        assert_eq!(query.single("pageSize"), Ok(Some("10")));
        assert_eq!(query.single("uid"), Ok(Some("a@b.c")));
        assert_eq!(query.single("none"), Ok(None));
        assert!(query.single("x").is_err());
        let mut errors = FieldErrors::default();
        assert_eq!(query.read("x", &mut errors, 0, |_| Ok(5)), 0);
        assert!(errors.contains("x"));
    }

    #[test]
    fn a_json_body_is_one_value_and_nothing_after_it() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(rename = "customerType")]
            _customer_type: Option<String>,
        }
        assert!(parse_json::<Body>(b" {\"customerType\": \"Lead\"} \n\t").is_ok());
        for trailing in [
            &b"{\"firstname\":\"x\"} trailing garbage"[..],
            b"{} {\"customerType\": \"Prospect\"}",
            b"{}\0",
        ] {
            assert!(
                matches!(
                    parse_json::<Body>(trailing),
                    Err(ApiError::MalformedBody(_))
                ),
                "{}",
                String::from_utf8_lossy(trailing)
            );
        }
    }

    #[test]
    fn form_bodies_are_told_from_other_types() {
        let form = request(
            "/webhooks/x",
            &[("content-type", "application/x-www-form-urlencoded")],
            "From=%2B32470000000&Body=Hi+there",
        );
        let call = Call::new(&form, Vec::new(), None);
        assert!(call.form_type().is_ok());
        let json = request("/webhooks/x", &[("content-type", "application/json")], "{}");
        assert!(matches!(
            Call::new(&json, Vec::new(), None).form_type(),
            Err(ApiError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            call.json::<serde_json::Value>(),
            Err(ApiError::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn the_public_url_is_the_configured_base_or_the_host() {
        let local = request(
            "/webhooks/twilio/1/2?a=b",
            &[("host", "127.0.0.1:3000")],
            "",
        );
        assert_eq!(
            Call::new(&local, Vec::new(), None).public_url(),
            "http://127.0.0.1:3000/webhooks/twilio/1/2?a=b"
        );
        assert_eq!(
            Call::new(&local, Vec::new(), Some("https://api.example.com")).public_url(),
            "https://api.example.com/webhooks/twilio/1/2?a=b"
        );
    }

    #[test]
    fn the_stage_and_a_trailing_slash_are_not_part_of_the_route() {
        let event = r#"{"version":"2.0","routeKey":"$default","rawPath":"/prod/api/EndUsers/","rawQueryString":"",
            "headers":{"host":"abc.execute-api.eu-west-1.amazonaws.com"},
            "requestContext":{"accountId":"1","apiId":"abc","domainName":"abc.execute-api.eu-west-1.amazonaws.com",
              "domainPrefix":"abc","http":{"method":"GET","path":"/prod/api/EndUsers/","protocol":"HTTP/1.1",
              "sourceIp":"127.0.0.1","userAgent":"t"},"requestId":"r-1","routeKey":"$default","stage":"prod",
              "time":"22/Nov/2026:10:15:30 +0000","timeEpoch":0},"isBase64Encoded":false}"#;
        let request = lambda_http::request::from_str(event).expect("an HTTP API event");
        assert_eq!(route_path(&request), "/api/EndUsers");
        assert_eq!(request_id(&request), "r-1");
        let call = Call::new(&request, Vec::new(), None);
        assert_eq!(
            call.public_url(),
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/api/EndUsers/"
        );
    }
}
