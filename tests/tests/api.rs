//! The API contract (SPEC 1-3), run on the embedded table and on DynamoDB's wire protocol.

use api_tests::TestApi;
use serde_json::{Value, json};

/// Runs each named test on both stores.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(api_tests::TestApi::memory().await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(api_tests::TestApi::dynamodb().await).await;
                }
            )*
        }
    };
}

on_both_stores!(
    create_answers_201_with_location_and_the_read_dto,
    get_by_id_answers_200_404_and_400,
    tenants_are_isolated,
    create_validates_every_field,
    create_refuses_values_held_by_another_end_user,
    update_is_partial,
    update_manages_uids,
    a_conflicting_update_changes_nothing,
    update_refuses_invalid_uid_entries,
    delete_frees_uids_and_customer_ref,
    list_pages_sorts_and_searches,
    list_refuses_bad_parameters,
    by_uid_resolves_every_form,
    by_uid_reports_missing_and_ambiguous,
    assign_links_and_reports,
    authentication_and_tenancy,
    bodies_are_checked,
    unknown_routes_and_methods,
    every_response_has_a_request_id,
    at_most_fifty_uids,
    concurrent_assigns_have_one_winner,
    concurrent_creates_of_one_uid_have_one_winner,
);

fn id_of(user: &Value) -> u64 {
    user["endUserID"].as_u64().expect("endUserID is a number")
}

fn uid_values(user: &Value) -> Vec<(String, String, bool)> {
    user["uids"]
        .as_array()
        .expect("uids is an array")
        .iter()
        .map(|u| {
            (
                u["uidType"].as_str().unwrap_or_default().to_owned(),
                u["uid"].as_str().unwrap_or_default().to_owned(),
                u["isPrimary"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

fn assert_problem(response: &api_tests::TestResponse, status: u16) {
    assert_eq!(response.status, status, "{:?}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(response.body["status"], status);
    assert!(response.body["type"].is_string() && response.body["title"].is_string());
    assert!(response.body["detail"].is_string());
}

fn assert_field_error(response: &api_tests::TestResponse, path: &str) {
    assert_problem(response, 400);
    assert!(
        response.body["errors"][path].is_array(),
        "no error for {path}: {}",
        response.body
    );
}

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

async fn get_by_id_answers_200_404_and_400(api: TestApi) {
    let user = api.create(1, json!({"firstname": "A"})).await;
    assert_eq!(
        api.get(&format!("/api/EndUsers/{}", id_of(&user)), 1)
            .await
            .status,
        200
    );
    assert_problem(
        &api.get(&format!("/api/EndUsers/{}", id_of(&user) + 1), 1)
            .await,
        404,
    );
    for bad in ["0", "-4", "abc", "1.5", "9007199254740992"] {
        assert_field_error(&api.get(&format!("/api/EndUsers/{bad}"), 1).await, "id");
    }
}

async fn tenants_are_isolated(api: TestApi) {
    let mine = api
        .create(1, json!({"customerRef": "R-1", "uids": [{"uidType": "Email", "uid": "same@example.com"}]}))
        .await;
    // The same values are free in another tenant.
    let theirs = api
        .create(2, json!({"customerRef": "R-1", "uids": [{"uidType": "Email", "uid": "same@example.com"}]}))
        .await;
    let path = format!("/api/EndUsers/{}", id_of(&mine));
    assert_problem(&api.get(&path, 2).await, 404);
    assert_problem(&api.put(&path, 2, json!({"firstname": "X"})).await, 404);
    assert_problem(&api.delete(&path, 2).await, 404);
    let resolved = api.get("/api/EndUsers/byUid?uid=same@example.com", 2).await;
    assert_eq!(id_of(&resolved.body), id_of(&theirs));
    let list = api.get("/api/EndUsers", 2).await;
    assert_eq!(list.body["totalCount"], 1);
    assert_eq!(id_of(&list.body["items"][0]), id_of(&theirs));
    let assign = api
        .post(
            "/api/EndUserUIDs/assign",
            2,
            json!({"uid": "x@example.com", "endUserID": id_of(&mine), "uidType": "Email"}),
        )
        .await;
    assert_problem(&assign, 404);
    assert_eq!(
        api.get(&path, 1).await.body,
        mine,
        "the other tenant changed nothing"
    );
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

async fn delete_frees_uids_and_customer_ref(api: TestApi) {
    let user = api
        .create(1, json!({"customerRef": "GONE", "uids": [{"uidType": "Email", "uid": "gone@example.com"}, {"uidType": "Webchat", "uid": "v-1"}]}))
        .await;
    let path = format!("/api/EndUsers/{}", id_of(&user));
    let deleted = api.delete(&path, 1).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
    assert_problem(&api.get(&path, 1).await, 404);
    assert_problem(&api.delete(&path, 1).await, 404);
    assert_problem(
        &api.get("/api/EndUsers/byUid?uid=gone@example.com", 1).await,
        404,
    );
    assert_eq!(api.get("/api/EndUsers", 1).await.body["totalCount"], 0);
    api.create(1, json!({"customerRef": "GONE", "uids": [{"uidType": "Email", "uid": "gone@example.com"}, {"uidType": "Webchat", "uid": "v-1"}]}))
        .await;
}

async fn list_pages_sorts_and_searches(api: TestApi) {
    let names = ["Charlie", "alice", "Bob", "dave", "Eve"];
    let mut ids = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let user = api
            .create(1, json!({"firstname": name, "company": if n == 2 { "Bobcat NV" } else { "" }, "uids": [{"uidType": "External", "uid": format!("crm-{n}")}]}))
            .await;
        ids.push(id_of(&user));
    }
    api.create(2, json!({"firstname": "Other tenant"})).await;

    let first = api.get("/api/EndUsers?pageSize=2", 1).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["totalCount"], 5);
    assert_eq!(first.body["totalPages"], 3);
    assert_eq!(first.body["pageNumber"], 1);
    assert_eq!(first.body["pageSize"], 2);
    let page_ids = |r: &api_tests::TestResponse| -> Vec<u64> {
        r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    };
    assert_eq!(
        page_ids(&first),
        ids[..2],
        "default order: endUserID ascending"
    );
    let last = api.get("/api/EndUsers?pageSize=2&pageNumber=3", 1).await;
    assert_eq!(page_ids(&last), ids[4..]);
    let beyond = api.get("/api/EndUsers?pageSize=2&pageNumber=9", 1).await;
    assert_eq!(beyond.status, 200);
    assert_eq!(page_ids(&beyond), Vec::<u64>::new());

    let by_name = api.get("/api/EndUsers?sortBy=name&sortOrder=desc", 1).await;
    let sorted: Vec<&str> = by_name.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        sorted,
        ["Eve", "dave", "Charlie", "Bob", "alice"],
        "case-insensitive"
    );
    let by_id_desc = api.get("/api/EndUsers?sortOrder=desc&pageSize=1", 1).await;
    assert_eq!(page_ids(&by_id_desc), [ids[4]]);

    let by_uid = api.get("/api/EndUsers?search=CRM-3", 1).await;
    assert_eq!(page_ids(&by_uid), [ids[3]]);
    let by_company = api.get("/api/EndUsers?search=%20bobcat%20", 1).await;
    assert_eq!(page_ids(&by_company), [ids[2]]);
    let by_name_part = api.get("/api/EndUsers?search=LIC", 1).await;
    assert_eq!(page_ids(&by_name_part), [ids[1]]);
    let nothing = api.get("/api/EndUsers?search=zzz", 1).await;
    assert_eq!(
        (
            nothing.body["totalCount"].as_u64(),
            nothing.body["totalPages"].as_u64()
        ),
        (Some(0), Some(0))
    );
    // Items are whole read DTOs.
    assert_eq!(by_uid.body["items"][0]["uids"][0]["uid"], "crm-3");
}

async fn list_refuses_bad_parameters(api: TestApi) {
    for (query, path) in [
        ("pageNumber=0", "pageNumber"),
        ("pageNumber=x", "pageNumber"),
        ("pageSize=0", "pageSize"),
        ("pageSize=101", "pageSize"),
        ("sortBy=email", "sortBy"),
        ("sortOrder=sideways", "sortOrder"),
    ] {
        assert_field_error(&api.get(&format!("/api/EndUsers?{query}"), 1).await, path);
    }
    assert_eq!(
        api.get("/api/EndUsers?pageSize=100&sortBy=createdAt", 1)
            .await
            .status,
        200
    );
}

async fn by_uid_resolves_every_form(api: TestApi) {
    let user = api
        .create(
            1,
            json!({"customerRef": "ERP-1", "uids": [
                {"uidType": "Email", "uid": "jane@example.com"},
                {"uidType": "Phone", "uid": "+32470000000"},
                {"uidType": "Webchat", "uid": "Visitor-ABC"}
            ]}),
        )
        .await;
    let id = id_of(&user);
    for query in [
        "uid=%20JANE@Example.com%20",
        "uid=0032%20470%2000%2000%2000",
        "uid=%2B32470000000",
        "uid=0470000000&country=be",
        "uid=ERP-1",
        "uid=Visitor-ABC",
    ] {
        let response = api.get(&format!("/api/EndUsers/byUid?{query}"), 1).await;
        assert_eq!(response.status, 200, "{query}: {:?}", response.body);
        assert_eq!(id_of(&response.body), id, "{query}");
        assert_eq!(response.body, user);
    }
    // Other types keep their case; customerRef matches exactly.
    assert_problem(
        &api.get("/api/EndUsers/byUid?uid=visitor-abc", 1).await,
        404,
    );
    assert_problem(&api.get("/api/EndUsers/byUid?uid=erp-1", 1).await, 404);
}

async fn by_uid_reports_missing_and_ambiguous(api: TestApi) {
    assert_field_error(&api.get("/api/EndUsers/byUid", 1).await, "uid");
    assert_field_error(&api.get("/api/EndUsers/byUid?uid=%20%20", 1).await, "uid");
    assert_field_error(
        &api.get("/api/EndUsers/byUid?uid=x&country=Belgium", 1)
            .await,
        "country",
    );
    assert_problem(
        &api.get("/api/EndUsers/byUid?uid=nobody@example.com", 1)
            .await,
        404,
    );
    let phone = api
        .create(
            1,
            json!({"uids": [{"uidType": "Phone", "uid": "+32470000000"}]}),
        )
        .await;
    let whatsapp = api
        .create(
            1,
            json!({"uids": [{"uidType": "WhatsApp", "uid": "+32470000000"}]}),
        )
        .await;
    let ambiguous = api.get("/api/EndUsers/byUid?uid=%2B32470000000", 1).await;
    assert_problem(&ambiguous, 409);
    let mut expected = vec![id_of(&phone), id_of(&whatsapp)];
    expected.sort();
    assert_eq!(ambiguous.body["endUserIDs"], json!(expected));
    // A customerRef that equals another end user's UID is ambiguous too.
    let by_ref = api.create(1, json!({"customerRef": "crm-7"})).await;
    let by_uid = api
        .create(
            1,
            json!({"uids": [{"uidType": "External", "uid": "crm-7"}]}),
        )
        .await;
    let response = api.get("/api/EndUsers/byUid?uid=crm-7", 1).await;
    assert_problem(&response, 409);
    let mut expected = vec![id_of(&by_ref), id_of(&by_uid)];
    expected.sort();
    assert_eq!(response.body["endUserIDs"], json!(expected));
}

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

async fn authentication_and_tenancy(api: TestApi) {
    let anonymous = api.send("GET", "/api/EndUsers", None, None).await;
    assert_problem(&anonymous, 401);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let request = |authorization: &str| {
        lambda_http::http::Request::builder()
            .uri("/api/EndUsers")
            .header("authorization", authorization)
            .body(lambda_http::Body::Empty)
            .expect("request")
    };
    let forged = api
        .raw(request(&format!(
            "Bearer {}",
            api_tests::token(1).replace('.', "x.")
        )))
        .await;
    assert_problem(&forged, 401);
    assert_eq!(
        forged.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    let other_key = answerpal::auth::hs256_token("another-secret", 1, 3600).expect("token");
    assert_problem(&api.raw(request(&format!("Bearer {other_key}"))).await, 401);
    let expired = answerpal::auth::hs256_token(api_tests::TEST_SECRET, 1, -120).expect("token");
    assert_problem(&api.raw(request(&format!("Bearer {expired}"))).await, 401);
    let no_tenant = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "someone", "exp": 4102444800u64}),
        &jsonwebtoken::EncodingKey::from_secret(api_tests::TEST_SECRET.as_bytes()),
    )
    .expect("token");
    assert_problem(&api.raw(request(&format!("Bearer {no_tenant}"))).await, 403);
    // Authentication comes before any other check.
    assert_problem(&api.send("GET", "/api/EndUsers/abc", None, None).await, 401);
    assert_problem(
        &api.send(
            "POST",
            "/api/EndUsers",
            None,
            Some(json!({"customerType": "x"})),
        )
        .await,
        401,
    );
}

async fn bodies_are_checked(api: TestApi) {
    let send = |content_type: Option<&str>, body: Vec<u8>| {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/api/EndUsers")
            .header("authorization", format!("Bearer {}", api_tests::token(1)));
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder
            .body(lambda_http::Body::Binary(body))
            .expect("request")
    };
    assert_problem(
        &api.raw(send(Some("text/plain"), b"{}".to_vec())).await,
        415,
    );
    assert_problem(&api.raw(send(None, b"{}".to_vec())).await, 415);
    let big = format!("{{\"aiDocumentation\": \"{}\"}}", "x".repeat(256 * 1024));
    assert_problem(
        &api.raw(send(Some("application/json"), big.into_bytes()))
            .await,
        413,
    );
    assert_problem(
        &api.raw(send(Some("application/json"), b"{\"firstname\": ".to_vec()))
            .await,
        400,
    );
    assert_problem(
        &api.raw(send(Some("application/json"), b"".to_vec())).await,
        400,
    );
    assert_problem(
        &api.raw(send(Some("application/json"), b"[1, 2]".to_vec()))
            .await,
        400,
    );
    let wrong_type = api
        .raw(send(
            Some("application/json; charset=utf-8"),
            br#"{"firstname": 5}"#.to_vec(),
        ))
        .await;
    assert_field_error(&wrong_type, "firstname");
    let nested = api
        .raw(send(
            Some("application/json"),
            br#"{"uids": [{"uidType": "Email", "uid": "a@b.co"}, {"uidType": "Email", "uid": 7}]}"#
                .to_vec(),
        ))
        .await;
    assert_field_error(&nested, "uids[1].uid");
    // Unknown fields are ignored.
    let extra = api
        .raw(send(
            Some("application/json"),
            br#"{"firstname": "A", "favouriteColour": "blue"}"#.to_vec(),
        ))
        .await;
    assert_eq!(extra.status, 201);
    assert_eq!(api.get("/api/EndUsers", 1).await.body["totalCount"], 1);
}

async fn unknown_routes_and_methods(api: TestApi) {
    assert_problem(&api.get("/api/Nothing", 1).await, 404);
    assert_problem(&api.get("/api/EndUsers/1/tickets/2", 1).await, 404);
    let patch = api
        .send("PATCH", "/api/EndUsers/1", Some(1), Some(json!({})))
        .await;
    assert_problem(&patch, 405);
    assert_eq!(patch.header("allow"), Some("GET, PUT, DELETE"));
    assert_problem(&api.get("/api/EndUserUIDs/assign", 1).await, 405);
}

async fn every_response_has_a_request_id(api: TestApi) {
    let responses = [
        api.get("/api/EndUsers", 1).await,
        api.send("GET", "/api/EndUsers", None, None).await,
        api.get("/api/EndUsers/0", 1).await,
        api.get("/nowhere", 1).await,
        api.post("/api/EndUsers", 1, json!({})).await,
    ];
    let ids: Vec<&str> = responses
        .iter()
        .map(|r| r.header("x-request-id").expect("X-Request-Id"))
        .collect();
    assert!(ids.iter().all(|id| id.len() >= 16));
    assert_ne!(ids[0], ids[1], "each request has its own id");
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
    // Replacing every value at once still applies as one write.
    let replace: Vec<Value> = full["uids"]
        .as_array()
        .expect("uids")
        .iter()
        .enumerate()
        .map(|(n, u)| json!({"endUserUIDID": u["endUserUIDID"], "uidType": "External", "uid": format!("v-{n}")}))
        .collect();
    let replaced = api
        .put(
            &format!("/api/EndUsers/{id}"),
            1,
            json!({"customerRef": "S", "uids": replace}),
        )
        .await;
    assert_eq!(
        replaced.status, 400,
        "103 writes exceed one transaction: {:?}",
        replaced.body
    );
    let replace_most: Vec<Value> = full["uids"].as_array().expect("uids")[..45]
        .iter()
        .enumerate()
        .map(|(n, u)| json!({"endUserUIDID": u["endUserUIDID"], "uidType": "External", "uid": format!("v-{n}")}))
        .collect();
    let replaced = api
        .put(
            &format!("/api/EndUsers/{id}"),
            1,
            json!({"customerRef": "S", "uids": replace_most}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(
        id_of(&api.get("/api/EndUsers/byUid?uid=v-44", 1).await.body),
        id
    );
    assert_problem(&api.get("/api/EndUsers/byUid?uid=u-44", 1).await, 404);
}

/// Awaits racing requests: exactly one got 201, every other a 409. Returns the winner's index.
async fn the_one_winner(tasks: Vec<tokio::task::JoinHandle<api_tests::TestResponse>>) -> usize {
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").status);
    }
    let winners: Vec<usize> = (0..statuses.len())
        .filter(|n| statuses[*n] == 201)
        .collect();
    assert_eq!(winners.len(), 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    winners[0]
}

async fn concurrent_assigns_have_one_winner(api: TestApi) {
    let api = std::sync::Arc::new(api);
    let mut users = Vec::new();
    for _ in 0..6 {
        users.push(id_of(&api.create(1, json!({})).await));
    }
    let tasks: Vec<_> = users
        .iter()
        .map(|id| {
            let api = std::sync::Arc::clone(&api);
            let id = *id;
            tokio::spawn(async move {
                api.post(
                    "/api/EndUserUIDs/assign",
                    1,
                    json!({"uid": "+32 470 99 99 99", "endUserID": id, "uidType": "Phone"}),
                )
                .await
            })
        })
        .collect();
    let winner = users[the_one_winner(tasks).await];
    let resolved = api.get("/api/EndUsers/byUid?uid=%2B32470999999", 1).await;
    assert_eq!(id_of(&resolved.body), winner);
    for id in users.iter().filter(|id| **id != winner) {
        let loser = api.get(&format!("/api/EndUsers/{id}"), 1).await;
        assert_eq!(loser.body["uids"], json!([]), "a loser holds the UID");
    }
}

async fn concurrent_creates_of_one_uid_have_one_winner(api: TestApi) {
    let api = std::sync::Arc::new(api);
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let api = std::sync::Arc::clone(&api);
            tokio::spawn(async move {
                api.post(
                    "/api/EndUsers",
                    1,
                    json!({"firstname": format!("racer {n}"), "uids": [{"uidType": "Email", "uid": "race@example.com"}, {"uidType": "External", "uid": format!("own-{n}")}]}),
                )
                .await
            })
        })
        .collect();
    let winner = the_one_winner(tasks).await;
    let list = api.get("/api/EndUsers", 1).await;
    assert_eq!(list.body["totalCount"], 1, "losers left end users behind");
    for n in (0..6).filter(|n| *n != winner) {
        let own = api
            .get(&format!("/api/EndUsers/byUid?uid=own-{n}"), 1)
            .await;
        assert_problem(&own, 404);
    }
}
