//! Tickets and messages as the desk sees them (SPEC 4): read, update, list, replies.

use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{SIGNING_SECRET, TWILIO_TOKEN, email, set_up, sms, tickets_of};

on_both_stores!(
    a_ticket_is_read_and_updated_by_the_desk,
    replies_are_outbound_messages_of_open_tickets,
    the_tickets_list_filters_sorts_and_pages,
    messages_are_paged_oldest_first,
    a_deleted_end_users_tickets_stay_readable,
);

/// One e-mail ticket of a new end user: (ticketID, endUserID).
async fn one_ticket(api: &TestApi, from: &str, id: &str) -> (u64, u64) {
    let answer = email(api, 1, from, id).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    (
        answer.body["ticketID"].as_u64().expect("ticketID"),
        answer.body["endUserID"].as_u64().expect("endUserID"),
    )
}

async fn a_ticket_is_read_and_updated_by_the_desk(api: TestApi) {
    set_up(&api, 1).await;
    let (id, _) = one_ticket(&api, "desk@example.com", "d-1").await;
    let path = format!("/api/Tickets/{id}");
    let read = api.get(&path, 1).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["closedAt"], Value::Null);
    let updated = api
        .put(
            &path,
            1,
            json!({"customerRepID": 0, "isSpam": true, "topics": ["billing", " late "],
            "aiFeedbackComments": "too slow", "status": "Pending"}),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["customerRepID"], Value::Null);
    assert_eq!(updated.body["topics"], json!(["billing", "late"]));
    assert_eq!(
        (
            updated.body["status"].clone(),
            updated.body["isClosed"].clone()
        ),
        (json!("Pending"), json!(false))
    );
    let kept = api
        .put(
            &path,
            1,
            json!({"customerRepID": null, "aiFeedbackComments": ""}),
        )
        .await
        .body;
    assert_eq!(
        (kept["isSpam"].clone(), kept["aiFeedbackComments"].clone()),
        (json!(true), Value::Null)
    );
    let closed = api.put(&path, 1, json!({"status": "closed"})).await.body;
    assert_eq!(
        (closed["status"].clone(), closed["isClosed"].clone()),
        (json!("Closed"), json!(true))
    );
    assert!(closed["closedAt"].is_string());
    // No other ticket is open on the channel: reopening is allowed.
    let reopened = api.put(&path, 1, json!({"status": "Open"})).await.body;
    assert_eq!(
        (reopened["isClosed"].clone(), reopened["closedAt"].clone()),
        (json!(false), Value::Null)
    );
    // Errors.
    assert_field_error(
        &api.put(&path, 1, json!({"status": "Solved"})).await,
        "status",
    );
    assert_field_error(
        &api.put(&path, 1, json!({"customerRepID": -4})).await,
        "customerRepID",
    );
    assert_problem(&api.get(&path, 2).await, 404);
    assert_problem(&api.put(&path, 2, json!({"status": "Closed"})).await, 404);
    assert_field_error(&api.get("/api/Tickets/0", 1).await, "ticketID");
    assert_problem(&api.get("/api/Tickets/123456", 1).await, 404);
}

async fn replies_are_outbound_messages_of_open_tickets(api: TestApi) {
    set_up(&api, 1).await;
    let (id, _) = one_ticket(&api, "reply@example.com", "r-1").await;
    let path = format!("/api/Tickets/{id}/messages");
    let reply = api.post(&path, 1, json!({"text": "We are on it."})).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(
        (
            reply.body["direction"].clone(),
            reply.body["ticketID"].clone()
        ),
        (json!("Outbound"), json!(id))
    );
    assert_eq!(reply.body["providerMessageID"], Value::Null);
    let ticket = api.get(&format!("/api/Tickets/{id}"), 1).await.body;
    assert_eq!(
        (
            ticket["messageCount"].clone(),
            ticket["lastEndUserMessageID"].clone()
        ),
        (json!(2), json!("r-1"))
    );
    assert_field_error(&api.post(&path, 1, json!({"text": ""})).await, "text");
    assert_field_error(
        &api.post(&path, 1, json!({"text": "x".repeat(10_001)}))
            .await,
        "text",
    );
    api.put(
        &format!("/api/Tickets/{id}"),
        1,
        json!({"status": "Closed"}),
    )
    .await;
    assert_problem(&api.post(&path, 1, json!({"text": "Too late"})).await, 409);
    assert_problem(&api.post(&path, 2, json!({"text": "Not mine"})).await, 404);
}

async fn the_tickets_list_filters_sorts_and_pages(api: TestApi) {
    set_up(&api, 1).await;
    let (mail_ticket, person) = one_ticket(&api, "list@example.com", "l-1").await;
    // The same person also writes by SMS: link the number, then message.
    api.post(
        "/api/EndUserUIDs/assign",
        1,
        json!({"uid": "+32470555666", "endUserID": person, "uidType": "Phone"}),
    )
    .await;
    assert_eq!(
        sms(&api, 1, "+32470555666", "SM-l", "text me").await.status,
        200
    );
    api.put(
        &format!("/api/Tickets/{mail_ticket}"),
        1,
        json!({"status": "Closed", "topics": ["Refund"]}),
    )
    .await;
    let list = |query: &str| {
        let api = &api;
        let path = format!("/api/EndUsers/{person}/tickets{query}");
        async move { api.get(&path, 1).await }
    };
    let all = list("").await.body;
    assert_eq!(
        (all["totalCount"].clone(), all["pageSize"].clone()),
        (json!(2), json!(25))
    );
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["channelType"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(ids(&list("?isClosed=false").await.body), ["SMS"]);
    assert_eq!(ids(&list("?status=closed").await.body), ["Email"]);
    assert_eq!(
        ids(&list("?channelIDs=1,2&channelType=SMS").await.body),
        ["SMS"]
    );
    assert_eq!(
        ids(
            &list("?channelIDs=2&channelIDs=1&sortBy=ticketID&sortOrder=asc")
                .await
                .body
        )
        .len(),
        2
    );
    assert_eq!(
        ids(&list("?uid=0032%20470%20555%20666").await.body),
        ["SMS"]
    );
    assert_eq!(ids(&list("?search=refund").await.body), ["Email"]);
    assert_eq!(
        ids(&list("?customerRepID=12&isSpam=false").await.body).len(),
        2
    );
    assert_eq!(ids(&list("?customerRepID=0").await.body).len(), 0);
    let paged = list("?pageSize=1&pageNumber=2&sortBy=status&sortOrder=asc")
        .await
        .body;
    assert_eq!(
        (ids(&paged), paged["totalPages"].clone()),
        (vec!["Email".to_owned()], json!(2))
    );
    for bad in [
        "?status=Solved",
        "?isClosed=maybe",
        "?channelIDs=x",
        "?sortBy=subject",
        "?pageSize=0",
        "?customerRepID=-1",
        "?channelType=Fax",
        "?uid=",
    ] {
        assert_eq!(list(bad).await.status, 400, "{bad}");
    }
    assert_problem(&api.get("/api/EndUsers/424242/tickets", 1).await, 404);
    assert_problem(
        &api.get(&format!("/api/EndUsers/{person}/tickets"), 2).await,
        404,
    );
    let _ = TWILIO_TOKEN;
}

async fn messages_are_paged_oldest_first(api: TestApi) {
    set_up(&api, 1).await;
    let (id, _) = one_ticket(&api, "pages@example.com", "p-0").await;
    for n in 1..5 {
        api.post(
            &format!("/api/Tickets/{id}/messages"),
            1,
            json!({"text": format!("reply {n}")}),
        )
        .await;
    }
    let page = |n: u32| {
        let api = &api;
        async move {
            api.get(
                &format!("/api/Tickets/{id}/messages?pageSize=2&pageNumber={n}"),
                1,
            )
            .await
            .body
        }
    };
    let second = page(2).await;
    assert_eq!(texts(&second), ["reply 2", "reply 3"]);
    assert_eq!(
        (second["totalCount"].clone(), second["totalPages"].clone()),
        (json!(5), json!(3))
    );
    assert_eq!(texts(&page(3).await), ["reply 4"]);
    assert!(texts(&page(4).await).is_empty());
    assert_problem(
        &api.get(&format!("/api/Tickets/{id}/messages?pageSize=101"), 1)
            .await,
        400,
    );
    let _ = SIGNING_SECRET;
}

async fn a_deleted_end_users_tickets_stay_readable(api: TestApi) {
    set_up(&api, 1).await;
    let (id, person) = one_ticket(&api, "gone@example.com", "g-1").await;
    assert_eq!(tickets_of(&api, 1, person).await.len(), 1);
    assert_eq!(
        api.delete(&format!("/api/EndUsers/{person}"), 1)
            .await
            .status,
        204
    );
    assert_eq!(api.get(&format!("/api/Tickets/{id}"), 1).await.status, 200);
    assert_eq!(
        api.get(&format!("/api/Tickets/{id}/messages"), 1)
            .await
            .body["totalCount"],
        1
    );
    assert_problem(
        &api.get(&format!("/api/EndUsers/{person}/tickets"), 1).await,
        404,
    );
}
