//! GET /api/EndUsers/byUid: every form of a value, no match, ambiguity.

use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;

on_both_stores!(
    by_uid_resolves_every_form,
    by_uid_reports_missing_and_ambiguous,
);

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
