//! Query pages of the embedded table: a range of its items, or of an index's entries, in either
//! direction from a start.

use std::ops::Bound;

use super::State;
use crate::store::{Index, Item, Key, PageStart, Query, StoreError};

/// The bounds of a range from `lowest` to `highest` that starts after `start` in the query's
/// direction; none for a start outside the range (it names another partition).
fn bounds<T: Ord>(
    lowest: T,
    highest: T,
    start: Option<T>,
    descending: bool,
) -> Option<(Bound<T>, Bound<T>)> {
    if start.as_ref().is_some_and(|s| *s < lowest || *s > highest) {
        return None;
    }
    Some(match (start, descending) {
        (None, _) => (Bound::Included(lowest), Bound::Included(highest)),
        (Some(start), false) => (Bound::Excluded(start), Bound::Included(highest)),
        (Some(start), true) => (Bound::Included(lowest), Bound::Excluded(start)),
    })
}

/// At most `n` of `items`, from the front or (descending) from the back.
fn take<'a, T: 'a>(
    items: impl DoubleEndedIterator<Item = T> + 'a,
    descending: bool,
    n: usize,
) -> Vec<T> {
    match descending {
        false => items.take(n).collect(),
        true => items.rev().take(n).collect(),
    }
}

impl State {
    /// At most `n` items of a table query after `start`.
    pub(super) fn table_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        n: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let lowest = Key::new(query.partition, query.sk_prefix);
        let highest = Key::new(query.partition, format!("{}\u{10FFFF}", query.sk_prefix));
        let start = start.map(PageStart::key).transpose()?;
        let Some(bounds) = bounds(lowest, highest, start, query.descending) else {
            return Ok(Vec::new());
        };
        let range = self
            .items
            .range(bounds)
            .filter(|(key, _)| key.sk.starts_with(query.sk_prefix));
        Ok(take(range, query.descending, n)
            .into_iter()
            .map(|(_, item)| item.clone())
            .collect())
    }

    /// At most `n` entries of an index query after `start`, as the index projects them.
    pub(super) fn index_page(
        &self,
        index: &Index,
        query: &Query<'_>,
        start: Option<&PageStart>,
        n: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let entry = |sort: u128, key: Key| (index.name, query.partition.to_owned(), sort, key);
        let lowest = entry(query.at_least.unwrap_or(0), Key::new("", ""));
        let highest = entry(
            query.at_most.unwrap_or(u128::MAX),
            Key::new("\u{10FFFF}", ""),
        );
        let start = match start {
            Some(start) => Some(entry(start.sort_value(index)?, start.key()?)),
            None => None,
        };
        let Some(bounds) = bounds(lowest, highest, start, query.descending) else {
            return Ok(Vec::new());
        };
        let range = self.index.range(bounds);
        Ok(take(range, query.descending, n)
            .into_iter()
            .map(|(_, projected)| projected.clone())
            .collect())
    }
}
