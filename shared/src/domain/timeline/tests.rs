use serde_json::{Value, json};

use super::*;
use crate::domain::consent::ConsentChange;
use crate::domain::end_user::EndUserBody;
use crate::domain::errors::FieldErrors;
use crate::domain::ids::IdBlock;
use crate::domain::uid::Uid;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds)
}

fn user(body: Value) -> EndUser {
    let body: EndUserBody = serde_json::from_value(body).expect("a body");
    crate::domain::end_user::create(&body, &mut IdBlock::for_new_end_user(), at(1_800_000_000))
        .expect("valid")
        .user
}

fn kinds(records: &[Record]) -> Vec<(EntryKind, usize)> {
    records.iter().map(|r| (r.kind, r.details.len())).collect()
}

#[test]
fn positions_sort_by_second_then_kind_and_fit_in_38_digits() {
    let p = |seconds, kind, id| Position::of(at(seconds), kind, id);
    let later = p(101, EntryKind::UidUnlinked, 1);
    let earlier = p(100, EntryKind::External, u64::MAX);
    assert!(later > earlier, "the second comes first");
    let linked = p(100, EntryKind::UidLinked, 5);
    let message = p(100, EntryKind::Message, 5);
    assert!(message > linked, "then the kind's rank");
    assert!(p(100, EntryKind::UidLinked, 6) > linked, "then the ID");
    let last = p(i64::MAX, EntryKind::External, u64::MAX);
    assert!(last.0 < 10_u128.pow(38), "DynamoDB holds 38 digits");
    assert_eq!(p(-5, EntryKind::Merged, 0), p(0, EntryKind::Merged, 0));
}

#[test]
fn writes_of_the_current_second_sort_by_their_microsecond() {
    let now = Timestamp::now();
    let first = Position::of(now, EntryKind::External, 9);
    std::thread::sleep(std::time::Duration::from_millis(2));
    let second = Position::of(now, EntryKind::UidLinked, 1);
    // The second write's lower kind and ID do not put it first (unless the second ended).
    if Timestamp::now() == now {
        assert!(second > first);
    }
    let dated = Position::of(at(100), EntryKind::External, 9);
    assert_eq!(dated, Position::of(at(100), EntryKind::External, 9));
}

#[test]
fn a_created_end_user_records_its_uids_linked_and_its_consent() {
    let mut created = user(json!({
        "uids": [{"uidType": "Email", "uid": "jane@example.com"}, {"uidType": "Phone", "uid": "+14155550100"}]
    }));
    let phone = Uid::parse(UidType::Phone, "+14155550100", None).expect("a phone");
    created.set_consent(
        &phone,
        ConsentChange::by_desk(ConsentStatus::OptedIn, at(1)),
    );
    let records = of_end_user(None, &created, at(1_800_000_000));
    assert_eq!(
        kinds(&records),
        [(EntryKind::UidLinked, 2), (EntryKind::ConsentChanged, 1)]
    );
    assert!(records.iter().all(|r| r.end_user_id == created.id));
    assert_eq!(
        records[1].details[0],
        Detail::ConsentChanged {
            uid_type: UidType::Phone,
            uid: "+14155550100".into(),
            status: ConsentStatus::OptedIn,
            source: "api".into(),
        }
    );
}

#[test]
fn a_changed_address_is_unlinked_and_linked_and_an_unchanged_user_records_nothing() {
    let before = user(json!({"uids": [{"uidType": "Email", "uid": "old@example.com"}]}));
    assert!(of_end_user(Some(&before), &before, at(5)).is_empty());
    let mut after = before.next_version(at(5));
    after.uids[0].uid = "new@example.com".into();
    let records = of_end_user(Some(&before), &after, at(5));
    assert_eq!(
        kinds(&records),
        [(EntryKind::UidUnlinked, 1), (EntryKind::UidLinked, 1)]
    );
    assert_ne!(records[0].position, records[1].position);
    let anonymized = before.anonymized(crate::domain::end_user::Erasure::Pending, at(6));
    assert!(of_end_user(Some(&before), &anonymized, at(6)).is_empty());
}

#[test]
fn a_message_shows_its_first_200_characters() {
    let text: String = "é".repeat(250);
    let message = Message {
        id: 9,
        ticket_id: 8,
        direction: Direction::Inbound,
        provider_message_id: None,
        from: "jane@example.com".into(),
        text,
        subject: None,
        received_at: at(7),
    };
    let record = message_record(&message);
    let Detail::Message { text, .. } = &record.details[0] else {
        panic!("a message entry")
    };
    assert_eq!(text.chars().count(), MESSAGE_EXCERPT_CHARS);
    assert_eq!(record.ticket_id(), Some(8));
}

fn message_record(message: &Message) -> Record {
    super::message(3, ChannelType::Email, message)
}

#[test]
fn erasure_replaces_every_personal_value_and_keeps_the_rest() {
    let external = Detail::External {
        event_id: 1,
        event_type: "order.placed".into(),
        message: "Jane ordered".into(),
        source_url: Some("https://shop.example.com/orders/1".into()),
        initiated_by: "Jane".into(),
    };
    let erased = serde_json::to_value(external.erased()).expect("json");
    assert_eq!(
        erased,
        json!({"kind": "external", "eventID": 1, "type": "order.placed", "message": "[erased]",
               "sourceUrl": null, "initiatedBy": "[erased]"})
    );
    let uid = Detail::UidLinked {
        uid_type: UidType::Email,
        uid: "jane@example.com".into(),
    };
    assert_eq!(
        serde_json::to_value(uid.erased()).expect("json"),
        json!({"kind": "uidLinked", "uidType": "Email", "uid": "[erased]"})
    );
    let closed = Detail::TicketClosed { ticket_id: 4 };
    assert_eq!(closed.clone().erased(), closed);
}

#[test]
fn an_entry_reads_as_its_kind_time_and_members() {
    let entry = Entry {
        at: at(1_800_000_000),
        detail: Detail::Merged {
            merge_id: 5,
            source_end_user_id: 6,
        },
    };
    assert_eq!(
        serde_json::to_value(entry).expect("json"),
        json!({"at": "2027-01-15T08:00:00Z", "kind": "merged", "mergeID": 5, "sourceEndUserID": 6})
    );
}

#[test]
fn kinds_are_named_exactly() {
    for kind in EntryKind::ALL {
        assert_eq!(EntryKind::parse(kind.as_str()), Ok(kind));
        let json = serde_json::to_value(kind).expect("json");
        assert_eq!(json, Value::String(kind.as_str().into()));
    }
    assert!(EntryKind::parse("Message").is_err());
    assert!(EntryKind::parse("").is_err());
}

fn event(body: Value) -> Result<ExternalEvent, FieldErrors> {
    let Value::Object(body) = body else {
        panic!("an object")
    };
    ExternalEvent::read(&body, 11, 3, at(50))
}

#[test]
fn an_external_event_is_validated_field_by_field() {
    let ok = event(json!({"type": "order.placed", "message": "Order 1", "initiatedBy": "shop"}))
        .expect("valid");
    assert_eq!((ok.occurred_at, ok.source_url.as_deref()), (at(50), None));
    let full = event(json!({
        "type": "a_B-9.x", "message": "m", "initiatedBy": "i",
        "sourceUrl": "https://shop.example.com/o/1", "occurredAt": "2026-11-22T10:15:30Z"
    }))
    .expect("valid");
    assert_eq!(full.occurred_at.to_string(), "2026-11-22T10:15:30Z");
    let errors = event(json!({
        "type": "order placed", "message": "", "initiatedBy": 5,
        "sourceUrl": "ftp://example.com/x", "occurredAt": "yesterday"
    }))
    .expect_err("invalid");
    for path in ["type", "message", "initiatedBy", "sourceUrl", "occurredAt"] {
        assert!(errors.contains(path), "{path} not named: {errors:?}");
    }
    let errors = event(json!({})).expect_err("missing");
    for path in ["type", "message", "initiatedBy"] {
        assert!(errors.contains(path), "{path} not named");
    }
    assert!(!errors.contains("sourceUrl"));
}

#[test]
fn external_event_bounds_hold_at_their_edges() {
    let with = |field: &str, value: Value| {
        let mut body = json!({"type": "t", "message": "m", "initiatedBy": "i"});
        body[field] = value;
        event(body)
    };
    assert!(with("type", json!("t".repeat(MAX_TYPE_CHARS))).is_ok());
    assert!(with("type", json!("t".repeat(MAX_TYPE_CHARS + 1))).is_err());
    assert!(with("message", json!("m".repeat(MAX_MESSAGE_CHARS))).is_ok());
    assert!(with("message", json!("m".repeat(MAX_MESSAGE_CHARS + 1))).is_err());
    assert!(with("initiatedBy", json!("i".repeat(200))).is_ok());
    assert!(with("initiatedBy", json!("i".repeat(201))).is_err());
    let long = format!("https://example.com/{}", "p".repeat(2048 - 20));
    assert_eq!(long.len(), 2048);
    assert!(with("sourceUrl", json!(long)).is_ok());
    assert!(with("sourceUrl", json!(format!("{long}p"))).is_err());
    for bad in [
        "/relative",
        "mailto:jane@example.com",
        "https://",
        "not a url",
    ] {
        assert!(with("sourceUrl", json!(bad)).is_err(), "{bad} accepted");
    }
    assert!(with("sourceUrl", Value::Null).is_ok());
    assert!(with("type", json!("ü")).is_err());
}
