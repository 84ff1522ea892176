//! The auth policies and the routing of [`Api`], on a family made for the test.

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};
use ring::hmac;

use super::Api;
use super::auth::Authenticator;
use super::request::{Call, Caller, Signed};
use super::response::{Reply, json};
use super::router::{AuthPolicy, Family, Route};
use crate::config::JwtSettings;
use crate::domain::{TenantId, parse_id};
use crate::error::ApiError;

const SECRET: &str = "policy-test-secret";

#[derive(Clone, Copy)]
struct Op;

const ROUTES: &[Route<Op>] = &[
    Route::new(Method::GET, "/jwt", AuthPolicy::Jwt, Op),
    Route::new(Method::GET, "/phone", AuthPolicy::PhoneJwt, Op),
    Route::new(
        Method::POST,
        "/signed/{customerID}",
        AuthPolicy::TenantSignature,
        Op,
    ),
    Route::new(Method::GET, "/public", AuthPolicy::Public, Op),
];

/// Answers with who the policy found; signed routes carry an HMAC-SHA256 of the body keyed
/// with `tenant-{customerID}`.
struct Echo;

fn tenant_key(tenant: TenantId) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, format!("tenant-{tenant}").as_bytes())
}

#[async_trait]
impl Family for Echo {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, _: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let caller = match call.caller() {
            Caller::Token(p) => format!("token {} phone {}", p.tenant, p.phone_auth.is_some()),
            Caller::SignedBy(signed) => format!(
                "signed {} {}",
                signed.tenant,
                signed.context::<&str>().unwrap_or(&"-")
            ),
            Caller::Anonymous => "anonymous".into(),
        };
        json(StatusCode::OK, &caller)
    }

    async fn verify_signature(&self, _: Op, call: &Call<'_>) -> Result<Signed, ApiError> {
        let forbidden = || ApiError::Forbidden("bad signature".into());
        let tenant = parse_id(call.param("customerID")?)
            .ok()
            .and_then(TenantId::new)
            .ok_or_else(forbidden)?;
        let signature = call
            .request
            .headers()
            .get("x-signature")
            .and_then(|v| v.to_str().ok())
            .and_then(base64_decode)
            .ok_or_else(forbidden)?;
        let body: &[u8] = call.request.body().as_ref();
        hmac::verify(&tenant_key(tenant), body, &signature).map_err(|_| forbidden())?;
        Ok(Signed::with_context(tenant, "checked"))
    }
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

fn api() -> Api {
    let auth = Authenticator::new(&JwtSettings::with_secret(SECRET)).expect("auth");
    Api::new(auth, None).mount(Echo)
}

fn token(claims: serde_json::Value) -> String {
    super::auth::sign_hs256(SECRET, &claims).expect("token")
}

fn request(method: &str, path: &str, headers: &[(&str, String)], body: &str) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::Text(body.into())).expect("request")
}

async fn answer(request: Request) -> (u16, String) {
    let response = api().handle(request).await;
    let body = String::from_utf8_lossy(response.body().as_ref()).to_string();
    (response.status().as_u16(), body)
}

fn bearer(claims: serde_json::Value) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {}", token(claims)))]
}

fn exp() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() + 600
}

#[tokio::test]
async fn a_phone_auth_token_only_opens_routes_that_ask_for_one() {
    let phone =
        bearer(serde_json::json!({"customerID": 4, "auth": "phone", "channelID": 9, "exp": exp()}));
    let plain = bearer(serde_json::json!({"customerID": 4, "exp": exp()}));
    assert_eq!(answer(request("GET", "/jwt", &phone, "")).await.0, 403);
    assert_eq!(
        answer(request("GET", "/jwt", &plain, "")).await,
        (200, "\"token 4 phone false\"".into())
    );
    assert_eq!(
        answer(request("GET", "/phone", &phone, "")).await,
        (200, "\"token 4 phone true\"".into())
    );
    assert_eq!(answer(request("GET", "/phone", &plain, "")).await.0, 403);
    assert_eq!(answer(request("GET", "/phone", &[], "")).await.0, 401);
}

#[tokio::test]
async fn a_signed_route_takes_the_tenant_from_its_signature_and_no_token() {
    let body = "{\"text\":\"hello\"}";
    let tenant = TenantId::new(5).expect("tenant");
    let signature = {
        use base64::Engine;
        let tag = hmac::sign(&tenant_key(tenant), body.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    };
    let signed = vec![("x-signature", signature)];
    assert_eq!(
        answer(request("POST", "/signed/5", &signed, body)).await,
        (200, "\"signed 5 checked\"".into())
    );
    // The same signature for another tenant, or over another body, is refused.
    assert_eq!(
        answer(request("POST", "/signed/6", &signed, body)).await.0,
        403
    );
    assert_eq!(
        answer(request("POST", "/signed/5", &signed, "{}")).await.0,
        403
    );
    let token_only = bearer(serde_json::json!({"customerID": 5, "exp": exp()}));
    assert_eq!(
        answer(request("POST", "/signed/5", &token_only, body))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn two_authorization_headers_never_authenticate() {
    let tenant_a = bearer(serde_json::json!({"customerID": 1, "exp": exp()}));
    let tenant_b = bearer(serde_json::json!({"customerID": 2, "exp": exp()}));
    let garbage = vec![("authorization", "Bearer garbage".to_string())];
    for (first, second) in [
        (&tenant_a, &tenant_b),
        (&tenant_a, &garbage),
        (&garbage, &tenant_a),
    ] {
        let headers: Vec<(&str, String)> = first.iter().chain(second).cloned().collect();
        let response = api().handle(request("GET", "/jwt", &headers, "")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_request\""
        );
    }
}

#[tokio::test]
async fn public_routes_need_nothing_and_unknown_methods_list_the_known_ones() {
    assert_eq!(
        answer(request("GET", "/public", &[], "")).await,
        (200, "\"anonymous\"".into())
    );
    let response = api().handle(request("DELETE", "/public", &[], "")).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(answer(request("GET", "/elsewhere", &[], "")).await.0, 404);
}

/// A family with a literal segment (`special`) where another family has a parameter.
struct Literal;

const LITERAL_ROUTES: &[Route<Op>] = &[
    Route::new(Method::POST, "/items/special", AuthPolicy::Public, Op),
    Route::new(Method::PUT, "/items/{id}/more", AuthPolicy::Public, Op),
];

const PARAMETER_ROUTES: &[Route<Op>] = &[
    Route::new(Method::GET, "/items/{id}", AuthPolicy::Public, Op),
    Route::new(Method::DELETE, "/items/{id}", AuthPolicy::Public, Op),
];

/// The parameter routes of `/items`, answering which family it is.
struct Parameter;

#[async_trait]
impl Family for Literal {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        LITERAL_ROUTES
    }

    async fn call(&self, _: Op, _: &Call<'_>) -> Result<Reply, ApiError> {
        json(StatusCode::OK, &"literal")
    }
}

#[async_trait]
impl Family for Parameter {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        PARAMETER_ROUTES
    }

    async fn call(&self, _: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        json(StatusCode::OK, &format!("parameter {}", call.param("id")?))
    }
}

#[tokio::test]
async fn a_literal_of_one_family_wins_over_a_parameter_of_another_mounted_before() {
    let auth = Authenticator::new(&JwtSettings::with_secret(SECRET)).expect("auth");
    let api = Api::new(auth, None).mount(Parameter).mount(Literal);
    let send = |method: &str, path: &str| {
        let response = api.handle(request(method, path, &[], ""));
        async move {
            let response = response.await;
            let allow = response.headers().get("allow").cloned();
            let body = String::from_utf8_lossy(response.body().as_ref()).to_string();
            (response.status().as_u16(), body, allow)
        }
    };
    assert_eq!(send("POST", "/items/special").await.1, "\"literal\"");
    assert_eq!(send("GET", "/items/7").await.1, "\"parameter 7\"");
    assert_eq!(send("PUT", "/items/7/more").await.1, "\"literal\"");
    // The literal is the path's route, as within one family: its methods only.
    let (status, _, allow) = send("GET", "/items/special").await;
    assert_eq!(
        (status, allow.as_ref().and_then(|a| a.to_str().ok())),
        (405, Some("POST"))
    );
    let (status, _, allow) = send("PATCH", "/items/7").await;
    assert_eq!(status, 405);
    assert_eq!(allow.expect("allow"), "GET, DELETE");
}
