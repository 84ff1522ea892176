//! Writes applied together, each with what its failed condition means to the caller.

use super::{FailedCondition, Write, owner};

pub struct Transaction {
    pub writes: Vec<Write>,
    pub claims: Claims,
}

/// Per write, the request field path of a value it claims for `claimant`, when it claims one.
/// Another end user holding such a value is a conflict to report; every other failed condition
/// (an ID block taken, the record changed or gone, an index item moved) is a lost race.
pub struct Claims {
    claimant: u64,
    paths: Vec<Option<String>>,
}

impl Transaction {
    pub fn new(claimant: u64) -> Self {
        Transaction {
            writes: Vec::new(),
            claims: Claims {
                claimant,
                paths: Vec::new(),
            },
        }
    }

    pub fn push(&mut self, write: Write, claimed_path: Option<String>) {
        self.writes.push(write);
        self.claims.paths.push(claimed_path);
    }
}

impl Claims {
    /// The claimed values that another end user holds: request path and holder, in write order.
    pub fn taken<'a>(
        &'a self,
        failed: &'a [FailedCondition],
    ) -> impl Iterator<Item = (&'a str, u64)> {
        failed.iter().filter_map(|failure| {
            let path = self.paths.get(failure.index)?.as_deref()?;
            let holder = failure.existing.as_ref().and_then(owner::of)?;
            (holder != self.claimant).then_some((path, holder))
        })
    }
}
