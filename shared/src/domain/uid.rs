//! UIDs: a channel address of an end user, in its normalized form.

use std::fmt;

use phonenumber::Mode;
use serde::{Deserialize, Serialize};

use super::fields::CountryCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UidType {
    Email,
    Phone,
    WhatsApp,
    Webchat,
    Messenger,
    Instagram,
    Telegram,
    External,
}

impl UidType {
    pub const ALL: [UidType; 8] = [
        UidType::Email,
        UidType::Phone,
        UidType::WhatsApp,
        UidType::Webchat,
        UidType::Messenger,
        UidType::Instagram,
        UidType::Telegram,
        UidType::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UidType::Email => "Email",
            UidType::Phone => "Phone",
            UidType::WhatsApp => "WhatsApp",
            UidType::Webchat => "Webchat",
            UidType::Messenger => "Messenger",
            UidType::Instagram => "Instagram",
            UidType::Telegram => "Telegram",
            UidType::External => "External",
        }
    }

    /// Case-insensitive, surrounding blanks ignored.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let wanted = raw.trim();
        UidType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                "must be one of Email, Phone, WhatsApp, Webchat, Messenger, Instagram, Telegram, External"
                    .into()
            })
    }
}

impl fmt::Display for UidType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A UID value after the normalization of its type; once built it is valid.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uid {
    uid_type: UidType,
    value: String,
}

const MAX_EMAIL_CHARS: usize = 254;
const MAX_OTHER_CHARS: usize = 256;

impl Uid {
    /// Normalizes `raw` by the rules of `uid_type`. National phone numbers are read in `country`.
    pub fn parse(
        uid_type: UidType,
        raw: &str,
        country: Option<CountryCode>,
    ) -> Result<Uid, String> {
        let value = match uid_type {
            UidType::Email => normalize_email(raw)?,
            UidType::Phone => normalize_phone(raw, false, country)?,
            UidType::WhatsApp => normalize_phone(raw, true, country)?,
            _ => normalize_other(raw)?,
        };
        Ok(Uid { uid_type, value })
    }

    /// Every UID that `raw` can denote, one per type whose normalization accepts it.
    pub fn candidates(raw: &str, country: Option<CountryCode>) -> Vec<Uid> {
        UidType::ALL
            .into_iter()
            .filter_map(|t| Uid::parse(t, raw, country).ok())
            .collect()
    }

    pub fn uid_type(&self) -> UidType {
        self.uid_type
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// Rebuilds a UID read back from the store, where it was saved normalized.
    pub(crate) fn from_stored(uid_type: UidType, value: String) -> Uid {
        Uid { uid_type, value }
    }
}

fn normalize_email(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > MAX_EMAIL_CHARS {
        return Err(format!("must be at most {MAX_EMAIL_CHARS} characters"));
    }
    let invalid = || Err("must be a valid e-mail address".to_string());
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid();
    }
    let Some((local, domain)) = value.split_once('@') else {
        return invalid();
    };
    let labels_ok = domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty());
    if local.is_empty() || domain.contains('@') || !labels_ok {
        return invalid();
    }
    Ok(value.to_lowercase())
}

fn normalize_phone(
    raw: &str,
    whatsapp: bool,
    country: Option<CountryCode>,
) -> Result<String, String> {
    let mut value = raw.trim();
    if value.chars().count() > MAX_OTHER_CHARS {
        return Err("is not a valid phone number".into());
    }
    if whatsapp {
        // Twilio and WhatsApp Cloud hand addresses over as `whatsapp:+32...`.
        if let Some(prefix) = value
            .get(..9)
            .filter(|p| p.eq_ignore_ascii_case("whatsapp:"))
        {
            value = &value[prefix.len()..];
        }
    }
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '(' | ')' | '/'))
        .collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a valid phone number".into());
    }
    let international = if plus {
        Some(digits)
    } else if let Some(rest) = digits.strip_prefix("00") {
        Some(rest)
    } else if whatsapp && !digits.starts_with('0') {
        // A WhatsApp id is the number with its country code, without '+'.
        Some(digits)
    } else {
        None
    };
    let parsed = match international {
        Some(digits) => phonenumber::parse(None, format!("+{digits}")),
        None => {
            let Some(country) = country else {
                return Err(
                    "is a national number with no country to read it in; give it in international form (+32...)"
                        .into(),
                );
            };
            let region = country
                .as_str()
                .parse::<phonenumber::country::Id>()
                .map_err(|_| format!("cannot be read as a national number of {country}"))?;
            phonenumber::parse(Some(region), digits)
        }
    };
    match parsed {
        Ok(number) if phonenumber::is_valid(&number) => {
            Ok(number.format().mode(Mode::E164).to_string())
        }
        _ => Err("is not a valid phone number".into()),
    }
}

fn normalize_other(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > MAX_OTHER_CHARS {
        return Err(format!("must be at most {MAX_OTHER_CHARS} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be() -> Option<CountryCode> {
        CountryCode::parse("BE").ok()
    }

    fn value(t: UidType, raw: &str, country: Option<CountryCode>) -> Result<String, String> {
        Uid::parse(t, raw, country).map(|u| u.value().to_owned())
    }

    #[test]
    fn uid_types_match_case_insensitively_and_keep_their_casing() {
        assert_eq!(UidType::parse("whatsapp"), Ok(UidType::WhatsApp));
        assert_eq!(UidType::parse(" EMAIL "), Ok(UidType::Email));
        assert_eq!(UidType::WhatsApp.to_string(), "WhatsApp");
        assert!(UidType::parse("Fax").is_err());
        assert!(UidType::parse("").is_err());
    }

    #[test]
    fn emails_are_trimmed_checked_and_lower_cased() {
        assert_eq!(
            value(UidType::Email, " Jane@Example.COM ", None),
            Ok("jane@example.com".into())
        );
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@example",
            "jane@@example.com",
            "ja ne@example.com",
            "jane@example..com",
            "jane@.example.com",
        ] {
            assert!(
                Uid::parse(UidType::Email, bad, None).is_err(),
                "{bad} accepted"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Uid::parse(UidType::Email, &long, None).is_err());
    }

    #[test]
    fn phones_become_e164_from_every_accepted_form() {
        let expected = Ok("+32470000000".to_string());
        assert_eq!(value(UidType::Phone, "+32 470 00 00 00", None), expected);
        assert_eq!(value(UidType::Phone, "0032470000000", None), expected);
        assert_eq!(value(UidType::Phone, "0470 00 00 00", be()), expected);
        assert_eq!(value(UidType::WhatsApp, "32470000000", None), expected);
        assert_eq!(
            value(UidType::WhatsApp, "whatsapp:+32470000000", None),
            expected
        );
        assert_eq!(value(UidType::WhatsApp, "0470000000", be()), expected);
    }

    #[test]
    fn phones_that_cannot_be_read_are_rejected() {
        // National without a country to read it in.
        assert!(value(UidType::Phone, "0470 00 00 00", None).is_err());
        // Digits only is international for WhatsApp but national for Phone.
        assert!(value(UidType::Phone, "32470000000", None).is_err());
        for bad in [
            "",
            "+",
            "+32 47",
            "+32470000000000000",
            "call me",
            "+1-800-FLOWERS",
        ] {
            assert!(value(UidType::Phone, bad, be()).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn other_types_are_kept_as_given_but_trimmed() {
        assert_eq!(
            value(UidType::Webchat, "  Visitor-ABC ", None),
            Ok("Visitor-ABC".into())
        );
        assert!(value(UidType::External, "   ", None).is_err());
        assert!(value(UidType::Telegram, "a\u{7}b", None).is_err());
        assert!(value(UidType::Messenger, &"x".repeat(257), None).is_err());
        assert!(value(UidType::Messenger, &"x".repeat(256), None).is_ok());
    }

    #[test]
    fn candidates_cover_each_type_that_accepts_the_value() {
        let found = Uid::candidates("0032 470 00 00 00", None);
        let phone = found.iter().find(|u| u.uid_type() == UidType::Phone);
        assert_eq!(phone.map(Uid::value), Some("+32470000000"));
        let whatsapp = found.iter().find(|u| u.uid_type() == UidType::WhatsApp);
        assert_eq!(whatsapp.map(Uid::value), Some("+32470000000"));
        assert!(found.iter().all(|u| u.uid_type() != UidType::Email));
        let email = Uid::candidates(" JANE@Example.com ", None);
        assert!(
            email
                .iter()
                .any(|u| u.uid_type() == UidType::Email && u.value() == "jane@example.com")
        );
    }
}
