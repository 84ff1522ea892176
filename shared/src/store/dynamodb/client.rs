//! The DynamoDB client, built once per process, and the interceptor that counts its calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};

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
    let endpoint = settings.endpoint.as_deref();
    let shared = crate::aws::sdk_config(settings, endpoint);
    let mut config = aws_sdk_dynamodb::config::Builder::from(&shared);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    Client::from_conf(config.build())
}
