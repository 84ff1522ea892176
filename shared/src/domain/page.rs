//! Query parameters, paging and sorting of list routes.

use serde::Serialize;

use crate::error::FieldErrors;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: u32,
    pub size: u32,
}

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 100;
const MAX_SEARCH_CHARS: usize = 256;

impl PageRequest {
    pub fn parse(params: &QueryParams, errors: &mut FieldErrors) -> Self {
        let mut read = |name: &str, default: u32, range: std::ops::RangeInclusive<u32>| {
            let parsed = params.single(name).and_then(|value| match value {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        format!(
                            "must be an integer from {} to {}",
                            range.start(),
                            range.end()
                        )
                    }),
            });
            parsed.unwrap_or_else(|message| {
                errors.add(name, message);
                default
            })
        };
        PageRequest {
            number: read("pageNumber", 1, 1..=u32::MAX),
            size: read("pageSize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE),
        }
    }

    /// The slice of `total` items this page shows.
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        let start = (self.number as usize - 1).saturating_mul(self.size as usize);
        start.min(total)..start.saturating_add(self.size as usize).min(total)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Reads `sortBy` among `fields` (case-insensitive), its default being the first, and `sortOrder`.
pub fn parse_sort<T: Copy>(
    params: &QueryParams,
    fields: &[(&str, T)],
    default_order: SortOrder,
    errors: &mut FieldErrors,
) -> (T, SortOrder) {
    let names = fields
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    let field = match params.single("sortBy") {
        Err(message) => {
            errors.add("sortBy", message);
            fields[0].1
        }
        Ok(None) => fields[0].1,
        Ok(Some(raw)) => match fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(raw.trim()))
        {
            Some((_, field)) => *field,
            None => {
                errors.add("sortBy", format!("must be one of {names}"));
                fields[0].1
            }
        },
    };
    let order = match params
        .single("sortOrder")
        .map(|v| v.map(|s| s.trim().to_ascii_lowercase()))
    {
        Err(message) => {
            errors.add("sortOrder", message);
            default_order
        }
        Ok(None) => default_order,
        Ok(Some(raw)) => match raw.as_str() {
            "asc" => SortOrder::Asc,
            "desc" => SortOrder::Desc,
            _ => {
                errors.add("sortOrder", "must be asc or desc");
                default_order
            }
        },
    };
    (field, order)
}

/// `search`: trimmed and lower-cased; empty means no search.
pub fn parse_search(params: &QueryParams, errors: &mut FieldErrors) -> Option<String> {
    match params.single("search") {
        Err(message) => {
            errors.add("search", message);
            None
        }
        Ok(raw) => {
            let term = raw.map(str::trim).filter(|s| !s.is_empty())?;
            if term.chars().count() > MAX_SEARCH_CHARS {
                errors.add(
                    "search",
                    format!("must be at most {MAX_SEARCH_CHARS} characters"),
                );
                return None;
            }
            Some(term.to_lowercase())
        }
    }
}

/// The envelope of every list response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total_count: usize,
    pub total_pages: usize,
    pub page_number: u32,
    pub page_size: u32,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total_count: usize, request: PageRequest) -> Self {
        Page {
            items,
            total_count,
            total_pages: total_count.div_ceil(request.size as usize),
            page_number: request.number,
            page_size: request.size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Field {
        Id,
        Name,
    }
    const FIELDS: &[(&str, Field)] = &[("endUserID", Field::Id), ("name", Field::Name)];

    #[test]
    fn defaults_apply_when_nothing_is_given() {
        let params = QueryParams::parse("");
        let mut errors = FieldErrors::default();
        assert_eq!(
            PageRequest::parse(&params, &mut errors),
            PageRequest {
                number: 1,
                size: 25
            }
        );
        assert_eq!(
            parse_sort(&params, FIELDS, SortOrder::Asc, &mut errors),
            (Field::Id, SortOrder::Asc)
        );
        assert_eq!(parse_search(&params, &mut errors), None);
        assert!(errors.is_empty());
    }

    #[test]
    fn values_are_read_case_insensitively() {
        let params =
            QueryParams::parse("PageSize=100&sortby=NAME&sortOrder=DESC&search=%20Jane%20");
        let mut errors = FieldErrors::default();
        assert_eq!(PageRequest::parse(&params, &mut errors).size, 100);
        assert_eq!(
            parse_sort(&params, FIELDS, SortOrder::Asc, &mut errors),
            (Field::Name, SortOrder::Desc)
        );
        assert_eq!(parse_search(&params, &mut errors).as_deref(), Some("jane"));
        assert!(errors.is_empty());
    }

    #[test]
    fn out_of_range_and_unknown_values_are_named() {
        let params = QueryParams::parse("pageNumber=0&pageSize=101&sortBy=colour&sortOrder=up");
        let mut errors = FieldErrors::default();
        PageRequest::parse(&params, &mut errors);
        parse_sort(&params, FIELDS, SortOrder::Asc, &mut errors);
        for path in ["pageNumber", "pageSize", "sortBy", "sortOrder"] {
            assert!(errors.contains(path), "{path}");
        }
        let mut errors = FieldErrors::default();
        PageRequest::parse(
            &QueryParams::parse("pageSize=abc&pageNumber=1&pageNumber=2"),
            &mut errors,
        );
        assert!(errors.contains("pageSize") && errors.contains("pageNumber"));
    }

    #[test]
    fn pages_slice_and_count() {
        let request = PageRequest {
            number: 2,
            size: 10,
        };
        assert_eq!(request.range(25), 10..20);
        assert_eq!(
            PageRequest {
                number: 3,
                size: 10
            }
            .range(25),
            20..25
        );
        assert_eq!(
            PageRequest {
                number: 9,
                size: 10
            }
            .range(25),
            25..25
        );
        let page = Page::new(vec![1, 2], 25, request);
        assert_eq!(
            (page.total_pages, page.page_number, page.page_size),
            (3, 2, 10)
        );
        assert_eq!(Page::<u8>::new(vec![], 0, request).total_pages, 0);
    }
}
