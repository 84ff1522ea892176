//! Merges and undos racing each other and the desk (SPEC 7): every UID stays held by exactly
//! one end user that lists it, whatever wins.

use std::sync::Arc;

use answerpal_testkit::{TestApi, TestResponse, puts_tombstone};
use serde_json::{Value, json};

use crate::support::*;

on_both_stores!(
    concurrent_merges_of_one_source_have_one_winner,
    a_source_changed_meanwhile_moves_as_it_is_now,
    concurrent_merges_and_undos_keep_every_uid_held_once,
);

/// End users each with two e-mails, `{name}-{n}@example.com`.
async fn people(api: &TestApi, names: &[&str]) -> (Vec<u64>, Vec<String>) {
    let mut ids = Vec::new();
    let mut values = Vec::new();
    for name in names {
        let emails: Vec<String> = (0..2).map(|n| format!("{name}-{n}@example.com")).collect();
        let uids: Vec<Value> = emails
            .iter()
            .map(|e| json!({"uidType": "Email", "uid": e}))
            .collect();
        ids.push(id_of(
            &api.create(1, json!({"firstname": name, "uids": uids}))
                .await,
        ));
        values.extend(emails);
    }
    (ids, values)
}

/// Every value resolves to one live end user that lists it, and no live end user lists a value
/// twice or one another lists.
async fn assert_every_uid_held_once(api: &TestApi, values: &[String]) {
    let list = api.get("/api/EndUsers?pageSize=100", 1).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let mut listed: Vec<(String, u64)> = Vec::new();
    for user in list.body["items"].as_array().expect("items") {
        for (_, uid, _) in uid_values(user) {
            listed.push((uid, id_of(user)));
        }
    }
    for value in values {
        let holders: Vec<u64> = listed
            .iter()
            .filter(|(v, _)| v == value)
            .map(|h| h.1)
            .collect();
        assert_eq!(holders.len(), 1, "{value} listed by {holders:?}");
        let found = api
            .get(&format!("/api/EndUsers/byUid?uid={value}"), 1)
            .await;
        assert_eq!(found.status, 200, "{value}: {:?}", found.body);
        assert_eq!(id_of(&found.body), holders[0], "{value}");
    }
    assert_eq!(listed.len(), values.len(), "{listed:?}");
}

fn merge_of(api: &Arc<TestApi>, target: u64, source: u64) -> tokio::task::JoinHandle<TestResponse> {
    let api = Arc::clone(api);
    tokio::spawn(async move {
        let path = format!("/api/EndUsers/{target}/merge");
        api.post(&path, 1, json!({"sourceEndUserID": source})).await
    })
}

async fn concurrent_merges_of_one_source_have_one_winner(api: TestApi) {
    let api = Arc::new(api);
    let (ids, values) = people(&api, &["s", "t1", "t2", "t3"]).await;
    let tasks: Vec<_> = ids[1..]
        .iter()
        .map(|t| merge_of(&api, *t, ids[0]))
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 409, 410].contains(s)),
        "{statuses:?}"
    );
    assert_every_uid_held_once(&api, &values).await;
}

async fn a_source_changed_meanwhile_moves_as_it_is_now(api: TestApi) {
    let (table, api) = api.interleaved();
    let (ids, mut values) = people(&api, &["src", "dst"]).await;
    let racer = Arc::clone(&api);
    let source = ids[0];
    table.race_when(
        puts_tombstone,
        Box::new(move || {
            Box::pin(async move {
                let added = racer
                    .put(
                        &format!("/api/EndUsers/{source}"),
                        1,
                        json!({"uids": [{"uidType": "Email", "uid": "late@example.com"}]}),
                    )
                    .await;
                assert_eq!(added.status, 200, "{:?}", added.body);
            })
        }),
    );
    let merged = merge_of(&api, ids[1], source).await.expect("task");
    assert!(table.has_run());
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(
        uid_values(&merged.body).len(),
        5,
        "the UID added meanwhile moved too"
    );
    values.push("late@example.com".into());
    assert_every_uid_held_once(&api, &values).await;
}

async fn concurrent_merges_and_undos_keep_every_uid_held_once(api: TestApi) {
    let api = Arc::new(api);
    let (ids, values) = people(&api, &["a", "b", "c", "d"]).await;
    let pairs = [(0, 1), (2, 1), (3, 1), (2, 3), (3, 2), (0, 2)];
    let tasks: Vec<_> = pairs
        .iter()
        .map(|(t, s)| merge_of(&api, ids[*t], ids[*s]))
        .collect();
    let mut undos = Vec::new();
    for task in tasks {
        let response = task.await.expect("task");
        assert!(
            [200, 409, 410].contains(&response.status),
            "{:?}",
            response.body
        );
        if response.status == 200 {
            undos.push((id_of(&response.body), response.body["mergeID"].clone()));
        }
    }
    assert!(!undos.is_empty());
    assert_every_uid_held_once(&api, &values).await;

    // Undo every merge while merging again: each either applies whole or not at all.
    let mut tasks: Vec<_> = undos
        .iter()
        .map(|(target, merge_id)| {
            let api = Arc::clone(&api);
            let path = format!("/api/EndUsers/{target}/merges/{merge_id}/undo");
            tokio::spawn(async move { api.post(&path, 1, json!({})).await })
        })
        .collect();
    tasks.push(merge_of(&api, ids[1], ids[3]));
    tasks.push(merge_of(&api, ids[3], ids[0]));
    for task in tasks {
        let response = task.await.expect("task");
        assert!(
            [200, 409, 410].contains(&response.status),
            "{:?}",
            response.body
        );
    }
    assert_every_uid_held_once(&api, &values).await;
}
