//! GET /api/Customers/models and the default model rules of PUT /api/Customers/me.

use answerpal::domain::TenantId;
use answerpal::domain::customer::Account;
use answerpal::store::account;
use answerpal_testkit::TestApi;
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    a_tenant_sees_active_global_models_and_its_own,
    an_inactive_model_stays_listed_while_it_is_a_default,
    a_default_model_must_be_active_visible_and_compatible,
);

fn ids(models: &Value) -> Vec<u64> {
    models
        .as_array()
        .expect("an array of models")
        .iter()
        .map(|m| m["modelID"].as_u64().expect("modelID"))
        .collect()
}

async fn a_tenant_sees_active_global_models_and_its_own(api: TestApi) {
    let one = api.get("/api/Customers/models", 1).await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    let two = api.get("/api/Customers/models", 2).await;
    let (one_ids, two_ids) = (ids(&one.body), ids(&two.body));
    assert!(one_ids.windows(2).all(|w| w[0] < w[1]), "by modelID");
    assert!(one_ids.contains(&101), "customer 1's fine-tuned model");
    assert!(!two_ids.contains(&101), "not another tenant's");
    for model in two.body.as_array().expect("array") {
        assert_eq!(model["isActive"], true);
        assert_eq!(model["isGlobal"], true);
        assert!(model.get("ownerCustomerID").is_none());
        for field in [
            "purpose",
            "modelName",
            "apiModelName",
            "requiredSubscriptionLevel",
        ] {
            assert!(model[field].is_string(), "{field}");
        }
        for field in [
            "hasTextInput",
            "hasReasoning",
            "supportsWebSearch",
            "isDefault",
            "showInPrimaryList",
            "isFineTuned",
        ] {
            assert!(model[field].is_boolean(), "{field}");
        }
        assert!(model["compatibleUsages"].is_array());
    }
    let fine_tuned = one
        .body
        .as_array()
        .and_then(|all| all.iter().find(|m| m["modelID"] == 101))
        .expect("model 101");
    assert_eq!(
        (
            fine_tuned["isGlobal"].clone(),
            fine_tuned["isFineTuned"].clone()
        ),
        (json!(false), json!(true))
    );
}

async fn an_inactive_model_stays_listed_while_it_is_a_default(api: TestApi) {
    assert!(!ids(&api.get("/api/Customers/models", 3).await.body).contains(&9));
    // Model 9 was chosen while it was active; the catalog retired it since. Stored directly, as
    // the API refuses an inactive model as a new default.
    let tenant = TenantId::new(3).expect("tenant");
    let mut retired = Account::default();
    retired.settings.default_webchat_model_id = Some(9);
    let write = account::save(tenant, &retired).expect("an account write");
    api.table()
        .write(vec![write])
        .await
        .expect("store the default");
    let listed = ids(&api.get("/api/Customers/models", 3).await.body);
    assert!(listed.contains(&9), "{listed:?}");
    assert!(!ids(&api.get("/api/Customers/models", 4).await.body).contains(&9));
    assert_eq!(
        api.get("/api/Customers/me", 3).await.body["defaultWebchatModelId"],
        9
    );
    // Another update keeps it; replacing it drops the model from the list.
    let kept = api
        .put("/api/Customers/me", 3, json!({"twilioRegion": "ie1"}))
        .await;
    assert_eq!(kept.body["defaultWebchatModelId"], 9);
    api.put("/api/Customers/me", 3, json!({"defaultWebchatModelId": 1}))
        .await;
    assert!(!ids(&api.get("/api/Customers/models", 3).await.body).contains(&9));
}

async fn a_default_model_must_be_active_visible_and_compatible(api: TestApi) {
    let cases = [
        ("defaultWebchatModelId", json!(9), 1),    // inactive
        ("defaultWebchatModelId", json!(101), 2),  // another tenant's
        ("defaultEmailModelId", json!(7), 1),      // transcription only
        ("defaultSummaryModelId", json!(4242), 1), // unknown
        ("defaultTopicModelId", json!("two"), 1),  // not an id
    ];
    for (field, value, tenant) in cases {
        let response = api
            .put("/api/Customers/me", tenant, json!({ field: value }))
            .await;
        assert_field_error(&response, field);
    }
    let own = api
        .put(
            "/api/Customers/me",
            1,
            json!({"defaultWebchatModelId": 101}),
        )
        .await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    assert_eq!(own.body["defaultWebchatModelId"], 101);
}
