//! Idempotency keys (SPEC 7): a POST with `Idempotency-Key` runs once per key and tenant; its
//! repeats are told apart from another request with the same key by a fingerprint of the request.

use ring::digest;
use serde::{Deserialize, Serialize};

/// An `Idempotency-Key` value: 1 to 255 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// The most characters a key has.
pub const MAX_KEY_CHARS: usize = 255;

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > MAX_KEY_CHARS {
            return Err(format!("must be 1 to {MAX_KEY_CHARS} characters"));
        }
        if !raw.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err("must be printable ASCII".into());
        }
        Ok(IdempotencyKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A response as an idempotency record keeps it: what a repeat of its request answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The version its `ETag` names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// What makes two requests with one key the same request: the method, the path and the body.
/// A JSON body counts by its value (member order and spacing aside, as a client that
/// serializes again on retry sends it); any other body by its bytes.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(method.as_bytes());
    context.update(b" ");
    context.update(path.as_bytes());
    context.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        // serde_json's maps sort their keys: one text per value.
        Ok(value) => context.update(value.to_string().as_bytes()),
        Err(_) => context.update(body),
    }
    context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_printable_ascii_characters() {
        for good in ["a", "order-7/retry 1", &"k".repeat(255), "~!@#$%^&*()"] {
            assert!(IdempotencyKey::parse(good).is_ok(), "{good:?}");
        }
        for bad in ["", &"k".repeat(256), "tab\there", "é", "nul\0", "del\u{7f}"] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_fingerprint_tells_requests_apart_but_not_the_order_of_members() {
        let of = |body: &str| fingerprint("POST", "/api/EndUsers", body.as_bytes());
        assert_eq!(of(r#"{"a": 1, "b": [2]}"#), of(r#"{"b":[2],"a":1}"#));
        assert_ne!(of(r#"{"a": 1}"#), of(r#"{"a": 2}"#));
        assert_ne!(of("{"), of("{ "), "bytes of a body that is no JSON");
        assert_ne!(
            fingerprint("POST", "/api/EndUsers/1/merge", b"{}"),
            fingerprint("POST", "/api/EndUsers/2/merge", b"{}")
        );
        assert_eq!(of("{}").len(), 64);
    }
}
