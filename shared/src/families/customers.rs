//! The `customers` family: the tenant's own account, `/api/Customers/...` (its function:
//! `functions/customers`).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};
use serde_json::{Map, Value};

use crate::domain::customer::{Channel, ChannelBody, ConnectorPolicy, ProviderSecrets};
use crate::error::ApiError;
use crate::http::request::{Call, Caller};
use crate::http::response::{Reply, created, json, no_content, no_store};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::service::account;
use crate::store::Table;
use crate::vault::Vault;

use super::path_id;

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Me,
    UpdateMe,
    Models,
    Channels,
    PutChannel,
    DeleteChannel,
    MySecrets,
}

const ROUTES: &[Route<Op>] = &[
    Route::new(Method::GET, "/api/Customers/me", AuthPolicy::Jwt, Op::Me),
    Route::new(
        Method::PUT,
        "/api/Customers/me",
        AuthPolicy::Jwt,
        Op::UpdateMe,
    ),
    Route::new(
        Method::GET,
        "/api/Customers/models",
        AuthPolicy::Jwt,
        Op::Models,
    ),
    Route::new(
        Method::GET,
        "/api/Customers/channels",
        AuthPolicy::Jwt,
        Op::Channels,
    ),
    Route::new(
        Method::PUT,
        "/api/Customers/channels/{channelID}",
        AuthPolicy::Jwt,
        Op::PutChannel,
    ),
    Route::new(
        Method::DELETE,
        "/api/Customers/channels/{channelID}",
        AuthPolicy::Jwt,
        Op::DeleteChannel,
    ),
    Route::new(
        Method::GET,
        "/api/Customers/my-secrets",
        AuthPolicy::PhoneJwt,
        Op::MySecrets,
    ),
];

pub struct Customers {
    table: Arc<dyn Table>,
    vault: Arc<Vault>,
    /// What the CRM connector's `apiBaseUrl` may name (SPEC 10).
    connector: ConnectorPolicy,
}

impl Customers {
    /// The family, its connector reaching public addresses only.
    pub fn new(table: Arc<dyn Table>, vault: Arc<Vault>) -> Self {
        Customers {
            table,
            vault,
            connector: ConnectorPolicy::PublicOnly,
        }
    }

    /// The family with another connector policy (the local server's `CRM_ALLOW_LOOPBACK`).
    pub fn with_connector(self, connector: ConnectorPolicy) -> Self {
        Customers { connector, ..self }
    }
}

#[async_trait]
impl Family for Customers {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let table = self.table.as_ref();
        let tenant = call.tenant()?;
        match op {
            Op::Me => {
                let account = account::load(table, tenant).await?;
                Ok(no_store(json(StatusCode::OK, &account.view(tenant))?))
            }
            Op::UpdateMe => {
                let body: Map<String, Value> = call.json()?;
                let connector = self.connector;
                let account = account::update(table, &self.vault, tenant, &body, connector).await?;
                Ok(no_store(json(StatusCode::OK, &account.view(tenant))?))
            }
            Op::Models => json(StatusCode::OK, &account::models(table, tenant).await?),
            Op::Channels => {
                let channels = account::channels(table, tenant).await?;
                let items: Vec<_> = channels.iter().map(Channel::view).collect();
                json(StatusCode::OK, &serde_json::json!({ "items": items }))
            }
            Op::PutChannel => {
                let id = path_id(call, "channelID")?;
                let body: ChannelBody = call.json()?;
                let channel = Channel::parse(id, &body)?;
                match account::put_channel(table, tenant, &channel).await? {
                    true => created(&format!("/api/Customers/channels/{id}"), &channel.view()),
                    false => json(StatusCode::OK, &channel.view()),
                }
            }
            Op::DeleteChannel => {
                account::delete_channel(table, tenant, path_id(call, "channelID")?).await?;
                Ok(no_content())
            }
            Op::MySecrets => {
                let channel = match call.caller() {
                    Caller::Token(principal) => {
                        principal.phone_auth.as_ref().and_then(|p| p.channel_id)
                    }
                    _ => None,
                };
                let (account, secrets) =
                    account::phone_secrets(table, &self.vault, tenant, channel).await?;
                let body = ProviderSecrets::new(&account.settings, &secrets);
                Ok(no_store(json(StatusCode::OK, &body)?))
            }
        }
    }
}
