//! `Idempotency-Key` (SPEC 7): the first POST with a key runs; a repeat with the same body
//! answers the first response again (status, body, `Location`) with `Idempotent-Replayed: true`
//! and writes nothing; another body is a 422; a repeat while the first runs a 409; keys are per
//! tenant; an invalid key is a 400; a request that failed leaves its key free.

use std::sync::Arc;

use answerpal::store::{Item, Key, Kind};
use answerpal_testkit::{TestApi, TestResponse, puts_end_user};
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{email, set_up};

on_both_stores!(
    a_repeat_replays_the_first_response_and_writes_nothing,
    another_request_with_the_key_is_unprocessable,
    keys_are_per_tenant,
    invalid_keys_are_refused_before_anything_runs,
    a_failed_request_leaves_its_key_free,
    a_repeat_while_the_first_runs_is_a_conflict,
    every_post_of_the_desk_replays,
);

/// A POST as tenant `tenant` with `Idempotency-Key: key`.
async fn post_keyed(
    api: &TestApi,
    tenant: u64,
    path: &str,
    key: &str,
    body: Value,
) -> TestResponse {
    api.with_headers("POST", path, tenant, &[("idempotency-key", key)], body)
        .await
}

fn replayed(response: &TestResponse) -> Option<&str> {
    response.header("idempotent-replayed")
}

/// `repeat` answers what `first` did, told as a replay.
fn assert_replays(repeat: &TestResponse, first: &TestResponse) {
    assert_eq!(repeat.status, first.status, "{:?}", repeat.body);
    assert_eq!(repeat.body, first.body);
    for header in ["location", "etag", "content-type"] {
        assert_eq!(repeat.header(header), first.header(header), "{header}");
    }
    assert_eq!(replayed(repeat), Some("true"));
    assert_eq!(replayed(first), None);
}

/// Every stored item, in key order (a scan's order is the store's own).
async fn stored(api: &TestApi) -> Vec<Item> {
    let mut items = api.raw_items().await;
    items.sort_by_key(Key::of);
    items
}

fn is_record(item: &Item) -> bool {
    Kind::of(item) == Some(Kind::Idempotency)
}

async fn a_repeat_replays_the_first_response_and_writes_nothing(api: TestApi) {
    let body = json!({"firstname": "Ida", "customerRef": "IDEM-1",
        "uids": [{"uidType": "Email", "uid": "ida@example.com"}]});
    let first = post_keyed(&api, 1, "/api/EndUsers", "create-ida", body).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let before = stored(&api).await;
    // The same value, its members in another order and spaced otherwise.
    let again = json!({"uids": [{"uid": "ida@example.com", "uidType": "Email"}],
        "customerRef": "IDEM-1", "firstname": "Ida"});
    for _ in 0..2 {
        let repeat = post_keyed(&api, 1, "/api/EndUsers", "create-ida", again.clone()).await;
        assert_replays(&repeat, &first);
    }
    assert_eq!(stored(&api).await, before, "a replay wrote something");
    let list = api.get("/api/EndUsers", 1).await;
    assert_eq!(list.body["totalCount"], 1, "{:?}", list.body);
    // A later change does not change what the key answers: the first response, as it was.
    let path = first.header("location").expect("a location").to_owned();
    assert_eq!(
        api.put(&path, 1, json!({"lastname": "Later"})).await.status,
        200
    );
    let repeat = post_keyed(&api, 1, "/api/EndUsers", "create-ida", again).await;
    assert_replays(&repeat, &first);
}

async fn another_request_with_the_key_is_unprocessable(api: TestApi) {
    let first = post_keyed(&api, 1, "/api/EndUsers", "k-1", json!({"firstname": "A"})).await;
    assert_eq!(first.status, 201);
    let before = stored(&api).await;
    let other_body = post_keyed(&api, 1, "/api/EndUsers", "k-1", json!({"firstname": "B"})).await;
    assert_problem(&other_body, 422);
    assert_eq!(other_body.body["type"], "/problems/idempotency-key-reused");
    let path = format!("/api/EndUsers/{}/anonymize", id_of(&first.body));
    let other_route = post_keyed(&api, 1, &path, "k-1", json!({"firstname": "A"})).await;
    assert_problem(&other_route, 422);
    assert_eq!(
        stored(&api).await,
        before,
        "a refused request wrote something"
    );
    let list = api.get("/api/EndUsers", 1).await;
    assert_eq!(list.body["items"][0]["firstname"], "A");
}

async fn keys_are_per_tenant(api: TestApi) {
    let body = json!({"customerRef": "SHARED", "firstname": "Tenant"});
    let one = post_keyed(&api, 1, "/api/EndUsers", "shared-key", body.clone()).await;
    let two = post_keyed(&api, 2, "/api/EndUsers", "shared-key", body).await;
    assert_eq!((one.status, two.status), (201, 201), "{:?}", two.body);
    assert_eq!(
        replayed(&two),
        None,
        "tenant 2 was answered tenant 1's response"
    );
    let read = api.get("/api/EndUsers/byUid?uid=SHARED", 2).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["endUserID"], two.body["endUserID"]);
}

async fn invalid_keys_are_refused_before_anything_runs(api: TestApi) {
    let long = "k".repeat(256);
    for key in ["", long.as_str(), "tab\tkey"] {
        let refused = post_keyed(&api, 1, "/api/EndUsers", key, json!({})).await;
        assert_field_error(&refused, "Idempotency-Key");
    }
    let non_ascii = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/api/EndUsers")
        .header(
            "authorization",
            format!("Bearer {}", answerpal_testkit::token(1)),
        )
        .header("content-type", "application/json")
        .header(
            "idempotency-key",
            lambda_http::http::HeaderValue::from_bytes(b"cl\xc3\xa9").expect("opaque bytes"),
        )
        .body(lambda_http::Body::Text("{}".into()))
        .expect("a request");
    assert_field_error(&api.raw(non_ascii).await, "Idempotency-Key");
    let twice = api
        .with_headers(
            "POST",
            "/api/EndUsers",
            1,
            &[("idempotency-key", "a"), ("idempotency-key", "b")],
            json!({}),
        )
        .await;
    assert_field_error(&twice, "Idempotency-Key");
    assert!(
        stored(&api).await.is_empty(),
        "a refused key wrote something"
    );
    let longest = "k".repeat(255);
    let ok = post_keyed(&api, 1, "/api/EndUsers", &longest, json!({})).await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
}

async fn a_failed_request_leaves_its_key_free(api: TestApi) {
    let holder = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "held@example.com"}]}),
        )
        .await;
    let body = json!({"uids": [{"uidType": "Email", "uid": "held@example.com"}]});
    let refused = post_keyed(&api, 1, "/api/EndUsers", "retry-me", body.clone()).await;
    assert_problem(&refused, 409);
    let invalid = post_keyed(&api, 1, "/api/EndUsers", "retry-me", json!({"uids": 7})).await;
    assert_problem(&invalid, 400);
    assert!(
        !stored(&api).await.iter().any(is_record),
        "a failed request kept its key's record"
    );
    // The holder lets go: the same request, same key, now runs.
    let path = format!("/api/EndUsers/{}", id_of(&holder));
    assert_eq!(api.delete(&path, 1).await.status, 204);
    let ran = post_keyed(&api, 1, "/api/EndUsers", "retry-me", body).await;
    assert_eq!(ran.status, 201, "{:?}", ran.body);
    assert_eq!(replayed(&ran), None);
}

async fn a_repeat_while_the_first_runs_is_a_conflict(api: TestApi) {
    let (table, api) = api.interleaved();
    let body =
        json!({"firstname": "Slow", "uids": [{"uidType": "Email", "uid": "slow@example.com"}]});
    let racer = Arc::clone(&api);
    let racing_body = body.clone();
    table.race_when(
        puts_end_user,
        Box::new(move || {
            Box::pin(async move {
                let repeat = post_keyed(&racer, 1, "/api/EndUsers", "slow", racing_body).await;
                assert_problem(&repeat, 409);
                assert_eq!(repeat.body["type"], "/problems/idempotency-in-flight");
                assert_eq!(repeat.header("retry-after"), Some("1"));
            })
        }),
    );
    let first = post_keyed(&api, 1, "/api/EndUsers", "slow", body.clone()).await;
    assert!(table.has_run());
    assert_eq!(first.status, 201, "{:?}", first.body);
    let after = post_keyed(&api, 1, "/api/EndUsers", "slow", body).await;
    assert_replays(&after, &first);
    assert_eq!(api.get("/api/EndUsers", 1).await.body["totalCount"], 1);
}

/// `path` posted twice with one key: the second replays the first and writes nothing.
async fn twice(api: &TestApi, path: &str, key: &str, body: Value) -> TestResponse {
    let first = post_keyed(api, 1, path, key, body.clone()).await;
    assert!(
        first.status < 300,
        "{path}: {} {:?}",
        first.status,
        first.body
    );
    let before = stored(api).await;
    let repeat = post_keyed(api, 1, path, key, body).await;
    assert_replays(&repeat, &first);
    assert_eq!(stored(api).await, before, "{path}: the replay wrote");
    first
}

async fn every_post_of_the_desk_replays(api: TestApi) {
    let target = api.create(1, json!({"firstname": "Tara"})).await;
    let source = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "src@example.com"}]}),
        )
        .await;
    let target_path = format!("/api/EndUsers/{}", id_of(&target));
    let assign = json!({"uid": "+32470000999", "endUserID": id_of(&target), "uidType": "Phone"});
    let assigned = twice(&api, "/api/EndUserUIDs/assign", "assign", assign).await;
    assert_eq!(
        assigned.status, 201,
        "a replay keeps the first status, not 200"
    );
    let merge = json!({"sourceEndUserID": id_of(&source)});
    let merged = twice(&api, &format!("{target_path}/merge"), "merge", merge).await;
    let merge_id = merged.body["mergeID"].as_u64().expect("a merge id");
    let undo = format!("{target_path}/merges/{merge_id}/undo");
    let undone = twice(&api, &undo, "undo", Value::Null).await;
    assert_eq!(undone.body["source"]["endUserID"], id_of(&source));

    set_up(&api, 1).await;
    let mailed = email(&api, 1, "src@example.com", "idem-1").await;
    let messages = format!("/api/Tickets/{}/messages", mailed.body["ticketID"]);
    let reply = twice(&api, &messages, "reply", json!({"text": "Once."})).await;
    assert_eq!(reply.status, 201);
    let page = api.get(&format!("{messages}?pageSize=10"), 1).await;
    assert_eq!(
        texts(&page.body).iter().filter(|t| *t == "Once.").count(),
        1
    );

    let anonymized = twice(
        &api,
        &format!("{target_path}/anonymize"),
        "erase",
        json!({}),
    )
    .await;
    assert!(anonymized.body["anonymizedAt"].is_string());
}
