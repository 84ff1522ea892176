//! Sync with the tenant's CRM (SPEC 10): the CRM asked once, outside any transaction, by the end
//! user's customerRef or else its primary UIDs; its answer applied as a PUT would apply it, in
//! one transaction conditional on the end user's version (a change meanwhile applies the same
//! answer to the fresh read), with the UIDs other end users hold reported rather than moved.

use std::time::{Duration, Instant};

use super::end_users::{Revised, load, write_revision};
use super::unit_of_work::{self, Exhausted, Record, Step};
use crate::crm::CrmClient;
use crate::domain::crm::{self, CrmRecord, CrmTarget, SyncConflict};
use crate::domain::end_user::{self, EndUser};
use crate::domain::errors::FieldErrors;
use crate::domain::ids::IdBlock;
use crate::domain::timeline;
use crate::domain::uid::Uid;
use crate::domain::{Secret, TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::timeline as records;
use crate::store::{Table, customer_ref, owner, uid_index};
use crate::vault::suppression::Suppressions;
use crate::vault::{Vault, VaultError};

/// What a sync did: the end user as it is after, when, and the UIDs it left with their holders.
#[derive(Clone, Debug)]
pub struct Synced {
    pub user: EndUser,
    pub synced_at: Timestamp,
    pub conflicts: Vec<SyncConflict>,
}

/// What a sync needs besides the table.
pub struct Connector<'a> {
    pub vault: &'a Vault,
    pub suppressions: &'a Suppressions,
    pub crm: &'a CrmClient,
}

/// All lookups of one sync together get this long (each at most the connector's own 3 s), so a
/// CRM slow on each of several UIDs leaves the request time to write within its deadline.
pub const ASK_BUDGET: Duration = Duration::from_secs(5);

/// `POST /api/EndUsers/{id}/sync`: the end user (404, 410; an anonymized one 409), the tenant's
/// connector (409 without one), the CRM's record (502 when it gives none usable), then one
/// transaction applying it (none when it changes nothing), completing `record`.
pub async fn sync(
    table: &dyn Table,
    connector: &Connector<'_>,
    tenant: TenantId,
    id: u64,
    record: Option<&dyn Record<Synced>>,
) -> Result<Synced, ApiError> {
    let user = syncable(table, tenant, id).await?;
    let target = target(table, connector.vault, tenant).await?;
    synced(table, connector, &target, (tenant, user), record).await
}

/// Sync on contact (SPEC 10): as [`sync`], the tenant's connector read first, so that a tenant
/// without one costs a single read.
pub async fn sync_on_contact(
    table: &dyn Table,
    connector: &Connector<'_>,
    tenant: TenantId,
    id: u64,
) -> Result<Synced, ApiError> {
    let target = target(table, connector.vault, tenant).await?;
    let user = syncable(table, tenant, id).await?;
    synced(table, connector, &target, (tenant, user), None).await
}

/// End user `id`, unless it was anonymized (409).
async fn syncable(table: &dyn Table, tenant: TenantId, id: u64) -> Result<EndUser, ApiError> {
    let user = load(table, tenant, id).await?;
    if user.is_anonymized() {
        return Err(ApiError::Conflict {
            detail: format!("end user {id} was anonymized"),
            errors: FieldErrors::single("id", "an anonymized end user is not synced"),
            holder: None,
        });
    }
    Ok(user)
}

/// `tenant`'s end user `user` synced with the CRM of `target`.
async fn synced(
    table: &dyn Table,
    connector: &Connector<'_>,
    target: &CrmTarget,
    (tenant, user): (TenantId, EndUser),
    record: Option<&dyn Record<Synced>>,
) -> Result<Synced, ApiError> {
    let id = user.id;
    let found = ask(connector.crm, target, &user).await?;
    let mut first_read = Some(user);
    unit_of_work::run_recorded(table, Exhausted::Conflict, record, |_| {
        let read = first_read.take();
        let found = found.as_ref();
        async move {
            let current = match read {
                Some(user) => user,
                None => load(table, tenant, id).await?,
            };
            let now = Timestamp::now();
            match found {
                None => Ok(Step::Done(Synced {
                    user: current,
                    synced_at: now,
                    conflicts: Vec::new(),
                })),
                Some(found) => {
                    apply(table, connector.suppressions, tenant, current, found, now).await
                }
            }
        }
    })
    .await
}

/// The tenant's CRM connector: its account (one read) and the credential its type needs,
/// opened; 409 `no-crm-connector` without one, `secrets-unreadable` when it no longer opens.
async fn target(table: &dyn Table, vault: &Vault, tenant: TenantId) -> Result<CrmTarget, ApiError> {
    let account = super::account::load(table, tenant).await?;
    let settings = &account.settings;
    let mut secret: Option<Secret> = None;
    if let (Some(field), Some(sealed)) = (CrmTarget::secret_field(settings), &account.sealed)
        && account.secret_fields.contains(&field)
    {
        secret = match vault.open(tenant, sealed).await {
            Ok(values) => values.get(field).cloned(),
            Err(VaultError::Unavailable(cause)) => return Err(ApiError::Unavailable(cause)),
            Err(VaultError::Internal(cause)) => {
                tracing::warn!(
                    tenant = tenant.get(),
                    cause,
                    "the stored secrets no longer open"
                );
                return Err(ApiError::SecretsUnreadable(FieldErrors::single(
                    field.name(),
                    "is stored but can no longer be opened; set it again",
                )));
            }
        };
    }
    CrmTarget::of(settings, secret.as_ref()).map_err(ApiError::NoCrmConnector)
}

/// The CRM's record of `user`: the answer to the first of its lookups the CRM knows; `None`
/// when it knows none (or `user` has nothing to look up by). 502 past [`ASK_BUDGET`].
async fn ask(
    crm: &CrmClient,
    target: &CrmTarget,
    user: &EndUser,
) -> Result<Option<CrmRecord>, ApiError> {
    let lookups = crm::lookups(user);
    let started = Instant::now();
    for lookup in &lookups {
        let left = ASK_BUDGET.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(ApiError::CrmUnavailable(format!(
                "the CRM did not answer {} lookups within {} s",
                lookups.len(),
                ASK_BUDGET.as_secs()
            )));
        }
        let answer = crm.lookup_within(target, lookup, left).await;
        match answer.map_err(|unavailable| ApiError::CrmUnavailable(unavailable.0))? {
            Some(body) => {
                return CrmRecord::parse(&body)
                    .map(Some)
                    .map_err(ApiError::CrmUnavailable);
            }
            None => continue,
        }
    }
    Ok(None)
}

/// The step applying `found` to `current`: its fields as a PUT would (502 when a PUT would
/// refuse them), its customerRef claimed (409 when another end user holds it), its UIDs added
/// but those others hold (one batch read of their index items), a `crmSynced` entry when
/// anything changed.
async fn apply(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    current: EndUser,
    found: &CrmRecord,
    now: Timestamp,
) -> Result<Step<Synced>, ApiError> {
    let id = current.id;
    let mut block = IdBlock::for_existing_end_user();
    let revision = end_user::update(&current, &found.body(), &mut block, now)
        .map_err(|errors| refused(&errors))?;
    let added: Vec<Uid> = revision
        .user
        .uids
        .iter()
        .map(|uid| uid.as_uid())
        .filter(|uid| current.find_uid(uid).is_none())
        .collect();
    let reference = revision
        .user
        .customer_ref
        .clone()
        .filter(|r| current.customer_ref.as_ref() != Some(r));
    let mut keys: Vec<_> = added
        .iter()
        .map(|uid| uid_index::key(tenant, uid))
        .collect();
    keys.extend(reference.iter().map(|r| customer_ref::key(tenant, r)));
    let held = match keys.is_empty() {
        true => Vec::new(),
        false => table.batch_get(&keys).await?,
    };
    let holder =
        |key: &crate::store::Key| key.find_in(&held).and_then(owner::of).filter(|h| *h != id);
    if let Some((reference, holder)) = reference
        .as_ref()
        .and_then(|r| holder(&customer_ref::key(tenant, r)).map(|h| (r, h)))
    {
        let message = format!("this customerRef already belongs to end user {holder}");
        return Err(ApiError::Conflict {
            detail: format!(
                "the CRM's customerRef {reference} already belongs to end user {holder}"
            ),
            errors: FieldErrors::single("customerRef", message),
            holder: Some(holder),
        });
    }
    let mut conflicts = Vec::new();
    let mut left_out = Vec::new();
    for uid in &added {
        if let Some(holder) = holder(&uid_index::key(tenant, uid)) {
            conflicts.push(SyncConflict {
                uid_type: uid.uid_type(),
                uid: uid.value().to_owned(),
                end_user_id: holder,
            });
            left_out.push(uid.clone());
        }
    }
    let revision = revision.leaving_out(&current, &left_out);
    let changed = crm::changed_fields(&current, &revision.user);
    let claimed: Vec<Uid> = added
        .into_iter()
        .filter(|uid| !left_out.contains(uid))
        .collect();
    let revised = Revised {
        revision,
        block: &block,
        now,
    };
    let answer = |user| Synced {
        user,
        synced_at: now,
        conflicts,
    };
    let step = write_revision(table, suppressions, tenant, current, revised, answer).await?;
    let Step::Commit(mut plan) = step else {
        return Ok(step);
    };
    plan.tx.push(records::put(
        tenant,
        &timeline::crm_synced(id, changed, now),
    )?);
    // A UID taken since the batch read is read again, and then reported.
    for uid in &claimed {
        plan.tx.race_on(&uid_index::key(tenant, uid));
    }
    Ok(Step::Commit(plan))
}

/// The 502 of a CRM answer with values a PUT refuses: the fields, as the answer names them.
fn refused(errors: &FieldErrors) -> ApiError {
    let fields: Vec<String> = errors
        .messages()
        .map(|(path, message)| format!("{path} {message}"))
        .collect();
    ApiError::CrmUnavailable(format!(
        "the CRM's answer has values a PUT refuses: {}",
        fields.join("; ")
    ))
}
