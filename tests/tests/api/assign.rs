//! POST /api/EndUserUIDs/assign.

use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;

on_both_stores!(assign_links_and_reports,);

async fn assign_links_and_reports(api: TestApi) {
    let user = api
        .create(
            1,
            json!({"country": "BE", "uids": [{"uidType": "Email", "uid": "first@example.com"}]}),
        )
        .await;
    let id = id_of(&user);
    let created = api
        .post("/api/EndUserUIDs/assign", 1, json!({"uid": "Visitor@Example.com", "endUserID": id, "uidType": "email", "isPrimary": false}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["endUserID"], id);
    assert_eq!(created.body["uidType"], "Email");
    assert_eq!(created.body["uid"], "visitor@example.com");
    assert_eq!(created.body["isPrimary"], false);
    let link_id = created.body["endUserUIDID"].as_u64().expect("endUserUIDID");
    assert!(created.body.get("message").is_none());

    let again = api
        .post(
            "/api/EndUserUIDs/assign",
            1,
            json!({"uid": " visitor@example.COM ", "endUserID": id, "uidType": "Email"}),
        )
        .await;
    assert_eq!(again.status, 200);
    assert!(again.body["message"].is_string());
    assert_eq!(again.body["endUserUIDID"], link_id);
    assert_eq!(again.body["isPrimary"], false);

    let primary = api
        .post("/api/EndUserUIDs/assign", 1, json!({"uid": "visitor@example.com", "endUserID": id, "uidType": "Email", "isPrimary": true}))
        .await;
    assert_eq!(primary.status, 200);
    assert_eq!(primary.body["isPrimary"], true);
    let read = api.get(&format!("/api/EndUsers/{id}"), 1).await;
    assert_eq!(
        uid_values(&read.body),
        [
            ("Email".into(), "first@example.com".into(), false),
            ("Email".into(), "visitor@example.com".into(), true)
        ]
    );

    // National numbers are read in the end user's country.
    let phone = api
        .post(
            "/api/EndUserUIDs/assign",
            1,
            json!({"uid": "0470 00 00 00", "endUserID": id, "uidType": "Phone", "isPrimary": true}),
        )
        .await;
    assert_eq!(phone.status, 201);
    assert_eq!(phone.body["uid"], "+32470000000");
    assert_eq!(phone.body["isPrimary"], true);

    let other = api.create(1, json!({})).await;
    let conflict = api
        .post(
            "/api/EndUserUIDs/assign",
            1,
            json!({"uid": "visitor@example.com", "endUserID": id_of(&other), "uidType": "Email"}),
        )
        .await;
    assert_problem(&conflict, 409);
    assert_eq!(conflict.body["endUserID"], id);
    assert_eq!(
        api.get(&format!("/api/EndUsers/{}", id_of(&other)), 1)
            .await
            .body,
        other
    );

    let unknown = api
        .post(
            "/api/EndUserUIDs/assign",
            1,
            json!({"uid": "x@example.com", "endUserID": id + 1, "uidType": "Email"}),
        )
        .await;
    assert_problem(&unknown, 404);
    let invalid = api
        .post(
            "/api/EndUserUIDs/assign",
            1,
            json!({"uid": "nope", "endUserID": id, "uidType": "Email"}),
        )
        .await;
    assert_field_error(&invalid, "uid");
    let incomplete = api
        .post(
            "/api/EndUserUIDs/assign",
            1,
            json!({"uidType": "Pager", "endUserID": 0}),
        )
        .await;
    for path in ["uid", "uidType", "endUserID"] {
        assert_field_error(&incomplete, path);
    }
    let wrong_type = api
        .post(
            "/api/EndUserUIDs/assign",
            1,
            json!({"uid": "a@b.co", "endUserID": "12", "uidType": "Email"}),
        )
        .await;
    assert_field_error(&wrong_type, "endUserID");
}
