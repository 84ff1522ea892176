//! UID index items: `T#{tenant}#UID#{normalized value}` / `{uidType}`, one per UID of every end
//! user, pointing at its holder. They make a value unique within a tenant and let byUid find all
//! types of a value in one partition.

use super::Key;
use crate::domain::TenantId;
use crate::domain::uid::Uid;

pub fn key(tenant: TenantId, uid: &Uid) -> Key {
    Key::new(
        format!("T#{tenant}#UID#{}", uid.value()),
        uid.uid_type().as_str(),
    )
}
