//! The background jobs' index, `GSI3` (sparse, keys only). The retention sweep's two kinds of
//! entries:
//!
//! - a tenant's account: `GSI3PK = SWEEP#TENANTS#{customerID mod 16}`, `GSI3SK` = its current
//!   `ticketCleanupRetentionDays`, so the sweep finds every tenant and its retention in 16 small
//!   partitions (none shared by every tenant) without a read per tenant;
//! - a closed ticket: `GSI3PK = T#{customerID}#CLOSED`, `GSI3SK` = `closedAt` (epoch seconds), so
//!   the tickets due under the tenant's current retention are one bounded range of its own
//!   partition.
//!
//! and the pending erasure jobs of anonymized end users (`store::erasure`).

use super::{AttributeValue, Index, Item, Key, Projection, item::number};
use crate::domain::{TenantId, Timestamp};

pub const SWEEP: Index = Index {
    name: "GSI3",
    partition_key: "GSI3PK",
    sort_key: "GSI3SK",
    projection: Projection::KeysOnly,
};

/// How many partitions the tenants' entries are spread over.
pub const TENANT_SHARDS: u64 = 16;

pub const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

pub fn tenants_partition(shard: u64) -> String {
    format!("SWEEP#TENANTS#{shard}")
}

/// The entry attributes of a tenant's account.
pub fn tenant_entry(tenant: TenantId, retention_days: u16) -> [(&'static str, AttributeValue); 2] {
    [
        (
            SWEEP.partition_key,
            AttributeValue::S(tenants_partition(tenant.get() % TENANT_SHARDS)),
        ),
        (SWEEP.sort_key, number(retention_days)),
    ]
}

/// The partition of a tenant's closed tickets.
pub fn closed_partition(tenant: TenantId) -> String {
    format!("T#{tenant}#CLOSED")
}

/// The entry attributes of a ticket closed at `closed_at`.
pub fn closed_entry(tenant: TenantId, closed_at: Timestamp) -> [(&'static str, AttributeValue); 2] {
    [
        (
            SWEEP.partition_key,
            AttributeValue::S(closed_partition(tenant)),
        ),
        (SWEEP.sort_key, number(closed_at.unix_seconds().max(0))),
    ]
}

/// The latest `closedAt` (epoch seconds) due for removal at `now` under `retention_days`.
pub fn due_up_to(now: Timestamp, retention_days: u16) -> Option<u64> {
    let latest = now.unix_seconds() - i64::from(retention_days) * SECONDS_PER_DAY;
    u64::try_from(latest).ok()
}

/// The tenant and retention a tenant entry names.
pub fn tenant_of(entry: &Item) -> Option<(TenantId, u16)> {
    let key = Key::of(entry)?;
    let tenant = TenantId::new(key.pk.strip_prefix("T#")?.parse().ok()?)?;
    let days = match entry.get(SWEEP.sort_key) {
        Some(AttributeValue::N(n)) => n.parse().ok()?,
        _ => return None,
    };
    Some((tenant, days))
}

/// The ticket a closed-ticket entry of `tenant` names.
pub fn ticket_of(tenant: TenantId, entry: &Item) -> Option<u64> {
    let key = Key::of(entry)?;
    let prefix = format!("T#{tenant}#TK#");
    key.pk.strip_prefix(&prefix)?.parse().ok()
}
