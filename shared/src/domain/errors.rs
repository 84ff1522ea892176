//! Validation failures, named by the request field path as the caller sent it.

use std::collections::BTreeMap;

use serde::Serialize;

/// Messages per request field path (`uids[1].uid`, `pageSize`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.entry(path.into()).or_default().push(message.into());
    }

    pub fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(path, message);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each path with each of its messages, by path.
    pub fn messages(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().flat_map(|(path, messages)| {
            messages
                .iter()
                .map(move |message| (path.as_str(), message.as_str()))
        })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }

    /// The value of a field's check, or its fallback with the message recorded under `path`.
    pub fn check<T>(&mut self, path: &str, result: Result<T, String>, fallback: T) -> T {
        result.unwrap_or_else(|message| {
            self.add(path, message);
            fallback
        })
    }

    /// `Ok(value)` when nothing was recorded, otherwise every message.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}
