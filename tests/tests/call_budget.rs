//! DynamoDB calls per operation, counted by an SDK interceptor, against the budget:
//! GET by id 1, create 1 (2 with UIDs: their suppressions), byUid at most 2, assign/PUT/DELETE
//! at most 2 (3 when they link an address), a list page at most 2
//! (by page number or by cursor), the consent history 1, the duplicate candidates 1 + the end
//! user's match keys, a dismissal 2; a write that gains match keys (SPEC 9) one more per key
//! gained, read beside the suppressions, and one more when someone holds one;
//! the tenant account, ticket, webhook, lifecycle, timeline and CRM sync operations as their
//! tests say.

use answerpal::service::contact_sync;
use answerpal_testkit::{CrmAnswer, FakeCrm, TestApi, contact_syncer, queued};
use serde_json::json;

/// The DynamoDB calls made since it was last called.
fn meter(api: &TestApi) -> impl FnMut() -> u64 + '_ {
    let mut last = api.call_count();
    move || {
        let now = api.call_count();
        let spent = now - last;
        last = now;
        spent
    }
}

/// The API on moto, tenant 1 with Twilio's and the webhooks' secrets (`tw-budget`,
/// `wh-budget`) and SMS channel 2.
async fn with_sms_channel() -> TestApi {
    let api = TestApi::dynamodb().await;
    let secrets = json!({"twilioAuthToken": "tw-budget", "webhookSigningSecret": "wh-budget"});
    assert_eq!(api.put("/api/Customers/me", 1, secrets).await.status, 200);
    let sms = json!({"channelType": "SMS", "address": "+32470999001"});
    let saved = api.put("/api/Customers/channels/2", 1, sms).await;
    assert_eq!(saved.status, 201);
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_stays_within_its_call_budget() {
    let api = TestApi::dynamodb().await;
    let mut calls = meter(&api);

    let created = api
        .create(
            1,
            json!({"customerRef": "B-1", "uids": [
                {"uidType": "Email", "uid": "budget@example.com"},
                {"uidType": "Phone", "uid": "+32470000001"}
            ]}),
        )
        .await;
    // The new addresses' suppressions and index items in one batch, beside one index query per
    // match key it gains (the e-mail, the phone, the customerRef); one transaction.
    assert_eq!(calls(), 2 + 3, "create");
    let id = created["endUserID"].as_u64().expect("id");
    let path = format!("/api/EndUsers/{id}");

    assert_eq!(api.get(&path, 1).await.status, 200);
    assert_eq!(calls(), 1, "GET by id");

    assert_eq!(
        api.get("/api/EndUsers/byUid?uid=budget@example.com", 1)
            .await
            .status,
        200
    );
    assert_eq!(calls(), 2, "byUid");
    assert_eq!(
        api.get("/api/EndUsers/byUid?uid=nobody@example.com", 1)
            .await
            .status,
        404
    );
    assert_eq!(calls(), 1, "byUid without a match");

    let assign = json!({"uid": "second@example.com", "endUserID": id, "uidType": "Email"});
    assert_eq!(
        api.post("/api/EndUserUIDs/assign", 1, assign.clone())
            .await
            .status,
        201
    );
    // The e-mail's match key besides.
    assert_eq!(calls(), 3 + 1, "assign (new link)");
    assert_eq!(
        api.post("/api/EndUserUIDs/assign", 1, assign).await.status,
        200
    );
    assert_eq!(calls(), 1, "assign (existing link)");

    let update = json!({"firstname": "Budget", "customerRef": "B-2", "uids": [{"uidType": "External", "uid": "crm-b"}]});
    assert_eq!(api.put(&path, 1, update.clone()).await.status, 200);
    // Gained: the name with the e-mails' domain, the customerRef, the external id.
    assert_eq!(calls(), 3 + 3, "PUT linking a UID");
    assert_eq!(api.put(&path, 1, update).await.status, 200);
    assert_eq!(calls(), 1, "PUT that changes nothing");
    let renamed = json!({"firstname": "Budgeted"});
    assert_eq!(api.put(&path, 1, renamed).await.status, 200);
    // The new name with the e-mails' domain is a key gained.
    assert_eq!(calls(), 2 + 1, "PUT renaming");
    let unkeyed = json!({"city": "Gent"});
    assert_eq!(api.put(&path, 1, unkeyed).await.status, 200);
    assert_eq!(calls(), 2, "PUT linking nothing and gaining no key");

    for _ in 0..30 {
        api.create(1, json!({"firstname": "filler"})).await;
    }
    calls();
    let page = api
        .get("/api/EndUsers?pageSize=25&sortBy=name&search=fill", 1)
        .await;
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(25));
    assert_eq!(calls(), 2, "list page");
    let first = api.get("/api/EndUsers?pageSize=10&cursor=", 1).await;
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(10));
    assert_eq!(calls(), 2, "cursor page (the first)");
    let cursor = first.body["nextCursor"].as_str().expect("a next cursor");
    let next = api
        .get(&format!("/api/EndUsers?pageSize=10&cursor={cursor}"), 1)
        .await;
    assert_eq!(next.body["items"].as_array().map(Vec::len), Some(10));
    assert_eq!(calls(), 2, "cursor page (the next)");

    assert_eq!(api.get(&format!("{path}/consent"), 1).await.status, 200);
    assert_eq!(calls(), 1, "consent history");

    // Its keys: two e-mails (one address key each), their one name and domain key, the phone,
    // the customerRef and the external id.
    let twin = api
        .create(
            1,
            json!({"uids": [{"uidType": "WhatsApp", "uid": "+32470000001"}]}),
        )
        .await;
    // Gained: the number, held by the end user above (its record read with the dismissal).
    assert_eq!(calls(), 2 + 1 + 1, "create sharing a number");
    let found = api.get(&format!("{path}/duplicates"), 1).await;
    assert_eq!(found.body["items"][0]["endUserID"], twin["endUserID"]);
    assert_eq!(calls(), 1 + 6, "duplicate candidates");
    let dismiss = format!("{path}/duplicates/{}/dismiss", twin["endUserID"]);
    assert_eq!(api.post(&dismiss, 1, json!({})).await.status, 204);
    assert_eq!(calls(), 2, "dismissal");

    assert_eq!(api.delete(&path, 1).await.status, 204);
    // Its partition, its timeline's first records (removed with it when few), one transaction.
    assert_eq!(calls(), 3, "DELETE");
}

/// The tenant account: GET me 1, PUT me at most 2, models at most 1, channels list 1, channel
/// PUT/DELETE 1 each, my-secrets at most 2; the OpenAPI document 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_operation_stays_within_its_call_budget() {
    let api = TestApi::dynamodb().await;
    let mut calls = meter(&api);

    assert_eq!(api.get("/api/Customers/me", 1).await.status, 200);
    assert_eq!(calls(), 1, "GET me (nothing saved)");
    assert_eq!(api.get("/api/Customers/models", 1).await.status, 200);
    assert_eq!(calls(), 1, "models (nothing saved)");
    let document = api.get("/api/openapi.json", 1).await;
    assert_eq!(document.body["openapi"], "3.1.0");
    assert_eq!(calls(), 0, "the OpenAPI document (compiled in)");
    let update =
        json!({"twilioAuthToken": "tw", "twilioAccountSID": "AC1", "defaultTopicModelId": 2});
    assert_eq!(api.put("/api/Customers/me", 1, update).await.status, 200);
    assert_eq!(calls(), 2, "PUT me (first save, sealing a secret)");
    let update = json!({"openAIApiKey": "sk", "imapPort": 993});
    assert_eq!(api.put("/api/Customers/me", 1, update).await.status, 200);
    assert_eq!(calls(), 2, "PUT me (opening and sealing again)");
    assert_eq!(api.get("/api/Customers/me", 1).await.status, 200);
    assert_eq!(calls(), 1, "GET me");
    assert_eq!(api.get("/api/Customers/models", 1).await.status, 200);
    assert_eq!(calls(), 1, "models with defaults");

    let phone = json!({"channelType": "Phone", "address": "+3236416685"});
    assert_eq!(
        api.put("/api/Customers/channels/3", 1, phone.clone())
            .await
            .status,
        201
    );
    assert_eq!(calls(), 1, "channel PUT (new)");
    assert_eq!(
        api.put("/api/Customers/channels/3", 1, phone).await.status,
        200
    );
    assert_eq!(calls(), 1, "channel PUT (replace)");
    assert_eq!(api.get("/api/Customers/channels", 1).await.status, 200);
    assert_eq!(calls(), 1, "channels list");
    let secrets = api
        .send_with(
            "GET",
            "/api/Customers/my-secrets",
            Some(answerpal_testkit::phone_token(1, Some(3))),
            None,
        )
        .await;
    assert_eq!(secrets.status, 200);
    assert_eq!(calls(), 1, "my-secrets");
    assert_eq!(api.delete("/api/Customers/channels/3", 1).await.status, 204);
    assert_eq!(calls(), 1, "channel DELETE");
}

/// Webhooks: a new sender at most 2, a known sender with an open ticket at most 3 (a STOP too), a
/// redelivery at most 3; tickets list at most 2 (by page number or by cursor), ticket GET 1, PUT
/// at most 2, a messages page at most 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_ticket_and_webhook_operation_stays_within_its_call_budget() {
    let api = with_sms_channel().await;
    let mut calls = meter(&api);

    let message = |sid: &'static str| {
        [
            ("From", "+32470313131"),
            ("Body", "hello"),
            ("MessageSid", sid),
        ]
    };
    let stop = |sid: &'static str| {
        [
            ("From", "+32470313131"),
            ("Body", "STOP"),
            ("MessageSid", sid),
        ]
    };
    assert_eq!(
        api.twilio(1, 2, &message("SM-b1"), "tw-budget")
            .await
            .status,
        200
    );
    // Account, channel, delivery and the sender in one batch; its address's suppression and
    // its number's match key, at once; one transaction.
    assert_eq!(calls(), 3 + 1, "new sender");
    assert_eq!(
        api.twilio(1, 2, &message("SM-b2"), "tw-budget")
            .await
            .status,
        200
    );
    // The batch with the sender; the open ticket; one transaction.
    assert_eq!(calls(), 3, "known sender with an open ticket (budget 3)");
    assert_eq!(
        api.twilio(1, 2, &message("SM-b2"), "tw-budget")
            .await
            .status,
        200
    );
    // The batch finds the delivery record.
    assert_eq!(calls(), 1, "redelivery (budget 3)");
    assert_eq!(
        api.twilio(1, 2, &stop("SM-b3"), "tw-budget").await.status,
        200
    );
    // The batch with the sender; its open ticket and record in one batch; one transaction.
    assert_eq!(calls(), 3, "a STOP from a known sender (budget 3)");
    let email =
        json!({"from": {"email": "budget@example.com"}, "messageID": "e-1", "textBody": "x"});
    api.put(
        "/api/Customers/channels/1",
        1,
        json!({"channelType": "Email", "address": "s@example.com"}),
    )
    .await;
    calls();
    let mailed = api.signed_webhook("email", 1, 1, &email, "wh-budget").await;
    assert_eq!(mailed.status, 200);
    assert_eq!(
        calls(),
        3 + 1,
        "e-mail from a new sender (its address's match key)"
    );

    let person = mailed.body["endUserID"].as_u64().expect("endUserID");
    let ticket = mailed.body["ticketID"].as_u64().expect("ticketID");
    for n in 0..30 {
        api.post(
            &format!("/api/Tickets/{ticket}/messages"),
            1,
            json!({"text": format!("r{n}")}),
        )
        .await;
    }
    calls();
    assert_eq!(
        api.get(&format!("/api/EndUsers/{person}/tickets"), 1)
            .await
            .status,
        200
    );
    assert_eq!(calls(), 2, "tickets list");
    assert_eq!(
        api.get(&format!("/api/Tickets/{ticket}"), 1).await.status,
        200
    );
    assert_eq!(calls(), 1, "ticket GET");
    let update = json!({"status": "Pending", "topics": ["budget"]});
    assert_eq!(
        api.put(&format!("/api/Tickets/{ticket}"), 1, update)
            .await
            .status,
        200
    );
    assert_eq!(calls(), 2, "ticket PUT");
    assert_eq!(
        api.put(
            &format!("/api/Tickets/{ticket}"),
            1,
            json!({"status": "Closed"})
        )
        .await
        .status,
        200
    );
    assert_eq!(calls(), 2, "ticket PUT that closes");
    let page = api
        .get(
            &format!("/api/Tickets/{ticket}/messages?pageSize=10&pageNumber=3"),
            1,
        )
        .await;
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(10));
    assert_eq!(calls(), 2, "messages page");

    // The ticket is closed: a second one opens, and the list pages by cursor.
    let email =
        json!({"from": {"email": "budget@example.com"}, "messageID": "e-2", "textBody": "y"});
    assert_eq!(
        api.signed_webhook("email", 1, 1, &email, "wh-budget")
            .await
            .status,
        200
    );
    calls();
    let tickets = format!("/api/EndUsers/{person}/tickets?pageSize=1&cursor=");
    let first = api.get(&tickets, 1).await;
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(calls(), 2, "tickets cursor page (the first)");
    let cursor = first.body["nextCursor"].as_str().expect("a next cursor");
    let next = api.get(&format!("{tickets}{cursor}"), 1).await;
    assert_eq!(next.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(next.body["nextCursor"], serde_json::Value::Null);
    assert_eq!(calls(), 2, "tickets cursor page (the next)");
}

/// SPEC 7's identity lifecycle: upsert at most 2 (created or updated) + its match keys gained;
/// merge of end users with
/// 20 UIDs each at most 3 (reads and one transaction), undo at most 3, the merges list 2;
/// anonymize at most 2 for the record plus 1 per 25 messages erased in the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lifecycle_operation_stays_within_its_call_budget() {
    let api = TestApi::dynamodb().await;
    let mut calls = meter(&api);

    let body = json!({"firstname": "Up", "uids": [{"uidType": "Email", "uid": "up@example.com"}]});
    let upsert = api.put("/api/EndUsers/byRef/UP-1", 1, body).await;
    assert_eq!(upsert.status, 201, "{:?}", upsert.body);
    // Gained: the e-mail and the customerRef (the name with its domain is read only beside an
    // external id held before).
    assert_eq!(calls(), 3 + 2, "upsert (created)");
    let upsert = api
        .put("/api/EndUsers/byRef/UP-1", 1, json!({"lastname": "Date"}))
        .await;
    assert_eq!(upsert.status, 200, "{:?}", upsert.body);
    // A new name: the name and domain key gained.
    assert_eq!(calls(), 2 + 1, "upsert (updated)");

    let many = |prefix: &str| -> serde_json::Value {
        let uids: Vec<_> = (0..20)
            .map(|n| json!({"uidType": "External", "uid": format!("{prefix}-{n}")}))
            .collect();
        json!({"uids": uids})
    };
    let target = api.create(1, many("target")).await["endUserID"].clone();
    let source = api.create(1, many("source")).await["endUserID"].clone();
    calls();
    let merged = api
        .post(
            &format!("/api/EndUsers/{target}/merge"),
            1,
            json!({"sourceEndUserID": source}),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(merged.body["uids"].as_array().map(Vec::len), Some(40));
    assert_eq!(calls(), 2, "merge of 20 UIDs into 20");
    assert_eq!(
        api.get(&format!("/api/EndUsers/{target}/merges"), 1)
            .await
            .status,
        200
    );
    assert_eq!(calls(), 2, "merges list");
    let merge_id = &merged.body["mergeID"];
    let undo = format!("/api/EndUsers/{target}/merges/{merge_id}/undo");
    assert_eq!(api.post(&undo, 1, json!({})).await.status, 200);
    assert_eq!(calls(), 3, "undo");

    let plain = api
        .create(1, json!({"firstname": "Plain", "customerRef": "AN-1"}))
        .await;
    calls();
    let anonymize = format!("/api/EndUsers/{}/anonymize", plain["endUserID"]);
    let anonymized = api.post(&anonymize, 1, json!({})).await;
    assert_eq!(
        anonymized.body["erasure"], "complete",
        "{:?}",
        anonymized.body
    );
    // Its partition, its timeline records (erased with it when few), one transaction.
    assert_eq!(calls(), 3, "anonymize (no tickets)");
}

/// Anonymize with messages: at most 2 for the record, 1 for the tickets' messages and 1 for
/// the timeline records erased in the request; past 25 messages, 3 calls and the rest in the
/// background.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymize_stays_within_its_call_budget() {
    let api = with_sms_channel().await;
    let mut calls = meter(&api);
    let mut paths = Vec::new();
    for (sender, messages) in [("+32470000501", 3), ("+32470000502", 30)] {
        for n in 0..messages {
            let sid = format!("SM-{sender}-{n}");
            let message = [
                ("From", sender),
                ("Body", "hello"),
                ("MessageSid", sid.as_str()),
            ];
            assert_eq!(api.twilio(1, 2, &message, "tw-budget").await.status, 200);
        }
        let found = api
            .get(
                &format!("/api/EndUsers/byUid?uid={}", sender.replace('+', "%2B")),
                1,
            )
            .await;
        paths.push(format!(
            "/api/EndUsers/{}/anonymize",
            found.body["endUserID"]
        ));
    }
    calls();
    let few = api.post(&paths[0], 1, json!({})).await;
    assert_eq!(few.body["erasure"], "complete", "{:?}", few.body);
    assert_eq!(calls(), 4, "anonymize (3 messages: erased in the request)");
    let many = api.post(&paths[1], 1, json!({})).await;
    assert_eq!(many.body["erasure"], "pending", "{:?}", many.body);
    assert_eq!(
        calls(),
        3,
        "anonymize (30 messages: the rest in the background)"
    );
}

/// An `Idempotency-Key` costs one call of its own (taking the key; its record rides in the
/// change's transaction): a keyed create 1 more than it, its replay 1, another body 1, a failed
/// keyed create 2 more than its failure (taking and freeing the key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_request_adds_one_call() {
    let api = TestApi::dynamodb().await;
    let mut calls = meter(&api);
    let keyed = |key: &'static str, body: serde_json::Value| {
        let api = &api;
        async move {
            api.with_headers(
                "POST",
                "/api/EndUsers",
                1,
                &[("idempotency-key", key)],
                body,
            )
            .await
            .status
        }
    };
    let body = json!({"uids": [{"uidType": "Email", "uid": "keyed@example.com"}]});
    assert_eq!(keyed("k-1", body.clone()).await, 201);
    // Its e-mail's match key besides.
    assert_eq!(calls(), 3 + 1, "keyed create");
    assert_eq!(keyed("k-1", body.clone()).await, 201);
    assert_eq!(calls(), 1, "its replay");
    assert_eq!(keyed("k-1", json!({})).await, 422);
    assert_eq!(calls(), 1, "another body");
    assert_eq!(keyed("k-2", body).await, 409);
    // The key's holder found, and its record read.
    assert_eq!(calls(), 4 + 2, "a keyed create whose UID is held");
}

/// A bulk request costs its items' calls (a create with an e-mail 3) and, keyed, 3 more: taking the key,
/// reading the items an earlier run applied, completing the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_request_costs_its_items() {
    let api = TestApi::dynamodb().await;
    let mut calls = meter(&api);
    let items = |prefix: &str| {
        let items: Vec<serde_json::Value> = (0..10)
            .map(|n| json!({"op": "create", "uids": [{"uidType": "Email", "uid": format!("{prefix}{n}@example.com")}]}))
            .collect();
        json!({"items": items})
    };
    let plain = api.post("/api/EndUsers/bulk", 1, items("plain")).await;
    assert_eq!(plain.status, 200, "{:?}", plain.body);
    // Each create: its address's suppression beside its match key, then its transaction.
    assert_eq!(calls(), 10 * 3, "a bulk of 10 creates");
    let headers = [("idempotency-key", "bulk-budget")];
    let keyed = api
        .with_headers("POST", "/api/EndUsers/bulk", 1, &headers, items("keyed"))
        .await;
    assert_eq!(keyed.status, 200, "{:?}", keyed.body);
    assert_eq!(calls(), 10 * 3 + 3, "a keyed bulk of 10 creates");
    let replay = api
        .with_headers("POST", "/api/EndUsers/bulk", 1, &headers, items("keyed"))
        .await;
    assert_eq!(replay.body, keyed.body);
    assert_eq!(calls(), 1, "its replay");
}

/// The timeline (SPEC 10): a page 1 + one query per end user (itself and each merged into it)
/// and asked kind, the same at 10 entries and at 40; an external event 2 (the end user, one
/// transaction), by customerRef 1 more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_timeline_operation_stays_within_its_call_budget() {
    let api = TestApi::dynamodb().await;
    let mut calls = meter(&api);
    let body =
        json!({"customerRef": "TL-B", "uids": [{"uidType": "Email", "uid": "tl@example.com"}]});
    let id = api.create(1, body).await["endUserID"].clone();
    let path = format!("/api/EndUsers/{id}");
    calls();
    let event = json!({"type": "order.placed", "message": "Order", "initiatedBy": "shop"});
    let recorded = api.post(&format!("{path}/events"), 1, event.clone()).await;
    assert_eq!(recorded.status, 201, "{:?}", recorded.body);
    assert_eq!(calls(), 2, "external event");
    let by_ref = api
        .post("/api/EndUsers/byRef/TL-B/events", 1, event.clone())
        .await;
    assert_eq!(by_ref.status, 201, "{:?}", by_ref.body);
    assert_eq!(calls(), 3, "external event by customerRef");
    for _ in 0..8 {
        api.post(&format!("{path}/events"), 1, event.clone()).await;
    }
    calls();
    let page = |size: u32, kinds: &str| format!("{path}/timeline?pageSize={size}{kinds}");
    let mut pages = Vec::new();
    for history in [10, 40] {
        let read = api.get(&page(10, ""), 1).await;
        assert_eq!(read.body["items"].as_array().map(Vec::len), Some(10));
        pages.push(calls());
        let filtered = api.get(&page(5, "&kinds=external,uidLinked"), 1).await;
        assert_eq!(filtered.body["items"].as_array().map(Vec::len), Some(5));
        pages.push(calls());
        if history == 10 {
            for _ in 0..30 {
                api.post(&format!("{path}/events"), 1, event.clone()).await;
            }
            calls();
        }
    }
    assert_eq!(
        pages,
        [2, 3, 2, 3],
        "page, two kinds; at 10 and at 40 entries"
    );
    let cursor = api.get(&page(10, ""), 1).await.body["nextCursor"].clone();
    calls();
    let cursor = cursor.as_str().expect("a cursor");
    assert_eq!(
        api.get(&format!("{}&cursor={cursor}", page(10, "")), 1)
            .await
            .status,
        200
    );
    assert_eq!(calls(), 2, "the next page");
    assert_eq!(
        api.get("/api/EndUsers/byRef/TL-B/timeline", 1).await.status,
        200
    );
    assert_eq!(calls(), 3, "by customerRef");

    let source = api.create(1, json!({"firstname": "Merged"})).await["endUserID"].clone();
    let merge = json!({"sourceEndUserID": source});
    assert_eq!(
        api.post(&format!("{path}/merge"), 1, merge).await.status,
        200
    );
    calls();
    assert_eq!(api.get(&page(10, ""), 1).await.status, 200);
    assert_eq!(calls(), 3, "page of an end user merged into");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_stays_within_its_call_budget() {
    let api = TestApi::dynamodb().await;
    let crm = FakeCrm::start().await;
    let local = api.allowing_crm_loopback();
    let connector = json!({"apiBaseUrl": crm.base_url, "apiAuthenticationType": "None"});
    assert_eq!(
        local.put("/api/Customers/me", 1, connector).await.status,
        200
    );
    let mut calls = meter(&local);
    let id = local.create(1, json!({"customerRef": "CB-1"})).await["endUserID"].clone();
    let path = format!("/api/EndUsers/{id}/sync");
    let record =
        json!({"firstname": "Jane", "uids": [{"uidType": "Phone", "uid": "+32470009911"}]});
    crm.answer("customerRef=CB-1", CrmAnswer::record(record));
    calls();
    assert_eq!(local.post(&path, 1, json!({})).await.status, 200);
    let changed = calls();
    assert_eq!(local.post(&path, 1, json!({})).await.status, 200);
    let unchanged = calls();
    crm.answer(
        "customerRef=CB-1",
        CrmAnswer::record(json!({"firstname": "Janet"})),
    );
    assert_eq!(local.post(&path, 1, json!({})).await.status, 200);
    let fields_only = calls();
    let unknown = local.create(1, json!({"customerRef": "CB-2"})).await["endUserID"].clone();
    calls();
    let path = format!("/api/EndUsers/{unknown}/sync");
    assert_eq!(local.post(&path, 1, json!({})).await.status, 200);
    let not_found = calls();
    assert_eq!(
        [changed, unchanged, fields_only, not_found],
        [6, 2, 3, 2],
        "a new UID and a field (the end user, the account, the new UID's holder, its suppression, \
         its match key, the transaction); the same record again; a field only; a CRM that knows none"
    );
}

/// Sync on contact (SPEC 10): a tenant without a connector costs one read; a connected tenant's
/// lead as much as a sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_on_contact_stays_within_its_call_budget() {
    let api = TestApi::dynamodb().await;
    let crm = FakeCrm::start().await;
    let local = api.allowing_crm_loopback();
    let mut calls = meter(&local);
    let lead = local.create(1, json!({"customerRef": "CC-1"})).await["endUserID"].clone();
    let created = json!({"detailType": "EndUserCreated", "customerID": 1, "endUserID": lead,
        "version": 1, "channelID": 1});
    let syncer = contact_syncer(local.table().clone());
    let deliver = || async {
        let answer = contact_sync::handle_queued(
            syncer.table.as_ref(),
            &syncer.connector(),
            queued(std::slice::from_ref(&created)),
        )
        .await
        .expect("an SQS event");
        assert!(answer.failures.is_empty(), "{answer:?}");
    };
    calls();
    deliver().await;
    let no_connector = calls();
    let connector = json!({"apiBaseUrl": crm.base_url, "apiAuthenticationType": "None"});
    assert_eq!(
        local.put("/api/Customers/me", 1, connector).await.status,
        200
    );
    crm.answer(
        "customerRef=CC-1",
        CrmAnswer::record(json!({"firstname": "Jane"})),
    );
    calls();
    deliver().await;
    let synced = calls();
    assert_eq!(crm.received().len(), 1);
    assert_eq!(
        [no_connector, synced],
        [1, 3],
        "the account only; the account, the end user, the transaction"
    );
}
