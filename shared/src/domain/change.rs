//! Change events (SPEC 7): what a committed change tells integrators, as Amazon EventBridge
//! publishes it (`detailType`, the rest the `detail`). Events are thin: IDs, types, versions and
//! the names of changed fields, never a personal value or a secret, so an event outlives no
//! erasure; a consumer reads the end user for its values. Each event's ID is derived from what
//! changed (tenant, entity, version, kind), so a repeat of the same change has the same ID.

use serde::Serialize;
use serde_json::Value;

use super::TenantId;
use super::Timestamp;
use super::consent::ConsentStatus;
use super::duplicates::{Candidate, Reason};
use super::end_user::{EndUser, StoredUid};
use super::ticket::{Ticket, TicketStatus};
use super::timeline::ExternalEvent;
use super::uid::UidType;

/// EventBridge's `detail-type` of each change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ChangeKind {
    EndUserCreated,
    EndUserUpdated,
    EndUserDeleted,
    EndUserMerged,
    EndUserUnmerged,
    EndUserAnonymized,
    UidLinked,
    UidUnlinked,
    UidConsentChanged,
    EndUserDuplicateSuspected,
    ExternalEventRecorded,
    TicketCreated,
    TicketUpdated,
}

/// One change event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub detail_type: ChangeKind,
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(rename = "customerID")]
    pub customer_id: u64,
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    /// The end user's version after the change; a ticket event's: the ticket's message count.
    pub version: u64,
    pub occurred_at: Timestamp,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_fields: Vec<String>,
    #[serde(rename = "endUserUIDID", skip_serializing_if = "Option::is_none")]
    pub end_user_uid_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid_type: Option<UidType>,
    /// A UID's consent after the change (`UidConsentChanged`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentStatus>,
    /// The other end user of a suspected duplicate, its score and the reasons.
    #[serde(rename = "candidateEndUserID", skip_serializing_if = "Option::is_none")]
    pub candidate_end_user_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    #[serde(rename = "sourceEndUserID", skip_serializing_if = "Option::is_none")]
    pub source_end_user_id: Option<u64>,
    #[serde(rename = "targetEndUserID", skip_serializing_if = "Option::is_none")]
    pub target_end_user_id: Option<u64>,
    #[serde(rename = "mergeID", skip_serializing_if = "Option::is_none")]
    pub merge_id: Option<u64>,
    #[serde(rename = "ticketID", skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<u64>,
    #[serde(rename = "channelID", skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    /// The external event recorded (`ExternalEventRecorded`): its ID and type.
    #[serde(rename = "externalEventID", skip_serializing_if = "Option::is_none")]
    pub external_event_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_event_type: Option<String>,
}

impl Change {
    /// A `kind` event of end user `id` at `version`; `discriminator` tells apart events of one
    /// kind in one change (a UID's ID).
    fn of(
        kind: ChangeKind,
        tenant: TenantId,
        id: u64,
        version: u64,
        now: Timestamp,
        discriminator: Option<u64>,
    ) -> Self {
        let tenant = tenant.get();
        let mut event_id = format!("{tenant}-{id}-{version}-{kind:?}");
        if let Some(discriminator) = discriminator {
            event_id.push_str(&format!("-{discriminator}"));
        }
        Change {
            detail_type: kind,
            event_id,
            customer_id: tenant,
            end_user_id: id,
            version,
            occurred_at: now,
            changed_fields: Vec::new(),
            end_user_uid_id: None,
            uid_type: None,
            consent: None,
            candidate_end_user_id: None,
            score: None,
            reasons: Vec::new(),
            source_end_user_id: None,
            target_end_user_id: None,
            merge_id: None,
            ticket_id: None,
            channel_id: None,
            status: None,
            external_event_id: None,
            external_event_type: None,
        }
    }
}

/// The events of an end user going from `before` to `after` (`None`: not there): created,
/// deleted or updated (with the names of the fields that changed), each UID linked or unlinked
/// on the way, and each UID whose consent changed.
pub fn of_end_user(
    tenant: TenantId,
    before: Option<&EndUser>,
    after: Option<&EndUser>,
    now: Timestamp,
) -> Vec<Change> {
    let (id, version) = match (before, after) {
        (_, Some(user)) => (user.id, user.version),
        (Some(user), None) => (user.id, user.version + 1),
        (None, None) => return Vec::new(),
    };
    let kind = match (before, after) {
        (None, _) => ChangeKind::EndUserCreated,
        (_, None) => ChangeKind::EndUserDeleted,
        _ => ChangeKind::EndUserUpdated,
    };
    let mut head = Change::of(kind, tenant, id, version, now, None);
    if let (Some(before), Some(after)) = (before, after) {
        head.changed_fields = changed_fields(before, after);
    }
    let uids = |user: Option<&EndUser>| -> Vec<(u64, UidType, String)> {
        user.map(|u| {
            u.uids
                .iter()
                .map(|uid| (uid.id, uid.uid_type, uid.uid.clone()))
                .collect()
        })
        .unwrap_or_default()
    };
    let (old, new) = (uids(before), uids(after));
    let uid_change = |kind, (uid_id, uid_type, _): &(u64, UidType, String)| Change {
        end_user_uid_id: Some(*uid_id),
        uid_type: Some(*uid_type),
        ..Change::of(kind, tenant, id, version, now, Some(*uid_id))
    };
    let mut changes = vec![head];
    changes.extend(
        old.iter()
            .filter(|uid| !new.contains(uid))
            .map(|uid| uid_change(ChangeKind::UidUnlinked, uid)),
    );
    changes.extend(
        new.iter()
            .filter(|uid| !old.contains(uid))
            .map(|uid| uid_change(ChangeKind::UidLinked, uid)),
    );
    changes.extend(consent_changes(before, after).map(|uid| Change {
        end_user_uid_id: Some(uid.id),
        uid_type: Some(uid.uid_type),
        consent: Some(uid.consent().status),
        ..Change::of(
            ChangeKind::UidConsentChanged,
            tenant,
            id,
            version,
            now,
            Some(uid.id),
        )
    }));
    changes
}

/// The events of `lead`, a new sender a webhook on channel `channel` created: as any created
/// end user's, its `EndUserCreated` naming the channel (what sync on contact listens for, SPEC 10).
pub fn of_lead(tenant: TenantId, lead: &EndUser, channel: u64, now: Timestamp) -> Vec<Change> {
    let mut changes = of_end_user(tenant, None, Some(lead), now);
    if let Some(created) = changes.first_mut() {
        created.channel_id = Some(channel);
    }
    changes
}

/// End user `user` (as written) now likely the same person as `candidate` (SPEC 9).
pub fn duplicate_suspected(
    tenant: TenantId,
    user: &EndUser,
    candidate: Candidate,
    now: Timestamp,
) -> Change {
    let id = Some(candidate.end_user_id);
    Change {
        candidate_end_user_id: id,
        score: Some(candidate.score),
        reasons: candidate.reasons,
        ..Change::of(
            ChangeKind::EndUserDuplicateSuspected,
            tenant,
            user.id,
            user.version,
            now,
            id,
        )
    }
}

/// External event `event` recorded on end user `user`'s timeline (SPEC 10): its ID and type,
/// not its message.
pub fn external_event_recorded(
    tenant: TenantId,
    user: &EndUser,
    event: &ExternalEvent,
    now: Timestamp,
) -> Change {
    let id = Some(event.id);
    Change {
        external_event_id: id,
        external_event_type: Some(event.event_type.clone()),
        ..Change::of(
            ChangeKind::ExternalEventRecorded,
            tenant,
            user.id,
            user.version,
            now,
            id,
        )
    }
}

/// Each UID of `after` whose consent differs from what `before` held of the same address
/// (`unknown` for an address it did not hold): for its event, and its timeline entry.
pub(crate) fn consent_changes<'a>(
    before: Option<&'a EndUser>,
    after: Option<&'a EndUser>,
) -> impl Iterator<Item = &'a StoredUid> + 'a {
    let held_before = move |uid: &StoredUid| {
        before
            .and_then(|b| {
                b.uids.iter().find(|old| {
                    old.id == uid.id && old.uid_type == uid.uid_type && old.uid == uid.uid
                })
            })
            .map_or(ConsentStatus::Unknown, |old| old.consent().status)
    };
    after
        .into_iter()
        .flat_map(|a| a.uids.iter())
        .filter(move |uid| uid.consent().status != held_before(uid))
}

/// The fields of the end user's answer that differ, but its `updatedAt`.
fn changed_fields(before: &EndUser, after: &EndUser) -> Vec<String> {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) = (
        serde_json::to_value(before.view()),
        serde_json::to_value(after.view()),
    ) else {
        return Vec::new();
    };
    new.iter()
        .filter(|(name, value)| {
            name.as_str() != "updatedAt" && old.get(name.as_str()) != Some(value)
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// A merge (`EndUserMerged`) or its undo (`EndUserUnmerged`), `target` as it is after: one
/// event naming both end users.
pub fn of_merge(
    kind: ChangeKind,
    tenant: TenantId,
    target: &EndUser,
    source_id: u64,
    merge_id: u64,
    now: Timestamp,
) -> Change {
    Change {
        source_end_user_id: Some(source_id),
        target_end_user_id: Some(target.id),
        merge_id: Some(merge_id),
        ..Change::of(kind, tenant, target.id, target.version, now, None)
    }
}

/// The end user erased (`user` as it is after).
pub fn anonymized(tenant: TenantId, user: &EndUser, now: Timestamp) -> Change {
    Change::of(
        ChangeKind::EndUserAnonymized,
        tenant,
        user.id,
        user.version,
        now,
        None,
    )
}

/// A ticket event: `ticket` as it is after the change; `cause` the ID of what made it (a
/// message's, or for a desk's update the ticket's new version), unique per ticket and kind. Its
/// `version` is the ticket's message count: a ticket changes more often than a count can tell,
/// so its events order by `version`, then `occurredAt`.
pub fn of_ticket(
    kind: ChangeKind,
    tenant: TenantId,
    ticket: &Ticket,
    cause: u64,
    now: Timestamp,
) -> Change {
    let mut change = Change::of(
        kind,
        tenant,
        ticket.end_user_id,
        ticket.message_count,
        now,
        None,
    );
    change.event_id = format!("{}-ticket-{}-{kind:?}-{cause}", tenant.get(), ticket.id);
    Change {
        ticket_id: Some(ticket.id),
        channel_id: Some(ticket.channel_id),
        status: Some(ticket.status()),
        ..change
    }
}

/// A message counted on an open ticket that was not read (an inbound message): its position is
/// the ticket's message count after it.
pub fn message_added(
    tenant: TenantId,
    end_user_id: u64,
    ticket_id: u64,
    channel_id: u64,
    message_id: u64,
    position: u64,
    now: Timestamp,
) -> Change {
    let kind = ChangeKind::TicketUpdated;
    let mut change = Change::of(kind, tenant, end_user_id, position, now, None);
    change.event_id = format!("{}-ticket-{ticket_id}-{kind:?}-{message_id}", tenant.get());
    Change {
        ticket_id: Some(ticket_id),
        channel_id: Some(channel_id),
        ..change
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::end_user::EndUserBody;

    fn tenant() -> TenantId {
        TenantId::new(4).expect("a tenant")
    }

    fn user(body: serde_json::Value) -> EndUser {
        let body: EndUserBody = serde_json::from_value(body).expect("a body");
        let mut block = crate::domain::ids::IdBlock::for_new_end_user();
        crate::domain::end_user::create(&body, &mut block, Timestamp::now())
            .expect("valid")
            .user
    }

    #[test]
    fn a_uid_whose_value_changes_is_unlinked_and_linked_again() {
        let before =
            user(serde_json::json!({"uids": [{"uidType": "Email", "uid": "a@example.com"}]}));
        let mut after = before.clone();
        after.version += 1;
        after.uids[0].uid = "b@example.com".into();
        let changes = of_end_user(tenant(), Some(&before), Some(&after), Timestamp::now());
        let kinds: Vec<ChangeKind> = changes.iter().map(|c| c.detail_type).collect();
        use ChangeKind::*;
        assert_eq!(kinds, [EndUserUpdated, UidUnlinked, UidLinked]);
        assert_eq!(changes[0].changed_fields, ["uids"]);
        assert_ne!(changes[1].event_id, changes[2].event_id);
        let again = of_end_user(
            tenant(),
            Some(&before),
            Some(&after),
            changes[0].occurred_at,
        );
        assert_eq!(again, changes, "the same change, the same events and IDs");
    }

    #[test]
    fn a_consent_change_is_announced_once_per_uid_and_only_when_it_changes() {
        use crate::domain::consent::{ConsentChange, ConsentStatus};
        let before = user(serde_json::json!({"uids": [
            {"uidType": "Phone", "uid": "+32470000001"},
            {"uidType": "Email", "uid": "c@example.com", "consent": "optedIn"}
        ]}));
        let created = of_end_user(tenant(), None, Some(&before), Timestamp::now());
        let kinds: Vec<ChangeKind> = created.iter().map(|c| c.detail_type).collect();
        use ChangeKind::*;
        assert_eq!(
            kinds,
            [EndUserCreated, UidLinked, UidLinked, UidConsentChanged]
        );
        assert_eq!(created[3].consent, Some(ConsentStatus::OptedIn));
        assert!(created.iter().all(|c| c.channel_id.is_none()));
        let lead = of_lead(tenant(), &before, 17, created[0].occurred_at);
        assert_eq!(
            lead[0].channel_id,
            Some(17),
            "a lead's creation names its channel"
        );
        assert!(lead[1..].iter().all(|c| c.channel_id.is_none()));
        assert_eq!(lead[1..], created[1..]);
        assert_eq!(created[3].end_user_uid_id, Some(before.uids[1].id));

        let mut after = before.next_version(Timestamp::now());
        let phone = after.uids[0].as_uid();
        let stop = ConsentChange::by_twilio(ConsentStatus::OptedOut, "SM1", Timestamp::now());
        assert!(after.set_consent(&phone, stop.clone()));
        assert!(!after.set_consent(&phone, stop), "the same status again");
        let changes = of_end_user(tenant(), Some(&before), Some(&after), Timestamp::now());
        let kinds: Vec<ChangeKind> = changes.iter().map(|c| c.detail_type).collect();
        assert_eq!(kinds, [EndUserUpdated, UidConsentChanged]);
        assert_eq!(changes[1].consent, Some(ConsentStatus::OptedOut));
        assert_eq!(changes[1].uid_type, Some(UidType::Phone));
        let unchanged = of_end_user(tenant(), Some(&after), Some(&after), Timestamp::now());
        assert!(unchanged.iter().all(|c| c.detail_type != UidConsentChanged));
    }

    #[test]
    fn a_deleted_end_user_announces_the_version_after_its_last() {
        let gone = user(serde_json::json!({"firstname": "X"}));
        let changes = of_end_user(tenant(), Some(&gone), None, Timestamp::now());
        assert_eq!(changes[0].detail_type, ChangeKind::EndUserDeleted);
        assert_eq!(changes[0].version, gone.version + 1);
    }
}
