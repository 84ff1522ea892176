//! `EndUserDuplicateSuspected` (SPEC 9): announced once by the write that makes a pair likely
//! (not by a name reason alone, not again, not for a dismissed pair), beside a shared external
//! id, for a webhook lead, with no value in it.

use answerpal_testkit::TestApi;
use serde_json::json;

use crate::change_events::outbox;
use crate::duplicates::{dismiss, named, reasons_of};
use crate::support::*;
use crate::webhooks::{set_up, sms};

on_both_stores!(
    a_write_making_a_pair_likely_announces_it_once,
    a_name_beside_a_shared_external_id_is_announced,
    a_webhook_lead_with_a_known_number_is_announced,
);

/// The `EndUserDuplicateSuspected` events in the outbox: `(endUserID, candidateEndUserID,
/// score, reasons)`.
async fn suspected(api: &TestApi) -> Vec<(u64, u64, f64, Vec<String>)> {
    let events = outbox(api).await.into_iter().flat_map(|(_, events)| events);
    events
        .filter(|e| e["detailType"] == "EndUserDuplicateSuspected")
        .map(|e| {
            let reasons = e["reasons"].as_array().expect("reasons").iter();
            (
                e["endUserID"].as_u64().expect("endUserID"),
                e["candidateEndUserID"]
                    .as_u64()
                    .expect("candidateEndUserID"),
                e["score"].as_f64().expect("score"),
                reasons
                    .map(|r| r.as_str().expect("reason").to_owned())
                    .collect(),
            )
        })
        .collect()
}

async fn a_write_making_a_pair_likely_announces_it_once(api: TestApi) {
    let first = named("Rui Sá")
        .with("company", "Acme")
        .uid("Phone", "+32470500001");
    let first = id_of(&api.create(1, first.json()).await);
    // A name reason alone is below 0.8: nothing announced.
    let second = named("rui sa").with("company", "ACME").json();
    let second = id_of(&api.create(1, second).await);
    assert!(suspected(&api).await.is_empty());

    // The same number under WhatsApp: 1 - 0.15 x 0.6.
    let path = format!("/api/EndUsers/{second}");
    let linked = json!({"uids": [{"uidType": "WhatsApp", "uid": "+32470500001"}]});
    assert_eq!(api.put(&path, 1, linked).await.status, 200);
    let reasons = vec![
        "samePhoneNumber".to_owned(),
        "sameNameAndCompany".to_owned(),
    ];
    assert_eq!(
        suspected(&api).await,
        [(second, first, 0.91, reasons.clone())]
    );
    let event = outbox(&api).await.into_iter().flat_map(|(_, e)| e);
    let event = event
        .filter(|e| e["detailType"] == "EndUserDuplicateSuspected")
        .collect::<Vec<_>>();
    let text = event[0].to_string();
    assert!(!text.contains("+32470500001") && !text.to_lowercase().contains("rui"));

    // Already likely: a new shared key announces nothing again.
    let more = json!({"company": "Acme", "uids": [{"uidType": "Email", "uid": "rui@x.example"}]});
    assert_eq!(api.put(&path, 1, more).await.status, 200);
    let again = json!({"uid": "rui+2@x.example", "endUserID": first, "uidType": "Email"});
    assert_eq!(
        api.post("/api/EndUserUIDs/assign", 1, again).await.status,
        201
    );
    assert_eq!(suspected(&api).await.len(), 1);

    // A dismissed pair is not announced when it gains a key.
    let third = id_of(&api.create(1, named("Zed").json()).await);
    assert_eq!(dismiss(&api, third, first).await.status, 204);
    let phone = json!({"uids": [{"uidType": "Phone", "uid": "+32470500001"}]});
    let phone_of_third = api.put(&format!("/api/EndUsers/{third}"), 1, phone).await;
    // The Phone UID is held by `first`: a 409, and nothing announced either way.
    assert_eq!(phone_of_third.status, 409);
    let held = json!({"uid": "rui@x.example", "uidType": "Email", "endUserID": third});
    assert_eq!(
        api.post("/api/EndUserUIDs/assign", 1, held).await.status,
        409
    );
    let tagged = json!({"uid": "rui+third@x.example", "uidType": "Email", "endUserID": third});
    assert_eq!(
        api.post("/api/EndUserUIDs/assign", 1, tagged).await.status,
        201
    );
    let announced: Vec<u64> = suspected(&api).await.iter().map(|s| s.0).collect();
    assert_eq!(announced, [second, third]);
    let third_events: Vec<_> = suspected(&api)
        .await
        .into_iter()
        .filter(|s| s.0 == third)
        .collect();
    assert_eq!(third_events.len(), 1);
    assert_eq!(third_events[0].1, second, "the dismissed pair is left out");
}

async fn a_name_beside_a_shared_external_id_is_announced(api: TestApi) {
    let first = named("Ann Bo").with("company", "Co").uid("External", "X-1");
    let first = id_of(&api.create(1, first.json()).await);
    // An external id alone is 0.7.
    let second = id_of(
        &api.create(1, end_user().uid("External", "x-1").json())
            .await,
    );
    assert!(suspected(&api).await.is_empty());
    let path = format!("/api/EndUsers/{second}");
    let named = json!({"name": "ann bo", "company": "CO"});
    assert_eq!(api.put(&path, 1, named).await.status, 200);
    let reasons = vec![
        "sameExternalIgnoringCase".to_owned(),
        "sameNameAndCompany".to_owned(),
    ];
    assert_eq!(suspected(&api).await, [(second, first, 0.82, reasons)]);
}

async fn a_webhook_lead_with_a_known_number_is_announced(api: TestApi) {
    set_up(&api, 1).await;
    let customer = end_user().uid("WhatsApp", "+32470600001").json();
    let customer = id_of(&api.create(1, customer).await);
    let sid = "SM0000000000000000000000000000dup1";
    let delivered = sms(&api, 1, "+32470600001", sid, "hi").await;
    assert_eq!(delivered.status, 200, "{:?}", delivered.body);
    let found = suspected(&api).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let (lead, candidate, score, _) = &found[0];
    assert_eq!((*candidate, *score), (customer, 0.85));
    assert_eq!(reasons_of(&api, 1, customer).await, [*lead]);
    // A redelivery records nothing and announces nothing again.
    let again = sms(&api, 1, "+32470600001", sid, "hi").await;
    assert_eq!(again.status, 200);
    assert_eq!(suspected(&api).await.len(), 1);
}
