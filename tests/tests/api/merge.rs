//! Merge and undo (SPEC 7): every UID and the customerRef move in one write, the source answers
//! 410 with a canonical link, its tickets list under the target, and an undo within 30 days
//! brings both back as they were.

use answerpal_testkit::{TestApi, TestResponse, agent_token};
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks::{set_up, sms, tickets_of};

on_both_stores!(
    a_merge_moves_everything_and_leaves_a_tombstone,
    what_cannot_be_merged_changes_nothing,
    the_sources_tickets_list_under_the_target,
    merged_merges_point_at_the_last_target,
    a_merge_and_its_undo_leave_both_as_they_were,
    an_undo_refuses_what_changed_since,
    deleting_a_merge_target_removes_what_its_merges_left,
);

const SOURCE_PHONE: &str = "+32470000301";

/// A target (Jane, an e-mail, plan gold) and a source (Doe of Gent, a phone and an e-mail,
/// customerRef S-1, seats 3).
async fn pair(api: &TestApi) -> (Value, Value) {
    let target = api
        .create(
            1,
            json!({"firstname": "Jane", "attributes": {"plan": "gold"},
                "uids": [{"uidType": "Email", "uid": "jane@example.com"}]}),
        )
        .await;
    let source = api
        .create(
            1,
            json!({"firstname": "Janet", "lastname": "Doe", "city": "Gent", "customerRef": "S-1",
                "attributes": {"plan": "silver", "seats": 3},
                "uids": [{"uidType": "Phone", "uid": SOURCE_PHONE},
                         {"uidType": "Email", "uid": "janet@example.com", "isPrimary": true}]}),
        )
        .await;
    (target, source)
}

fn user_path(user: &Value) -> String {
    format!("/api/EndUsers/{}", id_of(user))
}

async fn merge(api: &TestApi, target: &Value, source: &Value) -> TestResponse {
    let path = format!("{}/merge", user_path(target));
    api.post(&path, 1, json!({"sourceEndUserID": id_of(source)}))
        .await
}

fn assert_gone(response: &TestResponse, target: u64) {
    assert_problem(response, 410);
    assert_eq!(response.body["mergedInto"], target, "{:?}", response.body);
    let canonical = format!("</api/EndUsers/{target}>; rel=\"canonical\"");
    assert_eq!(response.header("link"), Some(canonical.as_str()));
}

async fn a_merge_moves_everything_and_leaves_a_tombstone(api: TestApi) {
    let (target, source) = pair(&api).await;
    let merged = api
        .send_with(
            "POST",
            &format!("{}/merge", user_path(&target)),
            Some(agent_token(1, "agent-7")),
            Some(json!({"sourceEndUserID": id_of(&source)})),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    let body = &merged.body;
    assert!(body["mergeID"].as_u64().is_some(), "{body:?}");
    assert_eq!(id_of(body), id_of(&target));
    assert_eq!(body["firstname"], "Jane", "the target's value stays");
    assert_eq!(body["lastname"], "Doe", "a missing value is taken");
    assert_eq!(body["city"], "Gent");
    assert_eq!(body["customerRef"], "S-1");
    assert_eq!(body["attributes"], json!({"plan": "gold", "seats": 3}));
    let uids = uid_values(body);
    assert_eq!(uids.len(), 3, "{uids:?}");
    let primary: Vec<&str> = uids.iter().filter(|u| u.2).map(|u| u.1.as_str()).collect();
    assert_eq!(
        primary,
        ["jane@example.com", SOURCE_PHONE],
        "the target's primaries stay"
    );
    let target_id = id_of(&target);
    assert_eq!(
        api.get(&user_path(&target), 1).await.body,
        without_merge_id(body)
    );

    assert_gone(&api.get(&user_path(&source), 1).await, target_id);
    assert_gone(
        &api.put(&user_path(&source), 1, json!({"city": "x"})).await,
        target_id,
    );
    assert_gone(&api.delete(&user_path(&source), 1).await, target_id);
    for value in ["janet@example.com", "%2B32470000301", "S-1"] {
        let found = api
            .get(&format!("/api/EndUsers/byUid?uid={value}"), 1)
            .await;
        assert_eq!(found.status, 200, "{value}: {:?}", found.body);
        assert_eq!(id_of(&found.body), target_id, "{value}");
    }
    let list = api.get("/api/EndUsers", 1).await;
    assert_eq!(list.body["totalCount"], 1, "the tombstone is not listed");

    let merges = api.get(&format!("{}/merges", user_path(&target)), 1).await;
    assert_eq!(merges.status, 200, "{:?}", merges.body);
    let record = &merges.body["items"][0];
    assert_eq!(record["mergeID"], body["mergeID"]);
    assert_eq!(record["sourceEndUserID"], id_of(&source));
    assert_eq!(record["targetEndUserID"], target_id);
    assert_eq!(record["mergedBy"], "agent-7");
    assert!(record["mergedAt"].is_string());
    assert_eq!(record["movedUIDs"].as_array().map(Vec::len), Some(2));
    assert_eq!(record["movedFields"]["customerRef"], "S-1");
    assert_eq!(record["movedFields"]["lastname"], "Doe");
    assert_eq!(record["movedAttributes"], json!({"seats": 3}));
    assert_eq!(record["source"], source, "the source as it was");
    assert_eq!(merges.body["items"].as_array().map(Vec::len), Some(1));
    assert_gone(
        &api.get(&format!("{}/merges", user_path(&source)), 1).await,
        target_id,
    );
}

/// The merge's answer is the target's read DTO plus its mergeID: the DTO.
fn without_merge_id(body: &Value) -> Value {
    let mut copy = body.clone();
    copy.as_object_mut().map(|o| o.remove("mergeID"));
    copy
}

async fn what_cannot_be_merged_changes_nothing(api: TestApi) {
    let (target, source) = pair(&api).await;
    let own = api
        .put(&user_path(&target), 1, json!({"customerRef": "T-1"}))
        .await;
    assert_eq!(own.status, 200);
    let both_refs = merge(&api, &target, &source).await;
    assert_problem(&both_refs, 409);
    assert!(
        both_refs.body["errors"]["customerRef"].is_array(),
        "{:?}",
        both_refs.body
    );
    assert_eq!(
        api.get(&user_path(&target), 1).await.body,
        own.body,
        "nothing changed"
    );
    assert_eq!(api.get(&user_path(&source), 1).await.body, source);

    let into_itself = merge(&api, &target, &target).await;
    assert_field_error(&into_itself, "sourceEndUserID");
    let path = format!("{}/merge", user_path(&target));
    assert_field_error(&api.post(&path, 1, json!({})).await, "sourceEndUserID");
    assert_field_error(
        &api.post(&path, 1, json!({"sourceEndUserID": 0})).await,
        "sourceEndUserID",
    );
    assert_field_error(
        &api.post(&path, 1, json!({"sourceEndUserID": "x"})).await,
        "sourceEndUserID",
    );
    let unknown = api.post(&path, 1, json!({"sourceEndUserID": 123456})).await;
    assert_problem(&unknown, 404);
    let foreign = api.create(2, json!({})).await;
    assert_problem(&merge(&api, &target, &foreign).await, 404);

    let third = api.create(1, json!({"firstname": "Third"})).await;
    assert_eq!(merge(&api, &third, &source).await.status, 200);
    assert_gone(&merge(&api, &target, &source).await, id_of(&third));
    assert_gone(&merge(&api, &source, &target).await, id_of(&third));
}

async fn the_sources_tickets_list_under_the_target(api: TestApi) {
    set_up(&api, 1).await;
    let (target, source) = pair(&api).await;
    assert_eq!(
        sms(&api, 1, SOURCE_PHONE, "SM-m1", "before").await.status,
        200
    );
    assert_eq!(tickets_of(&api, 1, id_of(&source)).await.len(), 1);
    assert_eq!(merge(&api, &target, &source).await.status, 200);
    let listed = tickets_of(&api, 1, id_of(&target)).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[0]["endUserID"],
        id_of(&source),
        "the ticket itself is not rewritten"
    );
    assert_eq!(
        sms(&api, 1, SOURCE_PHONE, "SM-m2", "after").await.status,
        200
    );
    let listed = tickets_of(&api, 1, id_of(&target)).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(
        listed[0]["endUserID"],
        id_of(&target),
        "the next message lands on the target"
    );
    let page = api
        .get(
            &format!("{}/tickets?pageSize=1&pageNumber=2", user_path(&target)),
            1,
        )
        .await;
    assert_eq!(page.body["totalCount"], 2, "{:?}", page.body);
    assert_eq!(page.body["items"][0]["endUserID"], id_of(&source));
    let filtered = api
        .get(&format!("{}/tickets?isClosed=false", user_path(&target)), 1)
        .await;
    assert_eq!(filtered.body["totalCount"], 2, "{:?}", filtered.body);
    assert_gone(
        &api.get(&format!("{}/tickets", user_path(&source)), 1).await,
        id_of(&target),
    );
}

async fn merged_merges_point_at_the_last_target(api: TestApi) {
    set_up(&api, 1).await;
    let (middle, first) = pair(&api).await;
    let last = api.create(1, json!({"lastname": "Last"})).await;
    assert_eq!(
        sms(&api, 1, SOURCE_PHONE, "SM-c1", "first").await.status,
        200
    );
    assert_eq!(merge(&api, &middle, &first).await.status, 200);
    let second = merge(&api, &last, &middle).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(uid_values(&second.body).len(), 3);
    assert_gone(&api.get(&user_path(&first), 1).await, id_of(&last));
    assert_gone(&api.get(&user_path(&middle), 1).await, id_of(&last));
    assert_eq!(tickets_of(&api, 1, id_of(&last)).await.len(), 1);

    let merge_id = second.body["mergeID"].as_u64().expect("mergeID");
    let undo = format!("{}/merges/{merge_id}/undo", user_path(&last));
    assert_eq!(api.post(&undo, 1, json!({})).await.status, 200);
    assert_gone(&api.get(&user_path(&first), 1).await, id_of(&middle));
    assert_eq!(tickets_of(&api, 1, id_of(&middle)).await.len(), 1);
    assert!(tickets_of(&api, 1, id_of(&last)).await.is_empty());
}

/// What a GET answers, but for `updatedAt`.
fn as_read(response: TestResponse) -> Value {
    assert_eq!(response.status, 200, "{:?}", response.body);
    let mut body = response.body;
    body.as_object_mut().map(|o| o.remove("updatedAt"));
    body
}

async fn a_merge_and_its_undo_leave_both_as_they_were(api: TestApi) {
    let (target, source) = pair(&api).await;
    let before = (
        as_read(api.get(&user_path(&target), 1).await),
        as_read(api.get(&user_path(&source), 1).await),
    );
    let merged = merge(&api, &target, &source).await;
    let merge_id = merged.body["mergeID"].as_u64().expect("mergeID");
    let undo = format!("{}/merges/{merge_id}/undo", user_path(&target));
    let undone = api.post(&undo, 1, json!({})).await;
    assert_eq!(undone.status, 200, "{:?}", undone.body);
    assert_eq!(id_of(&undone.body["source"]), id_of(&source));
    let after = (
        as_read(api.get(&user_path(&target), 1).await),
        as_read(api.get(&user_path(&source), 1).await),
    );
    assert_eq!(after, before);
    let found = api.get("/api/EndUsers/byUid?uid=S-1", 1).await;
    assert_eq!(id_of(&found.body), id_of(&source));
    assert_eq!(api.get("/api/EndUsers", 1).await.body["totalCount"], 2);

    let record = &api
        .get(&format!("{}/merges", user_path(&target)), 1)
        .await
        .body["items"][0];
    assert!(record["undoneAt"].is_string(), "{record:?}");
    assert_eq!(
        record["source"],
        Value::Null,
        "an undone record keeps no values"
    );
    assert_problem(&api.post(&undo, 1, json!({})).await, 409);
    let unknown = format!("{}/merges/12345/undo", user_path(&target));
    assert_problem(&api.post(&unknown, 1, json!({})).await, 404);
    assert_eq!(
        merge(&api, &target, &source).await.status,
        200,
        "merged again"
    );
}

async fn an_undo_refuses_what_changed_since(api: TestApi) {
    let (target, source) = pair(&api).await;
    let merged = merge(&api, &target, &source).await;
    let merge_id = merged.body["mergeID"].as_u64().expect("mergeID");
    let moved = merged.body["uids"]
        .as_array()
        .and_then(|uids| uids.iter().find(|u| u["uid"] == SOURCE_PHONE))
        .map(|u| u["endUserUIDID"].clone())
        .expect("the moved phone");
    let removed = api
        .put(
            &user_path(&target),
            1,
            json!({"city": "Brugge", "uids": [{"endUserUIDID": moved, "markAsDeleted": true}]}),
        )
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    let undo = format!("{}/merges/{merge_id}/undo", user_path(&target));
    let refused = api.post(&undo, 1, json!({})).await;
    assert_problem(&refused, 409);
    let errors = refused.body["errors"].as_object().expect("errors");
    assert!(errors.contains_key("movedFields.city"), "{errors:?}");
    assert!(
        errors.keys().any(|k| k.starts_with("movedUIDs[")),
        "{errors:?}"
    );
    assert_eq!(
        api.get(&user_path(&target), 1).await.body,
        removed.body,
        "nothing changed"
    );
    assert_gone(&api.get(&user_path(&source), 1).await, id_of(&target));
}

async fn deleting_a_merge_target_removes_what_its_merges_left(api: TestApi) {
    let (target, source) = pair(&api).await;
    assert_eq!(merge(&api, &target, &source).await.status, 200);
    assert_eq!(api.delete(&user_path(&target), 1).await.status, 204);
    assert_problem(&api.get(&user_path(&source), 1).await, 404);
    assert_problem(&api.get(&user_path(&target), 1).await, 404);
    for item in api.raw_items().await {
        let text = format!("{item:?}");
        for value in ["Janet", "Doe", "Gent", "S-1", "janet@example.com", "silver"] {
            assert!(!text.contains(value), "{value} is still in {text}");
        }
    }
    // Every value is free again.
    api.create(
        1,
        json!({"customerRef": "S-1", "uids": [{"uidType": "Phone", "uid": SOURCE_PHONE}]}),
    )
    .await;
}
