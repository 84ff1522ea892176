//! Settings, read once from the environment for the functions and the local server (which adds
//! its development defaults on top). Nothing else reads the environment.

use std::time::Duration;

pub use crate::domain::Secret;

/// How bearer tokens are verified.
#[derive(Clone, Debug, Default)]
pub struct JwtSettings {
    /// `JWT_SECRET`: HS256.
    pub secret: Option<Secret>,
    /// `JWT_PUBLIC_KEY`: PEM, RS256 or ES256.
    pub public_key_pem: Option<String>,
    /// `JWT_ISSUER`: the required `iss` when set.
    pub issuer: Option<String>,
    /// `JWT_AUDIENCE`: the required `aud` when set.
    pub audience: Option<String>,
}

impl JwtSettings {
    /// HS256 with `secret` and no issuer or audience.
    pub fn with_secret(secret: &str) -> Self {
        JwtSettings {
            secret: Some(Secret::new(secret)),
            ..JwtSettings::default()
        }
    }

    pub fn has_key(&self) -> bool {
        self.secret.is_some() || self.public_key_pem.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no JWT verification key: set JWT_SECRET (HS256) or JWT_PUBLIC_KEY (PEM, RS256 or ES256)"
    )]
    MissingKey,
    #[error("set only one of JWT_SECRET and JWT_PUBLIC_KEY")]
    TwoKeys,
    #[error("JWT_PUBLIC_KEY is neither an RSA nor an EC (P-256) public key in PEM")]
    BadPublicKey,
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("no key for tenant secrets: set SECRETS_KMS_KEY_ID (AWS KMS) or SECRETS_LOCAL_KEY")]
    MissingSecretsKey,
    #[error("set only one of SECRETS_KMS_KEY_ID and SECRETS_LOCAL_KEY")]
    TwoSecretsKeys,
    #[error("SECRETS_LOCAL_KEY is not a 32-byte key in base64")]
    BadSecretsKey,
    #[error(
        "no key for suppression digests: set SUPPRESSION_KMS_KEY_ID (AWS KMS) or SECRETS_LOCAL_KEY"
    )]
    MissingSuppressionKey,
    #[error("{name}={value} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// Time limits of every DynamoDB call. With the request deadline of the API (8 s) they fit in
/// the functions' 10 s timeout (template.yaml) and API Gateway's 30 s: a request never outlives
/// its function, and a hung store answers 503.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreTimeouts {
    /// Establishing a connection.
    pub connect: Duration,
    /// One attempt of a call, after which the SDK may retry.
    pub attempt: Duration,
    /// A whole call with its retries.
    pub operation: Duration,
}

impl Default for StoreTimeouts {
    fn default() -> Self {
        StoreTimeouts {
            connect: Duration::from_secs(1),
            attempt: Duration::from_secs(2),
            operation: Duration::from_secs(4),
        }
    }
}

/// Where the DynamoDB client goes and how it signs.
#[derive(Clone, Debug, Default)]
pub struct DynamoSettings {
    /// `DYNAMODB_ENDPOINT`: a DynamoDB-compatible endpoint instead of AWS's.
    pub endpoint: Option<String>,
    /// `AWS_REGION`, as Lambda sets it.
    pub region: Option<String>,
    /// Whether `AWS_ACCESS_KEY_ID` is set (Lambda sets the credentials); the SDK reads them.
    pub credentials_in_env: bool,
    pub timeouts: StoreTimeouts,
}

impl DynamoSettings {
    /// A local DynamoDB-compatible endpoint, signed with fixed local credentials.
    pub fn local(endpoint: &str) -> Self {
        DynamoSettings {
            endpoint: Some(endpoint.to_owned()),
            ..DynamoSettings::default()
        }
    }
}

/// Where tenant secrets' data keys come from (see `vault`).
#[derive(Clone, Debug, Default)]
pub struct SecretsSettings {
    /// `SECRETS_KMS_KEY_ID`: the AWS KMS key (id, ARN or alias) that protects the data keys.
    pub kms_key_id: Option<String>,
    /// `KMS_ENDPOINT`: a KMS-compatible endpoint instead of AWS's (moto, for tests).
    pub kms_endpoint: Option<String>,
    /// `SECRETS_LOCAL_KEY`: a base64 AES-256 key that protects the data keys instead of KMS
    /// (the local server, `sam local invoke`); without `SUPPRESSION_KMS_KEY_ID`, also the key
    /// of the suppression digests.
    pub local_key: Option<Secret>,
    /// `SUPPRESSION_KMS_KEY_ID`: the AWS KMS HMAC key of the suppression digests (SPEC 9).
    pub suppression_kms_key_id: Option<String>,
}

/// Everything a process reads from its environment. Blank values count as unset.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub jwt: JwtSettings,
    /// `TABLE_NAME`: required by the functions.
    pub table_name: Option<String>,
    pub dynamodb: DynamoSettings,
    pub secrets: SecretsSettings,
    /// `PUBLIC_BASE_URL`: the scheme and host callers use, for URLs signed by providers.
    pub public_base_url: Option<String>,
    /// `RUST_LOG`: the log filter.
    pub log_filter: Option<String>,
    /// `PORT`: the local server's port.
    pub port: Option<u16>,
    /// `EVENT_BUS_NAME`: where the change-events function publishes.
    pub event_bus_name: Option<String>,
    /// `WARM_STORE_AT_INIT` (default on; `false`, `0`, `no` or `off` turn it off): a function opens
    /// its DynamoDB connection during init, so the first invoke does not pay for it.
    pub warm_store_at_init: bool,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The settings from `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let port = match var("PORT") {
            None => None,
            Some(value) => Some(
                value
                    .trim()
                    .parse::<u16>()
                    .map_err(|_| ConfigError::Invalid {
                        name: "PORT",
                        value,
                        reason: "not a port number",
                    })?,
            ),
        };
        Ok(Settings {
            jwt: JwtSettings {
                secret: var("JWT_SECRET").map(Secret::new),
                // One-line deployment parameters carry PEM line breaks as `\n`.
                public_key_pem: var("JWT_PUBLIC_KEY").map(|k| k.replace("\\n", "\n")),
                issuer: var("JWT_ISSUER"),
                audience: var("JWT_AUDIENCE"),
            },
            table_name: var("TABLE_NAME"),
            dynamodb: DynamoSettings {
                endpoint: var("DYNAMODB_ENDPOINT"),
                region: var("AWS_REGION"),
                credentials_in_env: var("AWS_ACCESS_KEY_ID").is_some(),
                timeouts: StoreTimeouts::default(),
            },
            secrets: SecretsSettings {
                kms_key_id: var("SECRETS_KMS_KEY_ID"),
                kms_endpoint: var("KMS_ENDPOINT"),
                local_key: var("SECRETS_LOCAL_KEY").map(Secret::new),
                suppression_kms_key_id: var("SUPPRESSION_KMS_KEY_ID"),
            },
            public_base_url: var("PUBLIC_BASE_URL").map(|url| url.trim_end_matches('/').to_owned()),
            log_filter: var("RUST_LOG"),
            port,
            event_bus_name: var("EVENT_BUS_NAME"),
            warm_store_at_init: !var("WARM_STORE_AT_INIT").is_some_and(|v| {
                ["false", "0", "no", "off"].contains(&v.trim().to_ascii_lowercase().as_str())
            }),
        })
    }

    /// The table name a function needs.
    pub fn required_table_name(&self) -> Result<&str, ConfigError> {
        self.table_name
            .as_deref()
            .ok_or(ConfigError::Missing("TABLE_NAME"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn blank_values_are_unset_and_pem_line_breaks_are_restored() {
        let s = settings(&[
            ("JWT_SECRET", "  "),
            ("JWT_PUBLIC_KEY", "-----BEGIN-----\\nabc"),
            ("TABLE_NAME", "t"),
            ("PUBLIC_BASE_URL", "https://api.example.com/"),
        ])
        .expect("valid");
        assert!(s.jwt.secret.is_none());
        assert_eq!(
            s.jwt.public_key_pem.as_deref(),
            Some("-----BEGIN-----\nabc")
        );
        assert_eq!(s.required_table_name().ok(), Some("t"));
        assert_eq!(
            s.public_base_url.as_deref(),
            Some("https://api.example.com")
        );
        assert!(matches!(
            settings(&[]).expect("valid").required_table_name(),
            Err(ConfigError::Missing("TABLE_NAME"))
        ));
    }

    #[test]
    fn warming_the_store_at_init_is_on_unless_turned_off() {
        assert!(settings(&[]).expect("valid").warm_store_at_init);
        assert!(
            settings(&[("WARM_STORE_AT_INIT", "true")])
                .expect("valid")
                .warm_store_at_init
        );
        assert!(
            !settings(&[("WARM_STORE_AT_INIT", "Off")])
                .expect("valid")
                .warm_store_at_init
        );
    }

    #[test]
    fn a_bad_port_is_refused() {
        assert_eq!(
            settings(&[("PORT", "8080")]).expect("valid").port,
            Some(8080)
        );
        assert!(matches!(
            settings(&[("PORT", "http")]),
            Err(ConfigError::Invalid { name: "PORT", .. })
        ));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = settings(&[("JWT_SECRET", "hunter2-very-secret")]).expect("valid");
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            s.jwt.secret.as_ref().map(Secret::expose),
            Some("hunter2-very-secret")
        );
    }
}
