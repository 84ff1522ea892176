//! Retention (SPEC 4): the real sweep, run with a clock moved forward, removes closed tickets,
//! their messages and their timeline entries (SPEC 10) once their tenant's current retention has
//! passed, and nothing else; a ticket that cannot be read never holds back the others; a run
//! stops at its time budget.

use std::time::{Duration, Instant};

use answerpal::domain::{TenantId, Timestamp};
use answerpal::service::retention::{Swept, sweep};
use answerpal::store::item::{Kind, keyed, number};
use answerpal::store::{AttributeValue, Item, Query, Write, message, sweep as index, ticket};
use answerpal_testkit::TestApi;
use serde_json::json;

use crate::webhooks::{email, resolve, set_up, sms};

on_both_stores!(
    closed_tickets_go_with_their_messages_after_the_retention,
    a_lowered_retention_reaches_tickets_closed_before,
    an_unreadable_ticket_holds_back_no_other,
    a_sweep_stops_at_its_time_budget,
);

const DAY: i64 = 24 * 60 * 60;

fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

async fn messages_stored(api: &TestApi, tenant: u64, ticket_id: u64) -> usize {
    let tenant = TenantId::new(tenant).expect("tenant");
    let partition = ticket::partition(tenant, ticket_id);
    api.table()
        .query_page(&Query::table(&partition, message::PREFIX), None, 1000)
        .await
        .expect("query")
        .items
        .len()
}

async fn set_retention(api: &TestApi, tenant: u64, days: u16) {
    let retention = json!({"ticketCleanupRetentionDays": days});
    let saved = api.put("/api/Customers/me", tenant, retention).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
}

async fn set_status(api: &TestApi, tenant: u64, ticket: &serde_json::Value, status: &str) {
    let path = format!("/api/Tickets/{ticket}");
    let changed = api.put(&path, tenant, json!({"status": status})).await;
    assert_eq!(changed.status, 200, "{status}: {:?}", changed.body);
    assert_eq!(changed.body["status"], status);
}

/// A ticket of `tenant` opened by an e-mail from `from`, closed.
async fn closed_ticket(api: &TestApi, tenant: u64, from: &str) -> u64 {
    let opened = email(api, tenant, from, &format!("{from}-1")).await;
    assert_eq!(opened.status, 200, "{:?}", opened.body);
    set_status(api, tenant, &opened.body["ticketID"], "Closed").await;
    opened.body["ticketID"].as_u64().expect("a ticket id")
}

/// The kinds of the timeline entries of `end_user` about `ticket`, newest first.
async fn ticket_entries(api: &TestApi, end_user: u64, ticket: u64) -> Vec<String> {
    let path = format!("/api/EndUsers/{end_user}/timeline?pageSize=100");
    let page = api.get(&path, 1).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let items = page.body["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter(|entry| entry["ticketID"] == ticket)
        .map(|entry| entry["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn exists(api: &TestApi, tenant: u64, ticket: u64) -> bool {
    let read = api.get(&format!("/api/Tickets/{ticket}"), tenant).await;
    assert!(matches!(read.status, 200 | 404), "{:?}", read.body);
    read.status == 200
}

async fn closed_tickets_go_with_their_messages_after_the_retention(api: TestApi) {
    for (tenant, days) in [(1, 1), (2, 10)] {
        set_up(&api, tenant).await;
        set_retention(&api, tenant, days).await;
    }
    let closed = email(&api, 1, "old@example.com", "old-1").await.body;
    let closed_id = closed["ticketID"].as_u64().expect("id");
    for n in 0..2 {
        let reply = json!({"text": format!("reply {n}")});
        let replied = api
            .post(&format!("/api/Tickets/{closed_id}/messages"), 1, reply)
            .await;
        assert_eq!(replied.status, 201, "{:?}", replied.body);
    }
    set_status(&api, 1, &closed["ticketID"], "Closed").await;
    let open = sms(&api, 1, "+32470246810", "SM-keep", "still open").await;
    assert_eq!(open.status, 200);
    let reopened = email(&api, 1, "back@example.com", "back-1").await.body["ticketID"].clone();
    set_status(&api, 1, &reopened, "Closed").await;
    set_status(&api, 1, &reopened, "Pending").await;
    let longer = closed_ticket(&api, 2, "kept@example.com").await;
    assert_eq!(messages_stored(&api, 1, closed_id).await, 3);
    let end_user = closed["endUserID"].as_u64().expect("id");
    assert_eq!(
        ticket_entries(&api, end_user, closed_id).await,
        [
            "ticketClosed",
            "message",
            "message",
            "message",
            "ticketOpened"
        ]
    );

    let table = api.table().as_ref();
    let now = Timestamp::now().unix_seconds();
    let nothing_due = sweep(table, Timestamp::from_unix_seconds(now + DAY / 2), later())
        .await
        .expect("a sweep");
    assert_eq!(
        (nothing_due.tickets, nothing_due.complete),
        (0, true),
        "{nothing_due:?}"
    );

    let swept = sweep(table, Timestamp::from_unix_seconds(now + 2 * DAY), later())
        .await
        .expect("a sweep");
    assert_eq!(
        swept,
        Swept {
            tickets: 1,
            messages: 3,
            unreadable: 0,
            complete: true,
        }
    );
    assert!(!exists(&api, 1, closed_id).await);
    assert_eq!(messages_stored(&api, 1, closed_id).await, 0);
    let reopened = reopened.as_u64().expect("id");
    assert!(exists(&api, 1, reopened).await, "reopened");
    assert!(exists(&api, 2, longer).await, "10 days");
    let person = api.get(&format!("/api/EndUsers/{end_user}"), 1).await;
    assert_eq!(person.status, 200, "the person stays");
    assert!(
        ticket_entries(&api, end_user, closed_id).await.is_empty(),
        "its timeline entries went with it"
    );
    let others = api.raw_items().await;
    let timeline_of_ticket = format!("T#1#TK#{closed_id}#TL");
    assert!(
        !others
            .iter()
            .any(|item| format!("{item:?}").contains(&timeline_of_ticket)),
        "no record of the ticket is left"
    );
    let reopened_user = resolve(&api, 1, "back@example.com").await["endUserID"].clone();
    let kept = ticket_entries(&api, reopened_user.as_u64().expect("id"), reopened).await;
    assert_eq!(
        kept,
        ["ticketClosed", "message", "ticketOpened"],
        "the reopened one keeps them"
    );

    let later_sweep = sweep(table, Timestamp::from_unix_seconds(now + 11 * DAY), later())
        .await
        .expect("a sweep");
    assert_eq!(later_sweep.tickets, 1);
    assert!(!exists(&api, 2, longer).await);
}

async fn a_lowered_retention_reaches_tickets_closed_before(api: TestApi) {
    for tenant in [1, 2, 3] {
        set_up(&api, tenant).await;
        set_retention(&api, tenant, 30).await;
    }
    let first = closed_ticket(&api, 1, "one@example.com").await;
    let second = closed_ticket(&api, 2, "two@example.com").await;
    let third = closed_ticket(&api, 3, "three@example.com").await;
    // Lowered after the tickets closed: the setting in force is the current one.
    set_retention(&api, 1, 1).await;
    set_retention(&api, 3, 2).await;
    let now = Timestamp::now().unix_seconds();
    let swept = sweep(
        api.table().as_ref(),
        Timestamp::from_unix_seconds(now + DAY + 60),
        later(),
    )
    .await
    .expect("a sweep");
    assert_eq!((swept.tickets, swept.complete), (1, true), "{swept:?}");
    assert!(!exists(&api, 1, first).await);
    assert!(exists(&api, 2, second).await);
    assert!(exists(&api, 3, third).await);
}

/// A closed ticket of `tenant` whose item no longer decodes, in the sweep's index.
fn unreadable_ticket(tenant: u64, id: u64, closed_at: i64) -> Write {
    let tenant = TenantId::new(tenant).expect("tenant");
    let mut item = Item::default();
    item.insert("version".into(), number(1));
    item.insert("status".into(), AttributeValue::N("7".into()));
    for (name, value) in index::closed_entry(tenant, Timestamp::from_unix_seconds(closed_at)) {
        item.insert(name.into(), value);
    }
    Write::Put {
        item: keyed(Kind::Ticket, ticket::key(tenant, id), item),
        condition: None,
    }
}

async fn an_unreadable_ticket_holds_back_no_other(api: TestApi) {
    for tenant in [1, 2] {
        set_up(&api, tenant).await;
        set_retention(&api, tenant, 1).await;
    }
    let long_ago = Timestamp::now().unix_seconds() - 10 * DAY;
    api.table()
        .write(vec![unreadable_ticket(1, 5, long_ago)])
        .await
        .expect("a broken item");
    let first = closed_ticket(&api, 1, "one@example.com").await;
    let second = closed_ticket(&api, 2, "two@example.com").await;
    let at = Timestamp::from_unix_seconds(Timestamp::now().unix_seconds() + 2 * DAY);
    for run in 0..2 {
        let swept = sweep(api.table().as_ref(), at, later())
            .await
            .expect("a sweep");
        assert_eq!(
            (swept.tickets, swept.unreadable, swept.complete),
            (if run == 0 { 2 } else { 0 }, 1, true),
            "run {run}: {swept:?}"
        );
    }
    assert!(!exists(&api, 1, first).await);
    assert!(!exists(&api, 2, second).await);
}

async fn a_sweep_stops_at_its_time_budget(api: TestApi) {
    set_up(&api, 1).await;
    set_retention(&api, 1, 1).await;
    let closed = closed_ticket(&api, 1, "one@example.com").await;
    let at = Timestamp::from_unix_seconds(Timestamp::now().unix_seconds() + 2 * DAY);
    let spent = sweep(api.table().as_ref(), at, Instant::now())
        .await
        .expect("a sweep");
    assert_eq!((spent.tickets, spent.complete), (0, false), "{spent:?}");
    assert!(exists(&api, 1, closed).await);
    let next = sweep(api.table().as_ref(), at, later())
        .await
        .expect("a sweep");
    assert_eq!((next.tickets, next.complete), (1, true), "{next:?}");
}
