//! The End Users service: every rule of the API, once. Lambdas and the local server are thin
//! transports over [`http::Api`].

pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod service;
pub mod store;
