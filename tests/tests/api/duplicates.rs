//! Duplicate candidates (SPEC 9): each reason found by its match keys and its near miss not,
//! scores and order, who is never a candidate, dismissal both ways, keys that follow name
//! changes and merges, and the races of both (`duplicate_events.rs`: the event).

use answerpal::store::{AttributeValue, Item, Kind};
use answerpal_testkit::{TestApi, TestResponse};
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    each_reason_finds_its_pair_and_not_its_near_miss,
    candidates_are_ordered_by_score_and_strong_reasons_score_high,
    merged_anonymized_and_deleted_end_users_are_never_candidates,
    a_dismissed_pair_is_listed_neither_way,
    unknown_and_merged_end_users_answer_404_and_410,
    match_keys_follow_name_changes_and_removed_uids,
    a_merge_hands_the_match_keys_to_its_target,
    a_rename_racing_an_e_mail_assign_leaves_keys_of_the_final_name,
    a_dismissal_racing_a_merge_applies_only_to_live_end_users,
);

/// `(endUserID, score, reasons)` of each candidate of `id`, in the answer's order.
pub async fn candidates(api: &TestApi, tenant: u64, id: u64) -> Vec<(u64, f64, Vec<String>)> {
    let found = api
        .get(&format!("/api/EndUsers/{id}/duplicates"), tenant)
        .await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    let items = found.body["items"].as_array().cloned().expect("items");
    items
        .iter()
        .map(|c| {
            let reasons = c["reasons"].as_array().expect("reasons").iter();
            let reasons = reasons.map(|r| r.as_str().expect("a reason").to_owned());
            (
                c["endUserID"].as_u64().expect("an ID"),
                c["score"].as_f64().expect("a score"),
                reasons.collect(),
            )
        })
        .collect()
}

/// The candidates' IDs and reasons, without scores.
async fn reasons(api: &TestApi, tenant: u64, id: u64) -> Vec<(u64, Vec<String>)> {
    let found = candidates(api, tenant, id).await;
    found.into_iter().map(|(id, _, r)| (id, r)).collect()
}

pub fn named(name: &str) -> EndUserBody {
    end_user().with("name", name)
}

pub async fn dismiss(api: &TestApi, id: u64, other: u64) -> TestResponse {
    let path = format!("/api/EndUsers/{id}/duplicates/{other}/dismiss");
    api.post(&path, 1, json!({})).await
}

async fn each_reason_finds_its_pair_and_not_its_near_miss(api: TestApi) {
    let cases: [(&str, Value, Value, Value); 6] = [
        (
            "samePhoneNumber",
            end_user().uid("Phone", "+32 470 12 34 56").json(),
            end_user().uid("WhatsApp", "whatsapp:+32470123456").json(),
            end_user().uid("WhatsApp", "+32470123457").json(),
        ),
        (
            "sameEmailIgnoringTags",
            end_user().uid("Email", "Jane+News@Acme.example").json(),
            end_user().uid("Email", "jane@acme.example").json(),
            end_user().uid("Email", "jane.x@acme.example").json(),
        ),
        (
            "sameEmailIgnoringTags",
            end_user().uid("Email", "j.a.ne+x@googlemail.com").json(),
            end_user().uid("Email", "jane@gmail.com").json(),
            end_user().uid("Email", "jane@gmail.org").json(),
        ),
        (
            "sameExternalIgnoringCase",
            end_user().uid("External", " CRM-42 ").json(),
            end_user().with("customerRef", "crm-42").json(),
            end_user().uid("External", "CRM-042").json(),
        ),
        (
            "sameNameAndCompany",
            named("José  Núñez").with("company", "ACME Café").json(),
            named("jose nunez").with("company", "acme cafe").json(),
            named("José Núñez").with("company", "Acme Corp").json(),
        ),
        (
            "sameNameAndEmailDomain",
            named("Jane Doe").uid("Email", "jane@acme.example").json(),
            named("JANE DOE").uid("Email", "j.doe@acme.example").json(),
            named("Jane Doe").uid("Email", "jane@gmail.com").json(),
        ),
    ];
    for (n, (reason, base, pair, near)) in cases.into_iter().enumerate() {
        // A tenant per case: no case sees another's end users.
        let tenant = 10 + n as u64;
        let base = id_of(&api.create(tenant, base).await);
        let pair = id_of(&api.create(tenant, pair).await);
        let near = id_of(&api.create(tenant, near).await);
        let found = candidates(&api, tenant, base).await;
        assert_eq!(found.len(), 1, "{reason}: {found:?}");
        let (id, score, reasons) = &found[0];
        assert_eq!(
            (*id, reasons.as_slice()),
            (pair, [reason.to_owned()].as_slice())
        );
        assert!(*score > 0.0 && *score <= 1.0, "{reason}: {score}");
        assert_eq!(reasons_of(&api, tenant, pair).await, [base], "{reason}");
        assert!(candidates(&api, tenant, near).await.is_empty(), "{reason}");
    }
}

pub async fn reasons_of(api: &TestApi, tenant: u64, id: u64) -> Vec<u64> {
    let found = candidates(api, tenant, id).await;
    found.into_iter().map(|(id, _, _)| id).collect()
}

async fn candidates_are_ordered_by_score_and_strong_reasons_score_high(api: TestApi) {
    let base = named("Ann Lee")
        .with("company", "Acme")
        .uid("Phone", "+32470200001")
        .uid("Email", "ann@acme.example");
    let base = id_of(&api.create(1, base.json()).await);
    let by_name = named("ann lee").with("company", "ACME").json();
    let by_name = id_of(&api.create(1, by_name).await);
    let by_phone = end_user().uid("WhatsApp", "+32470200001").json();
    let by_phone = id_of(&api.create(1, by_phone).await);
    let by_all = named("Ann Lee")
        .with("company", "acme")
        .uid("Email", "ann+desk@acme.example");
    let by_all = id_of(&api.create(1, by_all.json()).await);

    let found = candidates(&api, 1, base).await;
    let order: Vec<u64> = found.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(order, [by_all, by_phone, by_name], "{found:?}");
    let (_, phone_score, _) = &found[1];
    let (_, name_score, _) = &found[2];
    assert!(*phone_score >= 0.8 && *name_score <= 0.5, "{found:?}");
    assert_eq!(
        found[0].2,
        [
            "sameEmailIgnoringTags",
            "sameNameAndEmailDomain",
            "sameNameAndCompany"
        ],
        "strongest first"
    );
    assert!(found[0].1 > *phone_score && found[0].1 <= 1.0);
}

async fn merged_anonymized_and_deleted_end_users_are_never_candidates(api: TestApi) {
    let phone = |n: &str| end_user().uid("Phone", n).with("company", "Acme");
    let base = id_of(&api.create(1, phone("+32470300001").json()).await);
    let twin = |n: &str| named("Bo Berg").with("company", "Acme").uid("WhatsApp", n);
    let merged = id_of(&api.create(1, twin("+32470300001").json()).await);
    let target = id_of(&api.create(1, named("Other").json()).await);
    let anonymized = id_of(
        &api.create(1, named("Bo Berg").with("company", "acme").json())
            .await,
    );
    let deleted = id_of(
        &api.create(1, named("BO BERG").with("company", "Acme").json())
            .await,
    );
    assert_eq!(
        reasons_of(&api, 1, merged).await,
        [base, anonymized, deleted]
    );

    let merge = api
        .post(
            &format!("/api/EndUsers/{target}/merge"),
            1,
            json!({"sourceEndUserID": merged}),
        )
        .await;
    assert_eq!(merge.status, 200, "{:?}", merge.body);
    let erase = api
        .post(
            &format!("/api/EndUsers/{anonymized}/anonymize"),
            1,
            json!({}),
        )
        .await;
    assert_eq!(erase.status, 200, "{:?}", erase.body);
    let gone = api.delete(&format!("/api/EndUsers/{deleted}"), 1).await;
    assert_eq!(gone.status, 204);

    // The merge's target holds the number now; the others are gone.
    assert_eq!(
        reasons(&api, 1, base).await,
        [(target, vec!["samePhoneNumber".to_owned()])]
    );
    let probe = named("Bo Berg").with("company", "Acme").json();
    let probe = id_of(&api.create(1, probe).await);
    assert!(candidates(&api, 1, probe).await.is_empty());
    assert!(candidates(&api, 1, anonymized).await.is_empty());
}

async fn a_dismissed_pair_is_listed_neither_way(api: TestApi) {
    let a = id_of(
        &api.create(1, end_user().uid("Phone", "+32470400001").json())
            .await,
    );
    let b = id_of(
        &api.create(1, end_user().uid("WhatsApp", "+32470400001").json())
            .await,
    );
    let c = id_of(
        &api.create(1, end_user().uid("WhatsApp", "+32470400002").json())
            .await,
    );
    let d = id_of(
        &api.create(1, end_user().uid("Phone", "+32470400002").json())
            .await,
    );
    assert_eq!(reasons_of(&api, 1, a).await, [b]);

    let dismissed = dismiss(&api, b, a).await;
    assert_eq!(dismissed.status, 204, "{:?}", dismissed.body);
    assert!(candidates(&api, 1, a).await.is_empty());
    assert!(candidates(&api, 1, b).await.is_empty());
    assert_eq!(dismiss(&api, a, b).await.status, 204, "dismissing again");
    assert_eq!(reasons_of(&api, 1, c).await, [d], "other pairs stay");

    let own = dismiss(&api, c, c).await;
    assert_field_error(&own, "otherID");
    assert_problem(&dismiss(&api, c, 999_999).await, 404);
    assert_problem(&dismiss(&api, 999_999, c).await, 404);
    let bad = dismiss(&api, c, 0).await;
    assert_field_error(&bad, "otherID");
    let other_tenant = api
        .post(
            &format!("/api/EndUsers/{c}/duplicates/{d}/dismiss"),
            2,
            json!({}),
        )
        .await;
    assert_problem(&other_tenant, 404);
}

async fn unknown_and_merged_end_users_answer_404_and_410(api: TestApi) {
    let unknown = api.get("/api/EndUsers/999999/duplicates", 1).await;
    assert_problem(&unknown, 404);
    let target = id_of(&api.create(1, named("T").json()).await);
    let source = id_of(&api.create(1, named("S").json()).await);
    let other = id_of(&api.create(1, named("O").json()).await);
    let path = format!("/api/EndUsers/{target}/merge");
    let merged = api.post(&path, 1, json!({"sourceEndUserID": source})).await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    let gone = api
        .get(&format!("/api/EndUsers/{source}/duplicates"), 1)
        .await;
    assert_problem(&gone, 410);
    assert_eq!(gone.body["mergedInto"], target);
    assert_problem(&dismiss(&api, other, source).await, 410);
    let foreign = api
        .get(&format!("/api/EndUsers/{target}/duplicates"), 2)
        .await;
    assert_problem(&foreign, 404);
}

async fn match_keys_follow_name_changes_and_removed_uids(api: TestApi) {
    let base = named("Kim Vos").uid("Email", "kim@vos.example").json();
    let base = id_of(&api.create(1, base).await);
    let other = named("Kim Vos").uid("Email", "kv@vos.example").json();
    let other = id_of(&api.create(1, other).await);
    assert_eq!(reasons_of(&api, 1, base).await, [other]);

    // A new name files the e-mail's name and domain key under it.
    let path = format!("/api/EndUsers/{base}");
    let renamed = api.put(&path, 1, json!({"name": "Kim de Vos"})).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert!(candidates(&api, 1, base).await.is_empty());
    let namesake = named("kim DE vos").uid("Email", "k@vos.example").json();
    let namesake = id_of(&api.create(1, namesake).await);
    assert_eq!(reasons_of(&api, 1, base).await, [namesake]);

    // A UID removed takes its keys along.
    let uid_id = renamed.body["uids"][0]["endUserUIDID"].clone();
    let removed = json!({"uids": [{"endUserUIDID": uid_id, "markAsDeleted": true}]});
    assert_eq!(api.put(&path, 1, removed).await.status, 200);
    assert!(candidates(&api, 1, namesake).await.is_empty());
}

async fn a_merge_hands_the_match_keys_to_its_target(api: TestApi) {
    let target = id_of(&api.create(1, named("Lou").json()).await);
    let source = end_user().uid("Email", "lou@shop.example").json();
    let source = id_of(&api.create(1, source).await);
    let watcher = end_user().uid("Email", "lou+x@shop.example").json();
    let watcher = id_of(&api.create(1, watcher).await);
    let path = format!("/api/EndUsers/{target}/merge");
    let merged = api.post(&path, 1, json!({"sourceEndUserID": source})).await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(
        reasons(&api, 1, watcher).await,
        [(target, vec!["sameEmailIgnoringTags".to_owned()])]
    );
    // The moved address is filed under the target's name too.
    let namesake = named("lou").uid("Email", "l@shop.example").json();
    let namesake = id_of(&api.create(1, namesake).await);
    assert_eq!(reasons_of(&api, 1, namesake).await, [target]);
    let undo = format!(
        "/api/EndUsers/{target}/merges/{}/undo",
        merged.body["mergeID"]
    );
    assert_eq!(api.post(&undo, 1, json!({})).await.status, 200);
    assert_eq!(reasons_of(&api, 1, watcher).await, [source]);
    assert!(candidates(&api, 1, namesake).await.is_empty());
}

async fn a_rename_racing_an_e_mail_assign_leaves_keys_of_the_final_name(api: TestApi) {
    for round in 0..4 {
        let tenant = 30 + round;
        let user = named("Old Name").json();
        let id = id_of(&api.create(tenant, user).await);
        let path = format!("/api/EndUsers/{id}");
        let rename = api.put(&path, tenant, json!({"name": "New Name"}));
        let mail = format!("r{round}@race.example");
        let assign = json!({"uid": mail, "uidType": "Email", "endUserID": id});
        let link = api.post("/api/EndUserUIDs/assign", tenant, assign);
        let (renamed, linked) = tokio::join!(rename, link);
        assert_eq!(renamed.status, 200, "{:?}", renamed.body);
        assert_eq!(linked.status, 201, "{:?}", linked.body);

        let probe = |name: &str| named(name).uid("Email", "probe@race.example").json();
        let new = id_of(&api.create(tenant, probe("new name")).await);
        assert_eq!(reasons_of(&api, tenant, new).await, [id], "round {round}");
        let old = api.create(
            tenant,
            named("old name").uid("Email", "p2@race.example").json(),
        );
        let old = id_of(&old.await);
        // Nothing is left under the old name.
        assert!(
            candidates(&api, tenant, old).await.is_empty(),
            "round {round}"
        );
    }
}

async fn a_dismissal_racing_a_merge_applies_only_to_live_end_users(api: TestApi) {
    for round in 0..4 {
        let tenant = 40 + round;
        let phone = format!("+3247070000{round}");
        let a = id_of(
            &api.create(tenant, end_user().uid("Phone", &phone).json())
                .await,
        );
        let b = id_of(
            &api.create(tenant, end_user().uid("WhatsApp", &phone).json())
                .await,
        );
        let c = id_of(&api.create(tenant, named("C").json()).await);
        let path = format!("/api/EndUsers/{a}/duplicates/{b}/dismiss");
        let dismissal = api.post(&path, tenant, json!({}));
        let merge_path = format!("/api/EndUsers/{c}/merge");
        let merge = api.post(&merge_path, tenant, json!({"sourceEndUserID": b}));
        let (dismissed, merged) = tokio::join!(dismissal, merge);
        assert_eq!(merged.status, 200, "{:?}", merged.body);
        match dismissed.status {
            // Before the merge: b was live when the pair was dismissed.
            204 => {}
            // After it: b is a tombstone, and nothing was recorded.
            410 => assert_eq!(dismissals(&api, tenant).await, 0, "round {round}"),
            other => panic!("round {round}: {other} {:?}", dismissed.body),
        }
        // Either way, a shares the number with the merge's target now, which it never dismissed.
        assert_eq!(reasons_of(&api, tenant, a).await, [c], "round {round}");
    }
}

/// The dismissal items of `tenant`.
async fn dismissals(api: &TestApi, tenant: u64) -> usize {
    let prefix = format!("T#{tenant}#");
    let items = api.raw_items().await;
    let of_tenant = |item: &&Item| matches!(item.get("PK"), Some(AttributeValue::S(pk)) if pk.starts_with(&prefix));
    items
        .iter()
        .filter(|item| Kind::of(item) == Some(Kind::Dismissal))
        .filter(of_tenant)
        .count()
}
