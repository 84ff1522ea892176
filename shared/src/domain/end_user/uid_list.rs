//! The `uids` entries of a create or update body, applied to the end user's UID list in named
//! steps: entries by ID (change or delete), then entries without ID (add, or re-state a value
//! already held), then the checks on the result (one value once, one primary per type, at most 50).
//! Entries by ID go first, so the outcome does not depend on the order of entries.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{EndUser, MAX_UIDS, StoredUid, UidEntry};
use crate::domain::consent::{ConsentChange, ConsentStatus};
use crate::domain::errors::FieldErrors;
use crate::domain::fields::CountryCode;
use crate::domain::ids::IdBlock;
use crate::domain::uid::{Uid, UidType};
use crate::domain::{MAX_ID, Timestamp};

/// Applies `entries` to `user`'s UIDs at `now`, giving new ones IDs from `block`. Returns the
/// request path of each UID value an entry brought in; on any error `user` keeps its UIDs.
pub(super) fn apply_uid_entries(
    user: &mut EndUser,
    entries: &[UidEntry],
    block: &mut IdBlock,
    now: Timestamp,
    errors: &mut FieldErrors,
) -> HashMap<Uid, String> {
    let mut list = UidList::new(user, entries, now, errors);
    list.apply_entries_by_id();
    list.apply_entries_without_id();
    list.check_each_value_held_once();
    list.apply_primary_marks();
    list.check_size();
    if !list.errors.is_empty() {
        return HashMap::new();
    }
    let (uids, paths) = list.finish(block);
    user.uids = uids;
    paths
}

/// Where a UID of the revised list came from.
#[derive(Clone, Copy, PartialEq)]
enum Origin {
    Untouched,
    Entry(usize),
}

/// An end user's UIDs while a request's entries are applied.
struct UidList<'a> {
    entries: &'a [UidEntry],
    /// The end user's country, which reads national phone numbers.
    country: Option<CountryCode>,
    uids: Vec<(StoredUid, Origin)>,
    /// Each value named by an entry, with the first entry naming it.
    named: HashMap<Uid, usize>,
    /// When the consent an entry sets was given.
    now: Timestamp,
    errors: &'a mut FieldErrors,
}

impl<'a> UidList<'a> {
    fn new(
        user: &EndUser,
        entries: &'a [UidEntry],
        now: Timestamp,
        errors: &'a mut FieldErrors,
    ) -> Self {
        UidList {
            entries,
            country: user.country,
            now,
            uids: user
                .uids
                .iter()
                .map(|u| (u.clone(), Origin::Untouched))
                .collect(),
            named: HashMap::new(),
            errors,
        }
    }

    /// The type of entry `i`: `kept` when the entry leaves it out of a change by ID.
    fn entry_type(&mut self, i: usize, kept: Option<UidType>) -> Option<UidType> {
        let path = format!("uids[{i}].uidType");
        match (self.entries[i].uid_type.as_deref(), kept) {
            (Some(raw), _) => UidType::parse(raw)
                .map_err(|message| self.errors.add(path, message))
                .ok(),
            (None, Some(kept)) => Some(kept),
            (None, None) => {
                self.errors.add(path, "is required");
                None
            }
        }
    }

    /// Entry `i` read as a normalized UID, at most once per request.
    fn entry_uid(&mut self, i: usize, uid_type: Option<UidType>, raw: Option<&str>) -> Option<Uid> {
        let path = format!("uids[{i}].uid");
        let Some(raw) = raw else {
            self.errors.add(path, "is required");
            return None;
        };
        let uid = Uid::parse(uid_type?, raw, self.country)
            .map_err(|message| self.errors.add(path.clone(), message))
            .ok()?;
        if let Some(first) = self.named.insert(uid.clone(), i) {
            self.errors
                .add(path, format!("is the same UID as uids[{first}]"));
            return None;
        }
        Some(uid)
    }

    /// The consent entry `i` sets, if any (the desk's: `optedIn` or `optedOut`).
    fn entry_consent(&mut self, i: usize) -> Option<ConsentChange> {
        let raw = self.entries[i].consent.as_deref()?;
        match ConsentStatus::parse_desk(raw) {
            Ok(status) => Some(ConsentChange::by_desk(status, self.now)),
            Err(message) => {
                self.errors.add(format!("uids[{i}].consent"), message);
                None
            }
        }
    }

    /// Entries naming an existing UID change it (absent fields keep their value) or delete it.
    fn apply_entries_by_id(&mut self) {
        let entries = self.entries;
        let mut seen = HashSet::new();
        for (i, entry) in entries.iter().enumerate() {
            let Some(id) = entry.id else { continue };
            let path = format!("uids[{i}].endUserUIDID");
            if !seen.insert(id) {
                self.errors
                    .add(path, "names a UID already listed in this request");
                continue;
            }
            let Some(pos) = self.uids.iter().position(|(u, _)| u.id == id) else {
                self.errors.add(path, "is not a UID of this end user");
                continue;
            };
            if entry.deletes() {
                self.uids.remove(pos);
                continue;
            }
            let current = &self.uids[pos].0;
            let (kept_type, raw) = (
                current.uid_type,
                entry.uid.clone().unwrap_or_else(|| current.uid.clone()),
            );
            let uid_type = self.entry_type(i, Some(kept_type));
            let Some(uid) = self.entry_uid(i, uid_type, Some(&raw)) else {
                continue;
            };
            let consent = self.entry_consent(i);
            let (stored, origin) = &mut self.uids[pos];
            if stored.as_uid() != uid {
                // Another address: what was said of the old one does not hold for it.
                stored.consent_history.clear();
            }
            stored.uid_type = uid.uid_type();
            stored.uid = uid.value().to_owned();
            *origin = Origin::Entry(i);
            if let Some(primary) = entry.is_primary {
                stored.marked_primary = primary;
            }
            if let Some(consent) = consent {
                stored.set_consent(consent);
            }
        }
    }

    /// Entries without an ID: a value the end user already holds is that UID (deleted when the
    /// entry says so); any other value is a new UID.
    fn apply_entries_without_id(&mut self) {
        let entries = self.entries;
        for (i, entry) in entries.iter().enumerate() {
            if entry.id.is_some() {
                continue;
            }
            let uid_type = self.entry_type(i, None);
            let Some(uid) = self.entry_uid(i, uid_type, entry.uid.as_deref()) else {
                continue;
            };
            let consent = self.entry_consent(i);
            let held = self.uids.iter().position(|(u, _)| u.matches(&uid));
            match (held, entry.deletes()) {
                (Some(pos), true) => {
                    self.uids.remove(pos);
                }
                (None, true) => {}
                (Some(pos), false) => {
                    let (stored, origin) = &mut self.uids[pos];
                    *origin = Origin::Entry(i);
                    if let Some(primary) = entry.is_primary {
                        stored.marked_primary = primary;
                    }
                    if let Some(consent) = consent {
                        stored.set_consent(consent);
                    }
                }
                (None, false) => {
                    let mut new = StoredUid::new(0, &uid, entry.marks_primary());
                    if let Some(consent) = consent {
                        new.set_consent(consent);
                    }
                    self.uids.push((new, Origin::Entry(i)));
                }
            }
        }
    }

    /// One value at most once on the end user; the entry that brought a value in is named.
    fn check_each_value_held_once(&mut self) {
        let mut holders: HashMap<Uid, (u64, Origin)> = HashMap::new();
        for (stored, origin) in &self.uids {
            let Some((other_id, other_origin)) =
                holders.insert(stored.as_uid(), (stored.id, *origin))
            else {
                continue;
            };
            let (i, held_by) = match (origin, other_origin) {
                (Origin::Entry(i), _) => (*i, other_id),
                (_, Origin::Entry(i)) => (i, stored.id),
                _ => continue,
            };
            self.errors.add(
                format!("uids[{i}].uid"),
                format!("is already UID {held_by} of this end user"),
            );
        }
    }

    /// At most one entry per type marks a UID primary; that mark clears the others of its type.
    fn apply_primary_marks(&mut self) {
        let mut marked_by: BTreeMap<UidType, usize> = BTreeMap::new();
        for (stored, origin) in &self.uids {
            let Origin::Entry(i) = *origin else { continue };
            if !self.entries[i].marks_primary() {
                continue;
            }
            if let Some(first) = marked_by.insert(stored.uid_type, i) {
                self.errors.add(
                    format!("uids[{i}].isPrimary"),
                    format!(
                        "only one {} UID can be primary; uids[{first}] is too",
                        stored.uid_type
                    ),
                );
            }
        }
        for (stored, origin) in &mut self.uids {
            if let Some(marking) = marked_by.get(&stored.uid_type) {
                stored.marked_primary = *origin == Origin::Entry(*marking);
            }
        }
    }

    fn check_size(&mut self) {
        if self.uids.len() > MAX_UIDS {
            self.errors
                .add("uids", format!("an end user holds at most {MAX_UIDS} UIDs"));
        }
    }

    /// The revised UIDs, new ones with IDs from `block`, ordered by ID; and each entry's path.
    fn finish(self, block: &mut IdBlock) -> (Vec<StoredUid>, HashMap<Uid, String>) {
        let mut paths = HashMap::new();
        let mut uids: Vec<StoredUid> = self
            .uids
            .into_iter()
            .map(|(mut stored, origin)| {
                if stored.id == 0 {
                    // At most 50 new UIDs, within the block's 63.
                    stored.id = block.next_id().unwrap_or(MAX_ID);
                }
                if let Origin::Entry(i) = origin {
                    paths.insert(stored.as_uid(), format!("uids[{i}].uid"));
                }
                stored
            })
            .collect();
        uids.sort_by_key(|u| u.id);
        (uids, paths)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{create, update};
    use crate::domain::ids::IdBlock;
    use crate::domain::uid::{Uid, UidType};

    #[test]
    fn more_than_fifty_uids_is_refused() {
        let uids: Vec<_> = (0..51)
            .map(|i| serde_json::json!({"uidType": "External", "uid": format!("ext-{i}")}))
            .collect();
        let errors = errors_of(create(
            &body(serde_json::json!({ "uids": uids })),
            &mut IdBlock::for_existing_end_user(),
            now(),
        ));
        assert!(errors.contains("uids"));
    }

    #[test]
    fn two_primaries_of_one_type_in_a_body_are_refused() {
        let errors = errors_of(create(
            &body(serde_json::json!({"uids": [
                {"uidType": "Email", "uid": "a@example.com", "isPrimary": true},
                {"uidType": "Email", "uid": "b@example.com", "isPrimary": true}
            ]})),
            &mut IdBlock::for_existing_end_user(),
            now(),
        ));
        assert!(errors.contains("uids[1].isPrimary"));
    }

    #[test]
    fn primary_is_the_marked_one_or_else_the_lowest_id() {
        let user = created(serde_json::json!({"uids": [
            {"uidType": "Email", "uid": "a@example.com"},
            {"uidType": "Email", "uid": "b@example.com", "isPrimary": true},
            {"uidType": "Phone", "uid": "+32470000001"},
            {"uidType": "Phone", "uid": "+32470000002"}
        ]}));
        let view = user.view();
        let primary: Vec<&str> = view
            .uids
            .iter()
            .filter(|u| u.is_primary)
            .map(|u| u.uid.as_str())
            .collect();
        assert_eq!(primary, ["b@example.com", "+32470000001"]);
    }

    #[test]
    fn update_changes_deletes_and_adds_uids() {
        let user = created(serde_json::json!({"uids": [
            {"uidType": "Email", "uid": "old@example.com", "isPrimary": true},
            {"uidType": "Phone", "uid": "+32470000000"}
        ]}));
        let email_id = user.uids[0].id;
        let phone_id = user.uids[1].id;
        let revision = update(
            &user,
            &body(serde_json::json!({"uids": [
                {"endUserUIDID": email_id, "uidType": "Email", "uid": "NEW@example.com", "isPrimary": true},
                {"endUserUIDID": phone_id, "markAsDeleted": true},
                {"uidType": "Email", "uid": "second@example.com", "isPrimary": true}
            ]})),
            &mut IdBlock::for_existing_end_user(),
            now(),
        );
        let errors = errors_of(revision);
        assert!(errors.contains("uids[2].isPrimary"), "{errors:?}");

        let revision = update(
            &user,
            &body(serde_json::json!({"uids": [
                {"endUserUIDID": email_id, "uidType": "Email", "uid": "NEW@example.com"},
                {"endUserUIDID": phone_id, "markAsDeleted": true},
                {"uidType": "Email", "uid": "second@example.com", "isPrimary": true}
            ]})),
            &mut IdBlock::for_existing_end_user(),
            now(),
        )
        .expect("valid update");
        let view = revision.user.view();
        let values: Vec<(&str, bool)> = view
            .uids
            .iter()
            .map(|u| (u.uid.as_str(), u.is_primary))
            .collect();
        assert_eq!(
            values,
            [("new@example.com", false), ("second@example.com", true)]
        );
        assert_eq!(revision.uid_paths.len(), 2);
        let new_email = Uid::parse(UidType::Email, "new@example.com", None).expect("valid");
        assert_eq!(
            revision.uid_paths.get(&new_email).map(String::as_str),
            Some("uids[0].uid")
        );
    }

    #[test]
    fn update_refuses_foreign_ids_and_values_held_twice() {
        let user = created(serde_json::json!({"uids": [
            {"uidType": "Email", "uid": "a@example.com"},
            {"uidType": "Email", "uid": "b@example.com"}
        ]}));
        let a = user.uids[0].id;
        let errors = errors_of(update(
            &user,
            &body(serde_json::json!({"uids": [
                {"endUserUIDID": 12345, "uidType": "Email", "uid": "c@example.com"},
                {"endUserUIDID": a, "uidType": "Email", "uid": "b@example.com"}
            ]})),
            &mut IdBlock::for_existing_end_user(),
            now(),
        ));
        assert!(errors.contains("uids[0].endUserUIDID"));
        assert!(errors.contains("uids[1].uid"));
    }

    #[test]
    fn an_id_entry_keeps_what_it_leaves_out() {
        let user = created(serde_json::json!({"uids": [
            {"uidType": "Phone", "uid": "+32470000001"},
            {"uidType": "Phone", "uid": "+32470000002"}
        ]}));
        let second = user.uids[1].id;
        let revision = update(
            &user,
            &body(serde_json::json!({"uids": [{"endUserUIDID": second, "isPrimary": true}]})),
            &mut IdBlock::for_existing_end_user(),
            now(),
        )
        .expect("valid");
        let view = revision.user.view();
        assert_eq!(view.uids[1].uid_type, UidType::Phone);
        assert_eq!(view.uids[1].uid, "+32470000002");
        assert!(view.uids[1].is_primary && !view.uids[0].is_primary);
        let paths: Vec<&String> = revision.uid_paths.values().collect();
        assert_eq!(paths, ["uids[0].uid"]);
    }

    #[test]
    fn an_entry_without_id_for_a_held_value_is_that_uid() {
        let user = created(serde_json::json!({"uids": [
            {"uidType": "Email", "uid": "a@example.com"},
            {"uidType": "Email", "uid": "b@example.com"}
        ]}));
        let revision = update(
            &user,
            &body(serde_json::json!({"uids": [{"uidType": "Email", "uid": "B@example.com", "isPrimary": true}]})),
            &mut IdBlock::for_existing_end_user(),
            now(),
        )
        .expect("valid");
        assert_eq!(revision.user.uids.len(), 2);
        assert!(revision.user.uids[1].marked_primary);
        assert!(!revision.user.uids[0].marked_primary);
    }
}
