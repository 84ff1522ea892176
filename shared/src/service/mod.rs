//! Use cases, written against the storage port.

pub mod account;
pub mod end_users;
pub mod inbound;
pub mod retention;
pub mod tickets;
pub mod uids;
mod unit_of_work;

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::end_users;
    use super::uids::{self, AssignBody, AssignRequest};
    use crate::domain::end_user::EndUserBody;
    use crate::domain::{TenantId, Timestamp};
    use crate::store::memory::MemoryTable;

    /// Create+delete churn leaves nothing behind, and the ID block guards of other writes go
    /// once their time to live has passed: the embedded table does not grow.
    #[tokio::test]
    async fn churn_leaves_an_empty_embedded_table() {
        let now = Arc::new(AtomicI64::new(Timestamp::now().unix_seconds()));
        let clock = Arc::clone(&now);
        let table = MemoryTable::with_clock(Box::new(move || clock.load(Ordering::Relaxed)));
        let tenant = TenantId::new(1).expect("tenant");
        let body: EndUserBody = serde_json::from_value(serde_json::json!({
            "customerRef": "churn", "uids": [{"uidType": "Email", "uid": "churn@example.com"}]
        }))
        .expect("a body");
        for n in 0..3_000 {
            let user = end_users::create(&table, tenant, &body)
                .await
                .expect("create");
            if n % 10 == 0 {
                let assign = AssignRequest::parse(AssignBody {
                    uid: Some(format!("visitor-{n}")),
                    end_user_id: Some(user.id),
                    uid_type: Some("Webchat".into()),
                    is_primary: None,
                })
                .expect("an assign request");
                uids::assign(&table, tenant, &assign).await.expect("assign");
            }
            end_users::delete(&table, tenant, user.id)
                .await
                .expect("delete");
        }
        // Creates write no guard; the 300 assigns each left one, which lives a day.
        assert_eq!(table.item_count().expect("count"), 300);
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
        let body: EndUserBody = serde_json::from_value(serde_json::json!({
            "customerRef": "K-1", "uids": [{"uidType": "Email", "uid": "kind@example.com"}]
        }))
        .expect("a body");
        let user = end_users::create(&table, tenant, &body)
            .await
            .expect("create");
        let assign = AssignRequest::parse(AssignBody {
            uid: Some("+32470000321".into()),
            end_user_id: Some(user.id),
            uid_type: Some("Phone".into()),
            is_primary: None,
        })
        .expect("an assign request");
        uids::assign(&table, tenant, &assign).await.expect("assign");
        let items = table.snapshot().expect("snapshot");
        let kinds: HashSet<Option<Kind>> = items.iter().map(Kind::of).collect();
        assert_eq!(
            kinds,
            HashSet::from([
                Some(Kind::EndUser),
                Some(Kind::UidIndex),
                Some(Kind::CustomerRef),
                Some(Kind::IdBlock)
            ]),
            "{items:?}"
        );
    }
}
