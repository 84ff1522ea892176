//! The contract of in-place updates, checks, compound conditions and atomicity.

use super::super::item::number;
use super::super::{AttributeValue, Condition, Key, StoreError, Table, Write, WriteError};
use super::{item, put};

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

pub(super) async fn updates_set_add_and_remove_under_their_condition(table: &dyn Table) {
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

pub(super) async fn checks_and_compound_conditions_guard_a_transaction(table: &dyn Table) {
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
}

/// A check alone, `Exists` on a missing item, numbers compared by value.
pub(super) async fn a_check_alone_and_number_bounds(table: &dyn Table) {
    let guard = Key::new("T#1#EU#5", "OPEN#2");
    table
        .write(vec![put(
            item(&guard.pk, &guard.sk, &[("ticketID", number(9))]),
            None,
        )])
        .await
        .expect("seed");
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

pub(super) async fn a_transaction_whose_last_write_fails_applies_nothing(table: &dyn Table) {
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
