//! What every AWS client of a process shares (DynamoDB, KMS): one HTTPS stack with compiled-in
//! trust roots, the region, credentials from the environment, time limits; and how a failed call
//! is judged.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;

use crate::config::DynamoSettings;

/// Amazon Root CA 1 to 4 and Starfield Services Root CA G2 (which cross-signs them): the roots of
/// Amazon Trust Services, which issues the certificates of the DynamoDB and KMS endpoints.
const AMAZON_TRUST_ROOTS: &[u8] = include_bytes!("amazon-trust-roots.pem");

/// The configuration a client of the process's AWS services is built from, for a service at
/// `endpoint` when it is a local one (region, credential presence and time limits are the
/// process's: [`DynamoSettings`]). Credentials come from the
/// environment, as Lambda sets them (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`): no profile files, SSO or STS, which would only add start-up time and
/// binary size to a function. With a local endpoint (moto, DynamoDB Local) no AWS account is
/// needed: the region defaults to us-east-1 and, without credentials in the environment, fixed
/// local ones sign the requests.
pub fn sdk_config(settings: &DynamoSettings, endpoint: Option<&str>) -> SdkConfig {
    let region = Region::new(
        settings
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".into()),
    );
    // Only the roots AWS's certificates chain to, compiled in: the system's bundle would be read
    // (a directory walk) on the first connection, which lands in the function's init.
    let trust = tls::TrustStore::empty().with_pem_certificate(AMAZON_TRUST_ROOTS);
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(
            tls::TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .expect("the compiled-in trust roots are valid PEM"),
        )
        .build_https();
    let credentials = if endpoint.is_some() && !settings.credentials_in_env {
        SharedCredentialsProvider::new(Credentials::new("local", "local", None, None, "local"))
    } else {
        SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new())
    };
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .http_client(https)
        .credentials_provider(credentials)
        // Payloads are small and the operation timeout bounds every call: the per-body stall
        // watchdog would only add an interceptor and timers to each request.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.timeouts.connect)
                .operation_attempt_timeout(settings.timeouts.attempt)
                .operation_timeout(settings.timeouts.operation)
                .build(),
        )
        .build()
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

/// Throttling, capacity, time-outs and network failures.
fn is_retryable<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    const RETRYABLE: &[&str] = &[
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "KMSInternalException",
        "DependencyTimeoutException",
    ];
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => e.err().code().is_some_and(|c| RETRYABLE.contains(&c)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn the_compiled_in_trust_roots_are_five_certificates() {
        let roots = CertificateDer::pem_slice_iter(super::AMAZON_TRUST_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(roots.len(), 5);
        assert!(roots.iter().all(|der| der.len() > 400));
    }
}
