//! GET /api/EndUsers: paging, sorting, searching and its parameters.

use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;

on_both_stores!(list_pages_sorts_and_searches, list_refuses_bad_parameters,);

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
    let page_ids = |r: &answerpal_testkit::TestResponse| -> Vec<u64> {
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
