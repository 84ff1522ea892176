//! Undo of a merge (SPEC 7), within 30 days: the source back as it was, what it brought taken
//! off the target, refused while a moved value changed since; and merge records without the
//! values they held (after an undo, or an erasure).

use super::merge::{clear_field, field_value};
use super::{AttributeValue, EndUser, MergeRecord};
use crate::domain::Timestamp;
use crate::domain::errors::FieldErrors;

/// A merge can be undone for this long after it.
pub const UNDO_WINDOW_SECONDS: i64 = 30 * 24 * 60 * 60;

/// What an erased value reads as.
pub const ERASED: &str = "[erased]";

/// Both end users as an undo leaves them.
#[derive(Debug)]
pub struct Unfolded {
    pub target: EndUser,
    pub source: EndUser,
}

/// Undoes `record` on `target` (as it is now): the source comes back as it was, its UIDs,
/// fields and attributes leave the target. A moved value the target no longer holds as it
/// took it is a conflict naming it (`movedUIDs[i]`, `movedFields.<name>`,
/// `movedAttributes.<key>`). `source_version` is the tombstone's.
pub fn unfold(
    target: &EndUser,
    record: &MergeRecord,
    source_version: u64,
    now: Timestamp,
) -> Result<Unfolded, FieldErrors> {
    let Some(source) = &record.source else {
        let message = "the merge's source was erased; it cannot come back";
        return Err(FieldErrors::single("mergeID", message));
    };
    changed_since(target, record).into_result(())?;
    let mut next = target.next_version(now);
    next.uids
        .retain(|u| !record.moved_uids.iter().any(|m| m.id == u.id));
    for uid in next.uids.iter_mut() {
        if record.marked_primary.contains(&uid.id) {
            uid.marked_primary = false;
        }
    }
    for name in record.moved_fields.keys() {
        clear_field(&mut next, name);
    }
    for key in record.moved_attributes.keys() {
        next.attributes.remove(key);
    }
    next.merged_from
        .retain(|id| *id != record.source_id && !record.repointed.contains(id));
    let mut restored = EndUser {
        version: source_version + 1,
        updated_at: now,
        ..source.clone()
    };
    // Consent travels with its UID: what was said on the target since the merge comes back.
    for uid in restored.uids.iter_mut() {
        if let Some(held) = target.uids.iter().find(|t| t.id == uid.id) {
            uid.consent_history = held.consent_history.clone();
        }
    }
    Ok(Unfolded {
        target: next,
        source: restored,
    })
}

/// Each value `record` moved that `target` no longer holds as the merge left it.
fn changed_since(target: &EndUser, record: &MergeRecord) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for (i, moved) in record.moved_uids.iter().enumerate() {
        let held = target
            .uids
            .iter()
            .any(|u| u.id == moved.id && u.uid_type == moved.uid_type && u.uid == moved.uid);
        if !held {
            errors.add(
                format!("movedUIDs[{i}]"),
                format!(
                    "{} {} was changed or removed on the target since the merge",
                    moved.uid_type.as_str(),
                    moved.uid
                ),
            );
        }
    }
    let changed = "was changed on the target since the merge";
    for (name, value) in &record.moved_fields {
        if field_value(target, name).as_ref() != Some(value) {
            errors.add(format!("movedFields.{name}"), changed);
        }
    }
    for (key, value) in &record.moved_attributes {
        if target.attributes.get(key) != Some(value) {
            errors.add(format!("movedAttributes.{key}"), changed);
        }
    }
    errors
}

impl MergeRecord {
    /// The record without the personal values it held (after an undo, or an erasure of either
    /// end user): which UIDs (by ID and type) and which fields moved stay.
    pub fn erase_values(&mut self) {
        self.source = None;
        for uid in &mut self.moved_uids {
            uid.uid = ERASED.into();
        }
        for value in self.moved_fields.values_mut() {
            *value = ERASED.into();
        }
        for value in self.moved_attributes.values_mut() {
            *value = AttributeValue::Text(ERASED.into());
        }
    }

    /// Whether it can still be undone at `now`.
    pub fn within_undo_window(&self, now: Timestamp) -> bool {
        now.unix_seconds() - self.merged_at.unix_seconds() <= UNDO_WINDOW_SECONDS
    }
}

#[cfg(test)]
mod tests {
    use super::super::fold;
    use super::super::merge::tests::pair;
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn an_undo_restores_both_as_they_were() {
        let (target, source) = pair();
        let folded = fold(&target, &source, 9, None, now()).expect("mergeable");
        let undone = unfold(&folded.target, &folded.record, 7, now()).expect("undoable");
        assert_eq!(undone.target.view().uids, target.view().uids);
        let unversioned = |u: &EndUser| EndUser {
            version: 0,
            ..u.clone()
        };
        assert_eq!(unversioned(&undone.target), unversioned(&target));
        assert_eq!(undone.source.version, 8);
        assert_eq!(unversioned(&undone.source), unversioned(&source));
    }

    #[test]
    fn an_undo_names_each_moved_value_changed_since() {
        let (target, source) = pair();
        let folded = fold(&target, &source, 9, None, now()).expect("mergeable");
        let mut changed = folded.target.clone();
        changed.city = Some("Brugge".into());
        changed.uids.retain(|u| u.uid != "s@example.com");
        changed.attributes.remove("seats");
        let errors = unfold(&changed, &folded.record, 7, now()).expect_err("changed since");
        for path in ["movedFields.city", "movedAttributes.seats"] {
            assert!(errors.contains(path), "{path} missing from {errors:?}");
        }
        let uid_paths = (0..2).filter(|i| errors.contains(&format!("movedUIDs[{i}]")));
        assert_eq!(uid_paths.count(), 1, "{errors:?}");
        assert!(!errors.contains("movedFields.lastname"));
    }

    #[test]
    fn an_erased_record_keeps_no_value() {
        let (target, source) = pair();
        let mut record = fold(&target, &source, 9, None, now())
            .expect("mergeable")
            .record;
        record.erase_values();
        let text = serde_json::to_string(&record).expect("json");
        for value in [
            "s@example.com",
            "+32470000000",
            "Gent",
            "S-1",
            "Doe",
            "silver",
        ] {
            assert!(!text.contains(value), "{value} in {text}");
        }
        assert!(
            unfold(&target, &record, 7, now()).is_err(),
            "nothing to bring back"
        );
    }

    #[test]
    fn a_merge_can_be_undone_for_30_days() {
        let (target, source) = pair();
        let record = fold(&target, &source, 9, None, now())
            .expect("mergeable")
            .record;
        let days = |n: i64| Timestamp::from_unix_seconds(now().unix_seconds() + n * 24 * 3600);
        assert!(record.within_undo_window(days(0)));
        assert!(record.within_undo_window(days(30)));
        assert!(!record.within_undo_window(days(31)));
    }
}
