//! The `openapi` family: `GET /api/openapi.json`, without credentials (its function:
//! `functions/openapi`). The document is `docs/openapi.json`, which the `answerpal-openapi` crate
//! generates from the route tables and the views and a test keeps current; only this family's
//! binary holds it.

use async_trait::async_trait;
use lambda_http::http::Method;

use crate::error::ApiError;
use crate::http::request::Call;
use crate::http::response::Reply;
use crate::http::router::{AuthPolicy, Family, Route};

/// The generated document.
pub const DOCUMENT: &str = include_str!("../../../docs/openapi.json");

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Document,
}

const ROUTES: &[Route<Op>] = &[Route::new(
    Method::GET,
    "/api/openapi.json",
    AuthPolicy::Public,
    Op::Document,
)];

pub struct OpenApi;

#[async_trait]
impl Family for OpenApi {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, _call: &Call<'_>) -> Result<Reply, ApiError> {
        match op {
            Op::Document => Ok(Reply::json_document(DOCUMENT)),
        }
    }
}
