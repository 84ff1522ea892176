//! RS256 and ES256 verification with a configured public key.

use std::sync::Arc;

use answerpal::auth::{AuthConfig, Authenticator};
use answerpal::http::{ALL_FAMILIES, Api};
use answerpal::store::memory::MemoryTable;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lambda_http::{Body, http};
use serde_json::json;

const RSA_PRIVATE: &str = include_str!("../fixtures/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../fixtures/rsa-public.pem");
const EC_PRIVATE: &str = include_str!("../fixtures/ec-private.pem");
const EC_PUBLIC: &str = include_str!("../fixtures/ec-public.pem");

fn api_with_public_key(pem: &str) -> Api {
    let config = AuthConfig {
        secret: None,
        public_key_pem: Some(pem.to_owned()),
        issuer: Some("https://login.example".into()),
        audience: None,
    };
    Api::new(
        Arc::new(MemoryTable::new()),
        Authenticator::new(&config).expect("public key config"),
        ALL_FAMILIES,
    )
}

fn claims() -> serde_json::Value {
    json!({"customerID": "5", "exp": 4102444800u64, "iss": "https://login.example"})
}

async fn status(api: &Api, token: &str) -> u16 {
    let request = http::Request::builder()
        .uri("/api/EndUsers")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::Empty)
        .expect("request");
    api.handle(request).await.status().as_u16()
}

#[tokio::test]
async fn rs256_tokens_verify_against_the_public_key() {
    let api = api_with_public_key(RSA_PUBLIC);
    let key = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa key");
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims(), &key).expect("sign");
    assert_eq!(status(&api, &token).await, 200);
    // An HS256 token "signed" with the public key text must not pass (algorithm confusion).
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
    )
    .expect("sign");
    assert_eq!(status(&api, &confused).await, 401);
}

#[tokio::test]
async fn es256_tokens_verify_against_the_public_key() {
    let api = api_with_public_key(EC_PUBLIC);
    let key = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).expect("ec key");
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims(), &key).expect("sign");
    assert_eq!(status(&api, &token).await, 200);
    let without_issuer = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &json!({"customerID": 5, "exp": 4102444800u64}),
        &key,
    )
    .expect("sign");
    assert_eq!(
        status(&api, &without_issuer).await,
        401,
        "JWT_ISSUER is enforced"
    );
}
