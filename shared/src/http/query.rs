//! A request's query parameters, decoded once, read by name.

use crate::domain::errors::FieldErrors;

/// The query parameters of a request, in order, decoded. Names match case-insensitively.
#[derive(Debug, Default, Clone)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw_query: &str) -> Self {
        QueryParams(
            form_urlencoded::parse(raw_query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The one value of `name`; given twice is an error.
    pub fn single(&self, name: &str) -> Result<Option<&str>, String> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let first = values.next();
        match values.next() {
            Some(_) => Err("must be given once".into()),
            None => Ok(first),
        }
    }

    /// Every value of `name`, in order (for a parameter that may repeat).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every `(name, value)` whose name starts with `prefix` (any case), the prefix cut off.
    pub fn prefixed<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0.iter().filter_map(move |(k, v)| {
            let head = k.get(..prefix.len())?;
            head.eq_ignore_ascii_case(prefix)
                .then(|| (&k[prefix.len()..], v.as_str()))
        })
    }

    /// Reads parameter `name` with `read` (its value, or `None` when absent); a repeated or
    /// invalid value is recorded under the parameter's name and `fallback` stands in.
    pub fn read<T>(
        &self,
        name: &str,
        errors: &mut FieldErrors,
        fallback: T,
        read: impl FnOnce(Option<&str>) -> Result<T, String>,
    ) -> T {
        let value = self.single(name).and_then(read);
        errors.check(name, value, fallback)
    }
}
