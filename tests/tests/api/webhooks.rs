//! The channel webhooks (SPEC 5): signatures, the order of checks, sender resolution, one end
//! user, one ticket and one message however often and however concurrently a message arrives.

use std::sync::Arc;

use answerpal_testkit::{TestApi, TestResponse};
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    a_new_sender_becomes_a_lead_with_an_open_ticket,
    a_whatsapp_sender_is_named_by_their_profile,
    redelivered_messages_are_recorded_once,
    checks_run_in_order_and_refusals_store_nothing,
    a_closed_ticket_leaves_the_next_message_a_new_ticket,
    a_web_chat_email_is_linked_when_free,
    concurrent_first_messages_make_one_end_user_and_one_ticket,
    racing_redeliveries_answer_the_same,
    an_older_email_never_moves_its_ticket_back,
    oversized_and_doubly_signed_requests_are_refused_first,
    provider_message_ids_are_per_channel,
);

pub const TWILIO_TOKEN: &str = "twilio-auth-token-for-tests";
pub const SIGNING_SECRET: &str = "webhook-signing-secret-for-tests";

/// Tenant `tenant` with both webhook secrets, a default representative, and one channel of each
/// kind: e-mail 1, SMS 2, WhatsApp 4, web chat 5.
pub async fn set_up(api: &TestApi, tenant: u64) {
    let saved = api
        .put(
            "/api/Customers/me",
            tenant,
            json!({"twilioAuthToken": TWILIO_TOKEN, "webhookSigningSecret": SIGNING_SECRET,
                "defaultCustomerRepID": 12}),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    for (id, kind, address) in [
        (1, "Email", "support@example.com"),
        (2, "SMS", "+32470999001"),
        (4, "WhatsApp", "+32470999002"),
        (5, "Webchat", "site widget"),
    ] {
        let path = format!("/api/Customers/channels/{id}");
        let body = json!({"channelType": kind, "address": address});
        assert!(api.put(&path, tenant, body).await.status < 300);
    }
}

pub async fn sms(api: &TestApi, tenant: u64, from: &str, sid: &str, text: &str) -> TestResponse {
    let params = [
        ("From", from),
        ("To", "+32470999001"),
        ("Body", text),
        ("MessageSid", sid),
    ];
    api.twilio(tenant, 2, &params, TWILIO_TOKEN).await
}

pub async fn email(api: &TestApi, tenant: u64, from: &str, id: &str) -> TestResponse {
    let body = json!({"from": {"email": from, "name": "Jane Mail"}, "to": "support@example.com",
        "subject": "Invoice question", "messageID": id, "textBody": "Is invoice 42 paid?",
        "receivedAt": "2026-11-30T10:00:00Z"});
    api.signed_webhook("email", tenant, 1, &body, SIGNING_SECRET)
        .await
}

pub async fn tickets_of(api: &TestApi, tenant: u64, end_user: u64) -> Vec<Value> {
    let page = api
        .get(&format!("/api/EndUsers/{end_user}/tickets"), tenant)
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    page.body["items"].as_array().cloned().unwrap_or_default()
}

pub async fn resolve(api: &TestApi, tenant: u64, uid: &str) -> Value {
    let found = api
        .get(
            &format!("/api/EndUsers/byUid?uid={}", uid.replace('+', "%2B")),
            tenant,
        )
        .await;
    assert_eq!(found.status, 200, "{uid}: {:?}", found.body);
    found.body
}

async fn a_new_sender_becomes_a_lead_with_an_open_ticket(api: TestApi) {
    set_up(&api, 1).await;
    let text = "Hello, my parcel with order number 5512 did not arrive and the tracking page shows nothing at all";
    let answered = sms(&api, 1, "+32 470 11 22 33", "SM-1", text).await;
    assert_eq!(answered.status, 200, "{:?}", answered.body);
    assert_eq!(answered.header("content-type"), Some("text/xml"));
    assert!(
        answered
            .body
            .as_str()
            .is_some_and(|b| b.contains("<Response/>"))
    );

    let person = resolve(&api, 1, "+32470112233").await;
    assert_eq!(person["customerType"], "Lead");
    assert_eq!(person["uids"][0]["uidType"], "Phone");
    let tickets = tickets_of(&api, 1, id_of(&person)).await;
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(ticket["status"], "Open");
    assert_eq!(ticket["isClosed"], false);
    assert_eq!(
        (ticket["channelType"].clone(), ticket["channelID"].clone()),
        (json!("SMS"), json!(2))
    );
    assert_eq!(ticket["uid"], "+32470112233");
    assert_eq!(
        ticket["customerRepID"], 12,
        "the tenant's default representative"
    );
    assert_eq!(
        ticket["subject"].as_str().map(|s| s.chars().count()),
        Some(80)
    );
    assert_eq!(
        (
            ticket["messageCount"].clone(),
            ticket["lastEndUserMessageID"].clone()
        ),
        (json!(1), json!("SM-1"))
    );

    // The next message of the sender joins the open ticket.
    assert_eq!(
        sms(&api, 1, "+32470112233", "SM-2", "Any news?")
            .await
            .status,
        200
    );
    let tickets = tickets_of(&api, 1, id_of(&person)).await;
    assert_eq!(tickets.len(), 1);
    assert_eq!(
        (
            tickets[0]["messageCount"].clone(),
            tickets[0]["lastEndUserMessageID"].clone()
        ),
        (json!(2), json!("SM-2"))
    );
    let ticket_id = tickets[0]["ticketID"].as_u64().expect("ticketID");
    let messages = api
        .get(&format!("/api/Tickets/{ticket_id}/messages"), 1)
        .await
        .body;
    assert_eq!(messages["totalCount"], 2);
    let items = messages["items"].as_array().expect("items");
    assert_eq!(
        (
            items[0]["providerMessageID"].clone(),
            items[1]["text"].clone()
        ),
        (json!("SM-1"), json!("Any news?"))
    );
    assert!(
        items
            .iter()
            .all(|m| m["direction"] == "Inbound" && m["from"] == "+32470112233")
    );
    assert!(items[0]["messageID"].as_u64() < items[1]["messageID"].as_u64());

    // E-mail answers with the ids; its subject becomes the ticket's.
    let mailed = email(&api, 1, "Jane@Example.com", "<m-1@example.com>").await;
    assert_eq!(mailed.status, 200, "{:?}", mailed.body);
    let end_user = mailed.body["endUserID"].as_u64().expect("endUserID");
    let ticket = api
        .get(&format!("/api/Tickets/{}", mailed.body["ticketID"]), 1)
        .await
        .body;
    assert_eq!(
        (ticket["subject"].clone(), ticket["endUserID"].clone()),
        (json!("Invoice question"), json!(end_user))
    );
    assert_eq!(
        resolve(&api, 1, "jane@example.com").await["name"],
        "Jane Mail"
    );
}

async fn a_whatsapp_sender_is_named_by_their_profile(api: TestApi) {
    set_up(&api, 1).await;
    let params = [
        ("From", "whatsapp:+32470445566"),
        ("To", "whatsapp:+32470999002"),
        ("Body", "Hi!"),
        ("MessageSid", "SM-wa-1"),
        ("ProfileName", "Piet"),
        ("WaId", "32470445566"),
    ];
    assert_eq!(api.twilio(1, 4, &params, TWILIO_TOKEN).await.status, 200);
    let person = resolve(&api, 1, "+32470445566").await;
    assert_eq!(
        (person["name"].clone(), person["uids"][0]["uidType"].clone()),
        (json!("Piet"), json!("WhatsApp"))
    );
    let tickets = tickets_of(&api, 1, id_of(&person)).await;
    assert_eq!(
        (
            tickets[0]["channelType"].clone(),
            tickets[0]["channelID"].clone()
        ),
        (json!("WhatsApp"), json!(4))
    );
    // A WhatsApp message to the SMS channel, or an SMS to the WhatsApp one, has no channel.
    assert_problem(&api.twilio(1, 2, &params, TWILIO_TOKEN).await, 404);
    let sms_params = [
        ("From", "+32470445566"),
        ("Body", "Hi"),
        ("MessageSid", "SM-x"),
    ];
    assert_problem(&api.twilio(1, 4, &sms_params, TWILIO_TOKEN).await, 404);
}

async fn redelivered_messages_are_recorded_once(api: TestApi) {
    set_up(&api, 1).await;
    let first = email(&api, 1, "twice@example.com", "dup-1").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let again = email(&api, 1, "twice@example.com", "dup-1").await;
    assert_eq!(
        (again.status, again.body.clone()),
        (200, first.body.clone())
    );
    assert_eq!(sms(&api, 1, "+32470778899", "SM-d", "x").await.status, 200);
    assert_eq!(sms(&api, 1, "+32470778899", "SM-d", "x").await.status, 200);
    let ticket = api
        .get(&format!("/api/Tickets/{}", first.body["ticketID"]), 1)
        .await
        .body;
    assert_eq!(ticket["messageCount"], 1);
    let person = resolve(&api, 1, "+32470778899").await;
    assert_eq!(
        tickets_of(&api, 1, id_of(&person)).await[0]["messageCount"],
        1
    );
    // The same provider id at another tenant is another message.
    set_up(&api, 2).await;
    let other = email(&api, 2, "twice@example.com", "dup-1").await;
    assert_eq!(other.status, 200);
    assert_ne!(other.body, first.body);
}

async fn checks_run_in_order_and_refusals_store_nothing(api: TestApi) {
    set_up(&api, 1).await;
    let valid =
        json!({"from": {"email": "order@example.com"}, "messageID": "o-1", "textBody": "hi"});
    // 403: a bad signature, a missing one, an unknown tenant, a tenant without the secret.
    assert_problem(
        &api.signed_webhook("email", 1, 1, &valid, "wrong-secret")
            .await,
        403,
    );
    let unsigned = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/webhooks/email/1/1")
        .header("content-type", "application/json")
        .body(lambda_http::Body::Text(valid.to_string()))
        .expect("request");
    assert_problem(&api.raw(unsigned).await, 403);
    assert_problem(
        &api.signed_webhook("email", 999, 1, &valid, SIGNING_SECRET)
            .await,
        403,
    );
    assert_problem(
        &api.twilio(1, 2, &[("From", "+32470000001")], "wrong-token")
            .await,
        403,
    );
    api.put(
        "/api/Customers/me",
        3,
        json!({"twilioAuthToken": "only-twilio"}),
    )
    .await;
    assert_problem(&api.signed_webhook("webchat", 3, 5, &valid, "").await, 403);
    // A wrong signature is refused before the channel is looked at.
    assert_problem(
        &api.signed_webhook("email", 1, 77, &valid, "wrong").await,
        403,
    );
    // 404: no such channel, or one of another type; before the payload is read.
    assert_problem(
        &api.signed_webhook("email", 1, 77, &valid, SIGNING_SECRET)
            .await,
        404,
    );
    assert_problem(
        &api.signed_webhook("email", 1, 2, &json!({}), SIGNING_SECRET)
            .await,
        404,
    );
    assert_problem(
        &api.signed_webhook("webchat", 1, 1, &valid, SIGNING_SECRET)
            .await,
        404,
    );
    // 400: a malformed payload, validly signed, on the right channel.
    assert_field_error(
        &api.signed_webhook(
            "email",
            1,
            1,
            &json!({"messageID": "o-2", "textBody": "x"}),
            SIGNING_SECRET,
        )
        .await,
        "from.email",
    );
    assert_field_error(
        &api.signed_webhook(
            "email",
            1,
            1,
            &json!({"from": {"email": "no-at"}, "messageID": "o-3", "textBody": "x"}),
            SIGNING_SECRET,
        )
        .await,
        "from.email",
    );
    assert_field_error(
        &api.signed_webhook(
            "webchat",
            1,
            5,
            &json!({"visitorID": "v-1", "text": "x"}),
            SIGNING_SECRET,
        )
        .await,
        "messageID",
    );
    assert_field_error(
        &api.twilio(1, 2, &[("Body", "x"), ("MessageSid", "SM-z")], TWILIO_TOKEN)
            .await,
        "From",
    );
    // Nothing of any of them was stored.
    assert_eq!(api.get("/api/EndUsers", 1).await.body["totalCount"], 0);
    assert_eq!(api.get("/api/EndUsers", 999).await.body["totalCount"], 0);
}

async fn a_closed_ticket_leaves_the_next_message_a_new_ticket(api: TestApi) {
    set_up(&api, 1).await;
    let first = email(&api, 1, "again@example.com", "a-1").await.body;
    let closed = api
        .put(
            &format!("/api/Tickets/{}", first["ticketID"]),
            1,
            json!({"status": "Closed"}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    let second = email(&api, 1, "again@example.com", "a-2").await.body;
    assert_ne!(second["ticketID"], first["ticketID"]);
    assert_eq!(second["endUserID"], first["endUserID"]);
    let end_user = first["endUserID"].as_u64().expect("id");
    let tickets = tickets_of(&api, 1, end_user).await;
    assert_eq!(tickets.len(), 2);
    // Reopening the first while the second is open on the channel: 409.
    let reopen = api
        .put(
            &format!("/api/Tickets/{}", first["ticketID"]),
            1,
            json!({"status": "Open"}),
        )
        .await;
    assert_problem(&reopen, 409);
}

async fn a_web_chat_email_is_linked_when_free(api: TestApi) {
    set_up(&api, 1).await;
    let holder = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "taken@example.com"}]}),
        )
        .await;
    let chat = |visitor: &str, id: &str, mail: &str| json!({"visitorID": visitor, "messageID": id, "text": "Hello from the site", "name": "Visitor", "email": mail});
    let fresh = api
        .signed_webhook(
            "webchat",
            1,
            5,
            &chat("visitor-1", "w-1", "Free@Example.com"),
            SIGNING_SECRET,
        )
        .await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    let person = resolve(&api, 1, "visitor-1").await;
    assert_eq!(
        id_of(&resolve(&api, 1, "free@example.com").await),
        id_of(&person)
    );
    assert_eq!(person["name"], "Visitor");
    // Held by someone else: the visitor's end user does not get it.
    api.signed_webhook(
        "webchat",
        1,
        5,
        &chat("visitor-2", "w-2", "taken@example.com"),
        SIGNING_SECRET,
    )
    .await;
    assert_eq!(
        id_of(&resolve(&api, 1, "taken@example.com").await),
        id_of(&holder)
    );
    // A known visitor's new address is linked too.
    api.signed_webhook(
        "webchat",
        1,
        5,
        &chat("visitor-2", "w-3", "second@example.com"),
        SIGNING_SECRET,
    )
    .await;
    assert_eq!(
        id_of(&resolve(&api, 1, "second@example.com").await),
        id_of(&resolve(&api, 1, "visitor-2").await)
    );
}

async fn concurrent_first_messages_make_one_end_user_and_one_ticket(api: TestApi) {
    set_up(&api, 1).await;
    let api = Arc::new(api);
    let sends = (0..8).map(|n| {
        let api = Arc::clone(&api);
        tokio::spawn(async move {
            sms(&api, 1, "+32470123123", &format!("SM-burst-{n}"), "burst")
                .await
                .status
        })
    });
    for send in sends {
        assert_eq!(send.await.expect("a send"), 200);
    }
    let people = api.get("/api/EndUsers?search=32470123123", 1).await.body;
    assert_eq!(people["totalCount"], 1, "{people}");
    let person = resolve(&api, 1, "+32470123123").await;
    let tickets = tickets_of(&api, 1, id_of(&person)).await;
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(tickets[0]["messageCount"], 8);
    let messages = api
        .get(
            &format!(
                "/api/Tickets/{}/messages?pageSize=100",
                tickets[0]["ticketID"]
            ),
            1,
        )
        .await
        .body;
    assert_eq!(messages["items"].as_array().map(Vec::len), Some(8));
}

async fn racing_redeliveries_answer_the_same(api: TestApi) {
    set_up(&api, 1).await;
    let api = Arc::new(api);
    let sends = (0..6).map(|_| {
        let api = Arc::clone(&api);
        tokio::spawn(async move { email(&api, 1, "race@example.com", "race-1").await })
    });
    let mut answers = Vec::new();
    for send in sends {
        let answer = send.await.expect("a send");
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answers.push(answer.body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let ticket = api
        .get(&format!("/api/Tickets/{}", answers[0]["ticketID"]), 1)
        .await
        .body;
    assert_eq!(ticket["messageCount"], 1);
}

async fn email_at(api: &TestApi, id: &str, received_at: &str) -> TestResponse {
    let body = json!({"from": {"email": "late@example.com"}, "subject": "Order",
        "messageID": id, "textBody": "Where is it?", "receivedAt": received_at});
    let answered = api
        .signed_webhook("email", 1, 1, &body, SIGNING_SECRET)
        .await;
    assert_eq!(answered.status, 200, "{:?}", answered.body);
    answered
}

async fn an_older_email_never_moves_its_ticket_back(api: TestApi) {
    set_up(&api, 1).await;
    let first = email_at(&api, "E-1", "2026-11-30T10:00:00Z").await;
    email_at(&api, "E-2", "2026-11-30T12:00:00Z").await;
    // Delivered late: counted, but neither the latest nor a step back in time.
    email_at(&api, "E-3", "2026-11-30T11:00:00Z").await;
    let ticket = api
        .get(&format!("/api/Tickets/{}", first.body["ticketID"]), 1)
        .await
        .body;
    assert_eq!(ticket["messageCount"], 3);
    assert_eq!(ticket["lastMessageAt"], "2026-11-30T12:00:00Z");
    assert_eq!(ticket["updatedAt"], "2026-11-30T12:00:00Z");
    assert_eq!(ticket["lastEndUserMessageID"], "E-2");
}

async fn provider_message_ids_are_per_channel(api: TestApi) {
    set_up(&api, 1).await;
    let mail = email_at(&api, "SAME-1", "2026-11-30T10:00:00Z").await;
    let body = json!({"visitorID": "visitor-9", "messageID": "SAME-1", "text": "hi"});
    let chat = api
        .signed_webhook("webchat", 1, 5, &body, SIGNING_SECRET)
        .await;
    assert_eq!(chat.status, 200, "{:?}", chat.body);
    assert_ne!(
        chat.body, mail.body,
        "answered as the other channel's message"
    );
    assert_eq!(
        chat.body["endUserID"],
        id_of(&resolve(&api, 1, "visitor-9").await)
    );
    // The same id again on the same channel is still one message.
    let again = api
        .signed_webhook("webchat", 1, 5, &body, SIGNING_SECRET)
        .await;
    assert_eq!(again.body, chat.body);
}

async fn oversized_and_doubly_signed_requests_are_refused_first(api: TestApi) {
    set_up(&api, 1).await;
    let request = |body: String, signatures: &[String]| {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/webhooks/email/1/1")
            .header("content-type", "application/json");
        for signature in signatures {
            builder = builder.header("x-webhook-signature", signature);
        }
        builder
            .body(lambda_http::Body::Text(body))
            .expect("request")
    };
    let sign = |body: &str, secret: &str| {
        answerpal::http::signature::sha256_header(secret, body.as_bytes())
    };
    // 413 before the signature: unsigned, badly signed, or validly signed.
    let big = json!({"from": {"email": "big@example.com"}, "messageID": "big-1",
        "textBody": "x".repeat(300 * 1024)})
    .to_string();
    for signatures in [
        vec![],
        vec![sign(&big, "wrong")],
        vec![sign(&big, SIGNING_SECRET)],
    ] {
        assert_problem(&api.raw(request(big.clone(), &signatures)).await, 413);
    }
    // Two signature headers: refused in either order, nothing stored.
    let body = json!({"from": {"email": "twice@example.com"}, "messageID": "t-1",
        "textBody": "hi"})
    .to_string();
    let good = sign(&body, SIGNING_SECRET);
    let bad = sign(&body, "wrong");
    for pair in [[good.clone(), bad.clone()], [bad, good.clone()]] {
        assert_problem(&api.raw(request(body.clone(), &pair)).await, 403);
    }
    let twilio = |signatures: &[&str]| {
        let params = [
            ("From", "+32470000009"),
            ("Body", "hi"),
            ("MessageSid", "SM-9"),
        ];
        let path = "/webhooks/twilio/1/2";
        let pairs: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let valid = answerpal::http::signature::twilio_signature(
            TWILIO_TOKEN,
            &format!("http://localhost{path}"),
            &pairs,
        );
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri(path)
            .header("host", "localhost")
            .header("content-type", "application/x-www-form-urlencoded");
        for signature in signatures {
            let value = if *signature == "valid" {
                valid.as_str()
            } else {
                signature
            };
            builder = builder.header("x-twilio-signature", value);
        }
        builder
            .body(lambda_http::Body::Text(body))
            .expect("request")
    };
    assert_eq!(
        api.raw(twilio(&["valid"])).await.status,
        200,
        "the valid one alone"
    );
    assert_problem(&api.raw(twilio(&["valid", "forged"])).await, 403);
    assert!(
        api.get("/api/EndUsers/byUid?uid=twice%40example.com", 1)
            .await
            .status
            == 404
    );
}
