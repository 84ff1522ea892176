//! The tenant's write-only secrets: which fields they are, their values (only ever decrypted in
//! memory), and their stored form (sealed by the vault; see docs/decisions.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::Secret;

/// A secret setting: accepted by `PUT /api/Customers/me`, never returned by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SecretField {
    #[serde(rename = "apiPassword")]
    ApiPassword,
    #[serde(rename = "apiToken")]
    ApiToken,
    #[serde(rename = "graphClientSecret")]
    GraphClientSecret,
    #[serde(rename = "twilioAuthToken")]
    TwilioAuthToken,
    #[serde(rename = "openAIApiKey")]
    OpenAiApiKey,
    #[serde(rename = "openAIAdminApiKey")]
    OpenAiAdminApiKey,
    #[serde(rename = "googleMapsApiKey")]
    GoogleMapsApiKey,
    #[serde(rename = "webhookSigningSecret")]
    WebhookSigningSecret,
}

impl SecretField {
    pub const ALL: [SecretField; 8] = [
        SecretField::ApiPassword,
        SecretField::ApiToken,
        SecretField::GraphClientSecret,
        SecretField::TwilioAuthToken,
        SecretField::OpenAiApiKey,
        SecretField::OpenAiAdminApiKey,
        SecretField::GoogleMapsApiKey,
        SecretField::WebhookSigningSecret,
    ];

    /// The request field.
    pub fn name(self) -> &'static str {
        match self {
            SecretField::ApiPassword => "apiPassword",
            SecretField::ApiToken => "apiToken",
            SecretField::GraphClientSecret => "graphClientSecret",
            SecretField::TwilioAuthToken => "twilioAuthToken",
            SecretField::OpenAiApiKey => "openAIApiKey",
            SecretField::OpenAiAdminApiKey => "openAIAdminApiKey",
            SecretField::GoogleMapsApiKey => "googleMapsApiKey",
            SecretField::WebhookSigningSecret => "webhookSigningSecret",
        }
    }
}

/// Decrypted secret values by field; `Debug` shows the fields only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretValues(BTreeMap<SecretField, Secret>);

impl SecretValues {
    pub fn get(&self, field: SecretField) -> Option<&Secret> {
        self.0.get(&field)
    }

    pub fn set(&mut self, field: SecretField, value: Option<Secret>) {
        match value {
            Some(value) => self.0.insert(field, value),
            None => self.0.remove(&field),
        };
    }

    pub fn fields(&self) -> impl Iterator<Item = SecretField> + '_ {
        self.0.keys().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The plaintext the vault seals: a JSON object of field names and values.
    pub fn to_plaintext(&self) -> Vec<u8> {
        let map: BTreeMap<SecretField, &str> =
            self.0.iter().map(|(f, v)| (*f, v.expose())).collect();
        serde_json::to_vec(&map).unwrap_or_default()
    }

    pub fn from_plaintext(bytes: &[u8]) -> Result<Self, String> {
        let map: BTreeMap<SecretField, String> =
            serde_json::from_slice(bytes).map_err(|e| format!("sealed secrets: {e}"))?;
        Ok(SecretValues(
            map.into_iter().map(|(f, v)| (f, Secret::new(v))).collect(),
        ))
    }
}

/// Secrets as stored: encrypted with a data key that is itself encrypted by the key service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The data key, encrypted by the key service (AWS KMS, or the local key).
    pub wrapped_key: Vec<u8>,
    /// The AES-256-GCM nonce.
    pub nonce: Vec<u8>,
    /// The secrets' plaintext encrypted with the data key, with its tag.
    pub ciphertext: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_round_trips_and_debug_shows_no_value() {
        let mut values = SecretValues::default();
        values.set(SecretField::TwilioAuthToken, Some(Secret::new("tw-123")));
        values.set(SecretField::ApiToken, Some(Secret::new("tok \"quoted\"")));
        let back = SecretValues::from_plaintext(&values.to_plaintext()).expect("round trip");
        assert_eq!(back, values);
        let debug = format!("{values:?}");
        assert!(!debug.contains("tw-123") && debug.contains("TwilioAuthToken"));
        values.set(SecretField::ApiToken, None);
        assert_eq!(
            values.fields().collect::<Vec<_>>(),
            [SecretField::TwilioAuthToken]
        );
    }

    #[test]
    fn names_match_the_serialized_field_names() {
        for field in SecretField::ALL {
            assert_eq!(
                serde_json::to_value(field).expect("json"),
                serde_json::Value::from(field.name())
            );
        }
    }
}
