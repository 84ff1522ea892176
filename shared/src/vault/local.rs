//! The local key service: data keys wrapped with an AES-256 key from the environment
//! (`SECRETS_LOCAL_KEY`), for the local server and `sam local invoke`.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::NONCE_LEN;
use ring::hmac;

use super::suppression::MacKeys;
use super::{
    DataKey, KEY_LEN, KeyBytes, KeyContext, KeyService, VaultError, open_with, random, seal_with,
};
use crate::config::ConfigError;
use crate::domain::Secret;

pub struct LocalKeys {
    master: KeyBytes,
}

impl LocalKeys {
    /// The key of `SECRETS_LOCAL_KEY`: 32 bytes in base64.
    pub fn from_base64(key: &Secret) -> Result<Self, ConfigError> {
        let bytes = STANDARD
            .decode(key.expose().trim())
            .map_err(|_| ConfigError::BadSecretsKey)?;
        let master =
            KeyBytes::try_from(bytes.as_slice()).map_err(|_| ConfigError::BadSecretsKey)?;
        Ok(LocalKeys { master })
    }

    /// A new random key in the form `SECRETS_LOCAL_KEY` takes.
    pub fn generate_base64() -> Result<String, VaultError> {
        Ok(STANDARD.encode(random::<KEY_LEN>()?))
    }
}

#[async_trait]
impl KeyService for LocalKeys {
    async fn generate(&self, context: &KeyContext) -> Result<DataKey, VaultError> {
        let plaintext = random::<KEY_LEN>()?;
        let (nonce, sealed) = seal_with(&self.master, &context.aad(), plaintext.to_vec())?;
        Ok(DataKey {
            plaintext,
            wrapped: [nonce.as_slice(), &sealed].concat(),
        })
    }

    async fn unwrap(&self, wrapped: &[u8], context: &KeyContext) -> Result<KeyBytes, VaultError> {
        if wrapped.len() < NONCE_LEN {
            return Err(VaultError::Internal("not a wrapped data key".into()));
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let key = open_with(&self.master, &context.aad(), nonce, sealed)?;
        KeyBytes::try_from(key.as_slice())
            .map_err(|_| VaultError::Internal("not a wrapped data key".into()))
    }
}

/// The suppression digests' key service, for the local server and the tests: HMAC-SHA256 under
/// the local key.
#[async_trait]
impl MacKeys for LocalKeys {
    async fn mac(&self, message: &[u8]) -> Result<KeyBytes, VaultError> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.master);
        KeyBytes::try_from(hmac::sign(&key, message).as_ref())
            .map_err(|_| VaultError::Internal("not a 256-bit MAC".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_must_be_32_bytes_of_base64() {
        assert!(
            LocalKeys::from_base64(&Secret::new(LocalKeys::generate_base64().expect("key")))
                .is_ok()
        );
        for bad in ["not base64!", "c2hvcnQ="] {
            assert!(matches!(
                LocalKeys::from_base64(&Secret::new(bad)),
                Err(ConfigError::BadSecretsKey)
            ));
        }
    }
}
