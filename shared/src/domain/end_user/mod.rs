//! The end user: its stored record, the request bodies that change it, the rules of a change and
//! the DTO it is read as.

mod attributes;
mod body;
mod erasure;
mod listing;
mod merge;
mod revision;
mod uid_list;
mod unmerge;
mod view;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use attributes::{AttributeValue, Attributes, MAX_ATTRIBUTES, filter as attribute_filter};
pub use body::{EndUserBody, UidEntry};
pub use erasure::{ANONYMIZED_NAME, Erasure};
pub use listing::{EndUserSummary, ListQuery, SORT_FIELDS, SortField, select_page};
pub use merge::{Folded, MergeRecord, MergeView, Tombstone, fold};
pub use revision::{Revision, create, parse_reference, update};
pub use unmerge::{ERASED, Unfolded, unfold};
pub use view::{EndUserView, UidView};

use super::Timestamp;
use super::consent::{self, Consent, ConsentChange, ConsentEntry};
use super::fields::{CountryCode, CustomerType};
use super::uid::{Uid, UidType};

pub const MAX_UIDS: usize = 50;

/// One UID as stored on its end user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUid {
    #[serde(rename = "endUserUIDID")]
    pub id: u64,
    #[serde(rename = "uidType")]
    pub uid_type: UidType,
    pub uid: String,
    /// Marked primary by a caller. The effective primary is derived: see [`primary_ids`].
    #[serde(rename = "isPrimary")]
    pub marked_primary: bool,
    /// Its consent changes, oldest first (SPEC 9): they travel with the UID through merge and
    /// undo, and go with it when it is unlinked or its value changes (another address).
    #[serde(
        rename = "consentHistory",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub consent_history: Vec<ConsentChange>,
}

impl StoredUid {
    /// A UID not yet given any consent.
    pub fn new(id: u64, uid: &Uid, marked_primary: bool) -> Self {
        StoredUid {
            id,
            uid_type: uid.uid_type(),
            uid: uid.value().to_owned(),
            marked_primary,
            consent_history: Vec::new(),
        }
    }

    pub fn as_uid(&self) -> Uid {
        Uid::from_stored(self.uid_type, self.uid.clone())
    }

    pub fn consent(&self) -> Consent {
        consent::current(&self.consent_history)
    }

    /// Records `change` of its consent; `false` when it holds that status already.
    pub fn set_consent(&mut self, change: ConsentChange) -> bool {
        consent::record(&mut self.consent_history, change)
    }

    fn matches(&self, uid: &Uid) -> bool {
        self.uid_type == uid.uid_type() && self.uid == uid.value()
    }
}

/// The stored end user. UIDs live on the record (at most 50), so one read returns all of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUser {
    #[serde(rename = "endUserID")]
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// The display name as given; `None` derives it from first and last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_contact_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_documentation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    pub customer_type: CustomerType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Ordered by ID.
    #[serde(default)]
    pub uids: Vec<StoredUid>,
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
    /// The end users merged into this one (directly or through merged ones): their tickets
    /// list under it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymized_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure: Option<Erasure>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented by every write; writes are conditional on the version they read.
    pub version: u64,
}

/// `firstname lastname`, trimmed, from whichever parts are set.
pub fn display_name(name: Option<&str>, firstname: Option<&str>, lastname: Option<&str>) -> String {
    match name {
        Some(name) => name.to_owned(),
        None => [firstname, lastname]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The IDs of the effective primary UID of each type: the marked one, or else the lowest ID.
pub fn primary_ids(uids: &[StoredUid]) -> HashSet<u64> {
    let mut primary: HashMap<UidType, &StoredUid> = HashMap::new();
    for uid in uids {
        let current = primary.entry(uid.uid_type).or_insert(uid);
        let better = (uid.marked_primary, std::cmp::Reverse(uid.id))
            > (current.marked_primary, std::cmp::Reverse(current.id));
        if better {
            *current = uid;
        }
    }
    primary.values().map(|u| u.id).collect()
}

impl EndUser {
    fn empty(id: u64, now: Timestamp) -> Self {
        EndUser {
            id,
            firstname: None,
            lastname: None,
            name: None,
            gender: None,
            other_contact_details: None,
            ai_documentation: None,
            customer_ref: None,
            customer_type: CustomerType::default(),
            country: None,
            lang: None,
            street: None,
            house_number: None,
            postal_code: None,
            city: None,
            company: None,
            uids: Vec::new(),
            attributes: Attributes::new(),
            merged_from: Vec::new(),
            anonymized_at: None,
            erasure: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn find_uid(&self, uid: &Uid) -> Option<&StoredUid> {
        self.uids.iter().find(|u| u.matches(uid))
    }

    /// The record as its next version changed at `now`.
    pub fn next_version(&self, now: Timestamp) -> EndUser {
        EndUser {
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }

    /// Records `change` of the consent of its UID `uid`; `false` when it does not hold `uid` or
    /// holds it with that status already.
    pub fn set_consent(&mut self, uid: &Uid, change: ConsentChange) -> bool {
        self.uids
            .iter_mut()
            .find(|u| u.matches(uid))
            .is_some_and(|held| held.set_consent(change))
    }

    /// Its UID `uid` starts opted out: the address was suppressed (SPEC 9).
    pub fn suppress(&mut self, uid: &Uid, at: Timestamp) {
        if let Some(held) = self.uids.iter_mut().find(|u| u.matches(uid)) {
            consent::start_suppressed(&mut held.consent_history, at);
        }
    }

    /// Every consent change of its UIDs, newest first.
    pub fn consent_entries(&self) -> Vec<ConsentEntry> {
        let mut entries: Vec<ConsentEntry> = self
            .uids
            .iter()
            .flat_map(|uid| {
                uid.consent_history.iter().rev().map(|change| ConsentEntry {
                    uid_type: uid.uid_type,
                    uid: uid.uid.clone(),
                    status: change.status,
                    at: change.at,
                    source: change.source.clone(),
                })
            })
            .collect();
        // Stable: one UID's changes of the same second stay newest first.
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.at));
        entries
    }

    /// Marks `id` primary and unmarks the other UIDs of its type.
    pub fn mark_primary(&mut self, id: u64) {
        let Some(uid_type) = self.uids.iter().find(|u| u.id == id).map(|u| u.uid_type) else {
            return;
        };
        for uid in self.uids.iter_mut().filter(|u| u.uid_type == uid_type) {
            uid.marked_primary = uid.id == id;
        }
    }
}

/// Set-up shared by the tests of this module's files.
#[cfg(test)]
pub(crate) mod test_support {
    pub use super::{EndUser, EndUserBody, Revision};
    pub use crate::domain::Timestamp;
    pub use crate::domain::errors::FieldErrors;
    use crate::domain::ids::IdBlock;

    pub fn body(json: serde_json::Value) -> EndUserBody {
        serde_json::from_value(json).expect("body deserializes")
    }

    pub fn now() -> Timestamp {
        Timestamp::try_from("2026-11-22T10:15:30Z".to_string()).expect("valid")
    }

    pub fn created(json: serde_json::Value) -> EndUser {
        super::create(&body(json), &mut IdBlock::for_new_end_user(), now())
            .expect("valid create")
            .user
    }

    pub fn errors_of(result: Result<Revision, FieldErrors>) -> FieldErrors {
        result.expect_err("expected validation errors")
    }
}
