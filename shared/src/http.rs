//! The one routing layer: a `lambda_http::Request` in, a response out. Every Lambda and the local
//! server call [`Api::handle`]; no route, rule or status code lives anywhere else.

use std::sync::Arc;
use std::time::Instant;

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::Authenticator;
use crate::domain::end_user::EndUserBody;
use crate::domain::fields::CountryCode;
use crate::domain::page::QueryParams;
use crate::domain::{TenantId, parse_id};
use crate::error::{ApiError, FieldErrors};
use crate::service::end_users::{self, ListQuery};
use crate::service::uids::{self, AssignBody, AssignRequest, Assigned};
use crate::store::Table;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// An endpoint family: the routes one Lambda serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `/api/EndUsers...`
    EndUsers,
    /// `/api/EndUserUIDs/...`
    EndUserUids,
}

pub const ALL_FAMILIES: &[Family] = &[Family::EndUsers, Family::EndUserUids];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    ListEndUsers,
    CreateEndUser,
    EndUserByUid,
    GetEndUser(&'a str),
    UpdateEndUser(&'a str),
    DeleteEndUser(&'a str),
    AssignUid,
}

impl Route<'_> {
    fn family(&self) -> Family {
        match self {
            Route::AssignUid => Family::EndUserUids,
            _ => Family::EndUsers,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Route::ListEndUsers => "GET /api/EndUsers",
            Route::CreateEndUser => "POST /api/EndUsers",
            Route::EndUserByUid => "GET /api/EndUsers/byUid",
            Route::GetEndUser(_) => "GET /api/EndUsers/{id}",
            Route::UpdateEndUser(_) => "PUT /api/EndUsers/{id}",
            Route::DeleteEndUser(_) => "DELETE /api/EndUsers/{id}",
            Route::AssignUid => "POST /api/EndUserUIDs/assign",
        }
    }
}

fn route<'a>(method: &Method, path: &'a str) -> Result<Route<'a>, ApiError> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let not_allowed = |allow: &'static str| Err(ApiError::MethodNotAllowed(allow));
    match segments.as_slice() {
        ["api", "EndUsers"] => match *method {
            Method::GET => Ok(Route::ListEndUsers),
            Method::POST => Ok(Route::CreateEndUser),
            _ => not_allowed("GET, POST"),
        },
        ["api", "EndUsers", "byUid"] => match *method {
            Method::GET => Ok(Route::EndUserByUid),
            _ => not_allowed("GET"),
        },
        ["api", "EndUsers", id] => match *method {
            Method::GET => Ok(Route::GetEndUser(id)),
            Method::PUT => Ok(Route::UpdateEndUser(id)),
            Method::DELETE => Ok(Route::DeleteEndUser(id)),
            _ => not_allowed("GET, PUT, DELETE"),
        },
        ["api", "EndUserUIDs", "assign"] => match *method {
            Method::POST => Ok(Route::AssignUid),
            _ => not_allowed("POST"),
        },
        _ => Err(ApiError::NotFound(format!("no route for {path}"))),
    }
}

pub struct Api {
    table: Arc<dyn Table>,
    auth: Authenticator,
    families: Vec<Family>,
}

impl Api {
    pub fn new(table: Arc<dyn Table>, auth: Authenticator, families: &[Family]) -> Self {
        Api {
            table,
            auth,
            families: families.to_vec(),
        }
    }

    /// Answers one request; never fails, never panics on input.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let request_id = request_id(&request);
        let mut tenant = None;
        let mut route_name = "unmatched";
        let result = self.dispatch(&request, &mut tenant, &mut route_name).await;
        let mut response = result.unwrap_or_else(|error| {
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
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        tracing::info!(
            request_id,
            tenant = tenant.map(TenantId::get),
            route = route_name,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        response
    }

    async fn dispatch(
        &self,
        request: &Request,
        tenant_out: &mut Option<TenantId>,
        route_out: &mut &'static str,
    ) -> Result<Response<Body>, ApiError> {
        let path = path_without_stage(request);
        let route = route(request.method(), &path)?;
        if !self.families.contains(&route.family()) {
            return Err(ApiError::NotFound(format!("no route for {path}")));
        }
        *route_out = route.name();
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let tenant = self.auth.authenticate(authorization)?;
        *tenant_out = Some(tenant);
        let table = self.table.as_ref();
        let query = QueryParams::parse(request.uri().query().unwrap_or_default());

        match route {
            Route::ListEndUsers => {
                let query = ListQuery::parse(&query)?;
                json(
                    StatusCode::OK,
                    &end_users::list(table, tenant, &query).await?,
                )
            }
            Route::CreateEndUser => {
                let body: EndUserBody = read_body(request)?;
                let user = end_users::create(table, tenant, &body).await?;
                let mut response = json(StatusCode::CREATED, &user.view())?;
                if let Ok(location) = HeaderValue::from_str(&format!("/api/EndUsers/{}", user.id)) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                Ok(response)
            }
            Route::EndUserByUid => {
                let uid = query.single("uid").map_err(|m| field_error("uid", m))?;
                let country = match query
                    .single("country")
                    .map_err(|m| field_error("country", m))?
                {
                    Some(raw) if !raw.trim().is_empty() => {
                        Some(CountryCode::parse(raw).map_err(|m| field_error("country", m))?)
                    }
                    _ => None,
                };
                let user = end_users::by_uid(table, tenant, uid, country).await?;
                json(StatusCode::OK, &user.view())
            }
            Route::GetEndUser(id) => {
                let user = end_users::get(table, tenant, path_id(id)?).await?;
                json(StatusCode::OK, &user.view())
            }
            Route::UpdateEndUser(id) => {
                let id = path_id(id)?;
                let body: EndUserBody = read_body(request)?;
                let user = end_users::update(table, tenant, id, &body).await?;
                json(StatusCode::OK, &user.view())
            }
            Route::DeleteEndUser(id) => {
                end_users::delete(table, tenant, path_id(id)?).await?;
                let mut response = Response::new(Body::Empty);
                *response.status_mut() = StatusCode::NO_CONTENT;
                Ok(response)
            }
            Route::AssignUid => {
                let body: AssignBody = read_body(request)?;
                let request = AssignRequest::parse(body)?;
                match uids::assign(table, tenant, &request).await? {
                    Assigned::Existing(link) => json(StatusCode::OK, &link),
                    Assigned::Created(link) => json(StatusCode::CREATED, &link),
                }
            }
        }
    }
}

fn field_error(path: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(FieldErrors::single(path, message))
}

fn path_id(raw: &str) -> Result<u64, ApiError> {
    parse_id(raw).map_err(|m| field_error("id", m))
}

/// The API Gateway request id when there is one, otherwise a new one.
fn request_id(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(|| format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)))
}

/// The route path: lambda_http prefixes a named API Gateway stage, which is not part of it.
fn path_without_stage(request: &Request) -> String {
    let path = request.uri().path();
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.clone(),
        _ => None,
    };
    match stage.filter(|s| s != "$default") {
        Some(stage) => path
            .strip_prefix(&format!("/{stage}"))
            .unwrap_or(path)
            .to_owned(),
        None => path.to_owned(),
    }
}

fn is_json(content_type: &str) -> bool {
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

/// A JSON body: 415 unless declared JSON, 413 past the limit, 400 with the field path of a value
/// of the wrong type.
fn read_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let declared_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json);
    if !declared_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::MalformedBody(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
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
    })
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value)
        .map_err(|e| ApiError::Internal(format!("serialize response: {e}")))?;
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_methods_and_paths() {
        assert_eq!(
            route(&Method::GET, "/api/EndUsers").ok(),
            Some(Route::ListEndUsers)
        );
        assert_eq!(
            route(&Method::POST, "/api/EndUsers/").ok(),
            Some(Route::CreateEndUser)
        );
        assert_eq!(
            route(&Method::GET, "/api/EndUsers/byUid").ok(),
            Some(Route::EndUserByUid)
        );
        assert_eq!(
            route(&Method::GET, "/api/EndUsers/12").ok(),
            Some(Route::GetEndUser("12"))
        );
        assert_eq!(
            route(&Method::DELETE, "/api/EndUsers/x").ok(),
            Some(Route::DeleteEndUser("x"))
        );
        assert_eq!(
            route(&Method::POST, "/api/EndUserUIDs/assign").ok(),
            Some(Route::AssignUid)
        );
        assert!(matches!(
            route(&Method::PATCH, "/api/EndUsers/1"),
            Err(ApiError::MethodNotAllowed(_))
        ));
        assert!(matches!(
            route(&Method::GET, "/api/Nope"),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            route(&Method::GET, "/api/EndUsers/1/tickets"),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
