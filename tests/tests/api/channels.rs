//! /api/Customers/channels: create or replace, list, delete; addresses normalized as UIDs are.

use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    channels_are_created_replaced_listed_and_deleted,
    invalid_channels_are_refused,
    channels_belong_to_their_tenant,
);

async fn channels_are_created_replaced_listed_and_deleted(api: TestApi) {
    let empty = api.get("/api/Customers/channels", 1).await;
    assert_eq!(
        (empty.status, empty.body.clone()),
        (200, json!({"items": []}))
    );
    let created = api
        .put(
            "/api/Customers/channels/12",
            1,
            json!({"channelType": "sms", "address": "+32 470 12 34 56", "name": "Belgian SMS"}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        created.header("location"),
        Some("/api/Customers/channels/12")
    );
    assert_eq!(
        created.body,
        json!({"channelID": 12, "channelType": "SMS", "address": "+32470123456", "name": "Belgian SMS"})
    );
    api.put(
        "/api/Customers/channels/3",
        1,
        json!({"channelType": "Email", "address": "Support@Example.com"}),
    )
    .await;
    let replaced = api
        .put(
            "/api/Customers/channels/12",
            1,
            json!({"channelType": "WhatsApp", "address": "32470123456"}),
        )
        .await;
    assert_eq!(replaced.status, 200);
    assert_eq!(replaced.body["name"], Value::Null, "replaced whole");
    let listed = api.get("/api/Customers/channels", 1).await.body;
    assert_eq!(
        listed,
        json!({"items": [
            {"channelID": 3, "channelType": "Email", "address": "support@example.com", "name": null},
            {"channelID": 12, "channelType": "WhatsApp", "address": "+32470123456", "name": null}
        ]})
    );
    let deleted = api.delete("/api/Customers/channels/12", 1).await;
    assert_eq!((deleted.status, deleted.body), (204, Value::Null));
    assert_problem(&api.delete("/api/Customers/channels/12", 1).await, 404);
    assert_eq!(
        api.get("/api/Customers/channels", 1).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

async fn invalid_channels_are_refused(api: TestApi) {
    let put = |path: &'static str, body: Value| api.put(path, 1, body);
    assert_field_error(
        &put(
            "/api/Customers/channels/0",
            json!({"channelType": "SMS", "address": "+32470123456"}),
        )
        .await,
        "channelID",
    );
    assert_field_error(
        &put(
            "/api/Customers/channels/abc",
            json!({"channelType": "SMS", "address": "+32470123456"}),
        )
        .await,
        "channelID",
    );
    assert_field_error(
        &put(
            "/api/Customers/channels/4",
            json!({"channelType": "Phone", "address": "0470 12 34 56"}),
        )
        .await,
        "address",
    );
    assert_field_error(
        &put(
            "/api/Customers/channels/4",
            json!({"channelType": "Fax", "address": "+32470123456"}),
        )
        .await,
        "channelType",
    );
    assert_field_error(
        &put(
            "/api/Customers/channels/4",
            json!({"channelType": "Email", "address": "nobody"}),
        )
        .await,
        "address",
    );
    assert_field_error(
        &put(
            "/api/Customers/channels/4",
            json!({"channelType": "Webchat", "address": "w", "channelID": 5}),
        )
        .await,
        "channelID",
    );
    assert_problem(
        &put("/api/Customers/channels/4", json!({"channelType": 5})).await,
        400,
    );
    assert_problem(&api.delete("/api/Customers/channels/-1", 1).await, 400);
    assert_eq!(
        api.get("/api/Customers/channels", 1).await.body,
        json!({"items": []})
    );
}

async fn channels_belong_to_their_tenant(api: TestApi) {
    let body = json!({"channelType": "Webchat", "address": "site widget"});
    assert_eq!(
        api.put("/api/Customers/channels/1", 1, body.clone())
            .await
            .status,
        201
    );
    assert_eq!(
        api.get("/api/Customers/channels", 2).await.body,
        json!({"items": []})
    );
    assert_problem(&api.delete("/api/Customers/channels/1", 2).await, 404);
    // The same id is a different channel for another tenant.
    assert_eq!(
        api.put("/api/Customers/channels/1", 2, body).await.status,
        201
    );
    assert_eq!(
        api.get("/api/Customers/channels", 1).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
