//! The endpoint families, one file each: its route table (method, path, auth policy) and the
//! handlers that read the request and call the services. A new route goes into its family's
//! table; a new family gets a file here, a function in `functions/` and a line in [`mount_all`].

pub mod crm_sync;
pub mod customers;
pub mod end_user_uids;
pub mod end_users;
pub mod hygiene;
pub mod imports;
mod keyed;
pub mod lifecycle;
pub mod openapi;
mod paging;
pub mod tickets;
pub mod timeline;
pub mod webhooks;

use std::sync::Arc;

use crate::config::ConfigError;
use crate::crm::CrmClient;
use crate::domain::errors::FieldErrors;
use crate::domain::page::PageRequest;
use crate::domain::parse_id;
use crate::error::ApiError;
use crate::http::Api;
use crate::http::request::{Call, QueryParams};
use crate::runtime::Resources;

pub use crm_sync::CrmSync;
pub use customers::Customers;
pub use end_user_uids::EndUserUids;
pub use end_users::EndUsers;
pub use hygiene::Hygiene;
pub use imports::{BULK_IN_FLIGHT, Imports};
pub use lifecycle::Lifecycle;
pub use openapi::OpenApi;
pub use tickets::Tickets;
pub use timeline::Timeline;
pub use webhooks::Webhooks;

/// A component schema: its name and itself.
#[cfg(feature = "openapi")]
pub type NamedSchema = (
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
);

/// `T`'s schema and those it refers to.
#[cfg(feature = "openapi")]
pub fn add<T: utoipa::ToSchema>(found: &mut Vec<NamedSchema>) {
    found.push((T::name().into_owned(), T::schema()));
    T::schemas(found);
}

/// The schemas of the families' own bodies and answers, which are not public types.
#[cfg(feature = "openapi")]
pub fn schemas() -> Vec<NamedSchema> {
    let mut found = Vec::new();
    crm_sync::schemas(&mut found);
    imports::schemas(&mut found);
    lifecycle::schemas(&mut found);
    webhooks::schemas(&mut found);
    found
}

/// `api` serving every family: the local server, and the suites that test the whole API. The
/// resources must hold a vault (tenant secrets) and the suppressions.
pub fn mount_all(api: Api, resources: &Resources) -> Result<Api, ConfigError> {
    let vault = resources
        .vault
        .clone()
        .ok_or(ConfigError::MissingSecretsKey)?;
    let suppressions = resources
        .suppressions
        .clone()
        .ok_or(ConfigError::MissingSuppressionKey)?;
    let table = &resources.table;
    Ok(api
        .mount(EndUsers::new(
            table.clone(),
            resources.cursors.clone(),
            suppressions.clone(),
        ))
        .mount(Imports::new(table.clone(), suppressions.clone()))
        .mount(Lifecycle::new(table.clone(), suppressions.clone()))
        .mount(Hygiene::new(table.clone()))
        .mount(OpenApi)
        .mount(EndUserUids::new(table.clone(), suppressions.clone()))
        .mount(Tickets::new(table.clone(), resources.cursors.clone()))
        .mount(Timeline::new(table.clone(), resources.cursors.clone()))
        .mount(CrmSync::new(
            table.clone(),
            Arc::clone(&vault),
            suppressions.clone(),
            resources
                .crm
                .clone()
                .unwrap_or_else(|| CrmClient::new(resources.connector)),
        ))
        .mount(Webhooks::new(
            table.clone(),
            Arc::clone(&vault),
            suppressions,
        ))
        .mount(
            Customers::new(resources.table.clone(), Arc::clone(&vault))
                .with_connector(resources.connector),
        ))
}

/// `pageNumber` and `pageSize` of a list; an invalid one is recorded in `errors`.
fn page_request(query: &QueryParams, errors: &mut FieldErrors) -> PageRequest {
    PageRequest {
        number: query.read("pageNumber", errors, 1, PageRequest::number),
        size: query.read("pageSize", errors, 1, PageRequest::size),
    }
}

/// The path parameter `name`, percent-decoded; a 400 naming `path` when it is not UTF-8.
fn path_text(call: &Call<'_>, name: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(call.param(name)?)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| ApiError::Validation(FieldErrors::single(name, "must be UTF-8")))
}

/// The path parameter `name` of a route (`{id}`, `{ticketID}`, `{channelID}`): a positive integer
/// of at most 2^53 - 1, else 400 naming it.
fn path_id(call: &Call<'_>, name: &str) -> Result<u64, ApiError> {
    parse_id(call.param(name)?).map_err(|m| ApiError::Validation(FieldErrors::single(name, m)))
}
