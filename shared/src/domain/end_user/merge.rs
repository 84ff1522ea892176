//! Merge (SPEC 7): the source folds into the target, which keeps its own values and primaries
//! and takes every UID of the source and each field it lacks; the source becomes a tombstone
//! pointing at the target. A merge record keeps what moved and the source as it was, so the
//! merge can be undone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::primary_ids;
use super::view::uid_view;
use super::{Attributes, EndUser, EndUserView, MAX_ATTRIBUTES, MAX_UIDS, StoredUid, UidView};
use crate::domain::Timestamp;
use crate::domain::errors::FieldErrors;
use crate::domain::fields::CountryCode;

/// At most this many end users list their tickets under one (its merged sources, directly or
/// through merges of merged end users): each is one more query of its tickets list.
pub const MAX_MERGED: usize = 20;

/// What is left of a merged end user: where it went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    #[serde(rename = "endUserID")]
    pub id: u64,
    pub merged_into: u64,
    #[serde(rename = "mergeID")]
    pub merge_id: u64,
    pub merged_at: Timestamp,
    pub version: u64,
}

/// One merge into `target_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeRecord {
    #[serde(rename = "mergeID")]
    pub merge_id: u64,
    #[serde(rename = "targetEndUserID")]
    pub target_id: u64,
    #[serde(rename = "sourceEndUserID")]
    pub source_id: u64,
    /// The token's `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_by: Option<String>,
    pub merged_at: Timestamp,
    /// The source's UIDs as the target holds them since.
    #[serde(rename = "movedUIDs")]
    pub moved_uids: Vec<StoredUid>,
    /// Each scalar field the target took (and `customerRef`), with the value it took.
    pub moved_fields: BTreeMap<String, String>,
    pub moved_attributes: Attributes,
    /// The target's UIDs the merge marked primary so that they stay primary.
    pub marked_primary: Vec<u64>,
    /// The end users merged into the source before, whose tombstones now point at the target.
    pub repointed: Vec<u64>,
    /// The source as it was; `None` once undone or erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<EndUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<String>,
}

/// A merge record as `GET /api/EndUsers/{id}/merges` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeView {
    #[serde(rename = "mergeID")]
    pub merge_id: u64,
    #[serde(rename = "targetEndUserID")]
    pub target_id: u64,
    #[serde(rename = "sourceEndUserID")]
    pub source_id: u64,
    pub merged_by: Option<String>,
    pub merged_at: Timestamp,
    #[serde(rename = "movedUIDs")]
    pub moved_uids: Vec<UidView>,
    pub moved_fields: BTreeMap<String, String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = super::attributes::stored_schema))]
    pub moved_attributes: Attributes,
    /// The source as it was before the merge (`null` once undone or erased).
    pub source: Option<EndUserView>,
    pub undone_at: Option<Timestamp>,
    pub undone_by: Option<String>,
}

impl MergeRecord {
    pub fn view(&self) -> MergeView {
        let primary = self
            .source
            .as_ref()
            .map(|s| primary_ids(&s.uids))
            .unwrap_or_default();
        MergeView {
            merge_id: self.merge_id,
            target_id: self.target_id,
            source_id: self.source_id,
            merged_by: self.merged_by.clone(),
            merged_at: self.merged_at,
            moved_uids: self
                .moved_uids
                .iter()
                .map(|u| uid_view(u, primary.contains(&u.id)))
                .collect(),
            moved_fields: self.moved_fields.clone(),
            moved_attributes: self.moved_attributes.clone(),
            source: self.source.as_ref().map(EndUser::view),
            undone_at: self.undone_at,
            undone_by: self.undone_by.clone(),
        }
    }
}

/// A scalar text field of an end user, by its DTO name.
type TextField = (&'static str, fn(&mut EndUser) -> &mut Option<String>);

/// The scalar fields a merge fills, `country` and `customerRef` aside.
const TEXT_FIELDS: &[TextField] = &[
    ("firstname", |u| &mut u.firstname),
    ("lastname", |u| &mut u.lastname),
    ("name", |u| &mut u.name),
    ("gender", |u| &mut u.gender),
    ("otherContactDetails", |u| &mut u.other_contact_details),
    ("aiDocumentation", |u| &mut u.ai_documentation),
    ("lang", |u| &mut u.lang),
    ("street", |u| &mut u.street),
    ("houseNumber", |u| &mut u.house_number),
    ("postalCode", |u| &mut u.postal_code),
    ("city", |u| &mut u.city),
    ("company", |u| &mut u.company),
];

/// The target after the merge and the record of it.
#[derive(Debug)]
pub struct Folded {
    pub target: EndUser,
    pub record: MergeRecord,
}

/// Folds `source` into `target`. What cannot be merged (both hold a customerRef, too many UIDs,
/// attributes or merged end users together) is a conflict naming each field.
pub fn fold(
    target: &EndUser,
    source: &EndUser,
    merge_id: u64,
    merged_by: Option<String>,
    now: Timestamp,
) -> Result<Folded, FieldErrors> {
    let merged: Vec<u64> = target
        .merged_from
        .iter()
        .chain([&source.id])
        .chain(&source.merged_from)
        .copied()
        .collect();
    let mut next = target.next_version(now);
    next.merged_from = merged;
    let moved_fields = fill_fields(&mut next, source);
    let moved_attributes: Attributes = source
        .attributes
        .iter()
        .filter(|(key, _)| !target.attributes.contains_key(*key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    next.attributes.extend(moved_attributes.clone());
    let errors = beyond_limits(target, source, &next);
    let (moved_uids, marked_primary) = move_uids(&mut next, source);
    errors.into_result(Folded {
        target: next,
        record: MergeRecord {
            merge_id,
            target_id: target.id,
            source_id: source.id,
            merged_by,
            merged_at: now,
            moved_uids,
            moved_fields,
            moved_attributes,
            marked_primary,
            repointed: source.merged_from.clone(),
            source: Some(source.clone()),
            undone_at: None,
            undone_by: None,
        },
    })
}

/// What keeps `source` from merging into `target` (`next` being the merge's target): two
/// customerRefs, or more UIDs, attributes or merged end users together than one may hold.
fn beyond_limits(target: &EndUser, source: &EndUser, next: &EndUser) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if target.customer_ref.is_some() && source.customer_ref.is_some() {
        errors.add("customerRef", "both end users hold a customerRef");
    }
    if target.uids.len() + source.uids.len() > MAX_UIDS {
        errors.add(
            "uids",
            format!("together they hold more than {MAX_UIDS} UIDs"),
        );
    }
    if next.attributes.len() > MAX_ATTRIBUTES {
        errors.add(
            "attributes",
            format!("together they hold more than {MAX_ATTRIBUTES} attributes"),
        );
    }
    if next.merged_from.len() > MAX_MERGED {
        errors.add(
            "sourceEndUserID",
            format!("at most {MAX_MERGED} end users may be merged into one"),
        );
    }
    errors
}

/// Fills each scalar field `next` lacks from `source`: the names and values taken.
fn fill_fields(next: &mut EndUser, source: &EndUser) -> BTreeMap<String, String> {
    let mut moved = BTreeMap::new();
    let mut source = source.clone();
    for (name, field) in TEXT_FIELDS {
        let slot = field(next);
        if slot.is_none()
            && let Some(value) = field(&mut source).take()
        {
            moved.insert((*name).to_owned(), value.clone());
            *slot = Some(value);
        }
    }
    if next.country.is_none()
        && let Some(country) = source.country
    {
        moved.insert("country".into(), country.to_string());
        next.country = Some(country);
    }
    if next.customer_ref.is_none()
        && let Some(reference) = source.customer_ref.take()
    {
        moved.insert("customerRef".into(), reference.clone());
        next.customer_ref = Some(reference);
    }
    moved
}

/// Moves every UID of `source` onto `next`, which keeps its own primaries: where it has UIDs of
/// a type, its effective primary of that type is marked and the moved ones are not. Answers the
/// moved UIDs and the IDs the merge marked.
fn move_uids(next: &mut EndUser, source: &EndUser) -> (Vec<StoredUid>, Vec<u64>) {
    let primary = primary_ids(&next.uids);
    let mut marked = Vec::new();
    for uid in next.uids.iter_mut() {
        let shares_type = source.uids.iter().any(|s| s.uid_type == uid.uid_type);
        if shares_type && primary.contains(&uid.id) && !uid.marked_primary {
            uid.marked_primary = true;
            marked.push(uid.id);
        }
    }
    let moved: Vec<StoredUid> = source
        .uids
        .iter()
        .map(|uid| {
            let target_has_type = next.uids.iter().any(|t| t.uid_type == uid.uid_type);
            StoredUid {
                marked_primary: uid.marked_primary && !target_has_type,
                ..uid.clone()
            }
        })
        .collect();
    next.uids.extend(moved.iter().cloned());
    next.uids.sort_by_key(|u| u.id);
    (moved, marked)
}

/// The value of field `name` on `user`, as a merge record writes it.
pub(super) fn field_value(user: &EndUser, name: &str) -> Option<String> {
    let mut user = user.clone();
    match name {
        "country" => user.country.map(|c: CountryCode| c.to_string()),
        "customerRef" => user.customer_ref,
        _ => TEXT_FIELDS
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, field)| field(&mut user).clone()),
    }
}

/// Clears field `name` on `user` (the undo of a fill).
pub(super) fn clear_field(user: &mut EndUser, name: &str) {
    match name {
        "country" => user.country = None,
        "customerRef" => user.customer_ref = None,
        _ => {
            if let Some((_, field)) = TEXT_FIELDS.iter().find(|(n, _)| *n == name) {
                *field(user) = None;
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::test_support::*;
    use super::*;

    pub(in crate::domain::end_user) fn pair() -> (EndUser, EndUser) {
        let target = created(serde_json::json!({
            "firstname": "Jane", "attributes": {"plan": "gold"},
            "uids": [{"uidType": "Email", "uid": "t2@example.com"}, {"uidType": "Email", "uid": "t1@example.com"}]
        }));
        let source = created(serde_json::json!({
            "firstname": "Janet", "lastname": "Doe", "city": "Gent", "country": "BE", "customerRef": "S-1",
            "attributes": {"plan": "silver", "seats": 3},
            "uids": [{"uidType": "Email", "uid": "s@example.com", "isPrimary": true},
                     {"uidType": "Phone", "uid": "+32470000000", "isPrimary": true}]
        }));
        (target, source)
    }

    #[test]
    fn the_target_keeps_its_values_and_primaries_and_takes_the_rest() {
        let (target, source) = pair();
        let folded = fold(&target, &source, 9, Some("agent".into()), now()).expect("mergeable");
        let merged = folded.target.view();
        assert_eq!(merged.firstname.as_deref(), Some("Jane"));
        assert_eq!(merged.lastname.as_deref(), Some("Doe"));
        assert_eq!(merged.city.as_deref(), Some("Gent"));
        assert_eq!(merged.customer_ref.as_deref(), Some("S-1"));
        assert_eq!(merged.uids.len(), 4);
        let primary: Vec<&str> = merged
            .uids
            .iter()
            .filter(|u| u.is_primary)
            .map(|u| u.uid.as_str())
            .collect();
        let before: Vec<String> = target
            .view()
            .uids
            .iter()
            .filter(|u| u.is_primary)
            .map(|u| u.uid.clone())
            .collect();
        assert!(primary.contains(&before[0].as_str()), "{primary:?}");
        assert!(
            primary.contains(&"+32470000000"),
            "a new type keeps its primary"
        );
        assert!(!primary.contains(&"s@example.com"));
        assert_eq!(merged.attributes.len(), 2);
        assert_eq!(
            merged.attributes["plan"].to_string(),
            "gold",
            "the target's values win"
        );
        assert_eq!(folded.target.merged_from, vec![source.id]);
        assert_eq!(folded.target.version, target.version + 1);
        let record = folded.record;
        assert_eq!(record.moved_uids.len(), 2);
        let fields: Vec<&str> = record.moved_fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["city", "country", "customerRef", "lastname"]);
        assert_eq!(record.source.as_ref(), Some(&source));
    }

    #[test]
    fn two_customer_refs_and_too_many_uids_do_not_merge() {
        let (mut target, source) = pair();
        target.customer_ref = Some("T-1".into());
        let errors = fold(&target, &source, 9, None, now()).expect_err("two references");
        assert!(errors.contains("customerRef"));
        let (mut target, source) = pair();
        for n in 0..49 {
            let uid = crate::domain::uid::Uid::parse(
                crate::domain::uid::UidType::External,
                &format!("x{n}"),
                None,
            )
            .expect("a UID");
            target.uids.push(StoredUid::new(10_000 + n, &uid, false));
        }
        let errors = fold(&target, &source, 9, None, now()).expect_err("too many UIDs");
        assert!(errors.contains("uids"));
    }

    #[test]
    fn fields_are_read_and_cleared_by_name() {
        let (_, mut source) = pair();
        assert_eq!(field_value(&source, "city").as_deref(), Some("Gent"));
        assert_eq!(field_value(&source, "country").as_deref(), Some("BE"));
        clear_field(&mut source, "city");
        clear_field(&mut source, "country");
        assert_eq!(source.city, None);
        assert_eq!(source.country, None);
    }
}
