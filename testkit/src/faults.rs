//! Fault injection at the storage port: a store that fails, never answers or slows down at its
//! N-th call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use answerpal::store::{
    Item, Key, PageStart, Query, QueryPage, StoreError, Table, Write, WriteError,
};
use async_trait::async_trait;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The call fails before it reaches the store (throttling, a refused connection).
    Fail,
    /// The call reaches the store, then its answer is lost (a time-out after the write applied).
    FailAfterApplying,
    /// The call never answers (a frozen store); only the request deadline ends it.
    Hang,
    /// This call and every later one answer only after the delay (a store under load).
    Slow(std::time::Duration),
}

/// `inner`, with `fault` at call number `at` (0-based) and every other call passed through.
pub struct FaultyTable {
    inner: Arc<dyn Table>,
    at: usize,
    fault: Fault,
    calls: AtomicUsize,
}

impl FaultyTable {
    pub fn new(inner: Arc<dyn Table>, at: usize, fault: Fault) -> Self {
        FaultyTable {
            inner,
            at,
            fault,
            calls: AtomicUsize::new(0),
        }
    }

    /// Calls made so far, the faulty one included.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Runs `call` on the inner store, or injects the fault when its turn has come.
    async fn call<T, E: From<StoreError>>(
        &self,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        if let Fault::Slow(delay) = self.fault {
            if n >= self.at {
                tokio::time::sleep(delay).await;
            }
            return call.await;
        }
        if n != self.at {
            return call.await;
        }
        let injected = || E::from(StoreError::Unavailable("injected fault".into()));
        match self.fault {
            Fault::Fail => Err(injected()),
            Fault::FailAfterApplying => {
                drop(call.await);
                Err(injected())
            }
            Fault::Hang => std::future::pending().await,
            Fault::Slow(_) => call.await,
        }
    }
}

#[async_trait]
impl Table for FaultyTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.call(self.inner.get(key)).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.call(self.inner.batch_get(keys)).await
    }

    async fn query_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        self.call(self.inner.query_page(query, start, limit)).await
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        self.call(self.inner.write(writes)).await
    }

    async fn replace(&self, item: Item) -> Result<Option<Item>, StoreError> {
        self.call(self.inner.replace(item)).await
    }

    async fn remove(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.call(self.inner.remove(key)).await
    }
}
