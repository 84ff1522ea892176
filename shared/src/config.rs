//! Process set-up: logging, configuration from the environment, clients (Lambdas and local server).

use std::sync::Arc;

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::auth::{AuthConfig, Authenticator, ConfigError};
use crate::http::{Api, Family};
use crate::store::dynamodb::{self, DynamoTable};

/// `RUST_LOG` as a level and target filter (`info`, `warn,answerpal=debug`); `info` when unset
/// or unreadable.
fn log_filter() -> Targets {
    env_value("RUST_LOG")
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO))
}

/// Logs as JSON lines, as CloudWatch indexes them (Lambda adds the time itself).
pub fn init_json_logs() {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .json()
        .with_current_span(false)
        .without_time()
        .finish()
        .with(log_filter());
    // An error means a subscriber is set already (tests, repeated set-up), which stays.
    drop(subscriber.try_init());
}

/// Logs as text for a terminal (the local server).
pub fn init_text_logs() {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .with_target(false)
        .finish()
        .with(log_filter());
    drop(subscriber.try_init());
}

pub fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The API of a deployed Lambda serving `families`: DynamoDB table `TABLE_NAME` (at
/// `DYNAMODB_ENDPOINT` when set), JWT keys from the environment. Refuses to start without them.
pub async fn lambda_api(families: &[Family]) -> Result<Api, ConfigError> {
    init_json_logs();
    let auth = Authenticator::new(&AuthConfig::from_env())?;
    let table_name = env_value("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?;
    let endpoint = env_value("DYNAMODB_ENDPOINT");
    let client = dynamodb::client(endpoint.as_deref(), None).await;
    Ok(Api::new(
        Arc::new(DynamoTable::new(client, table_name)),
        auth,
        families,
    ))
}
