//! What a page costs (issue 16): a messages page reads the page alone, a tickets page in the
//! list's default order reads up to its end and not the end user's other tickets, and one
//! stored item that does not decode leaves the rest of the end-user list readable.

use std::sync::Arc;
use std::time::Duration;

use answerpal::domain::TenantId;
use answerpal::store::item::{Kind, keyed, number};
use answerpal::store::{AttributeValue, Item, Write, end_user};
use answerpal_testkit::{CountingReads, TestApi};
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{resolve, set_up, sms, tickets_of};

on_both_stores!(
    a_messages_page_reads_the_page_alone,
    a_tickets_page_reads_up_to_its_end,
    an_unreadable_end_user_leaves_the_rest_listed,
);

/// `api`'s store behind a read counter, and the whole API on it.
fn counted(api: &TestApi) -> (TestApi, Arc<CountingReads>) {
    let reads = Arc::new(CountingReads::new(api.table().clone()));
    let api = TestApi::with_table(reads.clone(), Duration::from_secs(30));
    (api, reads)
}

async fn a_messages_page_reads_the_page_alone(api: TestApi) {
    let (api, reads) = counted(&api);
    set_up(&api, 1).await;
    let first = sms(&api, 1, "+32470000201", "SM-1", "reply 0").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let user = id_of(&resolve(&api, 1, "+32470000201").await);
    let ticket = tickets_of(&api, 1, user).await[0]["ticketID"].clone();
    for n in 1..12 {
        let path = format!("/api/Tickets/{ticket}/messages");
        let replied = api
            .post(&path, 1, json!({"text": format!("reply {n}")}))
            .await;
        assert_eq!(replied.status, 201, "{:?}", replied.body);
    }
    reads.take();
    let path = format!("/api/Tickets/{ticket}/messages?pageSize=4&pageNumber=3");
    let page = api.get(&path, 1).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(
        texts(&page.body),
        ["reply 8", "reply 9", "reply 10", "reply 11"]
    );
    assert_eq!(page.body["totalCount"], 12);
    assert_eq!(reads.take(), 1 + 4, "the ticket and the page's messages");
}

async fn a_tickets_page_reads_up_to_its_end(api: TestApi) {
    let (api, reads) = counted(&api);
    set_up(&api, 1).await;
    let sender = "+32470000202";
    let mut tickets = Vec::new();
    for n in 0..6 {
        let sent = sms(&api, 1, sender, &format!("SM-{n}"), "hello").await;
        assert_eq!(sent.status, 200, "{:?}", sent.body);
        let user = id_of(&resolve(&api, 1, sender).await);
        let open = tickets_of(&api, 1, user).await[0]["ticketID"].clone();
        let closed = api
            .put(
                &format!("/api/Tickets/{open}"),
                1,
                json!({"status": "Closed"}),
            )
            .await;
        assert_eq!(closed.status, 200, "{:?}", closed.body);
        tickets.push(open);
    }
    let user = id_of(&resolve(&api, 1, sender).await);
    // The oldest back in the conversation: its reply makes it the latest.
    let oldest = &tickets[0];
    let reopened = api
        .put(
            &format!("/api/Tickets/{oldest}"),
            1,
            json!({"status": "Open"}),
        )
        .await;
    assert_eq!(reopened.status, 200, "{:?}", reopened.body);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = api
        .post(
            &format!("/api/Tickets/{oldest}/messages"),
            1,
            json!({"text": "back"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);

    reads.take();
    let page = api
        .get(&format!("/api/EndUsers/{user}/tickets?pageSize=2"), 1)
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let ids: Vec<Value> = page.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["ticketID"].clone())
        .collect();
    // Newest conversation first; the rest (one second apart at most) by ticket ID, newest first.
    assert_eq!(ids, [tickets[0].clone(), tickets[5].clone()]);
    assert_eq!(page.body["totalCount"], 6);
    assert_eq!(reads.take(), 2 + 2, "the end user, its count and the page");

    let second = api
        .get(
            &format!("/api/EndUsers/{user}/tickets?pageSize=2&pageNumber=2"),
            1,
        )
        .await;
    let ids: Vec<Value> = second.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["ticketID"].clone())
        .collect();
    assert_eq!(ids, [tickets[4].clone(), tickets[3].clone()]);
    assert_eq!(reads.take(), 2 + 4, "up to the page's end");
}

async fn an_unreadable_end_user_leaves_the_rest_listed(api: TestApi) {
    let kept = api.create(1, json!({"firstname": "Kept"})).await;
    let tenant = TenantId::new(1).expect("tenant");
    let mut broken = Item::default();
    for (name, value) in [
        ("endUserID", number(77)),
        (
            "GSI1PK",
            AttributeValue::S(end_user::list_partition(tenant)),
        ),
        ("GSI1SK", number(77)),
        ("uids", AttributeValue::S("not a list".into())),
    ] {
        broken.insert(name.into(), value);
    }
    let write = Write::Put {
        item: keyed(Kind::EndUser, end_user::key(tenant, 77), broken),
        condition: None,
    };
    api.table().write(vec![write]).await.expect("a broken item");
    let listed = api.get("/api/EndUsers", 1).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let ids: Vec<u64> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ids, [id_of(&kept)]);
}
