//! Envelope encryption of tenant secrets. Each save seals the secrets with a fresh AES-256-GCM
//! data key; the data key is stored only wrapped by a key service outside the table (AWS KMS
//! when deployed, a local key for the local server), so a copy of the table alone reveals none.
//! Both are bound to the tenant: the KMS encryption context and the AEAD's associated data name
//! it, so sealed secrets copied to another tenant's item do not open.
//!
//! Unwrapped data keys stay in memory for [`DATA_KEY_TTL`], with the secrets they opened last, so
//! a warm function reads a tenant's secrets without calling the key service or decrypting them
//! per request (a webhook needs them for every message).

pub mod kms;
pub mod kms_api;
pub mod kms_mac;
pub mod local;
pub mod suppression;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::config::{ConfigError, Settings};
use crate::domain::TenantId;
use crate::domain::customer::{Sealed, SecretValues};
use kms_api::KmsApi;

/// How long an unwrapped data key is kept in memory.
pub const DATA_KEY_TTL: Duration = Duration::from_secs(300);
/// Unwrapped data keys kept at most (one per tenant whose secrets were opened recently), each
/// with the secrets it opened last.
const CACHED_KEYS: usize = 1024;

pub const KEY_LEN: usize = 32;
pub type KeyBytes = [u8; KEY_LEN];

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The key service is throttling or unreachable: worth a retry later.
    #[error("key service unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

/// Whose secrets a data key protects: the KMS encryption context and the AEAD associated data.
#[derive(Clone, Copy, Debug)]
pub struct KeyContext {
    tenant: TenantId,
}

impl KeyContext {
    pub const PURPOSE: &'static str = "tenant-secrets";

    pub fn new(tenant: TenantId) -> Self {
        KeyContext { tenant }
    }

    /// The KMS encryption context.
    pub fn pairs(&self) -> [(&'static str, String); 2] {
        [
            ("customerID", self.tenant.to_string()),
            ("purpose", Self::PURPOSE.to_owned()),
        ]
    }

    /// The AEAD associated data.
    fn aad(&self) -> Vec<u8> {
        format!("customerID={};purpose={}", self.tenant, Self::PURPOSE).into_bytes()
    }
}

/// A new data key: in clear for this process, and wrapped for the store.
pub struct DataKey {
    pub plaintext: KeyBytes,
    pub wrapped: Vec<u8>,
}

/// The service that wraps and unwraps data keys.
#[async_trait]
pub trait KeyService: Send + Sync {
    async fn generate(&self, context: &KeyContext) -> Result<DataKey, VaultError>;
    async fn unwrap(&self, wrapped: &[u8], context: &KeyContext) -> Result<KeyBytes, VaultError>;
}

/// Seals and opens tenant secrets.
pub struct Vault {
    keys: Box<dyn KeyService>,
    /// Unwrapped data keys by their wrapped form.
    cache: Mutex<HashMap<Vec<u8>, CachedKey>>,
}

/// An unwrapped data key, kept for [`DATA_KEY_TTL`] from its unwrapping.
struct CachedKey {
    key: KeyBytes,
    at: Instant,
    opened: Option<Opened>,
}

/// Secrets a data key opened: valid only for the same tenant and the same sealed bytes (a data key
/// seals once, but an item could pair its wrapped key with other bytes).
struct Opened {
    tenant: TenantId,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    secrets: SecretValues,
}

impl Opened {
    fn of(&self, tenant: TenantId, sealed: &Sealed) -> Option<&SecretValues> {
        let same = self.tenant == tenant
            && self.nonce == sealed.nonce
            && self.ciphertext == sealed.ciphertext;
        same.then_some(&self.secrets)
    }
}

impl Vault {
    pub fn new(keys: impl KeyService + 'static) -> Self {
        Vault {
            keys: Box::new(keys),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The vault the settings name: AWS KMS with `SECRETS_KMS_KEY_ID`, or the local key
    /// `SECRETS_LOCAL_KEY`; exactly one of them.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let secrets = &settings.secrets;
        match (&secrets.kms_key_id, &secrets.local_key) {
            (Some(_), Some(_)) => Err(ConfigError::TwoSecretsKeys),
            (None, None) => Err(ConfigError::MissingSecretsKey),
            (Some(key_id), None) => {
                let api = KmsApi::new(&settings.dynamodb, secrets.kms_endpoint.as_deref());
                Ok(Vault::new(kms::KmsKeys::new(api, key_id)))
            }
            (None, Some(key)) => Ok(Vault::new(local::LocalKeys::from_base64(key)?)),
        }
    }

    /// `secrets` sealed for `tenant` under a new data key.
    pub async fn seal(
        &self,
        tenant: TenantId,
        secrets: &SecretValues,
    ) -> Result<Sealed, VaultError> {
        let context = KeyContext::new(tenant);
        let key = self.keys.generate(&context).await?;
        let (nonce, ciphertext) =
            seal_with(&key.plaintext, &context.aad(), secrets.to_plaintext())?;
        self.remember(key.wrapped.clone(), key.plaintext);
        Ok(Sealed {
            wrapped_key: key.wrapped,
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// The secrets `sealed` holds for `tenant`.
    pub async fn open(
        &self,
        tenant: TenantId,
        sealed: &Sealed,
    ) -> Result<SecretValues, VaultError> {
        let context = KeyContext::new(tenant);
        let key = match self.cached(tenant, sealed) {
            Some(Cached::Opened(secrets)) => return Ok(secrets),
            Some(Cached::Key(key)) => key,
            None => {
                let key = self.keys.unwrap(&sealed.wrapped_key, &context).await?;
                self.remember(sealed.wrapped_key.clone(), key);
                key
            }
        };
        let plaintext = open_with(&key, &context.aad(), &sealed.nonce, &sealed.ciphertext)?;
        let secrets = SecretValues::from_plaintext(&plaintext).map_err(VaultError::Internal)?;
        self.remember_opened(tenant, sealed, &secrets);
        Ok(secrets)
    }

    /// The fresh cached key of `sealed`, or the secrets it opened for `tenant` already.
    fn cached(&self, tenant: TenantId, sealed: &Sealed) -> Option<Cached> {
        let cache = self.cache.lock().ok()?;
        let entry = cache.get(&sealed.wrapped_key)?;
        if entry.at.elapsed() >= DATA_KEY_TTL {
            return None;
        }
        match entry.opened.as_ref().and_then(|o| o.of(tenant, sealed)) {
            Some(secrets) => Some(Cached::Opened(secrets.clone())),
            None => Some(Cached::Key(entry.key)),
        }
    }

    fn remember(&self, wrapped: Vec<u8>, key: KeyBytes) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= CACHED_KEYS {
            cache.retain(|_, entry| entry.at.elapsed() < DATA_KEY_TTL);
            if cache.len() >= CACHED_KEYS {
                cache.clear();
            }
        }
        let at = Instant::now();
        let opened = None;
        cache.insert(wrapped, CachedKey { key, at, opened });
    }

    fn remember_opened(&self, tenant: TenantId, sealed: &Sealed, secrets: &SecretValues) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if let Some(entry) = cache.get_mut(&sealed.wrapped_key) {
            entry.opened = Some(Opened {
                tenant,
                nonce: sealed.nonce.clone(),
                ciphertext: sealed.ciphertext.clone(),
                secrets: secrets.clone(),
            });
        }
    }
}

/// What the cache holds for a sealed value.
enum Cached {
    Key(KeyBytes),
    Opened(SecretValues),
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| VaultError::Internal("no system randomness".into()))?;
    Ok(bytes)
}

fn aead_key(key: &KeyBytes) -> Result<LessSafeKey, VaultError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Internal("not an AES-256 key".into()))
}

/// `plaintext` encrypted under `key` with a random nonce: the nonce, and ciphertext with tag.
fn seal_with(
    key: &KeyBytes,
    aad: &[u8],
    mut plaintext: Vec<u8>,
) -> Result<([u8; NONCE_LEN], Vec<u8>), VaultError> {
    let nonce = random::<NONCE_LEN>()?;
    aead_key(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut plaintext,
        )
        .map_err(|_| VaultError::Internal("encryption failed".into()))?;
    Ok((nonce, plaintext))
}

fn open_with(
    key: &KeyBytes,
    aad: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let failed = || VaultError::Internal("sealed data does not open with its key".into());
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| failed())?;
    let mut buffer = ciphertext.to_vec();
    let plaintext = aead_key(key)?
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| failed())?;
    Ok(plaintext.to_vec())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::domain::Secret;
    use crate::domain::customer::SecretField;

    /// The local key service, counting its unwraps.
    struct Counting(local::LocalKeys, Arc<AtomicUsize>);

    #[async_trait]
    impl KeyService for Counting {
        async fn generate(&self, context: &KeyContext) -> Result<DataKey, VaultError> {
            self.0.generate(context).await
        }
        async fn unwrap(
            &self,
            wrapped: &[u8],
            context: &KeyContext,
        ) -> Result<KeyBytes, VaultError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.unwrap(wrapped, context).await
        }
    }

    fn tenant(id: u64) -> TenantId {
        TenantId::new(id).expect("tenant")
    }

    fn secrets() -> SecretValues {
        let mut values = SecretValues::default();
        values.set(
            SecretField::WebhookSigningSecret,
            Some(Secret::new("whsec-42")),
        );
        values
    }

    #[tokio::test]
    async fn sealed_secrets_open_for_their_tenant_only() {
        let master = local::LocalKeys::generate_base64().expect("key");
        let vault =
            Vault::new(local::LocalKeys::from_base64(&Secret::new(master.clone())).expect("key"));
        let sealed = vault.seal(tenant(1), &secrets()).await.expect("seal");
        let stored = format!("{sealed:?}");
        assert!(!stored.contains("whsec-42"));
        assert_eq!(
            vault.open(tenant(1), &sealed).await.expect("open"),
            secrets()
        );
        assert!(
            vault.open(tenant(2), &sealed).await.is_err(),
            "another tenant"
        );

        // A process without the cached data key unwraps it with the same master key.
        let other = Vault::new(local::LocalKeys::from_base64(&Secret::new(master)).expect("key"));
        assert_eq!(
            other.open(tenant(1), &sealed).await.expect("open"),
            secrets()
        );
        let stranger = Vault::new(
            local::LocalKeys::from_base64(&Secret::new(
                local::LocalKeys::generate_base64().expect("key"),
            ))
            .expect("key"),
        );
        assert!(
            stranger.open(tenant(1), &sealed).await.is_err(),
            "another master key"
        );

        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(vault.open(tenant(1), &tampered).await.is_err());
    }

    #[tokio::test]
    async fn an_unwrapped_data_key_is_reused_while_fresh() {
        let unwraps = Arc::new(AtomicUsize::new(0));
        let master = Secret::new(local::LocalKeys::generate_base64().expect("key"));
        let writer = Vault::new(local::LocalKeys::from_base64(&master).expect("key"));
        let sealed = writer.seal(tenant(1), &secrets()).await.expect("seal");
        let reader = Vault::new(Counting(
            local::LocalKeys::from_base64(&master).expect("key"),
            unwraps.clone(),
        ));
        for _ in 0..3 {
            reader.open(tenant(1), &sealed).await.expect("open");
        }
        assert_eq!(unwraps.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn opened_secrets_are_reused_only_for_the_same_tenant_and_bytes() {
        let master = Secret::new(local::LocalKeys::generate_base64().expect("key"));
        let vault = Vault::new(local::LocalKeys::from_base64(&master).expect("key"));
        let sealed = vault.seal(tenant(1), &secrets()).await.expect("seal");
        assert_eq!(
            vault.open(tenant(1), &sealed).await.expect("open"),
            secrets()
        );
        let opened_for = |vault: &Vault| {
            let cache = vault.cache.lock().expect("the cache");
            let entry = cache.get(&sealed.wrapped_key).expect("the data key kept");
            entry.opened.as_ref().map(|opened| opened.tenant)
        };
        assert_eq!(
            opened_for(&vault),
            Some(tenant(1)),
            "the opened secrets kept"
        );
        assert_eq!(
            vault.open(tenant(1), &sealed).await.expect("cached"),
            secrets()
        );

        // Once opened, the same bytes still do not open for another tenant...
        assert!(
            vault.open(tenant(2), &sealed).await.is_err(),
            "another tenant"
        );
        // ...and the same wrapped key with other bytes is decrypted, not answered from the cache.
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(vault.open(tenant(1), &tampered).await.is_err(), "tampered");
        let mut resealed = vault
            .seal(tenant(1), &SecretValues::default())
            .await
            .expect("seal");
        resealed.wrapped_key = sealed.wrapped_key.clone();
        assert!(
            vault.open(tenant(1), &resealed).await.is_err(),
            "other key's bytes"
        );
        assert_eq!(
            vault.open(tenant(1), &sealed).await.expect("open"),
            secrets()
        );
    }
}
