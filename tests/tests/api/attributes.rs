//! Custom attributes (SPEC 7): validated with field paths, merged on PUT (null removes a key),
//! filtered in the list by `attributes.<key>=<value>`.

use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;

on_both_stores!(
    attributes_are_stored_merged_and_removed,
    invalid_attributes_are_named_by_their_path,
    the_list_filters_on_attributes,
);

async fn attributes_are_stored_merged_and_removed(api: TestApi) {
    let user = api
        .create(
            1,
            json!({"attributes": {"plan": "gold", "seats": 3, "vip": true, "gone": null}}),
        )
        .await;
    assert_eq!(
        user["attributes"],
        json!({"plan": "gold", "seats": 3, "vip": true})
    );
    let path = format!("/api/EndUsers/{}", id_of(&user));
    let updated = api
        .put(
            &path,
            1,
            json!({"attributes": {"plan": null, "seats": 4.5, "region": "EU"}}),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    let expected = json!({"seats": 4.5, "vip": true, "region": "EU"});
    assert_eq!(updated.body["attributes"], expected);
    assert_eq!(api.get(&path, 1).await.body["attributes"], expected);
    let untouched = api.put(&path, 1, json!({"firstname": "Jane"})).await;
    assert_eq!(
        untouched.body["attributes"], expected,
        "absent keeps them all"
    );
    let plain = api.create(1, json!({"firstname": "Joe"})).await;
    assert_eq!(plain["attributes"], json!({}), "always an object");
}

async fn invalid_attributes_are_named_by_their_path(api: TestApi) {
    let invalid = api
        .post(
            "/api/EndUsers",
            1,
            json!({"attributes": {"plan": {"tier": 1}, "9lives": "x", "note": "x".repeat(1001)}}),
        )
        .await;
    for path in ["attributes.plan", "attributes.9lives", "attributes.note"] {
        assert_field_error(&invalid, path);
    }
    assert_field_error(
        &api.post("/api/EndUsers", 1, json!({"attributes": [1, 2]}))
            .await,
        "attributes",
    );
    let user = api.create(1, json!({})).await;
    let many: serde_json::Map<String, serde_json::Value> =
        (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
    let path = format!("/api/EndUsers/{}", id_of(&user));
    let too_many = api.put(&path, 1, json!({"attributes": many})).await;
    assert_field_error(&too_many, "attributes");
    assert_eq!(
        api.get(&path, 1).await.body["attributes"],
        json!({}),
        "nothing applied"
    );
}

async fn the_list_filters_on_attributes(api: TestApi) {
    let gold = api
        .create(
            1,
            json!({"attributes": {"plan": "gold", "seats": 3, "vip": true}}),
        )
        .await;
    api.create(1, json!({"attributes": {"plan": "silver", "seats": 3}}))
        .await;
    api.create(1, json!({})).await;
    api.create(2, json!({"attributes": {"plan": "gold"}})).await;
    let ids = |response: &answerpal_testkit::TestResponse| -> Vec<u64> {
        assert_eq!(response.status, 200, "{:?}", response.body);
        response.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    };
    let found = api.get("/api/EndUsers?attributes.plan=gold", 1).await;
    assert_eq!(ids(&found), vec![id_of(&gold)]);
    assert_eq!(found.body["totalCount"], 1);
    let both = api
        .get("/api/EndUsers?attributes.seats=3&attributes.vip=true", 1)
        .await;
    assert_eq!(ids(&both), vec![id_of(&gold)]);
    assert_eq!(
        ids(&api.get("/api/EndUsers?attributes.seats=3", 1).await).len(),
        2
    );
    assert!(
        ids(&api.get("/api/EndUsers?attributes.plan=Gold", 1).await).is_empty(),
        "exact"
    );
    assert_field_error(
        &api.get("/api/EndUsers?attributes.bad-key=1", 1).await,
        "attributes.bad-key",
    );
}
