//! Use cases, written against the storage port.

pub mod account;
pub mod anonymize;
pub mod change_events;
pub mod consent;
pub mod contact_sync;
pub mod crm;
pub mod duplicates;
pub mod end_users;
pub mod erasure;
pub mod idempotency;
pub mod inbound;
pub mod merges;
pub mod retention;
mod suppression;
pub mod tickets;
pub mod timeline;
pub mod uids;
mod unit_of_work;
pub mod upsert;

pub use unit_of_work::Record;

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::end_users;
    use super::uids::{self, AssignBody, AssignRequest};
    use crate::domain::Secret;
    use crate::domain::end_user::EndUserBody;
    use crate::domain::{TenantId, Timestamp};
    use crate::store::memory::MemoryTable;
    use crate::vault::local::LocalKeys;
    use crate::vault::suppression::Suppressions;

    fn suppressions() -> Suppressions {
        let key = LocalKeys::generate_base64().expect("a key");
        Suppressions::new(LocalKeys::from_base64(&Secret::new(key)).expect("a local key"))
    }

    /// Create+delete churn leaves nothing behind, and the ID block guards of other writes go
    /// once their time to live has passed: the embedded table does not grow.
    #[tokio::test]
    async fn churn_leaves_an_empty_embedded_table() {
        let now = Arc::new(AtomicI64::new(Timestamp::now().unix_seconds()));
        let clock = Arc::clone(&now);
        let table = MemoryTable::with_clock(Box::new(move || clock.load(Ordering::Relaxed)));
        let tenant = TenantId::new(1).expect("tenant");
        let suppressions = suppressions();
        let body: EndUserBody = serde_json::from_value(serde_json::json!({
            "customerRef": "churn", "uids": [{"uidType": "Email", "uid": "churn@example.com"}]
        }))
        .expect("a body");
        for n in 0..3_000 {
            let user = end_users::create(&table, &suppressions, tenant, &body, None)
                .await
                .expect("create");
            if n % 10 == 0 {
                let assign = AssignRequest::parse(AssignBody {
                    uid: Some(format!("visitor-{n}")),
                    end_user_id: Some(user.id),
                    uid_type: Some("Webchat".into()),
                    is_primary: None,
                    consent: None,
                })
                .expect("an assign request");
                uids::assign(&table, &suppressions, tenant, &assign, None)
                    .await
                    .expect("assign");
            }
            end_users::delete(
                &table,
                &suppressions,
                tenant,
                user.id,
                &Default::default(),
                None,
            )
            .await
            .expect("delete");
        }
        // Creates write no guard; the 300 assigns each left one, which lives a day, as does
        // each change's outbox item (3,000 creates, 300 assigns, 3,000 deletes).
        assert_eq!(table.item_count().expect("count"), 300 + 6_300);
        now.fetch_add(2 * 24 * 60 * 60, Ordering::Relaxed);
        assert_eq!(table.item_count().expect("count"), 0);
    }

    /// Every item the use cases write names its kind.
    #[tokio::test]
    async fn every_item_written_names_its_kind() {
        use std::collections::HashSet;

        use crate::store::Kind;
        let table = MemoryTable::new();
        let tenant = TenantId::new(1).expect("tenant");
        let suppressions = suppressions();
        let body: EndUserBody = serde_json::from_value(serde_json::json!({
            "customerRef": "K-1", "uids": [{"uidType": "Email", "uid": "kind@example.com"}]
        }))
        .expect("a body");
        let user = end_users::create(&table, &suppressions, tenant, &body, None)
            .await
            .expect("create");
        let assign = AssignRequest::parse(AssignBody {
            uid: Some("+32470000321".into()),
            end_user_id: Some(user.id),
            uid_type: Some("Phone".into()),
            is_primary: None,
            consent: None,
        })
        .expect("an assign request");
        uids::assign(&table, &suppressions, tenant, &assign, None)
            .await
            .expect("assign");
        let items = table.snapshot().expect("snapshot");
        let kinds: HashSet<Option<Kind>> = items.iter().map(Kind::of).collect();
        assert_eq!(
            kinds,
            HashSet::from([
                Some(Kind::EndUser),
                Some(Kind::UidIndex),
                Some(Kind::CustomerRef),
                Some(Kind::IdBlock),
                Some(Kind::Outbox),
                Some(Kind::Timeline)
            ]),
            "{items:?}"
        );
    }

    /// Every write of a use case commits through the unit of work, the one place where what
    /// SPEC 7 adds to every write (version conditions, idempotency records, the outbox) goes;
    /// only the background jobs with no caller to answer (the retention sweep, the erasure of
    /// an anonymized end user's history) write themselves.
    #[test]
    fn use_cases_write_through_the_unit_of_work_only() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/service");
        let mut checked = 0;
        let mut pending = vec![root.clone()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("the service sources") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let name = path.strip_prefix(&root).expect("under service");
                let name = name.to_string_lossy();
                let background = ["retention.rs", "erasure.rs"].contains(&name.as_ref());
                if name == "unit_of_work.rs" || background || name == "mod.rs" {
                    continue;
                }
                let source = std::fs::read_to_string(&path).expect("readable");
                for call in ["table.write(", "table.replace(", "table.remove("] {
                    assert!(!source.contains(call), "{name} calls {call} itself");
                }
                checked += 1;
            }
        }
        assert!(checked >= 6, "only {checked} files checked");
    }
}
