//! Items read at the storage port: a store that counts every item its reads return, so a test
//! shows what a request's reads grow with (its page, not the data behind it).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use answerpal::store::{
    Item, Key, PageStart, Query, QueryPage, StoreError, Table, Write, WriteError,
};
use async_trait::async_trait;

/// `inner`, counting the items its reads return.
pub struct CountingReads {
    inner: Arc<dyn Table>,
    items: AtomicUsize,
}

impl CountingReads {
    pub fn new(inner: Arc<dyn Table>) -> Self {
        CountingReads {
            inner,
            items: AtomicUsize::new(0),
        }
    }

    /// Items read since the last call.
    pub fn take(&self) -> usize {
        self.items.swap(0, Ordering::Relaxed)
    }

    fn count<T>(
        &self,
        read: Result<T, StoreError>,
        items: impl Fn(&T) -> usize,
    ) -> Result<T, StoreError> {
        if let Ok(found) = &read {
            self.items.fetch_add(items(found), Ordering::Relaxed);
        }
        read
    }
}

#[async_trait]
impl Table for CountingReads {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.count(self.inner.get(key).await, |found| {
            usize::from(found.is_some())
        })
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.count(self.inner.batch_get(keys).await, Vec::len)
    }

    async fn query_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        let page = self.inner.query_page(query, start, limit).await;
        self.count(page, |page| page.items.len())
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        self.inner.write(writes).await
    }

    async fn replace(&self, item: Item) -> Result<Option<Item>, StoreError> {
        self.inner.replace(item).await
    }

    async fn remove(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.remove(key).await
    }
}
