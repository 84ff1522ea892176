//! Deterministic races and failures at the storage port: a store that, right before the first
//! write a predicate picks (the transaction that records a message, say), lets a racing change
//! land between the writer's reads and its write, or fails that write.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use answerpal::store::{
    Item, Key, Kind, PageStart, Query, QueryPage, StoreError, Table, Write, WriteError,
};
use async_trait::async_trait;

/// A change that races a writer.
pub type Racer = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Which writes an armed action waits for.
pub type Trigger = fn(&[Write]) -> bool;

enum Action {
    Race(Racer),
    Fail,
}

/// `inner`, running an armed action once, at the first write its trigger picks.
pub struct Interleaved {
    inner: Arc<dyn Table>,
    armed: Mutex<Option<(Trigger, Action)>>,
}

impl Interleaved {
    pub fn new(inner: Arc<dyn Table>) -> Self {
        Interleaved {
            inner,
            armed: Mutex::new(None),
        }
    }

    /// Runs `racer` right before the next write that records a message.
    pub fn race(&self, racer: Racer) {
        self.race_when(puts_message, racer);
    }

    /// Runs `racer` right before the next write `when` picks.
    pub fn race_when(&self, when: Trigger, racer: Racer) {
        self.arm(when, Action::Race(racer));
    }

    /// Fails (as unavailable, nothing applied) the next write `when` picks.
    pub fn fail(&self, when: Trigger) {
        self.arm(when, Action::Fail);
    }

    fn arm(&self, when: Trigger, action: Action) {
        *self.armed.lock().expect("armed lock") = Some((when, action));
    }

    /// Whether the armed action has run.
    pub fn has_run(&self) -> bool {
        self.armed.lock().expect("armed lock").is_none()
    }
}

/// A trigger: the writes that record a message.
pub fn puts_message(writes: &[Write]) -> bool {
    puts(writes, Kind::Message)
}

/// A trigger: the writes that claim a UID.
pub fn puts_uid_index(writes: &[Write]) -> bool {
    puts(writes, Kind::UidIndex)
}

/// A trigger: the writes that store an end user's record.
pub fn puts_end_user(writes: &[Write]) -> bool {
    puts(writes, Kind::EndUser)
}

/// A trigger: the writes that claim a customerRef.
pub fn puts_customer_ref(writes: &[Write]) -> bool {
    puts(writes, Kind::CustomerRef)
}

/// A trigger: the writes that leave a merged end user's tombstone (a merge).
pub fn puts_tombstone(writes: &[Write]) -> bool {
    puts(writes, Kind::Tombstone)
}

/// A trigger: the writes that add a timeline entry (a sync that changed something, say).
pub fn puts_timeline(writes: &[Write]) -> bool {
    puts(writes, Kind::Timeline)
}

/// A trigger: the writes that erase messages (an anonymization's).
pub fn erases_messages(writes: &[Write]) -> bool {
    writes.iter().any(|write| {
        matches!(write, Write::Update { key, .. } if key.sk.starts_with(answerpal::store::message::PREFIX))
    })
}

fn puts(writes: &[Write], kind: Kind) -> bool {
    writes
        .iter()
        .any(|write| matches!(write, Write::Put { item, .. } if Kind::of(item) == Some(kind)))
}

#[async_trait]
impl Table for Interleaved {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.inner.batch_get(keys).await
    }

    async fn query_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        self.inner.query_page(query, start, limit).await
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        let action = {
            let mut armed = self.armed.lock().expect("armed lock");
            match armed.as_ref() {
                Some((when, _)) if when(&writes) => armed.take().map(|(_, action)| action),
                _ => None,
            }
        };
        match action {
            Some(Action::Race(racer)) => racer().await,
            Some(Action::Fail) => {
                return Err(StoreError::Unavailable("injected failure".into()).into());
            }
            None => {}
        }
        self.inner.write(writes).await
    }

    async fn replace(&self, item: Item) -> Result<Option<Item>, StoreError> {
        self.inner.replace(item).await
    }

    async fn remove(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.remove(key).await
    }
}
