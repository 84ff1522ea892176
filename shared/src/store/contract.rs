//! The storage contract: one suite every adapter must pass, so the embedded table and DynamoDB
//! cannot drift apart. `make` gives a fresh, empty table for each case.

use std::future::Future;
use std::sync::Arc;

use super::end_user::BY_TENANT;
use super::item::number;
use super::{AttributeValue, Condition, Item, Key, PK, SK, Table, Write, WriteError};

fn item(pk: &str, sk: &str, attributes: &[(&str, AttributeValue)]) -> Item {
    let mut item = Item::default();
    item.insert(PK.into(), AttributeValue::S(pk.into()));
    item.insert(SK.into(), AttributeValue::S(sk.into()));
    for (name, value) in attributes {
        item.insert((*name).into(), value.clone());
    }
    item
}

fn put(item: Item, condition: Option<Condition>) -> Write {
    Write::Put { item, condition }
}

fn version(n: u64) -> Condition {
    Condition::Equals {
        attribute: "version",
        value: number(n),
    }
}

pub async fn run_all<T, F, Fut>(make: F)
where
    T: Table + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    puts_and_gets(&make().await).await;
    a_failed_condition_writes_nothing_and_shows_the_item(&make().await).await;
    every_failed_condition_is_reported(&make().await).await;
    equality_conditions_guard_updates_and_deletes(&make().await).await;
    a_single_write_keeps_the_same_semantics(&make().await).await;
    batch_get_returns_the_items_found(&make().await).await;
    index_queries_return_one_partition_projected_and_sorted(&make().await).await;
    concurrent_creates_of_one_key_have_one_winner(Arc::new(make().await)).await;
    prefix_queries_return_one_partition_in_sort_key_order(&make().await).await;
    replace_and_remove_return_the_previous_item(&make().await).await;
    updates_set_add_and_remove_under_their_condition(&make().await).await;
}

fn update(
    key: &Key,
    set: Vec<(&'static str, AttributeValue)>,
    add: Vec<(&'static str, i64)>,
    remove: Vec<&'static str>,
    condition: Option<Condition>,
) -> Write {
    Write::Update {
        key: key.clone(),
        set,
        add,
        remove,
        condition,
    }
}

async fn updates_set_add_and_remove_under_their_condition(table: &dyn Table) {
    let key = Key::new("T#1#TK#9", "TICKET");
    let open = || {
        Some(Condition::Equals {
            attribute: "isClosed",
            value: AttributeValue::Bool(false),
        })
    };
    // A conditional update of a missing item fails and creates nothing.
    let missing = table
        .write(vec![update(
            &key,
            vec![],
            vec![("messageCount", 1)],
            vec![],
            open(),
        )])
        .await;
    assert!(
        matches!(missing, Err(WriteError::ConditionFailed { .. })),
        "{missing:?}"
    );
    assert_eq!(table.get(&key).await.expect("get"), None);

    let seeded = item(
        &key.pk,
        &key.sk,
        &[
            ("isClosed", AttributeValue::Bool(false)),
            ("messageCount", number(2)),
            ("subject", AttributeValue::S("hello".into())),
            ("purgeAt", number(5)),
        ],
    );
    table.write(vec![put(seeded, None)]).await.expect("seed");
    let counted = vec![
        update(
            &key,
            vec![("subject", AttributeValue::S("re: hello".into()))],
            vec![("messageCount", 1), ("version", 1)],
            vec!["purgeAt"],
            open(),
        ),
        put(item("T#1#TK#9", "MSG#1", &[]), Some(Condition::NotExists)),
    ];
    table
        .write(counted)
        .await
        .expect("an update in a transaction");
    table
        .write(vec![update(
            &key,
            vec![],
            vec![("messageCount", 1)],
            vec![],
            open(),
        )])
        .await
        .expect("an update alone");
    let after = table.get(&key).await.expect("get").expect("the item");
    assert_eq!(after.get("messageCount"), Some(&number(4)));
    assert_eq!(
        after.get("version"),
        Some(&number(1)),
        "a missing number counts as 0"
    );
    assert_eq!(
        after.get("subject"),
        Some(&AttributeValue::S("re: hello".into()))
    );
    assert_eq!(after.get("purgeAt"), None);
    assert!(
        table
            .get(&Key::new("T#1#TK#9", "MSG#1"))
            .await
            .expect("get")
            .is_some()
    );

    let closed = vec![update(
        &key,
        vec![("isClosed", AttributeValue::Bool(true))],
        vec![],
        vec![],
        open(),
    )];
    table.write(closed).await.expect("close");
    let refused = table
        .write(vec![
            update(&key, vec![], vec![("messageCount", 1)], vec![], open()),
            put(item("T#1#TK#9", "MSG#2", &[]), Some(Condition::NotExists)),
        ])
        .await;
    match refused {
        Err(WriteError::ConditionFailed { failed }) => assert_eq!(failed[0].index, 0),
        other => panic!("expected the update's condition to fail, got {other:?}"),
    }
    assert!(
        table
            .get(&Key::new("T#1#TK#9", "MSG#2"))
            .await
            .expect("get")
            .is_none()
    );
    // An unconditional update creates its item.
    let fresh = Key::new("T#1#C", "COUNTER");
    table
        .write(vec![update(&fresh, vec![], vec![("n", 3)], vec![], None)])
        .await
        .expect("create by update");
    let created = table.get(&fresh).await.expect("get").expect("created");
    assert_eq!(
        (created.get("n"), Key::of(&created)),
        (Some(&number(3)), Some(fresh))
    );
}

async fn prefix_queries_return_one_partition_in_sort_key_order(table: &dyn Table) {
    let writes = [
        ("T#1", "CHANNEL#0000000000000002"),
        ("T#1", "SETTINGS"),
        ("T#1", "CHANNEL#0000000000000010"),
        ("T#1", "CHANNEL#0000000000000001"),
        ("T#10", "CHANNEL#0000000000000003"),
        ("T#1#EU#1", "CHANNEL#0000000000000004"),
    ]
    .map(|(pk, sk)| put(item(pk, sk, &[("n", number(1))]), None));
    table.write(writes.to_vec()).await.expect("seed");
    let found = table.query("T#1", "CHANNEL#", None).await.expect("query");
    let keys: Vec<String> = found
        .iter()
        .filter_map(Key::of)
        .map(|k| format!("{}/{}", k.pk, k.sk))
        .collect();
    assert_eq!(
        keys,
        [
            "T#1/CHANNEL#0000000000000001",
            "T#1/CHANNEL#0000000000000002",
            "T#1/CHANNEL#0000000000000010"
        ]
    );
    assert_eq!(found[0].get("n"), Some(&number(1)), "whole items");
    assert!(
        table
            .query("T#2", "CHANNEL#", None)
            .await
            .expect("query")
            .is_empty()
    );
    let first_two = table
        .query("T#1", "CHANNEL#", Some(2))
        .await
        .expect("query");
    assert_eq!(first_two, found[..2].to_vec());
}

async fn replace_and_remove_return_the_previous_item(table: &dyn Table) {
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

async fn puts_and_gets(table: &dyn Table) {
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

async fn a_failed_condition_writes_nothing_and_shows_the_item(table: &dyn Table) {
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

async fn every_failed_condition_is_reported(table: &dyn Table) {
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

async fn equality_conditions_guard_updates_and_deletes(table: &dyn Table) {
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

async fn a_single_write_keeps_the_same_semantics(table: &dyn Table) {
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

async fn batch_get_returns_the_items_found(table: &dyn Table) {
    let a = item("T#3#UID#x", "Email", &[("endUserID", number(1))]);
    let b = item("T#3#UID#x", "External", &[("endUserID", number(2))]);
    table
        .write(vec![put(a.clone(), None), put(b.clone(), None)])
        .await
        .expect("seed");
    let mut found = table
        .batch_get(&[
            Key::new("T#3#UID#x", "Email"),
            Key::new("T#3#UID#x", "Phone"),
            Key::new("T#3#UID#x", "External"),
        ])
        .await
        .expect("batch get");
    found.sort_by_key(Key::of);
    assert_eq!(found, [a, b]);
    assert_eq!(
        table.batch_get(&[]).await.expect("empty batch"),
        Vec::<Item>::new()
    );
}

async fn index_queries_return_one_partition_projected_and_sorted(table: &dyn Table) {
    let index = &BY_TENANT;
    let member = |pk: &str, partition: &str, id: u64| {
        item(
            pk,
            "PROFILE",
            &[
                (index.partition_key, AttributeValue::S(partition.into())),
                (index.sort_key, number(id)),
                ("endUserID", number(id)),
                ("name", AttributeValue::S(format!("user {id}"))),
                ("aiDocumentation", AttributeValue::S("not projected".into())),
            ],
        )
    };
    table
        .write(vec![
            put(member("T#4#EU#300", "T#4#EU", 300), None),
            put(member("T#4#EU#20", "T#4#EU", 20), None),
            put(member("T#5#EU#1", "T#5#EU", 1), None),
            put(item("T#4#EU#20", "OTHER", &[]), None),
        ])
        .await
        .expect("seed");
    let found = table
        .query_index(index, "T#4#EU", None)
        .await
        .expect("query");
    let ids: Vec<_> = found.iter().map(|i| i.get("endUserID").cloned()).collect();
    assert_eq!(
        ids,
        [Some(number(20)), Some(number(300))],
        "numeric order, one partition"
    );
    assert!(
        found.iter().all(|i| !i.contains_key("aiDocumentation")),
        "unprojected attribute"
    );
    assert!(
        found
            .iter()
            .all(|i| i.contains_key("name") && i.contains_key(PK))
    );
    let up_to_100 = table
        .query_index(index, "T#4#EU", Some(100))
        .await
        .expect("query");
    assert_eq!(up_to_100, found[..1].to_vec(), "a sort key bound");
    assert!(
        table
            .query_index(index, "T#6#EU", None)
            .await
            .expect("query")
            .is_empty()
    );
}

async fn concurrent_creates_of_one_key_have_one_winner<T: Table + 'static>(table: Arc<T>) {
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
