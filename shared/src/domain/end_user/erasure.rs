//! Anonymization (SPEC 7's right to erasure): the record keeps what statistics need (its ID,
//! `customerType`, times, the end users merged into it) and nothing personal; its UIDs and
//! customerRef go, their values freed.

use serde::{Deserialize, Serialize};

use super::EndUser;
use crate::domain::Timestamp;

/// What a record reads as once anonymized.
pub const ANONYMIZED_NAME: &str = "Anonymized end user";

/// How far the erasure of an anonymized end user's tickets and messages is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Erasure {
    /// Its tickets and messages are being erased in the background.
    Pending,
    Complete,
}

impl Erasure {
    pub fn as_str(self) -> &'static str {
        match self {
            Erasure::Pending => "pending",
            Erasure::Complete => "complete",
        }
    }
}

impl EndUser {
    /// The record anonymized at `now`, its erasure as `erasure` says: its next version.
    pub fn anonymized(&self, erasure: Erasure, now: Timestamp) -> EndUser {
        EndUser {
            name: Some(ANONYMIZED_NAME.into()),
            customer_type: self.customer_type,
            merged_from: self.merged_from.clone(),
            anonymized_at: Some(now),
            erasure: Some(erasure),
            created_at: self.created_at,
            version: self.version + 1,
            ..EndUser::empty(self.id, now)
        }
    }

    pub fn is_anonymized(&self) -> bool {
        self.anonymized_at.is_some()
    }

    /// Whether it was anonymized and holds nothing an anonymization erases (no value given
    /// since: a PUT or an assign after the anonymization brings personal values again).
    pub fn is_erased(&self) -> bool {
        let erased = EndUser {
            anonymized_at: self.anonymized_at,
            erasure: self.erasure,
            updated_at: self.updated_at,
            version: self.version,
            ..self.anonymized(Erasure::Complete, self.updated_at)
        };
        self.is_anonymized() && erased == *self
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn an_anonymized_record_keeps_nothing_personal() {
        let user = created(serde_json::json!({
            "firstname": "Jane", "lastname": "Doe", "gender": "f", "otherContactDetails": "x",
            "aiDocumentation": "notes", "customerRef": "R-1", "customerType": "Customer",
            "country": "BE", "lang": "nl", "street": "Main", "houseNumber": "1",
            "postalCode": "9000", "city": "Gent", "company": "Acme",
            "attributes": {"plan": "gold"},
            "uids": [{"uidType": "Email", "uid": "jane@example.com"}]
        }));
        let anonymized = user.anonymized(Erasure::Pending, now());
        let text = serde_json::to_string(&anonymized).expect("json");
        for value in [
            "Jane", "Doe", "notes", "R-1", "BE", "Main", "9000", "Gent", "Acme", "gold", "jane@",
        ] {
            assert!(!text.contains(value), "{value} in {text}");
        }
        let view = anonymized.view();
        assert_eq!(view.name, ANONYMIZED_NAME);
        assert_eq!(view.customer_type, user.customer_type, "a statistic, kept");
        assert_eq!(view.created_at, user.created_at);
        assert_eq!(anonymized.version, user.version + 1);
        assert!(anonymized.is_anonymized());
        assert!(anonymized.is_erased());
        assert!(!user.is_erased());
        let mut given_again = anonymized.clone();
        given_again.city = Some("Gent".into());
        assert!(given_again.is_anonymized() && !given_again.is_erased());
    }
}
