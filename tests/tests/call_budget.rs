//! DynamoDB calls per operation, counted by an SDK interceptor, against the budget:
//! GET by id 1, create 1, byUid at most 2, assign/PUT/DELETE at most 2, a list page at most 2.

use answerpal_testkit::TestApi;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_stays_within_its_call_budget() {
    let api = TestApi::dynamodb().await;
    let mut last = api.call_count();
    let mut calls = || {
        let now = api.call_count();
        let spent = now - last;
        last = now;
        spent
    };

    let created = api
        .create(
            1,
            json!({"customerRef": "B-1", "uids": [
                {"uidType": "Email", "uid": "budget@example.com"},
                {"uidType": "Phone", "uid": "+32470000001"}
            ]}),
        )
        .await;
    assert_eq!(calls(), 1, "create");
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
    assert_eq!(calls(), 2, "assign (new link)");
    assert_eq!(
        api.post("/api/EndUserUIDs/assign", 1, assign).await.status,
        200
    );
    assert_eq!(calls(), 1, "assign (existing link)");

    let update = json!({"firstname": "Budget", "customerRef": "B-2", "uids": [{"uidType": "External", "uid": "crm-b"}]});
    assert_eq!(api.put(&path, 1, update.clone()).await.status, 200);
    assert_eq!(calls(), 2, "PUT");
    assert_eq!(api.put(&path, 1, update).await.status, 200);
    assert_eq!(calls(), 1, "PUT that changes nothing");

    for _ in 0..30 {
        api.create(1, json!({"firstname": "filler"})).await;
    }
    calls();
    let page = api
        .get("/api/EndUsers?pageSize=25&sortBy=name&search=fill", 1)
        .await;
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(25));
    assert_eq!(calls(), 2, "list page");

    assert_eq!(api.delete(&path, 1).await.status, 204);
    assert_eq!(calls(), 2, "DELETE");
}
