//! The tenant's CRM (SPEC 10): where it is and how the connector authenticates to it, what a
//! sync asks it, what its answer says, and what a sync takes from the answer.

use serde::{Deserialize, Serialize};
use url::Url;

use super::Secret;
use super::customer::settings::ApiAuthenticationType;
use super::customer::{SecretField, Settings};
use super::end_user::{EndUser, EndUserBody, UidEntry, primary_ids};
use super::uid::UidType;

/// How the connector authenticates to the CRM (`apiAuthenticationType`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrmAuth {
    None,
    /// `Authorization: Basic base64(apiUsername:apiPassword)`.
    Basic {
        username: String,
        password: Secret,
    },
    /// `Authorization: Bearer <apiToken>`.
    Bearer(Secret),
    /// `X-Api-Key: <apiToken>`.
    ApiKey(Secret),
}

/// The tenant's CRM: its `apiBaseUrl` and credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmTarget {
    pub base: Url,
    pub auth: CrmAuth,
}

impl CrmTarget {
    /// The secret field the connector of `settings` authenticates with, if any.
    pub fn secret_field(settings: &Settings) -> Option<SecretField> {
        match settings.api_authentication_type? {
            ApiAuthenticationType::None => None,
            ApiAuthenticationType::Basic => Some(SecretField::ApiPassword),
            ApiAuthenticationType::Bearer | ApiAuthenticationType::ApiKey => {
                Some(SecretField::ApiToken)
            }
        }
    }

    /// The CRM `settings` name, with `secret` (the value of [`Self::secret_field`]); why there
    /// is none when the tenant has no `apiBaseUrl` or lacks a credential its type needs. No
    /// `apiAuthenticationType` is `None`.
    pub fn of(settings: &Settings, secret: Option<&Secret>) -> Result<CrmTarget, String> {
        let raw = settings
            .api_base_url
            .as_deref()
            .ok_or("the customer has no apiBaseUrl (PUT /api/Customers/me sets it)")?;
        // Saved URLs were validated; one that no longer parses is no connector either.
        let base = Url::parse(raw).map_err(|_| "the stored apiBaseUrl is not a URL".to_owned())?;
        let kind = settings
            .api_authentication_type
            .unwrap_or(ApiAuthenticationType::None);
        let needed = |field: &str| format!("apiAuthenticationType {kind:?} needs {field}");
        let secret = || secret.cloned();
        let auth = match kind {
            ApiAuthenticationType::None => CrmAuth::None,
            ApiAuthenticationType::Basic => CrmAuth::Basic {
                username: settings
                    .api_username
                    .clone()
                    .ok_or_else(|| needed("apiUsername"))?,
                password: secret().ok_or_else(|| needed("apiPassword"))?,
            },
            ApiAuthenticationType::Bearer => {
                CrmAuth::Bearer(secret().ok_or_else(|| needed("apiToken"))?)
            }
            ApiAuthenticationType::ApiKey => {
                CrmAuth::ApiKey(secret().ok_or_else(|| needed("apiToken"))?)
            }
        };
        Ok(CrmTarget { base, auth })
    }
}

/// One question to the CRM: who is the person with this customerRef, or with this UID?
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    CustomerRef(String),
    Uid(UidType, String),
}

impl Lookup {
    /// `GET {base}/answerpal/lookup?...` (the base's own query kept).
    pub fn url(&self, base: &Url) -> Url {
        let mut url = base.clone();
        let path = format!("{}/answerpal/lookup", base.path().trim_end_matches('/'));
        url.set_path(&path);
        url.set_fragment(None);
        {
            let mut query = url.query_pairs_mut();
            match self {
                Lookup::CustomerRef(reference) => query.append_pair("customerRef", reference),
                Lookup::Uid(uid_type, uid) => query
                    .append_pair("uidType", uid_type.as_str())
                    .append_pair("uid", uid),
            };
        }
        url
    }
}

/// What a sync asks, in order until the CRM knows one: the end user's customerRef, else each of
/// its primary UIDs in `uidType` order.
pub fn lookups(user: &EndUser) -> Vec<Lookup> {
    if let Some(reference) = &user.customer_ref {
        return vec![Lookup::CustomerRef(reference.clone())];
    }
    let primaries = primary_ids(&user.uids);
    let mut uids: Vec<_> = user
        .uids
        .iter()
        .filter(|uid| primaries.contains(&uid.id))
        .collect();
    uids.sort_by_key(|uid| uid.uid_type);
    uids.into_iter()
        .map(|uid| Lookup::Uid(uid.uid_type, uid.uid.clone()))
        .collect()
}

/// The CRM's record of a person (its 200 answer); unknown members ignored, null ones absent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrmRecord {
    customer_ref: Option<String>,
    firstname: Option<String>,
    lastname: Option<String>,
    company: Option<String>,
    customer_type: Option<String>,
    lang: Option<String>,
    country: Option<String>,
    uids: Option<Vec<CrmUid>>,
}

#[derive(Clone, Debug, Deserialize)]
struct CrmUid {
    #[serde(rename = "uidType")]
    uid_type: Option<String>,
    uid: Option<String>,
}

impl CrmRecord {
    /// The answer's body read as a record; why not when it is not one.
    pub fn parse(body: &[u8]) -> Result<CrmRecord, String> {
        serde_json::from_slice(body).map_err(|e| format!("the CRM's answer is not a record: {e}"))
    }

    /// The update body that applies it as a PUT would: its scalar fields, and its UIDs as
    /// entries without ID (added, or re-stating a value the end user holds).
    pub fn body(&self) -> EndUserBody {
        let uids = self.uids.as_ref().map(|uids| {
            uids.iter()
                .map(|uid| UidEntry {
                    uid_type: uid.uid_type.clone(),
                    uid: uid.uid.clone(),
                    ..UidEntry::default()
                })
                .collect()
        });
        EndUserBody {
            customer_ref: self.customer_ref.clone(),
            firstname: self.firstname.clone(),
            lastname: self.lastname.clone(),
            company: self.company.clone(),
            customer_type: self.customer_type.clone(),
            lang: self.lang.clone(),
            country: self.country.clone(),
            uids,
            ..EndUserBody::default()
        }
    }
}

/// A UID the CRM listed that another end user holds: reported, not moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncConflict {
    #[serde(rename = "uidType")]
    pub uid_type: UidType,
    pub uid: String,
    /// The end user holding it.
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
}

/// The fields a sync changed going from `before` to `after`, as the `crmSynced` entry names
/// them: the CRM's scalar fields that differ, and `uids` when UIDs were added.
pub fn changed_fields(before: &EndUser, after: &EndUser) -> Vec<String> {
    let scalars = [
        ("customerRef", before.customer_ref != after.customer_ref),
        ("firstname", before.firstname != after.firstname),
        ("lastname", before.lastname != after.lastname),
        ("company", before.company != after.company),
        ("customerType", before.customer_type != after.customer_type),
        ("lang", before.lang != after.lang),
        ("country", before.country != after.country),
    ];
    let added = after
        .uids
        .iter()
        .any(|uid| before.find_uid(&uid.as_uid()).is_none());
    scalars
        .into_iter()
        .chain([("uids", added)])
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[cfg(test)]
mod tests;
