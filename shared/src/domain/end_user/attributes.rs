//! Custom attributes (SPEC 7): up to 50 keys of `[A-Za-z][A-Za-z0-9_]{0,63}`, each a string of at
//! most 1000 characters, a number or a boolean. A body's `null` removes its key.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::domain::errors::FieldErrors;

pub const MAX_ATTRIBUTES: usize = 50;
const MAX_KEY_CHARS: usize = 64;
const MAX_TEXT_CHARS: usize = 1000;
/// Numbers other than integers are kept within what both stores hold exactly as decimals.
const FLOAT_RANGE: std::ops::Range<f64> = 1e-30..1e30;

/// One attribute's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    Flag(bool),
    Number(Number),
    Text(String),
}

/// The OpenAPI schema of the attributes a view shows.
#[cfg(feature = "openapi")]
pub fn stored_schema() -> utoipa::openapi::schema::Object {
    schema(false)
}

/// The OpenAPI schema of the attributes of a body, whose `null` removes its key.
#[cfg(feature = "openapi")]
pub fn body_schema() -> utoipa::openapi::schema::Object {
    schema(true)
}

/// Up to 50 keys, each a string, a number or a boolean (or, `nullable`, null).
#[cfg(feature = "openapi")]
fn schema(nullable: bool) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
    let types = [Type::String, Type::Number, Type::Boolean]
        .into_iter()
        .chain(nullable.then_some(Type::Null));
    let value = ObjectBuilder::new().schema_type(SchemaType::from_iter(types));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(MAX_ATTRIBUTES))
        .additional_properties(Some(AdditionalProperties::from(value)))
        .build()
}

impl fmt::Display for AttributeValue {
    /// The string form the list filter compares with.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Flag(flag) => write!(f, "{flag}"),
            AttributeValue::Number(number) => write!(f, "{number}"),
            AttributeValue::Text(text) => f.write_str(text),
        }
    }
}

/// The stored attributes, by key.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// Whether `key` is a valid attribute key.
pub fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.len() <= MAX_KEY_CHARS
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn key_error() -> String {
    "must be a key of a letter then up to 63 letters, digits or _".into()
}

/// An integer as it is, another number when the stores keep it exactly; a float without a
/// fraction becomes the integer, so every store reads it back in one form.
fn number(number: &Number) -> Result<Number, String> {
    if number.is_i64() || number.is_u64() {
        return Ok(number.clone());
    }
    let value = number.as_f64().unwrap_or(f64::NAN);
    if value.fract() == 0.0 && value.abs() < 2f64.powi(53) {
        return Ok(Number::from(value as i64));
    }
    if value.is_finite() && FLOAT_RANGE.contains(&value.abs()) {
        return Number::from_f64(value).ok_or_else(|| "must be a finite number".into());
    }
    Err("a number other than an integer must have a magnitude from 1e-30 to 1e30".into())
}

/// One value of a body: `None` for `null` (remove the key).
fn value(raw: &Value) -> Result<Option<AttributeValue>, String> {
    match raw {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(AttributeValue::Flag(*flag))),
        Value::Number(n) => number(n).map(|n| Some(AttributeValue::Number(n))),
        Value::String(text) if text.chars().count() > MAX_TEXT_CHARS => {
            Err(format!("must be at most {MAX_TEXT_CHARS} characters"))
        }
        Value::String(text) => Ok(Some(AttributeValue::Text(text.clone()))),
        Value::Array(_) | Value::Object(_) => {
            Err("must be a string, a number, a boolean or null".into())
        }
    }
}

/// Merges the `attributes` of a body into `stored`: each given key set, `null` removing it.
/// Errors name `attributes.<key>`, or `attributes` when more than 50 keys would remain.
pub fn merge(stored: &mut Attributes, given: &Map<String, Value>, errors: &mut FieldErrors) {
    for (key, raw) in given {
        let path = format!("attributes.{key}");
        if !valid_key(key) {
            errors.add(path, key_error());
            continue;
        }
        match value(raw) {
            Ok(Some(value)) => {
                stored.insert(key.clone(), value);
            }
            Ok(None) => {
                stored.remove(key);
            }
            Err(message) => errors.add(path, message),
        }
    }
    if stored.len() > MAX_ATTRIBUTES {
        errors.add(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} keys ({} given)", stored.len()),
        );
    }
}

/// The `attributes.<key>=<value>` filters of a list query: each key validated.
pub fn filter(key: &str, wanted: &str) -> Result<(String, String), String> {
    if valid_key(key) {
        Ok((key.to_owned(), wanted.to_owned()))
    } else {
        Err(key_error())
    }
}

/// Whether `attributes` holds every `(key, string form)` pair of `filters`.
pub fn matches(attributes: &Attributes, filters: &[(String, String)]) -> bool {
    filters.iter().all(|(key, wanted)| {
        attributes
            .get(key)
            .is_some_and(|v| v.to_string() == *wanted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(stored: &mut Attributes, given: Value) -> FieldErrors {
        let mut errors = FieldErrors::default();
        let Value::Object(given) = given else {
            panic!("an object")
        };
        merge(stored, &given, &mut errors);
        errors
    }

    #[test]
    fn keys_follow_the_contract() {
        for good in ["plan", "A", "x_1", &format!("a{}", "b".repeat(63))] {
            assert!(valid_key(good), "{good}");
        }
        for bad in [
            "",
            "1plan",
            "_x",
            "pl-an",
            "plän",
            &format!("a{}", "b".repeat(64)),
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn values_merge_and_null_removes() {
        let mut stored = Attributes::new();
        let errors = merged(
            &mut stored,
            serde_json::json!({"plan": "gold", "seats": 3, "vip": true, "score": 4.5, "ratio": 2.0}),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let errors = merged(&mut stored, serde_json::json!({"plan": null, "seats": 4}));
        assert!(errors.is_empty(), "{errors:?}");
        let shown: BTreeMap<&str, String> = stored
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_string()))
            .collect();
        let expected = [
            ("ratio", "2"),
            ("score", "4.5"),
            ("seats", "4"),
            ("vip", "true"),
        ];
        assert_eq!(
            shown,
            expected.iter().map(|(k, v)| (*k, v.to_string())).collect()
        );
    }

    #[test]
    fn invalid_entries_are_named_by_their_path() {
        let mut stored = Attributes::new();
        let errors = merged(
            &mut stored,
            serde_json::json!({"1x": "a", "list": [1], "map": {}, "long": "x".repeat(1001),
                "huge": 1e300, "tiny": 1e-300, "fine": "x".repeat(1000)}),
        );
        for path in [
            "attributes.1x",
            "attributes.list",
            "attributes.map",
            "attributes.long",
            "attributes.huge",
            "attributes.tiny",
        ] {
            assert!(errors.contains(path), "{path} missing from {errors:?}");
        }
        assert!(!errors.contains("attributes.fine"));
    }

    #[test]
    fn at_most_fifty_keys_remain() {
        let mut stored: Attributes = (0..50)
            .map(|i| (format!("k{i}"), AttributeValue::Flag(true)))
            .collect();
        assert!(
            merged(
                &mut stored.clone(),
                serde_json::json!({"k0": null, "new": 1})
            )
            .is_empty()
        );
        assert!(merged(&mut stored, serde_json::json!({"new": 1})).contains("attributes"));
    }

    #[test]
    fn filters_compare_the_string_form() {
        let mut stored = Attributes::new();
        merged(
            &mut stored,
            serde_json::json!({"plan": "gold", "seats": 3, "vip": false}),
        );
        let f = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| filter(k, v).expect("valid"))
                .collect()
        };
        assert!(matches(&stored, &f(&[("plan", "gold"), ("seats", "3")])));
        assert!(matches(&stored, &f(&[("vip", "false")])));
        assert!(!matches(&stored, &f(&[("plan", "Gold")])));
        assert!(!matches(&stored, &f(&[("missing", "")])));
        assert!(filter("bad-key", "x").is_err());
    }
}
