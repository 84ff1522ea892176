use serde_json::json;

use super::*;
use crate::domain::end_user::test_support::{created, now};
use crate::domain::end_user::update;
use crate::domain::ids::IdBlock;

fn settings(json: serde_json::Value) -> Settings {
    serde_json::from_value(json).expect("settings")
}

#[test]
fn a_sync_asks_by_customer_ref_else_by_each_primary_uid_in_uid_type_order() {
    let user = created(json!({"customerRef": "C-9", "uids": [
        {"uidType": "Phone", "uid": "+32470000000"}
    ]}));
    assert_eq!(lookups(&user), [Lookup::CustomerRef("C-9".into())]);

    let user = created(json!({"uids": [
        {"uidType": "Webchat", "uid": "chat-1"},
        {"uidType": "Phone", "uid": "+32470000000"},
        {"uidType": "Email", "uid": "second@example.com"},
        {"uidType": "Email", "uid": "first@example.com", "isPrimary": true}
    ]}));
    assert_eq!(
        lookups(&user),
        [
            Lookup::Uid(UidType::Email, "first@example.com".into()),
            Lookup::Uid(UidType::Phone, "+32470000000".into()),
            Lookup::Uid(UidType::Webchat, "chat-1".into()),
        ]
    );
    assert!(lookups(&created(json!({"firstname": "Jane"}))).is_empty());
}

#[test]
fn lookup_urls_extend_the_base_path_and_keep_its_query() {
    let base = Url::parse("https://crm.example.com/api/?tenant=7#x").expect("a URL");
    let by_ref = Lookup::CustomerRef("C 1&2".into()).url(&base);
    assert_eq!(
        by_ref.as_str(),
        "https://crm.example.com/api/answerpal/lookup?tenant=7&customerRef=C+1%262"
    );
    let bare = Url::parse("https://crm.example.com").expect("a URL");
    let by_uid = Lookup::Uid(UidType::Email, "a+b@example.com".into()).url(&bare);
    assert_eq!(
        by_uid.as_str(),
        "https://crm.example.com/answerpal/lookup?uidType=Email&uid=a%2Bb%40example.com"
    );
}

#[test]
fn the_target_takes_the_credential_its_type_needs() {
    let base = "https://crm.example.com";
    let secret = Secret::new("s3cret");
    let of = |json: serde_json::Value, secret: Option<&Secret>| {
        CrmTarget::of(&settings(json), secret).map(|t| t.auth)
    };
    assert!(of(json!({}), None).is_err_and(|why| why.contains("apiBaseUrl")));
    assert_eq!(of(json!({"apiBaseUrl": base}), None), Ok(CrmAuth::None));
    let basic =
        json!({"apiBaseUrl": base, "apiAuthenticationType": "Basic", "apiUsername": "robot"});
    assert_eq!(
        of(basic.clone(), Some(&secret)),
        Ok(CrmAuth::Basic {
            username: "robot".into(),
            password: secret.clone()
        })
    );
    assert!(of(basic, None).is_err_and(|why| why.contains("apiPassword")));
    let no_user = json!({"apiBaseUrl": base, "apiAuthenticationType": "Basic"});
    assert!(of(no_user, Some(&secret)).is_err_and(|why| why.contains("apiUsername")));
    let bearer = json!({"apiBaseUrl": base, "apiAuthenticationType": "Bearer"});
    assert_eq!(
        of(bearer.clone(), Some(&secret)),
        Ok(CrmAuth::Bearer(secret.clone()))
    );
    assert!(of(bearer.clone(), None).is_err_and(|why| why.contains("apiToken")));
    let key = json!({"apiBaseUrl": base, "apiAuthenticationType": "ApiKey"});
    assert_eq!(of(key, Some(&secret)), Ok(CrmAuth::ApiKey(secret.clone())));
    assert_eq!(
        CrmTarget::secret_field(&settings(bearer)),
        Some(SecretField::ApiToken)
    );
}

#[test]
fn a_record_applies_as_a_put_and_names_what_it_changed() {
    let user = created(json!({"firstname": "J", "company": "Old", "uids": [
        {"uidType": "Email", "uid": "jane@example.com"}
    ]}));
    let record = CrmRecord::parse(
        br#"{"firstname": "Jane", "lastname": "Doe", "company": null, "country": "be",
            "customerType": "Customer", "unknown": 1,
            "uids": [{"uidType": "Email", "uid": "JANE@example.com"},
                     {"uidType": "Phone", "uid": "0470 00 00 00"}]}"#,
    )
    .expect("a record");
    let revision = update(
        &user,
        &record.body(),
        &mut IdBlock::for_existing_end_user(),
        now(),
    )
    .expect("valid");
    let after = &revision.user;
    assert_eq!(after.firstname.as_deref(), Some("Jane"));
    assert_eq!(after.company.as_deref(), Some("Old"), "null keeps");
    assert_eq!(
        after.uids.len(),
        2,
        "the held e-mail re-stated, the phone added"
    );
    assert_eq!(
        after.uids[1].uid, "+32470000000",
        "read in the CRM's country"
    );
    assert_eq!(
        changed_fields(&user, after),
        ["firstname", "lastname", "customerType", "country", "uids"]
    );
    assert!(changed_fields(&user, &user).is_empty());

    for bad in [&b"[1]"[..], b"{\"firstname\": 5}", b"not json"] {
        assert!(CrmRecord::parse(bad).is_err_and(|why| why.contains("not a record")));
    }
}
