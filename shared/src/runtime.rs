//! Process set-up shared by the transports: logging, the clients built once, and the run
//! function every Lambda's `main.rs` hands its family to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, LambdaEvent, Request, lambda_runtime, service_fn};
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::bus::EventBridge;
use crate::config::{ConfigError, Settings};
use crate::crm::CrmClient;
use crate::domain::Timestamp;
use crate::domain::customer::ConnectorPolicy;
use crate::http::Api;
use crate::http::auth::{Authenticator, NoTokens, Tokens};
use crate::http::cursor::CursorKey;
use crate::http::router::Family;
use crate::service::contact_sync::ContactSyncer;
use crate::service::{change_events, contact_sync, erasure, retention};
use crate::store::dynamodb::{self, Connection, DynamoTable, RecreatingTable};
use crate::store::memory::MemoryTable;
use crate::store::{StoreError, Table};
use crate::vault::Vault;
use crate::vault::suppression::Suppressions;

/// What a process builds once and its families share.
#[derive(Clone)]
pub struct Resources {
    pub table: Arc<dyn Table>,
    /// Seals and opens tenant secrets, for the families that keep or read them.
    pub vault: Option<Arc<Vault>>,
    /// Signs the cursors of cursor-paged lists.
    pub cursors: CursorKey,
    /// The suppression digests (SPEC 9), for the families that link or erase addresses.
    pub suppressions: Option<Arc<Suppressions>>,
    /// Where the CRM connector may connect (SPEC 10): public addresses, unless the local server
    /// allows loopback.
    pub connector: ConnectorPolicy,
    /// The CRM connector, on that policy, when one is set (only the sync's function and the
    /// local server link one).
    pub crm: Option<CrmClient>,
}

impl Resources {
    /// `table`, with a cursor key of this process only (the suites').
    pub fn new(table: Arc<dyn Table>) -> Self {
        let material: Vec<u8> = (0..32).map(|_| fastrand::u8(..)).collect();
        Resources {
            table,
            vault: None,
            cursors: CursorKey::derived_from(&material),
            suppressions: None,
            connector: ConnectorPolicy::PublicOnly,
            crm: None,
        }
    }

    /// Cursors signed with the deployment's key, so that every instance opens them.
    fn with_cursors_of(mut self, settings: &Settings) -> Self {
        self.cursors = CursorKey::from_jwt(&settings.jwt);
        self
    }

    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = Some(Arc::new(vault));
        self
    }

    pub fn with_suppressions(mut self, suppressions: Suppressions) -> Self {
        self.suppressions = Some(Arc::new(suppressions));
        self
    }

    /// The CRM connector on `connector`'s policy, resolving names with the system's resolver.
    pub fn with_connector(mut self, connector: ConnectorPolicy) -> Self {
        self.connector = connector;
        self.crm = Some(CrmClient::new(connector));
        self
    }

    /// `crm` as the CRM connector (one on `crm`'s own policy: [`CrmClient::offline`]).
    pub fn with_crm(mut self, connector: ConnectorPolicy, crm: CrmClient) -> Self {
        self.connector = connector;
        self.crm = Some(crm);
        self
    }

    /// The DynamoDB table `table_name`, at `DYNAMODB_ENDPOINT` when set, with what opens its
    /// connection ahead of the first call.
    pub fn dynamodb(settings: &Settings, table_name: &str) -> (Self, Connection) {
        let (client, connection) = dynamodb::connect(&settings.dynamodb, None);
        let resources = Self::new(Arc::new(DynamoTable::new(client, table_name)));
        (resources.with_cursors_of(settings), connection)
    }

    /// The local server's store: the DynamoDB endpoint of the settings (its table created when
    /// missing, also when it disappears while the server runs), or else the embedded table. Returns a description for the start-up banner.
    pub async fn local(settings: &Settings) -> Result<(Self, String), StoreError> {
        let (Some(endpoint), Some(name)) = (&settings.dynamodb.endpoint, &settings.table_name)
        else {
            let description = "the embedded table (data lives until the server stops)".into();
            let resources = Self::new(Arc::new(MemoryTable::new())).with_cursors_of(settings);
            return Ok((resources, description));
        };
        let client = dynamodb::client(&settings.dynamodb, None);
        let table = RecreatingTable::new(DynamoTable::new(client, name)).await?;
        let description = format!("DynamoDB table {name} at {endpoint}");
        let resources = Self::new(Arc::new(table)).with_cursors_of(settings);
        Ok((resources, description))
    }
}

/// `RUST_LOG` as a level and target filter (`info`, `warn,answerpal=debug`); `info` when unset
/// or unreadable.
fn log_filter(settings: &Settings) -> Targets {
    settings
        .log_filter
        .as_deref()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO))
}

/// Logs as JSON lines, as CloudWatch indexes them (Lambda adds the time itself). Each line is
/// formatted on the request's thread and written to stdout with one `write`: Lambda drains stdout
/// as it comes, and a writer thread cost each invoke more CPU than the write it saved
/// (docs/decisions.md, Performance).
pub fn init_json_logs(settings: &Settings) {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .json()
        .with_current_span(false)
        .without_time()
        .with_writer(std::io::stdout)
        .finish()
        .with(log_filter(settings));
    // An error means a subscriber is set already (tests, repeated set-up), which stays.
    drop(subscriber.try_init());
}

/// Logs as text for a terminal (the local server).
pub fn init_text_logs(settings: &Settings) {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .with_target(false)
        .finish()
        .with(log_filter(settings));
    drop(subscriber.try_init());
}

/// Opens the store's connection (DNS, TCP, TLS handshake) during init, so the first invoke does
/// not wait for it; no DynamoDB operation. A failure only means the first invoke connects.
async fn warm_up(connection: &Connection) {
    let started = std::time::Instant::now();
    match connection.open().await {
        Ok(()) => tracing::info!(
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "store connection opened"
        ),
        Err(error) => tracing::warn!(%error, "opening the store connection failed"),
    }
}

/// Runs a Lambda serving the family `make` builds from the settings and resources: settings
/// from the environment, JSON logs, JWT keys and the DynamoDB table `TABLE_NAME`, each built once;
/// refuses to start without them (or without what `make` needs).
pub async fn run_lambda<F: Family>(
    make: impl FnOnce(&Settings, &Resources) -> Result<F, ConfigError>,
) -> Result<(), lambda_http::Error> {
    run_with_tokens(|settings| Authenticator::new(&settings.jwt), make).await
}

/// [`run_lambda`] for a family whose routes take no bearer token (the webhooks, signed by their
/// providers): no JWT keys are read, and the JWT code is left out of its binary.
pub async fn run_signed_lambda<F: Family>(
    make: impl FnOnce(&Settings, &Resources) -> Result<F, ConfigError>,
) -> Result<(), lambda_http::Error> {
    run_with_tokens(|_| Ok(NoTokens), make).await
}

async fn run_with_tokens<T: Tokens + 'static, F: Family>(
    tokens: impl FnOnce(&Settings) -> Result<T, ConfigError>,
    make: impl FnOnce(&Settings, &Resources) -> Result<F, ConfigError>,
) -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    init_json_logs(&settings);
    let auth = tokens(&settings)?;
    let table_name = settings.required_table_name()?;
    let (resources, connection) = Resources::dynamodb(&settings, table_name);
    if settings.warm_store_at_init {
        warm_up(&connection).await;
    }
    let family = make(&settings, &resources)?;
    serve(&Api::new(auth, settings.public_base_url.clone()).mount(family)).await
}

/// Runs a Lambda serving `family`, which needs no store (the OpenAPI document): settings, JSON
/// logs and JWT keys, and no AWS client.
pub async fn run_storeless_lambda<F: Family>(family: F) -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    init_json_logs(&settings);
    let auth = Authenticator::new(&settings.jwt)?;
    serve(&Api::new(auth, settings.public_base_url.clone()).mount(family)).await
}

/// The Lambda runtime's loop over `api`.
async fn serve(api: &Api) -> Result<(), lambda_http::Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<LambdaRequest>| async move {
        Ok::<_, lambda_http::Error>(invoke(api, event.payload).await)
    }))
    .await
}

/// One invocation as API Gateway's HTTP API (payload format 2.0) sends and expects it.
/// `lambda_http::run` would re-read every response body to guess its text encoding (which links
/// encoding_rs, 155 KB, and copies the body); the API's bodies are UTF-8 text or empty already.
pub async fn invoke(api: &Api, event: LambdaRequest) -> ApiGatewayV2httpResponse {
    let (parts, body) = api.handle(Request::from(event)).await.into_parts();
    let mut reply = ApiGatewayV2httpResponse::default();
    reply.status_code = i64::from(parts.status.as_u16());
    reply.is_base64_encoded = matches!(body, Body::Binary(_));
    reply.body = match body {
        Body::Empty => None,
        body => Some(body),
    };
    reply.headers = parts.headers;
    reply
}

/// Time the sweep leaves itself before the invocation's deadline, to finish its last write.
const SWEEP_MARGIN: Duration = Duration::from_secs(20);

/// When a sweep invoked with `deadline` (epoch milliseconds) stops starting new work.
fn sweep_stops_at(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + left.saturating_sub(SWEEP_MARGIN)
}

/// Runs `job` on every scheduled event of the function `name`: settings from the environment,
/// JSON logs and the DynamoDB table `TABLE_NAME`, each built once; each run stops starting new
/// work 20 s before the invocation's deadline, and answers (and logs) what it did.
async fn run_scheduled<T, E, F, Fut>(name: &'static str, job: F) -> Result<(), lambda_http::Error>
where
    T: serde::Serialize,
    E: std::fmt::Display,
    F: Fn(Arc<dyn Table>, Instant) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let settings = Settings::from_env()?;
    init_json_logs(&settings);
    let table_name = settings.required_table_name()?;
    let (resources, _) = Resources::dynamodb(&settings, table_name);
    let job = &job;
    let table = &resources.table;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move {
            let stop_at = sweep_stops_at(event.context.deadline);
            let done = job(Arc::clone(table), stop_at)
                .await
                .map_err(|error| lambda_http::Error::from(error.to_string()))?;
            let done = serde_json::to_value(done)?;
            tracing::info!(job = name, done = %done, "scheduled job ran");
            Ok::<_, lambda_http::Error>(done)
        },
    ))
    .await
}

/// Runs the retention sweep (`service::retention`) on every scheduled event.
pub async fn run_retention() -> Result<(), lambda_http::Error> {
    run_scheduled("retention", |table, stop_at| async move {
        retention::sweep(table.as_ref(), Timestamp::now(), stop_at).await
    })
    .await
}

/// Works through pending erasure jobs (`service::erasure`) on every scheduled event.
pub async fn run_erasure() -> Result<(), lambda_http::Error> {
    run_scheduled("erasure", |table, stop_at| async move {
        erasure::run(table.as_ref(), stop_at).await
    })
    .await
}

/// Publishes the change events of the outbox items the table's stream hands over
/// (`service::change_events`): settings from the environment, JSON logs and the EventBridge
/// client of `EVENT_BUS_NAME`, built once; each batch answers the first record not published.
pub async fn run_change_events() -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    init_json_logs(&settings);
    let bus = settings
        .event_bus_name
        .as_deref()
        .ok_or(ConfigError::Missing("EVENT_BUS_NAME"))?;
    let publisher = EventBridge::new(&settings.dynamodb, bus);
    let publisher = &publisher;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move {
            let answer = change_events::publish(publisher, event.payload)
                .await
                .map_err(lambda_http::Error::from)?;
            Ok::<_, lambda_http::Error>(serde_json::to_value(answer)?)
        },
    ))
    .await
}

/// Syncs the end users webhooks created (`service::contact_sync`) from the queued change
/// events: settings, JSON logs, the table, vault, suppressions and a connector to public
/// addresses only, built once; each batch answers the messages to deliver again.
pub async fn run_contact_sync() -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    init_json_logs(&settings);
    let table_name = settings.required_table_name()?;
    let (resources, _) = Resources::dynamodb(&settings, table_name);
    let syncer = ContactSyncer {
        table: resources.table,
        vault: Arc::new(Vault::from_settings(&settings)?),
        suppressions: Arc::new(Suppressions::from_settings(&settings)?),
        crm: CrmClient::new(ConnectorPolicy::PublicOnly),
    };
    let connector = syncer.connector();
    let (table, connector) = (syncer.table.as_ref(), &connector);
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move {
            let answer = contact_sync::handle_queued(table, connector, event.payload)
                .await
                .map_err(lambda_http::Error::from)?;
            Ok::<_, lambda_http::Error>(serde_json::to_value(answer)?)
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch_ms() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    #[test]
    fn the_sweep_stops_its_margin_before_the_invocations_deadline() {
        let before = Instant::now();
        let stop = sweep_stops_at(epoch_ms() + 300_000);
        let left = stop.saturating_duration_since(before);
        // 300 s less the margin, give or take the clock's milliseconds and this test's time.
        let expected = Duration::from_secs(280);
        assert!(left.abs_diff(expected) < Duration::from_secs(1), "{left:?}");
        // A deadline already past, or closer than the margin: no time to start anything.
        for deadline in [0, epoch_ms() + 5_000] {
            assert!(sweep_stops_at(deadline) <= Instant::now());
        }
    }
}
