//! The AWS KMS key service: data keys generated and unwrapped by a KMS key the table's readers
//! need not have access to.

use async_trait::async_trait;
pub use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

use super::{DataKey, KeyBytes, KeyContext, KeyService, VaultError};
use crate::config::DynamoSettings;

/// The KMS client of the process, at `endpoint` when it is a local one.
pub fn client(settings: &DynamoSettings, endpoint: Option<&str>) -> Client {
    let mut config =
        aws_sdk_kms::config::Builder::from(&crate::aws::sdk_config(settings, endpoint));
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

pub struct KmsKeys {
    client: Client,
    key_id: String,
}

impl KmsKeys {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        KmsKeys {
            client,
            key_id: key_id.into(),
        }
    }
}

fn failure<E, R>(error: SdkError<E, R>) -> VaultError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match crate::aws::judge(error) {
        (true, message) => VaultError::Unavailable(message),
        (false, message) => VaultError::Internal(message),
    }
}

fn key_bytes(plaintext: Option<Blob>) -> Result<KeyBytes, VaultError> {
    plaintext
        .and_then(|blob| KeyBytes::try_from(blob.as_ref()).ok())
        .ok_or_else(|| VaultError::Internal("KMS returned no 256-bit data key".into()))
}

#[async_trait]
impl KeyService for KmsKeys {
    async fn generate(&self, context: &KeyContext) -> Result<DataKey, VaultError> {
        let mut request = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256);
        for (name, value) in context.pairs() {
            request = request.encryption_context(name, value);
        }
        let output = request.send().await.map_err(failure)?;
        let wrapped = output
            .ciphertext_blob
            .ok_or_else(|| VaultError::Internal("KMS returned no wrapped data key".into()))?
            .into_inner();
        Ok(DataKey {
            plaintext: key_bytes(output.plaintext)?,
            wrapped,
        })
    }

    async fn unwrap(&self, wrapped: &[u8], context: &KeyContext) -> Result<KeyBytes, VaultError> {
        let mut request = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped));
        for (name, value) in context.pairs() {
            request = request.encryption_context(name, value);
        }
        let output = request.send().await.map_err(failure)?;
        key_bytes(output.plaintext)
    }
}
