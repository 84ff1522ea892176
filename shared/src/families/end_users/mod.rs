//! The `end-users` family: `/api/EndUsers...` (its function: `functions/end-users`); the
//! integrators' bulk and upsert by reference are the `imports` family's.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};

use crate::domain::TenantId;
use crate::domain::consent::ConsentStatus;
use crate::domain::end_user::{self, EndUser, EndUserBody, ListQuery, SORT_FIELDS};
use crate::domain::errors::FieldErrors;
use crate::domain::fields::CountryCode;
use crate::domain::page::{SortOrder, parse_search, parse_sort_field};
use crate::domain::precondition::Unmet;
use crate::error::ApiError;
use crate::http::cursor::CursorKey;
use crate::http::request::{Call, QueryParams};
use crate::http::response::{Reply, created, json, no_content};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::end_users;
use crate::store::Table;
use crate::vault::suppression::Suppressions;

use super::keyed::{self, record};
use super::{page_request, paging, path_id};

#[derive(Clone, Copy, Debug)]
pub enum Op {
    List,
    Create,
    ByUid,
    Get,
    Update,
    Delete,
}

const ROUTES: &[Route<Op>] = &[
    Route::new(Method::GET, "/api/EndUsers", AuthPolicy::Jwt, Op::List),
    Route::new(Method::POST, "/api/EndUsers", AuthPolicy::Jwt, Op::Create),
    Route::new(
        Method::GET,
        "/api/EndUsers/byUid",
        AuthPolicy::Jwt,
        Op::ByUid,
    ),
    Route::new(Method::GET, "/api/EndUsers/{id}", AuthPolicy::Jwt, Op::Get),
    Route::new(
        Method::PUT,
        "/api/EndUsers/{id}",
        AuthPolicy::Jwt,
        Op::Update,
    ),
    Route::new(
        Method::DELETE,
        "/api/EndUsers/{id}",
        AuthPolicy::Jwt,
        Op::Delete,
    ),
];

pub struct EndUsers {
    table: Arc<dyn Table>,
    /// Signs the lists' cursors.
    cursors: CursorKey,
    /// Screens linked addresses and keeps erased opted-out ones (SPEC 9).
    suppressions: Arc<Suppressions>,
}

impl EndUsers {
    pub fn new(table: Arc<dyn Table>, cursors: CursorKey, suppressions: Arc<Suppressions>) -> Self {
        EndUsers {
            table,
            cursors,
            suppressions,
        }
    }
}

/// The query of `GET /api/EndUsers`, every invalid parameter named.
fn list_query(query: &QueryParams) -> Result<ListQuery, ApiError> {
    let mut errors = FieldErrors::default();
    let page = page_request(query, &mut errors);
    let sort_by = query.read("sortBy", &mut errors, SORT_FIELDS[0].1, |raw| {
        parse_sort_field(raw, SORT_FIELDS)
    });
    let order = query.read("sortOrder", &mut errors, SortOrder::Asc, |raw| {
        SortOrder::parse(raw, SortOrder::Asc)
    });
    let search = query.read("search", &mut errors, None, parse_search);
    let mut attributes = Vec::new();
    for (key, value) in query.prefixed("attributes.") {
        match end_user::attribute_filter(key, value) {
            Ok(filter) => attributes.push(filter),
            Err(message) => errors.add(format!("attributes.{key}"), message),
        }
    }
    let consent = query.read("consent", &mut errors, None, |raw| {
        raw.map(ConsentStatus::parse_filter).transpose()
    });
    Ok(errors.into_result(ListQuery {
        page,
        sort_by,
        order,
        search,
        attributes,
        consent,
    })?)
}

/// 200 with one end user and its `ETag`.
pub(super) fn one(user: &EndUser) -> Result<Reply, ApiError> {
    Ok(json(StatusCode::OK, &user.view())?.tagged(user.version))
}

/// 201 with a new end user, its `Location` and `ETag`.
pub(super) fn new_one(user: &EndUser) -> Result<Reply, ApiError> {
    let location = format!("/api/EndUsers/{}", user.id);
    Ok(created(&location, &user.view())?.tagged(user.version))
}

/// `GET /api/EndUsers/{id}`: 304 while the caller's copy (`If-None-Match`) is current.
async fn read_one(table: &dyn Table, tenant: TenantId, call: &Call<'_>) -> Result<Reply, ApiError> {
    let pre = call.preconditions()?;
    let user = end_users::get(table, tenant, path_id(call, "id")?).await?;
    match pre.allow_read(user.version) {
        Err(Unmet::NotModified(version)) => Ok(Reply::not_modified(version)),
        Err(failed) => Err(failed.into()),
        Ok(()) => one(&user),
    }
}

/// `country` of byUid: optional, reads national phone numbers.
fn country(query: &QueryParams) -> Result<Option<CountryCode>, ApiError> {
    let mut errors = FieldErrors::default();
    let country = query.read("country", &mut errors, None, |raw| {
        match raw.map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => CountryCode::parse(code).map(Some),
            None => Ok(None),
        }
    });
    Ok(errors.into_result(country)?)
}

#[async_trait]
impl Family for EndUsers {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let table = self.table.as_ref();
        let suppressions = self.suppressions.as_ref();
        let tenant = call.tenant()?;
        match op {
            Op::List => match paging::end_user_cursor(call.query(), &self.cursors, tenant)? {
                Some(paging) => {
                    paging::end_users_by_cursor(table, tenant, &self.cursors, paging).await
                }
                None => {
                    let query = list_query(call.query())?;
                    json(
                        StatusCode::OK,
                        &end_users::list(table, tenant, &query).await?,
                    )
                }
            },
            Op::Create => {
                keyed::once(table, call, new_one, |keyed| async move {
                    let body: EndUserBody = call.json()?;
                    end_users::create(table, suppressions, tenant, &body, record(&keyed)).await
                })
                .await
            }
            Op::ByUid => {
                let uid = call
                    .query()
                    .single("uid")
                    .map_err(|m| ApiError::Validation(FieldErrors::single("uid", m)))?;
                let country = country(call.query())?;
                let user = end_users::by_uid(table, tenant, uid, country).await?;
                one(&user)
            }
            Op::Get => read_one(table, tenant, call).await,
            Op::Update => {
                let id = path_id(call, "id")?;
                let pre = call.preconditions()?;
                let body: EndUserBody = call.json()?;
                let updated =
                    end_users::update(table, suppressions, tenant, id, &body, &pre, None).await?;
                one(&updated)
            }
            Op::Delete => {
                let pre = call.preconditions()?;
                let id = path_id(call, "id")?;
                end_users::delete(table, suppressions, tenant, id, &pre, None).await?;
                Ok(no_content())
            }
        }
    }
}
