//! Upsert by external reference (SPEC 7): the end user holding a customerRef is updated, or one
//! is created holding it. Concurrent upserts of one new reference create one end user: the
//! loser's claim of the reference is a noted race, and its next attempt updates the winner.

use super::duplicates;
use super::end_users::{load, one_transaction, reference_holder, updated};
use super::unit_of_work::{self, Exhausted, Record, Step};
use crate::domain::change;
use crate::domain::end_user::{self, EndUser, EndUserBody};
use crate::domain::errors::FieldErrors;
use crate::domain::ids::IdBlock;
use crate::domain::precondition::Preconditions;
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::{self, Query, Table, customer_ref};
use crate::vault::suppression::Suppressions;

/// The reference's index item met by a create that lost the race for it.
const REFERENCE_TAKEN: &str = "customerRef taken";

/// What an upsert did.
#[derive(Debug)]
pub enum Upserted {
    Created(EndUser),
    Updated(EndUser),
}

/// The body an upsert of `reference` applies: its own customerRef absent or the same.
fn body_for(reference: &str, body: &EndUserBody) -> Result<EndUserBody, ApiError> {
    let given = body.customer_ref.as_deref().map(end_user::parse_reference);
    if given.is_some_and(|r| r.as_deref() != Ok(reference)) {
        return Err(ApiError::Validation(FieldErrors::single(
            "customerRef",
            "must be absent or the customerRef of the path",
        )));
    }
    Ok(EndUserBody {
        customer_ref: Some(reference.to_owned()),
        ..body.clone()
    })
}

/// The end user holding `reference`: first from the reference's index entry (one query,
/// eventually consistent: a stale entry fails the write's version condition), on later
/// attempts from the index item and the record (strongly consistent).
async fn holder(
    table: &dyn Table,
    tenant: TenantId,
    reference: &str,
    consistent: bool,
) -> Result<Option<EndUser>, ApiError> {
    if !consistent {
        let partition = store::end_user::reference_partition(tenant, reference);
        let query = Query::index(&store::end_user::BY_REFERENCE, &partition);
        let found = store::first_items(table, &query, None, 1).await?;
        let user = found
            .into_iter()
            .next()
            .map(store::end_user::from_item)
            .transpose()?;
        return Ok(user.filter(|u| u.customer_ref.as_deref() == Some(reference)));
    }
    match reference_holder(table, tenant, reference).await? {
        Some(id) => load(table, tenant, id).await.map(Some),
        None => Ok(None),
    }
}

/// Upserts the holder of `reference` when `pre` holds of it (`If-None-Match: *` creates only).
pub async fn upsert(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    reference: &str,
    body: &EndUserBody,
    pre: &Preconditions,
    record: Option<&dyn Record<Upserted>>,
) -> Result<Upserted, ApiError> {
    let reference = end_user::parse_reference(reference)
        .map_err(|m| ApiError::Validation(FieldErrors::single("customerRef", m)))?;
    let body = body_for(&reference, body)?;
    let mut attempt = 0;
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| {
        attempt += 1;
        let (reference, body) = (&reference, &body);
        async move {
            // A precondition is judged on a strongly consistent read, never on the index.
            let consistent = attempt > 1 || !pre.is_empty();
            let current = holder(table, tenant, reference, consistent).await?;
            pre.allow_write(current.as_ref().map(|u| u.version))?;
            if let Some(current) = current {
                let answer = Upserted::Updated;
                return updated(table, suppressions, tenant, current, body, answer).await;
            }
            let now = Timestamp::now();
            let mut block = IdBlock::for_new_end_user();
            let mut revision = end_user::create(body, &mut block, now)?;
            let new = &mut revision.user;
            let (checks, suspected) =
                duplicates::screened(table, suppressions, tenant, None, new, now).await?;
            let mut created = store::end_user::created(tenant, &revision, &block, now)?;
            created.push_all(checks);
            let mut tx = one_transaction(created)?;
            tx.note_write(&customer_ref::key(tenant, reference), REFERENCE_TAKEN);
            let mut changes = change::of_end_user(tenant, None, Some(&revision.user), now);
            changes.extend(suspected);
            Ok(Step::announce(
                tx,
                Upserted::Created(revision.user),
                changes,
                now,
            ))
        }
    })
    .await
}
