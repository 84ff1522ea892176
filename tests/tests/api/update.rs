//! PUT /api/EndUsers/{id}: partial updates, UID entries, all or nothing.

use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    update_is_partial,
    update_manages_uids,
    a_conflicting_update_changes_nothing,
    update_refuses_invalid_uid_entries,
);

async fn update_is_partial(api: TestApi) {
    let user = api
        .create(1, json!({"firstname": "Jane", "lastname": "Doe", "company": "Acme", "customerType": "Partner", "customerRef": "P-1"}))
        .await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    let updated = api
        .put(&path, 1, json!({"firstname": "Janet", "lastname": null, "company": "", "customerType": "", "city": " Antwerp "}))
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    let body = &updated.body;
    assert_eq!(body["firstname"], "Janet");
    assert_eq!(body["lastname"], "Doe", "null keeps");
    assert_eq!(body["company"], Value::Null, "empty clears");
    assert_eq!(body["customerType"], "Partner", "empty customerType keeps");
    assert_eq!(body["city"], "Antwerp");
    assert_eq!(body["name"], "Janet Doe");
    assert_eq!(body["customerRef"], "P-1");
    assert_eq!(body["createdAt"], user["createdAt"]);
    assert_eq!(api.get(&path, 1).await.body, *body);

    let renamed = api
        .put(
            &path,
            1,
            json!({"name": "JD", "customerType": "customer", "customerRef": "P-2"}),
        )
        .await;
    assert_eq!(renamed.body["name"], "JD");
    assert_eq!(renamed.body["customerType"], "Customer");
    // The old customerRef is free again, the new one taken.
    api.create(1, json!({"customerRef": "P-1"})).await;
    assert_problem(
        &api.post("/api/EndUsers", 1, json!({"customerRef": "P-2"}))
            .await,
        409,
    );

    let invalid = api
        .put(
            &path,
            1,
            json!({"customerType": "Boss", "country": "Belgium"}),
        )
        .await;
    assert_field_error(&invalid, "customerType");
    assert_field_error(&invalid, "country");
    assert_problem(
        &api.put("/api/EndUsers/123456", 1, json!({"firstname": "X"}))
            .await,
        404,
    );
}

async fn update_manages_uids(api: TestApi) {
    let user = api
        .create(
            1,
            json!({"country": "BE", "uids": [
                {"uidType": "Email", "uid": "old@example.com", "isPrimary": true},
                {"uidType": "Phone", "uid": "+32470000000"}
            ]}),
        )
        .await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    let email_id = &user["uids"][0]["endUserUIDID"];
    let phone_id = &user["uids"][1]["endUserUIDID"];
    let updated = api
        .put(
            &path,
            1,
            json!({"uids": [
                {"endUserUIDID": email_id, "uidType": "Email", "uid": "New@Example.com", "isPrimary": false},
                {"endUserUIDID": phone_id, "uidType": "Phone", "uid": "+32470000000", "isPrimary": false, "markAsDeleted": true},
                {"uidType": "Email", "uid": "second@example.com", "isPrimary": true},
                {"uidType": "Phone", "uid": "0471 11 11 11"}
            ]}),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(
        uid_values(&updated.body),
        [
            ("Email".into(), "new@example.com".into(), false),
            ("Email".into(), "second@example.com".into(), true),
            ("Phone".into(), "+32471111111".into(), true),
        ]
    );
    assert_eq!(
        &updated.body["uids"][0]["endUserUIDID"], email_id,
        "updated in place"
    );
    // Values released by the update are free, values it took are not.
    api.create(1, json!({"uids": [{"uidType": "Email", "uid": "old@example.com"}, {"uidType": "Phone", "uid": "+32470000000"}]}))
        .await;
    let taken = api
        .post(
            "/api/EndUsers",
            1,
            json!({"uids": [{"uidType": "Email", "uid": "second@example.com"}]}),
        )
        .await;
    assert_problem(&taken, 409);
    assert_eq!(taken.body["endUserID"], id_of(&user));
    // UIDs not listed stay; re-sending a held value is that UID, not a duplicate.
    let again = api
        .put(
            &path,
            1,
            json!({"uids": [{"uidType": "Email", "uid": "NEW@example.com", "isPrimary": true}]}),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(uid_values(&again.body).len(), 3);
    assert_eq!(again.body["uids"][0]["isPrimary"], true);
    assert_eq!(
        again.body["uids"][1]["isPrimary"], false,
        "setting one primary clears the others"
    );
}

async fn a_conflicting_update_changes_nothing(api: TestApi) {
    let other = api
        .create(
            1,
            json!({"customerRef": "TAKEN", "uids": [{"uidType": "External", "uid": "crm-1"}]}),
        )
        .await;
    let user = api
        .create(1, json!({"firstname": "Before", "customerRef": "MINE", "uids": [{"uidType": "Email", "uid": "keep@example.com"}]}))
        .await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    let response = api
        .put(
            &path,
            1,
            json!({
                "firstname": "After", "customerRef": "TAKEN",
                "uids": [
                    {"endUserUIDID": user["uids"][0]["endUserUIDID"], "markAsDeleted": true},
                    {"uidType": "External", "uid": "crm-1"},
                    {"uidType": "Email", "uid": "fresh@example.com"}
                ]
            }),
        )
        .await;
    assert_problem(&response, 409);
    assert_eq!(response.body["endUserID"], id_of(&other));
    assert!(response.body["errors"]["customerRef"].is_array());
    assert!(response.body["errors"]["uids[1].uid"].is_array());
    assert_eq!(
        api.get(&path, 1).await.body,
        user,
        "the refused update changed the end user"
    );
    // Its old values are still held, its new ones still free.
    assert_eq!(
        id_of(
            &api.get("/api/EndUsers/byUid?uid=keep@example.com", 1)
                .await
                .body
        ),
        id_of(&user)
    );
    assert_eq!(
        id_of(&api.get("/api/EndUsers/byUid?uid=MINE", 1).await.body),
        id_of(&user)
    );
    assert_problem(
        &api.get("/api/EndUsers/byUid?uid=fresh@example.com", 1)
            .await,
        404,
    );
}

async fn update_refuses_invalid_uid_entries(api: TestApi) {
    let first = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "a@example.com"}]}),
        )
        .await;
    let second = api
        .create(
            1,
            json!({"uids": [{"uidType": "Email", "uid": "b@example.com"}]}),
        )
        .await;
    let path = format!("/api/EndUsers/{}", id_of(&second));
    let foreign = api
        .put(&path, 1, json!({"uids": [{"endUserUIDID": first["uids"][0]["endUserUIDID"], "uidType": "Email", "uid": "c@example.com"}]}))
        .await;
    assert_field_error(&foreign, "uids[0].endUserUIDID");
    let bad_value = api
        .put(&path, 1, json!({"uids": [{"endUserUIDID": second["uids"][0]["endUserUIDID"], "uidType": "Email", "uid": "nope"}]}))
        .await;
    assert_field_error(&bad_value, "uids[0].uid");
    let national = api
        .put(
            &path,
            1,
            json!({"uids": [{"uidType": "Phone", "uid": "0470 12 34 56"}]}),
        )
        .await;
    assert_field_error(&national, "uids[0].uid");
    let with_country = api
        .put(
            &path,
            1,
            json!({"country": "BE", "uids": [{"uidType": "Phone", "uid": "0470 12 34 56"}]}),
        )
        .await;
    assert_eq!(
        with_country.status, 200,
        "the country of the same request reads the number"
    );
    assert_eq!(with_country.body["uids"][1]["uid"], "+32470123456");
}
