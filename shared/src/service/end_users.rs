//! End users: create, read, update, delete, list and resolve by UID or customerRef.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;

use super::{Attempt, Plan, commit, load, with_retries};
use crate::domain::end_user::{self, EndUser, EndUserBody, EndUserView, StoredUid, display_name};
use crate::domain::fields::CountryCode;
use crate::domain::ids::IdBlock;
use crate::domain::page::{Page, PageRequest, QueryParams, SortOrder, parse_search, parse_sort};
use crate::domain::uid::Uid;
use crate::domain::{TenantId, Timestamp};
use crate::error::{ApiError, FieldErrors};
use crate::store::keys::{self, END_USERS_BY_TENANT};
use crate::store::{Key, MAX_BATCH_GET, Table};

pub async fn get(table: &dyn Table, tenant: TenantId, id: u64) -> Result<EndUser, ApiError> {
    load(table, tenant, id).await
}

pub async fn create(
    table: &dyn Table,
    tenant: TenantId,
    body: &EndUserBody,
) -> Result<EndUser, ApiError> {
    with_retries(|| async {
        let now = Timestamp::now();
        let mut block = IdBlock::reserve();
        let revision = end_user::create(body, &mut block, now).map_err(ApiError::Validation)?;
        let plan = Plan::new(
            tenant,
            None,
            Some(&revision.user),
            Some(&block),
            &revision.uid_paths,
            now.unix_seconds(),
        )?;
        commit(table, plan, revision.user).await
    })
    .await
}

pub async fn update(
    table: &dyn Table,
    tenant: TenantId,
    id: u64,
    body: &EndUserBody,
) -> Result<EndUser, ApiError> {
    with_retries(|| async {
        let current = load(table, tenant, id).await?;
        let now = Timestamp::now();
        let mut block = IdBlock::reserve();
        let revision =
            end_user::update(&current, body, &mut block, now).map_err(ApiError::Validation)?;
        if revision.user == current {
            return Ok(Attempt::Done(current));
        }
        let plan = Plan::new(
            tenant,
            Some(&current),
            Some(&revision.user),
            block.is_used().then_some(&block),
            &revision.uid_paths,
            now.unix_seconds(),
        )?;
        commit(table, plan, revision.user).await
    })
    .await
}

/// Removes the end user with its UIDs and customerRef, which become free.
pub async fn delete(table: &dyn Table, tenant: TenantId, id: u64) -> Result<(), ApiError> {
    with_retries(|| async {
        let current = load(table, tenant, id).await?;
        let plan = Plan::new(tenant, Some(&current), None, None, &HashMap::new(), 0)?;
        commit(table, plan, ()).await
    })
    .await
}

/// The query of `GET /api/EndUsers`.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: PageRequest,
    pub sort_by: SortField,
    pub order: SortOrder,
    /// Lower-cased.
    pub search: Option<String>,
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

const SORT_FIELDS: &[(&str, SortField)] = &[
    ("endUserID", SortField::EndUserId),
    ("name", SortField::Name),
    ("firstname", SortField::Firstname),
    ("lastname", SortField::Lastname),
    ("customerRef", SortField::CustomerRef),
    ("createdAt", SortField::CreatedAt),
    ("updatedAt", SortField::UpdatedAt),
];

impl ListQuery {
    pub fn parse(params: &QueryParams) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let page = PageRequest::parse(params, &mut errors);
        let (sort_by, order) = parse_sort(params, SORT_FIELDS, SortOrder::Asc, &mut errors);
        let search = parse_search(params, &mut errors);
        errors.into_result(ListQuery {
            page,
            sort_by,
            order,
            search,
        })
    }
}

/// What the list index holds of an end user: enough to search and sort without reading it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    #[serde(rename = "endUserID")]
    id: u64,
    #[serde(default)]
    firstname: Option<String>,
    #[serde(default)]
    lastname: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    customer_ref: Option<String>,
    #[serde(default)]
    uids: Vec<StoredUid>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl Summary {
    fn display_name(&self) -> String {
        display_name(
            self.name.as_deref(),
            self.firstname.as_deref(),
            self.lastname.as_deref(),
        )
    }

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

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    /// Sorting by ID itself: the tie-break decides.
    Id,
    Text(Option<String>),
    Time(Timestamp),
}

/// One page of the tenant's end users: the list index in one query, then the page's end users
/// in one batch read.
pub async fn list(
    table: &dyn Table,
    tenant: TenantId,
    query: &ListQuery,
) -> Result<Page<EndUserView>, ApiError> {
    let partition = keys::end_users_partition(tenant);
    let mut summaries = table
        .query_index(&END_USERS_BY_TENANT, &partition)
        .await?
        .into_iter()
        .map(keys::decode::<Summary>)
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(term) = &query.search {
        summaries.retain(|s| s.matches(term));
    }
    // Ties go by ID, so pages are stable; each key is computed once, not per comparison.
    summaries.sort_by_cached_key(|s| (s.sort_value(query.sort_by), s.id));
    if query.order == SortOrder::Desc {
        summaries.reverse();
    }
    let total = summaries.len();
    let page_ids: Vec<u64> = summaries[query.page.range(total)]
        .iter()
        .map(|s| s.id)
        .collect();
    let keys: Vec<Key> = page_ids
        .iter()
        .map(|id| keys::profile(tenant, *id))
        .collect();
    let mut found = HashMap::new();
    for chunk in keys.chunks(MAX_BATCH_GET) {
        for item in table.batch_get(chunk).await? {
            let user: EndUser = keys::decode(item)?;
            found.insert(user.id, user);
        }
    }
    // An end user deleted since the index was read is left out.
    let items = page_ids
        .iter()
        .filter_map(|id| found.get(id))
        .map(EndUser::view)
        .collect();
    Ok(Page::new(items, total, query.page))
}

const MAX_CUSTOMER_REF_CHARS: usize = 128;

/// The end user that holds `raw` as a UID of any type (after that type's normalization, national
/// phone numbers read in `country`) or as its customerRef.
pub async fn by_uid(
    table: &dyn Table,
    tenant: TenantId,
    raw: Option<&str>,
    country: Option<CountryCode>,
) -> Result<EndUser, ApiError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Err(ApiError::Validation(FieldErrors::single(
            "uid",
            "is required",
        )));
    }
    let mut lookups: Vec<Key> = Uid::candidates(raw, country)
        .iter()
        .map(|uid| keys::uid_index(tenant, uid))
        .collect();
    if raw.chars().count() <= MAX_CUSTOMER_REF_CHARS {
        lookups.push(keys::customer_ref(tenant, raw));
    }
    let owners: BTreeSet<u64> = table
        .batch_get(&lookups)
        .await?
        .iter()
        .filter_map(keys::owner_of)
        .collect();
    let mut owners = owners.into_iter();
    match (owners.next(), owners.next()) {
        (None, _) => Err(ApiError::NotFound(
            "no end user holds this UID or customerRef".into(),
        )),
        (Some(id), None) => load(table, tenant, id).await,
        (Some(first), Some(second)) => Err(ApiError::Ambiguous {
            end_user_ids: [first, second].into_iter().chain(owners).collect(),
        }),
    }
}
