//! The `end-user-uids` family: `/api/EndUserUIDs/...` (its function: `functions/end-user-uids`).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};

use crate::error::ApiError;
use crate::http::request::Call;
use crate::http::response::{Reply, json};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::uids::{self, AssignBody, AssignRequest, Assigned};
use crate::store::Table;
use crate::vault::suppression::Suppressions;

use super::keyed::{self, record};

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Assign,
}

const ROUTES: &[Route<Op>] = &[Route::new(
    Method::POST,
    "/api/EndUserUIDs/assign",
    AuthPolicy::Jwt,
    Op::Assign,
)];

pub struct EndUserUids {
    table: Arc<dyn Table>,
    /// Screens linked addresses (SPEC 9).
    suppressions: Arc<Suppressions>,
}

impl EndUserUids {
    pub fn new(table: Arc<dyn Table>, suppressions: Arc<Suppressions>) -> Self {
        EndUserUids {
            table,
            suppressions,
        }
    }
}

/// 201 with a new link, 200 with one that was there.
fn linked(assigned: &Assigned) -> Result<Reply, ApiError> {
    match assigned {
        Assigned::Existing(link) => json(StatusCode::OK, link),
        Assigned::Created(link) => json(StatusCode::CREATED, link),
    }
}

#[async_trait]
impl Family for EndUserUids {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let tenant = call.tenant()?;
        match op {
            Op::Assign => {
                let table = self.table.as_ref();
                keyed::once(table, call, linked, |keyed| async move {
                    let request = AssignRequest::parse(call.json::<AssignBody>()?)?;
                    let suppressions = self.suppressions.as_ref();
                    uids::assign(table, suppressions, tenant, &request, record(&keyed)).await
                })
                .await
            }
        }
    }
}
