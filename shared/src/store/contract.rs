//! The storage contract: one suite every adapter must pass, so the embedded table and DynamoDB
//! cannot drift apart. `make` gives a fresh, empty table for each case.

use std::future::Future;
use std::sync::Arc;

use super::end_user::BY_TENANT;
use super::item::number;
use super::{
    AttributeValue, Condition, Item, Key, PK, PageStart, Query, SK, StoreError, Table, Write,
    WriteError, every_item, first_items,
};

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
    checks_and_compound_conditions_guard_a_transaction(&make().await).await;
    a_transaction_whose_last_write_fails_applies_nothing(&make().await).await;
    table_queries_page_both_ways(&make().await).await;
    index_queries_page_both_ways(&make().await).await;
}

async fn checks_and_compound_conditions_guard_a_transaction(table: &dyn Table) {
    let guard = Key::new("T#1#EU#5", "OPEN#2");
    let ticket = Key::new("T#1#TK#9", "TICKET");
    let at = |text: &str| AttributeValue::S(text.into());
    table
        .write(vec![
            put(item(&guard.pk, &guard.sk, &[("ticketID", number(9))]), None),
            put(
                item(
                    &ticket.pk,
                    &ticket.sk,
                    &[
                        ("isClosed", AttributeValue::Bool(false)),
                        ("lastMessageAt", at("2026-11-22T10:15:30Z")),
                    ],
                ),
                None,
            ),
        ])
        .await
        .expect("seed");
    let guard_names = |id: u64| Write::Check {
        key: guard.clone(),
        condition: Condition::Equals {
            attribute: "ticketID",
            value: number(id),
        },
    };
    let count_if_newer = |time: &str| Write::Update {
        key: ticket.clone(),
        set: vec![("lastMessageAt", at(time))],
        add: vec![("messageCount", 1)],
        remove: vec![],
        condition: Some(Condition::All(vec![
            Condition::Equals {
                attribute: "isClosed",
                value: AttributeValue::Bool(false),
            },
            Condition::AtMost {
                attribute: "lastMessageAt",
                value: at(time),
            },
        ])),
    };
    // A check that fails cancels the transaction and shows the item it met, unchanged.
    match table
        .write(vec![count_if_newer("2026-11-22T11:00:00Z"), guard_names(8)])
        .await
    {
        Err(WriteError::ConditionFailed { failed }) => {
            assert_eq!(failed.len(), 1, "{failed:?}");
            assert_eq!(failed[0].index, 1);
            let met = failed[0].existing.as_ref().expect("the guard");
            assert_eq!(met.get("ticketID"), Some(&number(9)));
        }
        other => panic!("expected the check to fail, got {other:?}"),
    }
    let before = table.get(&ticket).await.expect("get").expect("ticket");
    assert_eq!(before.get("messageCount"), None);
    // An older time fails the compound condition; a newer one passes it with the check.
    let older = table
        .write(vec![count_if_newer("2026-11-22T09:00:00Z"), guard_names(9)])
        .await;
    assert!(
        matches!(&older, Err(WriteError::ConditionFailed { failed }) if failed[0].index == 0),
        "{older:?}"
    );
    table
        .write(vec![count_if_newer("2026-11-22T11:00:00Z"), guard_names(9)])
        .await
        .expect("a newer message with the guard holding");
    let after = table.get(&ticket).await.expect("get").expect("ticket");
    assert_eq!(after.get("messageCount"), Some(&number(1)));
    assert_eq!(
        after.get("lastMessageAt"),
        Some(&at("2026-11-22T11:00:00Z"))
    );
    assert_eq!(
        table.get(&guard).await.expect("get").map(|g| g.len()),
        Some(3),
        "a check changes nothing"
    );
    // A check alone, and Exists on a missing item.
    table
        .write(vec![Write::Check {
            key: guard.clone(),
            condition: Condition::Exists,
        }])
        .await
        .expect("a check alone");
    let missing = table
        .write(vec![Write::Check {
            key: Key::new("T#1#EU#6", "OPEN#2"),
            condition: Condition::Exists,
        }])
        .await;
    match missing {
        Err(WriteError::ConditionFailed { failed }) => {
            assert_eq!((failed[0].index, &failed[0].existing), (0, &None))
        }
        other => panic!("Exists held on a missing item: {other:?}"),
    }
    // Numbers compare by value, not as text.
    let counter = Key::new("T#1#C", "N");
    table
        .write(vec![put(
            item(&counter.pk, &counter.sk, &[("n", number(9))]),
            None,
        )])
        .await
        .expect("seed");
    let at_most = |n: u64| Write::Check {
        key: counter.clone(),
        condition: Condition::AtMost {
            attribute: "n",
            value: number(n),
        },
    };
    table.write(vec![at_most(10)]).await.expect("9 <= 10");
    assert!(table.write(vec![at_most(8)]).await.is_err(), "9 <= 8");
}

async fn a_transaction_whose_last_write_fails_applies_nothing(table: &dyn Table) {
    let text = Key::new("T#1#TK#3", "TICKET");
    table
        .write(vec![put(
            item(
                &text.pk,
                &text.sk,
                &[("subject", AttributeValue::S("hi".into()))],
            ),
            None,
        )])
        .await
        .expect("seed");
    let first = Key::new("T#1#TK#3", "MSG#1");
    // Adding to a string attribute is refused by the store itself, after the conditions held.
    let result = table
        .write(vec![
            put(item(&first.pk, &first.sk, &[]), Some(Condition::NotExists)),
            Write::Update {
                key: text.clone(),
                set: vec![],
                add: vec![("subject", 1)],
                remove: vec![],
                condition: None,
            },
        ])
        .await;
    assert!(
        matches!(result, Err(WriteError::Store(StoreError::Internal(_)))),
        "a refused write is a defect to report, not an outage: {result:?}"
    );
    assert_eq!(table.get(&first).await.expect("get"), None, "half applied");
}

/// The keys of a page's items, `pk/sk`.
fn keys_of(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(Key::of)
        .map(|k| format!("{}/{}", k.pk, k.sk))
        .collect()
}

async fn table_queries_page_both_ways(table: &dyn Table) {
    let writes: Vec<Write> = (1..=5)
        .map(|n| put(item("T#1#TK#1", &format!("MSG#{n:04}"), &[]), None))
        .chain([
            put(item("T#1#TK#1", "TICKET", &[]), None),
            put(item("T#1#TK#2", "MSG#0001", &[]), None),
        ])
        .collect();
    table.write(writes).await.expect("seed");
    let query = Query::table("T#1#TK#1", "MSG#");
    let first = table.query_page(&query, None, 2).await.expect("page 1");
    assert_eq!(
        keys_of(&first.items),
        ["T#1#TK#1/MSG#0001", "T#1#TK#1/MSG#0002"]
    );
    let next = first.next.expect("more follow");
    let second = table
        .query_page(&query, Some(&next), 2)
        .await
        .expect("page 2");
    assert_eq!(
        keys_of(&second.items),
        ["T#1#TK#1/MSG#0003", "T#1#TK#1/MSG#0004"]
    );
    let third = table
        .query_page(&query, second.next.as_ref(), 2)
        .await
        .expect("page 3");
    assert_eq!(keys_of(&third.items), ["T#1#TK#1/MSG#0005"]);
    assert_eq!(third.next, None, "nothing follows the last page");
    let exact = table.query_page(&query, None, 5).await.expect("all");
    assert_eq!(
        (exact.items.len(), exact.next),
        (5, None),
        "a page that ends the query"
    );

    let newest = table
        .query_page(&query.descending(), None, 2)
        .await
        .expect("descending");
    assert_eq!(
        keys_of(&newest.items),
        ["T#1#TK#1/MSG#0005", "T#1#TK#1/MSG#0004"]
    );
    let older = table
        .query_page(&query.descending(), newest.next.as_ref(), 10)
        .await
        .expect("descending page 2");
    assert_eq!(
        keys_of(&older.items),
        [
            "T#1#TK#1/MSG#0003",
            "T#1#TK#1/MSG#0002",
            "T#1#TK#1/MSG#0001"
        ]
    );
    // A start from another partition reads nothing of this one's neighbours.
    let foreign = PageStart(item("T#1#TK#2", "MSG#0001", &[]));
    let elsewhere = table.query_page(&query, Some(&foreign), 10).await;
    assert!(
        elsewhere
            .as_ref()
            .map_or(true, |page| page.items.is_empty()),
        "{elsewhere:?}"
    );
}

async fn index_queries_page_both_ways(table: &dyn Table) {
    let index = &BY_TENANT;
    let member = |id: u64, partition: &str| {
        put(
            item(
                &format!("T#8#EU#{id}"),
                "PROFILE",
                &[
                    (index.partition_key, AttributeValue::S(partition.into())),
                    (index.sort_key, number(id)),
                    ("endUserID", number(id)),
                ],
            ),
            None,
        )
    };
    let writes = [30, 4, 200, 17, 1000]
        .into_iter()
        .map(|id| member(id, "T#8#EU"))
        .chain([member(5, "T#9#EU")])
        .collect();
    table.write(writes).await.expect("seed");
    let ids = |items: &[Item]| -> Vec<AttributeValue> {
        items
            .iter()
            .filter_map(|i| i.get("endUserID").cloned())
            .collect()
    };
    let query = Query::index(index, "T#8#EU");
    let first = table.query_page(&query, None, 2).await.expect("page 1");
    assert_eq!(ids(&first.items), [number(4), number(17)]);
    let rest = table
        .query_page(&query, first.next.as_ref(), 10)
        .await
        .expect("page 2");
    assert_eq!(ids(&rest.items), [number(30), number(200), number(1000)]);
    assert_eq!(rest.next, None);
    let bounded = table
        .query_page(&query.up_to(200).descending(), None, 2)
        .await
        .expect("bounded, descending");
    assert_eq!(ids(&bounded.items), [number(200), number(30)]);
    let below = table
        .query_page(&query.up_to(200).descending(), bounded.next.as_ref(), 2)
        .await
        .expect("bounded page 2");
    assert_eq!(ids(&below.items), [number(17), number(4)]);
    // A limit of 0 reads one item: a page is never empty while items follow.
    let least = table.query_page(&query, None, 0).await.expect("limit 0");
    assert_eq!(ids(&least.items), [number(4)]);
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
    let found = every_item(table, &Query::table("T#1", "CHANNEL#"))
        .await
        .expect("query");
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
        every_item(table, &Query::table("T#2", "CHANNEL#"))
            .await
            .expect("query")
            .is_empty()
    );
    let first_two = first_items(table, &Query::table("T#1", "CHANNEL#"), 2)
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
    let found = every_item(table, &Query::index(index, "T#4#EU"))
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
    let up_to_100 = every_item(table, &Query::index(index, "T#4#EU").up_to(100))
        .await
        .expect("query");
    assert_eq!(up_to_100, found[..1].to_vec(), "a sort key bound");
    assert!(
        every_item(table, &Query::index(index, "T#6#EU"))
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
