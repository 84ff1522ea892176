//! What every AWS client of a process shares (DynamoDB, KMS): one HTTPS stack with compiled-in
//! trust roots, the region, credentials from the environment, time limits; and how a failed call
//! is judged.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::config::DynamoSettings;

mod https;

pub use https::Https;
pub(crate) use https::crypto;

/// The configuration a client of the process's AWS services is built from, for a service at
/// `endpoint` when it is a local one (region, credential presence and time limits are the
/// process's: [`DynamoSettings`]). Credentials come from the
/// environment, as Lambda sets them (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`): no profile files, SSO or STS, which would only add start-up time and
/// binary size to a function. With a local endpoint (moto, DynamoDB Local) no AWS account is
/// needed: the region defaults to us-east-1 and, without credentials in the environment, fixed
/// local ones sign the requests.
pub fn sdk_config(settings: &DynamoSettings, endpoint: Option<&str>) -> SdkConfig {
    sdk_config_over(settings, endpoint, https_client(settings, endpoint))
}

/// The HTTPS client of a service at `endpoint` (plain `http` too when it is a local one).
pub fn https_client(settings: &DynamoSettings, endpoint: Option<&str>) -> Https {
    Https::new(settings.timeouts.connect, endpoint.is_some())
}

/// [`sdk_config`] sending through `https`, which the caller keeps (to open a connection early).
pub fn sdk_config_over(
    settings: &DynamoSettings,
    endpoint: Option<&str>,
    https: Https,
) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region(settings)))
        .http_client(https)
        .credentials_provider(credentials(settings, endpoint))
        // Payloads are small and the operation timeout bounds every call: the per-body stall
        // watchdog would only add an interceptor and timers to each request.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            // The connect timeout is the HTTPS client's own.
            TimeoutConfig::builder()
                .operation_attempt_timeout(settings.timeouts.attempt)
                .operation_timeout(settings.timeouts.operation)
                .build(),
        )
        .build()
}

/// The process's region: `AWS_REGION`, us-east-1 when unset (a local endpoint).
pub fn region(settings: &DynamoSettings) -> String {
    settings
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".into())
}

/// The credentials requests are signed with: the environment's, or fixed local ones for a local
/// endpoint when the environment has none.
pub fn credentials(settings: &DynamoSettings, endpoint: Option<&str>) -> SharedCredentialsProvider {
    if endpoint.is_some() && !settings.credentials_in_env {
        SharedCredentialsProvider::new(Credentials::new("local", "local", None, None, "local"))
    } else {
        SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new())
    }
}

/// A failed call: whether it is worth a later retry (503), and what happened.
pub fn judge<E, R>(error: SdkError<E, R>) -> (bool, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let retryable = is_retryable(&error);
    (retryable, DisplayErrorContext(error).to_string())
}

/// The error codes of DynamoDB, EventBridge and KMS worth a later retry: throttling, capacity,
/// the services' internal errors (the SDK clients' and the hand-written KMS calls' one list).
pub(crate) const RETRYABLE_ERRORS: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
    "KMSInternalException",
    "DependencyTimeoutException",
];

/// Throttling, capacity, time-outs and network failures.
fn is_retryable<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => e
            .err()
            .code()
            .is_some_and(|c| RETRYABLE_ERRORS.contains(&c)),
        _ => false,
    }
}
