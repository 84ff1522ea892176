//! Stored secrets that no longer open (SPEC 6), on both key services: the local key replaced,
//! the KMS key disabled. `GET me` answers, a PUT that sets or clears every stored secret field
//! replaces them, any other PUT touching secrets is a 409 `secrets-unreadable` naming the
//! stored fields, never a 5xx.

use std::sync::Arc;

use answerpal::store::Table;
use answerpal::store::memory::MemoryTable;
use answerpal_testkit::{TestApi, disable_kms_key, kms_key, local_vault, replaced_local_vault};
use serde_json::json;

/// Saves two secrets through `before`, breaks their key, and recovers through `after`.
async fn recovery(before: TestApi, after: TestApi, break_key: impl AsyncFnOnce()) {
    let saved = before
        .put(
            "/api/Customers/me",
            1,
            json!({"twilioAuthToken": "token-a", "webhookSigningSecret": "secret-b"}),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    break_key().await;

    let me = after.get("/api/Customers/me", 1).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["hasTwilioAuthToken"], true);

    let partial = after
        .put(
            "/api/Customers/me",
            1,
            json!({"twilioAuthToken": "token-c"}),
        )
        .await;
    assert_eq!(partial.status, 409, "{:?}", partial.body);
    assert_eq!(partial.body["type"], "/problems/secrets-unreadable");
    let named: Vec<&String> = partial.body["errors"]
        .as_object()
        .map(|errors| errors.keys().collect())
        .unwrap_or_default();
    assert_eq!(named, ["webhookSigningSecret"], "{:?}", partial.body);

    let no_secrets = after
        .put("/api/Customers/me", 1, json!({"defaultCustomerRepID": 4}))
        .await;
    assert_eq!(no_secrets.status, 200, "{:?}", no_secrets.body);

    let replaced = after
        .put(
            "/api/Customers/me",
            1,
            json!({"twilioAuthToken": "token-c", "webhookSigningSecret": ""}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(replaced.body["hasTwilioAuthToken"], true);
    assert_eq!(replaced.body["hasWebhookSigningSecret"], false);
    assert_eq!(replaced.body["defaultCustomerRepID"], 4);
    // What was entered again opens: a later secret change reads it.
    let again = after
        .put(
            "/api/Customers/me",
            1,
            json!({"webhookSigningSecret": "secret-d"}),
        )
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
}

#[tokio::test]
async fn a_replaced_local_key_is_recovered_by_entering_the_secrets_again() {
    let table: Arc<dyn Table> = Arc::new(MemoryTable::new());
    let before = TestApi::with_vault(table.clone(), local_vault());
    let after = TestApi::with_vault(table, replaced_local_vault());
    recovery(before, after, async || {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_kms_key_is_recovered_by_entering_the_secrets_again() {
    let table: Arc<dyn Table> = Arc::new(MemoryTable::new());
    let (vault, key) = kms_key().await;
    let before = TestApi::with_vault(table.clone(), vault);
    // The function now seals with a key of its own, as after a rotation; the old one is off.
    let (rotated, _) = kms_key().await;
    let after = TestApi::with_vault(table, rotated);
    recovery(before, after, async || disable_kms_key(&key).await).await;
}
