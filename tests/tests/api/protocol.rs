//! What every route shares: authentication, bodies, routing, request ids.

use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;

on_both_stores!(
    authentication_and_tenancy,
    one_bearer_token_of_a_tenant_and_never_phone_auth,
    bodies_are_checked,
    unknown_routes_and_methods,
    every_response_has_a_request_id,
);

async fn authentication_and_tenancy(api: TestApi) {
    let anonymous = api.send("GET", "/api/EndUsers", None, None).await;
    assert_problem(&anonymous, 401);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let request = |authorization: &str| {
        lambda_http::http::Request::builder()
            .uri("/api/EndUsers")
            .header("authorization", authorization)
            .body(lambda_http::Body::Empty)
            .expect("request")
    };
    let forged = api
        .raw(request(&format!(
            "Bearer {}",
            answerpal_testkit::token(1).replace('.', "x.")
        )))
        .await;
    assert_problem(&forged, 401);
    assert_eq!(
        forged.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    let other_key = answerpal::http::auth::hs256_token("another-secret", 1, 3600).expect("token");
    assert_problem(&api.raw(request(&format!("Bearer {other_key}"))).await, 401);
    let expired =
        answerpal::http::auth::hs256_token(answerpal_testkit::TEST_SECRET, 1, -120).expect("token");
    assert_problem(&api.raw(request(&format!("Bearer {expired}"))).await, 401);
    let no_tenant = answerpal::http::auth::sign_hs256(
        answerpal_testkit::TEST_SECRET,
        &json!({"sub": "someone", "exp": 4102444800u64}),
    )
    .expect("token");
    assert_problem(&api.raw(request(&format!("Bearer {no_tenant}"))).await, 403);
    // Authentication comes before any other check.
    assert_problem(&api.send("GET", "/api/EndUsers/abc", None, None).await, 401);
    assert_problem(
        &api.send(
            "POST",
            "/api/EndUsers",
            None,
            Some(json!({"customerType": "x"})),
        )
        .await,
        401,
    );
}

async fn one_bearer_token_of_a_tenant_and_never_phone_auth(api: TestApi) {
    let exp = 4_102_444_800u64;
    let sign = |claims: serde_json::Value| {
        answerpal::http::auth::sign_hs256(answerpal_testkit::TEST_SECRET, &claims).expect("token")
    };
    let request = |tokens: &[String]| {
        let mut builder = lambda_http::http::Request::builder().uri("/api/EndUsers");
        for token in tokens {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        builder.body(lambda_http::Body::Empty).expect("request")
    };
    api.create(1, json!({"firstname": "Tenant one"})).await;
    let one = sign(json!({"customerID": 1, "exp": exp}));
    let two = sign(json!({"customerID": 2, "exp": exp}));
    assert_eq!(
        api.raw(request(std::slice::from_ref(&one))).await.status,
        200
    );
    for tokens in [
        vec![one.clone(), two.clone()],
        vec![one.clone(), "garbage".to_string()],
        vec!["garbage".to_string(), one.clone()],
    ] {
        let response = api.raw(request(&tokens)).await;
        assert_problem(&response, 400);
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer error=\"invalid_request\"")
        );
    }
    let phone = sign(json!({"customerID": 1, "auth": "phone", "channelID": 3, "exp": exp}));
    assert_problem(&api.raw(request(&[phone])).await, 403);
}

async fn bodies_are_checked(api: TestApi) {
    let send = |content_type: Option<&str>, body: Vec<u8>| {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/api/EndUsers")
            .header(
                "authorization",
                format!("Bearer {}", answerpal_testkit::token(1)),
            );
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder
            .body(lambda_http::Body::Binary(body))
            .expect("request")
    };
    assert_problem(
        &api.raw(send(Some("text/plain"), b"{}".to_vec())).await,
        415,
    );
    assert_problem(&api.raw(send(None, b"{}".to_vec())).await, 415);
    let big = format!("{{\"aiDocumentation\": \"{}\"}}", "x".repeat(256 * 1024));
    assert_problem(
        &api.raw(send(Some("application/json"), big.into_bytes()))
            .await,
        413,
    );
    assert_problem(
        &api.raw(send(Some("application/json"), b"{\"firstname\": ".to_vec()))
            .await,
        400,
    );
    assert_problem(
        &api.raw(send(Some("application/json"), b"".to_vec())).await,
        400,
    );
    assert_problem(
        &api.raw(send(Some("application/json"), b"[1, 2]".to_vec()))
            .await,
        400,
    );
    let wrong_type = api
        .raw(send(
            Some("application/json; charset=utf-8"),
            br#"{"firstname": 5}"#.to_vec(),
        ))
        .await;
    assert_field_error(&wrong_type, "firstname");
    let nested = api
        .raw(send(
            Some("application/json"),
            br#"{"uids": [{"uidType": "Email", "uid": "a@b.co"}, {"uidType": "Email", "uid": 7}]}"#
                .to_vec(),
        ))
        .await;
    assert_field_error(&nested, "uids[1].uid");
    // Unknown fields are ignored.
    let extra = api
        .raw(send(
            Some("application/json"),
            br#"{"firstname": "A", "favouriteColour": "blue"}"#.to_vec(),
        ))
        .await;
    assert_eq!(extra.status, 201);
    // One JSON value and nothing after it: trailing data is refused, never ignored.
    for trailing in [
        &b"{\"firstname\":\"x\"} trailing garbage"[..],
        br#"{"firstname": "x"} {"customerType": "Prospect"}"#,
        b"{\"firstname\":\"x\"}\0",
    ] {
        let response = api
            .raw(send(Some("application/json"), trailing.to_vec()))
            .await;
        assert_problem(&response, 400);
        assert_eq!(response.body["type"], "/problems/malformed-body");
    }
    let path = format!("/api/EndUsers/{}", extra.body["endUserID"]);
    let put = lambda_http::http::Request::builder()
        .method("PUT")
        .uri(&path)
        .header(
            "authorization",
            format!("Bearer {}", answerpal_testkit::token(1)),
        )
        .header("content-type", "application/json")
        .body(lambda_http::Body::Text(
            r#"{"firstname": "y"} {"firstname": "z"}"#.into(),
        ))
        .expect("request");
    assert_problem(&api.raw(put).await, 400);
    assert_eq!(api.get(&path, 1).await.body["firstname"], "A");
    assert_eq!(api.get("/api/EndUsers", 1).await.body["totalCount"], 1);
}

async fn unknown_routes_and_methods(api: TestApi) {
    assert_problem(&api.get("/api/Nothing", 1).await, 404);
    assert_problem(&api.get("/api/EndUsers/1/tickets/2", 1).await, 404);
    let patch = api
        .send("PATCH", "/api/EndUsers/1", Some(1), Some(json!({})))
        .await;
    assert_problem(&patch, 405);
    assert_eq!(patch.header("allow"), Some("GET, PUT, DELETE"));
    assert_problem(&api.get("/api/EndUserUIDs/assign", 1).await, 405);
}

async fn every_response_has_a_request_id(api: TestApi) {
    let responses = [
        api.get("/api/EndUsers", 1).await,
        api.send("GET", "/api/EndUsers", None, None).await,
        api.get("/api/EndUsers/0", 1).await,
        api.get("/nowhere", 1).await,
        api.post("/api/EndUsers", 1, json!({})).await,
    ];
    let ids: Vec<&str> = responses
        .iter()
        .map(|r| r.header("x-request-id").expect("X-Request-Id"))
        .collect();
    assert!(ids.iter().all(|id| id.len() >= 16));
    assert_ne!(ids[0], ids[1], "each request has its own id");
}
