//! Racing writers never break uniqueness.

use answerpal_testkit::TestApi;
use serde_json::json;

use crate::support::*;

on_both_stores!(
    concurrent_assigns_have_one_winner,
    concurrent_creates_of_one_uid_have_one_winner,
);

/// Awaits racing requests: exactly one got 201, every other a 409. Returns the winner's index.
async fn the_one_winner(
    tasks: Vec<tokio::task::JoinHandle<answerpal_testkit::TestResponse>>,
) -> usize {
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
                    end_user()
                        .with("firstname", format!("racer {n}"))
                        .uid("Email", "race@example.com")
                        .uid("External", &format!("own-{n}"))
                        .json(),
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
