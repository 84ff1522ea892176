//! Writes applied together, each with what its failed condition means to the caller.

use super::{FailedCondition, Write, owner};

pub struct Transaction {
    pub writes: Vec<Write>,
    pub claims: Claims,
}

/// What a write claims, when its failed condition is more than a lost race.
enum Claim {
    /// A value for the claimant, at this request field path: another end user holding it is a
    /// conflict to report.
    Value(String),
    /// Something only one may hold (a channel's open ticket): failing is a conflict, named by
    /// this request field and message.
    Exclusive(&'static str, String),
}

/// Per write, what it claims for `claimant`. Every other failed condition (an ID block taken,
/// the record changed or gone, an index item moved) is a lost race.
pub struct Claims {
    claimant: u64,
    claims: Vec<Option<Claim>>,
}

impl Transaction {
    pub fn new(claimant: u64) -> Self {
        Transaction {
            writes: Vec::new(),
            claims: Claims {
                claimant,
                claims: Vec::new(),
            },
        }
    }

    pub fn push(&mut self, write: Write, claimed_path: Option<String>) {
        self.writes.push(write);
        self.claims.claims.push(claimed_path.map(Claim::Value));
    }

    /// `write`, whose failed condition is a conflict on `path` described by `message`.
    pub fn push_exclusive(&mut self, write: Write, path: &'static str, message: String) {
        self.writes.push(write);
        self.claims
            .claims
            .push(Some(Claim::Exclusive(path, message)));
    }
}

impl Claims {
    /// The claimed values that another end user holds: request path and holder, in write order.
    pub fn taken<'a>(
        &'a self,
        failed: &'a [FailedCondition],
    ) -> impl Iterator<Item = (&'a str, u64)> {
        failed.iter().filter_map(|failure| {
            let Some(Some(Claim::Value(path))) = self.claims.get(failure.index) else {
                return None;
            };
            let holder = failure.existing.as_ref().and_then(owner::of)?;
            (holder != self.claimant).then_some((path.as_str(), holder))
        })
    }

    /// The first exclusive claim that failed: its request path and message.
    pub fn exclusive_conflict(&self, failed: &[FailedCondition]) -> Option<(&'static str, &str)> {
        failed
            .iter()
            .find_map(|failure| match self.claims.get(failure.index) {
                Some(Some(Claim::Exclusive(path, message))) => Some((*path, message.as_str())),
                _ => None,
            })
    }
}
