//! UID index items: `T#{tenant}#UID#{normalized value}` / `{uidType}`, one per UID of every end
//! user, pointing at its holder. They make a value unique within a tenant and let byUid find all
//! types of a value in one partition.

use super::{Key, Write, owner};
use crate::domain::TenantId;
use crate::domain::uid::Uid;

pub fn key(tenant: TenantId, uid: &Uid) -> Key {
    Key::new(
        format!("T#{tenant}#UID#{}", uid.value()),
        uid.uid_type().as_str(),
    )
}

/// A check that end user `end_user_id` still holds `uid`.
pub fn held(tenant: TenantId, uid: &Uid, end_user_id: u64) -> Write {
    Write::Check {
        key: key(tenant, uid),
        condition: owner::held_by(end_user_id),
    }
}
