//! The tenant's account item: its settings, which secrets it has, the secrets sealed (see
//! `vault`), and a version that makes each save conditional on the one it read.
//!
//! `T#{customerID}` / `SETTINGS`, in the partition that also holds the tenant's channels, so a
//! webhook reads settings and channel in one batch. Every save enters the tenant and its
//! current retention into the sweep's index (`sweep`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::item::{Kind, decode, encode, keyed, number};
use super::{Condition, Item, Key, StoreError, Write, sweep};
use crate::domain::TenantId;
use crate::domain::customer::{Account, Sealed, SecretField, Settings};

const SETTINGS: &str = "SETTINGS";
const VERSION: &str = "version";

/// The partition of a tenant's own items (account, channels).
pub fn tenant_partition(tenant: TenantId) -> String {
    format!("T#{tenant}")
}

pub fn key(tenant: TenantId) -> Key {
    Key::new(tenant_partition(tenant), SETTINGS)
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountItem {
    settings: Settings,
    secret_fields: Vec<SecretField>,
    sealed: Option<SealedItem>,
    version: u64,
}

/// Sealed secrets as stored, each part in base64.
#[derive(Serialize, Deserialize)]
struct SealedItem {
    key: String,
    nonce: String,
    data: String,
}

/// The account stored in `item`.
pub fn from_item(item: Item) -> Result<Account, StoreError> {
    let stored: AccountItem = decode(item)?;
    let sealed = match stored.sealed {
        None => None,
        Some(sealed) => {
            let bytes = |text: &str| {
                STANDARD
                    .decode(text)
                    .map_err(|e| StoreError::Internal(format!("sealed secrets: {e}")))
            };
            Some(Sealed {
                wrapped_key: bytes(&sealed.key)?,
                nonce: bytes(&sealed.nonce)?,
                ciphertext: bytes(&sealed.data)?,
            })
        }
    };
    Ok(Account {
        settings: stored.settings,
        secret_fields: stored.secret_fields.into_iter().collect(),
        sealed,
        version: stored.version,
    })
}

/// Saves `account` as the next version of the one read at `account.version` (none: 0), so a
/// concurrent save in between makes this one fail rather than be lost.
pub fn save(tenant: TenantId, account: &Account) -> Result<Write, StoreError> {
    let stored = AccountItem {
        settings: account.settings.clone(),
        secret_fields: account.secret_fields.iter().copied().collect(),
        sealed: account.sealed.as_ref().map(|s| SealedItem {
            key: STANDARD.encode(&s.wrapped_key),
            nonce: STANDARD.encode(&s.nonce),
            data: STANDARD.encode(&s.ciphertext),
        }),
        version: account.version + 1,
    };
    let condition = match account.version {
        0 => Condition::NotExists,
        read => Condition::Equals {
            attribute: VERSION,
            value: number(read),
        },
    };
    let mut item = encode(&stored)?;
    let retention = account.settings.ticket_cleanup_retention_days;
    for (name, value) in sweep::tenant_entry(tenant, retention) {
        item.insert(name.into(), value);
    }
    Ok(Write::Put {
        item: keyed(Kind::Account, key(tenant), item),
        condition: Some(condition),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_round_trips_and_saves_on_the_version_it_read() {
        let tenant = TenantId::new(3).expect("tenant");
        let mut account = Account {
            version: 4,
            sealed: Some(Sealed {
                wrapped_key: vec![1, 2, 3],
                nonce: vec![0; 12],
                ciphertext: vec![9; 20],
            }),
            ..Account::default()
        };
        account.settings.imap_port = Some(993);
        account.secret_fields.insert(SecretField::ApiToken);
        let Write::Put { item, condition } = save(tenant, &account).expect("save") else {
            panic!("a put");
        };
        assert_eq!(
            condition,
            Some(Condition::Equals {
                attribute: VERSION,
                value: number(4)
            })
        );
        assert_eq!(Key::of(&item), Some(key(tenant)));
        let back = from_item(item).expect("decode");
        assert_eq!(back.version, 5);
        assert_eq!(
            (back.settings, back.secret_fields, back.sealed),
            (account.settings, account.secret_fields, account.sealed)
        );
    }
}
