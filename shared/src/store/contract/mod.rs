//! The storage contract: one suite every adapter must pass, so the embedded table and DynamoDB
//! cannot drift apart. `make` gives a fresh, empty table for each case.

mod queries;
mod updates;
mod writes;

use std::future::Future;
use std::sync::Arc;

use super::item::number;
use super::{AttributeValue, Condition, Item, PK, SK, Table, Write};
use queries::*;
use updates::*;
use writes::*;

pub(super) fn item(pk: &str, sk: &str, attributes: &[(&str, AttributeValue)]) -> Item {
    let mut item = Item::default();
    item.insert(PK.into(), AttributeValue::S(pk.into()));
    item.insert(SK.into(), AttributeValue::S(sk.into()));
    for (name, value) in attributes {
        item.insert((*name).into(), value.clone());
    }
    item
}

pub(super) fn put(item: Item, condition: Option<Condition>) -> Write {
    Write::Put { item, condition }
}

pub(super) fn version(n: u64) -> Condition {
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
    either_condition_takes_a_missing_or_run_out_lease(&make().await).await;
    batch_get_returns_the_items_found(&make().await).await;
    index_queries_return_one_partition_projected_and_sorted(&make().await).await;
    concurrent_creates_of_one_key_have_one_winner(Arc::new(make().await)).await;
    prefix_queries_return_one_partition_in_sort_key_order(&make().await).await;
    replace_and_remove_return_the_previous_item(&make().await).await;
    updates_set_add_and_remove_under_their_condition(&make().await).await;
    checks_and_compound_conditions_guard_a_transaction(&make().await).await;
    a_check_alone_and_number_bounds(&make().await).await;
    a_transaction_whose_last_write_fails_applies_nothing(&make().await).await;
    table_queries_page_both_ways(&make().await).await;
    index_queries_page_both_ways(&make().await).await;
}
