//! Writes applied together, each with what its failed condition means to the caller.

use super::{FailedCondition, Item, Key, Write, owner};

#[derive(Default)]
pub struct Transaction {
    pub writes: Vec<Write>,
    pub claims: Claims,
}

/// What a write's failed condition means, when it is more than a race lost to a concurrent
/// writer (the default: the use case starts again from a fresh read).
#[derive(Clone, Debug)]
enum Claim {
    /// A lost race.
    Race,
    /// A value for end user `claimant`, at this request field path: another end user holding it
    /// is a conflict to report.
    Value { claimant: u64, path: String },
    /// Something only one may hold (a channel's open ticket): failing is a conflict, named by
    /// this request field and message.
    Exclusive(&'static str, String),
    /// A record of the same request, written before: the item it met is the earlier answer.
    Replay,
    /// A lost race whose met item the next attempt reads under this note.
    Noted(&'static str),
    /// The completion of a keyed request's idempotency record: failing, the key is no longer
    /// the request's own.
    Record,
}

/// Per write, what its failed condition means.
#[derive(Default)]
pub struct Claims(Vec<Claim>);

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// `write`, whose failed condition is a lost race.
    pub fn push(&mut self, write: Write) {
        self.add(write, Claim::Race);
    }

    /// `write`, claiming a value for end user `claimant` brought in by request field `path`.
    pub fn claim(&mut self, write: Write, claimant: u64, path: impl Into<String>) {
        let path = path.into();
        self.add(write, Claim::Value { claimant, path });
    }

    /// `write`, whose failed condition is a conflict on `path` described by `message`.
    pub fn push_exclusive(&mut self, write: Write, path: &'static str, message: String) {
        self.add(write, Claim::Exclusive(path, message));
    }

    /// `write`, a record of this request whose failed condition means it ran before.
    pub fn push_replay(&mut self, write: Write) {
        self.add(write, Claim::Replay);
    }

    /// `write`, completing the request's idempotency record.
    pub fn push_record(&mut self, write: Write) {
        self.add(write, Claim::Record);
    }

    /// `write`, whose failed condition is a lost race that hands the met item to the next
    /// attempt under `note`.
    pub fn push_noted(&mut self, write: Write, note: &'static str) {
        self.add(write, Claim::Noted(note));
    }

    /// Makes the failure of the write on `key` a lost race noted under `note`, whatever it
    /// claimed (a value the next attempt takes over rather than reports).
    pub fn note_write(&mut self, key: &Key, note: &'static str) {
        self.reclaim(key, Claim::Noted(note));
    }

    /// Makes the failure of the write on `key` a lost race, whatever it claimed (a value the
    /// next attempt reads again rather than reports).
    pub fn race_on(&mut self, key: &Key) {
        self.reclaim(key, Claim::Race);
    }

    fn reclaim(&mut self, key: &Key, claim: Claim) {
        let position = self
            .writes
            .iter()
            .position(|w| w.key().as_ref() == Some(key));
        if let Some(held) = position.and_then(|i| self.claims.0.get_mut(i)) {
            *held = claim;
        }
    }

    /// The writes of `other`, each a lost race when it fails, whatever it claimed there.
    pub fn push_races(&mut self, other: Transaction) {
        self.push_all(other.writes);
    }

    /// `writes`, each a lost race when it fails.
    pub fn push_all(&mut self, writes: impl IntoIterator<Item = Write>) {
        for write in writes {
            self.push(write);
        }
    }

    /// The writes of `other`, with what they claim.
    pub fn append(&mut self, other: Transaction) {
        self.writes.extend(other.writes);
        self.claims.0.extend(other.claims.0);
    }

    fn add(&mut self, write: Write, claim: Claim) {
        self.writes.push(write);
        self.claims.0.push(claim);
    }
}

impl Claims {
    fn of(&self, failure: &FailedCondition) -> Option<&Claim> {
        self.0.get(failure.index)
    }

    /// The claimed values that another end user holds: request path and holder, in write order.
    pub fn taken<'a>(
        &'a self,
        failed: &'a [FailedCondition],
    ) -> impl Iterator<Item = (&'a str, u64)> {
        failed.iter().filter_map(|failure| {
            let Some(Claim::Value { claimant, path }) = self.of(failure) else {
                return None;
            };
            let holder = failure.existing.as_ref().and_then(owner::of)?;
            (holder != *claimant).then_some((path.as_str(), holder))
        })
    }

    /// The first exclusive claim that failed: its request path and message.
    pub fn exclusive_conflict(&self, failed: &[FailedCondition]) -> Option<(&'static str, &str)> {
        failed.iter().find_map(|failure| match self.of(failure) {
            Some(Claim::Exclusive(path, message)) => Some((*path, message.as_str())),
            _ => None,
        })
    }

    /// The earlier record a replayed request met.
    pub fn replayed(&self, failed: &[FailedCondition]) -> Option<Item> {
        failed.iter().find_map(|failure| match self.of(failure) {
            Some(Claim::Replay) => failure.existing.clone(),
            _ => None,
        })
    }

    /// Whether the request's idempotency record failed to complete.
    pub fn record_lost(&self, failed: &[FailedCondition]) -> bool {
        failed
            .iter()
            .any(|failure| matches!(self.of(failure), Some(Claim::Record)))
    }

    /// The noted writes that failed, each with its note and the item it met.
    pub fn notes(&self, failed: &[FailedCondition]) -> Vec<(&'static str, Option<Item>)> {
        failed
            .iter()
            .filter_map(|failure| match self.of(failure) {
                Some(Claim::Noted(note)) => Some((*note, failure.existing.clone())),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Condition;
    use crate::store::item::Kind;

    fn claim_of(value: &str) -> Write {
        Write::Put {
            item: owner::item(
                Kind::UidIndex,
                Key::new(format!("T#1#UID#{value}"), "Email"),
                0,
            ),
            condition: Some(Condition::NotExists),
        }
    }

    #[test]
    fn one_transaction_claims_values_for_several_end_users() {
        let mut tx = Transaction::new();
        tx.claim(claim_of("a@example.com"), 7, "target.uids[0]");
        tx.claim(claim_of("b@example.com"), 8, "source.uids[0]");
        tx.claim(claim_of("c@example.com"), 8, "source.uids[1]");
        let met = |holder: u64| {
            Some(owner::item(
                Kind::UidIndex,
                Key::new("T#1#UID#x", "Email"),
                holder,
            ))
        };
        let failed = [
            // Held by end user 8: taken, for the claim of end user 7.
            FailedCondition {
                index: 0,
                existing: met(8),
            },
            // Held by its own claimant already: not a conflict.
            FailedCondition {
                index: 1,
                existing: met(8),
            },
            FailedCondition {
                index: 2,
                existing: met(9),
            },
        ];
        let taken: Vec<(&str, u64)> = tx.claims.taken(&failed).collect();
        assert_eq!(taken, [("target.uids[0]", 8), ("source.uids[1]", 9)]);
    }
}
