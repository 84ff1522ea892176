//! Suppression (SPEC 9): erasing an end user keeps, of each opted-out address it held, a keyed
//! digest and nothing else; the same address linked again to any end user of the tenant starts
//! opted out.

use crate::domain::consent::ConsentStatus;
use crate::domain::end_user::EndUser;
use crate::domain::uid::Uid;
use crate::domain::{TenantId, Timestamp};
use crate::error::ApiError;
use crate::store::{Table, Write, owner, suppression, uid_index};
use crate::vault::suppression::Suppressions;

/// The suppression items the erasure of `user` (as it was before) keeps.
pub(super) async fn kept(
    suppressions: &Suppressions,
    tenant: TenantId,
    user: &EndUser,
) -> Result<Vec<Write>, ApiError> {
    let opted_out: Vec<Uid> = user
        .uids
        .iter()
        .filter(|u| u.consent().status == ConsentStatus::OptedOut)
        .map(|u| u.as_uid())
        .collect();
    let digests = suppressions.digests(tenant, &opted_out).await?;
    Ok(digests
        .iter()
        .map(|digest| suppression::keep(tenant, digest.as_str()))
        .collect())
}

/// Screens the addresses `after` links that `before` did not hold: each suppressed one starts
/// opted out (source `suppression`). Returns the checks its write needs: an address held by
/// another end user when read, which this write can only take once that one lets it go, must
/// not have been suppressed meanwhile (an erasure frees it and suppresses it in one write). One
/// batch read of the addresses' suppression and index items; none when nothing is linked.
pub(super) async fn screen(
    table: &dyn Table,
    suppressions: &Suppressions,
    tenant: TenantId,
    before: Option<&EndUser>,
    after: &mut EndUser,
    now: Timestamp,
) -> Result<Vec<Write>, ApiError> {
    let linked: Vec<Uid> = after
        .uids
        .iter()
        .map(|u| u.as_uid())
        .filter(|uid| before.is_none_or(|b| b.find_uid(uid).is_none()))
        .collect();
    let mut checks = Vec::new();
    if linked.is_empty() {
        return Ok(checks);
    }
    let digests = suppressions.digests(tenant, &linked).await?;
    let keys: Vec<_> = linked
        .iter()
        .zip(&digests)
        .flat_map(|(uid, digest)| {
            [
                suppression::key(tenant, digest.as_str()),
                uid_index::key(tenant, uid),
            ]
        })
        .collect();
    let found = table.batch_get(&keys).await?;
    for (uid, digest) in linked.iter().zip(&digests) {
        if suppression::key(tenant, digest.as_str())
            .find_in(&found)
            .is_some()
        {
            after.suppress(uid, now);
            continue;
        }
        let holder = uid_index::key(tenant, uid)
            .find_in(&found)
            .and_then(owner::of);
        if holder.is_some_and(|id| id != after.id) {
            checks.push(suppression::not_suppressed(tenant, digest.as_str()));
        }
    }
    Ok(checks)
}
