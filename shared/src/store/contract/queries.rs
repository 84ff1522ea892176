//! The contract of reads: batch reads, queries and their pages.

use super::super::end_user::BY_TENANT;
use super::super::item::number;
use super::super::{
    AttributeValue, Item, Key, PK, PageStart, Query, Table, Write, every_item, first_items,
};
use super::{item, put};

pub(super) async fn batch_get_returns_the_items_found(table: &dyn Table) {
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

/// The keys of a page's items, `pk/sk`.
fn keys_of(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(Key::of)
        .map(|k| format!("{}/{}", k.pk, k.sk))
        .collect()
}

pub(super) async fn prefix_queries_return_one_partition_in_sort_key_order(table: &dyn Table) {
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
    let first_two = first_items(table, &Query::table("T#1", "CHANNEL#"), None, 2)
        .await
        .expect("query");
    assert_eq!(first_two, found[..2].to_vec());
}

pub(super) async fn index_queries_return_one_partition_projected_and_sorted(table: &dyn Table) {
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
    let from_21 = every_item(table, &Query::index(index, "T#4#EU").at_least(21))
        .await
        .expect("query");
    assert_eq!(from_21, found[1..].to_vec(), "a lower bound");
    let between = Query::index(index, "T#4#EU").at_least(20).up_to(299);
    let within = every_item(table, &between).await.expect("query");
    assert_eq!(within, found[..1].to_vec(), "both bounds, inclusive");
    let descending = every_item(table, &between.up_to(300).descending())
        .await
        .expect("query");
    let reversed: Vec<Item> = found.iter().rev().cloned().collect();
    assert_eq!(descending, reversed, "both bounds, descending");
    let empty = every_item(table, &Query::index(index, "T#4#EU").at_least(301))
        .await
        .expect("query");
    assert!(empty.is_empty(), "above every entry: {empty:?}");
    assert!(
        every_item(table, &Query::index(index, "T#6#EU"))
            .await
            .expect("query")
            .is_empty()
    );
}

pub(super) async fn table_queries_page_both_ways(table: &dyn Table) {
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

pub(super) async fn index_queries_page_both_ways(table: &dyn Table) {
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
