//! What a webhook's checks read of the store, in one batch before its signature is checked.

use super::Inbound;
use crate::domain::TenantId;
use crate::domain::customer::{Account, Channel};
use crate::error::ApiError;
use crate::store::delivery::{self, Delivered};
use crate::store::{Item, Key, Table, account, channel, uid_index};

/// What a webhook's checks need, read in one batch before its signature is checked: the
/// tenant's account (its secrets and settings), the channel the path names, an earlier delivery
/// of the message on that channel, and the sender's UID index items (the first attempt to
/// record the message resolves its sender from them).
pub struct Checked {
    pub account: Option<Account>,
    pub channel: Option<Channel>,
    pub delivered: Option<Delivered>,
    pub senders: SenderRead,
}

/// The UID index items of a message's sender (and web chat e-mail), as read with the checks.
#[derive(Clone, Debug, Default)]
pub struct SenderRead(pub(super) Option<Vec<Item>>);

/// One batch read of what `tenant`'s webhook on `channel_id` checks, for the message
/// `message_id` from `message` (when the payload reads as one).
pub async fn read_for_checks(
    table: &dyn Table,
    tenant: TenantId,
    channel_id: Option<u64>,
    message_id: Option<&str>,
    message: Option<&Inbound>,
) -> Result<Checked, ApiError> {
    let account_key = account::key(tenant);
    let channel_key = channel_id.map(|id| channel::key(tenant, id));
    let delivery_key = channel_id
        .zip(message_id)
        .map(|(channel, id)| delivery::key(tenant, channel, id));
    let mut keys = vec![account_key.clone()];
    keys.extend(channel_key.clone());
    keys.extend(delivery_key.clone());
    let sender_keys = message.map(|m| sender_keys(tenant, m)).unwrap_or_default();
    keys.extend(sender_keys.iter().cloned());
    let items = table.batch_get(&keys).await?;
    let find = |key: &Key| key.find_in(&items).cloned();
    let senders = message.map(|_| sender_keys.iter().filter_map(find).collect());
    Ok(Checked {
        senders: SenderRead(senders),
        account: find(&account_key).map(account::from_item).transpose()?,
        channel: channel_key
            .and_then(|key| find(&key))
            .map(channel::from_item)
            .transpose()?,
        delivered: delivery_key
            .and_then(|key| find(&key))
            .map(delivery::from_item)
            .transpose()?,
    })
}

/// The UID index keys of the sender and of a web chat e-mail.
pub(super) fn sender_keys(tenant: TenantId, inbound: &Inbound) -> Vec<Key> {
    let mut keys = vec![uid_index::key(tenant, &inbound.sender)];
    keys.extend(
        inbound
            .email
            .iter()
            .map(|email| uid_index::key(tenant, email)),
    );
    keys
}
