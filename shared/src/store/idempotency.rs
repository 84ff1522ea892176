//! Idempotency records (SPEC 7): `T#{tenant}#IDEM#{key}` / `IDEM`, and beside it, for a bulk
//! request, one `ITEM#{index}` per applied item (written in the item's transaction). A keyed request first takes
//! the key with a running record (free when missing or run out), then writes the complete record,
//! with the response it gave, in the transaction of its change; a request that fails removes its
//! running record. Every write names the request's token: a request whose lease ran out and was
//! taken over can neither complete nor remove another's record.

use serde::{Deserialize, Serialize};

use super::item::{Kind, decode, encode, keyed, number};
use super::{AttributeValue, Condition, EXPIRES_AT, Item, Key, StoreError, Write};
use crate::domain::idempotency::Recorded;
use crate::domain::{TenantId, Timestamp};

/// How long a complete record answers repeats of its request.
pub const KEPT_SECONDS: i64 = 24 * 60 * 60;

const TOKEN: &str = "token";
const STATE: &str = "state";
const RUNNING: &str = "running";
const COMPLETE: &str = "complete";

/// What a stored record says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A request with this fingerprint is running.
    Running { fingerprint: String },
    /// A request with this fingerprint answered `response`.
    Complete {
        fingerprint: String,
        response: Recorded,
    },
}

#[derive(Serialize, Deserialize)]
struct Stored {
    state: String,
    fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<Recorded>,
}

/// One request's hold on one key: who it is (`token`), what it asks (`fingerprint`), and for
/// how many seconds its running record holds the key (its request's deadline: a request cut
/// off there frees the key; one of its writes landing late finds the key another's).
#[derive(Clone, Debug)]
pub struct Lease {
    pub tenant: TenantId,
    pub key: String,
    pub fingerprint: String,
    pub token: u64,
    pub seconds: i64,
}

impl Lease {
    pub fn item_key(&self) -> Key {
        Key::new(format!("T#{}#IDEM#{}", self.tenant, self.key), "IDEM")
    }

    fn item(&self, stored: &Stored, expires_at: i64) -> Result<Item, StoreError> {
        let mut item = encode(stored)?;
        item.insert(TOKEN.into(), number(self.token));
        item.insert(EXPIRES_AT.into(), number(expires_at));
        Ok(keyed(Kind::Idempotency, self.item_key(), item))
    }

    /// Takes the key at `now`: no record holds it, or the one that does has run out.
    pub fn take(&self, now: Timestamp) -> Result<Write, StoreError> {
        let now = now.unix_seconds();
        let stored = Stored {
            state: RUNNING.into(),
            fingerprint: self.fingerprint.clone(),
            response: None,
        };
        Ok(Write::Put {
            item: self.item(&stored, now + self.seconds)?,
            condition: Some(Condition::Any(vec![
                Condition::NotExists,
                Condition::AtMost {
                    attribute: EXPIRES_AT,
                    value: number(now),
                },
            ])),
        })
    }

    /// The complete record of this request's `response`, while the key is still its own.
    pub fn complete(&self, response: Recorded, now: Timestamp) -> Result<Write, StoreError> {
        let stored = Stored {
            state: COMPLETE.into(),
            fingerprint: self.fingerprint.clone(),
            response: Some(response),
        };
        Ok(Write::Put {
            item: self.item(&stored, now.unix_seconds() + KEPT_SECONDS)?,
            condition: Some(self.running()),
        })
    }

    /// Removes this request's running record: it failed, and its repeat runs again.
    pub fn release(&self) -> Write {
        Write::Delete {
            key: self.item_key(),
            condition: Some(self.running()),
        }
    }

    /// The record of item `index` of this (bulk) request, applied with `response`.
    pub fn applied_item(
        &self,
        index: usize,
        response: Recorded,
        now: Timestamp,
    ) -> Result<Write, StoreError> {
        let mut item = encode(&response)?;
        item.insert(EXPIRES_AT.into(), number(now.unix_seconds() + KEPT_SECONDS));
        let key = Key::new(self.item_key().pk, format!("{ITEM_PREFIX}{index:03}"));
        Ok(Write::Put {
            item: keyed(Kind::Idempotency, key, item),
            condition: Some(Condition::NotExists),
        })
    }

    /// The partition of this request's records, whose `ITEM#` items are its applied items.
    pub fn partition(&self) -> String {
        self.item_key().pk
    }

    fn running(&self) -> Condition {
        Condition::All(vec![
            Condition::Equals {
                attribute: TOKEN,
                value: number(self.token),
            },
            Condition::Equals {
                attribute: STATE,
                value: AttributeValue::S(RUNNING.into()),
            },
        ])
    }
}

/// The sort key prefix of a bulk request's item records.
pub const ITEM_PREFIX: &str = "ITEM#";

/// An item record: its index and response.
pub fn item_from(item: Item) -> Result<(usize, Recorded), StoreError> {
    let index = Key::of(&item)
        .and_then(|key| key.sk.strip_prefix(ITEM_PREFIX)?.parse().ok())
        .ok_or_else(|| StoreError::Internal("an item record without its index".into()))?;
    Ok((index, decode(item)?))
}

pub fn from_item(item: Item) -> Result<Record, StoreError> {
    let stored: Stored = decode(item)?;
    match (stored.state.as_str(), stored.response) {
        (RUNNING, _) => Ok(Record::Running {
            fingerprint: stored.fingerprint,
        }),
        (COMPLETE, Some(response)) => Ok(Record::Complete {
            fingerprint: stored.fingerprint,
            response,
        }),
        (state, _) => Err(StoreError::Internal(format!(
            "an idempotency record in state {state:?} without its response"
        ))),
    }
}
