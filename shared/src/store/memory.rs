//! The embedded table: DynamoDB's semantics for the calls of the port, in process memory.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    AttributeValue, Condition, FailedCondition, Index, Item, Key, MAX_BATCH_GET, MAX_WRITES, PK,
    SK, StoreError, Table, Write, WriteError,
};

#[derive(Default)]
pub struct MemoryTable {
    items: Mutex<BTreeMap<Key, Item>>,
}

impl MemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<Key, Item>>, StoreError> {
        self.items
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

fn number_of(item: &Item, attribute: &str) -> Option<f64> {
    match item.get(attribute) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

#[async_trait]
impl Table for MemoryTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.lock()?.get(key).cloned())
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
        let items = self.lock()?;
        Ok(keys.iter().filter_map(|k| items.get(k).cloned()).collect())
    }

    async fn query_index(&self, index: &Index, partition: &str) -> Result<Vec<Item>, StoreError> {
        let items = self.lock()?;
        let wanted = AttributeValue::S(partition.to_owned());
        let mut found: Vec<Item> = items
            .values()
            .filter(|item| item.get(index.partition_key) == Some(&wanted))
            .filter(|item| number_of(item, index.sort_key).is_some())
            .map(|item| {
                let mut projected = Item::default();
                let keep = [PK, SK, index.partition_key, index.sort_key];
                for name in keep.iter().chain(index.projected) {
                    if let Some(value) = item.get(*name) {
                        projected.insert((*name).to_owned(), value.clone());
                    }
                }
                projected
            })
            .collect();
        found.sort_by(|a, b| {
            number_of(a, index.sort_key)
                .partial_cmp(&number_of(b, index.sort_key))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(found)
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
        let mut items = self.lock()?;
        let failed: Vec<FailedCondition> = writes
            .iter()
            .zip(&keys)
            .enumerate()
            .filter_map(|(index, (write, key))| {
                let condition = match write {
                    Write::Put { condition, .. } | Write::Delete { condition, .. } => condition,
                };
                let existing = items.get(key);
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
                Write::Put { item, .. } => {
                    items.insert(key, item);
                }
                Write::Delete { .. } => {
                    items.remove(&key);
                }
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
