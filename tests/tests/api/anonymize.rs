//! Anonymize (SPEC 7's right to erasure): the record, its UIDs and customerRef in the request,
//! its tickets and messages in the request when few, else by the background erasure, which
//! resumes after a failure; afterwards no raw item of the store holds an erased value.

use std::sync::Arc;
use std::time::{Duration, Instant};

use answerpal::service::erasure;
use answerpal_testkit::{TestApi, erases_messages, puts_end_user};
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{set_up, sms, tickets_of};

on_both_stores!(
    an_anonymized_end_user_keeps_nothing_personal,
    a_long_history_is_erased_in_the_background,
    an_interrupted_erasure_resumes_where_it_stopped,
    a_uid_added_meanwhile_is_erased_too,
);

const PHONE: &str = "+32470000401";
const SOURCE_PHONE: &str = "+32470000402";

/// Zelda Quixote, with a value in every personal field.
async fn zelda(api: &TestApi) -> Value {
    api.create(
        1,
        json!({"firstname": "Zelda", "lastname": "Quixote", "company": "Quixcorp",
            "city": "Xanten", "street": "Zebrastraat", "customerRef": "ZQ-77", "country": "BE",
            "aiDocumentation": "prefers zebras", "attributes": {"hobby": "zither"},
            "uids": [{"uidType": "Email", "uid": "zelda.quixote@example.com"},
                     {"uidType": "Phone", "uid": PHONE}]}),
    )
    .await
}

/// What Zelda's record, UIDs and messages held.
const ZELDA: &[&str] = &[
    "Zelda",
    "Quixote",
    "Quixcorp",
    "Xanten",
    "Zebrastraat",
    "ZQ-77",
    "zebras",
    "zither",
    "zelda.quixote",
    "32470000401",
    "zanzibar",
];
/// What Yolanda, merged into Zelda, held.
const YOLANDA: &[&str] = &["Yolanda", "Quill", "yolanda.quill", "32470000402", "yodel"];

/// Fails unless no raw item of the store holds any of `values`.
async fn assert_nothing_left(api: &TestApi, values: &[&str]) {
    let items = api.raw_items().await;
    assert!(!items.is_empty());
    for item in &items {
        let text = format!("{item:?}");
        for value in values {
            assert!(!text.contains(value), "{value} is still in {text}");
        }
    }
}

async fn anonymize(api: &TestApi, user: &Value) -> Value {
    let path = format!("/api/EndUsers/{}/anonymize", id_of(user));
    let response = api.post(&path, 1, json!({})).await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    response.body
}

async fn messages_of(api: &TestApi, ticket: &Value) -> Vec<Value> {
    let path = format!("/api/Tickets/{}/messages?pageSize=100", ticket["ticketID"]);
    let page = api.get(&path, 1).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    page.body["items"].as_array().expect("items").clone()
}

fn assert_erased(ticket: &Value, messages: &[Value]) {
    assert_eq!(ticket["uid"], "[erased]", "{ticket:?}");
    assert_eq!(ticket["subject"], "[erased]");
    for message in messages {
        for field in ["from", "subject", "text"] {
            assert_eq!(message[field], "[erased]", "{message:?}");
        }
    }
}

async fn an_anonymized_end_user_keeps_nothing_personal(api: TestApi) {
    set_up(&api, 1).await;
    let user = zelda(&api).await;
    for (sid, text) in [("SM-z1", "zanzibar one"), ("SM-z2", "zanzibar two")] {
        assert_eq!(sms(&api, 1, PHONE, sid, text).await.status, 200);
    }
    let ticket = tickets_of(&api, 1, id_of(&user)).await[0].clone();
    let reply = format!("/api/Tickets/{}/messages", ticket["ticketID"]);
    assert_eq!(
        api.post(&reply, 1, json!({"text": "Dear Zelda"}))
            .await
            .status,
        201
    );

    let anonymized = anonymize(&api, &user).await;
    assert_eq!(anonymized["name"], "Anonymized end user");
    assert_eq!(
        anonymized["erasure"], "complete",
        "three messages: erased in the request"
    );
    assert!(anonymized["anonymizedAt"].is_string());
    for field in [
        "firstname",
        "lastname",
        "company",
        "city",
        "street",
        "customerRef",
        "country",
    ] {
        assert_eq!(anonymized[field], Value::Null, "{field}");
    }
    assert_eq!(anonymized["uids"], json!([]));
    assert_eq!(anonymized["attributes"], json!({}));
    assert_eq!(anonymized["customerType"], user["customerType"]);
    assert_eq!(anonymized["createdAt"], user["createdAt"]);
    let path = format!("/api/EndUsers/{}", id_of(&user));
    assert_eq!(api.get(&path, 1).await.body, anonymized);

    let tickets = tickets_of(&api, 1, id_of(&user)).await;
    assert_eq!(tickets.len(), 1, "statistics stay");
    assert_eq!(tickets[0]["messageCount"], 3);
    assert_erased(&tickets[0], &messages_of(&api, &tickets[0]).await);
    assert_nothing_left(&api, ZELDA).await;

    assert_eq!(
        anonymize(&api, &user).await,
        anonymized,
        "again: nothing more to do"
    );
    let given = api.put(&path, 1, json!({"city": "Xanten"})).await;
    assert_eq!(given.body["city"], "Xanten", "{:?}", given.body);
    let again = anonymize(&api, &user).await;
    assert_eq!(
        again["city"],
        Value::Null,
        "what was given since is erased too"
    );
    let twin = api
        .create(
            1,
            json!({"customerRef": "ZQ-77",
        "uids": [{"uidType": "Phone", "uid": PHONE}]}),
        )
        .await;
    let merge = format!("/api/EndUsers/{}/merge", id_of(&twin));
    let refused = api
        .post(&merge, 1, json!({"sourceEndUserID": id_of(&user)}))
        .await;
    assert_problem(&refused, 409);
}

async fn a_long_history_is_erased_in_the_background(api: TestApi) {
    set_up(&api, 1).await;
    let user = zelda(&api).await;
    let source = api
        .create(
            1,
            json!({"firstname": "Yolanda", "lastname": "Quill",
            "uids": [{"uidType": "Email", "uid": "yolanda.quill@example.com"},
                     {"uidType": "Phone", "uid": SOURCE_PHONE}]}),
        )
        .await;
    assert_eq!(
        sms(&api, 1, SOURCE_PHONE, "SM-y1", "yodel").await.status,
        200
    );
    let merge = format!("/api/EndUsers/{}/merge", id_of(&user));
    let merged = api
        .post(&merge, 1, json!({"sourceEndUserID": id_of(&source)}))
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    for n in 0..27 {
        let sent = sms(
            &api,
            1,
            PHONE,
            &format!("SM-z{n}"),
            &format!("zanzibar {n}"),
        )
        .await;
        assert_eq!(sent.status, 200);
    }

    let anonymized = anonymize(&api, &user).await;
    assert_eq!(anonymized["erasure"], "pending", "{anonymized:?}");
    assert_eq!(anonymized["uids"], json!([]));
    let path = format!("/api/EndUsers/{}", id_of(&user));
    // Given a value while its erasure is under way, and anonymized again: still pending.
    assert_eq!(
        api.put(&path, 1, json!({"city": "Xanten"})).await.status,
        200
    );
    let again = anonymize(&api, &user).await;
    assert_eq!(
        (&again["erasure"], &again["city"]),
        (&json!("pending"), &Value::Null)
    );
    let erased = erasure::run(
        api.table().as_ref(),
        Instant::now() + Duration::from_secs(60),
    )
    .await
    .expect("the erasure runs");
    assert_eq!((erased.finished, erased.complete), (1, true), "{erased:?}");
    let done = api.get(&path, 1).await.body;
    assert_eq!(done["erasure"], "complete", "{done:?}");
    let tickets = tickets_of(&api, 1, id_of(&user)).await;
    assert_eq!(tickets.len(), 2, "{tickets:?}");
    for ticket in &tickets {
        assert_erased(ticket, &messages_of(&api, ticket).await);
    }
    let records = api.get(&format!("{path}/merges"), 1).await.body;
    assert_eq!(records["items"][0]["source"], Value::Null, "{records:?}");
    assert_nothing_left(&api, ZELDA).await;
    assert_nothing_left(&api, YOLANDA).await;
    let again = erasure::run(
        api.table().as_ref(),
        Instant::now() + Duration::from_secs(60),
    )
    .await
    .expect("the erasure runs");
    assert_eq!(again.steps, 0, "nothing is left to do");
}

async fn an_interrupted_erasure_resumes_where_it_stopped(api: TestApi) {
    let (table, api) = api.interleaved();
    set_up(&api, 1).await;
    let user = zelda(&api).await;
    for n in 0..60 {
        let sent = sms(
            &api,
            1,
            PHONE,
            &format!("SM-r{n}"),
            &format!("zanzibar {n}"),
        )
        .await;
        assert_eq!(sent.status, 200);
    }
    assert_eq!(anonymize(&api, &user).await["erasure"], "pending");
    let until = || Instant::now() + Duration::from_secs(60);
    // The first run finds the ticket, then its first write erasing messages fails: the run
    // stops, and the next one goes on from the step that failed.
    table.fail(erases_messages);
    assert!(erasure::run(table.as_ref(), until()).await.is_err());
    assert!(table.has_run());
    let path = format!("/api/EndUsers/{}", id_of(&user));
    assert_eq!(api.get(&path, 1).await.body["erasure"], "pending");
    let resumed = erasure::run(table.as_ref(), until())
        .await
        .expect("the erasure resumes");
    assert_eq!(resumed.finished, 1, "{resumed:?}");
    assert_eq!(api.get(&path, 1).await.body["erasure"], "complete");
    let ticket = &tickets_of(&api, 1, id_of(&user)).await[0];
    assert_eq!(ticket["messageCount"], 60);
    assert_erased(ticket, &messages_of(&api, ticket).await);
    assert_nothing_left(&api, ZELDA).await;
}

/// The record an anonymization read is a condition of its write: a UID added between its read
/// and its write sends it back to a fresh read, and that UID is erased and freed too.
async fn a_uid_added_meanwhile_is_erased_too(api: TestApi) {
    let (table, api) = api.interleaved();
    let user = zelda(&api).await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    let racer = Arc::clone(&api);
    let racing_path = path.clone();
    table.race_when(
        puts_end_user,
        Box::new(move || {
            Box::pin(async move {
                let body = json!({"uids": [{"uidType": "Email", "uid": "zelda.late@example.com"}]});
                let added = racer.put(&racing_path, 1, body).await;
                assert_eq!(added.status, 200, "{:?}", added.body);
            })
        }),
    );
    let anonymized = anonymize(&api, &user).await;
    assert!(table.has_run());
    assert_eq!(anonymized["uids"], json!([]), "{anonymized:?}");
    assert_eq!(api.get(&path, 1).await.body["uids"], json!([]));
    let late = api
        .get("/api/EndUsers/byUid?uid=zelda.late@example.com", 1)
        .await;
    assert_problem(&late, 404);
    assert_nothing_left(&api, ZELDA).await;
    assert_nothing_left(&api, &["zelda.late"]).await;
}
