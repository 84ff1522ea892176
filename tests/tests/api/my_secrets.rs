//! GET /api/Customers/my-secrets: only for a phone-auth token naming a Phone channel; such a
//! token is refused everywhere else.

use answerpal_testkit::{TestApi, phone_token, token};
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    a_phone_token_naming_a_phone_channel_reads_the_provider_secrets,
    every_other_token_is_refused,
);

async fn set_up(api: &TestApi) {
    for (id, kind, address) in [(3, "Phone", "+3236416685"), (2, "SMS", "+32470999001")] {
        let body = json!({"channelType": kind, "address": address});
        let path = format!("/api/Customers/channels/{id}");
        assert_eq!(api.put(&path, 1, body).await.status, 201);
    }
}

async fn my_secrets(api: &TestApi, bearer: String) -> answerpal_testkit::TestResponse {
    api.send_with("GET", "/api/Customers/my-secrets", Some(bearer), None)
        .await
}

async fn a_phone_token_naming_a_phone_channel_reads_the_provider_secrets(api: TestApi) {
    set_up(&api).await;
    let none_yet = my_secrets(&api, phone_token(1, Some(3))).await;
    assert_eq!(none_yet.status, 200, "{:?}", none_yet.body);
    assert_eq!(none_yet.body["twilioAuthToken"], Value::Null);
    api.put(
        "/api/Customers/me",
        1,
        json!({
            "twilioAccountSID": "AC42", "twilioAuthToken": "tw-token", "twilioRegion": "ie1",
            "openAIApiKey": "sk-live", "openAIProjectId": "proj_1", "openAIAdminApiKey": "sk-admin",
            "googleMapsApiKey": "maps-key", "googleCloudProjectIds": "p1,p2",
            "apiPassword": "connector-password", "webhookSigningSecret": "whsec"
        }),
    )
    .await;
    let read = my_secrets(&api, phone_token(1, Some(3))).await;
    assert_eq!(read.header("cache-control"), Some("no-store"));
    assert_eq!(
        read.body,
        json!({
            "twilioAccountSID": "AC42", "twilioAuthToken": "tw-token", "twilioRegion": "ie1",
            "openAIApiKey": "sk-live", "openAIProjectId": "proj_1",
            "googleMapsApiKey": "maps-key", "googleCloudProjectIds": "p1,p2"
        })
    );
}

async fn every_other_token_is_refused(api: TestApi) {
    set_up(&api).await;
    for bearer in [
        token(1),                 // not phone-auth
        phone_token(1, None),     // no channel
        phone_token(1, Some(2)),  // an SMS channel
        phone_token(1, Some(99)), // no such channel
        phone_token(2, Some(3)),  // another tenant's channel id
    ] {
        assert_problem(&my_secrets(&api, bearer).await, 403);
    }
    for (method, path) in [
        ("GET", "/api/Customers/me"),
        ("GET", "/api/Customers/models"),
        ("GET", "/api/Customers/channels"),
        ("GET", "/api/EndUsers"),
    ] {
        let response = api
            .send_with(method, path, Some(phone_token(1, Some(3))), None)
            .await;
        assert_problem(&response, 403);
    }
}
