//! PUT /api/EndUsers/byRef/{customerRef} (SPEC 7): updates the holder of the reference (200) or
//! creates one holding it (201, `Location`); concurrent upserts of a new reference create one.

use std::sync::Arc;

use answerpal_testkit::{TestApi, puts_customer_ref};
use serde_json::json;

use crate::support::*;

on_both_stores!(
    an_upsert_creates_then_updates,
    upsert_refuses_what_it_cannot_apply,
    concurrent_upserts_of_a_new_reference_create_one_end_user,
    an_upsert_that_loses_the_reference_updates_its_winner,
);

async fn an_upsert_creates_then_updates(api: TestApi) {
    let first = api
        .put(
            "/api/EndUsers/byRef/ERP-1",
            1,
            json!({"firstname": "Jane", "uids": [{"uidType": "Email", "uid": "jane@example.com"}]}),
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let id = id_of(&first.body);
    assert_eq!(
        first.header("location"),
        Some(format!("/api/EndUsers/{id}").as_str())
    );
    assert_eq!(first.body["customerRef"], "ERP-1");
    assert_eq!(first.body["customerType"], "Lead");

    let second = api
        .put(
            "/api/EndUsers/byRef/ERP-1",
            1,
            json!({"lastname": "Doe", "customerRef": "ERP-1"}),
        )
        .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(id_of(&second.body), id);
    assert_eq!(second.body["name"], "Jane Doe", "a partial update");
    assert_eq!(second.header("location"), None);
    assert_eq!(
        api.get(&format!("/api/EndUsers/{id}"), 1).await.body,
        second.body
    );
    let unchanged = api.put("/api/EndUsers/byRef/ERP-1", 1, json!({})).await;
    assert_eq!(unchanged.status, 200);
    assert_eq!(unchanged.body, second.body);

    let encoded = api.put("/api/EndUsers/byRef/A%2FB%201", 1, json!({})).await;
    assert_eq!(encoded.status, 201, "{:?}", encoded.body);
    assert_eq!(encoded.body["customerRef"], "A/B 1");
    let other_tenant = api.put("/api/EndUsers/byRef/ERP-1", 2, json!({})).await;
    assert_eq!(other_tenant.status, 201, "references are per tenant");
    assert_ne!(id_of(&other_tenant.body), id);
}

async fn upsert_refuses_what_it_cannot_apply(api: TestApi) {
    api.create(
        1,
        json!({"uids": [{"uidType": "Email", "uid": "held@example.com"}]}),
    )
    .await;
    let held = api
        .put(
            "/api/EndUsers/byRef/NEW-1",
            1,
            json!({"uids": [{"uidType": "Email", "uid": "held@example.com"}]}),
        )
        .await;
    assert_problem(&held, 409);
    assert!(
        held.body["errors"]["uids[0].uid"].is_array(),
        "{:?}",
        held.body
    );
    assert_problem(&api.get("/api/EndUsers/byUid?uid=NEW-1", 1).await, 404);

    let other_ref = api
        .put(
            "/api/EndUsers/byRef/NEW-1",
            1,
            json!({"customerRef": "NEW-2"}),
        )
        .await;
    assert_field_error(&other_ref, "customerRef");
    let cleared = api
        .put("/api/EndUsers/byRef/NEW-1", 1, json!({"customerRef": ""}))
        .await;
    assert_field_error(&cleared, "customerRef");
    assert_field_error(
        &api.put("/api/EndUsers/byRef/%20", 1, json!({})).await,
        "customerRef",
    );
    let long = format!("/api/EndUsers/byRef/{}", "x".repeat(129));
    assert_field_error(&api.put(&long, 1, json!({})).await, "customerRef");
    assert_field_error(
        &api.put("/api/EndUsers/byRef/%FF", 1, json!({})).await,
        "customerRef",
    );
    assert_field_error(
        &api.put(
            "/api/EndUsers/byRef/NEW-1",
            1,
            json!({"country": "Belgium"}),
        )
        .await,
        "country",
    );
    assert_problem(&api.get("/api/EndUsers/byUid?uid=NEW-1", 1).await, 404);
}

async fn concurrent_upserts_of_a_new_reference_create_one_end_user(api: TestApi) {
    let api = Arc::new(api);
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let api = Arc::clone(&api);
            tokio::spawn(async move {
                let body = json!({"firstname": format!("writer {n}"),
                    "uids": [{"uidType": "Email", "uid": "race@example.com"}]});
                api.put("/api/EndUsers/byRef/RACE-1", 1, body).await
            })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.expect("task"));
    }
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    let bodies: Vec<_> = responses.iter().map(|r| &r.body).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?} {bodies:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?} {bodies:?}"
    );
    let ids: Vec<u64> = responses.iter().map(|r| id_of(&r.body)).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let list = api.get("/api/EndUsers", 1).await;
    assert_eq!(list.body["totalCount"], 1, "{:?}", list.body);
}

async fn an_upsert_that_loses_the_reference_updates_its_winner(api: TestApi) {
    let (table, api) = api.interleaved();
    let racer = Arc::clone(&api);
    table.race_when(
        puts_customer_ref,
        Box::new(move || {
            Box::pin(async move {
                racer
                    .create(1, json!({"customerRef": "LATE-1", "lastname": "Winner"}))
                    .await;
            })
        }),
    );
    let upserted = api
        .put(
            "/api/EndUsers/byRef/LATE-1",
            1,
            json!({"firstname": "Jane"}),
        )
        .await;
    assert!(table.has_run());
    assert_eq!(upserted.status, 200, "{:?}", upserted.body);
    assert_eq!(upserted.body["name"], "Jane Winner");
    let list = api.get("/api/EndUsers", 1).await;
    assert_eq!(list.body["totalCount"], 1, "{:?}", list.body);
}
