//! The end user: its stored record, the request bodies that change it and the DTO it is read as.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::fields::{Change, CountryCode, CustomerType, TextRule, parse_lang};
use super::ids::IdBlock;
use super::uid::{Uid, UidType};
use super::{MAX_ID, Timestamp};
use crate::error::FieldErrors;

pub const MAX_UIDS: usize = 50;

const NAME: TextRule = TextRule::trimmed(200);
const GENDER: TextRule = TextRule::trimmed(50);
const OTHER_CONTACT_DETAILS: TextRule = TextRule::verbatim(4000);
const AI_DOCUMENTATION: TextRule = TextRule::verbatim(16000);
const CUSTOMER_REF: TextRule = TextRule::trimmed(128);
const ADDRESS: TextRule = TextRule::trimmed(200);

/// One UID as stored on its end user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUid {
    #[serde(rename = "endUserUIDID")]
    pub id: u64,
    #[serde(rename = "uidType")]
    pub uid_type: UidType,
    pub uid: String,
    /// Marked primary by a caller. The effective primary is derived: see [`EndUser::primary_ids`].
    #[serde(rename = "isPrimary")]
    pub marked_primary: bool,
}

impl StoredUid {
    pub fn as_uid(&self) -> Uid {
        Uid::from_stored(self.uid_type, self.uid.clone())
    }

    fn matches(&self, uid: &Uid) -> bool {
        self.uid_type == uid.uid_type() && self.uid == uid.value()
    }
}

/// The stored end user. UIDs live on the record (at most 50), so one read returns all of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUser {
    #[serde(rename = "endUserID")]
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// The display name as given; `None` derives it from first and last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_contact_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_documentation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    pub customer_type: CustomerType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Ordered by ID.
    #[serde(default)]
    pub uids: Vec<StoredUid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented by every write; writes are conditional on the version they read.
    pub version: u64,
}

/// `firstname lastname`, trimmed, from whichever parts are set.
pub fn display_name(name: Option<&str>, firstname: Option<&str>, lastname: Option<&str>) -> String {
    match name {
        Some(name) => name.to_owned(),
        None => [firstname, lastname]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The IDs of the effective primary UID of each type: the marked one, or else the lowest ID.
pub fn primary_ids(uids: &[StoredUid]) -> HashSet<u64> {
    let mut primary: HashMap<UidType, &StoredUid> = HashMap::new();
    for uid in uids {
        let current = primary.entry(uid.uid_type).or_insert(uid);
        let better = (uid.marked_primary, std::cmp::Reverse(uid.id))
            > (current.marked_primary, std::cmp::Reverse(current.id));
        if better {
            *current = uid;
        }
    }
    primary.values().map(|u| u.id).collect()
}

impl EndUser {
    fn empty(id: u64, now: Timestamp) -> Self {
        EndUser {
            id,
            firstname: None,
            lastname: None,
            name: None,
            gender: None,
            other_contact_details: None,
            ai_documentation: None,
            customer_ref: None,
            customer_type: CustomerType::default(),
            country: None,
            lang: None,
            street: None,
            house_number: None,
            postal_code: None,
            city: None,
            company: None,
            uids: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn find_uid(&self, uid: &Uid) -> Option<&StoredUid> {
        self.uids.iter().find(|u| u.matches(uid))
    }

    pub fn view(&self) -> EndUserView {
        let primary = primary_ids(&self.uids);
        EndUserView {
            end_user_id: self.id,
            firstname: self.firstname.clone(),
            lastname: self.lastname.clone(),
            name: display_name(
                self.name.as_deref(),
                self.firstname.as_deref(),
                self.lastname.as_deref(),
            ),
            gender: self.gender.clone(),
            other_contact_details: self.other_contact_details.clone(),
            ai_documentation: self.ai_documentation.clone(),
            customer_ref: self.customer_ref.clone(),
            customer_type: self.customer_type,
            country: self.country,
            lang: self.lang.clone(),
            street: self.street.clone(),
            house_number: self.house_number.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            company: self.company.clone(),
            uids: self
                .uids
                .iter()
                .map(|u| UidView {
                    end_user_uid_id: u.id,
                    uid_type: u.uid_type,
                    uid: u.uid.clone(),
                    is_primary: primary.contains(&u.id),
                })
                .collect(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Marks `id` primary and unmarks the other UIDs of its type.
    pub fn mark_primary(&mut self, id: u64) {
        let Some(uid_type) = self.uids.iter().find(|u| u.id == id).map(|u| u.uid_type) else {
            return;
        };
        for uid in self.uids.iter_mut().filter(|u| u.uid_type == uid_type) {
            uid.marked_primary = uid.id == id;
        }
    }
}

/// EndUserReadDTO.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUserView {
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub name: String,
    pub gender: Option<String>,
    pub other_contact_details: Option<String>,
    pub ai_documentation: Option<String>,
    pub customer_ref: Option<String>,
    pub customer_type: CustomerType,
    pub country: Option<CountryCode>,
    pub lang: Option<String>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub company: Option<String>,
    pub uids: Vec<UidView>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// EndUserUID as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UidView {
    #[serde(rename = "endUserUIDID")]
    pub end_user_uid_id: u64,
    #[serde(rename = "uidType")]
    pub uid_type: UidType,
    pub uid: String,
    #[serde(rename = "isPrimary")]
    pub is_primary: bool,
}

/// EndUserCreateDTO and EndUserUpdateDTO: one shape, as the update only adds UID fields.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUserBody {
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub other_contact_details: Option<String>,
    pub ai_documentation: Option<String>,
    pub customer_ref: Option<String>,
    pub customer_type: Option<String>,
    pub country: Option<String>,
    pub lang: Option<String>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub company: Option<String>,
    pub uids: Option<Vec<UidEntry>>,
}

/// One entry of `uids` in a create or update body.
#[derive(Debug, Default, Deserialize)]
pub struct UidEntry {
    #[serde(rename = "endUserUIDID")]
    pub id: Option<u64>,
    #[serde(rename = "uidType")]
    pub uid_type: Option<String>,
    pub uid: Option<String>,
    #[serde(rename = "isPrimary")]
    pub is_primary: Option<bool>,
    #[serde(rename = "markAsDeleted")]
    pub mark_as_deleted: Option<bool>,
}

/// Reads a field whose parser checks its whole form (`country`, `lang`): blank clears it.
fn read_coded<T>(
    raw: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Change<T>, String> {
    match raw.as_deref().map(str::trim) {
        None => Ok(Change::Keep),
        Some("") => Ok(Change::Clear),
        Some(value) => parse(value).map(Change::Set),
    }
}

/// The change, or `Keep` with the message recorded under `path`.
fn reported<T>(
    errors: &mut FieldErrors,
    path: &str,
    change: Result<Change<T>, String>,
) -> Change<T> {
    change.unwrap_or_else(|message| {
        errors.add(path, message);
        Change::Keep
    })
}

/// The scalar fields of a body, validated.
struct ScalarChanges {
    firstname: Change<String>,
    lastname: Change<String>,
    name: Change<String>,
    gender: Change<String>,
    other_contact_details: Change<String>,
    ai_documentation: Change<String>,
    customer_ref: Change<String>,
    /// `None`: empty or absent, which keeps the value (the default on create).
    customer_type: Option<CustomerType>,
    country: Change<CountryCode>,
    lang: Change<String>,
    street: Change<String>,
    house_number: Change<String>,
    postal_code: Change<String>,
    city: Change<String>,
    company: Change<String>,
}

impl ScalarChanges {
    fn parse(body: &EndUserBody, errors: &mut FieldErrors) -> Self {
        let mut text = |path: &str, rule: TextRule, raw: &Option<String>| {
            reported(errors, path, rule.read(raw.as_deref()))
        };
        let firstname = text("firstname", NAME, &body.firstname);
        let lastname = text("lastname", NAME, &body.lastname);
        let name = text("name", NAME, &body.name);
        let gender = text("gender", GENDER, &body.gender);
        let other_contact_details = text(
            "otherContactDetails",
            OTHER_CONTACT_DETAILS,
            &body.other_contact_details,
        );
        let ai_documentation = text("aiDocumentation", AI_DOCUMENTATION, &body.ai_documentation);
        let customer_ref = text("customerRef", CUSTOMER_REF, &body.customer_ref);
        let street = text("street", ADDRESS, &body.street);
        let house_number = text("houseNumber", ADDRESS, &body.house_number);
        let postal_code = text("postalCode", ADDRESS, &body.postal_code);
        let city = text("city", ADDRESS, &body.city);
        let company = text("company", ADDRESS, &body.company);
        let country = reported(
            errors,
            "country",
            read_coded(&body.country, CountryCode::parse),
        );
        let lang = reported(errors, "lang", read_coded(&body.lang, parse_lang));
        let customer_type = match body.customer_type.as_deref().map(CustomerType::parse) {
            None => None,
            Some(Ok(parsed)) => parsed,
            Some(Err(message)) => {
                errors.add("customerType", message);
                None
            }
        };
        ScalarChanges {
            firstname,
            lastname,
            name,
            gender,
            other_contact_details,
            ai_documentation,
            customer_ref,
            customer_type,
            country,
            lang,
            street,
            house_number,
            postal_code,
            city,
            company,
        }
    }

    fn apply(self, user: &mut EndUser) {
        self.firstname.apply_to(&mut user.firstname);
        self.lastname.apply_to(&mut user.lastname);
        self.name.apply_to(&mut user.name);
        self.gender.apply_to(&mut user.gender);
        self.other_contact_details
            .apply_to(&mut user.other_contact_details);
        self.ai_documentation.apply_to(&mut user.ai_documentation);
        self.customer_ref.apply_to(&mut user.customer_ref);
        if let Some(customer_type) = self.customer_type {
            user.customer_type = customer_type;
        }
        self.country.apply_to(&mut user.country);
        self.lang.apply_to(&mut user.lang);
        self.street.apply_to(&mut user.street);
        self.house_number.apply_to(&mut user.house_number);
        self.postal_code.apply_to(&mut user.postal_code);
        self.city.apply_to(&mut user.city);
        self.company.apply_to(&mut user.company);
    }
}

/// A validated change of an end user: the record to write and, for each UID value the request
/// brought in, the request field path that carries it (to name it in a 409).
#[derive(Debug)]
pub struct Revision {
    pub user: EndUser,
    pub uid_paths: HashMap<Uid, String>,
}

/// Validates a create body into a new end user with IDs from `block`.
pub fn create(
    body: &EndUserBody,
    block: &mut IdBlock,
    now: Timestamp,
) -> Result<Revision, FieldErrors> {
    let mut errors = FieldErrors::default();
    let scalars = ScalarChanges::parse(body, &mut errors);
    let mut user = EndUser::empty(block.base(), now);
    scalars.apply(&mut user);
    // A create has no existing UIDs to refer to: IDs and deletion marks in entries are ignored.
    let entries: Vec<UidEntry> = body
        .uids
        .iter()
        .flatten()
        .map(|e| UidEntry {
            id: None,
            uid_type: e.uid_type.clone(),
            uid: e.uid.clone(),
            is_primary: e.is_primary,
            mark_as_deleted: None,
        })
        .collect();
    let uid_paths = apply_uid_entries(&mut user, &entries, block, &mut errors);
    if errors.is_empty() {
        Ok(Revision { user, uid_paths })
    } else {
        Err(errors)
    }
}

/// Validates an update body against `current`. The result carries the next version.
pub fn update(
    current: &EndUser,
    body: &EndUserBody,
    block: &mut IdBlock,
    now: Timestamp,
) -> Result<Revision, FieldErrors> {
    let mut errors = FieldErrors::default();
    let scalars = ScalarChanges::parse(body, &mut errors);
    let mut user = current.clone();
    scalars.apply(&mut user);
    let uid_paths = match &body.uids {
        Some(entries) => apply_uid_entries(&mut user, entries, block, &mut errors),
        None => HashMap::new(),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    if user != *current {
        user.version = current.version + 1;
        user.updated_at = now;
    }
    Ok(Revision { user, uid_paths })
}

/// Where a UID of the revised list came from.
#[derive(Clone, Copy, PartialEq)]
enum Origin {
    Untouched,
    Entry(usize),
}

/// Applies `uids` entries: updates and deletions by ID first, then additions, so the outcome does
/// not depend on the order of entries. Returns the path of each UID value an entry brought in.
fn apply_uid_entries(
    user: &mut EndUser,
    entries: &[UidEntry],
    block: &mut IdBlock,
    errors: &mut FieldErrors,
) -> HashMap<Uid, String> {
    let country = user.country;
    let mut list: Vec<(StoredUid, Origin)> = user
        .uids
        .drain(..)
        .map(|u| (u, Origin::Untouched))
        .collect();
    let mut in_request: HashMap<Uid, usize> = HashMap::new();
    let mut primary_by_type: BTreeMap<UidType, usize> = BTreeMap::new();
    let mut seen_ids = HashSet::new();

    // Reads entry `i` as a UID; `kept_type` stands in for an absent `uidType` of an ID entry.
    let mut read_uid =
        |i: usize, kept_type: Option<UidType>, raw: Option<&str>, errors: &mut FieldErrors| {
            let uid_type = match kept_type {
                Some(t) => Some(t),
                None => match entries[i].uid_type.as_deref() {
                    Some(raw_type) => UidType::parse(raw_type)
                        .map_err(|m| errors.add(format!("uids[{i}].uidType"), m))
                        .ok(),
                    None => {
                        errors.add(format!("uids[{i}].uidType"), "is required");
                        None
                    }
                },
            };
            let Some(raw) = raw else {
                errors.add(format!("uids[{i}].uid"), "is required");
                return None;
            };
            let uid = Uid::parse(uid_type?, raw, country)
                .map_err(|m| errors.add(format!("uids[{i}].uid"), m))
                .ok()?;
            if let Some(first) = in_request.insert(uid.clone(), i) {
                errors.add(
                    format!("uids[{i}].uid"),
                    format!("is the same UID as uids[{first}]"),
                );
                return None;
            }
            Some(uid)
        };

    // Entries naming an existing UID.
    for (i, entry) in entries.iter().enumerate() {
        let Some(id) = entry.id else { continue };
        let path = format!("uids[{i}].endUserUIDID");
        if !seen_ids.insert(id) {
            errors.add(path, "names a UID already listed in this request");
            continue;
        }
        let Some(pos) = list.iter().position(|(u, _)| u.id == id) else {
            errors.add(path, "is not a UID of this end user");
            continue;
        };
        if entry.mark_as_deleted == Some(true) {
            list.remove(pos);
            continue;
        }
        // Absent fields keep the UID's current type and value.
        let current = &list[pos].0;
        let kept_type = entry.uid_type.is_none().then_some(current.uid_type);
        let raw = entry.uid.clone().unwrap_or_else(|| current.uid.clone());
        let Some(uid) = read_uid(i, kept_type, Some(&raw), errors) else {
            continue;
        };
        let (stored, origin) = &mut list[pos];
        stored.uid_type = uid.uid_type();
        stored.uid = uid.value().to_owned();
        *origin = Origin::Entry(i);
        if let Some(primary) = entry.is_primary {
            stored.marked_primary = primary;
        }
    }

    // Entries without an ID: a value this end user already holds is that UID; otherwise a new one.
    for (i, entry) in entries.iter().enumerate() {
        if entry.id.is_some() {
            continue;
        }
        let Some(uid) = read_uid(i, None, entry.uid.as_deref(), errors) else {
            continue;
        };
        let existing = list.iter().position(|(u, _)| u.matches(&uid));
        match (existing, entry.mark_as_deleted == Some(true)) {
            (Some(pos), true) => {
                list.remove(pos);
            }
            (None, true) => {}
            (Some(pos), false) => {
                let (stored, origin) = &mut list[pos];
                *origin = Origin::Entry(i);
                if let Some(primary) = entry.is_primary {
                    stored.marked_primary = primary;
                }
            }
            (None, false) => list.push((
                StoredUid {
                    id: 0,
                    uid_type: uid.uid_type(),
                    uid: uid.value().to_owned(),
                    marked_primary: entry.is_primary == Some(true),
                },
                Origin::Entry(i),
            )),
        }
    }

    // One value at most once on the end user.
    let mut holders: HashMap<Uid, (u64, Origin)> = HashMap::new();
    for (stored, origin) in &list {
        if let Some((other_id, other_origin)) =
            holders.insert(stored.as_uid(), (stored.id, *origin))
        {
            // Name the entry that brought the value in; the other holder may be untouched.
            let (i, held_by) = match (origin, other_origin) {
                (Origin::Entry(i), _) => (*i, other_id),
                (_, Origin::Entry(i)) => (i, stored.id),
                _ => continue,
            };
            errors.add(
                format!("uids[{i}].uid"),
                format!("is already UID {held_by} of this end user"),
            );
        }
    }

    // At most one marked primary per type; a new mark clears the others of its type.
    for (stored, origin) in &list {
        if let (Origin::Entry(i), true) = (origin, stored.marked_primary) {
            if entries[*i].is_primary != Some(true) {
                continue;
            }
            if let Some(first) = primary_by_type.insert(stored.uid_type, *i) {
                errors.add(
                    format!("uids[{i}].isPrimary"),
                    format!(
                        "only one {} UID can be primary; uids[{first}] is too",
                        stored.uid_type
                    ),
                );
            }
        }
    }
    for (stored, origin) in list.iter_mut() {
        let marked_here =
            matches!(origin, Origin::Entry(i) if primary_by_type.get(&stored.uid_type) == Some(i));
        if primary_by_type.contains_key(&stored.uid_type) && !marked_here {
            stored.marked_primary = false;
        }
    }

    if list.len() > MAX_UIDS {
        errors.add("uids", format!("an end user holds at most {MAX_UIDS} UIDs"));
    }
    if !errors.is_empty() {
        return HashMap::new();
    }

    let mut paths = HashMap::new();
    for (stored, origin) in &mut list {
        if stored.id == 0 {
            // At most 50 new UIDs, within the block's 63.
            stored.id = block.next_id().unwrap_or(MAX_ID);
        }
        if let Origin::Entry(i) = origin {
            paths.insert(stored.as_uid(), format!("uids[{i}].uid"));
        }
    }
    list.sort_by_key(|(u, _)| u.id);
    user.uids = list.into_iter().map(|(u, _)| u).collect();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> EndUserBody {
        serde_json::from_value(json).expect("body deserializes")
    }

    fn now() -> Timestamp {
        Timestamp::try_from("2026-11-22T10:15:30Z".to_string()).expect("valid")
    }

    fn created(json: serde_json::Value) -> EndUser {
        create(&body(json), &mut IdBlock::reserve(), now())
            .expect("valid create")
            .user
    }

    fn errors_of(result: Result<Revision, FieldErrors>) -> FieldErrors {
        result.expect_err("expected validation errors")
    }

    #[test]
    fn create_defaults_and_derives() {
        let user = created(serde_json::json!({
            "firstname": " Jane ", "lastname": "Doe", "country": "be", "customerType": "",
            "uids": [{"uidType": "email", "uid": "Jane@Example.com"}]
        }));
        let view = user.view();
        assert_eq!(view.name, "Jane Doe");
        assert_eq!(view.firstname.as_deref(), Some("Jane"));
        assert_eq!(view.customer_type, CustomerType::Lead);
        assert_eq!(view.country.map(|c| c.to_string()).as_deref(), Some("BE"));
        assert_eq!(view.uids.len(), 1);
        assert_eq!(view.uids[0].uid, "jane@example.com");
        assert_eq!(view.uids[0].uid_type, UidType::Email);
        assert!(
            view.uids[0].is_primary,
            "the only UID of its type is primary"
        );
        assert!(view.uids[0].end_user_uid_id > view.end_user_id);
    }

    #[test]
    fn create_reports_every_invalid_field_with_its_path() {
        let errors = errors_of(create(
            &body(serde_json::json!({
                "firstname": "x".repeat(201),
                "customerType": "Prospect",
                "country": "Belgium",
                "lang": "fr_BE",
                "uids": [
                    {"uidType": "Email", "uid": "jane@example.com"},
                    {"uidType": "Fax", "uid": "1"},
                    {"uidType": "Email", "uid": "nope"},
                    {"uidType": "email", "uid": "JANE@example.com"},
                    {"uidType": "Phone", "uid": "0470 00 00 00"},
                    {"uid": "x"},
                    {"uidType": "Webchat"}
                ]
            })),
            &mut IdBlock::reserve(),
            now(),
        ));
        for path in [
            "firstname",
            "customerType",
            "country",
            "lang",
            "uids[1].uidType",
            "uids[2].uid",
            "uids[3].uid",
            "uids[4].uid",
            "uids[5].uidType",
            "uids[6].uid",
        ] {
            assert!(errors.contains(path), "{path} missing from {errors:?}");
        }
        assert!(!errors.contains("uids[0].uid"));
    }

    #[test]
    fn national_phones_are_read_in_the_country_of_the_request() {
        let user = created(serde_json::json!({
            "country": "BE", "uids": [{"uidType": "Phone", "uid": "0470 00 00 00"}]
        }));
        assert_eq!(user.uids[0].uid, "+32470000000");
    }

    #[test]
    fn more_than_fifty_uids_is_refused() {
        let uids: Vec<_> = (0..51)
            .map(|i| serde_json::json!({"uidType": "External", "uid": format!("ext-{i}")}))
            .collect();
        let errors = errors_of(create(
            &body(serde_json::json!({ "uids": uids })),
            &mut IdBlock::reserve(),
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
            &mut IdBlock::reserve(),
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
    fn update_keeps_absent_clears_empty_and_keeps_empty_customer_type() {
        let user = created(serde_json::json!({
            "firstname": "Jane", "lastname": "Doe", "company": "Acme", "customerType": "Partner"
        }));
        let next = update(
            &user,
            &body(serde_json::json!({"firstname": "Janet", "company": "", "lastname": null, "customerType": ""})),
            &mut IdBlock::reserve(),
            now(),
        )
        .expect("valid update")
        .user;
        assert_eq!(next.firstname.as_deref(), Some("Janet"));
        assert_eq!(next.lastname.as_deref(), Some("Doe"));
        assert_eq!(next.company, None);
        assert_eq!(next.customer_type, CustomerType::Partner);
        assert_eq!(next.view().name, "Janet Doe");
        assert_eq!(next.version, user.version + 1);
    }

    #[test]
    fn an_update_that_changes_nothing_keeps_the_version() {
        let user = created(serde_json::json!({"firstname": "Jane"}));
        let next = update(
            &user,
            &body(serde_json::json!({"firstname": "Jane"})),
            &mut IdBlock::reserve(),
            now(),
        )
        .expect("valid");
        assert_eq!(next.user, user);
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
            &mut IdBlock::reserve(),
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
            &mut IdBlock::reserve(),
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
            &mut IdBlock::reserve(),
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
            &mut IdBlock::reserve(),
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
            &mut IdBlock::reserve(),
            now(),
        )
        .expect("valid");
        assert_eq!(revision.user.uids.len(), 2);
        assert!(revision.user.uids[1].marked_primary);
        assert!(!revision.user.uids[0].marked_primary);
    }
}
