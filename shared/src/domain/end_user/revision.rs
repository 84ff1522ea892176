//! The rules of a change: a create or update body, validated and applied to the record.

use std::collections::HashMap;

use super::attributes;
use super::uid_list::apply_uid_entries;
use super::{EndUser, EndUserBody, UidEntry};
use crate::domain::Timestamp;
use crate::domain::errors::FieldErrors;
use crate::domain::fields::{Change, CountryCode, CustomerType, TextRule, parse_lang};
use crate::domain::ids::IdBlock;
use crate::domain::uid::Uid;

const NAME: TextRule = TextRule::trimmed(200);
const GENDER: TextRule = TextRule::trimmed(50);
const OTHER_CONTACT_DETAILS: TextRule = TextRule::verbatim(4000);
const AI_DOCUMENTATION: TextRule = TextRule::verbatim(16000);
const CUSTOMER_REF: TextRule = TextRule::trimmed(128);
const ADDRESS: TextRule = TextRule::trimmed(200);

/// A validated change of an end user: the record to write and, for each UID value the request
/// brought in, the request field path that carries it (to name it in a 409).
#[derive(Debug)]
pub struct Revision {
    pub user: EndUser,
    pub uid_paths: HashMap<Uid, String>,
}

impl Revision {
    /// The revision of `current` without the UIDs of `left_out` it would add (values another
    /// end user holds); `current` itself when it then changes nothing else.
    pub fn leaving_out(mut self, current: &EndUser, left_out: &[Uid]) -> Revision {
        let added = |uid: &Uid| current.find_uid(uid).is_none() && left_out.contains(uid);
        self.user.uids.retain(|held| !added(&held.as_uid()));
        self.uid_paths.retain(|uid, _| !left_out.contains(uid));
        let unchanged = EndUser {
            version: current.version,
            updated_at: current.updated_at,
            ..self.user.clone()
        } == *current;
        if unchanged {
            self.user = current.clone();
        }
        self
    }
}

/// A customerRef as a path names it (`PUT /api/EndUsers/byRef/{customerRef}`): trimmed, not
/// empty, at most 128 characters.
pub fn parse_reference(raw: &str) -> Result<String, String> {
    match CUSTOMER_REF.read(Some(raw))? {
        Change::Set(reference) => Ok(reference),
        Change::Keep | Change::Clear => Err("must not be empty".into()),
    }
}

/// Validates a create body into a new end user with IDs from `block`.
pub fn create(
    body: &EndUserBody,
    block: &mut IdBlock,
    now: Timestamp,
) -> Result<Revision, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut user = EndUser::empty(block.base(), now);
    ScalarChanges::parse(body, &mut errors).apply(&mut user);
    if let Some(given) = &body.attributes {
        attributes::merge(&mut user.attributes, given, &mut errors);
    }
    // A create has no existing UIDs to refer to: IDs and deletion marks in entries are ignored.
    let entries: Vec<UidEntry> = body
        .uids
        .iter()
        .flatten()
        .map(|e| UidEntry {
            id: None,
            mark_as_deleted: None,
            ..e.clone()
        })
        .collect();
    let uid_paths = apply_uid_entries(&mut user, &entries, block, now, &mut errors);
    errors.into_result(Revision { user, uid_paths })
}

/// Validates an update body against `current`. The result carries the next version.
pub fn update(
    current: &EndUser,
    body: &EndUserBody,
    block: &mut IdBlock,
    now: Timestamp,
) -> Result<Revision, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut user = current.clone();
    ScalarChanges::parse(body, &mut errors).apply(&mut user);
    if let Some(given) = &body.attributes {
        attributes::merge(&mut user.attributes, given, &mut errors);
    }
    let uid_paths = match &body.uids {
        Some(entries) => apply_uid_entries(&mut user, entries, block, now, &mut errors),
        None => HashMap::new(),
    };
    if user != *current {
        user.version = current.version + 1;
        user.updated_at = now;
    }
    errors.into_result(Revision { user, uid_paths })
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
            errors.check(path, rule.read(raw.as_deref()), Change::Keep)
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
        let country = errors.check(
            "country",
            read_coded(&body.country, CountryCode::parse),
            Change::Keep,
        );
        let lang = errors.check("lang", read_coded(&body.lang, parse_lang), Change::Keep);
        let customer_type = match body.customer_type.as_deref() {
            None => None,
            Some(raw) => errors.check("customerType", CustomerType::parse(raw), None),
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::domain::fields::CustomerType;
    use crate::domain::ids::IdBlock;
    use crate::domain::uid::UidType;

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
            &mut IdBlock::for_existing_end_user(),
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
    fn update_keeps_absent_clears_empty_and_keeps_empty_customer_type() {
        let user = created(serde_json::json!({
            "firstname": "Jane", "lastname": "Doe", "company": "Acme", "customerType": "Partner"
        }));
        let next = update(
            &user,
            &body(serde_json::json!({"firstname": "Janet", "company": "", "lastname": null, "customerType": ""})),
            &mut IdBlock::for_existing_end_user(),
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
            &mut IdBlock::for_existing_end_user(),
            now(),
        )
        .expect("valid");
        assert_eq!(next.user, user);
    }
}
