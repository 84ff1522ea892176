//! AWS KMS's JSON protocol by hand: each call is one POST signed with the SDK's own signer
//! (aws-sigv4) and sent through the process's HTTPS client. The SDK's KMS client would add its
//! whole generated client to every function that opens secrets or digests addresses, which the
//! functions' 6,000,000 B budget has no room for (docs/decisions.md).

use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use hyper::http;
use serde_json::Value;

use super::{KeyBytes, VaultError};
use crate::aws::{self, Https};
use crate::config::DynamoSettings;

/// Attempts of a call that keeps failing in a way worth a retry, as the SDK's standard mode.
const ATTEMPTS: u32 = 3;
/// The first retry waits up to this long (full jitter), the next up to twice it.
const BACKOFF: Duration = Duration::from_millis(50);

/// The KMS endpoint of the process's region (or a local one) and how calls to it are signed.
pub struct KmsApi {
    https: Https,
    credentials: SharedCredentialsProvider,
    region: String,
    /// `https://kms.{region}.amazonaws.com/`, or a local endpoint.
    url: String,
    attempt_timeout: Duration,
    timeout: Duration,
}

impl KmsApi {
    /// KMS at `endpoint` when it is a local one, else the region's.
    pub fn new(settings: &DynamoSettings, endpoint: Option<&str>) -> Self {
        let region = aws::region(settings);
        let url = match endpoint {
            Some(endpoint) => format!("{}/", endpoint.trim_end_matches('/')),
            None => format!("https://kms.{region}.amazonaws.com/"),
        };
        KmsApi {
            https: aws::https_client(settings, endpoint),
            credentials: aws::credentials(settings, endpoint),
            region,
            url,
            attempt_timeout: settings.timeouts.attempt,
            timeout: settings.timeouts.operation,
        }
    }

    /// KMS operation `operation` (`Decrypt`, ...) with `body`: its answer, a JSON object (read
    /// as a value: a derived reader per answer would cost every function that links KMS).
    pub async fn call(&self, operation: &str, body: &Value) -> Result<Value, VaultError> {
        let answer = self.send(operation, body.to_string()).await?;
        // Operations without an answer (`DisableKey`) send an empty body.
        if answer.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&answer).map_err(|e| {
            VaultError::Internal(format!("KMS {operation}: an unreadable answer: {e}"))
        })
    }

    /// The answer's body of a 200, after at most [`ATTEMPTS`] within the operation's timeout.
    async fn send(&self, operation: &str, body: String) -> Result<Bytes, VaultError> {
        let attempts = async {
            let mut attempt = 1;
            loop {
                match self.attempt(operation, &body).await {
                    Err(VaultError::Unavailable(_)) if attempt < ATTEMPTS => {
                        let ceiling = BACKOFF * 2u32.pow(attempt - 1);
                        let wait = fastrand::u64(..=ceiling.as_millis() as u64);
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        attempt += 1;
                    }
                    outcome => return outcome,
                }
            }
        };
        tokio::time::timeout(self.timeout, attempts)
            .await
            .map_err(|_| VaultError::Unavailable(format!("KMS {operation}: no answer in time")))?
    }

    async fn attempt(&self, operation: &str, body: &str) -> Result<Bytes, VaultError> {
        let request = self.request(operation, body).await?;
        let unavailable =
            |e: &dyn std::fmt::Display| VaultError::Unavailable(format!("KMS {operation}: {e}"));
        let answered = async {
            let response = self
                .https
                .call(request)
                .await
                .map_err(|e| unavailable(&e))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| unavailable(&e))?;
            Ok::<_, VaultError>((status, body.to_bytes()))
        };
        let (status, body) = tokio::time::timeout(self.attempt_timeout, answered)
            .await
            .map_err(|_| unavailable(&"no answer in time"))??;
        if status == 200 {
            return Ok(body);
        }
        let failure: Value = serde_json::from_slice(&body)
            .map_err(|_| unavailable(&format!("an unreadable answer ({status})")))?;
        let text = |name: &str| failure.get(name).and_then(Value::as_str);
        let kind = text("__type").and_then(|t| t.rsplit('#').next());
        let kind = kind.unwrap_or_default();
        let message = text("message")
            .or_else(|| text("Message"))
            .unwrap_or_default();
        let described = format!("{kind} ({status}): {message}");
        match status >= 500 || aws::RETRYABLE_ERRORS.contains(&kind) {
            true => Err(unavailable(&described)),
            false => Err(VaultError::Internal(format!(
                "KMS {operation}: {described}"
            ))),
        }
    }

    /// The signed request of `operation` with `body`.
    async fn request(&self, operation: &str, body: &str) -> Result<HttpRequest, VaultError> {
        let internal =
            |e: &dyn std::fmt::Display| VaultError::Internal(format!("KMS request: {e}"));
        let host = http::Uri::try_from(self.url.as_str())
            .map_err(|e| internal(&e))?
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let mut request = http::Request::post(&self.url)
            .header("host", host)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("TrentService.{operation}"))
            .body(body.to_owned())
            .map_err(|e| internal(&e))?;
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| VaultError::Unavailable(format!("no AWS credentials: {e}")))?;
        let identity = Identity::from(credentials);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("kms")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| internal(&e))?
            .into();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
        let signable = SignableRequest::new(
            "POST",
            self.url.as_str(),
            headers,
            SignableBody::Bytes(request.body().as_bytes()),
        )
        .map_err(|e| internal(&e))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| internal(&e))?
            .into_parts();
        instructions.apply_to_request_http1x(&mut request);
        HttpRequest::try_from(request.map(SdkBody::from)).map_err(|e| internal(&e))
    }
}

/// The base64 blob `field` of `answer`: bytes.
pub fn blob(answer: &Value, field: &str) -> Result<Vec<u8>, VaultError> {
    answer
        .get(field)
        .and_then(Value::as_str)
        .and_then(|text| STANDARD.decode(text).ok())
        .ok_or_else(|| VaultError::Internal(format!("KMS returned no readable {field}")))
}

/// The base64 blob `field` of `answer`: 256 bits.
pub fn key_bytes(answer: &Value, field: &str) -> Result<KeyBytes, VaultError> {
    KeyBytes::try_from(blob(answer, field)?.as_slice())
        .map_err(|_| VaultError::Internal(format!("KMS returned no 256-bit {field}")))
}

/// Bytes as a request's base64 blob.
pub fn encoded(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests;
