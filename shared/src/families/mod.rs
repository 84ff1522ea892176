//! The endpoint families, one file each: its route table (method, path, auth policy) and the
//! handlers that read the request and call the services. A new route goes into its family's
//! table; a new family gets a file here, a function in `functions/` and a line in [`mount_all`].

pub mod customers;
pub mod end_user_uids;
pub mod end_users;
pub mod tickets;
pub mod webhooks;

use std::sync::Arc;

use crate::config::ConfigError;
use crate::domain::errors::FieldErrors;
use crate::domain::parse_id;
use crate::error::ApiError;
use crate::http::Api;
use crate::http::request::Call;
use crate::runtime::Resources;

pub use customers::Customers;
pub use end_user_uids::EndUserUids;
pub use end_users::EndUsers;
pub use tickets::Tickets;
pub use webhooks::Webhooks;

/// `api` serving every family: the local server, and the suites that test the whole API. The
/// resources must hold a vault (tenant secrets).
pub fn mount_all(api: Api, resources: &Resources) -> Result<Api, ConfigError> {
    let vault = resources
        .vault
        .clone()
        .ok_or(ConfigError::MissingSecretsKey)?;
    Ok(api
        .mount(EndUsers::new(resources.table.clone()))
        .mount(EndUserUids::new(resources.table.clone()))
        .mount(Tickets::new(resources.table.clone()))
        .mount(Webhooks::new(resources.table.clone(), Arc::clone(&vault)))
        .mount(Customers::new(resources.table.clone(), Arc::clone(&vault))))
}

/// The `{id}` of a route: a positive integer of at most 2^53 - 1, else 400.
fn path_id(call: &Call<'_>) -> Result<u64, ApiError> {
    parse_id(call.param("id")?).map_err(|m| ApiError::Validation(FieldErrors::single("id", m)))
}
