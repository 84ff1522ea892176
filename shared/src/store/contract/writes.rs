//! The contract of single and transactional writes: conditions, failures, races.

use std::sync::Arc;

use super::super::item::number;
use super::super::{AttributeValue, Condition, Key, Table, Write, WriteError};
use super::{item, put, version};

pub(super) async fn puts_and_gets(table: &dyn Table) {
    let key = Key::new("T#1#EU#1", "PROFILE");
    assert_eq!(table.get(&key).await.expect("get"), None);
    let stored = item(
        "T#1#EU#1",
        "PROFILE",
        &[
            ("name", AttributeValue::S("Jane".into())),
            ("version", number(1)),
            ("flag", AttributeValue::Bool(true)),
            (
                "list",
                AttributeValue::L(vec![AttributeValue::M(
                    [("k".to_string(), AttributeValue::S("v".into()))].into(),
                )]),
            ),
        ],
    );
    table
        .write(vec![put(stored.clone(), Some(Condition::NotExists))])
        .await
        .expect("first put");
    assert_eq!(table.get(&key).await.expect("get"), Some(stored));
}

pub(super) async fn a_failed_condition_writes_nothing_and_shows_the_item(table: &dyn Table) {
    let held = item(
        "T#1#UID#a@example.com",
        "Email",
        &[("endUserID", number(7))],
    );
    table
        .write(vec![put(held.clone(), Some(Condition::NotExists))])
        .await
        .expect("seed");
    let result = table
        .write(vec![
            put(item("T#1#EU#8", "PROFILE", &[]), Some(Condition::NotExists)),
            put(
                item(
                    "T#1#UID#a@example.com",
                    "Email",
                    &[("endUserID", number(8))],
                ),
                Some(Condition::NotExists),
            ),
        ])
        .await;
    match result {
        Err(WriteError::ConditionFailed { failed }) => {
            assert_eq!(failed.len(), 1, "{failed:?}");
            assert_eq!(failed[0].index, 1);
            assert_eq!(failed[0].existing.as_ref(), Some(&held));
        }
        other => panic!("expected a failed condition, got {other:?}"),
    }
    let untouched = table
        .get(&Key::new("T#1#EU#8", "PROFILE"))
        .await
        .expect("get");
    assert_eq!(untouched, None, "a cancelled transaction wrote an item");
    let kept = table
        .get(&Key::new("T#1#UID#a@example.com", "Email"))
        .await
        .expect("get");
    assert_eq!(kept, Some(held));
}

pub(super) async fn every_failed_condition_is_reported(table: &dyn Table) {
    let first = item("T#1#REF#A", "REF", &[("endUserID", number(1))]);
    let second = item("T#1#REF#B", "REF", &[("endUserID", number(2))]);
    table
        .write(vec![
            put(first.clone(), Some(Condition::NotExists)),
            put(second.clone(), Some(Condition::NotExists)),
        ])
        .await
        .expect("seed");
    let result = table
        .write(vec![
            put(first.clone(), Some(Condition::NotExists)),
            put(item("T#1#REF#C", "REF", &[]), Some(Condition::NotExists)),
            put(second.clone(), Some(Condition::NotExists)),
        ])
        .await;
    match result {
        Err(WriteError::ConditionFailed { failed }) => {
            let indexes: Vec<usize> = failed.iter().map(|f| f.index).collect();
            assert_eq!(indexes, [0, 2]);
            assert_eq!(failed[0].existing.as_ref(), Some(&first));
            assert_eq!(failed[1].existing.as_ref(), Some(&second));
        }
        other => panic!("expected two failed conditions, got {other:?}"),
    }
}

pub(super) async fn equality_conditions_guard_updates_and_deletes(table: &dyn Table) {
    let v1 = item("T#1#EU#9", "PROFILE", &[("version", number(1))]);
    let v2 = item("T#1#EU#9", "PROFILE", &[("version", number(2))]);
    let key = Key::new("T#1#EU#9", "PROFILE");
    table.write(vec![put(v1, None)]).await.expect("seed");
    table
        .write(vec![put(v2.clone(), Some(version(1)))])
        .await
        .expect("update at the version read");
    let stale = table.write(vec![put(v2.clone(), Some(version(1)))]).await;
    assert!(
        matches!(stale, Err(WriteError::ConditionFailed { .. })),
        "a stale version applied: {stale:?}"
    );
    let stale_delete = table
        .write(vec![Write::Delete {
            key: key.clone(),
            condition: Some(version(1)),
        }])
        .await;
    assert!(matches!(
        stale_delete,
        Err(WriteError::ConditionFailed { .. })
    ));
    assert_eq!(table.get(&key).await.expect("get"), Some(v2));
    table
        .write(vec![Write::Delete {
            key: key.clone(),
            condition: Some(version(2)),
        }])
        .await
        .expect("delete at the current version");
    assert_eq!(table.get(&key).await.expect("get"), None);
    let missing = table
        .write(vec![Write::Delete {
            key: key.clone(),
            condition: Some(version(2)),
        }])
        .await;
    match missing {
        Err(WriteError::ConditionFailed { failed }) => assert_eq!(failed[0].existing, None),
        other => panic!("an equality held on a missing item: {other:?}"),
    }
    table
        .write(vec![Write::Delete {
            key,
            condition: None,
        }])
        .await
        .expect("an unconditional delete of nothing succeeds");
}

pub(super) async fn a_single_write_keeps_the_same_semantics(table: &dyn Table) {
    let held = item("T#2#REF#X", "REF", &[("endUserID", number(5))]);
    table
        .write(vec![put(held.clone(), Some(Condition::NotExists))])
        .await
        .expect("seed");
    match table
        .write(vec![put(held.clone(), Some(Condition::NotExists))])
        .await
    {
        Err(WriteError::ConditionFailed { failed }) => {
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].index, 0);
            assert_eq!(failed[0].existing.as_ref(), Some(&held));
        }
        other => panic!("expected a failed condition, got {other:?}"),
    }
}

pub(super) async fn concurrent_creates_of_one_key_have_one_winner<T: Table + 'static>(
    table: Arc<T>,
) {
    let attempts = (0..8u64).map(|n| {
        let table = Arc::clone(&table);
        tokio::spawn(async move {
            table
                .write(vec![
                    put(
                        item(&format!("T#7#EU#{n}"), "PROFILE", &[]),
                        Some(Condition::NotExists),
                    ),
                    put(
                        item("T#7#UID#shared", "Email", &[("endUserID", number(n))]),
                        Some(Condition::NotExists),
                    ),
                ])
                .await
        })
    });
    let mut winners = Vec::new();
    for (n, attempt) in attempts.enumerate() {
        match attempt.await.expect("task") {
            Ok(()) => winners.push(n as u64),
            Err(WriteError::ConditionFailed { .. }) | Err(WriteError::Contention) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let owner = table
        .get(&Key::new("T#7#UID#shared", "Email"))
        .await
        .expect("get");
    assert_eq!(
        owner.and_then(|i| i.get("endUserID").cloned()),
        Some(number(winners[0]))
    );
    for n in 0..8u64 {
        let profile = table
            .get(&Key::new(format!("T#7#EU#{n}"), "PROFILE"))
            .await
            .expect("get");
        assert_eq!(
            profile.is_some(),
            n == winners[0],
            "profile {n} half-written"
        );
    }
}

pub(super) async fn replace_and_remove_return_the_previous_item(table: &dyn Table) {
    let key = Key::new("T#1", "CHANNEL#0000000000000005");
    let first = item(&key.pk, &key.sk, &[("v", number(1))]);
    let second = item(&key.pk, &key.sk, &[("v", number(2))]);
    assert_eq!(table.replace(first.clone()).await.expect("create"), None);
    assert_eq!(
        table.replace(second.clone()).await.expect("replace"),
        Some(first)
    );
    assert_eq!(table.get(&key).await.expect("get"), Some(second.clone()));
    assert_eq!(table.remove(&key).await.expect("remove"), Some(second));
    assert_eq!(table.get(&key).await.expect("get"), None);
    assert_eq!(table.remove(&key).await.expect("remove again"), None);
}

/// A lease: taken when no item holds the key or the holder's has run out (`expiresAt` at most
/// now), refused while it runs; `Any` of nothing never holds.
pub(super) async fn either_condition_takes_a_missing_or_run_out_lease(table: &dyn Table) {
    let lease = |holder: u64, until: u64| {
        item(
            "T#1#LEASE#a",
            "LEASE",
            &[("holder", number(holder)), ("until", number(until))],
        )
    };
    let free_at = |now: u64| {
        Some(Condition::Any(vec![
            Condition::NotExists,
            Condition::AtMost {
                attribute: "until",
                value: number(now),
            },
        ]))
    };
    table
        .write(vec![put(lease(1, 100), free_at(50))])
        .await
        .expect("a missing lease is taken");
    let held = table.write(vec![put(lease(2, 160), free_at(60))]).await;
    match held {
        Err(WriteError::ConditionFailed { failed }) => {
            assert_eq!(failed[0].existing, Some(lease(1, 100)));
        }
        other => panic!("a running lease was taken: {other:?}"),
    }
    table
        .write(vec![put(lease(2, 200), free_at(100))])
        .await
        .expect("a lease that ran out is taken");
    let never = table
        .write(vec![put(lease(3, 300), Some(Condition::Any(Vec::new())))])
        .await;
    assert!(
        matches!(never, Err(WriteError::ConditionFailed { .. })),
        "an empty Any held: {never:?}"
    );
    let key = Key::new("T#1#LEASE#a", "LEASE");
    assert_eq!(table.get(&key).await.expect("get"), Some(lease(2, 200)));
}
