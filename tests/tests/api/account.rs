//! GET/PUT /api/Customers/me: defaults, every field group, write-only secrets, validation.

use answerpal::domain::TenantId;
use answerpal::store::account;
use answerpal_testkit::{TestApi, phone_token};
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    a_tenant_that_saved_nothing_reads_its_defaults,
    every_field_group_is_saved_and_read_back,
    secrets_are_write_only_kept_cleared_or_replaced,
    an_invalid_update_names_its_fields_and_saves_nothing,
    the_stored_item_holds_no_secret_value,
    settings_belong_to_their_tenant,
    the_crm_base_url_may_not_name_the_services_own_network,
    only_the_local_servers_flag_lets_a_loopback_crm_in,
);

const SECRETS: [&str; 8] = [
    "apiPassword",
    "apiToken",
    "graphClientSecret",
    "twilioAuthToken",
    "openAIApiKey",
    "openAIAdminApiKey",
    "googleMapsApiKey",
    "webhookSigningSecret",
];

/// A value for every secret field, each distinct and easy to find in a dump.
fn secret_values() -> Value {
    let mut body = serde_json::Map::new();
    for (n, field) in SECRETS.iter().enumerate() {
        body.insert((*field).into(), format!("s3cr3t-{n}-{field}").into());
    }
    Value::Object(body)
}

fn has_flag(field: &str) -> String {
    let mut chars = field.chars();
    let first = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_default();
    format!("has{first}{}", chars.as_str())
}

fn assert_no_secret_values(text: &str) {
    for (n, field) in SECRETS.iter().enumerate() {
        let value = format!("s3cr3t-{n}-{field}");
        assert!(!text.contains(&value), "{value} leaked: {text}");
    }
}

async fn a_tenant_that_saved_nothing_reads_its_defaults(api: TestApi) {
    let me = api.get("/api/Customers/me", 7).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.header("cache-control"), Some("no-store"));
    assert_eq!(me.body["customerID"], 7);
    assert_eq!(me.body["ticketCleanupRetentionDays"], 90);
    for flag in [
        "imapUseSsl",
        "smtpUseSsl",
        "defaultEmailModelInternetAccessEnabled",
        "defaultRealtimeModelInternetAccessEnabled",
    ] {
        assert_eq!(me.body[flag], false, "{flag}");
    }
    for field in SECRETS {
        assert_eq!(me.body[has_flag(field)], false, "{field}");
        assert!(me.body.get(field).is_none(), "{field} is write-only");
    }
    for field in [
        "apiBaseUrl",
        "apiAuthenticationType",
        "emailProviderType",
        "imapPort",
        "defaultTopicModelId",
        "twilioAccountSID",
        "defaultCustomerRepID",
    ] {
        assert_eq!(me.body[field], Value::Null, "{field}");
    }
}

async fn every_field_group_is_saved_and_read_back(api: TestApi) {
    let update = json!({
        "apiBaseUrl": "https://crm.example.com/api",
        "apiUsername": "answerpal",
        "apiAuthenticationType": "basic",
        "emailProviderType": "Graph",
        "graphTenantID": "b7f1c0de-0000-4000-8000-000000000001",
        "graphClientID": "client-1",
        "graphAuthorityURL": "https://login.microsoftonline.com/b7f1c0de",
        "graphScope": "https://graph.microsoft.com/.default",
        "imapServer": "imap.example.com",
        "imapPort": 993,
        "imapUseSsl": true,
        "smtpServer": "smtp.example.com",
        "smtpPort": 587,
        "smtpUseSsl": true,
        "defaultTopicModelId": 2,
        "defaultWebchatModelId": 1,
        "defaultEmailModelId": 3,
        "defaultCallModelId": 5,
        "defaultSpamModelId": 2,
        "defaultConditionalRulesModelId": 4,
        "defaultSummaryModelId": 4,
        "defaultRealtimeModelId": 6,
        "defaultRealtimeTranslationModelId": 6,
        "defaultTranscribeModelId": 8,
        "defaultEmailModelInternetAccessEnabled": true,
        "defaultWebchatModelInternetAccessEnabled": true,
        "defaultCallModelInternetAccessEnabled": false,
        "defaultRealtimeModelInternetAccessEnabled": true,
        "twilioAccountSID": "AC0123456789abcdef0123456789abcdef",
        "twilioRegion": "ie1",
        "openAIProjectId": "proj_123",
        "googleCloudProjectIds": "answerpal-prod,answerpal-eu",
        "defaultCustomerRepID": 12,
        "ticketCleanupRetentionDays": 30
    });
    let saved = api.put("/api/Customers/me", 1, update.clone()).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let read = api.get("/api/Customers/me", 1).await;
    assert_eq!(read.body, saved.body);
    for (field, value) in update.as_object().expect("object") {
        let expected = match field.as_str() {
            "apiAuthenticationType" => json!("Basic"),
            _ => value.clone(),
        };
        assert_eq!(read.body[field], expected, "{field}");
    }
    // Absent keeps, "" clears, a value replaces.
    let changed = api
        .put(
            "/api/Customers/me",
            1,
            json!({"imapPort": "", "smtpUseSsl": "", "twilioRegion": "us1", "apiUsername": null}),
        )
        .await;
    assert_eq!(changed.body["imapPort"], Value::Null);
    assert_eq!(changed.body["smtpUseSsl"], false);
    assert_eq!(changed.body["twilioRegion"], "us1");
    assert_eq!(changed.body["apiUsername"], "answerpal");
    assert_eq!(changed.body["ticketCleanupRetentionDays"], 30);
}

async fn secrets_are_write_only_kept_cleared_or_replaced(api: TestApi) {
    api.put(
        "/api/Customers/channels/3",
        1,
        json!({"channelType": "Phone", "address": "+3236416685"}),
    )
    .await;
    let mut body = secret_values();
    body["twilioAccountSID"] = "AC1".into();
    let saved = api.put("/api/Customers/me", 1, body).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_no_secret_values(&saved.body.to_string());
    for field in SECRETS {
        assert_eq!(saved.body[has_flag(field)], true, "{field}");
    }
    let secrets = || async {
        let response = api
            .send_with(
                "GET",
                "/api/Customers/my-secrets",
                Some(phone_token(1, Some(3))),
                None,
            )
            .await;
        assert_eq!(response.status, 200, "{:?}", response.body);
        response.body
    };
    let first = secrets().await;
    assert_eq!(first["twilioAuthToken"], "s3cr3t-3-twilioAuthToken");
    assert_eq!(first["openAIApiKey"], "s3cr3t-4-openAIApiKey");
    assert_eq!(first["twilioAccountSID"], "AC1");

    // A settings-only update keeps every secret; "" clears one; a value replaces another.
    api.put(
        "/api/Customers/me",
        1,
        json!({"apiUsername": "robot", "apiToken": null}),
    )
    .await;
    assert_eq!(secrets().await, first);
    let changed = api
        .put(
            "/api/Customers/me",
            1,
            json!({"twilioAuthToken": "", "openAIApiKey": "replaced-key"}),
        )
        .await;
    assert_eq!(changed.body["hasTwilioAuthToken"], false);
    assert_eq!(changed.body["hasOpenAIApiKey"], true);
    assert_eq!(changed.body["hasWebhookSigningSecret"], true);
    let now = secrets().await;
    assert_eq!(now["twilioAuthToken"], Value::Null);
    assert_eq!(now["openAIApiKey"], "replaced-key");
    assert_eq!(now["googleMapsApiKey"], "s3cr3t-6-googleMapsApiKey");
}

async fn an_invalid_update_names_its_fields_and_saves_nothing(api: TestApi) {
    let before = api.get("/api/Customers/me", 1).await.body;
    let response = api
        .put(
            "/api/Customers/me",
            1,
            json!({
                "apiUsername": "would-be-saved",
                "twilioAuthToken": "would-be-saved-too",
                "ticketCleanupRetentionDays": 0,
                "smtpPort": 0,
                "graphAuthorityURL": "http://login.example.com",
                "emailProviderType": "Pop3",
                "defaultEmailModelId": 7
            }),
        )
        .await;
    for field in [
        "ticketCleanupRetentionDays",
        "smtpPort",
        "graphAuthorityURL",
        "emailProviderType",
        "defaultEmailModelId",
    ] {
        assert_field_error(&response, field);
    }
    assert!(!response.body.to_string().contains("would-be-saved-too"));
    assert_eq!(api.get("/api/Customers/me", 1).await.body, before);
    assert_field_error(
        &api.put(
            "/api/Customers/me",
            1,
            json!({"ticketCleanupRetentionDays": 3651}),
        )
        .await,
        "ticketCleanupRetentionDays",
    );
    assert_problem(&api.put("/api/Customers/me", 1, json!([1, 2])).await, 400);
    // A phone-auth token is refused here.
    let phone = api
        .send_with(
            "GET",
            "/api/Customers/me",
            Some(phone_token(1, Some(3))),
            None,
        )
        .await;
    assert_problem(&phone, 403);
}

async fn the_stored_item_holds_no_secret_value(api: TestApi) {
    let saved = api.put("/api/Customers/me", 4, secret_values()).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let tenant = TenantId::new(4).expect("tenant");
    let item = api
        .table()
        .get(&account::key(tenant))
        .await
        .expect("read the raw item")
        .expect("the account item");
    let raw = format!("{item:?}");
    assert!(
        raw.contains("sealed"),
        "the secrets are stored sealed: {raw}"
    );
    assert_no_secret_values(&raw);
    // Not even a fragment of any value, in any encoding the item could use.
    for (n, field) in SECRETS.iter().enumerate() {
        let value = format!("s3cr3t-{n}-{field}");
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &value);
        assert!(
            !raw.contains(&b64[..16]) && !raw.contains(&value[..10]),
            "{field}"
        );
    }
}

async fn settings_belong_to_their_tenant(api: TestApi) {
    let saved = api
        .put(
            "/api/Customers/me",
            1,
            json!({"apiUsername": "tenant-one", "webhookSigningSecret": "w1"}),
        )
        .await;
    assert_eq!(saved.status, 200);
    let other = api.get("/api/Customers/me", 2).await;
    assert_eq!(other.body["customerID"], 2);
    assert_eq!(other.body["apiUsername"], Value::Null);
    assert_eq!(other.body["hasWebhookSigningSecret"], false);
}

/// SPEC 10: the connector reaches public addresses only; an address written in `apiBaseUrl` is
/// checked when saved (the connector checks every address a name resolves to when it connects).
async fn the_crm_base_url_may_not_name_the_services_own_network(api: TestApi) {
    for refused in [
        "https://127.0.0.1:8443/crm",
        "https://10.0.0.8",
        "https://192.168.1.20",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]:8443",
        "https://[::ffff:169.254.169.254]",
        "https://[fd12::1]",
        "https://localhost:8443",
        "http://127.0.0.1:9000",
        "http://crm.example.com",
    ] {
        let saved = api
            .put("/api/Customers/me", 1, json!({"apiBaseUrl": refused}))
            .await;
        assert_field_error(&saved, "apiBaseUrl");
    }
    let me = api.get("/api/Customers/me", 1).await;
    assert_eq!(me.body["apiBaseUrl"], Value::Null, "nothing saved");
    for accepted in [
        "https://crm.example.com/answerpal",
        "https://93.184.216.34:8443",
    ] {
        let saved = api
            .put("/api/Customers/me", 1, json!({"apiBaseUrl": accepted}))
            .await;
        assert_eq!(saved.status, 200, "{accepted}: {:?}", saved.body);
        assert_eq!(saved.body["apiBaseUrl"], accepted);
    }
}

/// `CRM_ALLOW_LOOPBACK=true` (the local server only) lets `http` and loopback through, and
/// nothing else of the service's network.
async fn only_the_local_servers_flag_lets_a_loopback_crm_in(api: TestApi) {
    let local = api.allowing_crm_loopback();
    for accepted in [
        "http://127.0.0.1:9000/crm",
        "http://[::1]:9000",
        "https://localhost:8443",
    ] {
        let saved = local
            .put("/api/Customers/me", 1, json!({"apiBaseUrl": accepted}))
            .await;
        assert_eq!(saved.status, 200, "{accepted}: {:?}", saved.body);
    }
    for refused in [
        "http://10.0.0.8",
        "https://169.254.169.254",
        "http://crm.example.com",
    ] {
        let saved = local
            .put("/api/Customers/me", 1, json!({"apiBaseUrl": refused}))
            .await;
        assert_field_error(&saved, "apiBaseUrl");
    }
    let saved = api
        .put(
            "/api/Customers/me",
            1,
            json!({"apiBaseUrl": "http://127.0.0.1:9000/crm"}),
        )
        .await;
    assert_field_error(&saved, "apiBaseUrl");
}
