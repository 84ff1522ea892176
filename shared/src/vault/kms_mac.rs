//! AWS KMS `GenerateMac`: the suppression digests' per-tenant keys.

use async_trait::async_trait;
use serde_json::json;

use super::kms_api::{self, KmsApi};
use super::suppression::MacKeys;
use super::{KeyBytes, VaultError};

pub struct KmsMac {
    api: KmsApi,
    key_id: String,
}

impl KmsMac {
    /// MACs under KMS key `key_id`.
    pub fn new(api: KmsApi, key_id: &str) -> Self {
        KmsMac {
            api,
            key_id: key_id.to_owned(),
        }
    }
}

#[async_trait]
impl MacKeys for KmsMac {
    async fn mac(&self, message: &[u8]) -> Result<KeyBytes, VaultError> {
        let body = json!({
            "KeyId": self.key_id,
            "Message": kms_api::encoded(message),
            "MacAlgorithm": "HMAC_SHA_256",
        });
        let answer = self.api.call("GenerateMac", &body).await?;
        kms_api::key_bytes(&answer, "Mac")
    }
}
