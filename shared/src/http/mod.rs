//! The one routing layer: a `lambda_http::Request` in, a response out. Every Lambda and the local
//! server call [`Api::handle`] on the families they mount; no route, rule or status code lives
//! anywhere else. Checks run in a fixed order: route (404/405), the route's auth policy
//! (401/403), then the handler's content type (415), size (413), input (400) and store.

pub mod auth;
pub mod cursor;
pub mod problem;
mod query;
pub mod request;
pub mod response;
pub mod router;
pub mod signature;

use std::fmt;
use std::time::{Duration, Instant};

use lambda_http::http::{HeaderValue, Method, header};
use lambda_http::{Body, Request, Response};

use self::auth::Tokens;
use self::request::{Call, Caller, new_request_id, request_id, route_path};
use self::response::Reply;
use self::router::{AuthPolicy, Family, Lookup, Mounted, more_specific};
use crate::domain::TenantId;
use crate::error::ApiError;

pub use request::MAX_BODY_BYTES;

/// How long a request may take before it is answered 503: inside the functions' 10 s timeout
/// (template.yaml), so the caller gets an answer rather than a Lambda timeout.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(8);

/// The families one process serves, with what every route shares.
pub struct Api {
    families: Vec<Box<dyn Mounted>>,
    auth: Box<dyn Tokens>,
    /// `PUBLIC_BASE_URL`, for [`Call::public_url`].
    public_base_url: Option<String>,
    deadline: Duration,
}

/// The route a request took, for the log: `GET /api/EndUsers/{id}`, or `unmatched`.
#[derive(Default)]
struct RouteName<'a>(Option<(&'a Method, &'static str)>);

impl fmt::Display for RouteName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((method, path)) => write!(f, "{method} {path}"),
            None => f.write_str("unmatched"),
        }
    }
}

/// Every response carries its request's id.
fn stamp_request_id(response: &mut Response<Body>, request_id: &str) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
}

/// The route a request takes: its family, the route's index there, the path parameters.
struct Routed<'a, 'p> {
    family: &'a dyn Mounted,
    index: usize,
    params: Vec<(&'static str, &'p str)>,
}

impl Api {
    pub fn new(auth: impl Tokens + 'static, public_base_url: Option<String>) -> Self {
        Api {
            families: Vec::new(),
            auth: Box::new(auth),
            public_base_url,
            deadline: REQUEST_DEADLINE,
        }
    }

    /// Another request deadline than [`REQUEST_DEADLINE`].
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Every route the mounted families serve, as API Gateway names them (`GET /api/EndUsers`).
    pub fn route_keys(&self) -> Vec<String> {
        self.families
            .iter()
            .flat_map(|family| {
                (0..family.route_count()).map(|index| {
                    let (method, template, _) = family.route(index);
                    format!("{method} {template}")
                })
            })
            .collect()
    }

    /// Serves `family`'s routes too.
    pub fn mount(mut self, family: impl Family) -> Self {
        self.families.push(Box::new(family));
        self
    }

    /// Answers one request; never fails, never panics on input.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let request_id = request_id(&request);
        let mut tenant = None;
        let mut route = RouteName::default();
        // A write cut off by the deadline applied whole or not at all (one transaction each).
        let result = tokio::time::timeout(
            self.deadline,
            self.dispatch(&request, &mut tenant, &mut route),
        )
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::Unavailable(format!(
                "no answer within the request deadline of {:?}",
                self.deadline
            )))
        });
        let mut response = result.map(Reply::into_response).unwrap_or_else(|error| {
            match &error {
                ApiError::Internal(cause) | ApiError::Unavailable(cause) => {
                    tracing::error!(request_id, cause, "request failed");
                }
                ApiError::InvalidToken(reason) => {
                    tracing::info!(request_id, reason, "token refused")
                }
                _ => {}
            }
            error.into_response()
        });
        stamp_request_id(&mut response, &request_id);
        tracing::info!(
            request_id,
            tenant = tenant.map(TenantId::get),
            route = %route,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        response
    }

    /// The route of `method` on `segments` (of `path`): the most specific template of any
    /// family (a literal segment of one family wins over another family's parameter), then its
    /// method.
    fn route_of<'p>(
        &self,
        method: &Method,
        segments: &[&'p str],
        path: &str,
    ) -> Result<Routed<'_, 'p>, ApiError> {
        let found: Vec<(&dyn Mounted, Lookup<'p>)> = self
            .families
            .iter()
            .map(|family| (family.as_ref(), family.lookup(method, segments)))
            .filter(|(_, lookup)| lookup.template().is_some())
            .collect();
        let best = found
            .iter()
            .filter_map(|(_, lookup)| lookup.template())
            .reduce(|best, t| if more_specific(t, best) { t } else { best })
            .ok_or_else(|| ApiError::NotFound(format!("no route for {path}")))?;
        let mut allowed = Vec::new();
        for (family, lookup) in found {
            match lookup {
                Lookup::Found {
                    index,
                    template,
                    params,
                } if template == best => {
                    return Ok(Routed {
                        family,
                        index,
                        params,
                    });
                }
                Lookup::OtherMethods { template, allow } if template == best => allowed.push(allow),
                _ => {}
            }
        }
        Err(ApiError::MethodNotAllowed(allowed.join(", ")))
    }

    async fn dispatch<'r>(
        &'r self,
        request: &'r Request,
        tenant_out: &mut Option<TenantId>,
        route_out: &mut RouteName<'r>,
    ) -> Result<Reply, ApiError> {
        let path = route_path(request);
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let Routed {
            family,
            index,
            params,
        } = self.route_of(request.method(), &segments, path)?;
        let (method, template, policy) = family.route(index);
        *route_out = RouteName(Some((method, template)));

        let mut call = Call::new(request, params, self.public_base_url.as_deref());
        call.limited_to(self.deadline);
        let caller = self.authenticate(policy, family, index, &call).await?;
        *tenant_out = caller.tenant();
        call.authenticated(caller);
        family.call(index, &call).await
    }

    /// The answer of a transport that refuses a request before it becomes one (the local
    /// server: a body that never fully arrived), with its own request id.
    pub fn refuse(error: ApiError) -> Response<Body> {
        let request_id = new_request_id();
        tracing::info!(request_id, %error, "request refused by the transport");
        let mut response = error.into_response();
        stamp_request_id(&mut response, &request_id);
        response
    }

    /// The caller as `policy` requires it.
    async fn authenticate(
        &self,
        policy: AuthPolicy,
        family: &dyn Mounted,
        index: usize,
        call: &Call<'_>,
    ) -> Result<Caller, ApiError> {
        let bearer = || {
            let mut values = call.request.headers().get_all(header::AUTHORIZATION).iter();
            let authorization = values.next().and_then(|v| v.to_str().ok());
            // Which of two credentials was meant is unknowable: neither counts (RFC 6750).
            if values.next().is_some() {
                return Err(ApiError::RepeatedCredentials);
            }
            self.auth.authenticate(authorization)
        };
        match policy {
            AuthPolicy::Jwt | AuthPolicy::PhoneJwt => {
                let principal = bearer()?;
                let wants_phone_auth = policy == AuthPolicy::PhoneJwt;
                match (principal.phone_auth.is_some(), wants_phone_auth) {
                    (true, false) => Err(ApiError::Forbidden(
                        "a phone-auth token is not accepted on this route".into(),
                    )),
                    (false, true) => Err(ApiError::Forbidden(
                        "this route needs a phone-auth token".into(),
                    )),
                    _ => Ok(Caller::Token(principal)),
                }
            }
            // A body past the limit is refused before its signature is read (SPEC 5: 413 first).
            AuthPolicy::TenantSignature if call.request.body().len() > MAX_BODY_BYTES => {
                Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES))
            }
            AuthPolicy::TenantSignature => family
                .verify_signature(index, call)
                .await
                .map(Caller::SignedBy),
            AuthPolicy::Public => Ok(Caller::Anonymous),
        }
    }
}

#[cfg(test)]
mod tests;
