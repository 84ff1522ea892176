//! Timeline records (SPEC 10): `T#{tenant}#EU#{endUserID}#TL` / `TL#{position, 38 digits}`,
//! written in the transaction of what they record, so a page of an end user's timeline is one
//! descending query of its partition (strongly consistent). `GSI6` lists them by kind
//! (`T#{tenant}#EU#{endUserID}#TL#{kind}`, every attribute, sorted by position) for `kinds=`;
//! `GSI7` (keys only) finds a ticket's records (`T#{tenant}#TK#{ticketID}#TL`), which the
//! retention sweep removes with the ticket.

use super::item::{Kind, keyed, number};
use super::{
    AttributeValue, Condition, Index, Item, Key, PageStart, Projection, StoreError, Write,
};
use crate::domain::timeline::{Detail, EntryKind, Position, Record};
use crate::domain::{TenantId, Timestamp};

pub const PREFIX: &str = "TL#";
const ENTRY_KIND: &str = "entryKind";
const AT: &str = "at";
const ENTRIES: &str = "entries";

/// An end user's records of one kind, by position.
pub const BY_KIND: Index = Index {
    name: "GSI6",
    partition_key: "GSI6PK",
    sort_key: "GSI6SK",
    projection: Projection::All,
};

/// A ticket's records, by position.
pub const OF_TICKET: Index = Index {
    name: "GSI7",
    partition_key: "GSI7PK",
    sort_key: "GSI7SK",
    projection: Projection::KeysOnly,
};

pub fn partition(tenant: TenantId, end_user_id: u64) -> String {
    format!("T#{tenant}#EU#{end_user_id}#TL")
}

/// The [`BY_KIND`] partition of an end user's records of `kind`.
pub fn kind_partition(tenant: TenantId, end_user_id: u64, kind: EntryKind) -> String {
    format!("T#{tenant}#EU#{end_user_id}#TL#{}", kind.as_str())
}

/// The [`OF_TICKET`] partition of a ticket's records.
pub fn ticket_partition(tenant: TenantId, ticket_id: u64) -> String {
    format!("T#{tenant}#TK#{ticket_id}#TL")
}

pub fn key(tenant: TenantId, end_user_id: u64, position: Position) -> Key {
    Key::new(
        partition(tenant, end_user_id),
        format!("{PREFIX}{:038}", position.0),
    )
}

/// Where a descending query of an end user's partition starts so that it reads the records at
/// `up_to` and before: the key just after it (which need not exist).
pub fn descending_from(tenant: TenantId, end_user_id: u64, up_to: Position) -> PageStart {
    ascending_after(tenant, end_user_id, Position(up_to.0.saturating_add(1)))
}

/// Where an ascending query of an end user's partition starts so that it reads the records
/// after `position`.
pub fn ascending_after(tenant: TenantId, end_user_id: u64, position: Position) -> PageStart {
    let item = keyed(
        Kind::Timeline,
        key(tenant, end_user_id, position),
        Item::default(),
    );
    PageStart::after(&item, None)
}

fn to_item(tenant: TenantId, record: &Record) -> Result<Item, StoreError> {
    let mut item = Item::default();
    let entries = serde_dynamo::to_attribute_value(&record.details)
        .map_err(|e| StoreError::Internal(format!("encode timeline entries: {e}")))?;
    item.insert(ENTRIES.into(), entries);
    item.insert(
        ENTRY_KIND.into(),
        AttributeValue::S(record.kind.as_str().into()),
    );
    item.insert(AT.into(), AttributeValue::S(record.at.to_string()));
    let id = record.end_user_id;
    let by_kind = kind_partition(tenant, id, record.kind);
    item.insert(BY_KIND.partition_key.into(), AttributeValue::S(by_kind));
    item.insert(BY_KIND.sort_key.into(), number(record.position.0));
    if let Some(ticket_id) = record.ticket_id() {
        let of_ticket = ticket_partition(tenant, ticket_id);
        item.insert(OF_TICKET.partition_key.into(), AttributeValue::S(of_ticket));
        item.insert(OF_TICKET.sort_key.into(), number(record.position.0));
    }
    Ok(keyed(
        Kind::Timeline,
        key(tenant, id, record.position),
        item,
    ))
}

/// `record`, stored.
pub fn put(tenant: TenantId, record: &Record) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: to_item(tenant, record)?,
        condition: None,
    })
}

/// `record` with its personal values erased, when it is still there.
pub fn erase(tenant: TenantId, record: Record) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: to_item(tenant, &record.erased())?,
        condition: Some(Condition::Exists),
    })
}

fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(StoreError::Internal(format!(
            "a timeline record without {name}"
        ))),
    }
}

pub fn from_item(item: Item) -> Result<Record, StoreError> {
    let key = Key::of(&item).ok_or_else(|| StoreError::Internal("a record without keys".into()))?;
    let unreadable = |what: &str| StoreError::Internal(format!("a timeline record's {what}"));
    let end_user_id = key
        .pk
        .strip_suffix("#TL")
        .and_then(|pk| pk.rsplit_once("#EU#"))
        .and_then(|(_, id)| id.parse().ok())
        .ok_or_else(|| unreadable("partition"))?;
    let position = key
        .sk
        .strip_prefix(PREFIX)
        .and_then(|p| p.parse().ok())
        .map(Position)
        .ok_or_else(|| unreadable("sort key"))?;
    let kind = EntryKind::parse(text(&item, ENTRY_KIND)?).map_err(|_| unreadable("kind"))?;
    let at = Timestamp::try_from(text(&item, AT)?.to_owned()).map_err(|_| unreadable("time"))?;
    let entries = item
        .get(ENTRIES)
        .cloned()
        .ok_or_else(|| unreadable("entries"))?;
    let details: Vec<Detail> =
        serde_dynamo::from_attribute_value(entries).map_err(|_| unreadable("entries"))?;
    Ok(Record {
        end_user_id,
        at,
        kind,
        position,
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::timeline;

    #[test]
    fn a_record_round_trips_and_files_its_kind_and_ticket() {
        let tenant = TenantId::new(4).expect("tenant");
        let record = timeline::merge(7, 8, 9, false, Timestamp::from_unix_seconds(1_800_000_000));
        let Write::Put { item, .. } = put(tenant, &record).expect("put") else {
            panic!("a put")
        };
        assert_eq!(
            item.get(BY_KIND.partition_key),
            Some(&AttributeValue::S("T#4#EU#7#TL#merged".into()))
        );
        assert!(!item.contains_key(OF_TICKET.partition_key), "no ticket");
        assert_eq!(Kind::of(&item), Some(Kind::Timeline));
        assert_eq!(from_item(item).expect("decode"), record);
    }

    #[test]
    fn a_page_start_reads_the_position_itself_and_before() {
        let tenant = TenantId::new(4).expect("tenant");
        let start = descending_from(tenant, 7, Position(41));
        let key = start.key().expect("a key");
        assert_eq!(key.pk, "T#4#EU#7#TL");
        assert_eq!(key.sk, format!("TL#{:038}", 42));
    }
}
