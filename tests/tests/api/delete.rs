//! DELETE /api/EndUsers/{id} frees what the end user held.

use answerpal_testkit::TestApi;
use serde_json::Value;

use crate::support::*;

on_both_stores!(delete_frees_uids_and_customer_ref,);

async fn delete_frees_uids_and_customer_ref(api: TestApi) {
    let holding = || {
        end_user()
            .with("customerRef", "GONE")
            .uid("Email", "gone@example.com")
            .uid("Webchat", "v-1")
            .json()
    };
    let user = api.create(1, holding()).await;
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
    // Everything it held is free again.
    api.create(1, holding()).await;
}
