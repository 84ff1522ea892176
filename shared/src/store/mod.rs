//! The storage port: a narrow view of one DynamoDB table, with two adapters that keep the same
//! condition and transaction semantics (DynamoDB itself, and an embedded in-process table).
//!
//! One module per stored item kind owns its keys, its projection and its item conversion
//! (`end_user`, `uid_index`, `customer_ref`, `id_block`; `owner` is the layout the index items
//! share). The key design: docs/access-patterns.md.

pub mod account;
pub mod channel;
pub mod customer_ref;
pub mod delivery;
pub mod dismissal;
pub mod dynamodb;
pub mod end_user;
pub mod erasure;
pub mod id_block;
pub mod idempotency;
pub mod item;
pub mod match_key;
pub mod memory;
pub mod merge;
pub mod message;
pub mod open_ticket;
pub mod outbox;
pub mod owner;
pub mod suppression;
pub mod sweep;
pub mod ticket;
pub mod timeline;
mod transaction;
pub mod uid_index;

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;

use async_trait::async_trait;
pub use item::Kind;
pub use serde_dynamo::{AttributeValue, Item};
pub use transaction::{Claims, Transaction};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
/// Epoch seconds after which DynamoDB's TTL removes an item.
pub const EXPIRES_AT: &str = "expiresAt";

/// Every secondary index of the table.
pub const INDEXES: [&Index; 7] = [
    &end_user::BY_TENANT,
    &ticket::BY_END_USER,
    &sweep::SWEEP,
    &match_key::MATCHES,
    &match_key::NAME_MATCHES,
    &timeline::BY_KIND,
    &timeline::OF_TICKET,
];

/// A secondary index of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub partition_key: &'static str,
    /// A number attribute: an unsigned integer below 2^128.
    pub sort_key: &'static str,
    pub projection: Projection,
}

/// What an index holds of an item besides the table's and its own keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Projection {
    /// These attributes.
    Include(&'static [&'static str]),
    /// Every attribute.
    All,
    /// The keys only.
    KeysOnly,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// Whether `item` is stored under this key (compared in place, nothing copied).
    pub fn holds(&self, item: &Item) -> bool {
        matches!(
            (item.get(PK), item.get(SK)),
            (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) if *pk == self.pk && *sk == self.sk
        )
    }

    /// The item of `items` stored under this key: batch reads answer in no particular order.
    pub fn find_in<'a>(&self, items: &'a [Item]) -> Option<&'a Item> {
        items.iter().find(|item| self.holds(item))
    }

    pub fn of(item: &Item) -> Option<Key> {
        match (item.get(PK), item.get(SK)) {
            (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => {
                Some(Key::new(pk.clone(), sk.clone()))
            }
            _ => None,
        }
    }
}

/// What must hold of the current item for a write to apply.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// No item has this key.
    NotExists,
    /// An item has this key.
    Exists,
    /// The item exists and `attribute` equals `value`.
    Equals {
        attribute: &'static str,
        value: AttributeValue,
    },
    /// The item exists and `attribute` sorts at or before `value`: numbers by value, strings
    /// by their UTF-8 bytes (so fixed-width timestamps by time). A missing attribute fails.
    AtMost {
        attribute: &'static str,
        value: AttributeValue,
    },
    /// Every one of these holds.
    All(Vec<Condition>),
    /// At least one of these holds (none given: never).
    Any(Vec<Condition>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Changes nothing: the transaction applies only while `condition` holds of this item.
    Check { key: Key, condition: Condition },
    /// Changes some attributes of an item in place (creating it when missing, unless the
    /// condition asks for it): counters grow without the writer reading them first.
    Update {
        key: Key,
        set: Vec<(&'static str, AttributeValue)>,
        /// Numbers added to (a missing attribute counts as 0).
        add: Vec<(&'static str, i64)>,
        remove: Vec<&'static str>,
        condition: Option<Condition>,
    },
}

impl Write {
    pub fn key(&self) -> Option<Key> {
        match self {
            Write::Put { item, .. } => Key::of(item),
            Write::Delete { key, .. } | Write::Update { key, .. } | Write::Check { key, .. } => {
                Some(key.clone())
            }
        }
    }

    pub fn condition(&self) -> Option<&Condition> {
        match self {
            Write::Put { condition, .. }
            | Write::Delete { condition, .. }
            | Write::Update { condition, .. } => condition.as_ref(),
            Write::Check { condition, .. } => Some(condition),
        }
    }
}

/// A query of one partition, of the table or of an index, ascending by sort key unless
/// [`Query::descending`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query<'a> {
    /// `None`: the table itself, strongly consistent; an index is eventually consistent on
    /// DynamoDB and answers with its projection.
    pub index: Option<&'a Index>,
    pub partition: &'a str,
    /// Table queries: the sort keys start with this.
    pub sk_prefix: &'a str,
    /// Index queries: the (numeric) sort keys are at least this.
    pub at_least: Option<u128>,
    /// Index queries: the (numeric) sort keys are at most this.
    pub at_most: Option<u128>,
    pub descending: bool,
}

impl<'a> Query<'a> {
    /// The items of table partition `pk` whose sort key starts with `sk_prefix`.
    pub fn table(pk: &'a str, sk_prefix: &'a str) -> Self {
        Query {
            index: None,
            partition: pk,
            sk_prefix,
            at_least: None,
            at_most: None,
            descending: false,
        }
    }

    /// The entries of `index` in `partition`.
    pub fn index(index: &'a Index, partition: &'a str) -> Self {
        Query {
            index: Some(index),
            partition,
            sk_prefix: "",
            at_least: None,
            at_most: None,
            descending: false,
        }
    }

    /// Only the entries whose sort key is at most `up_to`.
    pub fn up_to(self, up_to: u128) -> Self {
        Query {
            at_most: Some(up_to),
            ..self
        }
    }

    /// Only the entries whose sort key is at least `at_least`.
    pub fn at_least(self, at_least: u128) -> Self {
        Query {
            at_least: Some(at_least),
            ..self
        }
    }

    pub fn descending(self) -> Self {
        Query {
            descending: true,
            ..self
        }
    }
}

/// Where a page of a query ended: the key attributes of its last item (the table's, and the
/// index's for an index query), as DynamoDB's `ExclusiveStartKey` takes them.
#[derive(Clone, Debug, PartialEq)]
pub struct PageStart(pub Item);

impl PageStart {
    /// The start of the page after `item`, the last one of a page of a query of `index` (or of
    /// the table).
    pub fn after(item: &Item, index: Option<&Index>) -> PageStart {
        let names = [PK, SK].into_iter().chain(
            index
                .into_iter()
                .flat_map(|i| [i.partition_key, i.sort_key]),
        );
        let mut start = Item::default();
        for name in names {
            if let Some(value) = item.get(name) {
                start.insert(name.to_owned(), value.clone());
            }
        }
        PageStart(start)
    }

    /// The table key it names.
    pub fn key(&self) -> Result<Key, StoreError> {
        Key::of(&self.0).ok_or_else(|| StoreError::Internal("a page start without a key".into()))
    }

    /// The index sort key it names.
    pub fn sort_value(&self, index: &Index) -> Result<u128, StoreError> {
        match self.0.get(index.sort_key) {
            Some(AttributeValue::N(n)) => n
                .parse()
                .map_err(|_| StoreError::Internal("a page start's sort key".into())),
            _ => Err(StoreError::Internal(format!(
                "a page start without {}",
                index.sort_key
            ))),
        }
    }
}

impl QueryPage {
    /// A page of at most `limit` of `items`, read one past the limit to know whether more
    /// follow.
    pub fn of(mut items: Vec<Item>, limit: usize, index: Option<&Index>) -> QueryPage {
        if items.len() <= limit {
            return QueryPage { items, next: None };
        }
        items.truncate(limit);
        let next = items.last().map(|last| PageStart::after(last, index));
        QueryPage { items, next }
    }
}

/// One page of a query.
#[derive(Debug, Default, PartialEq)]
pub struct QueryPage {
    pub items: Vec<Item>,
    /// Where the next page starts; `None` when nothing follows.
    pub next: Option<PageStart>,
}

/// The first `n` items of `query` after `start` (all of them when fewer), a page at a time: a
/// page DynamoDB cuts short at 1 MB is continued.
pub async fn first_items(
    table: &dyn Table,
    query: &Query<'_>,
    start: Option<PageStart>,
    n: usize,
) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start = start;
    while items.len() < n {
        let page = table
            .query_page(query, start.as_ref(), n - items.len())
            .await?;
        items.extend(page.items);
        match page.next {
            Some(next) => start = Some(next),
            None => break,
        }
    }
    Ok(items)
}

/// Every item of `query`, a page at a time: for reads bounded by what they list (a tenant's
/// channels, one end user's tickets).
pub async fn every_item(table: &dyn Table, query: &Query<'_>) -> Result<Vec<Item>, StoreError> {
    first_items(table, query, None, usize::MAX).await
}

/// At most this many writes in one atomic call (DynamoDB's TransactWriteItems limit).
pub const MAX_WRITES: usize = 100;
/// At most this many writes a use case plans in one transaction: the unit of work may add an
/// idempotency record and the change's outbox item.
pub const MAX_PLANNED_WRITES: usize = MAX_WRITES - 2;
/// At most this many keys in one batch read (DynamoDB's BatchGetItem limit).
pub const MAX_BATCH_GET: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttling, time-outs, network: worth a retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

/// Why an atomic write did not apply; nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The conditions of these writes (by index) failed; `existing` is the item each one met.
    #[error("condition failed on writes {failed:?}")]
    ConditionFailed { failed: Vec<FailedCondition> },
    /// Another transaction held one of the items; the whole write may be retried.
    #[error("transaction conflict")]
    Contention,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FailedCondition {
    pub index: usize,
    pub existing: Option<Item>,
}

#[async_trait]
pub trait Table: Send + Sync {
    /// One item by key, strongly consistent.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The items of up to [`MAX_BATCH_GET`] keys, strongly consistent, in no particular order;
    /// missing keys are left out.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError>;

    /// At most `limit` (at least 1) items of `query` after `start`, and where the next page
    /// starts when more follow: a page costs what it holds, not the partition behind it.
    async fn query_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<QueryPage, StoreError>;

    /// Applies up to [`MAX_WRITES`] writes on distinct keys all together or not at all.
    async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError>;

    /// Stores `item` whatever its key holds; the item it replaced.
    async fn replace(&self, item: Item) -> Result<Option<Item>, StoreError>;

    /// Deletes the item of `key`, if any; the item it removed.
    async fn remove(&self, key: &Key) -> Result<Option<Item>, StoreError>;
}
