//! `POST /api/EndUsers/bulk` (SPEC 7): up to 100 items, each applied on its own (all or nothing
//! per item), results in input order with per-item status and problem; with an
//! `Idempotency-Key`, a repeat replays and a repeat of a request cut off half-way runs only what
//! had not applied.

use std::sync::Arc;
use std::time::Duration;

use answerpal_testkit::{Fault, FaultyTable, TestApi};
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    each_item_applies_on_its_own_in_input_order,
    the_request_is_refused_whole_only_when_it_is_no_list_of_1_to_100,
    a_hundred_creates_apply,
    items_racing_for_one_value_have_one_winner,
    a_keyed_bulk_replays_and_its_cut_off_repeat_runs_only_the_rest,
    items_not_started_by_half_the_deadline_answer_503_and_apply_on_retry,
);

async fn bulk(api: &TestApi, items: Value) -> (u16, Vec<Value>) {
    let response = api
        .post("/api/EndUsers/bulk", 1, json!({"items": items}))
        .await;
    let results = response.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (response.status, results)
}

fn statuses(results: &[Value]) -> Vec<u64> {
    results
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect()
}

async fn each_item_applies_on_its_own_in_input_order(api: TestApi) {
    let kept = api
        .create(
            1,
            json!({"firstname": "Kept", "uids": [{"uidType": "Email", "uid": "kept@example.com"}]}),
        )
        .await;
    let gone = api.create(1, json!({"firstname": "Gone"})).await;
    let items = json!([
        {"op": "create", "firstname": "New", "uids": [{"uidType": "Email", "uid": "new@example.com"}]},
        // Holds kept@'s e-mail: refused alone, the rest goes on.
        {"op": "create", "uids": [{"uidType": "Email", "uid": "kept@example.com"}]},
        {"op": "update", "endUserID": id_of(&kept), "lastname": "Updated"},
        {"op": "upsert", "customerRef": "BULK-1", "firstname": "Upserted"},
        {"op": "upsert", "customerRef": "BULK-1", "lastname": "Again"},
        {"op": "delete", "endUserID": id_of(&gone)},
        {"op": "delete", "endUserID": id_of(&gone)},
        {"op": "update", "endUserID": 999_999, "lastname": "Nobody"},
        {"op": "create", "uids": [{"uidType": "Email", "uid": "not an address"}]},
        {"op": "merge"},
        {"op": "update", "endUserID": "7"},
        "not an object",
    ]);
    let (status, results) = bulk(&api, items).await;
    assert_eq!(status, 200, "{results:?}");
    let indexes: Vec<u64> = results
        .iter()
        .map(|r| r["index"].as_u64().unwrap_or(99))
        .collect();
    assert_eq!(indexes, (0..12).collect::<Vec<u64>>());
    assert_eq!(
        statuses(&results),
        [201, 409, 200, 201, 200, 204, 404, 404, 400, 400, 400, 400]
    );
    assert_eq!(results[1]["problem"]["endUserID"], id_of(&kept));
    assert_eq!(results[1]["problem"]["type"], "/problems/conflict");
    assert!(
        results[8]["problem"]["errors"]["uids[0].uid"].is_array(),
        "{:?}",
        results[8]
    );
    assert!(results[9]["problem"]["errors"]["op"].is_array());
    assert!(results[10]["problem"]["errors"]["endUserID"].is_array());
    assert!(results[0]["problem"].is_null() && results[1]["endUserID"].is_null());
    assert_eq!(results[2]["endUserID"], id_of(&kept));
    assert_eq!(
        results[3]["endUserID"], results[4]["endUserID"],
        "one holder of BULK-1"
    );

    let created = api.get("/api/EndUsers/byUid?uid=new@example.com", 1).await;
    assert_eq!(created.body["endUserID"], results[0]["endUserID"]);
    let kept_now = api.get(&format!("/api/EndUsers/{}", id_of(&kept)), 1).await;
    assert_eq!(kept_now.body["lastname"], "Updated");
    assert_eq!(uid_values(&kept_now.body).len(), 1);
    let upserted = api.get("/api/EndUsers/byUid?uid=BULK-1", 1).await;
    assert_eq!(
        (
            upserted.body["firstname"].as_str(),
            upserted.body["lastname"].as_str()
        ),
        (Some("Upserted"), Some("Again"))
    );
    assert_eq!(
        api.get(&format!("/api/EndUsers/{}", id_of(&gone)), 1)
            .await
            .status,
        404
    );
}

async fn the_request_is_refused_whole_only_when_it_is_no_list_of_1_to_100(api: TestApi) {
    let too_many: Vec<Value> = (0..101).map(|_| json!({"op": "create"})).collect();
    for body in [
        json!({"items": []}),
        json!({"items": too_many}),
        json!({}),
        json!({"items": {}}),
    ] {
        let refused = api.post("/api/EndUsers/bulk", 1, body).await;
        assert_problem(&refused, 400);
    }
    assert!(api.raw_items().await.is_empty(), "a refused bulk wrote");
}

async fn a_hundred_creates_apply(api: TestApi) {
    let items: Vec<Value> = (0..100)
        .map(|n| json!({"op": "create", "uids": [{"uidType": "Email", "uid": format!("b{n}@example.com")}]}))
        .collect();
    let (status, results) = bulk(&api, json!(items)).await;
    assert_eq!(status, 200);
    assert!(statuses(&results).iter().all(|s| *s == 201), "{results:?}");
    let list = api.get("/api/EndUsers?pageSize=1", 1).await;
    assert_eq!(list.body["totalCount"], 100);
    let last = api.get("/api/EndUsers/byUid?uid=b99@example.com", 1).await;
    assert_eq!(last.body["endUserID"], results[99]["endUserID"]);
}

async fn items_racing_for_one_value_have_one_winner(api: TestApi) {
    let items: Vec<Value> = (0..20)
        .map(|_| json!({"op": "create", "uids": [{"uidType": "Email", "uid": "one@example.com"}]}))
        .collect();
    let (status, results) = bulk(&api, json!(items)).await;
    assert_eq!(status, 200);
    let mut statuses = statuses(&results);
    statuses.sort();
    assert_eq!(statuses[0], 201);
    assert!(statuses[1..].iter().all(|s| *s == 409), "{statuses:?}");
    let list = api.get("/api/EndUsers?pageSize=1", 1).await;
    assert_eq!(list.body["totalCount"], 1);
}

async fn a_keyed_bulk_replays_and_its_cut_off_repeat_runs_only_the_rest(api: TestApi) {
    let items: Vec<Value> = (0..6)
        .map(|n| json!({"op": "create", "uids": [{"uidType": "Email", "uid": format!("k{n}@example.com")}]}))
        .collect();
    let body = json!({"items": items});
    let headers = [("idempotency-key", "bulk-1")];
    // The request is cut off by a store that stops answering after the key and three items
    // (its deadline leaves a loaded moto the time to start the items before half of it).
    let faulty = Arc::new(FaultyTable::new(api.table().clone(), 5, Fault::Hang));
    let cut = api.wrapped(faulty, Duration::from_millis(3000));
    let first = cut
        .with_headers("POST", "/api/EndUsers/bulk", 1, &headers, body.clone())
        .await;
    assert_eq!(first.status, 503, "{:?}", first.body);
    let applied = api.get("/api/EndUsers?pageSize=1", 1).await.body["totalCount"].clone();
    assert!(
        (1..6).contains(&applied.as_u64().unwrap_or(0)),
        "some items applied before the cut, not all: {applied}"
    );
    // The key's lease ends a second after the deadline, in whole seconds: 4 s.
    tokio::time::sleep(Duration::from_millis(4600)).await;

    let repeat = api
        .with_headers("POST", "/api/EndUsers/bulk", 1, &headers, body.clone())
        .await;
    assert_eq!(repeat.status, 200, "{:?}", repeat.body);
    let results = repeat.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(statuses(&results).iter().all(|s| *s == 201), "{results:?}");
    let list = api.get("/api/EndUsers?pageSize=1", 1).await;
    assert_eq!(list.body["totalCount"], 6, "each item applied once");
    let again = api
        .with_headers("POST", "/api/EndUsers/bulk", 1, &headers, body)
        .await;
    assert_eq!(again.body, repeat.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}

async fn items_not_started_by_half_the_deadline_answer_503_and_apply_on_retry(api: TestApi) {
    let items: Vec<Value> = (0..60)
        .map(|n| json!({"op": "create", "customerRef": format!("late-{n}")}))
        .collect();
    // Each call takes 300 ms: 8 items at a time, at most 32 of the 60 start within 1 s, half the
    // 2 s deadline.
    let slow = Arc::new(FaultyTable::new(
        api.table().clone(),
        0,
        Fault::Slow(Duration::from_millis(300)),
    ));
    let busy = api.wrapped(slow, Duration::from_millis(2000));
    let answer = busy
        .post("/api/EndUsers/bulk", 1, json!({"items": items.clone()}))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let results = answer.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let indices: Vec<u64> = results
        .iter()
        .map(|r| r["index"].as_u64().expect("index"))
        .collect();
    assert_eq!(
        indices,
        (0..60).collect::<Vec<u64>>(),
        "every item, in input order"
    );
    let answered = statuses(&results);
    let applied = answered.iter().filter(|s| **s == 201).count();
    let late: Vec<usize> = (0..60).filter(|i| answered[*i] == 503).collect();
    assert!(applied >= 8, "the first round applied: {answered:?}");
    assert!(
        !late.is_empty(),
        "some items were not started in time: {answered:?}"
    );
    assert_eq!(applied + late.len(), 60, "{answered:?}");
    assert!(
        results[late[0]]["problem"]["type"] == "/problems/unavailable",
        "{results:?}"
    );
    let list = api.get("/api/EndUsers?pageSize=1", 1).await;
    assert_eq!(
        list.body["totalCount"], applied,
        "an item answering 503 wrote nothing"
    );
    let retry: Vec<Value> = late.iter().map(|i| items[*i].clone()).collect();
    let (status, again) = bulk(&api, Value::Array(retry)).await;
    assert_eq!(status, 200);
    assert!(statuses(&again).iter().all(|s| *s == 201), "{again:?}");
    let list = api.get("/api/EndUsers?pageSize=1", 1).await;
    assert_eq!(list.body["totalCount"], 60);
}
