//! Retention (SPEC 4): the real sweep, run with a clock moved forward, removes closed tickets and
//! their messages once their tenant's retention has passed, and nothing else.

use answerpal::domain::{TenantId, Timestamp};
use answerpal::service::retention::{Swept, sweep};
use answerpal::store::{message, ticket};
use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;
use crate::webhooks::{email, set_up, sms};

on_both_stores!(closed_tickets_go_with_their_messages_after_the_retention,);

const DAY: i64 = 24 * 60 * 60;

async fn messages_stored(api: &TestApi, tenant: u64, ticket_id: u64) -> usize {
    let tenant = TenantId::new(tenant).expect("tenant");
    api.table()
        .query(&ticket::partition(tenant, ticket_id), message::PREFIX, None)
        .await
        .expect("query")
        .len()
}

async fn closed_tickets_go_with_their_messages_after_the_retention(api: TestApi) {
    for (tenant, days) in [(1, 1), (2, 10)] {
        set_up(&api, tenant).await;
        let retention = json!({"ticketCleanupRetentionDays": days});
        assert_eq!(
            api.put("/api/Customers/me", tenant, retention).await.status,
            200
        );
    }
    let closed = email(&api, 1, "old@example.com", "old-1").await.body;
    let closed_id = closed["ticketID"].as_u64().expect("id");
    for n in 0..2 {
        let reply = json!({"text": format!("reply {n}")});
        api.post(&format!("/api/Tickets/{closed_id}/messages"), 1, reply)
            .await;
    }
    let close = json!({"status": "Closed"});
    assert_eq!(
        api.put(&format!("/api/Tickets/{closed_id}"), 1, close.clone())
            .await
            .status,
        200
    );
    let open = sms(&api, 1, "+32470246810", "SM-keep", "still open").await;
    assert_eq!(open.status, 200);
    let reopened = email(&api, 1, "back@example.com", "back-1").await.body["ticketID"].clone();
    api.put(&format!("/api/Tickets/{reopened}"), 1, close.clone())
        .await;
    api.put(
        &format!("/api/Tickets/{reopened}"),
        1,
        json!({"status": "Pending"}),
    )
    .await;
    let longer = email(&api, 2, "kept@example.com", "kept-1").await.body["ticketID"].clone();
    api.put(&format!("/api/Tickets/{longer}"), 2, close).await;
    assert_eq!(messages_stored(&api, 1, closed_id).await, 3);

    let table = api.table().as_ref();
    let now = Timestamp::now().unix_seconds();
    let nothing_due = sweep(table, Timestamp::from_unix_seconds(now + DAY / 2)).await;
    assert_eq!(nothing_due.expect("a sweep"), Swept::default());

    let swept = sweep(table, Timestamp::from_unix_seconds(now + 2 * DAY))
        .await
        .expect("a sweep");
    assert_eq!(
        swept,
        Swept {
            tickets: 1,
            messages: 3
        }
    );
    assert_problem(&api.get(&format!("/api/Tickets/{closed_id}"), 1).await, 404);
    assert_eq!(messages_stored(&api, 1, closed_id).await, 0);
    assert_eq!(
        api.get(&format!("/api/Tickets/{reopened}"), 1).await.status,
        200,
        "reopened"
    );
    assert_eq!(
        api.get(&format!("/api/Tickets/{longer}"), 2).await.status,
        200,
        "10 days"
    );
    let end_user = closed["endUserID"].as_u64().expect("id");
    assert_eq!(
        api.get(&format!("/api/EndUsers/{end_user}"), 1)
            .await
            .status,
        200,
        "the person stays"
    );

    let later = sweep(table, Timestamp::from_unix_seconds(now + 11 * DAY))
        .await
        .expect("a sweep");
    assert_eq!(later.tickets, 1);
    assert_problem(&api.get(&format!("/api/Tickets/{longer}"), 2).await, 404);
}
