//! The timeline (SPEC 10): what the writes recorded, newest first, cursor-paged and filtered by
//! kind, carried by a merge and taken back by its undo, by ID or customerRef; external events
//! validated, recorded once per Idempotency-Key and announced; a deletion takes the timeline
//! with it, in the request or in the background.

use std::time::{Duration, Instant};

use answerpal::service::erasure;
use answerpal::store::Kind;
use answerpal_testkit::{TestApi, TestResponse};
use serde_json::{Value, json};

use crate::change_events::outbox;
use crate::support::*;
use crate::webhooks::{resolve, set_up, sms, tickets_of};

on_both_stores!(
    a_conversation_and_its_identity_changes_read_newest_first,
    pages_follow_their_cursors_and_kinds_filter,
    bad_timeline_requests_are_refused,
    a_merge_carries_the_timeline_and_its_undo_takes_it_back,
    external_events_are_validated_recorded_and_announced,
    an_external_event_is_recorded_once_per_idempotency_key,
    an_event_racing_a_merge_lands_where_the_timeline_shows_it,
    a_deletion_takes_the_timeline_with_it,
);

const PHONE: &str = "+32470000901";

fn timeline_path(id: u64) -> String {
    format!("/api/EndUsers/{id}/timeline")
}

async fn timeline(api: &TestApi, path: &str) -> TestResponse {
    let page = api.get(path, 1).await;
    assert_eq!(page.status, 200, "{path}: {:?}", page.body);
    page
}

/// Every entry of `path` (with `?` or `&` to add to it), page by page of `size`.
async fn every_entry(api: &TestApi, path: &str, size: u32) -> Vec<Value> {
    let join = if path.contains('?') { '&' } else { '?' };
    let mut entries = Vec::new();
    let mut next = format!("{path}{join}pageSize={size}");
    loop {
        let page = timeline(api, &next).await.body;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= size as usize, "{page}");
        entries.extend(items.iter().cloned());
        match page["nextCursor"].as_str() {
            Some(cursor) => {
                assert_eq!(items.len(), size as usize, "a page before the last is full");
                next = format!("{path}{join}pageSize={size}&cursor={cursor}");
            }
            None => return entries,
        }
    }
}

fn kinds_of(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect()
}

async fn event(api: &TestApi, id: u64, event_type: &str) -> Value {
    let body = json!({"type": event_type, "message": format!("{event_type} happened"),
        "initiatedBy": "shop"});
    let recorded = api
        .post(&format!("/api/EndUsers/{id}/events"), 1, body)
        .await;
    assert_eq!(recorded.status, 201, "{:?}", recorded.body);
    recorded.body
}

async fn a_conversation_and_its_identity_changes_read_newest_first(api: TestApi) {
    set_up(&api, 1).await;
    let long = "x".repeat(250);
    assert_eq!(sms(&api, 1, PHONE, "SM-t1", &long).await.status, 200);
    let lead = id_of(&resolve(&api, 1, PHONE).await);
    let ticket = tickets_of(&api, 1, lead).await[0].clone();
    let ticket_id = ticket["ticketID"].clone();
    let reply = format!("/api/Tickets/{ticket_id}/messages");
    assert_eq!(
        api.post(&reply, 1, json!({"text": "Hello"})).await.status,
        201
    );
    let closed = api
        .put(
            &format!("/api/Tickets/{ticket_id}"),
            1,
            json!({"status": "Closed"}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    let path = format!("/api/EndUsers/{lead}");
    let email =
        json!({"uids": [{"uidType": "Email", "uid": "lead@example.com", "consent": "optedIn"}]});
    assert_eq!(api.put(&path, 1, email).await.status, 200);

    let entries = every_entry(&api, &timeline_path(lead), 100).await;
    let kinds = kinds_of(&entries);
    // Newest first; within one second by kind (an opening before its message, a message
    // before its ticket's closing).
    let position = |kind: &str| kinds.iter().position(|k| k == kind).expect(kind);
    assert!(position("ticketClosed") < position("message"), "{kinds:?}");
    assert!(position("message") < position("ticketOpened"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "message").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "uidLinked").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "consentChanged").count(), 1);
    let find = |kind: &str, pick: &dyn Fn(&Value) -> bool| {
        entries
            .iter()
            .find(|e| e["kind"] == kind && pick(e))
            .unwrap_or_else(|| panic!("no {kind} in {entries:?}"))
            .clone()
    };
    let inbound = find("message", &|e| e["direction"] == "Inbound");
    assert_eq!(inbound["text"], "x".repeat(200), "its first 200 characters");
    assert_eq!(
        (&inbound["ticketID"], &inbound["channelType"]),
        (&ticket_id, &json!("SMS"))
    );
    assert!(inbound["messageID"].is_u64() && inbound["at"].is_string());
    let outbound = find("message", &|e| e["direction"] == "Outbound");
    assert_eq!(outbound["text"], "Hello");
    let opened = find("ticketOpened", &|_| true);
    assert_eq!(opened["ticketID"], ticket_id);
    assert_eq!(opened["channelID"], ticket["channelID"]);
    assert_eq!(
        find("ticketClosed", &|_| true),
        json!({"kind": "ticketClosed", "at": closed.body["closedAt"], "ticketID": ticket_id})
    );
    let linked = find("uidLinked", &|e| e["uid"] == "lead@example.com");
    assert_eq!(linked["uidType"], "Email");
    let consent = find("consentChanged", &|_| true);
    assert_eq!(
        (&consent["uid"], &consent["status"], &consent["source"]),
        (&json!("lead@example.com"), &json!("optedIn"), &json!("api"))
    );
    assert!(find("uidLinked", &|e| e["uid"] == PHONE)["uidType"] == "Phone");
}

async fn pages_follow_their_cursors_and_kinds_filter(api: TestApi) {
    let user = end_user()
        .with("customerRef", "TL-1")
        .uid("Email", "a@example.com")
        .uid("Email", "b@example.com")
        .uid("Phone", "+32470000902");
    let id = id_of(&api.create(1, user.json()).await);
    for n in 0..5 {
        event(&api, id, &format!("order.{n}")).await;
    }
    let whole = timeline(&api, &format!("{}?pageSize=100", timeline_path(id)))
        .await
        .body;
    assert_eq!(whole["nextCursor"], Value::Null);
    let all = whole["items"].as_array().expect("items").clone();
    assert_eq!(all.len(), 8, "{all:?}");
    // One record of three links: pages of 2 split it and still list each entry once.
    for size in [1, 2, 3, 7] {
        assert_eq!(
            every_entry(&api, &timeline_path(id), size).await,
            all,
            "{size}"
        );
    }
    let default = timeline(&api, &timeline_path(id)).await.body;
    assert_eq!(default["items"], json!(all), "25 by default");

    let external = every_entry(&api, &format!("{}?kinds=external", timeline_path(id)), 2).await;
    assert_eq!(kinds_of(&external), vec!["external"; 5]);
    assert_eq!(external[0]["type"], "order.4", "newest first: {external:?}");
    let both = format!("{}?kinds=uidLinked,external", timeline_path(id));
    assert_eq!(every_entry(&api, &both, 3).await, all);
    let repeated = format!("{}?kinds=uidLinked&kinds=uidLinked", timeline_path(id));
    assert_eq!(every_entry(&api, &repeated, 2).await.len(), 3);
    let none = format!("{}?kinds=merged", timeline_path(id));
    assert_eq!(timeline(&api, &none).await.body["items"], json!([]));

    let by_ref = "/api/EndUsers/byRef/TL-1/timeline?pageSize=100";
    assert_eq!(timeline(&api, by_ref).await.body["items"], json!(all));
    let unknown = api.get("/api/EndUsers/byRef/TL-404/timeline", 1).await;
    assert_problem(&unknown, 404);
    let other_tenant = api.get(&timeline_path(id), 2).await;
    assert_problem(&other_tenant, 404);
}

async fn bad_timeline_requests_are_refused(api: TestApi) {
    let id = id_of(
        &api.create(1, end_user().uid("Email", "c@example.com").json())
            .await,
    );
    let other = id_of(
        &api.create(1, end_user().uid("Email", "d@example.com").json())
            .await,
    );
    for n in 0..3 {
        event(&api, id, &format!("visit.{n}")).await;
        event(&api, other, &format!("visit.{n}")).await;
    }
    let first = timeline(&api, &format!("{}?pageSize=1", timeline_path(id))).await;
    let cursor = first.body["nextCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let refused = [
        (format!("{}?kinds=order", timeline_path(id)), "kinds"),
        (
            format!("{}?kinds=message,Message", timeline_path(id)),
            "kinds",
        ),
        (format!("{}?pageSize=0", timeline_path(id)), "pageSize"),
        (format!("{}?pageSize=101", timeline_path(id)), "pageSize"),
        (format!("{}?cursor=forged", timeline_path(id)), "cursor"),
        (
            format!("{}?cursor={cursor}", timeline_path(other)),
            "cursor",
        ),
        (
            format!("{}?kinds=external&cursor={cursor}", timeline_path(id)),
            "cursor",
        ),
        (
            format!("{}?cursor={cursor}&cursor={cursor}", timeline_path(id)),
            "cursor",
        ),
    ];
    for (path, field) in refused {
        assert_field_error(&api.get(&path, 1).await, field);
    }
    let foreign = api
        .get(&format!("{}?cursor={cursor}", timeline_path(id)), 2)
        .await;
    assert_field_error(&foreign, "cursor");
    assert_field_error(&api.get("/api/EndUsers/0/timeline", 1).await, "id");
    assert_problem(&api.get("/api/EndUsers/123/timeline", 1).await, 404);
    let blank = timeline(&api, &format!("{}?kinds=&cursor=", timeline_path(id))).await;
    assert_eq!(blank.body["items"].as_array().map(Vec::len), Some(4));
}

async fn a_merge_carries_the_timeline_and_its_undo_takes_it_back(api: TestApi) {
    let target = id_of(
        &api.create(1, end_user().uid("Email", "t@example.com").json())
            .await,
    );
    let source = id_of(
        &api.create(1, end_user().uid("Email", "s@example.com").json())
            .await,
    );
    let source_event = event(&api, source, "source.order").await;
    event(&api, target, "target.order").await;
    let merged = api
        .post(
            &format!("/api/EndUsers/{target}/merge"),
            1,
            json!({"sourceEndUserID": source}),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    let merge_id = merged.body["mergeID"].clone();

    let entries = every_entry(&api, &timeline_path(target), 2).await;
    assert_eq!(
        entries[0],
        json!({"kind": "merged", "at": entries[0]["at"], "mergeID": merge_id,
            "sourceEndUserID": source})
    );
    let ids: Vec<&Value> = entries.iter().map(|e| &e["eventID"]).collect();
    assert!(ids.contains(&&source_event["eventID"]), "{entries:?}");
    assert_eq!(kinds_of(&entries).len(), 5, "{entries:?}");
    let gone = api.get(&timeline_path(source), 1).await;
    assert_problem(&gone, 410);
    assert_eq!(gone.body["mergedInto"], target);
    let externals = format!("{}?kinds=external", timeline_path(target));
    assert_eq!(every_entry(&api, &externals, 1).await.len(), 2);

    let undo = format!("/api/EndUsers/{target}/merges/{merge_id}/undo");
    assert_eq!(api.post(&undo, 1, json!({})).await.status, 200);
    let entries = every_entry(&api, &timeline_path(target), 100).await;
    assert_eq!(entries[0]["kind"], "unmerged", "{entries:#?}");
    assert_eq!(entries[0]["sourceEndUserID"], source);
    assert!(
        entries.iter().all(|e| e["type"] != "source.order"),
        "{entries:?}"
    );
    let own = every_entry(&api, &timeline_path(source), 100).await;
    assert_eq!(kinds_of(&own), ["external", "uidLinked"]);
}

async fn external_events_are_validated_recorded_and_announced(api: TestApi) {
    let created = api
        .create(
            1,
            end_user()
                .with("customerRef", "EV-1")
                .uid("Email", "e@example.com")
                .json(),
        )
        .await;
    let id = id_of(&created);
    let path = format!("/api/EndUsers/{id}/events");
    let body = json!({"type": "order.placed", "message": "Order 1001 placed", "initiatedBy": "webshop",
        "sourceUrl": "https://shop.example.com/orders/1001", "occurredAt": "2026-11-22T10:15:30Z"});
    let recorded = api.post(&path, 1, body).await;
    assert_eq!(recorded.status, 201, "{:?}", recorded.body);
    let event_id = recorded.body["eventID"].as_u64().expect("an eventID");
    assert_eq!(
        recorded.body,
        json!({"eventID": event_id, "endUserID": id, "type": "order.placed",
            "message": "Order 1001 placed", "initiatedBy": "webshop",
            "sourceUrl": "https://shop.example.com/orders/1001",
            "occurredAt": "2026-11-22T10:15:30Z"})
    );
    assert_eq!(
        recorded.header("location"),
        Some(timeline_path(id).as_str())
    );
    let listed = every_entry(&api, &format!("{}?kinds=external", timeline_path(id)), 5).await;
    assert_eq!(
        listed,
        [
            json!({"kind": "external", "at": "2026-11-22T10:15:30Z", "eventID": event_id,
            "type": "order.placed", "message": "Order 1001 placed",
            "sourceUrl": "https://shop.example.com/orders/1001", "initiatedBy": "webshop"})
        ]
    );
    // Dated in the past, it sorts before the UID linked now.
    assert_eq!(
        kinds_of(&every_entry(&api, &timeline_path(id), 5).await),
        ["uidLinked", "external"]
    );

    let by_ref = api
        .post(
            "/api/EndUsers/byRef/EV-1/events",
            1,
            json!({"type": "mail.sent", "message": "Newsletter", "initiatedBy": "crm"}),
        )
        .await;
    assert_eq!(by_ref.status, 201, "{:?}", by_ref.body);
    assert_eq!(
        (by_ref.body["endUserID"].as_u64(), &by_ref.body["sourceUrl"]),
        (Some(id), &Value::Null)
    );

    let announced: Vec<Value> = outbox(&api)
        .await
        .into_iter()
        .flat_map(|(_, events)| events)
        .filter(|e| e["detailType"] == "ExternalEventRecorded")
        .collect();
    assert_eq!(announced.len(), 2, "{announced:?}");
    assert_eq!(announced[0]["externalEventID"].as_u64(), Some(event_id));
    assert_eq!(announced[0]["externalEventType"], "order.placed");
    assert_eq!(announced[0]["endUserID"].as_u64(), Some(id));
    let text = format!("{announced:?}");
    for personal in ["Order 1001", "webshop", "shop.example.com", "Newsletter"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }

    let bad = json!({"type": "order placed", "message": "", "initiatedBy": 7,
        "sourceUrl": "ftp://x", "occurredAt": "soon"});
    let refused = api.post(&path, 1, bad).await;
    for field in ["type", "message", "initiatedBy", "sourceUrl", "occurredAt"] {
        assert_field_error(&refused, field);
    }
    assert_field_error(&api.post(&path, 1, json!({})).await, "type");
    assert_problem(&api.post(&path, 1, json!([1])).await, 400);
    let valid = json!({"type": "t", "message": "m", "initiatedBy": "i"});
    assert_problem(
        &api.post("/api/EndUsers/77/events", 1, valid.clone()).await,
        404,
    );
    assert_problem(&api.post(&path, 2, valid.clone()).await, 404);
    let unknown_ref = api
        .post("/api/EndUsers/byRef/EV-404/events", 1, valid.clone())
        .await;
    assert_problem(&unknown_ref, 404);
    assert_eq!(
        every_entry(&api, &format!("{}?kinds=external", timeline_path(id)), 9)
            .await
            .len(),
        2
    );

    let anonymized = api
        .post(&format!("/api/EndUsers/{id}/anonymize"), 1, json!({}))
        .await;
    assert_eq!(anonymized.status, 200);
    assert_problem(&api.post(&path, 1, valid).await, 409);
    let erased = every_entry(&api, &format!("{}?kinds=external", timeline_path(id)), 9).await;
    for entry in &erased {
        assert_eq!(
            (&entry["message"], &entry["initiatedBy"]),
            (&json!("[erased]"), &json!("[erased]"))
        );
        assert_eq!(entry["sourceUrl"], Value::Null);
    }
    let items = api.raw_items().await;
    let records = items.iter().filter(|i| Kind::of(i) == Some(Kind::Timeline));
    for record in records {
        let text = format!("{record:?}");
        for personal in [
            "Order 1001",
            "webshop",
            "shop.example.com",
            "Newsletter",
            "e@example.com",
        ] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
    }
}

async fn an_external_event_is_recorded_once_per_idempotency_key(api: TestApi) {
    let id = id_of(
        &api.create(1, end_user().uid("Email", "k@example.com").json())
            .await,
    );
    let path = format!("/api/EndUsers/{id}/events");
    let body = json!({"type": "order.paid", "message": "Paid", "initiatedBy": "psp"});
    let key = [("Idempotency-Key", "pay-1")];
    let first = api.with_headers("POST", &path, 1, &key, body.clone()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let again = api.with_headers("POST", &path, 1, &key, body.clone()).await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    let other = json!({"type": "order.paid", "message": "Paid twice", "initiatedBy": "psp"});
    let reused = api.with_headers("POST", &path, 1, &key, other).await;
    assert_problem(&reused, 422);
    let external = every_entry(&api, &format!("{}?kinds=external", timeline_path(id)), 5).await;
    assert_eq!(external.len(), 1, "{external:?}");
    assert_eq!(external[0]["eventID"], first.body["eventID"]);
}

async fn an_event_racing_a_merge_lands_where_the_timeline_shows_it(api: TestApi) {
    for round in 0..4 {
        let target = end_user().uid("Email", &format!("rt{round}@example.com"));
        let target = id_of(&api.create(1, target.json()).await);
        let source = end_user().uid("Email", &format!("rs{round}@example.com"));
        let source = id_of(&api.create(1, source.json()).await);
        let body = json!({"type": "race", "message": "m", "initiatedBy": "i"});
        let events = format!("/api/EndUsers/{source}/events");
        let merge = format!("/api/EndUsers/{target}/merge");
        let (recorded, merged) = tokio::join!(
            api.post(&events, 1, body),
            api.post(&merge, 1, json!({"sourceEndUserID": source}))
        );
        assert_eq!(merged.status, 200, "{:?}", merged.body);
        let listed = every_entry(
            &api,
            &format!("{}?kinds=external", timeline_path(target)),
            5,
        )
        .await;
        match recorded.status {
            201 => assert_eq!(listed.len(), 1, "a recorded event is the target's now"),
            _ => {
                assert_problem(&recorded, 410);
                assert!(listed.is_empty(), "{listed:?}");
            }
        }
    }
}

/// The timeline records of end user `id` left in the store.
async fn records_of(api: &TestApi, id: u64) -> usize {
    let partition = format!("#EU#{id}#TL");
    let items = api.raw_items().await;
    items
        .iter()
        .filter(|i| Kind::of(i) == Some(Kind::Timeline))
        .filter(|i| format!("{:?}", i.get("PK")).contains(&partition))
        .count()
}

async fn a_deletion_takes_the_timeline_with_it(api: TestApi) {
    let short = id_of(
        &api.create(1, end_user().uid("Email", "del1@example.com").json())
            .await,
    );
    event(&api, short, "visit").await;
    assert_eq!(records_of(&api, short).await, 2);
    assert_eq!(
        api.delete(&format!("/api/EndUsers/{short}"), 1)
            .await
            .status,
        204
    );
    assert_eq!(records_of(&api, short).await, 0, "removed in the request");

    let long = id_of(
        &api.create(1, end_user().uid("Email", "del2@example.com").json())
            .await,
    );
    for n in 0..30 {
        event(&api, long, &format!("visit.{n}")).await;
    }
    assert_eq!(
        api.delete(&format!("/api/EndUsers/{long}"), 1).await.status,
        204
    );
    assert_eq!(records_of(&api, long).await, 31, "left to the background");
    let until = Instant::now() + Duration::from_secs(60);
    let run = erasure::run(api.table().as_ref(), until)
        .await
        .expect("it runs");
    assert_eq!((run.finished, run.complete), (1, true), "{run:?}");
    assert_eq!(records_of(&api, long).await, 0);
}
