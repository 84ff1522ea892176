//! AWS KMS `GenerateMac` by hand: one JSON call, signed with the SDK's own signer (aws-sigv4) and
//! sent through the process's HTTPS client. The SDK's KMS client would add about 70 KB of code to
//! every function that links addresses, which the end-users binary's 6,000,000 B budget has no
//! room for (docs/decisions.md); the tenant-secrets vault, which needs more of KMS, keeps it.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
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
use hyper::http;
use serde::Deserialize;

use super::suppression::MacKeys;
use super::{KeyBytes, VaultError};
use crate::aws::{self, Https};
use crate::config::DynamoSettings;

/// KMS error types worth a later retry.
const RETRYABLE: &[&str] = &[
    "ThrottlingException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "LimitExceededException",
];

pub struct KmsMac {
    https: Https,
    credentials: SharedCredentialsProvider,
    region: String,
    /// `https://kms.{region}.amazonaws.com/`, or a local endpoint.
    url: String,
    key_id: String,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Mac")]
    mac: Option<String>,
    #[serde(rename = "__type")]
    error_type: Option<String>,
}

impl KmsMac {
    /// MACs under KMS key `key_id`, at `endpoint` when it is a local one.
    pub fn new(settings: &DynamoSettings, endpoint: Option<&str>, key_id: &str) -> Self {
        let region = aws::region(settings);
        let url = match endpoint {
            Some(endpoint) => format!("{}/", endpoint.trim_end_matches('/')),
            None => format!("https://kms.{region}.amazonaws.com/"),
        };
        KmsMac {
            https: aws::https_client(settings, endpoint),
            credentials: aws::credentials(settings, endpoint),
            region,
            url,
            key_id: key_id.to_owned(),
            timeout: settings.timeouts.operation,
        }
    }

    /// The signed `GenerateMac` request for `message`.
    async fn request(&self, message: &[u8]) -> Result<HttpRequest, VaultError> {
        let body = serde_json::json!({
            "KeyId": self.key_id,
            "Message": STANDARD.encode(message),
            "MacAlgorithm": "HMAC_SHA_256",
        })
        .to_string();
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
            .header("x-amz-target", "TrentService.GenerateMac")
            .body(body)
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

#[async_trait]
impl MacKeys for KmsMac {
    async fn mac(&self, message: &[u8]) -> Result<KeyBytes, VaultError> {
        let request = self.request(message).await?;
        let unavailable = |e: &dyn std::fmt::Display| VaultError::Unavailable(format!("KMS: {e}"));
        let response = tokio::time::timeout(self.timeout, self.https.call(request))
            .await
            .map_err(|_| unavailable(&"no answer in time"))?
            .map_err(|e| unavailable(&e))?;
        let status = response.status().as_u16();
        let body = tokio::time::timeout(self.timeout, response.into_body().collect())
            .await
            .map_err(|_| unavailable(&"no answer in time"))?
            .map_err(|e| unavailable(&e))?
            .to_bytes();
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|_| unavailable(&format!("an unreadable answer ({status})")))?;
        match (status, answer.mac, answer.error_type) {
            (200, Some(mac), _) => STANDARD
                .decode(mac)
                .ok()
                .and_then(|bytes| KeyBytes::try_from(bytes.as_slice()).ok())
                .ok_or_else(|| VaultError::Internal("KMS returned no 256-bit MAC".into())),
            (_, _, Some(kind)) if status >= 500 || RETRYABLE.iter().any(|r| kind.ends_with(r)) => {
                Err(unavailable(&kind))
            }
            (_, _, kind) => Err(VaultError::Internal(format!(
                "KMS GenerateMac failed ({status}): {}",
                kind.unwrap_or_default()
            ))),
        }
    }
}
