//! The end user an unknown sender becomes.

use super::Inbound;
use crate::domain::Timestamp;
use crate::domain::end_user::{self, EndUserBody};
use crate::domain::ids::IdBlock;
use crate::domain::uid::{Uid, UidType};
use crate::error::ApiError;

/// Longest name taken from a provider's display name.
const MAX_NAME_CHARS: usize = 200;

/// A new `Lead` holding the sender's UID (primary), and its e-mail when free, named by the
/// provider's display name when that is a valid name.
pub(super) fn new_lead(
    inbound: &Inbound,
    email: Option<&Uid>,
    block: &mut IdBlock,
    now: Timestamp,
) -> Result<end_user::Revision, ApiError> {
    let mut uids = vec![serde_json::json!({
        "uidType": inbound.sender.uid_type().as_str(),
        "uid": inbound.sender.value(),
        "isPrimary": true,
    })];
    uids.extend(email.map(
        |email| serde_json::json!({"uidType": UidType::Email.as_str(), "uid": email.value()}),
    ));
    let name: Option<String> = inbound
        .display_name
        .as_deref()
        .map(|name| {
            name.chars()
                .filter(|c| !c.is_control())
                .take(MAX_NAME_CHARS)
                .collect::<String>()
        })
        .filter(|name| !name.trim().is_empty());
    let body = |name: Option<&String>| -> Result<EndUserBody, ApiError> {
        serde_json::from_value(serde_json::json!({"name": name, "uids": uids}))
            .map_err(|e| ApiError::Internal(format!("a new end user's body: {e}")))
    };
    match end_user::create(&body(name.as_ref())?, block, now) {
        Ok(revision) => Ok(revision),
        // A display name the end user rules refuse is left out rather than losing the message.
        Err(_) if name.is_some() => end_user::create(&body(None)?, block, now)
            .map_err(|errors| ApiError::Internal(format!("a new end user: {errors:?}"))),
        Err(errors) => Err(ApiError::Internal(format!("a new end user: {errors:?}"))),
    }
}
