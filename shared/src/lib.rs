//! The End Users service: every rule of the API, once. Lambdas and the local server are thin
//! transports over [`http::Api`].

pub mod domain;
pub mod error;
pub mod store;
