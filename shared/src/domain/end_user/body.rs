//! EndUserCreateDTO and EndUserUpdateDTO as sent: one shape, as the update only adds UID fields.

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndUserBody {
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub other_contact_details: Option<String>,
    pub ai_documentation: Option<String>,
    pub customer_ref: Option<String>,
    pub customer_type: Option<String>,
    pub country: Option<String>,
    pub lang: Option<String>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub company: Option<String>,
    pub uids: Option<Vec<UidEntry>>,
    /// Custom attributes as sent: each value checked by `attributes::merge`.
    #[cfg_attr(feature = "openapi", schema(schema_with = super::attributes::body_schema))]
    pub attributes: Option<Map<String, Value>>,
}

/// One entry of `uids` in a create or update body.
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UidEntry {
    #[serde(rename = "endUserUIDID")]
    pub id: Option<u64>,
    #[serde(rename = "uidType")]
    pub uid_type: Option<String>,
    pub uid: Option<String>,
    #[serde(rename = "isPrimary")]
    pub is_primary: Option<bool>,
    #[serde(rename = "markAsDeleted")]
    pub mark_as_deleted: Option<bool>,
    /// The desk's word on the address: `optedIn` or `optedOut` (SPEC 9).
    pub consent: Option<String>,
}

impl UidEntry {
    pub(super) fn deletes(&self) -> bool {
        self.mark_as_deleted == Some(true)
    }

    pub(super) fn marks_primary(&self) -> bool {
        self.is_primary == Some(true)
    }
}
