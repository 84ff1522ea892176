//! POST /api/EndUsers: the read DTO, validation, uniqueness and the UID limit.

use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    create_answers_201_with_location_and_the_read_dto,
    create_validates_every_field,
    create_refuses_values_held_by_another_end_user,
    at_most_fifty_uids,
);

async fn create_answers_201_with_location_and_the_read_dto(api: TestApi) {
    let response = api
        .post(
            "/api/EndUsers",
            1,
            json!({
                "firstname": "Jane", "lastname": "Doe", "customerRef": " ERP-3049353 ",
                "customerType": "Customer", "lang": "nl", "country": "be",
                "uids": [{"uidType": "Email", "uid": "Jane@Example.com", "isPrimary": true}]
            }),
        )
        .await;
    assert_eq!(response.status, 201, "{:?}", response.body);
    let user = &response.body;
    let id = id_of(user);
    assert!(id > 0 && id < (1 << 53));
    assert_eq!(
        response.header("location"),
        Some(format!("/api/EndUsers/{id}").as_str())
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(user["name"], "Jane Doe");
    assert_eq!(user["customerRef"], "ERP-3049353");
    assert_eq!(user["customerType"], "Customer");
    assert_eq!(user["country"], "BE");
    assert_eq!(user["lang"], "nl");
    assert_eq!(user["gender"], Value::Null);
    assert_eq!(user["company"], Value::Null);
    assert!(user["endUserUIDID"].is_null());
    assert_eq!(
        uid_values(user),
        [("Email".into(), "jane@example.com".into(), true)]
    );
    assert!(
        user["uids"][0]["endUserUIDID"]
            .as_u64()
            .is_some_and(|u| u > id)
    );
    let created_at = user["createdAt"].as_str().expect("createdAt");
    assert!(
        created_at.ends_with('Z') && created_at.len() == 20,
        "{created_at}"
    );
    assert_eq!(user["createdAt"], user["updatedAt"]);

    let read = api.get(&format!("/api/EndUsers/{id}"), 1).await;
    assert_eq!(read.status, 200);
    assert_eq!(&read.body, user, "GET returns what POST returned");

    let minimal = api.create(1, json!({})).await;
    assert_eq!(minimal["customerType"], "Lead");
    assert_eq!(minimal["name"], "");
    assert_eq!(minimal["uids"], json!([]));
    assert!(id_of(&minimal) > id, "IDs increase with creation time");
}

async fn create_validates_every_field(api: TestApi) {
    let long = |n: usize| "x".repeat(n);
    let response = api
        .post(
            "/api/EndUsers",
            1,
            json!({
                "firstname": long(201), "lastname": long(201), "name": long(201), "gender": long(51),
                "otherContactDetails": long(4001), "aiDocumentation": long(16001),
                "customerRef": long(129), "customerType": "Prospect", "country": "XX",
                "lang": "not a tag", "street": long(201), "houseNumber": long(201),
                "postalCode": long(201), "city": long(201), "company": long(201),
                "uids": [
                    {"uidType": "Fax", "uid": "1"},
                    {"uidType": "Email", "uid": "not-an-address"},
                    {"uidType": "Phone", "uid": "0470 00 00 00"},
                    {"uidType": "WhatsApp", "uid": "+1"},
                    {"uidType": "Webchat", "uid": "   "},
                    {"uid": "no type"}
                ]
            }),
        )
        .await;
    for path in [
        "firstname",
        "lastname",
        "name",
        "gender",
        "otherContactDetails",
        "aiDocumentation",
        "customerRef",
        "customerType",
        "country",
        "lang",
        "street",
        "houseNumber",
        "postalCode",
        "city",
        "company",
        "uids[0].uidType",
        "uids[1].uid",
        "uids[2].uid",
        "uids[3].uid",
        "uids[4].uid",
        "uids[5].uidType",
    ] {
        assert_field_error(&response, path);
    }
    // Limits are inclusive.
    let at_limits = api
        .create(1, json!({"firstname": long(200), "gender": long(50), "customerRef": long(128), "aiDocumentation": long(16000)}))
        .await;
    assert_eq!(at_limits["firstname"].as_str().map(str::len), Some(200));

    let twice = api
        .post(
            "/api/EndUsers",
            1,
            json!({"uids": [{"uidType": "Email", "uid": "a@example.com"}, {"uidType": "email", "uid": " A@EXAMPLE.com"}]}),
        )
        .await;
    assert_field_error(&twice, "uids[1].uid");
    assert_eq!(
        api.get("/api/EndUsers", 1).await.body["totalCount"],
        1,
        "nothing created by refused requests"
    );
}

async fn create_refuses_values_held_by_another_end_user(api: TestApi) {
    let holder = api
        .create(1, json!({"customerRef": "C-9", "uids": [{"uidType": "Phone", "uid": "+32 470 00 00 00"}]}))
        .await;
    let holder_id = id_of(&holder);
    let uid_conflict = api
        .post(
            "/api/EndUsers",
            1,
            json!({"country": "BE", "uids": [{"uidType": "Email", "uid": "new@example.com"}, {"uidType": "Phone", "uid": "0470000000"}]}),
        )
        .await;
    assert_problem(&uid_conflict, 409);
    assert_eq!(uid_conflict.body["endUserID"], holder_id);
    assert!(
        uid_conflict.body["errors"]["uids[1].uid"].is_array(),
        "{}",
        uid_conflict.body
    );
    let ref_conflict = api
        .post("/api/EndUsers", 1, json!({"customerRef": "C-9"}))
        .await;
    assert_problem(&ref_conflict, 409);
    assert_eq!(ref_conflict.body["endUserID"], holder_id);
    assert!(ref_conflict.body["errors"]["customerRef"].is_array());
    // The refused create left nothing behind: its other UID is still free.
    let list = api.get("/api/EndUsers", 1).await;
    assert_eq!(list.body["totalCount"], 1);
    api.create(
        1,
        json!({"uids": [{"uidType": "Email", "uid": "new@example.com"}]}),
    )
    .await;
    // The same number under another type is another UID.
    api.create(
        1,
        json!({"uids": [{"uidType": "WhatsApp", "uid": "32470000000"}]}),
    )
    .await;
}

async fn at_most_fifty_uids(api: TestApi) {
    let uids = |range: std::ops::Range<usize>| -> Vec<Value> {
        range
            .map(|n| json!({"uidType": "External", "uid": format!("u-{n}")}))
            .collect()
    };
    assert_field_error(
        &api.post(
            "/api/EndUsers",
            1,
            json!({"customerRef": "R", "uids": uids(0..51)}),
        )
        .await,
        "uids",
    );
    let full = api
        .create(1, json!({"customerRef": "R", "uids": uids(0..50)}))
        .await;
    assert_eq!(full["uids"].as_array().map(Vec::len), Some(50));
    let id = id_of(&full);
    assert_field_error(
        &api.put(
            &format!("/api/EndUsers/{id}"),
            1,
            json!({"uids": uids(50..51)}),
        )
        .await,
        "uids",
    );
    let assign = api
        .post(
            "/api/EndUserUIDs/assign",
            1,
            json!({"uid": "u-99", "endUserID": id, "uidType": "External"}),
        )
        .await;
    assert_field_error(&assign, "uid");
    // Entries that give the first `count` UIDs new values.
    let replacing = |count: usize| -> Vec<Value> {
        full["uids"].as_array().expect("uids")[..count]
            .iter()
            .enumerate()
            .map(|(n, u)| json!({"endUserUIDID": u["endUserUIDID"], "uidType": "External", "uid": format!("v-{n}")}))
            .collect()
    };
    let replaced = api
        .put(
            &format!("/api/EndUsers/{id}"),
            1,
            json!({"customerRef": "S", "uids": replacing(50)}),
        )
        .await;
    assert_eq!(
        replaced.status, 400,
        "103 writes exceed one transaction: {:?}",
        replaced.body
    );
    let replaced = api
        .put(
            &format!("/api/EndUsers/{id}"),
            1,
            json!({"customerRef": "S", "uids": replacing(45)}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(
        id_of(&api.get("/api/EndUsers/byUid?uid=v-44", 1).await.body),
        id
    );
    assert_problem(&api.get("/api/EndUsers/byUid?uid=u-44", 1).await, 404);
}
