//! Every item the API writes names its kind (a stream consumer reads items by kind, not by
//! parsing keys): after an end user, its UIDs (a keyed assign), the account, channels, webhook
//! messages, a reply, a close, a merge, an anonymization (of an opted-out address: its
//! suppression), an upsert and a dismissed duplicate, no item of the embedded table is without
//! one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use answerpal::store::Kind;
use answerpal::store::memory::MemoryTable;
use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;
use crate::webhooks::{email, set_up, sms};

#[tokio::test]
async fn every_stored_item_names_its_kind() {
    let table = Arc::new(MemoryTable::new());
    let api = TestApi::with_table(table.clone(), Duration::from_secs(30));
    set_up(&api, 1).await;
    let user = api
        .create(
            1,
            json!({"customerRef": "K-1", "uids": [{"uidType": "Email", "uid": "k@example.com",
                "consent": "optedOut"}]}),
        )
        .await;
    // Keyed: its record is an item too.
    let assigned = api
        .with_headers(
            "POST",
            "/api/EndUserUIDs/assign",
            1,
            &[("idempotency-key", "kinds")],
            json!({"uid": "+32470000777", "endUserID": id_of(&user), "uidType": "Phone"}),
        )
        .await;
    assert_eq!(assigned.status, 201, "{:?}", assigned.body);
    assert_eq!(
        sms(&api, 1, "+32470000888", "SM-k", "hello").await.status,
        200
    );
    let mailed = email(&api, 1, "k@example.com", "kind-1").await;
    assert_eq!(mailed.status, 200, "{:?}", mailed.body);
    let ticket = &mailed.body["ticketID"];
    let path = format!("/api/Tickets/{ticket}/messages");
    assert_eq!(
        api.post(&path, 1, json!({"text": "reply"})).await.status,
        201
    );
    let close = api
        .put(
            &format!("/api/Tickets/{ticket}"),
            1,
            json!({"status": "Closed"}),
        )
        .await;
    assert_eq!(close.status, 200, "{:?}", close.body);
    let duplicate = api.create(1, json!({"firstname": "Twin"})).await;
    let merged = api
        .post(
            &format!("/api/EndUsers/{}/merge", id_of(&user)),
            1,
            json!({"sourceEndUserID": id_of(&duplicate)}),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    // Someone was merged into it: its erasure is left to a job.
    let anonymize = format!("/api/EndUsers/{}/anonymize", id_of(&user));
    let anonymized = api.post(&anonymize, 1, json!({})).await;
    assert_eq!(
        anonymized.body["erasure"], "pending",
        "{:?}",
        anonymized.body
    );
    let upserted = api.put("/api/EndUsers/byRef/K-2", 1, json!({})).await;
    assert_eq!(upserted.status, 201, "{:?}", upserted.body);
    let other = api.create(1, json!({"firstname": "Other"})).await;
    let dismiss = format!(
        "/api/EndUsers/{}/duplicates/{}/dismiss",
        id_of(&upserted.body),
        id_of(&other)
    );
    assert_eq!(api.post(&dismiss, 1, json!({})).await.status, 204);

    let items = table.snapshot().expect("the items");
    let unnamed: Vec<_> = items.iter().filter(|i| Kind::of(i).is_none()).collect();
    assert!(unnamed.is_empty(), "items without a kind: {unnamed:?}");
    let kinds: BTreeSet<&str> = items
        .iter()
        .filter_map(Kind::of)
        .map(Kind::as_str)
        .collect();
    let every: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, every, "a flow that writes every kind");
}
