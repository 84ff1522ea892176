//! jsonwebtoken's crypto backend on ring, the library rustls already links for TLS. jsonwebtoken's
//! bundled backends would add a second one (aws-lc, or the RustCrypto stack for every algorithm):
//! this one verifies exactly the algorithms SPEC 2 allows (HS256, RS256, ES256) and signs HS256
//! (the local server's ready token).

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::hmac;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};

static RING: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    // JWK thumbprints and key components are not used by this service.
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes ring jsonwebtoken's backend for this process; later calls change nothing.
pub fn install() {
    // Err only means a backend is installed already, which is then this one.
    let _ = RING.install_default();
}

struct Hs256Signer(hmac::Key);

impl Signer<Vec<u8>> for Hs256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(hmac::sign(&self.0, message).as_ref().to_vec())
    }
}

impl JwtSigner for Hs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    match (algorithm, key.family()) {
        (Algorithm::HS256, AlgorithmFamily::Hmac) => Ok(Box::new(Hs256Signer(hmac::Key::new(
            hmac::HMAC_SHA256,
            key.as_bytes(),
        )))),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

enum VerifyingKey {
    Hmac(hmac::Key),
    /// PKCS#1 `RSAPublicKey` DER.
    RsaDer(Vec<u8>),
    RsaComponents {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Uncompressed P-256 point.
    P256(Vec<u8>),
}

struct RingVerifier {
    algorithm: Algorithm,
    key: VerifyingKey,
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let verified = match &self.key {
            VerifyingKey::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            VerifyingKey::RsaDer(der) => UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
                .verify(message, signature)
                .is_ok(),
            VerifyingKey::RsaComponents { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            VerifyingKey::P256(point) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
                .is_ok(),
        };
        if verified {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// A verifier only where the token's algorithm fits the configured key's family, so an HS256
/// token "signed" with a public key's text never verifies.
fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    let key = match (algorithm, key.family(), key.kind()) {
        (Algorithm::HS256, AlgorithmFamily::Hmac, DecodingKeyKind::SecretOrDer(secret)) => {
            VerifyingKey::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret))
        }
        (Algorithm::RS256, AlgorithmFamily::Rsa, DecodingKeyKind::SecretOrDer(der)) => {
            VerifyingKey::RsaDer(der.clone())
        }
        (Algorithm::RS256, AlgorithmFamily::Rsa, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            VerifyingKey::RsaComponents {
                n: n.clone(),
                e: e.clone(),
            }
        }
        (Algorithm::ES256, AlgorithmFamily::Ec, DecodingKeyKind::SecretOrDer(point)) => {
            VerifyingKey::P256(point.clone())
        }
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        key,
    }))
}
