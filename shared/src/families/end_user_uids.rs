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
}

impl EndUserUids {
    pub fn new(table: Arc<dyn Table>) -> Self {
        EndUserUids { table }
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
                let body: AssignBody = call.json()?;
                let request = AssignRequest::parse(body)?;
                match uids::assign(self.table.as_ref(), tenant, &request).await? {
                    Assigned::Existing(link) => json(StatusCode::OK, &link),
                    Assigned::Created(link) => json(StatusCode::CREATED, &link),
                }
            }
        }
    }
}
