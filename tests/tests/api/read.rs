//! GET /api/EndUsers/{id} and tenant isolation.

use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;

on_both_stores!(get_by_id_answers_200_404_and_400, tenants_are_isolated,);

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
    let holding = || {
        end_user()
            .with("customerRef", "R-1")
            .uid("Email", "same@example.com")
            .json()
    };
    let mine = api.create(1, holding()).await;
    // The same values are free in another tenant.
    let theirs = api.create(2, holding()).await;
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
