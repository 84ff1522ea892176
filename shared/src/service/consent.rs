//! The consent history of an end user's UIDs (`GET /api/EndUsers/{id}/consent`, SPEC 9): one
//! read, as each UID carries its changes on the record.

use serde::Serialize;

use super::end_users::load;
use crate::domain::TenantId;
use crate::domain::consent::ConsentEntry;
use crate::error::ApiError;
use crate::store::Table;

/// The answer: every consent change, newest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentHistory {
    pub items: Vec<ConsentEntry>,
}

/// The consent history of end user `id`: 404 when unknown, 410 when merged.
pub async fn history(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
) -> Result<ConsentHistory, ApiError> {
    let user = load(table, tenant, id).await?;
    Ok(ConsentHistory {
        items: user.consent_entries(),
    })
}
