//! Cursors of cursor-paged lists (SPEC 7): opaque to callers and tamper-evident. A cursor is
//! base64url of its tenant, its list's position and an HMAC-SHA256 tag over both, keyed with a
//! key of the deployment; a forged, truncated or other tenant's cursor is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::{digest, hmac};

use crate::domain::TenantId;
use crate::domain::errors::FieldErrors;

/// Bytes of an HMAC-SHA256 tag.
const TAG_BYTES: usize = 32;
const LABEL: &[u8] = b"answerpal cursor v1";

/// The key cursors are signed with.
#[derive(Clone)]
pub struct CursorKey(hmac::Key);

impl CursorKey {
    /// The key of a deployment: derived from its JWT key (the HS256 secret, or else the public
    /// key).
    pub fn from_jwt(jwt: &crate::config::JwtSettings) -> Self {
        let material = match (&jwt.secret, &jwt.public_key_pem) {
            (Some(secret), _) => secret.expose().as_bytes().to_vec(),
            (None, Some(pem)) => pem.as_bytes().to_vec(),
            (None, None) => Vec::new(),
        };
        Self::derived_from(&material)
    }

    /// A key derived from `material`, a secret of the deployment (the JWT key).
    pub fn derived_from(material: &[u8]) -> Self {
        let mut context = digest::Context::new(&digest::SHA256);
        context.update(LABEL);
        context.update(material);
        CursorKey(hmac::Key::new(hmac::HMAC_SHA256, context.finish().as_ref()))
    }

    /// The cursor of `tenant`'s list at `position` (what the list reads after).
    pub fn seal(&self, tenant: TenantId, position: &str) -> String {
        let payload = format!("{}:{position}", tenant.get());
        let tag = hmac::sign(&self.0, payload.as_bytes());
        let mut bytes = payload.into_bytes();
        bytes.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position `cursor` names for `tenant`; a 400 naming `cursor` for any other.
    pub fn open(&self, tenant: TenantId, cursor: &str) -> Result<String, FieldErrors> {
        let refused = || FieldErrors::single("cursor", "is not a cursor of this list");
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refused())?;
        let split = bytes.len().checked_sub(TAG_BYTES).ok_or_else(refused)?;
        let (payload, tag) = bytes.split_at(split);
        let genuine = hmac::verify(&self.0, payload, tag).is_ok();
        let text = std::str::from_utf8(payload).map_err(|_| refused())?;
        let (owner, position) = text.split_once(':').ok_or_else(refused)?;
        if !genuine || owner != tenant.get().to_string() {
            return Err(refused());
        }
        Ok(position.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: u64) -> TenantId {
        TenantId::new(id).expect("a tenant")
    }

    #[test]
    fn a_cursor_opens_for_its_tenant_only() {
        let key = CursorKey::derived_from(b"secret");
        let cursor = key.seal(tenant(1), "asc:1234");
        assert_eq!(key.open(tenant(1), &cursor).as_deref(), Ok("asc:1234"));
        assert!(key.open(tenant(2), &cursor).is_err(), "another tenant's");
        let other = CursorKey::derived_from(b"another deployment");
        assert!(other.open(tenant(1), &cursor).is_err(), "another key's");
    }

    #[test]
    fn forged_and_truncated_cursors_are_refused() {
        let key = CursorKey::derived_from(b"secret");
        let cursor = key.seal(tenant(1), "asc:1234");
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("base64");
        bytes[3] ^= 1;
        let forged = URL_SAFE_NO_PAD.encode(&bytes);
        let unsigned = URL_SAFE_NO_PAD.encode(b"1:asc:9999");
        for bad in [
            forged.as_str(),
            &cursor[..cursor.len() - 2],
            unsigned.as_str(),
            "",
            "not base64!",
        ] {
            let errors = key.open(tenant(1), bad).expect_err(bad);
            assert!(errors.contains("cursor"), "{bad}");
        }
    }
}
