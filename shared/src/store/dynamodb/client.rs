//! The DynamoDB client, built once per process, and the interceptor that counts its calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::BehaviorVersion;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{
    ConfigBag, Credentials, Intercept, Region, StalledStreamProtectionConfig,
};
use aws_smithy_http_client::tls;

use crate::config::DynamoSettings;

/// Amazon Root CA 1 to 4 and Starfield Services Root CA G2 (which cross-signs them): the roots of
/// Amazon Trust Services, which issues the certificates of every DynamoDB endpoint.
const AMAZON_TRUST_ROOTS: &[u8] = include_bytes!("amazon-trust-roots.pem");

/// Counts the DynamoDB API calls a client makes (one per operation, whatever its retries).
#[derive(Clone, Debug, Default)]
pub struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Builds a DynamoDB client with credentials from the environment, as Lambda sets them
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`): no profile files, SSO or
/// STS, which would only add start-up time and binary size to a function. With an endpoint
/// (moto, DynamoDB Local) no AWS account is needed: the region defaults to us-east-1 and, without
/// credentials in the environment, fixed local ones sign the requests.
pub fn client(settings: &DynamoSettings, counter: Option<CallCounter>) -> Client {
    let region = Region::new(
        settings
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".into()),
    );
    // Only the roots DynamoDB's certificates chain to, compiled in: the system's bundle would be
    // read (a directory walk) on the first connection, which lands in the function's init.
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
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .http_client(https)
        // Items are small and the operation timeout bounds every call: the per-body stall
        // watchdog would only add an interceptor and timers to each request.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.timeouts.connect)
                .operation_attempt_timeout(settings.timeouts.attempt)
                .operation_timeout(settings.timeouts.operation)
                .build(),
        );
    config = match (&settings.endpoint, settings.credentials_in_env) {
        (Some(_), false) => {
            config.credentials_provider(Credentials::new("local", "local", None, None, "local"))
        }
        _ => config.credentials_provider(EnvironmentVariableCredentialsProvider::new()),
    };
    if let Some(endpoint) = &settings.endpoint {
        config = config.endpoint_url(endpoint);
    }
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    Client::from_conf(config.build())
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
