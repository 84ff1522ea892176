//! Linking a UID to an end user (`POST /api/EndUserUIDs/assign`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::duplicates;
use super::end_users::{load, one_transaction};
use super::unit_of_work::{self, Exhausted, Record, Step};
use crate::domain::change;
use crate::domain::consent::{Consent, ConsentChange, ConsentStatus};
use crate::domain::end_user::{EndUser, MAX_UIDS, StoredUid, primary_ids};
use crate::domain::errors::FieldErrors;
use crate::domain::ids::IdBlock;
use crate::domain::uid::{Uid, UidType};
use crate::domain::{MAX_ID, TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::{self, Table};
use crate::vault::suppression::Suppressions;

/// AssignUIDRequest as sent.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignBody {
    pub uid: Option<String>,
    #[serde(rename = "endUserID")]
    pub end_user_id: Option<u64>,
    #[serde(rename = "uidType")]
    pub uid_type: Option<String>,
    #[serde(rename = "isPrimary")]
    pub is_primary: Option<bool>,
    /// The desk's word on the address: `optedIn` or `optedOut` (SPEC 9).
    pub consent: Option<String>,
}

/// An assign request whose fields are present and well-formed; the UID value itself can only be
/// normalized once the end user (and its country) is known.
#[derive(Debug)]
pub struct AssignRequest {
    end_user_id: u64,
    uid_type: UidType,
    raw_uid: String,
    is_primary: bool,
    consent: Option<ConsentStatus>,
}

impl AssignRequest {
    pub fn parse(body: AssignBody) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let end_user_id = match body.end_user_id {
            Some(id) if (1..=MAX_ID).contains(&id) => id,
            Some(_) => {
                errors.add(
                    "endUserID",
                    format!("must be a positive integer of at most {MAX_ID}"),
                );
                0
            }
            None => {
                errors.add("endUserID", "is required");
                0
            }
        };
        let uid_type = match body.uid_type.as_deref().map(UidType::parse) {
            Some(Ok(t)) => Some(t),
            Some(Err(message)) => {
                errors.add("uidType", message);
                None
            }
            None => {
                errors.add("uidType", "is required");
                None
            }
        };
        if body.uid.is_none() {
            errors.add("uid", "is required");
        }
        let consent = match body.consent.as_deref().map(ConsentStatus::parse_desk) {
            Some(Ok(status)) => Some(status),
            Some(Err(message)) => {
                errors.add("consent", message);
                None
            }
            None => None,
        };
        match (uid_type, body.uid) {
            (Some(uid_type), Some(raw_uid)) if errors.is_empty() => Ok(AssignRequest {
                end_user_id,
                uid_type,
                raw_uid,
                is_primary: body.is_primary.unwrap_or(false),
                consent,
            }),
            _ => Err(ApiError::Validation(errors)),
        }
    }

    /// Links `uid` (normalized already) to end user `end_user_id`, not as its primary.
    pub fn for_uid(uid: Uid, end_user_id: u64) -> Self {
        AssignRequest {
            end_user_id,
            uid_type: uid.uid_type(),
            raw_uid: uid.value().to_owned(),
            is_primary: false,
            consent: None,
        }
    }
}

/// The link as answered.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Link {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    #[serde(rename = "endUserUIDID")]
    pub end_user_uid_id: u64,
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    #[serde(rename = "uidType")]
    pub uid_type: UidType,
    pub uid: String,
    #[serde(rename = "isPrimary")]
    pub is_primary: bool,
    pub consent: Consent,
}

pub enum Assigned {
    /// The end user already held the UID (200).
    Existing(Link),
    /// A new link (201).
    Created(Link),
}

/// The link of `uid` on `user` as answered.
fn link(user: &EndUser, uid: &Uid, message: Option<&'static str>) -> Result<Link, ApiError> {
    let stored = user.find_uid(uid).ok_or_else(|| {
        ApiError::Internal("the assigned UID is missing from its end user".into())
    })?;
    Ok(Link {
        message,
        end_user_uid_id: stored.id,
        end_user_id: user.id,
        uid_type: stored.uid_type,
        uid: stored.uid.clone(),
        is_primary: primary_ids(&user.uids).contains(&stored.id),
        consent: stored.consent(),
    })
}

pub async fn assign(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    request: &AssignRequest,
    record: Option<&dyn Record<Assigned>>,
) -> Result<Assigned, ApiError> {
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| async {
        let current = load(table, tenant, request.end_user_id).await?;
        let uid = Uid::parse(request.uid_type, &request.raw_uid, current.country)
            .map_err(|m| ApiError::Validation(FieldErrors::single("uid", m)))?;
        let now = Timestamp::now();
        let consent = request.consent.map(|s| ConsentChange::by_desk(s, now));
        if let Some(existing) = current.find_uid(&uid) {
            let message = Some("The UID is already linked to this end user.");
            let mut next = current.next_version(now);
            if request.is_primary {
                next.mark_primary(existing.id);
            }
            if let Some(consent) = consent {
                next.set_consent(&uid, consent);
            }
            if next.uids == current.uids {
                return Ok(Step::Done(Assigned::Existing(link(
                    &current, &uid, message,
                )?)));
            }
            let tx = one_transaction(store::end_user::changes(
                tenant,
                Some(&current),
                Some(&next),
                None,
                &HashMap::new(),
                now,
            )?)?;
            let answer = Assigned::Existing(link(&next, &uid, message)?);
            let changes = change::of_end_user(tenant, Some(&current), Some(&next), now);
            return Ok(Step::announce(tx, answer, changes, now));
        }

        let mut block = IdBlock::for_existing_end_user();
        let Some(mut next) = with_new_uid(&current, &uid, request.is_primary, &mut block, now)?
        else {
            return Err(ApiError::Validation(FieldErrors::single(
                "uid",
                format!("the end user already holds {MAX_UIDS} UIDs, the most allowed"),
            )));
        };
        if let Some(consent) = consent {
            next.set_consent(&uid, consent);
        }
        let (checks, suspected) =
            duplicates::screened(table, suppressions, tenant, Some(&current), &mut next, now)
                .await?;
        let paths = HashMap::from([(uid.clone(), "uid".to_string())]);
        let mut tx = store::end_user::changes(
            tenant,
            Some(&current),
            Some(&next),
            Some(&block),
            &paths,
            now,
        )?;
        tx.push_all(checks);
        let tx = one_transaction(tx)?;
        let answer = Assigned::Created(link(&next, &uid, None)?);
        let mut changes = change::of_end_user(tenant, Some(&current), Some(&next), now);
        changes.extend(suspected);
        Ok(Step::announce(tx, answer, changes, now))
    })
    .await
}

/// `current` at its next version with `uid` linked under the next ID of `block` (its primary
/// when asked); `None` when it holds the most UIDs allowed already.
pub(super) fn with_new_uid(
    current: &EndUser,
    uid: &Uid,
    primary: bool,
    block: &mut IdBlock,
    now: Timestamp,
) -> Result<Option<EndUser>, ApiError> {
    if current.uids.len() >= MAX_UIDS {
        return Ok(None);
    }
    let id = block
        .next_id()
        .ok_or_else(|| ApiError::Internal("empty ID block".into()))?;
    let mut next = current.next_version(now);
    next.uids.push(StoredUid::new(id, uid, false));
    next.uids.sort_by_key(|u| u.id);
    if primary {
        next.mark_primary(id);
    }
    Ok(Some(next))
}
