use super::*;
use crate::domain::Timestamp;

fn user(id: u64, name: &str, company: Option<&str>, uids: &[(UidType, &str)]) -> EndUser {
    let uids: Vec<serde_json::Value> = uids
        .iter()
        .enumerate()
        .map(|(i, (uid_type, raw))| {
            let value = Uid::parse(*uid_type, raw, None)
                .expect("a UID")
                .value()
                .to_owned();
            serde_json::json!({
                "endUserUIDID": id * 10 + i as u64, "uidType": uid_type.as_str(), "uid": value,
                "isPrimary": false
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "endUserID": id, "name": name, "company": company, "customerType": "Customer",
        "uids": uids, "createdAt": Timestamp::now(), "updatedAt": Timestamp::now(), "version": 1
    }))
    .expect("an end user")
}

fn uid(uid_type: UidType, raw: &str) -> Uid {
    Uid::parse(uid_type, raw, None).expect("a UID")
}

/// The reasons `a` and `b` share: the reasons of their common keys.
fn shared(a: &EndUser, b: &EndUser) -> BTreeSet<Reason> {
    keys_of(a)
        .intersection(&keys_of(b))
        .map(MatchKey::reason)
        .collect()
}

#[test]
fn the_same_number_under_phone_and_whatsapp_matches_and_another_number_does_not() {
    let a = user(1, "", None, &[(UidType::Phone, "+32 471 23 45 67")]);
    let b = user(2, "", None, &[(UidType::WhatsApp, "whatsapp:+32471234567")]);
    let near = user(3, "", None, &[(UidType::WhatsApp, "+32471234568")]);
    assert_eq!(shared(&a, &b), BTreeSet::from([Reason::SamePhoneNumber]));
    assert!(shared(&a, &near).is_empty());
}

#[test]
fn e_mails_match_without_tags_and_gmail_dots_but_dots_elsewhere_count() {
    let key = |raw| MatchKey::of_uid(&uid(UidType::Email, raw)).expect("a key");
    assert_eq!(key("Jane+news@Acme.com"), key("jane@acme.com"));
    assert_eq!(key("j.a.n.e+x@googlemail.com"), key("jane@gmail.com"));
    assert_ne!(key("jane.doe@acme.com"), key("janedoe@acme.com"));
    assert_ne!(key("jane@acme.com"), key("jane@acme.org"));
    assert_eq!(key("jane@acme.com").reason(), Reason::SameEmailIgnoringTags);
}

#[test]
fn external_ids_and_customer_refs_match_ignoring_case_and_spaces_only() {
    let external = MatchKey::of_uid(&uid(UidType::External, "  CRM-42 ")).expect("a key");
    assert_eq!(MatchKey::of_reference("crm-42"), Some(external.clone()));
    assert_ne!(MatchKey::of_reference("CRM-042"), Some(external));
    assert_eq!(MatchKey::of_uid(&uid(UidType::Webchat, "visitor-1")), None);
}

#[test]
fn name_and_company_match_ignoring_case_accents_and_spaces() {
    let a = user(1, "José  Núñez", Some("ACME Café"), &[]);
    let b = user(2, "jose nunez", Some("acme cafe"), &[]);
    let other_company = user(3, "José Núñez", Some("Acme Corp"), &[]);
    let no_company = user(4, "José Núñez", None, &[]);
    assert_eq!(shared(&a, &b), BTreeSet::from([Reason::SameNameAndCompany]));
    assert!(shared(&a, &other_company).is_empty());
    assert!(shared(&no_company, &user(5, "José Núñez", None, &[])).is_empty());
    assert_eq!(fold("  Çelik   ÅSE "), Some("celik ase".into()));
    assert_eq!(fold(" \t "), None);
}

#[test]
fn name_and_e_mail_domain_match_on_a_company_domain_only() {
    let email = |raw| (UidType::Email, raw);
    let a = user(1, "Jane Doe", None, &[email("jane@acme.com")]);
    let b = user(2, "JANE DOE", None, &[email("j.doe@acme.com")]);
    let public = user(3, "Jane Doe", None, &[email("jane@gmail.com")]);
    let public_too = user(4, "Jane Doe", None, &[email("jd@yahoo.co.uk")]);
    let other_name = user(5, "John Doe", None, &[email("john@acme.com")]);
    assert_eq!(
        shared(&a, &b),
        BTreeSet::from([Reason::SameNameAndEmailDomain])
    );
    assert!(shared(&public, &public_too).is_empty());
    assert!(shared(&public, &user(6, "Jane Doe", None, &[email("x@gmail.com")])).is_empty());
    assert!(shared(&a, &other_name).is_empty());
    assert!(!is_public_provider("outlook.acme.com") && is_public_provider("hotmail.fr"));
}

#[test]
fn an_anonymized_end_user_has_no_keys() {
    let mut a = user(
        1,
        "Jane",
        Some("Acme"),
        &[(UidType::Email, "jane@acme.com")],
    );
    assert_eq!(keys_of(&a).len(), 3);
    a.anonymized_at = Some(Timestamp::now());
    assert!(keys_of(&a).is_empty());
}

#[test]
fn strong_reasons_score_at_least_0_8_and_a_name_reason_alone_at_most_0_5() {
    let of = |reasons: &[Reason]| score(&reasons.iter().copied().collect());
    assert!(of(&[Reason::SamePhoneNumber]) >= 0.8);
    assert!(of(&[Reason::SameEmailIgnoringTags]) >= 0.8);
    assert!(of(&[Reason::SameNameAndCompany]) <= 0.5);
    assert!(of(&[Reason::SameNameAndEmailDomain]) <= 0.5);
    assert!(of(&[Reason::SameNameAndCompany, Reason::SameNameAndEmailDomain]) < 0.8);
    let all = of(&Reason::ALL);
    assert!(all > of(&[Reason::SamePhoneNumber]) && all <= 1.0);
}

#[test]
fn ranking_leaves_out_itself_and_the_dismissed_and_keeps_the_strongest_twenty() {
    let mut found = vec![
        (1, Reason::SamePhoneNumber),
        (7, Reason::SameNameAndCompany),
    ];
    found.extend((100..130).map(|id| (id, Reason::SameNameAndEmailDomain)));
    found.push((7, Reason::SameEmailIgnoringTags));
    found.push((9, Reason::SamePhoneNumber));
    let ranked = rank(1, found, &HashSet::from([9]));
    assert_eq!(ranked.len(), MAX_CANDIDATES);
    assert_eq!(ranked[0].end_user_id, 7);
    assert_eq!(
        ranked[0].reasons,
        [Reason::SameEmailIgnoringTags, Reason::SameNameAndCompany]
    );
    assert_eq!(ranked[0].score, 0.91);
    assert_eq!(ranked[1].end_user_id, 100);
    assert!(
        ranked
            .iter()
            .all(|c| c.end_user_id != 1 && c.end_user_id != 9)
    );
}
