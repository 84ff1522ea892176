//! Bearer JWT authentication and the tenant it carries.

mod ring_crypto;

use std::collections::HashMap;
use std::sync::Mutex;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::config::{ConfigError, JwtSettings};
use crate::domain::TenantId;
use crate::error::ApiError;

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 60;

/// Who a verified bearer token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The `customerID` claim.
    pub tenant: TenantId,
    /// The `sub` claim: who acts, as recorded by writes that keep an author.
    pub subject: Option<String>,
    /// Present for a phone-auth token (`auth: "phone"`), which only routes asking for one accept.
    pub phone_auth: Option<PhoneAuth>,
}

/// The claims of a phone-auth token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneAuth {
    /// The `channelID` claim, when it is a positive integer.
    pub channel_id: Option<u64>,
}

/// The claims read from a verified token; the rest are ignored.
#[derive(Deserialize)]
struct Claims {
    #[serde(rename = "customerID", default)]
    customer_id: Value,
    #[serde(default)]
    sub: Value,
    #[serde(default)]
    auth: Value,
    #[serde(rename = "channelID", default)]
    channel_id: Value,
    /// Required and checked by the validation.
    #[serde(default)]
    exp: Value,
}

/// Verified tokens kept, at most: a token seen again skips its signature check until it expires.
const CACHED_TOKENS: usize = 512;

/// A positive integer given as a JSON number or a numeric string.
fn positive_integer(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .filter(|n| *n > 0)
}

pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
    /// Tokens verified already, with their principal and `exp`.
    verified: Mutex<HashMap<String, (Principal, i64)>>,
}

impl Authenticator {
    pub fn new(config: &JwtSettings) -> Result<Self, ConfigError> {
        ring_crypto::install();
        let (key, algorithm) = match (&config.secret, &config.public_key_pem) {
            (Some(_), Some(_)) => return Err(ConfigError::TwoKeys),
            (None, None) => return Err(ConfigError::MissingKey),
            // Settings read a blank secret as none; jsonwebtoken refuses an empty one too.
            (Some(secret), None) => (
                DecodingKey::from_secret(secret.expose().as_bytes())
                    .map_err(|_| ConfigError::MissingKey)?,
                Algorithm::HS256,
            ),
            (None, Some(pem)) => match DecodingKey::from_rsa_pem(pem.as_bytes()) {
                Ok(key) => (key, Algorithm::RS256),
                Err(_) => DecodingKey::from_ec_pem(pem.as_bytes())
                    .map(|key| (key, Algorithm::ES256))
                    .map_err(|_| ConfigError::BadPublicKey)?,
            },
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &config.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Ok(Authenticator {
            key,
            validation,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// The principal of a request from its `Authorization` header: 401 without a valid bearer
    /// token, 403 for a valid token without a usable `customerID` claim.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, ApiError> {
        let token = authorization
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(ApiError::MissingCredentials)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Some(principal) = self.cached(token, now) {
            return Ok(principal);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| ApiError::InvalidToken(describe(e.kind())))?
            .claims;
        let exp = claims
            .exp
            .as_i64()
            .or_else(|| claims.exp.as_f64().map(|e| e as i64));
        let principal = Self::principal(claims)?;
        if let (Some(exp), Ok(mut verified)) = (exp, self.verified.lock()) {
            if verified.len() >= CACHED_TOKENS {
                verified.retain(|_, (_, exp)| not_expired(now, *exp));
                if verified.len() >= CACHED_TOKENS {
                    verified.clear();
                }
            }
            verified.insert(token.to_owned(), (principal.clone(), exp));
        }
        Ok(principal)
    }

    /// The principal of a token verified before and not expired since (with the leeway).
    fn cached(&self, token: &str, now: i64) -> Option<Principal> {
        let verified = self.verified.lock().ok()?;
        let (principal, exp) = verified.get(token)?;
        not_expired(now, *exp).then(|| principal.clone())
    }

    /// The principal the claims of a verified token name: 403 without a usable `customerID`.
    fn principal(claims: Claims) -> Result<Principal, ApiError> {
        if claims.customer_id.is_null() {
            return Err(ApiError::Forbidden(
                "the token has no customerID claim".into(),
            ));
        }
        let tenant = positive_integer(&claims.customer_id)
            .and_then(TenantId::new)
            .ok_or_else(|| {
                ApiError::Forbidden("the token's customerID claim is not a positive integer".into())
            })?;
        let subject = match claims.sub {
            Value::String(s) => Some(s),
            Value::Null => None,
            other => Some(other.to_string()),
        };
        let phone_auth = claims
            .auth
            .as_str()
            .is_some_and(|a| a == "phone")
            .then(|| PhoneAuth {
                channel_id: positive_integer(&claims.channel_id),
            });
        Ok(Principal {
            tenant,
            subject,
            phone_auth,
        })
    }
}

/// What checks a request's bearer token: the JWT [`Authenticator`], or [`NoTokens`] in a function
/// whose routes take none (the webhooks': the JWT code stays out of its binary).
pub trait Tokens: Send + Sync {
    fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, ApiError>;
}

impl Tokens for Authenticator {
    fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, ApiError> {
        Authenticator::authenticate(self, authorization)
    }
}

/// A function whose routes take no bearer token: any is refused (401).
pub struct NoTokens;

impl Tokens for NoTokens {
    fn authenticate(&self, _authorization: Option<&str>) -> Result<Principal, ApiError> {
        Err(ApiError::InvalidToken(
            "this function's routes take no bearer token".into(),
        ))
    }
}

/// Whether a token expiring at `exp` is still good at `now`, with the leeway (an `exp` near
/// `i64::MAX` saturates rather than overflowing).
fn not_expired(now: i64, exp: i64) -> bool {
    now <= exp.saturating_add(LEEWAY_SECONDS as i64)
}

/// Why a token was refused, for the logs (never the token itself).
fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidAlgorithm => "algorithm not accepted".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::InvalidAudience => "wrong audience".into(),
        ErrorKind::ImmatureSignature => "not valid yet".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("missing claim {claim}"),
        _ => "malformed".into(),
    }
}

/// An HS256 token for `customer_id`, valid for `ttl_seconds`: the local server's ready token,
/// and the test suites'.
pub fn hs256_token(secret: &str, customer_id: u64, ttl_seconds: i64) -> Result<String, String> {
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + ttl_seconds;
    sign_hs256(
        secret,
        &serde_json::json!({ "customerID": customer_id, "exp": exp }),
    )
}

/// An HS256 token carrying `claims` as given.
pub fn sign_hs256(secret: &str, claims: &Value) -> Result<String, String> {
    ring_crypto::install();
    let key = EncodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "unit-test-secret";

    fn config() -> JwtSettings {
        JwtSettings::with_secret(SECRET)
    }

    fn sign(claims: Value, secret: &str) -> String {
        sign_hs256(secret, &claims).expect("sign")
    }

    fn in_one_hour() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + 3600
    }

    fn authenticate(config: &JwtSettings, token: &str) -> Result<Principal, ApiError> {
        Authenticator::new(config)
            .expect("valid config")
            .authenticate(Some(&format!("Bearer {token}")))
    }

    #[test]
    fn the_tenant_is_the_customer_id_claim_as_number_or_numeric_string() {
        let number = sign(
            serde_json::json!({"customerID": 42, "exp": in_one_hour()}),
            SECRET,
        );
        assert_eq!(
            authenticate(&config(), &number)
                .map(|p| p.tenant.get())
                .ok(),
            Some(42)
        );
        let string = sign(
            serde_json::json!({"customerID": "43", "exp": in_one_hour()}),
            SECRET,
        );
        assert_eq!(
            authenticate(&config(), &string)
                .map(|p| p.tenant.get())
                .ok(),
            Some(43)
        );
    }

    #[test]
    fn the_subject_and_phone_auth_claims_are_read() {
        let plain = sign(
            serde_json::json!({"customerID": 1, "sub": "agent-7", "exp": in_one_hour()}),
            SECRET,
        );
        let principal = authenticate(&config(), &plain).expect("valid");
        assert_eq!(principal.subject.as_deref(), Some("agent-7"));
        assert_eq!(principal.phone_auth, None);
        let phone = sign(
            serde_json::json!({"customerID": 1, "auth": "phone", "channelID": "12", "exp": in_one_hour()}),
            SECRET,
        );
        let principal = authenticate(&config(), &phone).expect("valid");
        assert_eq!(
            principal.phone_auth,
            Some(PhoneAuth {
                channel_id: Some(12)
            })
        );
        let no_channel = sign(
            serde_json::json!({"customerID": 1, "auth": "phone", "exp": in_one_hour()}),
            SECRET,
        );
        let principal = authenticate(&config(), &no_channel).expect("valid");
        assert_eq!(principal.phone_auth, Some(PhoneAuth { channel_id: None }));
        // SPEC 6 names `"phone"`: another spelling is no phone-auth token.
        let shouted = sign(
            serde_json::json!({"customerID": 1, "auth": "PHONE", "channelID": 12, "exp": in_one_hour()}),
            SECRET,
        );
        let principal = authenticate(&config(), &shouted).expect("valid");
        assert_eq!(principal.phone_auth, None);
    }

    #[test]
    fn an_expiry_at_the_end_of_time_is_verified_and_cached_without_overflow() {
        let token = sign(
            serde_json::json!({"customerID": 3, "exp": i64::MAX}),
            SECRET,
        );
        let auth = Authenticator::new(&config()).expect("valid config");
        let header = format!("Bearer {token}");
        for _ in 0..2 {
            let principal = auth.authenticate(Some(&header)).expect("valid");
            assert_eq!(principal.tenant.get(), 3);
        }
    }

    #[test]
    fn missing_or_unusable_tenant_is_forbidden() {
        for claim in [
            Value::Null,
            serde_json::json!("abc"),
            serde_json::json!(0),
            serde_json::json!(-3),
        ] {
            let token = sign(
                serde_json::json!({"customerID": claim, "exp": in_one_hour()}),
                SECRET,
            );
            let result = authenticate(&config(), &token);
            assert!(
                matches!(result, Err(ApiError::Forbidden(_))),
                "{claim}: {result:?}"
            );
        }
        let token = sign(serde_json::json!({"exp": in_one_hour()}), SECRET);
        assert!(matches!(
            authenticate(&config(), &token),
            Err(ApiError::Forbidden(_))
        ));
    }

    #[test]
    fn invalid_tokens_are_unauthorized() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let cases = [
            sign(
                serde_json::json!({"customerID": 1, "exp": in_one_hour()}),
                "other-secret",
            ),
            sign(
                serde_json::json!({"customerID": 1, "exp": now - 61}),
                SECRET,
            ),
            sign(serde_json::json!({"customerID": 1}), SECRET),
            "not.a.token".to_string(),
            // alg: none
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJjdXN0b21lcklEIjoxLCJleHAiOjQxMDI0NDQ4MDB9."
                .to_string(),
        ];
        for token in cases {
            let result = authenticate(&config(), &token);
            assert!(
                matches!(result, Err(ApiError::InvalidToken(_))),
                "{token}: {result:?}"
            );
        }
    }

    #[test]
    fn a_verified_token_is_remembered_until_it_expires() {
        let auth = Authenticator::new(&config()).expect("valid config");
        let exp = in_one_hour();
        let token = sign(serde_json::json!({"customerID": 9, "exp": exp}), SECRET);
        let header = format!("Bearer {token}");
        let principal = auth.authenticate(Some(&header)).expect("valid");
        assert_eq!(auth.cached(&token, exp), Some(principal.clone()));
        assert_eq!(auth.cached(&token, exp + 60), Some(principal));
        assert_eq!(
            auth.cached(&token, exp + 61),
            None,
            "expired, with the leeway"
        );
        // Only the very token verified: another signature over the same claims is checked.
        let forged = format!("{}x", &token[..token.len() - 1]);
        assert_eq!(auth.cached(&forged, exp), None);
        assert!(matches!(
            auth.authenticate(Some(&format!("Bearer {forged}"))),
            Err(ApiError::InvalidToken(_))
        ));
    }

    #[test]
    fn clock_leeway_is_sixty_seconds() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let token = sign(
            serde_json::json!({"customerID": 1, "exp": now - 30}),
            SECRET,
        );
        assert!(authenticate(&config(), &token).is_ok());
    }

    #[test]
    fn missing_or_foreign_schemes_are_missing_credentials() {
        let auth = Authenticator::new(&config()).expect("valid config");
        assert!(matches!(
            auth.authenticate(None),
            Err(ApiError::MissingCredentials)
        ));
        assert!(matches!(
            auth.authenticate(Some("Basic dXNlcjpwYXNz")),
            Err(ApiError::MissingCredentials)
        ));
    }

    #[test]
    fn issuer_and_audience_are_enforced_when_configured() {
        let config = JwtSettings {
            issuer: Some("https://issuer.example".into()),
            audience: Some("end-users".into()),
            ..config()
        };
        let good = sign(
            serde_json::json!({"customerID": 1, "exp": in_one_hour(), "iss": "https://issuer.example", "aud": "end-users"}),
            SECRET,
        );
        assert!(authenticate(&config, &good).is_ok());
        for claims in [
            serde_json::json!({"customerID": 1, "exp": in_one_hour(), "aud": "end-users"}),
            serde_json::json!({"customerID": 1, "exp": in_one_hour(), "iss": "https://other", "aud": "end-users"}),
            serde_json::json!({"customerID": 1, "exp": in_one_hour(), "iss": "https://issuer.example", "aud": "other"}),
        ] {
            let token = sign(claims.clone(), SECRET);
            assert!(
                matches!(
                    authenticate(&config, &token),
                    Err(ApiError::InvalidToken(_))
                ),
                "{claims}"
            );
        }
    }

    #[test]
    fn configuration_needs_exactly_one_key() {
        let none = JwtSettings {
            secret: None,
            ..config()
        };
        assert!(matches!(
            Authenticator::new(&none),
            Err(ConfigError::MissingKey)
        ));
        let both = JwtSettings {
            public_key_pem: Some("x".into()),
            ..config()
        };
        assert!(matches!(
            Authenticator::new(&both),
            Err(ConfigError::TwoKeys)
        ));
        let bad = JwtSettings {
            secret: None,
            public_key_pem: Some("not a key".into()),
            ..config()
        };
        assert!(matches!(
            Authenticator::new(&bad),
            Err(ConfigError::BadPublicKey)
        ));
    }
}
