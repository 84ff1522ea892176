//! The endpoint families, one file each: its route table (method, path, auth policy) and the
//! handlers that read the request and call the services. A new route goes into its family's
//! table; a new family gets a file here, a function in `functions/` and a line in [`mount_all`].

pub mod end_user_uids;
pub mod end_users;

use crate::domain::errors::FieldErrors;
use crate::domain::parse_id;
use crate::error::ApiError;
use crate::http::Api;
use crate::http::request::Call;
use crate::runtime::Resources;

pub use end_user_uids::EndUserUids;
pub use end_users::EndUsers;

/// `api` serving every family: the local server, and the suites that test the whole API.
pub fn mount_all(api: Api, resources: &Resources) -> Api {
    api.mount(EndUsers::new(resources.table.clone()))
        .mount(EndUserUids::new(resources.table.clone()))
}

/// The `{id}` of a route: a positive integer of at most 2^53 - 1, else 400.
fn path_id(call: &Call<'_>) -> Result<u64, ApiError> {
    parse_id(call.param("id")?).map_err(|m| ApiError::Validation(FieldErrors::single("id", m)))
}
