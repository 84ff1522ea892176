//! The `end-user-sync` family (SPEC 10): an end user synced with the tenant's CRM (its function:
//! `functions/end-user-sync`).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};
use serde::Serialize;

use crate::crm::CrmClient;
use crate::domain::Timestamp;
use crate::domain::crm::SyncConflict;
use crate::domain::end_user::EndUserView;
use crate::error::ApiError;
use crate::http::request::Call;
use crate::http::response::{Reply, json};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::crm::{self, Connector, Synced};
use crate::store::Table;
use crate::vault::Vault;
use crate::vault::suppression::Suppressions;

use super::keyed::{self, record};
use super::path_id;

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Sync,
}

const ROUTES: &[Route<Op>] = &[Route::new(
    Method::POST,
    "/api/EndUsers/{id}/sync",
    AuthPolicy::Jwt,
    Op::Sync,
)];

pub struct CrmSync {
    table: Arc<dyn Table>,
    vault: Arc<Vault>,
    suppressions: Arc<Suppressions>,
    crm: CrmClient,
}

impl CrmSync {
    pub fn new(
        table: Arc<dyn Table>,
        vault: Arc<Vault>,
        suppressions: Arc<Suppressions>,
        crm: CrmClient,
    ) -> Self {
        CrmSync {
            table,
            vault,
            suppressions,
            crm,
        }
    }
}

/// The answer of a sync: the end user, when, and the UIDs left with their holders.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct SyncedView<'a> {
    #[serde(flatten)]
    user: EndUserView,
    synced_at: Timestamp,
    conflicts: &'a [SyncConflict],
}

/// 200 with the synced end user.
fn synced(synced: &Synced) -> Result<Reply, ApiError> {
    let view = SyncedView {
        user: synced.user.view(),
        synced_at: synced.synced_at,
        conflicts: &synced.conflicts,
    };
    Ok(json(StatusCode::OK, &view)?.tagged(synced.user.version))
}

#[async_trait]
impl Family for CrmSync {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let table = self.table.as_ref();
        let tenant = call.tenant()?;
        let connector = Connector {
            vault: &self.vault,
            suppressions: &self.suppressions,
            crm: &self.crm,
        };
        match op {
            Op::Sync => {
                keyed::once(table, call, synced, |keyed| async move {
                    let id = path_id(call, "id")?;
                    crm::sync(table, &connector, tenant, id, record(&keyed)).await
                })
                .await
            }
        }
    }
}

/// The schemas of the family's answers.
#[cfg(feature = "openapi")]
pub fn schemas(found: &mut Vec<super::NamedSchema>) {
    super::add::<SyncedView>(found);
}
