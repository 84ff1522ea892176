//! EndUserReadDTO: the end user as every response returns it.

use serde::Serialize;

use super::{Attributes, EndUser, Erasure, StoredUid, display_name, primary_ids};
use crate::domain::Timestamp;
use crate::domain::consent::Consent;
use crate::domain::fields::{CountryCode, CustomerType};
use crate::domain::uid::UidType;

/// EndUserReadDTO.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndUserView {
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub name: String,
    pub gender: Option<String>,
    pub other_contact_details: Option<String>,
    pub ai_documentation: Option<String>,
    pub customer_ref: Option<String>,
    pub customer_type: CustomerType,
    pub country: Option<CountryCode>,
    pub lang: Option<String>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub company: Option<String>,
    pub uids: Vec<UidView>,
    #[cfg_attr(feature = "openapi", schema(schema_with = super::attributes::stored_schema))]
    pub attributes: Attributes,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set once anonymized (SPEC 7), with how far the erasure of its history is.
    pub anonymized_at: Option<Timestamp>,
    pub erasure: Option<Erasure>,
}

/// EndUserUID as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UidView {
    #[serde(rename = "endUserUIDID")]
    pub end_user_uid_id: u64,
    #[serde(rename = "uidType")]
    pub uid_type: UidType,
    pub uid: String,
    #[serde(rename = "isPrimary")]
    pub is_primary: bool,
    pub consent: Consent,
}

impl EndUser {
    pub fn view(&self) -> EndUserView {
        let primary = primary_ids(&self.uids);
        EndUserView {
            end_user_id: self.id,
            firstname: self.firstname.clone(),
            lastname: self.lastname.clone(),
            name: display_name(
                self.name.as_deref(),
                self.firstname.as_deref(),
                self.lastname.as_deref(),
            ),
            gender: self.gender.clone(),
            other_contact_details: self.other_contact_details.clone(),
            ai_documentation: self.ai_documentation.clone(),
            customer_ref: self.customer_ref.clone(),
            customer_type: self.customer_type,
            country: self.country,
            lang: self.lang.clone(),
            street: self.street.clone(),
            house_number: self.house_number.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            company: self.company.clone(),
            uids: self
                .uids
                .iter()
                .map(|u| uid_view(u, primary.contains(&u.id)))
                .collect(),
            attributes: self.attributes.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            anonymized_at: self.anonymized_at,
            erasure: self.erasure,
        }
    }
}

/// A stored UID as read, primary or not.
pub(super) fn uid_view(uid: &StoredUid, is_primary: bool) -> UidView {
    UidView {
        end_user_uid_id: uid.id,
        uid_type: uid.uid_type,
        uid: uid.uid.clone(),
        is_primary,
        consent: uid.consent(),
    }
}
