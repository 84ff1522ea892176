//! Suppression (SPEC 9): erasing an end user keeps, of each opted-out address, a keyed digest and
//! nothing else; the same address linked again anywhere in the tenant starts opted out.

use answerpal::store::{AttributeValue, Item, Kind};
use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{set_up, sms};

on_both_stores!(
    an_erased_opted_out_address_leaves_only_its_digest,
    the_address_linked_again_anywhere_starts_opted_out,
    only_opted_out_addresses_are_kept_and_only_in_their_tenant,
    an_erasure_racing_a_link_of_its_address_leaves_it_opted_out,
);

fn text_of(value: &AttributeValue) -> String {
    format!("{value:?}").to_lowercase()
}

/// Every raw item that names `needle` anywhere (keys and values, nested or not).
fn naming<'a>(items: &'a [Item], needle: &str) -> Vec<&'a Item> {
    let needle = needle.to_lowercase();
    items
        .iter()
        .filter(|item| {
            item.iter()
                .any(|(name, value)| name.contains(&needle) || text_of(value).contains(&needle))
        })
        .collect()
}

fn suppressions(items: &[Item]) -> Vec<&Item> {
    items
        .iter()
        .filter(|item| Kind::of(item) == Some(Kind::Suppression))
        .collect()
}

async fn opted_out(api: &TestApi, tenant: u64, uid_type: &str, uid: &str) -> Value {
    let body = json!({"firstname": "Erin", "uids": [{"uidType": uid_type, "uid": uid,
        "consent": "optedOut"}]});
    api.create(tenant, body).await
}

async fn an_erased_opted_out_address_leaves_only_its_digest(api: TestApi) {
    let anonymized = opted_out(&api, 1, "Email", "erin.stop@example.com").await;
    let deleted = opted_out(&api, 1, "Phone", "+32470666001").await;
    let path = format!("/api/EndUsers/{}/anonymize", id_of(&anonymized));
    assert_eq!(api.post(&path, 1, json!({})).await.status, 200);
    let path = format!("/api/EndUsers/{}", id_of(&deleted));
    assert_eq!(api.delete(&path, 1).await.status, 204);

    let items = api.raw_items().await;
    for value in [
        "erin.stop@example.com",
        "erin.stop",
        "+32470666001",
        "32470666001",
    ] {
        let found = naming(&items, value);
        assert!(found.is_empty(), "{value} is still stored: {found:?}");
    }
    let kept = suppressions(&items);
    assert_eq!(kept.len(), 2, "{kept:?}");
    for item in kept {
        let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["PK", "SK", "kind"], "nothing but the digest");
        let Some(AttributeValue::S(pk)) = item.get("PK") else {
            panic!("a suppression's PK: {item:?}");
        };
        let digest = pk.rsplit('#').next().expect("the digest");
        assert_eq!(digest.len(), 64);
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{pk}");
    }
}

async fn the_address_linked_again_anywhere_starts_opted_out(api: TestApi) {
    set_up(&api, 1).await;
    for (uid_type, uid) in [
        ("Email", "again@example.com"),
        ("Email", "assigned@example.com"),
        ("Email", "put@example.com"),
        ("Phone", "+32470666010"),
    ] {
        let erased = opted_out(&api, 1, uid_type, uid).await;
        let path = format!("/api/EndUsers/{}/anonymize", id_of(&erased));
        assert_eq!(api.post(&path, 1, json!({})).await.status, 200);
    }
    let suppressed = |user: &Value, uid: &str| {
        let consent = consent_of(user, uid);
        assert_eq!(consent["status"], "optedOut", "{uid}: {user}");
        assert_eq!(consent["source"], "suppression", "{uid}: {user}");
    };

    // Create, in another casing: the normalized address is the one suppressed.
    let created = api
        .create(1, end_user().uid("Email", "Again@Example.com").json())
        .await;
    suppressed(&created, "again@example.com");
    // Assign.
    let assign = json!({"endUserID": id_of(&created), "uidType": "Email",
        "uid": "assigned@example.com"});
    let linked = api.post("/api/EndUserUIDs/assign", 1, assign).await;
    assert_eq!(linked.status, 201, "{:?}", linked.body);
    assert_eq!(linked.body["consent"]["source"], "suppression");
    // Update.
    let other = api.create(1, json!({"firstname": "Other"})).await;
    let put = json!({"uids": [{"uidType": "Email", "uid": "put@example.com"}]});
    let updated = api
        .put(&format!("/api/EndUsers/{}", id_of(&other)), 1, put)
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    suppressed(&updated.body, "put@example.com");
    // A webhook's new sender.
    assert_eq!(
        sms(&api, 1, "+32470666010", "SM-s-1", "hello").await.status,
        200
    );
    let found = api.get("/api/EndUsers/byUid?uid=%2B32470666010", 1).await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    suppressed(&found.body, "+32470666010");
    // The history shows where it came from; the person may opt in again.
    let uid_id = updated.body["uids"][0]["endUserUIDID"].clone();
    let opt_in = json!({"uids": [{"endUserUIDID": uid_id, "consent": "optedIn"}]});
    let back = api
        .put(&format!("/api/EndUsers/{}", id_of(&other)), 1, opt_in)
        .await;
    assert_eq!(
        consent_of(&back.body, "put@example.com")["status"],
        "optedIn"
    );
    let history = api
        .get(&format!("/api/EndUsers/{}/consent", id_of(&other)), 1)
        .await;
    let sources: Vec<&str> = history.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["source"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(sources, ["api", "suppression"]);
}

async fn only_opted_out_addresses_are_kept_and_only_in_their_tenant(api: TestApi) {
    let user = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "in@example.com", "consent": "optedIn"},
                {"uidType": "Email", "uid": "never@example.com"},
                {"uidType": "Email", "uid": "out@example.com", "consent": "optedOut"}]}),
        )
        .await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    assert_eq!(api.delete(&path, 1).await.status, 204);
    assert_eq!(suppressions(&api.raw_items().await).len(), 1);
    let again = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "in@example.com"},
                {"uidType": "Email", "uid": "never@example.com"}]}),
        )
        .await;
    for uid in ["in@example.com", "never@example.com"] {
        assert_eq!(consent_of(&again, uid)["status"], "unknown", "{uid}");
    }
    // Another tenant's person with the same address is not suppressed.
    let elsewhere = api
        .create(2, end_user().uid("Email", "out@example.com").json())
        .await;
    assert_eq!(
        consent_of(&elsewhere, "out@example.com")["status"],
        "unknown"
    );
    // Nor is the same value under another type.
    let external = api
        .create(1, end_user().uid("External", "out@example.com").json())
        .await;
    assert_eq!(
        consent_of(&external, "out@example.com")["status"],
        "unknown"
    );
}

/// An erasure of the opted-out holder and a PUT linking its address to another end user, at
/// once: whichever wins, an address the other end user ends up holding is opted out.
async fn an_erasure_racing_a_link_of_its_address_leaves_it_opted_out(api: TestApi) {
    for round in 0..4 {
        let uid = format!("race{round}@example.com");
        let holder = opted_out(&api, 1, "Email", &uid).await;
        let other = api.create(1, json!({"firstname": "Taker"})).await;
        let erase = format!("/api/EndUsers/{}/anonymize", id_of(&holder));
        let take = format!("/api/EndUsers/{}", id_of(&other));
        let body = json!({"uids": [{"uidType": "Email", "uid": uid}]});
        let (erased, taken) = tokio::join!(api.post(&erase, 1, json!({})), api.put(&take, 1, body));
        assert_eq!(erased.status, 200, "{:?}", erased.body);
        match taken.status {
            200 => assert_eq!(consent_of(&taken.body, &uid)["status"], "optedOut"),
            409 => {
                // The link came first and met the holder: linked again now, it is suppressed.
                let body = json!({"uids": [{"uidType": "Email", "uid": uid}]});
                let retried = api.put(&take, 1, body).await;
                assert_eq!(retried.status, 200, "{:?}", retried.body);
                assert_eq!(consent_of(&retried.body, &uid)["status"], "optedOut");
            }
            other => panic!("the link answered {other}: {:?}", taken.body),
        }
    }
}

/// The KMS adapter over moto's wire protocol: GenerateMac under an HMAC key gives each tenant
/// its digest key, the same for every process using that key and another under another key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_digests_are_stable_per_key_and_tenant() {
    use answerpal::domain::TenantId;
    use answerpal::domain::uid::{Uid, UidType};
    let uid = Uid::parse(UidType::Email, "kms@example.com", None).expect("a UID");
    let tenant = |id| TenantId::new(id).expect("a tenant");
    let kms = answerpal_testkit::kms_suppressions().await;
    let first = kms.digest(tenant(1), &uid).await.expect("a digest");
    assert_eq!(first, kms.digest(tenant(1), &uid).await.expect("a digest"));
    assert_ne!(first, kms.digest(tenant(2), &uid).await.expect("a digest"));
    let other_key = answerpal_testkit::kms_suppressions().await;
    assert_ne!(
        first,
        other_key.digest(tenant(1), &uid).await.expect("a digest")
    );
    let local = answerpal_testkit::local_suppressions();
    assert_ne!(
        first,
        local.digest(tenant(1), &uid).await.expect("a digest")
    );
}
