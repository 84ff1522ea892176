//! Keyed digests of erased opted-out addresses (SPEC 9's suppression). A tenant's digest key is
//! the key service's HMAC of the tenant's ID under a key that never leaves it (an AWS KMS HMAC
//! key when deployed, the local key for the local server), so a copy of the table cannot test a
//! guessed address against a digest: it would need the key service. Tenant keys stay in memory
//! for [`DATA_KEY_TTL`], so a warm function calls the key service once per tenant in that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use async_trait::async_trait;
use ring::hmac;

use super::kms_api::KmsApi;
use super::kms_mac::KmsMac;
use super::local::LocalKeys;
use super::{DATA_KEY_TTL, KeyBytes, VaultError};
use crate::config::{ConfigError, Settings};
use crate::domain::TenantId;
use crate::domain::uid::Uid;

/// Tenant keys kept at most.
const CACHED_TENANTS: usize = 1024;

/// A key service that computes HMAC-SHA256 under a key it keeps.
#[async_trait]
pub trait MacKeys: Send + Sync {
    async fn mac(&self, message: &[u8]) -> Result<KeyBytes, VaultError>;
}

/// The digest of one address of one tenant, in hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Digest(String);

impl Digest {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub struct Suppressions {
    keys: Box<dyn MacKeys>,
    tenants: Mutex<HashMap<TenantId, (KeyBytes, Instant)>>,
}

impl Suppressions {
    pub fn new(keys: impl MacKeys + 'static) -> Self {
        Suppressions {
            keys: Box::new(keys),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// The suppressions the settings name: the AWS KMS HMAC key `SUPPRESSION_KMS_KEY_ID`, or else
    /// the local key `SECRETS_LOCAL_KEY`.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let secrets = &settings.secrets;
        match (&secrets.suppression_kms_key_id, &secrets.local_key) {
            (Some(key_id), _) => {
                let endpoint = secrets.kms_endpoint.as_deref();
                let api = KmsApi::new(&settings.dynamodb, endpoint);
                Ok(Suppressions::new(KmsMac::new(api, key_id)))
            }
            (None, Some(key)) => Ok(Suppressions::new(LocalKeys::from_base64(key)?)),
            (None, None) => Err(ConfigError::MissingSuppressionKey),
        }
    }

    /// The digest of `uid` for `tenant`: HMAC-SHA256 of its type and value under the tenant's key.
    pub async fn digest(&self, tenant: TenantId, uid: &Uid) -> Result<Digest, VaultError> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.tenant_key(tenant).await?);
        let message = format!("{}\n{}", uid.uid_type().as_str(), uid.value());
        let tag = hmac::sign(&key, message.as_bytes());
        Ok(Digest(
            tag.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    /// Each of `uids`' digests, in order.
    pub async fn digests(&self, tenant: TenantId, uids: &[Uid]) -> Result<Vec<Digest>, VaultError> {
        let mut digests = Vec::with_capacity(uids.len());
        for uid in uids {
            digests.push(self.digest(tenant, uid).await?);
        }
        Ok(digests)
    }

    async fn tenant_key(&self, tenant: TenantId) -> Result<KeyBytes, VaultError> {
        if let Some(key) = self.cached(tenant) {
            return Ok(key);
        }
        let key = self
            .keys
            .mac(format!("answerpal/suppression/v1/customerID={tenant}").as_bytes())
            .await?;
        if let Ok(mut tenants) = self.tenants.lock() {
            if tenants.len() >= CACHED_TENANTS {
                tenants.retain(|_, (_, at)| at.elapsed() < DATA_KEY_TTL);
                if tenants.len() >= CACHED_TENANTS {
                    tenants.clear();
                }
            }
            tenants.insert(tenant, (key, Instant::now()));
        }
        Ok(key)
    }

    fn cached(&self, tenant: TenantId) -> Option<KeyBytes> {
        let tenants = self.tenants.lock().ok()?;
        let (key, at) = tenants.get(&tenant)?;
        (at.elapsed() < DATA_KEY_TTL).then_some(*key)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::domain::Secret;
    use crate::domain::uid::UidType;

    struct Counting(LocalKeys, Arc<AtomicUsize>);

    #[async_trait]
    impl MacKeys for Counting {
        async fn mac(&self, message: &[u8]) -> Result<KeyBytes, VaultError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.mac(message).await
        }
    }

    fn keys(master: &str) -> LocalKeys {
        LocalKeys::from_base64(&Secret::new(master)).expect("a key")
    }

    fn uid(t: UidType, value: &str) -> Uid {
        Uid::parse(t, value, None).expect("a UID")
    }

    #[tokio::test]
    async fn digests_are_per_tenant_type_value_and_key_and_reveal_nothing() {
        let master = LocalKeys::generate_base64().expect("key");
        let calls = Arc::new(AtomicUsize::new(0));
        let suppressions = Suppressions::new(Counting(keys(&master), calls.clone()));
        let tenant = |id| TenantId::new(id).expect("a tenant");
        let email = uid(UidType::Email, "stop@example.com");
        let a = suppressions
            .digest(tenant(1), &email)
            .await
            .expect("digest");
        assert_eq!(
            a,
            suppressions
                .digest(tenant(1), &email)
                .await
                .expect("digest")
        );
        assert_eq!(a.as_str().len(), 64);
        assert!(!a.as_str().contains("stop"));
        assert_ne!(
            a,
            suppressions
                .digest(tenant(2), &email)
                .await
                .expect("digest")
        );
        let other_type = uid(UidType::External, "stop@example.com");
        assert_ne!(
            a,
            suppressions
                .digest(tenant(1), &other_type)
                .await
                .expect("digest")
        );
        let other_key = Suppressions::new(keys(&LocalKeys::generate_base64().expect("key")));
        assert_ne!(
            a,
            other_key.digest(tenant(1), &email).await.expect("digest")
        );
        // The same master key elsewhere: the same digests.
        let again = Suppressions::new(keys(&master));
        assert_eq!(a, again.digest(tenant(1), &email).await.expect("digest"));
        // One key service call per tenant while its key is fresh.
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }
}
