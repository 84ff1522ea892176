//! RS256 and ES256 verification with a configured public key.

use std::sync::Arc;

use answerpal::config::JwtSettings;
use answerpal::http::Api;
use answerpal::store::memory::MemoryTable;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Body, http};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::{Value, json};

const RSA_PRIVATE: &[u8] = include_bytes!("../fixtures/rsa-private.pk8");
const RSA_PUBLIC: &str = include_str!("../fixtures/rsa-public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../fixtures/ec-private.pk8");
const EC_PUBLIC: &str = include_str!("../fixtures/ec-public.pem");

/// A compact JWS, signed here independently of the service's own crypto.
fn token(alg: &str, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(sign(signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

fn rs256(claims: &Value) -> String {
    let key = RsaKeyPair::from_pkcs8(RSA_PRIVATE).expect("rsa key");
    token("RS256", claims, |message| {
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message,
            &mut signature,
        )
        .expect("rsa signature");
        signature
    })
}

fn es256(claims: &Value) -> String {
    let rng = SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, EC_PRIVATE, &rng)
        .expect("ec key");
    token("ES256", claims, |message| {
        key.sign(&rng, message)
            .expect("ecdsa signature")
            .as_ref()
            .to_vec()
    })
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    token("HS256", claims, |message| {
        ring::hmac::sign(&key, message).as_ref().to_vec()
    })
}

fn api_with_public_key(pem: &str) -> Api {
    let jwt = JwtSettings {
        public_key_pem: Some(pem.to_owned()),
        issuer: Some("https://login.example".into()),
        ..JwtSettings::default()
    };
    answerpal_testkit::api_on(
        Arc::new(MemoryTable::new()),
        answerpal_testkit::local_vault(),
        &jwt,
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
    assert_eq!(status(&api, &rs256(&claims())).await, 200);
    let mut tampered = rs256(&claims());
    tampered.insert(tampered.len() - 2, 'A');
    assert_eq!(status(&api, &tampered).await, 401);
    // An HS256 token "signed" with the public key's text must not pass (algorithm confusion).
    let confused = hs256(&claims(), RSA_PUBLIC.as_bytes());
    assert_eq!(status(&api, &confused).await, 401);
    // A token of the other asymmetric algorithm does not verify either.
    assert_eq!(status(&api, &es256(&claims())).await, 401);
}

#[tokio::test]
async fn es256_tokens_verify_against_the_public_key() {
    let api = api_with_public_key(EC_PUBLIC);
    assert_eq!(status(&api, &es256(&claims())).await, 200);
    let without_issuer = es256(&json!({"customerID": 5, "exp": 4102444800u64}));
    assert_eq!(
        status(&api, &without_issuer).await,
        401,
        "JWT_ISSUER is enforced"
    );
    let expired =
        es256(&json!({"customerID": 5, "exp": 1_000_000_000u64, "iss": "https://login.example"}));
    assert_eq!(status(&api, &expired).await, 401);
    assert_eq!(status(&api, &rs256(&claims())).await, 401);
}

#[tokio::test]
async fn hs256_tokens_signed_elsewhere_verify_against_the_secret() {
    let api = answerpal_testkit::api_on(
        Arc::new(MemoryTable::new()),
        answerpal_testkit::local_vault(),
        &JwtSettings::with_secret("shared-secret"),
    );
    assert_eq!(status(&api, &hs256(&claims(), b"shared-secret")).await, 200);
    assert_eq!(status(&api, &hs256(&claims(), b"other-secret")).await, 401);
}
