//! An inbound message racing the desk (SPEC 5): a DELETE, PUT, assign or close landing between
//! the webhook's reads and its write sends it back to a fresh read, so the message never lands
//! on a deleted end user, on the UID's former holder or on a closed ticket; a web chat e-mail is
//! linked in the message's own write or not at all.

use std::sync::Arc;

use answerpal_testkit::{Interleaved, TestApi, puts_uid_index};
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{resolve, set_up, sms, tickets_of};

on_both_stores!(
    a_sender_deleted_meanwhile_becomes_a_new_lead,
    a_uid_moved_meanwhile_takes_the_message_to_its_new_holder,
    a_ticket_closed_meanwhile_leaves_the_message_a_new_ticket,
    an_email_taken_meanwhile_is_not_linked,
    an_email_link_survives_a_concurrent_assign,
    a_failed_email_link_fails_the_delivery_and_its_retry_links_it,
);

const SENDER: &str = "+32470000101";

/// `api`'s store behind an [`Interleaved`] table, the whole API on it, tenant 1 set up, and one
/// SMS from [`SENDER`] recorded: its end user and ticket.
async fn with_a_first_message(api: TestApi) -> (Arc<TestApi>, Arc<Interleaved>, u64, u64) {
    let (table, api) = api.interleaved();
    set_up(&api, 1).await;
    let first = sms(&api, 1, SENDER, "SM-1", "first").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let user = id_of(&resolve(&api, 1, SENDER).await);
    let ticket = tickets_of(&api, 1, user).await[0]["ticketID"]
        .as_u64()
        .expect("a ticket");
    (api, table, user, ticket)
}

/// Runs `change` right before the next message's write.
fn race(table: &Interleaved, api: &Arc<TestApi>, change: fn(Arc<TestApi>) -> Racing) {
    let api = Arc::clone(api);
    table.race(Box::new(move || change(api)));
}

type Racing = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

async fn ticket(api: &TestApi, id: u64) -> Value {
    let read = api.get(&format!("/api/Tickets/{id}"), 1).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    read.body
}

async fn a_sender_deleted_meanwhile_becomes_a_new_lead(api: TestApi) {
    let (api, table, user, first_ticket) = with_a_first_message(api).await;
    race(&table, &api, |api| {
        Box::pin(async move {
            let user = id_of(&resolve(&api, 1, SENDER).await);
            let deleted = api.delete(&format!("/api/EndUsers/{user}"), 1).await;
            assert_eq!(deleted.status, 204);
        })
    });
    let second = sms(&api, 1, SENDER, "SM-2", "second").await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert!(table.has_run());
    let lead = resolve(&api, 1, SENDER).await;
    assert_ne!(
        id_of(&lead),
        user,
        "the message went to the deleted end user"
    );
    let tickets = tickets_of(&api, 1, id_of(&lead)).await;
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["messageCount"], 1);
    assert_eq!(ticket(&api, first_ticket).await["messageCount"], 1);
}

async fn a_uid_moved_meanwhile_takes_the_message_to_its_new_holder(api: TestApi) {
    let (api, table, user, first_ticket) = with_a_first_message(api).await;
    race(&table, &api, |api| {
        Box::pin(async move {
            let user = resolve(&api, 1, SENDER).await;
            let uid_id = user["uids"][0]["endUserUIDID"].clone();
            let removed = api
                .put(
                    &format!("/api/EndUsers/{}", id_of(&user)),
                    1,
                    json!({"uids": [{"endUserUIDID": uid_id, "uidType": "Phone",
                        "uid": SENDER, "markAsDeleted": true}]}),
                )
                .await;
            assert_eq!(removed.status, 200, "{:?}", removed.body);
            api.create(1, json!({"uids": [{"uidType": "Phone", "uid": SENDER}]}))
                .await;
        })
    });
    let second = sms(&api, 1, SENDER, "SM-2", "second").await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    let holder = id_of(&resolve(&api, 1, SENDER).await);
    assert_ne!(holder, user);
    let tickets = tickets_of(&api, 1, holder).await;
    assert_eq!(
        tickets.len(),
        1,
        "the message went to the UID's former holder"
    );
    assert_eq!(tickets[0]["messageCount"], 1);
    assert_eq!(ticket(&api, first_ticket).await["messageCount"], 1);
}

async fn a_ticket_closed_meanwhile_leaves_the_message_a_new_ticket(api: TestApi) {
    let (api, table, user, first_ticket) = with_a_first_message(api).await;
    race(&table, &api, |api| {
        Box::pin(async move {
            let user = id_of(&resolve(&api, 1, SENDER).await);
            let open = tickets_of(&api, 1, user).await[0]["ticketID"].clone();
            let closed = api
                .put(
                    &format!("/api/Tickets/{open}"),
                    1,
                    json!({"status": "Closed"}),
                )
                .await;
            assert_eq!(closed.status, 200, "{:?}", closed.body);
        })
    });
    let second = sms(&api, 1, SENDER, "SM-2", "second").await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    let closed = ticket(&api, first_ticket).await;
    assert_eq!(
        (closed["status"].clone(), closed["messageCount"].clone()),
        (json!("Closed"), json!(1))
    );
    let tickets = tickets_of(&api, 1, user).await;
    assert_eq!(tickets.len(), 2);
    let new = tickets
        .iter()
        .find(|t| t["ticketID"] != first_ticket)
        .expect("a new ticket");
    assert_eq!(
        (new["status"].clone(), new["messageCount"].clone()),
        (json!("Open"), json!(1))
    );
}

const VISITOR: &str = "visitor-77";
const EMAIL: &str = "jane.chat@example.com";

async fn webchat(api: &TestApi, id: &str, email: Option<&str>) -> answerpal_testkit::TestResponse {
    let mut body = json!({"visitorID": VISITOR, "messageID": id, "text": "hello", "name": "Jane"});
    if let Some(email) = email {
        body["email"] = email.into();
    }
    api.signed_webhook("webchat", 1, 5, &body, crate::webhooks::SIGNING_SECRET)
        .await
}

/// A visitor known from a first web chat message, behind an [`Interleaved`] table.
async fn with_a_visitor(api: TestApi) -> (Arc<TestApi>, Arc<Interleaved>, u64) {
    let (table, api) = api.interleaved();
    set_up(&api, 1).await;
    let first = webchat(&api, "W-1", None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let visitor = id_of(&resolve(&api, 1, VISITOR).await);
    (api, table, visitor)
}

fn has_email(user: &Value) -> bool {
    uid_values(user)
        .iter()
        .any(|(kind, value, _)| kind == "Email" && value == EMAIL)
}

async fn an_email_taken_meanwhile_is_not_linked(api: TestApi) {
    let (api, table, visitor) = with_a_visitor(api).await;
    race(&table, &api, |api| {
        Box::pin(async move {
            api.create(1, json!({"uids": [{"uidType": "Email", "uid": EMAIL}]}))
                .await;
        })
    });
    let second = webchat(&api, "W-2", Some(EMAIL)).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["endUserID"], visitor);
    let holder = resolve(&api, 1, EMAIL).await;
    assert_ne!(id_of(&holder), visitor, "the e-mail is held twice");
    let user = api.get(&format!("/api/EndUsers/{visitor}"), 1).await;
    assert!(!has_email(&user.body), "{:?}", user.body);
    assert_eq!(tickets_of(&api, 1, visitor).await[0]["messageCount"], 2);
}

async fn an_email_link_survives_a_concurrent_assign(api: TestApi) {
    let (api, table, visitor) = with_a_visitor(api).await;
    race(&table, &api, |api| {
        Box::pin(async move {
            let visitor = id_of(&resolve(&api, 1, VISITOR).await);
            let assigned = api
                .post(
                    "/api/EndUserUIDs/assign",
                    1,
                    json!({"uid": "+32470000555", "endUserID": visitor, "uidType": "Phone"}),
                )
                .await;
            assert_eq!(assigned.status, 201, "{:?}", assigned.body);
        })
    });
    let second = webchat(&api, "W-2", Some(EMAIL)).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    let user = api.get(&format!("/api/EndUsers/{visitor}"), 1).await.body;
    assert!(has_email(&user), "{user:?}");
    assert!(
        uid_values(&user)
            .iter()
            .any(|(_, value, _)| value == "+32470000555"),
        "{user:?}"
    );
}

async fn a_failed_email_link_fails_the_delivery_and_its_retry_links_it(api: TestApi) {
    let (api, table, visitor) = with_a_visitor(api).await;
    table.fail(puts_uid_index);
    let failed = webchat(&api, "W-2", Some(EMAIL)).await;
    assert!(table.has_run());
    assert_eq!(
        failed.status, 503,
        "a success whose e-mail link was lost: {:?}",
        failed.body
    );
    assert_eq!(
        tickets_of(&api, 1, visitor).await[0]["messageCount"],
        1,
        "half recorded"
    );
    let retried = webchat(&api, "W-2", Some(EMAIL)).await;
    assert_eq!(retried.status, 200, "{:?}", retried.body);
    assert_eq!(id_of(&resolve(&api, 1, EMAIL).await), visitor);
    assert_eq!(tickets_of(&api, 1, visitor).await[0]["messageCount"], 2);
}
