//! The `end-user-imports` family: the integrators' writes keyed by their own data, `POST
//! /api/EndUsers/bulk` and `PUT /api/EndUsers/byRef/{customerRef}` (SPEC 7; its function:
//! `functions/end-user-imports`).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::Method;

use crate::domain::TenantId;
use crate::domain::end_user::EndUserBody;
use crate::error::ApiError;
use crate::http::request::Call;
use crate::http::response::Reply;
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::upsert::{self, Upserted};
use crate::store::Table;
use crate::vault::suppression::Suppressions;

use super::end_users::{new_one, one};
use super::path_text;

mod bulk;

#[cfg(feature = "openapi")]
pub(super) use bulk::schemas;

pub use bulk::IN_FLIGHT as BULK_IN_FLIGHT;

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Upsert,
    Bulk,
}

const ROUTES: &[Route<Op>] = &[
    Route::new(
        Method::POST,
        "/api/EndUsers/bulk",
        AuthPolicy::Jwt,
        Op::Bulk,
    ),
    Route::new(
        Method::PUT,
        "/api/EndUsers/byRef/{customerRef}",
        AuthPolicy::Jwt,
        Op::Upsert,
    ),
];

pub struct Imports {
    table: Arc<dyn Table>,
    /// Screens linked addresses and keeps erased opted-out ones (SPEC 9).
    suppressions: Arc<Suppressions>,
}

impl Imports {
    pub fn new(table: Arc<dyn Table>, suppressions: Arc<Suppressions>) -> Self {
        Imports {
            table,
            suppressions,
        }
    }
}

/// `PUT /api/EndUsers/byRef/{customerRef}`: 201 when it created the end user, 200 when it
/// updated it.
async fn upsert(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    call: &Call<'_>,
) -> Result<Reply, ApiError> {
    let reference = path_text(call, "customerRef")?;
    let pre = call.preconditions()?;
    let body: EndUserBody = call.json()?;
    match upsert::upsert(table, suppressions, tenant, &reference, &body, &pre, None).await? {
        Upserted::Created(user) => new_one(&user),
        Upserted::Updated(user) => one(&user),
    }
}

#[async_trait]
impl Family for Imports {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let table = self.table.as_ref();
        let suppressions = self.suppressions.as_ref();
        let tenant = call.tenant()?;
        match op {
            Op::Upsert => upsert(table, suppressions, tenant, call).await,
            Op::Bulk => bulk::bulk(table, suppressions, tenant, call).await,
        }
    }
}
