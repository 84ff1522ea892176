//! The AWS KMS key service: data keys generated and unwrapped by a KMS key the table's readers
//! need not have access to.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::kms_api::{self, KmsApi};
use super::{DataKey, KeyBytes, KeyContext, KeyService, VaultError};

pub struct KmsKeys {
    api: KmsApi,
    key_id: String,
}

impl KmsKeys {
    pub fn new(api: KmsApi, key_id: impl Into<String>) -> Self {
        KmsKeys {
            api,
            key_id: key_id.into(),
        }
    }
}

fn encryption_context(context: &KeyContext) -> Value {
    let pairs = context.pairs().into_iter();
    let pairs = pairs.map(|(name, value)| (name.to_owned(), Value::String(value)));
    Value::Object(pairs.collect::<Map<_, _>>())
}

#[async_trait]
impl KeyService for KmsKeys {
    async fn generate(&self, context: &KeyContext) -> Result<DataKey, VaultError> {
        let body = json!({
            "KeyId": self.key_id,
            "KeySpec": "AES_256",
            "EncryptionContext": encryption_context(context),
        });
        let generated = self.api.call("GenerateDataKey", &body).await?;
        Ok(DataKey {
            plaintext: kms_api::key_bytes(&generated, "Plaintext")?,
            wrapped: kms_api::blob(&generated, "CiphertextBlob")?,
        })
    }

    async fn unwrap(&self, wrapped: &[u8], context: &KeyContext) -> Result<KeyBytes, VaultError> {
        let body = json!({
            "KeyId": self.key_id,
            "CiphertextBlob": kms_api::encoded(wrapped),
            "EncryptionContext": encryption_context(context),
        });
        let decrypted = self.api.call("Decrypt", &body).await?;
        kms_api::key_bytes(&decrypted, "Plaintext")
    }
}
