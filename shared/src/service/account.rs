//! The tenant's own account: settings with sealed secrets, the models it sees, its channels.

use serde_json::{Map, Value};

use super::unit_of_work::{self, Exhausted, Step};
use crate::domain::TenantId;
use crate::domain::customer::{
    Account, Catalog, Channel, ChannelType, Model, SecretValues, SettingsUpdate,
};
use crate::domain::fields::Change;
use crate::error::ApiError;
use crate::store::{Table, Transaction, account, channel};
use crate::vault::Vault;

/// The tenant's stored account; the defaults when it saved nothing yet. One read.
pub async fn load(table: &dyn Table, tenant: TenantId) -> Result<Account, ApiError> {
    match table.get(&account::key(tenant)).await? {
        Some(item) => Ok(account::from_item(item)?),
        None => Ok(Account::default()),
    }
}

/// Applies `PUT /api/Customers/me`: one read and one conditional write, which a concurrent save
/// in between sends back to a fresh read. Secrets are sealed again only when the update sets or
/// clears one.
pub async fn update(
    table: &dyn Table,
    vault: &Vault,
    tenant: TenantId,
    body: &Map<String, Value>,
) -> Result<Account, ApiError> {
    unit_of_work::run(table, Exhausted::Conflict, |_| async {
        let current = load(table, tenant).await?;
        let update = SettingsUpdate::read(body, &current.settings, tenant, Catalog::shipped())?;
        let changes_secrets = update.changes_secrets();
        let mut next = Account {
            settings: update.settings,
            ..current.clone()
        };
        if changes_secrets {
            let mut values = match &current.sealed {
                Some(sealed) => vault.open(tenant, sealed).await?,
                None => SecretValues::default(),
            };
            for (field, change) in update.secrets {
                match change {
                    Change::Keep => {}
                    Change::Clear => values.set(field, None),
                    Change::Set(value) => values.set(field, Some(value)),
                }
            }
            next.secret_fields = values.fields().collect();
            next.sealed = match values.is_empty() {
                true => None,
                false => Some(vault.seal(tenant, &values).await?),
            };
        }
        let mut transaction = Transaction::new();
        transaction.push(account::save(tenant, &next)?);
        next.version += 1;
        Ok(Step::commit(transaction, next))
    })
    .await
}

/// The models `tenant` is shown (see [`Catalog::listed_for`]): one read, for its defaults.
pub async fn models(table: &dyn Table, tenant: TenantId) -> Result<Vec<&'static Model>, ApiError> {
    let defaults = load(table, tenant).await?.settings.into_default_model_ids();
    Ok(Catalog::shipped().listed_for(tenant, &defaults))
}

/// The tenant's channels by `channelID`: one query.
pub async fn channels(table: &dyn Table, tenant: TenantId) -> Result<Vec<Channel>, ApiError> {
    let items = table
        .query(&account::tenant_partition(tenant), channel::PREFIX, None)
        .await?;
    Ok(items
        .into_iter()
        .map(channel::from_item)
        .collect::<Result<_, _>>()?)
}

/// Creates or replaces a channel in one write; whether it is new.
pub async fn put_channel(
    table: &dyn Table,
    tenant: TenantId,
    channel: &Channel,
) -> Result<bool, ApiError> {
    let replaced = table.replace(channel::item(tenant, channel)?).await?;
    Ok(replaced.is_none())
}

/// Deletes a channel in one write; 404 when the tenant has none with that id.
pub async fn delete_channel(table: &dyn Table, tenant: TenantId, id: u64) -> Result<(), ApiError> {
    match table.remove(&channel::key(tenant, id)).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!("no channel {id}"))),
    }
}

/// The account and its opened secrets, for a phone client whose token names channel
/// `channel_id`: one batch read of both; 403 unless it is one of the tenant's `Phone` channels.
pub async fn phone_secrets(
    table: &dyn Table,
    vault: &Vault,
    tenant: TenantId,
    channel_id: Option<u64>,
) -> Result<(Account, SecretValues), ApiError> {
    let refused = || {
        ApiError::Forbidden(
            "the token's channelID does not name a Phone channel of the customer".into(),
        )
    };
    let channel_id = channel_id.ok_or_else(refused)?;
    let account_key = account::key(tenant);
    let items = table
        .batch_get(&[account_key.clone(), channel::key(tenant, channel_id)])
        .await?;
    let mut account = Account::default();
    let mut phone_channel = false;
    for item in items {
        if account_key.holds(&item) {
            account = account::from_item(item)?;
        } else {
            phone_channel = channel::from_item(item)?.channel_type == ChannelType::Phone;
        }
    }
    if !phone_channel {
        return Err(refused());
    }
    let secrets = match &account.sealed {
        Some(sealed) => vault.open(tenant, sealed).await?,
        None => SecretValues::default(),
    };
    Ok((account, secrets))
}
