//! The signatures channel providers put on their webhook requests, checked in constant time
//! (`ring::hmac::verify`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// Twilio's `X-Twilio-Signature`: base64 of the HMAC-SHA1, keyed with the account's auth token,
/// of the URL Twilio called followed by every POST parameter name and value, sorted by name,
/// with no separators.
pub fn twilio_is_valid(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let Ok(signature) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    hmac::verify(
        &twilio_key(auth_token),
        twilio_signed_text(url, params).as_bytes(),
        &signature,
    )
    .is_ok()
}

/// The `X-Twilio-Signature` Twilio sends for `params` posted to `url` (what a provider sends).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let tag = hmac::sign(
        &twilio_key(auth_token),
        twilio_signed_text(url, params).as_bytes(),
    );
    STANDARD.encode(tag.as_ref())
}

fn twilio_key(auth_token: &str) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes())
}

/// The URL followed by every parameter name and value, sorted by name.
fn twilio_signed_text(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut signed = String::from(url);
    for (name, value) in sorted {
        signed.push_str(name);
        signed.push_str(value);
    }
    signed
}

/// `X-Webhook-Signature: sha256=<lower-case hex of the HMAC-SHA256 of the raw body>`, keyed with
/// the tenant's webhook signing secret.
pub fn sha256_is_valid(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(signature) = header.trim().strip_prefix("sha256=").and_then(hex) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::verify(&key, body, &signature).is_ok()
}

/// The header value [`sha256_is_valid`] accepts for `body` (what a provider sends).
pub fn sha256_header(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The bytes of lower-case (or upper-case) hex; `None` for anything else.
fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The example of Twilio's request-validation documentation and helper-library tests.
    #[test]
    fn twilio_signatures_match_the_published_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sent = params(&[
            ("To", "+18005551212"),
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("Caller", "+14158675309"),
        ]);
        assert!(twilio_is_valid(
            "12345",
            url,
            &sent,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert_eq!(
            twilio_signature("12345", url, &sent),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(!twilio_is_valid(
            "12346",
            url,
            &sent,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!twilio_is_valid(
            "12345",
            "https://mycompany.com/myapp.php",
            &sent,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!twilio_is_valid("12345", url, &sent, "not base64!"));
        let mut changed = sent.clone();
        changed[2].1 = "1235".into();
        assert!(!twilio_is_valid(
            "12345",
            url,
            &changed,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn sha256_signatures_cover_the_raw_body() {
        let body = br#"{"messageID":"m-1"}"#;
        let header = sha256_header("whsec", body);
        assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
        assert!(sha256_is_valid("whsec", body, &header));
        assert!(sha256_is_valid(
            "whsec",
            body,
            &header.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(!sha256_is_valid("other", body, &header));
        assert!(!sha256_is_valid(
            "whsec",
            br#"{"messageID":"m-2"}"#,
            &header
        ));
        for bad in ["", "sha256=", "sha1=00", "sha256=zz", &header[7..]] {
            assert!(!sha256_is_valid("whsec", body, bad), "{bad}");
        }
    }
}
