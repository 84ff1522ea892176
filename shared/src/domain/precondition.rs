//! Conditional requests (SPEC 7, RFC 9110 section 13): an end user's entity tag is its stored
//! version (`"7"`); `If-Match` guards a write, `If-None-Match` a read (304) or a create-only
//! upsert (`*`).

use super::errors::FieldErrors;

/// The entity tag of a record at `version`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// One entity tag of a header.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tag {
    weak: bool,
    opaque: String,
}

/// A header's value: `*`, or a list of entity tags.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tags {
    Any,
    List(Vec<Tag>),
}

impl Tags {
    /// Parses a comma-separated list of entity tags (`"1"`, `W/"1"`), or `*`.
    fn parse(raw: &str) -> Result<Tags, String> {
        if raw.trim() == "*" {
            return Ok(Tags::Any);
        }
        let mut tags = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (weak, quoted) = match part.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, part),
            };
            let opaque = quoted
                .strip_prefix('"')
                .and_then(|q| q.strip_suffix('"'))
                .filter(|o| !o.contains('"'))
                .ok_or_else(|| "must be * or entity tags such as \"3\"".to_owned())?;
            tags.push(Tag {
                weak,
                opaque: opaque.to_owned(),
            });
        }
        if tags.is_empty() {
            return Err("must be * or entity tags such as \"3\"".into());
        }
        Ok(Tags::List(tags))
    }

    /// Whether the list names `version`: strongly (both tags strong) or weakly.
    fn names(&self, version: u64, strong: bool) -> bool {
        match self {
            Tags::Any => true,
            Tags::List(tags) => tags
                .iter()
                .any(|t| !(strong && t.weak) && t.opaque == version.to_string()),
        }
    }
}

/// Why a conditional request does not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmet {
    /// 412: the current version (`None`: there is none).
    Failed(Option<u64>),
    /// 304, for a read: the caller's copy is current.
    NotModified(u64),
}

/// The `If-Match` and `If-None-Match` of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preconditions {
    if_match: Option<Tags>,
    if_none_match: Option<Tags>,
}

impl Preconditions {
    /// From the headers' values (repeated headers joined by commas); an unreadable one is a
    /// 400 naming the header.
    pub fn parse(if_match: Option<&str>, if_none_match: Option<&str>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut read = |name: &str, raw: Option<&str>| {
            let tags = raw.map(Tags::parse).transpose();
            errors.check(name, tags, None)
        };
        let if_match = read("If-Match", if_match);
        let if_none_match = read("If-None-Match", if_none_match);
        errors.into_result(Preconditions {
            if_match,
            if_none_match,
        })
    }

    /// Whether the request is unconditional.
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Whether a write may change the record at `current` (`None`: it does not exist yet).
    pub fn allow_write(&self, current: Option<u64>) -> Result<(), Unmet> {
        let matched = match (&self.if_match, current) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(tags), Some(version)) => tags.names(version, true),
        };
        let none_matched = match (&self.if_none_match, current) {
            (None, _) | (Some(_), None) => true,
            (Some(tags), Some(version)) => !tags.names(version, false),
        };
        if matched && none_matched {
            Ok(())
        } else {
            Err(Unmet::Failed(current))
        }
    }

    /// Whether a read of the record at `version` answers in full, or 304 (`If-None-Match`
    /// names it) or 412 (`If-Match` does not).
    pub fn allow_read(&self, version: u64) -> Result<(), Unmet> {
        if self
            .if_match
            .as_ref()
            .is_some_and(|t| !t.names(version, true))
        {
            return Err(Unmet::Failed(Some(version)));
        }
        match &self.if_none_match {
            Some(tags) if tags.names(version, false) => Err(Unmet::NotModified(version)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pre(if_match: Option<&str>, if_none_match: Option<&str>) -> Preconditions {
        Preconditions::parse(if_match, if_none_match).expect("valid headers")
    }

    #[test]
    fn if_match_compares_strongly() {
        assert_eq!(pre(Some("\"3\""), None).allow_write(Some(3)), Ok(()));
        assert_eq!(pre(Some("\"2\", \"3\""), None).allow_write(Some(3)), Ok(()));
        assert_eq!(pre(Some("*"), None).allow_write(Some(3)), Ok(()));
        assert_eq!(
            pre(Some("\"2\""), None).allow_write(Some(3)),
            Err(Unmet::Failed(Some(3)))
        );
        assert!(
            pre(Some("W/\"3\""), None).allow_write(Some(3)).is_err(),
            "weak"
        );
        assert!(
            pre(Some("*"), None).allow_write(None).is_err(),
            "nothing to match"
        );
        assert_eq!(pre(None, None).allow_write(Some(3)), Ok(()));
    }

    #[test]
    fn if_none_match_star_creates_only() {
        assert_eq!(pre(None, Some("*")).allow_write(None), Ok(()));
        assert_eq!(
            pre(None, Some("*")).allow_write(Some(1)),
            Err(Unmet::Failed(Some(1)))
        );
    }

    #[test]
    fn a_read_is_not_modified_when_the_tag_is_current() {
        assert_eq!(
            pre(None, Some("W/\"4\"")).allow_read(4),
            Err(Unmet::NotModified(4))
        );
        assert_eq!(pre(None, Some("\"3\"")).allow_read(4), Ok(()));
        assert_eq!(
            pre(Some("\"3\""), None).allow_read(4),
            Err(Unmet::Failed(Some(4)))
        );
    }

    #[test]
    fn unreadable_headers_are_named() {
        for bad in ["3", "\"3", "W/3", "", ",", "\"a\"b\""] {
            let errors = Preconditions::parse(Some(bad), None).expect_err(bad);
            assert!(errors.contains("If-Match"), "{bad}");
        }
        assert_eq!(etag(7), "\"7\"");
    }
}
