//! The DynamoDB client, built once per process, what opens its connection ahead of its first call,
//! and the interceptor that counts its calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};

use crate::aws::Https;
use crate::config::DynamoSettings;

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

/// The DynamoDB client of the process (see [`crate::aws::sdk_config`]), at `settings.endpoint`
/// when set, its calls counted by `counter` when given.
pub fn client(settings: &DynamoSettings, counter: Option<CallCounter>) -> Client {
    connect(settings, counter).0
}

/// [`client`], with what opens its connection ahead of its first call.
pub fn connect(settings: &DynamoSettings, counter: Option<CallCounter>) -> (Client, Connection) {
    let endpoint = settings.endpoint.as_deref();
    let https = crate::aws::https_client(settings, endpoint);
    let shared = crate::aws::sdk_config_over(settings, endpoint, https.clone());
    let mut config = aws_sdk_dynamodb::config::Builder::from(&shared);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    let client = Client::from_conf(config.build());
    let params = Params::builder()
        .set_region(client.config().region().map(ToString::to_string))
        .set_endpoint(settings.endpoint.clone())
        .build()
        .map_err(|e| e.to_string());
    let connection = Connection { https, params };
    (client, connection)
}

/// Opens the connection of a [`client`] before its first call: the functions' warm-up at init.
#[derive(Debug)]
pub struct Connection {
    https: Https,
    params: Result<Params, String>,
}

impl Connection {
    /// Resolves the client's endpoint as its calls do (the SDK's own rules: the client sets no
    /// resolver of its own) and opens a connection to it (DNS, TCP, TLS) for the first call:
    /// no request, so no capacity used and no IAM action needed. An error only means that the
    /// first call connects itself.
    pub async fn open(&self) -> Result<(), String> {
        let params = self.params.clone()?;
        let endpoint = DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .map_err(|e| e.to_string())?;
        self.https.open_connection(endpoint.url()).await
    }
}
