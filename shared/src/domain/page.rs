//! Paging, sorting and searching of lists: the rules, on the raw values a caller sent.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: u32,
    pub size: u32,
}

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 100;
const MAX_SEARCH_CHARS: usize = 256;

/// An integer within `range`, `default` when absent.
fn bounded(
    raw: Option<&str>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, String> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            )
        })
}

impl PageRequest {
    /// The page number: at least 1, default 1.
    pub fn number(raw: Option<&str>) -> Result<u32, String> {
        bounded(raw, 1, 1..=u32::MAX)
    }

    /// The page size: 1 to 100, default 25.
    pub fn size(raw: Option<&str>) -> Result<u32, String> {
        bounded(raw, DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)
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

impl SortOrder {
    /// `asc` or `desc` in any case; `default` when absent.
    pub fn parse(raw: Option<&str>, default: SortOrder) -> Result<SortOrder, String> {
        match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("asc") => Ok(SortOrder::Asc),
            Some("desc") => Ok(SortOrder::Desc),
            Some(_) => Err("must be asc or desc".into()),
        }
    }
}

/// The sort field named `raw` among `fields` (case-insensitive); the first when absent.
pub fn parse_sort_field<T: Copy>(raw: Option<&str>, fields: &[(&str, T)]) -> Result<T, String> {
    let Some(raw) = raw else {
        return Ok(fields[0].1);
    };
    fields
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(raw.trim()))
        .map(|(_, field)| *field)
        .ok_or_else(|| {
            let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
            format!("must be one of {}", names.join(", "))
        })
}

/// A search term: trimmed and lower-cased, at most 256 characters; blank means no search.
pub fn parse_search(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(term) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if term.chars().count() > MAX_SEARCH_CHARS {
        return Err(format!("must be at most {MAX_SEARCH_CHARS} characters"));
    }
    Ok(Some(term.to_lowercase()))
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

/// A page of a cursor-paged list: no totals (counting would read the whole list), the cursor of
/// the next page (`null` on the last).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    pub page_size: u32,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The same page of `view`s of its items.
    pub fn map<'a, V>(&'a self, view: impl Fn(&'a T) -> V) -> Page<V> {
        Page {
            items: self.items.iter().map(view).collect(),
            total_count: self.total_count,
            total_pages: self.total_pages,
            page_number: self.page_number,
            page_size: self.page_size,
        }
    }

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
        assert_eq!(PageRequest::number(None), Ok(1));
        assert_eq!(PageRequest::size(None), Ok(25));
        assert_eq!(parse_sort_field(None, FIELDS), Ok(Field::Id));
        assert_eq!(SortOrder::parse(None, SortOrder::Desc), Ok(SortOrder::Desc));
        assert_eq!(parse_search(None), Ok(None));
        assert_eq!(parse_search(Some("  ")), Ok(None));
    }

    #[test]
    fn values_are_read_case_insensitively_and_trimmed() {
        assert_eq!(PageRequest::size(Some(" 100 ")), Ok(100));
        assert_eq!(parse_sort_field(Some("NAME"), FIELDS), Ok(Field::Name));
        assert_eq!(
            SortOrder::parse(Some("DESC"), SortOrder::Asc),
            Ok(SortOrder::Desc)
        );
        assert_eq!(parse_search(Some(" Jane ")), Ok(Some("jane".into())));
    }

    #[test]
    fn out_of_range_and_unknown_values_are_refused() {
        assert!(PageRequest::number(Some("0")).is_err());
        assert!(PageRequest::size(Some("101")).is_err());
        assert!(PageRequest::size(Some("abc")).is_err());
        assert_eq!(
            parse_sort_field(Some("colour"), FIELDS),
            Err("must be one of endUserID, name".into())
        );
        assert!(SortOrder::parse(Some("up"), SortOrder::Asc).is_err());
        assert!(parse_search(Some(&"x".repeat(257))).is_err());
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
