//! The list of end users: what it searches and sorts on, and the query that asks for a page.

use serde::Deserialize;

use super::attributes::{self, Attributes};
use super::{StoredUid, display_name};
use crate::domain::Timestamp;
use crate::domain::consent::ConsentStatus;
use crate::domain::page::{PageRequest, SortOrder};

/// A page of the tenant's end users, sorted and searched.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: PageRequest,
    pub sort_by: SortField,
    pub order: SortOrder,
    /// Lower-cased.
    pub search: Option<String>,
    /// `attributes.<key>=<value>`: each key's value in string form, all of them.
    pub attributes: Vec<(String, String)>,
    /// `consent=`: end users holding at least one UID with this consent.
    pub consent: Option<ConsentStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    EndUserId,
    Name,
    Firstname,
    Lastname,
    CustomerRef,
    CreatedAt,
    UpdatedAt,
}

/// The `sortBy` names, the default first.
pub const SORT_FIELDS: &[(&str, SortField)] = &[
    ("endUserID", SortField::EndUserId),
    ("name", SortField::Name),
    ("firstname", SortField::Firstname),
    ("lastname", SortField::Lastname),
    ("customerRef", SortField::CustomerRef),
    ("createdAt", SortField::CreatedAt),
    ("updatedAt", SortField::UpdatedAt),
];

/// What the list needs of an end user to search and sort without reading all of it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUserSummary {
    #[serde(rename = "endUserID")]
    pub id: u64,
    #[serde(default)]
    pub firstname: Option<String>,
    #[serde(default)]
    pub lastname: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub customer_ref: Option<String>,
    #[serde(default)]
    pub uids: Vec<StoredUid>,
    #[serde(default)]
    pub attributes: Attributes,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    /// Sorting by ID itself: the tie-break decides.
    Id,
    Text(Option<String>),
    Time(Timestamp),
}

impl EndUserSummary {
    fn display_name(&self) -> String {
        display_name(
            self.name.as_deref(),
            self.firstname.as_deref(),
            self.lastname.as_deref(),
        )
    }

    /// Whether `term` (lower-cased) is part of a name, the company, the customerRef or a UID.
    fn matches(&self, term: &str) -> bool {
        let contains = |s: &str| s.to_lowercase().contains(term);
        contains(&self.display_name())
            || [
                &self.firstname,
                &self.lastname,
                &self.company,
                &self.customer_ref,
            ]
            .into_iter()
            .flatten()
            .any(|s| contains(s))
            || self.uids.iter().any(|u| contains(&u.uid))
    }

    /// What `field` sorts by: text case-insensitively, a missing value first (as in SQL).
    fn sort_value(&self, field: SortField) -> SortValue {
        let text = |s: &Option<String>| SortValue::Text(s.as_ref().map(|s| s.to_lowercase()));
        match field {
            SortField::EndUserId => SortValue::Id,
            SortField::Name => SortValue::Text(Some(self.display_name().to_lowercase())),
            SortField::Firstname => text(&self.firstname),
            SortField::Lastname => text(&self.lastname),
            SortField::CustomerRef => text(&self.customer_ref),
            SortField::CreatedAt => SortValue::Time(self.created_at),
            SortField::UpdatedAt => SortValue::Time(self.updated_at),
        }
    }
}

/// The IDs of the page `query` asks for, of the end users `summaries` describe. Ties go by ID,
/// so pages are stable; each sort key is computed once, not per comparison.
pub fn select_page(mut summaries: Vec<EndUserSummary>, query: &ListQuery) -> (Vec<u64>, usize) {
    if let Some(term) = &query.search {
        summaries.retain(|s| s.matches(term));
    }
    if !query.attributes.is_empty() {
        summaries.retain(|s| attributes::matches(&s.attributes, &query.attributes));
    }
    if let Some(wanted) = query.consent {
        summaries.retain(|s| s.uids.iter().any(|u| u.consent().status == wanted));
    }
    summaries.sort_by_cached_key(|s| (s.sort_value(query.sort_by), s.id));
    if query.order == SortOrder::Desc {
        summaries.reverse();
    }
    let total = summaries.len();
    let ids = summaries[query.page.range(total)]
        .iter()
        .map(|s| s.id)
        .collect();
    (ids, total)
}
