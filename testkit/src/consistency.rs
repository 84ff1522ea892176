//! The store's invariants, read directly from a table: what the model-based and fault-injection
//! tests check after every step.

use std::collections::BTreeMap;

use answerpal::domain::TenantId;
use answerpal::domain::end_user::EndUser;
use answerpal::domain::uid::Uid;
use answerpal::store::{self, Key, Table, customer_ref, owner, uid_index};

/// Asserts, for `tenant`, over the end users `users` (live, merged or gone) and the UID values and
/// customerRefs a test uses, that every live end user holds an index item for each of its UIDs
/// and its customerRef, that every such index item names a live end user holding its value, and
/// so that no value is held twice. Returns the live end users.
pub async fn assert_consistent(
    table: &dyn Table,
    tenant: TenantId,
    users: &[u64],
    values: &[Uid],
    refs: &[&str],
) -> BTreeMap<u64, EndUser> {
    let mut live = BTreeMap::new();
    for id in users {
        if let Some(item) = table
            .get(&store::end_user::key(tenant, *id))
            .await
            .expect("read an end user")
        {
            // A merged end user's tombstone is not live.
            let record = store::end_user::live_from_item(item).expect("an end user's record");
            if let Some(user) = record {
                live.insert(*id, user);
            }
        }
    }
    let owner_of = |key: Key| async move {
        table
            .get(&key)
            .await
            .expect("read an index item")
            .map(|item| owner::of(&item).expect("an index item names its holder"))
    };
    for user in live.values() {
        for uid in &user.uids {
            let holder = owner_of(uid_index::key(tenant, &uid.as_uid())).await;
            assert_eq!(
                holder,
                Some(user.id),
                "index item of {uid:?} of {}",
                user.id
            );
        }
        if let Some(reference) = &user.customer_ref {
            let holder = owner_of(customer_ref::key(tenant, reference)).await;
            assert_eq!(
                holder,
                Some(user.id),
                "customerRef {reference} of {}",
                user.id
            );
        }
    }
    for uid in values {
        if let Some(holder) = owner_of(uid_index::key(tenant, uid)).await {
            let held = live.get(&holder).is_some_and(|u| u.find_uid(uid).is_some());
            assert!(
                held,
                "{uid:?} is indexed to {holder}, which does not hold it"
            );
        }
    }
    for reference in refs {
        if let Some(holder) = owner_of(customer_ref::key(tenant, reference)).await {
            let held = live
                .get(&holder)
                .is_some_and(|u| u.customer_ref.as_deref() == Some(*reference));
            assert!(
                held,
                "customerRef {reference} is indexed to {holder}, which does not hold it"
            );
        }
    }
    live
}
