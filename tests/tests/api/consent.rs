//! Consent per UID (SPEC 9): set by the desk (PUT `uids` entries, assign) and by Twilio's STOP
//! and START in the write that records the message, listed newest first, filtered on, carried
//! by merge and undo, announced as `UidConsentChanged`.

use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::change_events::outbox;
use crate::support::*;
use crate::webhooks::{TWILIO_TOKEN, set_up, sms, tickets_of};

on_both_stores!(
    a_new_uid_has_unknown_consent_until_the_desk_sets_it,
    the_desk_sets_consent_only_to_the_two_decisions,
    twilio_stop_and_start_set_consent_with_the_message,
    a_redelivered_stop_changes_nothing_twice,
    an_unknown_sender_texting_stop_becomes_an_opted_out_lead,
    the_list_filters_on_consent,
    consent_travels_with_its_uid_through_merge_and_undo,
    a_value_changed_in_place_starts_over,
    consent_changes_are_announced,
    a_stop_racing_a_desk_update_loses_neither,
);

async fn history(api: &TestApi, tenant: u64, id: u64) -> Vec<Value> {
    let found = api
        .get(&format!("/api/EndUsers/{id}/consent"), tenant)
        .await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    found.body["items"].as_array().cloned().expect("items")
}

/// `(uid, status, source)` of each history entry, newest first.
fn entries(items: &[Value]) -> Vec<(String, String, String)> {
    items
        .iter()
        .map(|e| {
            let text = |name: &str| e[name].as_str().unwrap_or_default().to_owned();
            (text("uid"), text("status"), text("source"))
        })
        .collect()
}

async fn a_new_uid_has_unknown_consent_until_the_desk_sets_it(api: TestApi) {
    let user = api
        .create(1, end_user().uid("Email", "consent@example.com").json())
        .await;
    let id = id_of(&user);
    assert_eq!(
        consent_of(&user, "consent@example.com"),
        &json!({"status": "unknown", "at": null, "source": null})
    );
    assert!(history(&api, 1, id).await.is_empty());

    let uid_id = user["uids"][0]["endUserUIDID"].clone();
    let path = format!("/api/EndUsers/{id}");
    let entry = |status: &str| json!({"uids": [{"endUserUIDID": uid_id, "consent": status}]});
    let out = api.put(&path, 1, entry("optedOut")).await;
    assert_eq!(out.status, 200, "{:?}", out.body);
    let consent = consent_of(&out.body, "consent@example.com");
    assert_eq!(consent["status"], "optedOut");
    assert_eq!(consent["source"], "api");
    assert!(consent["at"].is_string());
    // The same decision again records nothing; the other one does.
    let again = api.put(&path, 1, entry("optedOut")).await;
    assert_eq!(again.body["updatedAt"], out.body["updatedAt"]);
    assert_eq!(again.header("etag"), out.header("etag"));
    let back = api.put(&path, 1, entry("optedIn")).await;
    assert_eq!(
        consent_of(&back.body, "consent@example.com")["status"],
        "optedIn"
    );

    let items = history(&api, 1, id).await;
    let expected = [
        ("consent@example.com", "optedIn", "api"),
        ("consent@example.com", "optedOut", "api"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(u, s, o)| ((*u).into(), (*s).into(), (*o).into()))
        .collect();
    assert_eq!(entries(&items), expected);
    assert_eq!(items[0]["uidType"], "Email");
    assert!(items[0]["at"].is_string());

    // A new UID given its consent on create, by an entry without ID, and by assign.
    let created = api
        .create(
            1,
            json!({"uids": [{"uidType": "Phone", "uid": "+32470111222", "consent": "optedIn"}]}),
        )
        .await;
    assert_eq!(consent_of(&created, "+32470111222")["status"], "optedIn");
    let assign = json!({"endUserID": id, "uidType": "Webchat", "uid": "visitor-c1",
        "consent": "optedOut"});
    let linked = api.post("/api/EndUserUIDs/assign", 1, assign.clone()).await;
    assert_eq!(linked.status, 201, "{:?}", linked.body);
    assert_eq!(linked.body["consent"]["status"], "optedOut");
    // Assign of a held UID with another decision changes it (200).
    let mut opted_in = assign;
    opted_in["consent"] = json!("optedIn");
    let changed = api.post("/api/EndUserUIDs/assign", 1, opted_in).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["consent"]["status"], "optedIn");
    assert_eq!(history(&api, 1, id).await.len(), 4);
}

async fn the_desk_sets_consent_only_to_the_two_decisions(api: TestApi) {
    for bad in [json!("unknown"), json!("OPTEDOUT"), json!("yes"), json!("")] {
        let body =
            json!({"uids": [{"uidType": "Email", "uid": "bad@example.com", "consent": bad}]});
        let refused = api.post("/api/EndUsers", 1, body).await;
        assert_field_error(&refused, "uids[0].consent");
    }
    let user = api.create(1, json!({})).await;
    let assign = json!({"endUserID": id_of(&user), "uidType": "Email", "uid": "a@example.com",
        "consent": "unknown"});
    let refused = api.post("/api/EndUserUIDs/assign", 1, assign).await;
    assert_field_error(&refused, "consent");
    let missing = api.get("/api/EndUsers/987654321/consent", 1).await;
    assert_problem(&missing, 404);
    let listed = api.get("/api/EndUsers?consent=maybe", 1).await;
    assert_field_error(&listed, "consent");
    let paged = api.get("/api/EndUsers?cursor=&consent=optedOut", 1).await;
    assert_problem(&paged, 400);
}

async fn twilio_stop_and_start_set_consent_with_the_message(api: TestApi) {
    set_up(&api, 1).await;
    let from = "+32470555001";
    let first = sms(&api, 1, from, "SM-c-1", "Hello").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let user = resolve_phone(&api, from).await;
    let id = id_of(&user);
    assert_eq!(consent_of(&user, from)["status"], "unknown");

    let params = [
        ("From", from),
        ("To", "+32470999001"),
        ("Body", "please stop these"),
        ("MessageSid", "SM-c-2"),
        ("OptOutType", "STOP"),
    ];
    assert_eq!(api.twilio(1, 2, &params, TWILIO_TOKEN).await.status, 200);
    let user = resolve_phone(&api, from).await;
    let consent = consent_of(&user, from);
    assert_eq!(consent["status"], "optedOut");
    assert_eq!(consent["source"], "twilio:SM-c-2");
    // The message itself is recorded.
    let tickets = tickets_of(&api, 1, id).await;
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["messageCount"], 2);

    // Without OptOutType, a body that is exactly a keyword, any case; anything else is a message.
    assert_eq!(sms(&api, 1, from, "SM-c-3", " start ").await.status, 200);
    assert_eq!(
        consent_of(&resolve_phone(&api, from).await, from)["status"],
        "optedIn"
    );
    assert_eq!(
        sms(&api, 1, from, "SM-c-4", "stop it now").await.status,
        200
    );
    assert_eq!(
        consent_of(&resolve_phone(&api, from).await, from)["status"],
        "optedIn"
    );
    assert_eq!(
        sms(&api, 1, from, "SM-c-5", "Unsubscribe").await.status,
        200
    );
    let items = history(&api, 1, id).await;
    let sources: Vec<String> = entries(&items).into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(sources, ["twilio:SM-c-5", "twilio:SM-c-3", "twilio:SM-c-2"]);
    assert_eq!(tickets_of(&api, 1, id).await[0]["messageCount"], 5);
}

async fn resolve_phone(api: &TestApi, phone: &str) -> Value {
    let path = format!("/api/EndUsers/byUid?uid={}", phone.replace('+', "%2B"));
    let found = api.get(&path, 1).await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    found.body
}

async fn a_redelivered_stop_changes_nothing_twice(api: TestApi) {
    set_up(&api, 1).await;
    let from = "+32470555002";
    assert_eq!(sms(&api, 1, from, "SM-r-1", "hi").await.status, 200);
    assert_eq!(sms(&api, 1, from, "SM-r-2", "STOP").await.status, 200);
    // An opt-in in between, then the STOP delivered again: the redelivery is the same message.
    assert_eq!(sms(&api, 1, from, "SM-r-3", "START").await.status, 200);
    let before = resolve_phone(&api, from).await;
    let redelivered = sms(&api, 1, from, "SM-r-2", "STOP").await;
    assert_eq!(redelivered.status, 200);
    let after = resolve_phone(&api, from).await;
    assert_eq!(consent_of(&after, from)["status"], "optedIn");
    assert_eq!(after, before, "the redelivery wrote nothing");
    assert_eq!(history(&api, 1, id_of(&before)).await.len(), 2);
    let tickets = tickets_of(&api, 1, id_of(&before)).await;
    assert_eq!(tickets[0]["messageCount"], 3);
}

async fn an_unknown_sender_texting_stop_becomes_an_opted_out_lead(api: TestApi) {
    set_up(&api, 1).await;
    let from = "+32470555003";
    assert_eq!(sms(&api, 1, from, "SM-u-1", "STOP").await.status, 200);
    let user = resolve_phone(&api, from).await;
    assert_eq!(user["customerType"], "Lead");
    let consent = consent_of(&user, from);
    assert_eq!(consent["status"], "optedOut");
    assert_eq!(consent["source"], "twilio:SM-u-1");
    assert_eq!(tickets_of(&api, 1, id_of(&user)).await.len(), 1);
}

async fn the_list_filters_on_consent(api: TestApi) {
    let out = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "out@example.com", "consent": "optedOut"},
                {"uidType": "Email", "uid": "in@example.com", "consent": "optedIn"}]}),
        )
        .await;
    let unknown = api
        .create(1, end_user().uid("Email", "unknown@example.com").json())
        .await;
    let ids = |page: &Value| -> Vec<u64> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    };
    let listed = api.get("/api/EndUsers?consent=optedOut", 1).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(ids(&listed.body), [id_of(&out)]);
    let opted_in = api.get("/api/EndUsers?consent=optedIn", 1).await;
    assert_eq!(ids(&opted_in.body), [id_of(&out)]);
    let never = api.get("/api/EndUsers?consent=unknown", 1).await;
    assert_eq!(ids(&never.body), [id_of(&unknown)]);
    assert_eq!(never.body["totalCount"], 1);
}

async fn consent_travels_with_its_uid_through_merge_and_undo(api: TestApi) {
    let target = api
        .create(1, end_user().uid("Email", "target@example.com").json())
        .await;
    let source = api
        .create(
            1,
            json!({"uids": [{"uidType": "Phone", "uid": "+32470555010", "consent": "optedOut"}]}),
        )
        .await;
    let (target_id, source_id) = (id_of(&target), id_of(&source));
    let merged = api
        .post(
            &format!("/api/EndUsers/{target_id}/merge"),
            1,
            json!({"sourceEndUserID": source_id}),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(
        consent_of(&merged.body, "+32470555010")["status"],
        "optedOut"
    );
    assert_eq!(history(&api, 1, target_id).await.len(), 1);
    // Changed on the target after the merge: the undo takes the change back with the UID.
    let uid_id = merged.body["uids"]
        .as_array()
        .expect("uids")
        .iter()
        .find(|u| u["uid"] == "+32470555010")
        .expect("moved")["endUserUIDID"]
        .clone();
    let opted_in = json!({"uids": [{"endUserUIDID": uid_id, "consent": "optedIn"}]});
    let changed = api
        .put(&format!("/api/EndUsers/{target_id}"), 1, opted_in)
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let merge_id = merged.body["mergeID"].as_u64().expect("mergeID");
    let undone = api
        .post(
            &format!("/api/EndUsers/{target_id}/merges/{merge_id}/undo"),
            1,
            json!({}),
        )
        .await;
    assert_eq!(undone.status, 200, "{:?}", undone.body);
    let back = &undone.body["source"];
    assert_eq!(consent_of(back, "+32470555010")["status"], "optedIn");
    let statuses: Vec<String> = entries(&history(&api, 1, source_id).await)
        .into_iter()
        .map(|(_, status, _)| status)
        .collect();
    assert_eq!(statuses, ["optedIn", "optedOut"]);
    assert!(history(&api, 1, target_id).await.is_empty());
}

async fn a_value_changed_in_place_starts_over(api: TestApi) {
    let user = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "old@example.com", "consent": "optedOut"}]}),
        )
        .await;
    let uid_id = user["uids"][0]["endUserUIDID"].clone();
    let moved = json!({"uids": [{"endUserUIDID": uid_id, "uid": "new@example.com"}]});
    let changed = api
        .put(&format!("/api/EndUsers/{}", id_of(&user)), 1, moved)
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(
        consent_of(&changed.body, "new@example.com")["status"],
        "unknown"
    );
    assert!(history(&api, 1, id_of(&user)).await.is_empty());
}

async fn consent_changes_are_announced(api: TestApi) {
    let user = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "told@example.com", "consent": "optedIn"},
                {"uidType": "Email", "uid": "quiet@example.com"}]}),
        )
        .await;
    let id = id_of(&user);
    let uid_id = user["uids"][0]["endUserUIDID"].as_u64().expect("an ID");
    let out = json!({"uids": [{"endUserUIDID": uid_id, "consent": "optedOut"}]});
    assert_eq!(
        api.put(&format!("/api/EndUsers/{id}"), 1, out).await.status,
        200
    );
    let consent_events: Vec<Value> = outbox(&api)
        .await
        .into_iter()
        .flat_map(|(_, events)| events)
        .filter(|e| e["detailType"] == "UidConsentChanged")
        .collect();
    assert_eq!(consent_events.len(), 2, "{consent_events:?}");
    for (event, (version, status)) in consent_events.iter().zip([(1, "optedIn"), (2, "optedOut")]) {
        assert_eq!(event["endUserID"], id);
        assert_eq!(event["endUserUIDID"], uid_id);
        assert_eq!(event["uidType"], "Email");
        assert_eq!(event["consent"], status);
        assert_eq!(event["version"], version);
        assert!(!event.to_string().contains("told@example.com"), "{event}");
    }
}

/// A STOP and a desk update of the same end user at once: the loser of the version condition
/// reads again, so both land.
async fn a_stop_racing_a_desk_update_loses_neither(api: TestApi) {
    set_up(&api, 1).await;
    let from = "+32470555020";
    assert_eq!(sms(&api, 1, from, "SM-x-1", "hi").await.status, 200);
    let id = id_of(&resolve_phone(&api, from).await);
    for round in 0..4 {
        let sid = format!("SM-x-stop-{round}");
        let keyword = if round % 2 == 0 { "STOP" } else { "START" };
        let path = format!("/api/EndUsers/{id}");
        let name = format!("Racer {round}");
        let (stop, put) = tokio::join!(
            sms(&api, 1, from, &sid, keyword),
            api.put(&path, 1, json!({ "name": name }))
        );
        assert_eq!(stop.status, 200, "{:?}", stop.body);
        assert_eq!(put.status, 200, "{:?}", put.body);
        let user = resolve_phone(&api, from).await;
        assert_eq!(user["name"], name);
        let wanted = if round % 2 == 0 {
            "optedOut"
        } else {
            "optedIn"
        };
        assert_eq!(consent_of(&user, from)["status"], wanted);
    }
    assert_eq!(history(&api, 1, id).await.len(), 4);
}
