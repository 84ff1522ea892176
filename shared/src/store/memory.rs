//! The embedded table: DynamoDB's semantics for the calls of the port, in process memory.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    AttributeValue, Condition, FailedCondition, INDEXES, Index, Item, Key, MAX_BATCH_GET,
    MAX_WRITES, PK, SK, StoreError, Table, Write, WriteError,
};

/// One entry of a secondary index: index, partition value, sort value, item key.
type IndexEntry = (&'static str, String, u64, Key);

#[derive(Default)]
struct State {
    items: BTreeMap<Key, Item>,
    /// Every index of the table (`INDEXES`), kept in step with `items`: each entry holds the
    /// item's projection, made once per write rather than on every query. Sort values are
    /// unsigned integers, the only kind this table's indexes use.
    index: BTreeMap<IndexEntry, Item>,
}

/// The attributes `index` holds of `item`: the table's keys, its own, and the projected ones.
fn projection(index: &Index, item: &Item) -> Item {
    let keys = [PK, SK, index.partition_key, index.sort_key];
    let mut projected = Item::default();
    for name in keys.iter().chain(index.projected) {
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
        self.items.insert(key, item);
    }

    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.items.remove(key) {
            for (_, entry) in Self::entries(key, &old) {
                self.index.remove(&entry);
            }
        }
    }
}

#[derive(Default)]
pub struct MemoryTable {
    state: Mutex<State>,
}

impl MemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Internal("embedded table lock poisoned".into()))
    }
}

fn holds(condition: &Condition, existing: Option<&Item>) -> bool {
    match (condition, existing) {
        (Condition::NotExists, existing) => existing.is_none(),
        (Condition::Equals { attribute, value }, Some(item)) => item.get(*attribute) == Some(value),
        (Condition::Equals { .. }, None) => false,
    }
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

    async fn query_index(&self, index: &Index, partition: &str) -> Result<Vec<Item>, StoreError> {
        let state = self.lock()?;
        let first = (index.name, partition.to_owned(), 0, Key::new("", ""));
        Ok(state
            .index
            .range(first..)
            .take_while(|((name, value, _, _), _)| *name == index.name && value == partition)
            .map(|(_, projected)| projected.clone())
            .collect())
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        if writes.is_empty() || writes.len() > MAX_WRITES {
            return Err(StoreError::Internal(format!(
                "{} writes in one transaction (1 to {MAX_WRITES} allowed)",
                writes.len()
            ))
            .into());
        }
        let mut keys = Vec::with_capacity(writes.len());
        for write in &writes {
            let key = write
                .key()
                .ok_or_else(|| StoreError::Internal("item without PK and SK".into()))?;
            keys.push(key);
        }
        if keys.iter().collect::<HashSet<_>>().len() != keys.len() {
            return Err(
                StoreError::Internal("two writes on one item in a transaction".into()).into(),
            );
        }
        let mut state = self.lock()?;
        let failed: Vec<FailedCondition> = writes
            .iter()
            .zip(&keys)
            .enumerate()
            .filter_map(|(index, (write, key))| {
                let condition = match write {
                    Write::Put { condition, .. } | Write::Delete { condition, .. } => condition,
                };
                let existing = state.items.get(key);
                match condition {
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
        for (write, key) in writes.into_iter().zip(keys) {
            match write {
                Write::Put { item, .. } => state.put(key, item),
                Write::Delete { .. } => state.remove(&key),
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
}
