//! Suppression items (SPEC 9): `T#{tenant}#SUPPRESSED#{digest}` / `SUPPRESSED`, the keyed digest
//! of an address whose opted-out holder was erased (hex, `vault::suppression`), and nothing
//! else.

use super::item::{Kind, keyed};
use super::{Condition, Item, Key, Write};
use crate::domain::TenantId;

const SK: &str = "SUPPRESSED";

pub fn key(tenant: TenantId, digest: &str) -> Key {
    Key::new(format!("T#{tenant}#SUPPRESSED#{}", digest), SK)
}

/// Keeps `digest` suppressed (again, when it is already: the same item).
pub fn keep(tenant: TenantId, digest: &str) -> Write {
    Write::Put {
        item: keyed(Kind::Suppression, key(tenant, digest), Item::default()),
        condition: None,
    }
}

/// The write applies only while `digest` is not suppressed.
pub fn not_suppressed(tenant: TenantId, digest: &str) -> Write {
    Write::Check {
        key: key(tenant, digest),
        condition: Condition::NotExists,
    }
}
