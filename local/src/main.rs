//! `cargo run -p local-api`: every route on 127.0.0.1:$PORT, on the embedded table by default or
//! on the DynamoDB endpoint in `DYNAMODB_ENDPOINT`.

use std::sync::Arc;

use answerpal::config::{Secret, Settings};
use answerpal::crm::CrmClient;
use answerpal::domain::customer::ConnectorPolicy;
use answerpal::families::mount_all;
use answerpal::http::Api;
use answerpal::http::auth::{Authenticator, hs256_token};
use answerpal::runtime::{Resources, init_text_logs};
use answerpal::service::contact_sync::{self, ContactSyncer};
use answerpal::store::outbox::OutboxTap;
use answerpal::vault::Vault;
use answerpal::vault::suppression::Suppressions;
use answerpal_local::Limits;
use tokio::net::TcpListener;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Only this server has a default secret; deployed functions refuse to start without a key.
const DEVELOPMENT_SECRET: &str = "answerpal-local-development-secret";
/// The key tenant secrets are sealed with when neither `SECRETS_KMS_KEY_ID` nor
/// `SECRETS_LOCAL_KEY` is set (fixed, so secrets saved in a local DynamoDB stay readable across
/// restarts): 32 bytes in base64.
const DEVELOPMENT_SECRETS_KEY: &str = "YW5zd2VycGFsLWxvY2FsLWRldmVsb3BtZW50LWtleSE=";
const DEFAULT_TABLE: &str = "end-users-local";
const DEFAULT_PORT: u16 = 3000;
const TOKEN_HOURS: i64 = 24;

/// `CRM_ALLOW_LOOPBACK=true` lets the CRM connector reach loopback over plain `http` (SPEC 10),
/// for a CRM of one's own on this machine; off by default, and read by this server only.
fn connector_policy() -> Result<ConnectorPolicy, String> {
    match std::env::var("CRM_ALLOW_LOOPBACK").as_deref() {
        Err(_) | Ok("") | Ok("false") => Ok(ConnectorPolicy::PublicOnly),
        Ok("true") => Ok(ConnectorPolicy::AllowLoopback),
        Ok(other) => Err(format!(
            "CRM_ALLOW_LOOPBACK must be true or false, not {other:?}"
        )),
    }
}

/// `CRM_OFFLINE=true` keeps the CRM connector on this machine: it resolves no name and connects
/// to loopback only (the fuzzer's server, which saves whatever `apiBaseUrl` it makes up).
fn crm_client(policy: ConnectorPolicy) -> Result<CrmClient, String> {
    match std::env::var("CRM_OFFLINE").as_deref() {
        Err(_) | Ok("") | Ok("false") => Ok(CrmClient::new(policy)),
        Ok("true") => Ok(CrmClient::offline(policy)),
        Ok(other) => Err(format!("CRM_OFFLINE must be true or false, not {other:?}")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::from_env()?;
    init_text_logs(&settings);
    // The development defaults, on top of what the environment says.
    let development = !settings.jwt.has_key();
    if development {
        settings.jwt.secret = Some(Secret::new(DEVELOPMENT_SECRET));
    }
    let development_key =
        settings.secrets.kms_key_id.is_none() && settings.secrets.local_key.is_none();
    if development_key {
        settings.secrets.local_key = Some(Secret::new(DEVELOPMENT_SECRETS_KEY));
    }
    settings
        .table_name
        .get_or_insert_with(|| DEFAULT_TABLE.into());
    let port = settings.port.unwrap_or(DEFAULT_PORT);

    let (mut resources, store) = Resources::local(&settings).await?;
    // The outbox items' events feed sync on contact, as the stream does deployed.
    let (tapped, announced) = OutboxTap::new(resources.table);
    resources.table = Arc::new(tapped);
    let vault = Arc::new(Vault::from_settings(&settings)?);
    let suppressions = Arc::new(Suppressions::from_settings(&settings)?);
    let policy = connector_policy()?;
    let crm = crm_client(policy)?;
    let syncer = ContactSyncer {
        table: Arc::clone(&resources.table),
        vault: Arc::clone(&vault),
        suppressions: Arc::clone(&suppressions),
        crm: crm.clone(),
    };
    resources.vault = Some(vault);
    resources.suppressions = Some(suppressions);
    let resources = resources.with_crm(policy, crm);
    let auth = Authenticator::new(&settings.jwt)?;
    let api = mount_all(Api::new(auth, settings.public_base_url.clone()), &resources)?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let url = format!("http://{}", listener.local_addr()?);

    println!("End Users API on {url}, storing in {store}");
    if development {
        let token = hs256_token(DEVELOPMENT_SECRET, 1, TOKEN_HOURS * 3600)?;
        println!("JWT_SECRET is not set: tokens are checked against the development secret");
        println!("  {DEVELOPMENT_SECRET}");
        println!("A token for customerID 1, valid {TOKEN_HOURS} hours:");
        println!("  {token}");
        println!("Try:");
        println!("  curl -s -H 'Authorization: Bearer {token}' {url}/api/EndUsers");
    }
    if development_key {
        println!(
            "SECRETS_LOCAL_KEY is not set: tenant secrets are sealed with the development key"
        );
        println!("  {DEVELOPMENT_SECRETS_KEY}");
    }
    let table = Arc::clone(&resources.table);
    tokio::spawn(answerpal_local::erase_in_background(
        table,
        answerpal_local::ERASURE_EVERY,
    ));
    tokio::spawn(contact_sync::sync_in_background(
        announced,
        syncer,
        &contact_sync::LOCAL_WAITS,
    ));
    answerpal_local::serve(listener, Arc::new(api), Limits::default()).await;
    Ok(())
}
