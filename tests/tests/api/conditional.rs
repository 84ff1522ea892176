//! Conditional requests (SPEC 7): every single end-user response carries `ETag: "<version>"`;
//! PUT, DELETE, merge, anonymize and the upsert honor `If-Match` (412 with the current ETag) and
//! `If-None-Match: *` creates only; GET honors `If-None-Match` (304).

use std::sync::Arc;

use answerpal_testkit::{TestApi, TestResponse, puts_end_user};
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    every_single_end_user_response_carries_its_etag,
    if_match_guards_every_write,
    if_none_match_answers_not_modified,
    if_none_match_star_makes_the_upsert_create_only,
    a_change_landing_after_the_check_fails_the_precondition,
);

/// `method` on `path` as tenant 1 with `headers` and a JSON `body` (none for `Null`).
async fn send(
    api: &TestApi,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> TestResponse {
    api.with_headers(method, path, 1, headers, body).await
}

fn etag(response: &TestResponse) -> Option<&str> {
    response.header("etag")
}

fn assert_precondition_failed(response: &TestResponse, current: &str) {
    assert_problem(response, 412);
    assert_eq!(response.body["type"], "/problems/precondition-failed");
    assert_eq!(etag(response), Some(current), "{:?}", response.headers);
}

async fn every_single_end_user_response_carries_its_etag(api: TestApi) {
    let created = api
        .post(
            "/api/EndUsers",
            1,
            json!({"customerRef": "E-1",
        "uids": [{"uidType": "Email", "uid": "etag@example.com"}]}),
        )
        .await;
    assert_eq!(etag(&created), Some("\"1\""));
    let path = format!("/api/EndUsers/{}", id_of(&created.body));
    assert_eq!(etag(&api.get(&path, 1).await), Some("\"1\""));
    let updated = api.put(&path, 1, json!({"firstname": "Etta"})).await;
    assert_eq!(etag(&updated), Some("\"2\""));
    assert_eq!(
        etag(&api.get("/api/EndUsers/byUid?uid=E-1", 1).await),
        Some("\"2\"")
    );
    let upserted = api
        .put("/api/EndUsers/byRef/E-1", 1, json!({"lastname": "Tag"}))
        .await;
    assert_eq!(etag(&upserted), Some("\"3\""));
    let other = api.create(1, json!({})).await;
    let merged = api
        .post(
            &format!("{path}/merge"),
            1,
            json!({"sourceEndUserID": id_of(&other)}),
        )
        .await;
    assert_eq!(etag(&merged), Some("\"4\""));
    let anonymized = api.post(&format!("{path}/anonymize"), 1, json!({})).await;
    assert_eq!(etag(&anonymized), Some("\"5\""));
    assert_eq!(
        etag(&api.get("/api/EndUsers", 1).await),
        None,
        "a list has none"
    );
}

async fn if_match_guards_every_write(api: TestApi) {
    let user = api.create(1, json!({"firstname": "Ifa"})).await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    assert_eq!(
        api.put(&path, 1, json!({"lastname": "Match"})).await.status,
        200
    );
    let stale = send(
        &api,
        "PUT",
        &path,
        &[("if-match", "\"1\"")],
        json!({"city": "Gent"}),
    )
    .await;
    assert_precondition_failed(&stale, "\"2\"");
    let weak = send(
        &api,
        "PUT",
        &path,
        &[("if-match", "W/\"2\"")],
        json!({"city": "Gent"}),
    )
    .await;
    assert_precondition_failed(&weak, "\"2\"");
    assert_eq!(
        api.get(&path, 1).await.body["city"],
        Value::Null,
        "nothing changed"
    );
    let current = send(
        &api,
        "PUT",
        &path,
        &[("if-match", "\"1\", \"2\"")],
        json!({"city": "Gent"}),
    )
    .await;
    assert_eq!(current.status, 200, "{:?}", current.body);
    assert_eq!(etag(&current), Some("\"3\""));
    let any = send(
        &api,
        "PUT",
        &path,
        &[("if-match", "*")],
        json!({"city": "Brugge"}),
    )
    .await;
    assert_eq!(any.status, 200);
    let bad = send(
        &api,
        "PUT",
        &path,
        &[("if-match", "3")],
        json!({"city": "x"}),
    )
    .await;
    assert_field_error(&bad, "If-Match");

    let other = api.create(1, json!({})).await;
    let merge = format!("{path}/merge");
    let body = json!({"sourceEndUserID": id_of(&other)});
    let refused = send(&api, "POST", &merge, &[("if-match", "\"3\"")], body).await;
    assert_precondition_failed(&refused, "\"4\"");
    assert_eq!(
        api.get(&format!("/api/EndUsers/{}", id_of(&other)), 1)
            .await
            .status,
        200
    );
    let anonymize = format!("{path}/anonymize");
    let refused = send(
        &api,
        "POST",
        &anonymize,
        &[("if-match", "\"3\"")],
        json!({}),
    )
    .await;
    assert_precondition_failed(&refused, "\"4\"");
    let refused = send(&api, "DELETE", &path, &[("if-match", "\"3\"")], Value::Null).await;
    assert_precondition_failed(&refused, "\"4\"");
    let deleted = send(&api, "DELETE", &path, &[("if-match", "\"4\"")], Value::Null).await;
    assert_eq!(deleted.status, 204);
}

async fn if_none_match_answers_not_modified(api: TestApi) {
    let user = api.create(1, json!({"firstname": "Nonna"})).await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    for current in ["\"1\"", "W/\"1\"", "\"0\", \"1\"", "*"] {
        let cached = send(
            &api,
            "GET",
            &path,
            &[("if-none-match", current)],
            Value::Null,
        )
        .await;
        assert_eq!(cached.status, 304, "{current}: {:?}", cached.body);
        assert_eq!(cached.body, Value::Null);
        assert_eq!(etag(&cached), Some("\"1\""));
    }
    api.put(&path, 1, json!({"lastname": "Changed"})).await;
    let fresh = send(
        &api,
        "GET",
        &path,
        &[("if-none-match", "\"1\"")],
        Value::Null,
    )
    .await;
    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.body["lastname"], "Changed");
    assert_eq!(etag(&fresh), Some("\"2\""));
    let failed = send(&api, "GET", &path, &[("if-match", "\"1\"")], Value::Null).await;
    assert_precondition_failed(&failed, "\"2\"");
}

async fn if_none_match_star_makes_the_upsert_create_only(api: TestApi) {
    let path = "/api/EndUsers/byRef/ONCE-1";
    let first = send(
        &api,
        "PUT",
        path,
        &[("if-none-match", "*")],
        json!({"firstname": "A"}),
    )
    .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let again = send(
        &api,
        "PUT",
        path,
        &[("if-none-match", "*")],
        json!({"firstname": "B"}),
    )
    .await;
    assert_precondition_failed(&again, "\"1\"");
    let matched = send(
        &api,
        "PUT",
        path,
        &[("if-match", "\"1\"")],
        json!({"firstname": "C"}),
    )
    .await;
    assert_eq!(matched.status, 200);
    assert_eq!(matched.body["firstname"], "C");
    let absent = "/api/EndUsers/byRef/NEVER-1";
    let refused = send(&api, "PUT", absent, &[("if-match", "*")], json!({})).await;
    assert_problem(&refused, 412);
    assert_eq!(etag(&refused), None, "nothing holds the reference");
    assert_problem(&api.get("/api/EndUsers/byUid?uid=NEVER-1", 1).await, 404);
}

/// The version a write checked is the version its transaction is conditional on: a change that
/// lands between the check and the write sends it back to a fresh read, which fails the check.
async fn a_change_landing_after_the_check_fails_the_precondition(api: TestApi) {
    let (table, api) = api.interleaved();
    let user = api.create(1, json!({"firstname": "Race"})).await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    let racer = Arc::clone(&api);
    let racing_path = path.clone();
    table.race_when(
        puts_end_user,
        Box::new(move || {
            Box::pin(async move {
                let changed = racer
                    .put(&racing_path, 1, json!({"lastname": "Winner"}))
                    .await;
                assert_eq!(changed.status, 200, "{:?}", changed.body);
            })
        }),
    );
    let guarded = send(
        &api,
        "PUT",
        &path,
        &[("if-match", "\"1\"")],
        json!({"city": "Gent"}),
    )
    .await;
    assert!(table.has_run());
    assert_precondition_failed(&guarded, "\"2\"");
    let read = api.get(&path, 1).await.body;
    assert_eq!(
        (read["lastname"].as_str(), read["city"].as_str()),
        (Some("Winner"), None)
    );
}
