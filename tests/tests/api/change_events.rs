//! Change events (SPEC 7): each committed change writes one outbox item in its own transaction,
//! holding its events: the kinds, the end user's version after the change, both end users of a
//! merge or undo, deterministic IDs, and never a personal value. A change that fails or changes
//! nothing writes none.

use answerpal::store::AttributeValue;
use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{SIGNING_SECRET, set_up};

on_both_stores!(
    end_user_changes_announce_their_kind_version_and_uids,
    merges_and_undos_name_both_end_users,
    webhooks_and_the_desk_announce_ticket_changes,
    failed_or_empty_changes_announce_nothing,
);

/// Every outbox item of the table: its partition and its events, oldest first by the end user's
/// version.
pub async fn outbox(api: &TestApi) -> Vec<(String, Vec<Value>)> {
    let mut items: Vec<(String, Vec<Value>)> = api
        .raw_items()
        .await
        .into_iter()
        .filter(|item| item.get("kind") == Some(&AttributeValue::S("Outbox".into())))
        .map(|item| {
            let pk = match item.get("PK") {
                Some(AttributeValue::S(pk)) => pk.clone(),
                other => panic!("an outbox item's PK: {other:?}"),
            };
            let events = match item.get("events") {
                Some(AttributeValue::S(text)) => serde_json::from_str(text).expect("events JSON"),
                other => panic!("an outbox item's events: {other:?}"),
            };
            (pk, events)
        })
        .collect();
    items.sort_by_key(|(_, events)| {
        (
            events[0]["endUserID"].as_u64(),
            events[0]["version"].as_u64(),
        )
    });
    items
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["detailType"].as_str().expect("detailType"))
        .collect()
}

async fn end_user_changes_announce_their_kind_version_and_uids(api: TestApi) {
    let created = api
        .create(
            1,
            end_user()
                .uid("Email", "Jane.Secret@example.com")
                .with("firstname", "Janet")
                .json(),
        )
        .await;
    let id = id_of(&created);
    let path = format!("/api/EndUsers/{id}");
    let updated = api
        .put(&path, 1, json!({"firstname": "Jo", "city": "Gent"}))
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(api.delete(&path, 1).await.status, 204);
    let items = outbox(&api).await;
    assert_eq!(items.len(), 3, "one item per change: {items:?}");
    assert!(
        items
            .iter()
            .all(|(pk, _)| pk == &format!("T#1#OUTBOX#{id}"))
    );
    let (_, created) = &items[0];
    assert_eq!(kinds(created), ["EndUserCreated", "UidLinked"]);
    assert_eq!(created[0]["version"], 1);
    assert_eq!(created[0]["customerID"], 1);
    assert_eq!(created[0]["endUserID"], id);
    assert_eq!(created[1]["uidType"], "Email");
    assert!(created[1]["endUserUIDID"].is_u64());
    let (_, changed) = &items[1];
    assert_eq!(kinds(changed), ["EndUserUpdated"]);
    assert_eq!(changed[0]["version"], 2);
    assert_eq!(
        changed[0]["changedFields"],
        json!(["city", "firstname", "name"])
    );
    let (_, deleted) = &items[2];
    assert_eq!(kinds(deleted), ["EndUserDeleted", "UidUnlinked"]);
    assert_eq!(deleted[0]["version"], 3);
    let text = format!("{items:?}").to_lowercase();
    for personal in ["jane.secret", "janet", "gent"] {
        assert!(
            !text.contains(personal),
            "{personal} is in an event: {text}"
        );
    }
    let mut ids: Vec<&str> = items
        .iter()
        .flat_map(|(_, events)| {
            events
                .iter()
                .map(|e| e["eventID"].as_str().expect("eventID"))
        })
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "event IDs are unique: {ids:?}");
    assert_eq!(
        ids.iter()
            .filter(|i| i.starts_with(&format!("1-{id}-1-")))
            .count(),
        2
    );
}

async fn merges_and_undos_name_both_end_users(api: TestApi) {
    let target = id_of(&api.create(1, json!({"firstname": "T"})).await);
    let source = id_of(
        &api.create(1, end_user().uid("Phone", "+32470111222").json())
            .await,
    );
    let merged = api
        .post(
            &format!("/api/EndUsers/{target}/merge"),
            1,
            json!({"sourceEndUserID": source}),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    let merge_id = merged.body["mergeID"].as_u64().expect("mergeID");
    let undo = format!("/api/EndUsers/{target}/merges/{merge_id}/undo");
    assert_eq!(api.post(&undo, 1, json!({})).await.status, 200);
    let announced: Vec<Value> = outbox(&api)
        .await
        .into_iter()
        .filter(|(pk, _)| pk == &format!("T#1#OUTBOX#{target}"))
        .flat_map(|(_, events)| events)
        .collect();
    assert_eq!(
        kinds(&announced),
        ["EndUserCreated", "EndUserMerged", "EndUserUnmerged"]
    );
    for (event, version) in announced[1..].iter().zip([2, 3]) {
        assert_eq!(event["sourceEndUserID"], source);
        assert_eq!(event["targetEndUserID"], target);
        assert_eq!(event["mergeID"], merge_id);
        assert_eq!(event["version"], version, "{event}");
    }
}

async fn webhooks_and_the_desk_announce_ticket_changes(api: TestApi) {
    set_up(&api, 1).await;
    let mail = |id: &str| {
        json!({"from": {"email": "events@example.com"}, "to": "support@example.com",
            "subject": "Hi", "messageID": id, "textBody": "private words"})
    };
    let first = api
        .signed_webhook("email", 1, 1, &mail("ev-1"), SIGNING_SECRET)
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let redelivered = api
        .signed_webhook("email", 1, 1, &mail("ev-1"), SIGNING_SECRET)
        .await;
    assert_eq!(redelivered.status, 200);
    let second = api
        .signed_webhook("email", 1, 1, &mail("ev-2"), SIGNING_SECRET)
        .await;
    assert_eq!(second.status, 200);
    let ticket = first.body["ticketID"].as_u64().expect("ticketID");
    let closed = api
        .put(
            &format!("/api/Tickets/{ticket}"),
            1,
            json!({"status": "Closed"}),
        )
        .await;
    assert_eq!(closed.status, 200);
    let items = outbox(&api).await;
    let mut all: Vec<&str> = items.iter().flat_map(|(_, e)| kinds(e)).collect();
    all.sort_unstable();
    assert_eq!(
        all,
        [
            "EndUserCreated",
            "TicketCreated",
            "TicketUpdated",
            "TicketUpdated",
            "UidLinked"
        ],
        "the redelivery announced nothing: {items:?}"
    );
    let lead = items
        .iter()
        .find(|(_, e)| e.len() == 3)
        .expect("the first message's item");
    assert_eq!(
        kinds(&lead.1),
        ["EndUserCreated", "UidLinked", "TicketCreated"]
    );
    assert_eq!(lead.1[2]["ticketID"], ticket);
    assert_eq!(lead.1[2]["version"], 1, "the ticket's message count");
    let updates: Vec<&Value> = items
        .iter()
        .flat_map(|(_, e)| e)
        .filter(|e| e["detailType"] == "TicketUpdated")
        .collect();
    assert!(
        updates
            .iter()
            .all(|e| e["ticketID"] == ticket && e["version"] == 2)
    );
    assert!(
        updates.iter().any(|e| e["status"] == "Closed"),
        "{updates:?}"
    );
    assert!(!format!("{items:?}").contains("private words"));
}

async fn failed_or_empty_changes_announce_nothing(api: TestApi) {
    let holder = api
        .create(1, end_user().uid("Email", "held@example.com").json())
        .await;
    let other = id_of(&api.create(1, json!({"firstname": "O"})).await);
    let before = outbox(&api).await.len();
    let taken = json!({"uids": [{"uidType": "Email", "uid": "held@example.com"}]});
    let conflict = api.put(&format!("/api/EndUsers/{other}"), 1, taken).await;
    assert_problem(&conflict, 409);
    let same = api
        .put(&format!("/api/EndUsers/{}", id_of(&holder)), 1, json!({}))
        .await;
    assert_eq!(same.status, 200);
    assert_eq!(
        outbox(&api).await.len(),
        before,
        "no event without a change"
    );
}
