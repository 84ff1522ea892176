//! Domain types: each validates on construction, so a value that exists is valid.

pub mod change;
pub mod consent;
pub mod crm;
pub mod customer;
pub mod duplicates;
pub mod end_user;
pub mod errors;
pub mod fields;
pub mod idempotency;
pub mod ids;
pub mod page;
pub mod precondition;
pub mod secret;
pub mod ticket;
pub mod timeline;
pub mod uid;

pub use secret::Secret;

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The largest ID a JavaScript client reads exactly (2^53 - 1).
pub const MAX_ID: u64 = (1 << 53) - 1;

/// A tenant: the `customerID` of the platform's customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TenantId(u64);

impl TenantId {
    pub fn new(id: u64) -> Option<Self> {
        (1..=MAX_ID).contains(&id).then_some(TenantId(id))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Reads a path or body ID: a positive integer of at most 2^53 - 1.
pub fn parse_id(raw: &str) -> Result<u64, String> {
    raw.parse::<u64>()
        .ok()
        .filter(|id| (1..=MAX_ID).contains(id))
        .ok_or_else(|| format!("must be a positive integer of at most {MAX_ID}"))
}

/// A point in time with second precision, written as RFC 3339 UTC (`2026-11-22T10:15:30Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc().unix_timestamp())
    }

    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    pub fn from_unix_seconds(seconds: i64) -> Self {
        Timestamp(seconds)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .ok_or(fmt::Error)?;
        f.write_str(&text)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        OffsetDateTime::parse(&value, &Rfc3339)
            .map(|t| Timestamp(t.unix_timestamp()))
            .map_err(|e| format!("not an RFC 3339 timestamp: {e}"))
    }
}

impl From<Timestamp> for String {
    fn from(value: Timestamp) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_as_rfc3339_utc() {
        let t = Timestamp::try_from("2026-11-22T10:15:30Z".to_string()).expect("parses");
        assert_eq!(t.to_string(), "2026-11-22T10:15:30Z");
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert!(Timestamp::try_from("yesterday".to_string()).is_err());
    }

    #[test]
    fn ids_are_positive_and_exact_in_javascript() {
        assert_eq!(parse_id("42"), Ok(42));
        assert_eq!(parse_id("9007199254740991"), Ok(MAX_ID));
        for bad in ["0", "-1", "9007199254740992", "abc", "", "1.5", " 1"] {
            assert!(parse_id(bad).is_err(), "{bad} accepted");
        }
        assert!(TenantId::new(0).is_none());
        assert_eq!(TenantId::new(7).map(TenantId::get), Some(7));
    }
}
