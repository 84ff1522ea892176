//! A tenant's channel: `T#{customerID}` / `CHANNEL#{channelID, 16 digits}`, beside the account
//! item; the padding keeps a partition query in `channelID` order.

use super::account::tenant_partition;
use super::item::{Kind, decode, encode, keyed};
use super::{Item, Key, StoreError};
use crate::domain::TenantId;
use crate::domain::customer::Channel;

/// The sort key prefix every channel has.
pub const PREFIX: &str = "CHANNEL#";

pub fn key(tenant: TenantId, channel_id: u64) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("{PREFIX}{channel_id:016}"),
    )
}

pub fn item(tenant: TenantId, channel: &Channel) -> Result<Item, StoreError> {
    Ok(keyed(
        Kind::Channel,
        key(tenant, channel.id),
        encode(channel)?,
    ))
}

pub fn from_item(item: Item) -> Result<Channel, StoreError> {
    decode(item)
}
