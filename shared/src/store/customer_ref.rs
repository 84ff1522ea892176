//! customerRef index items: `T#{tenant}#REF#{customerRef}` / `REF`, pointing at the end user that
//! holds the tenant's own customer reference (unique within the tenant).

use super::Key;
use crate::domain::TenantId;

pub fn key(tenant: TenantId, customer_ref: &str) -> Key {
    Key::new(format!("T#{tenant}#REF#{customer_ref}"), "REF")
}
