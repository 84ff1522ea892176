//! CRM sync (SPEC 10): the tenant's CRM on loopback (`FakeCrm`), asked by customerRef or else by
//! each primary UID with each auth type's header; its answer applied as a PUT with the UIDs
//! others hold reported, a held customerRef refused, every failing CRM a 502 that changes
//! nothing, the deployed connector refusing loopback, and races with writers of the same values.

use std::time::Duration;

use answerpal_testkit::{CrmAnswer, FakeCrm, TestApi};
use base64::Engine;
use serde_json::{Value, json};

on_both_stores!(
    a_sync_applies_the_record_found_by_customer_ref,
    without_a_customer_ref_each_primary_uid_is_asked_in_uid_type_order,
    each_auth_type_sends_its_header,
    a_customer_ref_another_end_user_holds_is_a_409_and_nothing_changes,
    every_failing_crm_is_a_502_and_nothing_changes,
    the_lookups_of_one_sync_share_five_seconds,
    a_tenant_without_a_connector_is_a_409,
    the_deployed_connector_refuses_loopback,
    a_keyed_sync_asks_the_crm_once,
    a_sync_racing_a_claim_of_the_same_uid_links_it_to_one_end_user,
    a_sync_racing_an_update_applies_both,
);

const RECORD_EMAIL: &str = "uidType=Email&uid=crm-sync%40example.com";

/// The API as the local server runs it with `CRM_ALLOW_LOOPBACK=true`, its tenant 1 connected
/// to `crm` with `auth` (the account fields of that type).
pub async fn connected(api: &TestApi, crm: &FakeCrm, auth: Value) -> TestApi {
    let local = api.allowing_crm_loopback();
    let mut body = json!({"apiBaseUrl": crm.base_url});
    if let (Some(body), Some(auth)) = (body.as_object_mut(), auth.as_object()) {
        body.extend(auth.clone());
    }
    let saved = local.put("/api/Customers/me", 1, body).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    local
}

pub fn bearer() -> Value {
    json!({"apiAuthenticationType": "Bearer", "apiToken": "crm-token-1"})
}

fn sync_path(id: &Value) -> String {
    format!("/api/EndUsers/{id}/sync")
}

async fn entries_of_kind(api: &TestApi, id: &Value, kind: &str) -> Vec<Value> {
    let path = format!("/api/EndUsers/{id}/timeline?kinds={kind}&pageSize=100");
    let page = api.get(&path, 1).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    page.body["items"].as_array().cloned().unwrap_or_default()
}

async fn a_sync_applies_the_record_found_by_customer_ref(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, bearer()).await;
    let other = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "held@example.com"}]}),
        )
        .await["endUserID"]
        .clone();
    let body = json!({"firstname": "J", "company": "Old", "customerRef": "C-1",
        "uids": [{"uidType": "Email", "uid": "crm-sync@example.com"}]});
    let id = api.create(1, body).await["endUserID"].clone();
    crm.answer(
        "customerRef=C-1",
        CrmAnswer::record(json!({
            "customerRef": "C-1", "firstname": "Jane", "lastname": "Doe", "company": null,
            "customerType": "Customer", "lang": "fr", "country": "BE", "unknownMember": [1],
            "uids": [
                {"uidType": "Email", "uid": "CRM-SYNC@example.com"},
                {"uidType": "Phone", "uid": "0470 12 34 56"},
                {"uidType": "Email", "uid": "held@example.com"}
            ]
        })),
    );

    let synced = api.post(&sync_path(&id), 1, json!({})).await;
    assert_eq!(synced.status, 200, "{:?}", synced.body);
    let user = &synced.body;
    assert_eq!(user["firstname"], "Jane");
    assert_eq!(user["lastname"], "Doe");
    assert_eq!(user["company"], "Old", "null keeps the stored value");
    assert_eq!(user["customerType"], "Customer");
    assert_eq!(user["lang"], "fr");
    assert_eq!(user["country"], "BE");
    assert!(user["syncedAt"].is_string(), "{user}");
    assert_eq!(
        user["conflicts"],
        json!([{"uidType": "Email", "uid": "held@example.com", "endUserID": other}])
    );
    let uids: Vec<&str> = user["uids"]
        .as_array()
        .expect("uids")
        .iter()
        .filter_map(|u| u["uid"].as_str())
        .collect();
    assert_eq!(uids, ["crm-sync@example.com", "+32470123456"]);
    let version = synced.header("etag").map(str::to_owned);
    assert!(version.is_some());

    let received = crm.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].target, "/crm/answerpal/lookup?customerRef=C-1");
    assert_eq!(received[0].headers["authorization"], "Bearer crm-token-1");
    assert_eq!(received[0].headers["accept"], "application/json");

    let read = api.get(&format!("/api/EndUsers/{id}"), 1).await;
    assert_eq!(read.body["firstname"], "Jane");
    assert_eq!(read.header("etag").map(str::to_owned), version);
    let held = api.get(&format!("/api/EndUsers/{other}"), 1).await.body;
    assert_eq!(held["uids"][0]["uid"], "held@example.com", "not moved");
    let synced_entries = entries_of_kind(&api, &id, "crmSynced").await;
    assert_eq!(synced_entries.len(), 1);
    assert_eq!(
        synced_entries[0]["changedFields"],
        json!([
            "firstname",
            "lastname",
            "customerType",
            "lang",
            "country",
            "uids"
        ])
    );
    let linked = entries_of_kind(&api, &id, "uidLinked").await;
    assert_eq!(linked[0]["uid"], "+32470123456");

    // The same record again changes nothing: no write, no entry.
    let again = api.post(&sync_path(&id), 1, json!({})).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("etag").map(str::to_owned), version);
    assert_eq!(entries_of_kind(&api, &id, "crmSynced").await.len(), 1);
}

async fn the_lookups_of_one_sync_share_five_seconds(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, bearer()).await;
    let body = json!({"uids": [
        {"uidType": "Email", "uid": "crm-sync@example.com"},
        {"uidType": "Phone", "uid": "+32470000778"},
        {"uidType": "WhatsApp", "uid": "+32470000779"}
    ]});
    let id = api.create(1, body).await["endUserID"].clone();
    // Each lookup within its own 3 s, but not all three within the sync's 5 s.
    let slow_unknown = || CrmAnswer::raw(404, Vec::new()).after(Duration::from_secs(2));
    for query in [
        RECORD_EMAIL,
        "uidType=Phone&uid=%2B32470000778",
        "uidType=WhatsApp&uid=%2B32470000779",
    ] {
        crm.answer(query, slow_unknown());
    }
    let started = std::time::Instant::now();
    let synced = api.post(&sync_path(&id), 1, json!({})).await;
    let took = started.elapsed();
    assert_eq!(synced.status, 502, "{:?}", synced.body);
    let detail = synced.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("left of the sync's time"), "{detail}");
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(7),
        "{took:?}"
    );
    assert_eq!(crm.received().len(), 3);
}

async fn without_a_customer_ref_each_primary_uid_is_asked_in_uid_type_order(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, bearer()).await;
    let body = json!({"uids": [
        {"uidType": "Phone", "uid": "+32470000777"},
        {"uidType": "Email", "uid": "second@example.com"},
        {"uidType": "Email", "uid": "crm-sync@example.com", "isPrimary": true}
    ]});
    let id = api.create(1, body).await["endUserID"].clone();
    crm.answer(
        "uidType=Phone&uid=%2B32470000777",
        CrmAnswer::record(json!({"customerRef": "C-9", "company": "Acme"})),
    );
    let synced = api.post(&sync_path(&id), 1, json!({})).await;
    assert_eq!(synced.status, 200, "{:?}", synced.body);
    assert_eq!(
        synced.body["customerRef"], "C-9",
        "a free customerRef is claimed"
    );
    assert_eq!(synced.body["company"], "Acme");
    let asked: Vec<String> = crm.received().into_iter().map(|r| r.target).collect();
    assert_eq!(
        asked,
        [
            format!("/crm/answerpal/lookup?{RECORD_EMAIL}"),
            "/crm/answerpal/lookup?uidType=Phone&uid=%2B32470000777".to_owned()
        ]
    );
    let by_ref = api.get("/api/EndUsers/byRef/C-9/timeline", 1).await;
    assert_eq!(
        by_ref.body["items"][0]["kind"], "crmSynced",
        "{:?}",
        by_ref.body
    );

    // A CRM that knows none of them: 200 as it was, nothing written.
    let stranger = api
        .create(
            1,
            json!({"uids": [{"uidType": "Webchat", "uid": "chat-unknown"}]}),
        )
        .await["endUserID"]
        .clone();
    let unknown = api.post(&sync_path(&stranger), 1, json!({})).await;
    assert_eq!(unknown.status, 200, "{:?}", unknown.body);
    assert_eq!(unknown.header("etag"), Some("\"1\""), "not written");
    assert_eq!(unknown.body["conflicts"], json!([]));
}

async fn each_auth_type_sends_its_header(api: TestApi) {
    let basic = base64::engine::general_purpose::STANDARD.encode("robot:pa:ss");
    let cases = [
        (json!({"apiAuthenticationType": "None"}), None, None),
        (
            json!({"apiAuthenticationType": "Basic", "apiUsername": "robot", "apiPassword": "pa:ss"}),
            Some(format!("Basic {basic}")),
            None,
        ),
        (bearer(), Some("Bearer crm-token-1".to_owned()), None),
        (
            json!({"apiAuthenticationType": "ApiKey", "apiToken": "key-7"}),
            None,
            Some("key-7"),
        ),
    ];
    let id = api.create(1, json!({"customerRef": "C-AUTH"})).await["endUserID"].clone();
    for (auth, authorization, api_key) in cases {
        let crm = FakeCrm::start().await;
        let local = connected(&api, &crm, auth.clone()).await;
        let synced = local.post(&sync_path(&id), 1, json!({})).await;
        assert_eq!(synced.status, 200, "{auth}: {:?}", synced.body);
        let headers = &crm.received()[0].headers;
        assert_eq!(
            headers.get("authorization"),
            authorization.as_ref(),
            "{auth}"
        );
        assert_eq!(
            headers.get("x-api-key").map(String::as_str),
            api_key,
            "{auth}"
        );
    }
}

async fn a_customer_ref_another_end_user_holds_is_a_409_and_nothing_changes(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, bearer()).await;
    let holder = api.create(1, json!({"customerRef": "C-HELD"})).await["endUserID"].clone();
    let body = json!({"uids": [{"uidType": "Email", "uid": "crm-sync@example.com"}]});
    let id = api.create(1, body).await["endUserID"].clone();
    crm.answer(
        RECORD_EMAIL,
        CrmAnswer::record(json!({"customerRef": "C-HELD", "firstname": "Jane"})),
    );
    let refused = api.post(&sync_path(&id), 1, json!({})).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.body["type"], "/problems/conflict");
    assert_eq!(refused.body["endUserID"], holder);
    assert!(refused.body["errors"]["customerRef"].is_array());
    let read = api.get(&format!("/api/EndUsers/{id}"), 1).await;
    assert_eq!(read.header("etag"), Some("\"1\""), "nothing written");
    assert_eq!(read.body["firstname"], Value::Null);
    assert!(entries_of_kind(&api, &id, "crmSynced").await.is_empty());
}

async fn every_failing_crm_is_a_502_and_nothing_changes(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, bearer()).await;
    let id = api.create(1, json!({"customerRef": "C-FAIL"})).await["endUserID"].clone();
    let over = vec![b' '; (1 << 20) + 1];
    let slow = CrmAnswer::record(json!({"firstname": "Late"})).after(Duration::from_millis(3500));
    let failures = [
        (CrmAnswer::raw(500, b"{}".to_vec()), "answered 500"),
        (CrmAnswer::raw(401, b"{}".to_vec()), "answered 401"),
        (
            CrmAnswer::raw(302, Vec::new()).with_header("location", "http://127.0.0.1:9/"),
            "redirect",
        ),
        (CrmAnswer::raw(200, b"{not json".to_vec()), "not a record"),
        (CrmAnswer::raw(200, b"[]".to_vec()), "not a record"),
        (CrmAnswer::raw(200, over), "over 1048576 bytes"),
        (
            CrmAnswer::record(json!({"firstname": "Jane", "lang": "not a language!"})),
            "lang",
        ),
        (
            CrmAnswer::record(json!({"uids": [{"uidType": "Fax", "uid": "1"}]})),
            "uids[0].uidType",
        ),
        (slow, "within 3 s"),
    ];
    for (answer, detail) in failures {
        crm.answer("customerRef=C-FAIL", answer);
        let before = crm.received().len();
        let failed = api.post(&sync_path(&id), 1, json!({})).await;
        assert_eq!(failed.status, 502, "{detail}: {:?}", failed.body);
        assert_eq!(failed.body["type"], "/problems/crm-unavailable");
        let said = failed.body["detail"].as_str().unwrap_or_default();
        assert!(said.contains(detail), "{detail}: {said}");
        assert_eq!(
            crm.received().len(),
            before + 1,
            "{detail}: one request, no redirect"
        );
    }
    // Nothing listening at the base URL.
    let closed = api
        .put(
            "/api/Customers/me",
            1,
            json!({"apiBaseUrl": "http://127.0.0.1:1/"}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    let unreachable = api.post(&sync_path(&id), 1, json!({})).await;
    assert_eq!(unreachable.status, 502, "{:?}", unreachable.body);
    let read = api.get(&format!("/api/EndUsers/{id}"), 1).await;
    assert_eq!(read.header("etag"), Some("\"1\""), "nothing written");
    assert!(entries_of_kind(&api, &id, "crmSynced").await.is_empty());
}

async fn a_tenant_without_a_connector_is_a_409(api: TestApi) {
    let id = api.create(1, json!({"firstname": "Ola"})).await["endUserID"].clone();
    let none = api.post(&sync_path(&id), 1, json!({})).await;
    assert_eq!(none.status, 409, "{:?}", none.body);
    assert_eq!(none.body["type"], "/problems/no-crm-connector");
    assert!(
        none.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("apiBaseUrl"))
    );

    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, json!({"apiAuthenticationType": "Bearer"})).await;
    let no_token = api.post(&sync_path(&id), 1, json!({})).await;
    assert_eq!(no_token.status, 409, "{:?}", no_token.body);
    assert!(
        no_token.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("apiToken"))
    );
    assert!(crm.received().is_empty());

    let missing = api.post("/api/EndUsers/987654321/sync", 1, json!({})).await;
    assert_eq!(missing.status, 404);
}

async fn the_deployed_connector_refuses_loopback(api: TestApi) {
    let crm = FakeCrm::start().await;
    connected(&api, &crm, json!({"apiAuthenticationType": "None"})).await;
    let id = api.create(1, json!({"customerRef": "C-1"})).await["endUserID"].clone();
    crm.answer(
        "customerRef=C-1",
        CrmAnswer::record(json!({"firstname": "Jane"})),
    );
    // The saved URL is plain http to loopback, which only the local server's flag allows.
    let refused = api.post(&sync_path(&id), 1, json!({})).await;
    assert_eq!(refused.status, 502, "{:?}", refused.body);
    assert!(crm.received().is_empty(), "nothing was sent");
}

async fn a_keyed_sync_asks_the_crm_once(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, bearer()).await;
    let id = api.create(1, json!({"customerRef": "C-KEY"})).await["endUserID"].clone();
    crm.answer(
        "customerRef=C-KEY",
        CrmAnswer::record(json!({"firstname": "Jane"})),
    );
    let keyed = [("idempotency-key", "sync-once")];
    let first = api
        .with_headers("POST", &sync_path(&id), 1, &keyed, Value::Null)
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let replay = api
        .with_headers("POST", &sync_path(&id), 1, &keyed, Value::Null)
        .await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, first.body);
    assert_eq!(crm.received().len(), 1);
}

async fn a_sync_racing_a_claim_of_the_same_uid_links_it_to_one_end_user(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, bearer()).await;
    for round in 0..4 {
        let reference = format!("C-RACE-{round}");
        let phone = format!("+3247000{round:04}");
        let id = api.create(1, json!({"customerRef": reference})).await["endUserID"].clone();
        let record = json!({"uids": [{"uidType": "Phone", "uid": phone}]});
        crm.answer(
            &format!("customerRef={reference}"),
            CrmAnswer::record(record),
        );
        let claim = json!({"uids": [{"uidType": "Phone", "uid": phone}]});
        let sync = sync_path(&id);
        let (synced, created) = tokio::join!(
            api.post(&sync, 1, json!({})),
            api.post("/api/EndUsers", 1, claim)
        );
        assert_eq!(synced.status, 200, "{:?}", synced.body);
        let holder = api
            .get(
                &format!(
                    "/api/EndUsers/byUid?uidType=Phone&uid={}",
                    phone.replace('+', "%2B")
                ),
                1,
            )
            .await;
        assert_eq!(holder.status, 200, "{:?}", holder.body);
        let holder_id = holder.body["endUserID"].clone();
        let linked = synced.body["uids"]
            .as_array()
            .is_some_and(|u| !u.is_empty());
        match created.status {
            201 => {
                assert!(!linked, "both hold {phone}");
                assert_eq!(holder_id, created.body["endUserID"]);
                assert_eq!(synced.body["conflicts"][0]["endUserID"], holder_id);
            }
            409 => {
                assert!(linked, "{:?}", synced.body);
                assert_eq!(holder_id, id);
            }
            other => panic!("create answered {other}: {:?}", created.body),
        }
    }
}

async fn a_sync_racing_an_update_applies_both(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected(&api, &crm, bearer()).await;
    let id = api.create(1, json!({"customerRef": "C-BOTH"})).await["endUserID"].clone();
    crm.answer(
        "customerRef=C-BOTH",
        CrmAnswer::record(json!({"company": "Acme"})),
    );
    let path = format!("/api/EndUsers/{id}");
    let sync = sync_path(&id);
    let (synced, updated) = tokio::join!(
        api.post(&sync, 1, json!({})),
        api.put(&path, 1, json!({"city": "Ghent"}))
    );
    assert_eq!(synced.status, 200, "{:?}", synced.body);
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    let read = api.get(&path, 1).await;
    assert_eq!(read.body["company"], "Acme");
    assert_eq!(read.body["city"], "Ghent");
    assert_eq!(read.header("etag"), Some("\"3\""), "two writes");
}
