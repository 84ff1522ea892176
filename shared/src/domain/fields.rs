//! Scalar field types of an end user. Each one exists only in its valid form.

use std::fmt;

use serde::{Deserialize, Serialize};

/// ISO 3166-1 alpha-2 codes officially assigned.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL \
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO \
DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM \
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR \
LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL \
NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ \
SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA \
VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An assigned ISO 3166-1 alpha-2 country code, upper-case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[A-Z]{2}$"))]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let upper = raw.trim().to_ascii_uppercase();
        let valid = upper.len() == 2
            && upper.bytes().all(|b| b.is_ascii_uppercase())
            && ISO_3166_ALPHA2.split(' ').any(|code| code == upper);
        match upper.as_bytes() {
            [a, b] if valid => Ok(CountryCode([*a, *b])),
            _ => Err("must be an ISO 3166-1 alpha-2 country code such as BE".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        CountryCode::parse(&value)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> String {
        value.as_str().to_owned()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CustomerType {
    #[default]
    Lead,
    Customer,
    Partner,
}

impl CustomerType {
    /// Case-insensitive; `None` for the empty value, which callers treat as "default" or "keep".
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "lead" => Ok(Some(CustomerType::Lead)),
            "customer" => Ok(Some(CustomerType::Customer)),
            "partner" => Ok(Some(CustomerType::Partner)),
            _ => Err("must be Lead, Customer or Partner".into()),
        }
    }
}

/// What a request says about one optional field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Change<T> {
    /// Absent or null.
    #[default]
    Keep,
    /// `""` (or only blanks where the field is trimmed).
    Clear,
    Set(T),
}

impl<T> Change<T> {
    pub fn apply_to(self, target: &mut Option<T>) {
        match self {
            Change::Keep => {}
            Change::Clear => *target = None,
            Change::Set(value) => *target = Some(value),
        }
    }
}

/// Limits of one free-text field.
#[derive(Clone, Copy)]
pub struct TextRule {
    pub max_chars: usize,
    pub trim: bool,
}

impl TextRule {
    pub const fn trimmed(max_chars: usize) -> Self {
        TextRule {
            max_chars,
            trim: true,
        }
    }

    pub const fn verbatim(max_chars: usize) -> Self {
        TextRule {
            max_chars,
            trim: false,
        }
    }

    pub fn read(&self, raw: Option<&str>) -> Result<Change<String>, String> {
        let Some(raw) = raw else {
            return Ok(Change::Keep);
        };
        let value = if self.trim { raw.trim() } else { raw };
        if value.is_empty() {
            return Ok(Change::Clear);
        }
        if value.chars().count() > self.max_chars {
            return Err(format!("must be at most {} characters", self.max_chars));
        }
        Ok(Change::Set(value.to_owned()))
    }
}

/// A language tag in BCP 47 shape (`nl`, `en`, `fr-BE`, `zh-Hant-TW`), at most 35 characters.
pub fn parse_lang(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    let mut subtags = value.split('-');
    let primary_ok = subtags
        .next()
        .is_some_and(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok =
        subtags.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    if value.len() > 35 || !primary_ok || !rest_ok {
        return Err(
            "must be a language tag such as nl, en or fr-BE (at most 35 characters)".into(),
        );
    }
    Ok(value.to_owned())
}

/// A value from a fixed set, matched case-insensitively on input.
pub trait Choice: Copy + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(raw))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
                format!("must be one of {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_assigned_codes_stored_upper_case() {
        assert_eq!(
            CountryCode::parse(" be ").map(|c| c.to_string()),
            Ok("BE".into())
        );
        assert_eq!(
            CountryCode::parse("NL").map(|c| c.to_string()),
            Ok("NL".into())
        );
        for bad in ["", "B", "BEL", "XX", "ZZ", "1E", "Belgium", "É1"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn customer_type_is_case_insensitive_and_empty_means_none() {
        assert_eq!(
            CustomerType::parse("customer"),
            Ok(Some(CustomerType::Customer))
        );
        assert_eq!(
            CustomerType::parse("PARTNER"),
            Ok(Some(CustomerType::Partner))
        );
        assert_eq!(CustomerType::parse(" "), Ok(None));
        assert!(CustomerType::parse("Prospect").is_err());
    }

    #[test]
    fn text_rule_trims_clears_and_limits() {
        let rule = TextRule::trimmed(5);
        assert_eq!(rule.read(None), Ok(Change::Keep));
        assert_eq!(rule.read(Some("  ")), Ok(Change::Clear));
        assert_eq!(rule.read(Some(" Jane ")), Ok(Change::Set("Jane".into())));
        assert_eq!(rule.read(Some("ééééé")), Ok(Change::Set("ééééé".into())));
        assert!(rule.read(Some("abcdef")).is_err());
        let verbatim = TextRule::verbatim(10);
        assert_eq!(verbatim.read(Some(" a\n")), Ok(Change::Set(" a\n".into())));
    }

    #[test]
    fn language_tags() {
        for good in ["nl", "en", "fr-BE", "zh-Hant-TW", "es-419"] {
            assert_eq!(parse_lang(good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "n",
            "fr_BE",
            "fr-",
            "toolonglanguage",
            "nl-abcdefghi",
            &"a".repeat(40),
        ] {
            assert!(parse_lang(bad).is_err(), "{bad} accepted");
        }
    }
}
