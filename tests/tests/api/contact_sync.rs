//! Sync on contact (SPEC 10): a new sender's `EndUserCreated` names its channel, and delivered as
//! the contact-sync queue delivers it, syncs the end user with the tenant's CRM (`FakeCrm` on
//! loopback); a failing CRM is reported for another delivery and never touches the recorded
//! message; other events, other tenants and other creations ask nothing; the local server's
//! outbox tap syncs in the background with retries; a desk's write racing the sync lands too.

use std::sync::Arc;
use std::time::Duration;

use answerpal::service::change_events::BatchResponse;
use answerpal::service::contact_sync::{self, ContactSyncer};
use answerpal::store::Table;
use answerpal::store::outbox::OutboxTap;
use answerpal_testkit::{CrmAnswer, FakeCrm, TestApi, contact_syncer, puts_timeline, queued};
use serde_json::{Value, json};

use crate::change_events::outbox;
use crate::crm_sync::{bearer, connected};
use crate::webhooks::{SIGNING_SECRET, set_up};

on_both_stores!(
    a_new_sender_is_synced_from_its_queued_creation,
    a_failing_crm_is_delivered_again_and_never_touches_the_message,
    only_a_webhook_lead_of_a_connected_tenant_asks_the_crm,
    the_local_server_syncs_its_leads_in_the_background_and_retries,
    a_contact_sync_racing_a_desk_update_applies_both,
);

const SENDER: &str = "contact-sync@example.com";
const SENDER_LOOKUP: &str = "uidType=Email&uid=contact-sync%40example.com";

/// The API with webhooks set up and tenant 1 connected to `crm`.
async fn connected_desk(api: &TestApi, crm: &FakeCrm) -> TestApi {
    let local = api.allowing_crm_loopback();
    set_up(&local, 1).await;
    connected(&local, crm, bearer()).await
}

fn crm_record() -> CrmAnswer {
    CrmAnswer::record(json!({
        "customerRef": "CRM-CONTACT-1",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "uids": [{"uidType": "Phone", "uid": "+32470123456"}],
    }))
}

/// A mail from [`SENDER`] on channel 1: the webhook's answer (ticket, end user, message).
async fn mail(api: &TestApi, message_id: &str) -> Value {
    let body = json!({"from": {"email": SENDER}, "to": "support@example.com",
        "subject": "Order", "messageID": message_id, "textBody": "Where is my order?"});
    let delivered = api
        .signed_webhook("email", 1, 1, &body, SIGNING_SECRET)
        .await;
    assert_eq!(delivered.status, 200, "{:?}", delivered.body);
    delivered.body
}

/// The `EndUserCreated` events of end user `id` in the outbox.
async fn created_events(api: &TestApi, id: &Value) -> Vec<Value> {
    outbox(api)
        .await
        .into_iter()
        .filter(|(pk, _)| pk == &format!("T#1#OUTBOX#{id}"))
        .flat_map(|(_, events)| events)
        .filter(|event| event["detailType"] == "EndUserCreated")
        .collect()
}

/// Delivers `events` as one queued batch to the contact-sync handler on `table`.
async fn deliver(table: Arc<dyn Table>, events: &[Value]) -> BatchResponse {
    let syncer = contact_syncer(table);
    contact_sync::handle_queued(syncer.table.as_ref(), &syncer.connector(), queued(events))
        .await
        .expect("an SQS event")
}

fn failed(answer: &BatchResponse) -> Vec<&str> {
    answer
        .failures
        .iter()
        .map(|failure| failure.item_identifier.as_str())
        .collect()
}

/// End user `id`'s ETag (its version).
async fn version(api: &TestApi, id: &Value) -> String {
    let read = api.get(&format!("/api/EndUsers/{id}"), 1).await;
    read.header("etag").expect("an ETag").to_owned()
}

/// The ticket and its messages as the desk reads them.
async fn conversation(api: &TestApi, delivered: &Value) -> (Value, Value) {
    let ticket = format!("/api/Tickets/{}", delivered["ticketID"]);
    let read = api.get(&ticket, 1).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    let messages = api.get(&format!("{ticket}/messages"), 1).await;
    assert_eq!(messages.status, 200, "{:?}", messages.body);
    (read.body, messages.body)
}

async fn a_new_sender_is_synced_from_its_queued_creation(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected_desk(&api, &crm).await;
    crm.answer(SENDER_LOOKUP, crm_record());
    let delivered = mail(&api, "contact-1").await;
    let id = delivered["endUserID"].clone();
    let before = conversation(&api, &delivered).await;
    let created = created_events(&api, &id).await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["channelID"], 1, "the lead names its channel");

    let answer = deliver(api.table().clone(), &created).await;
    assert!(answer.failures.is_empty(), "{answer:?}");
    assert_eq!(crm.received().len(), 1);
    let user = api.get(&format!("/api/EndUsers/{id}"), 1).await.body;
    assert_eq!(user["customerRef"], "CRM-CONTACT-1");
    assert_eq!(user["firstname"], "Ada");
    let uids: Vec<&str> = user["uids"]
        .as_array()
        .expect("uids")
        .iter()
        .filter_map(|uid| uid["uid"].as_str())
        .collect();
    assert_eq!(uids, [SENDER, "+32470123456"], "{user}");
    assert_eq!(version(&api, &id).await, "\"2\"");
    assert_eq!(conversation(&api, &delivered).await, before);
    let path = format!("/api/EndUsers/{id}/timeline?kinds=crmSynced");
    let entries = api.get(&path, 1).await.body;
    assert_eq!(
        entries["items"].as_array().map(Vec::len),
        Some(1),
        "{entries}"
    );

    // The queue delivers at least once: again, nothing changes.
    let again = deliver(api.table().clone(), &created).await;
    assert!(again.failures.is_empty(), "{again:?}");
    assert_eq!(version(&api, &id).await, "\"2\"");
}

async fn a_failing_crm_is_delivered_again_and_never_touches_the_message(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = connected_desk(&api, &crm).await;
    crm.answer(SENDER_LOOKUP, CrmAnswer::raw(503, b"{}".to_vec()));
    let delivered = mail(&api, "contact-2").await;
    let id = delivered["endUserID"].clone();
    let before = conversation(&api, &delivered).await;
    let lead = api.get(&format!("/api/EndUsers/{id}"), 1).await.body;
    let created = created_events(&api, &id).await;

    let answer = deliver(api.table().clone(), &created).await;
    assert_eq!(failed(&answer), ["m0"], "delivered again later");
    assert_eq!(api.get(&format!("/api/EndUsers/{id}"), 1).await.body, lead);
    assert_eq!(conversation(&api, &delivered).await, before);
    // A later message of the same sender is recorded as usual meanwhile.
    let next = mail(&api, "contact-2b").await;
    assert_eq!(next["ticketID"], delivered["ticketID"]);

    crm.answer(SENDER_LOOKUP, crm_record());
    let retried = deliver(api.table().clone(), &created).await;
    assert!(retried.failures.is_empty(), "{retried:?}");
    let user = api.get(&format!("/api/EndUsers/{id}"), 1).await.body;
    assert_eq!(user["customerRef"], "CRM-CONTACT-1");
    assert_eq!(crm.received().len(), 2);
}

async fn only_a_webhook_lead_of_a_connected_tenant_asks_the_crm(api: TestApi) {
    let crm = FakeCrm::start().await;
    crm.answer(SENDER_LOOKUP, crm_record());
    // Tenant 1 has no connector yet: its lead is done without asking anyone.
    let api = api.allowing_crm_loopback();
    set_up(&api, 1).await;
    let delivered = mail(&api, "contact-3").await;
    let id = delivered["endUserID"].clone();
    let created = created_events(&api, &id).await;
    let answer = deliver(api.table().clone(), &created).await;
    assert!(answer.failures.is_empty(), "{answer:?}");
    assert_eq!(version(&api, &id).await, "\"1\"");

    // Connected: an end user the API created, and other kinds of event, ask nothing either.
    let api = connected(&api, &crm, bearer()).await;
    let other = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "desk@example.com"}]}),
        )
        .await;
    let desk_created = created_events(&api, &other["endUserID"]).await;
    assert_eq!(desk_created[0].get("channelID"), None);
    let mut events = desk_created;
    events.push(json!({"detailType": "TicketCreated", "customerID": 1,
        "endUserID": id, "ticketID": delivered["ticketID"], "channelID": 1}));
    let answer = deliver(api.table().clone(), &events).await;
    assert!(answer.failures.is_empty(), "{answer:?}");
    assert!(crm.received().is_empty(), "{:?}", crm.received());

    // A message that is no EventBridge event is delivered again (then dead-lettered).
    let mut unreadable = queued(&[json!({"detailType": "EndUserCreated"})]);
    unreadable["Records"][0]["body"] = json!("not an event");
    let syncer = contact_syncer(api.table().clone());
    let answer =
        contact_sync::handle_queued(syncer.table.as_ref(), &syncer.connector(), unreadable)
            .await
            .expect("an SQS event");
    assert_eq!(failed(&answer), ["m0"]);
    let not_sqs = json!({"detail-type": "EndUserCreated"});
    let refused =
        contact_sync::handle_queued(syncer.table.as_ref(), &syncer.connector(), not_sqs).await;
    assert!(refused.is_err());
}

/// Waits (at most 10 s) until end user `id` reads with `customerRef`.
async fn synced_eventually(api: &TestApi, id: &Value) -> Value {
    for _ in 0..200 {
        let read = api.get(&format!("/api/EndUsers/{id}"), 1).await.body;
        if read["customerRef"] == "CRM-CONTACT-1" {
            return read;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("end user {id} was not synced in the background");
}

async fn the_local_server_syncs_its_leads_in_the_background_and_retries(api: TestApi) {
    let crm = FakeCrm::start().await;
    let (tap, announced) = OutboxTap::new(api.table().clone());
    let tapped: Arc<dyn Table> = Arc::new(tap);
    let local = api
        .wrapped(tapped.clone(), Duration::from_secs(30))
        .allowing_crm_loopback();
    let local = connected_desk(&local, &crm).await;
    const WAITS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(1)];
    let syncer: ContactSyncer = contact_syncer(tapped);
    tokio::spawn(contact_sync::sync_in_background(announced, syncer, &WAITS));

    crm.answer(SENDER_LOOKUP, CrmAnswer::raw(500, b"{}".to_vec()));
    let delivered = mail(&local, "contact-4").await;
    let id = delivered["endUserID"].clone();
    let before = conversation(&local, &delivered).await;
    for _ in 0..200 {
        if !crm.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        crm.received().len(),
        1,
        "the first attempt, in the background"
    );
    crm.answer(SENDER_LOOKUP, crm_record());
    let user = synced_eventually(&local, &id).await;
    assert_eq!(user["firstname"], "Ada");
    assert_eq!(crm.received().len(), 2, "one retry");
    assert_eq!(conversation(&local, &delivered).await, before);
}

async fn a_contact_sync_racing_a_desk_update_applies_both(api: TestApi) {
    let crm = FakeCrm::start().await;
    let api = Arc::new(connected_desk(&api, &crm).await);
    crm.answer(SENDER_LOOKUP, crm_record());
    let delivered = mail(&api, "contact-5").await;
    let id = delivered["endUserID"].clone();
    let created = created_events(&api, &id).await;
    let (table, _) = api.interleaved();
    let desk = Arc::clone(&api);
    let path = format!("/api/EndUsers/{id}");
    let racing_path = path.clone();
    table.race_when(
        puts_timeline,
        Box::new(move || {
            Box::pin(async move {
                let updated = desk.put(&racing_path, 1, json!({"city": "Ghent"})).await;
                assert_eq!(updated.status, 200, "{:?}", updated.body);
            })
        }),
    );
    let answer = deliver(table.clone() as Arc<dyn Table>, &created).await;
    assert!(answer.failures.is_empty(), "{answer:?}");
    assert!(
        table.has_run(),
        "the desk's update landed between the sync's read and write"
    );
    let read = api.get(&path, 1).await;
    assert_eq!(read.body["city"], "Ghent");
    assert_eq!(read.body["customerRef"], "CRM-CONTACT-1");
    assert_eq!(read.header("etag"), Some("\"3\""), "two writes");
}
