//! The tenant's own account: settings with sealed secrets, the models it sees, its channels.

use serde_json::{Map, Value};

use super::unit_of_work::{self, Exhausted, Step};
use crate::domain::customer::{
    Account, Catalog, Channel, ChannelType, ConnectorPolicy, Model, SecretField, SecretValues,
    SettingsUpdate,
};
use crate::domain::errors::FieldErrors;
use crate::domain::fields::Change;
use crate::domain::{Secret, TenantId};
use crate::error::ApiError;
use crate::store::{Query, Table, Transaction, account, channel, every_item};
use crate::vault::{Vault, VaultError};

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
    connector: ConnectorPolicy,
) -> Result<Account, ApiError> {
    unit_of_work::run(table, Exhausted::Conflict, |_| async {
        let current = load(table, tenant).await?;
        let catalog = Catalog::shipped();
        let update = SettingsUpdate::read(body, &current.settings, tenant, catalog, connector)?;
        let changes_secrets = update.changes_secrets();
        let mut next = Account {
            settings: update.settings,
            ..current.clone()
        };
        if changes_secrets {
            let mut values = stored_secrets(vault, tenant, &current, &update.secrets).await?;
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

/// The stored secrets an update of `secrets` starts from. Secrets that no longer open (their key
/// was replaced or disabled) are dropped when the update sets or clears every stored field, so
/// the tenant can enter them again; otherwise that is a 409 naming the stored fields (SPEC 6).
async fn stored_secrets(
    vault: &Vault,
    tenant: TenantId,
    current: &Account,
    secrets: &[(SecretField, Change<Secret>)],
) -> Result<SecretValues, ApiError> {
    let Some(sealed) = &current.sealed else {
        return Ok(SecretValues::default());
    };
    let cause = match vault.open(tenant, sealed).await {
        Ok(values) => return Ok(values),
        Err(VaultError::Unavailable(cause)) => return Err(ApiError::Unavailable(cause)),
        Err(VaultError::Internal(cause)) => cause,
    };
    let replaced = |field: &SecretField| {
        secrets
            .iter()
            .any(|(f, change)| f == field && !matches!(change, Change::Keep))
    };
    let kept: Vec<&SecretField> = current
        .secret_fields
        .iter()
        .filter(|f| !replaced(f))
        .collect();
    tracing::warn!(
        tenant = tenant.get(),
        cause,
        "the stored secrets no longer open"
    );
    if kept.is_empty() {
        return Ok(SecretValues::default());
    }
    let mut errors = FieldErrors::default();
    for field in kept {
        errors.add(
            field.name(),
            "is stored but can no longer be opened; set or clear it in this request",
        );
    }
    Err(ApiError::SecretsUnreadable(errors))
}

/// The models `tenant` is shown (see [`Catalog::listed_for`]): one read, for its defaults.
pub async fn models(table: &dyn Table, tenant: TenantId) -> Result<Vec<&'static Model>, ApiError> {
    let defaults = load(table, tenant).await?.settings.into_default_model_ids();
    Ok(Catalog::shipped().listed_for(tenant, &defaults))
}

/// The tenant's channels by `channelID`: one query.
pub async fn channels(table: &dyn Table, tenant: TenantId) -> Result<Vec<Channel>, ApiError> {
    let partition = account::tenant_partition(tenant);
    let items = every_item(table, &Query::table(&partition, channel::PREFIX)).await?;
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
    let replaced = unit_of_work::replace(table, channel::item(tenant, channel)?).await?;
    Ok(replaced.is_none())
}

/// Deletes a channel in one write; 404 when the tenant has none with that id.
pub async fn delete_channel(table: &dyn Table, tenant: TenantId, id: u64) -> Result<(), ApiError> {
    match unit_of_work::remove(table, &channel::key(tenant, id)).await? {
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
