//! The embedded table: DynamoDB's semantics for the calls of the port, in process memory.
//!
//! Time to live as on the deployed table: an item whose `expiresAt` (epoch seconds) has passed is
//! removed at the next call, so reads no longer see it and memory does not grow with expired
//! items. (DynamoDB deletes expired items within days and may return them until then; nothing in
//! the service reads an item that expires.)

mod pages;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::{
    AttributeValue, Condition, EXPIRES_AT, FailedCondition, INDEXES, Index, Item, Key,
    MAX_BATCH_GET, MAX_WRITES, PK, PageStart, Projection, Query, QueryPage, SK, StoreError, Table,
    Write, WriteError,
};

/// One entry of a secondary index: index, partition value, sort value, item key.
type IndexEntry = (&'static str, String, u128, Key);

#[derive(Default)]
struct State {
    items: BTreeMap<Key, Item>,
    /// Every index of the table (`INDEXES`), kept in step with `items`: each entry holds the
    /// item's projection, made once per write rather than on every query. Sort values are
    /// unsigned integers, the only kind this table's indexes use.
    index: BTreeMap<IndexEntry, Item>,
    /// The items that expire, by when.
    expiries: BTreeSet<(i64, Key)>,
}

/// When an item expires: its `expiresAt` in epoch seconds.
fn expiry(item: &Item) -> Option<i64> {
    match item.get(EXPIRES_AT) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// The attributes `index` holds of `item`: the table's keys, its own, and the projected ones.
fn projection(index: &Index, item: &Item) -> Item {
    let included = match index.projection {
        Projection::All => return item.clone(),
        Projection::Include(names) => names,
        Projection::KeysOnly => &[],
    };
    let keys = [PK, SK, index.partition_key, index.sort_key];
    let mut projected = Item::default();
    for name in keys.iter().chain(included) {
        if let Some(value) = item.get(*name) {
            projected.insert((*name).to_owned(), value.clone());
        }
    }
    projected
}

impl State {
    /// The index entries of an item, each with the index it belongs to.
    fn entries(key: &Key, item: &Item) -> impl Iterator<Item = (&'static Index, IndexEntry)> {
        INDEXES.into_iter().filter_map(move |index| {
            let Some(AttributeValue::S(partition)) = item.get(index.partition_key) else {
                return None;
            };
            let Some(AttributeValue::N(sort)) = item.get(index.sort_key) else {
                return None;
            };
            let sort = sort.parse().ok()?;
            Some((index, (index.name, partition.clone(), sort, key.clone())))
        })
    }

    fn put(&mut self, key: Key, item: Item) {
        self.remove(&key);
        for (index, entry) in Self::entries(&key, &item) {
            self.index.insert(entry, projection(index, &item));
        }
        if let Some(at) = expiry(&item) {
            self.expiries.insert((at, key.clone()));
        }
        self.items.insert(key, item);
    }

    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.items.remove(key) {
            for (_, entry) in Self::entries(key, &old) {
                self.index.remove(&entry);
            }
            if let Some(at) = expiry(&old) {
                self.expiries.remove(&(at, key.clone()));
            }
        }
    }

    /// Removes every item that expired at or before `now`.
    fn remove_expired(&mut self, now: i64) {
        while let Some((at, key)) = self.expiries.first().cloned() {
            if at > now {
                return;
            }
            self.remove(&key);
        }
    }
}

/// Epoch seconds: the time the table expires items by.
pub type Clock = Box<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub struct MemoryTable {
    state: Mutex<State>,
    clock: Clock,
}

impl Default for MemoryTable {
    fn default() -> Self {
        Self::with_clock(Box::new(system_clock))
    }
}

impl MemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// A table that expires items by `clock` (tests move time forward).
    pub fn with_clock(clock: Clock) -> Self {
        MemoryTable {
            state: Mutex::new(State::default()),
            clock,
        }
    }

    /// How many items the table holds.
    pub fn item_count(&self) -> Result<usize, StoreError> {
        Ok(self.lock()?.items.len())
    }

    /// Every item the table holds, by key: what a copy of the table would reveal.
    pub fn snapshot(&self) -> Result<Vec<Item>, StoreError> {
        Ok(self.lock()?.items.values().cloned().collect())
    }

    /// The state, expired items removed.
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| StoreError::Internal("embedded table lock poisoned".into()))?;
        state.remove_expired((self.clock)());
        Ok(state)
    }
}

/// `item` with an update's changes, as DynamoDB applies `SET`, `ADD` and `REMOVE`.
fn updated(
    item: &mut Item,
    set: Vec<(&'static str, AttributeValue)>,
    add: Vec<(&'static str, i64)>,
    remove: Vec<&'static str>,
) -> Result<(), StoreError> {
    for (name, value) in set {
        item.insert(name.to_owned(), value);
    }
    for (name, amount) in add {
        let current = match item.get(name) {
            None => 0,
            Some(AttributeValue::N(n)) => n
                .parse::<i64>()
                .map_err(|_| StoreError::Internal(format!("{name} is not an integer")))?,
            Some(_) => return Err(StoreError::Internal(format!("{name} is not a number"))),
        };
        item.insert(
            name.to_owned(),
            AttributeValue::N((current + amount).to_string()),
        );
    }
    for name in remove {
        item.remove(name);
    }
    Ok(())
}

fn holds(condition: &Condition, existing: Option<&Item>) -> bool {
    match (condition, existing) {
        (Condition::NotExists, existing) => existing.is_none(),
        (Condition::Exists, existing) => existing.is_some(),
        (Condition::Equals { attribute, value }, Some(item)) => item.get(*attribute) == Some(value),
        (Condition::AtMost { attribute, value }, Some(item)) => item
            .get(*attribute)
            .is_some_and(|current| at_most(current, value)),
        (Condition::Equals { .. } | Condition::AtMost { .. }, None) => false,
        (Condition::All(conditions), existing) => conditions.iter().all(|c| holds(c, existing)),
        (Condition::Any(conditions), existing) => conditions.iter().any(|c| holds(c, existing)),
    }
}

/// `current <= bound` as DynamoDB compares: numbers by value, strings by UTF-8 bytes; values of
/// different types never compare.
fn at_most(current: &AttributeValue, bound: &AttributeValue) -> bool {
    match (current, bound) {
        (AttributeValue::S(a), AttributeValue::S(b)) => a.as_bytes() <= b.as_bytes(),
        (AttributeValue::N(a), AttributeValue::N(b)) => {
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(a), Ok(b)) => a <= b,
                _ => false,
            }
        }
        _ => false,
    }
}

/// The keys of a transaction's writes: 1 to [`MAX_WRITES`], each on its own item.
fn distinct_keys(writes: &[Write]) -> Result<Vec<Key>, StoreError> {
    if writes.is_empty() || writes.len() > MAX_WRITES {
        return Err(StoreError::Internal(format!(
            "{} writes in one transaction (1 to {MAX_WRITES} allowed)",
            writes.len()
        )));
    }
    let keys = writes
        .iter()
        .map(|write| {
            write
                .key()
                .ok_or_else(|| StoreError::Internal("item without PK and SK".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.iter().collect::<HashSet<_>>().len() != keys.len() {
        return Err(StoreError::Internal(
            "two writes on one item in a transaction".into(),
        ));
    }
    Ok(keys)
}

/// What a write leaves under its key.
enum Outcome {
    Stored(Item),
    Removed,
    Unchanged,
}

/// What each write leaves under its key, all worked out before any applies, so that a failing
/// one leaves nothing applied.
fn outcomes(
    state: &State,
    writes: Vec<Write>,
    keys: Vec<Key>,
) -> Result<Vec<(Key, Outcome)>, StoreError> {
    let mut outcomes = Vec::with_capacity(writes.len());
    for (write, key) in writes.into_iter().zip(keys) {
        let outcome = match write {
            Write::Put { item, .. } => Outcome::Stored(item),
            Write::Delete { .. } => Outcome::Removed,
            Write::Check { .. } => Outcome::Unchanged,
            Write::Update {
                set, add, remove, ..
            } => {
                let mut item = state.items.get(&key).cloned().unwrap_or_else(|| bare(&key));
                updated(&mut item, set, add, remove)?;
                Outcome::Stored(item)
            }
        };
        outcomes.push((key, outcome));
    }
    Ok(outcomes)
}

/// An item holding only `key`, as an update of a missing item starts from.
fn bare(key: &Key) -> Item {
    let mut item = Item::default();
    item.insert(PK.into(), AttributeValue::S(key.pk.clone()));
    item.insert(SK.into(), AttributeValue::S(key.sk.clone()));
    item
}

#[async_trait]
impl Table for MemoryTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.lock()?.items.get(key).cloned())
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        if keys.len() > MAX_BATCH_GET {
            return Err(StoreError::Internal(format!(
                "batch of {} keys exceeds {MAX_BATCH_GET}",
                keys.len()
            )));
        }
        let unique: HashSet<&Key> = keys.iter().collect();
        if unique.len() != keys.len() {
            return Err(StoreError::Internal("duplicate keys in batch".into()));
        }
        let state = self.lock()?;
        Ok(keys
            .iter()
            .filter_map(|k| state.items.get(k).cloned())
            .collect())
    }

    async fn query_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        let limit = limit.max(1);
        let state = self.lock()?;
        let items = match query.index {
            None => state.table_page(query, start, limit.saturating_add(1))?,
            Some(index) => state.index_page(index, query, start, limit.saturating_add(1))?,
        };
        Ok(QueryPage::of(items, limit, query.index))
    }

    async fn replace(&self, item: Item) -> Result<Option<Item>, StoreError> {
        let key =
            Key::of(&item).ok_or_else(|| StoreError::Internal("item without PK and SK".into()))?;
        let mut state = self.lock()?;
        let old = state.items.get(&key).cloned();
        state.put(key, item);
        Ok(old)
    }

    async fn remove(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let mut state = self.lock()?;
        let old = state.items.get(key).cloned();
        state.remove(key);
        Ok(old)
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        let keys = distinct_keys(&writes)?;
        let mut state = self.lock()?;
        let failed: Vec<FailedCondition> = writes
            .iter()
            .zip(&keys)
            .enumerate()
            .filter_map(|(index, (write, key))| {
                let existing = state.items.get(key);
                match write.condition() {
                    Some(c) if !holds(c, existing) => Some(FailedCondition {
                        index,
                        existing: existing.cloned(),
                    }),
                    _ => None,
                }
            })
            .collect();
        if !failed.is_empty() {
            return Err(WriteError::ConditionFailed { failed });
        }
        let outcomes = outcomes(&state, writes, keys)?;
        for (key, outcome) in outcomes {
            match outcome {
                Outcome::Stored(item) => state.put(key, item),
                Outcome::Removed => state.remove(&key),
                Outcome::Unchanged => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn embedded_table_passes_the_storage_contract() {
        crate::store::contract::run_all(|| async { MemoryTable::new() }).await;
    }

    #[tokio::test]
    async fn items_are_gone_once_their_time_to_live_has_passed() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicI64, Ordering};

        use crate::store::item::{Kind, keyed, number};

        let now = Arc::new(AtomicI64::new(1_000));
        let clock = Arc::clone(&now);
        let table = MemoryTable::with_clock(Box::new(move || clock.load(Ordering::Relaxed)));
        let expiring = Key::new("T#1#IDB#64", "IDB");
        let lasting = Key::new("T#1#EU#1", "PROFILE");
        let mut item = Item::default();
        item.insert(EXPIRES_AT.into(), number(1_010));
        let writes = vec![
            Write::Put {
                item: keyed(Kind::IdBlock, expiring.clone(), item),
                condition: None,
            },
            Write::Put {
                item: keyed(Kind::EndUser, lasting.clone(), Item::default()),
                condition: None,
            },
        ];
        table.write(writes).await.expect("write");
        assert!(table.get(&expiring).await.expect("get").is_some());
        now.store(1_009, Ordering::Relaxed);
        assert!(table.get(&expiring).await.expect("get").is_some());
        now.store(1_010, Ordering::Relaxed);
        assert_eq!(table.get(&expiring).await.expect("get"), None);
        assert!(table.get(&lasting).await.expect("get").is_some());
        assert_eq!(table.item_count().expect("count"), 1);
    }
}
