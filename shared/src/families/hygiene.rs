//! The `end-user-hygiene` family (SPEC 9's identity hygiene): an end user's consent history and
//! its duplicate candidates (its function: `functions/end-user-hygiene`).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};

use crate::domain::TenantId;
use crate::error::ApiError;
use crate::families::path_id;
use crate::http::request::Call;
use crate::http::response::{Reply, json, no_content};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::{consent, duplicates};
use crate::store::Table;

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Consent,
    Duplicates,
    Dismiss,
}

const ROUTES: &[Route<Op>] = &[
    Route::new(
        Method::GET,
        "/api/EndUsers/{id}/consent",
        AuthPolicy::Jwt,
        Op::Consent,
    ),
    Route::new(
        Method::GET,
        "/api/EndUsers/{id}/duplicates",
        AuthPolicy::Jwt,
        Op::Duplicates,
    ),
    Route::new(
        Method::POST,
        "/api/EndUsers/{id}/duplicates/{otherID}/dismiss",
        AuthPolicy::Jwt,
        Op::Dismiss,
    ),
];

pub struct Hygiene {
    table: Arc<dyn Table>,
}

impl Hygiene {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Hygiene { table }
    }
}

#[async_trait]
impl Family for Hygiene {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let table = self.table.as_ref();
        let tenant = call.tenant()?;
        match op {
            Op::Consent => consent_history(table, tenant, call).await,
            Op::Duplicates => {
                let candidates =
                    duplicates::candidates(table, tenant, path_id(call, "id")?).await?;
                json(StatusCode::OK, &candidates)
            }
            Op::Dismiss => {
                let (id, other) = (path_id(call, "id")?, path_id(call, "otherID")?);
                duplicates::dismiss(table, tenant, id, other).await?;
                Ok(no_content())
            }
        }
    }
}

/// `GET /api/EndUsers/{id}/consent`.
async fn consent_history(
    table: &dyn Table,
    tenant: TenantId,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let history = consent::history(table, tenant, path_id(call, "id")?).await?;
    json(StatusCode::OK, &history)
}
