//! Test support shared by the API suite (`tests/`) and the benchmark (`bench/`): a local
//! DynamoDB-compatible server (moto, started once per process) with fresh tables on it, the whole
//! API in process on either store, and seed data written through the store code the services use.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use answerpal::config::{DynamoSettings, JwtSettings};
use answerpal::crm::CrmClient;
use answerpal::domain::Secret;
use answerpal::domain::customer::ConnectorPolicy;
use answerpal::families::mount_all;
use answerpal::http::Api;
use answerpal::http::auth::{Authenticator, hs256_token, sign_hs256};
use answerpal::http::signature;
use answerpal::runtime::Resources;
use answerpal::store::Table;
use answerpal::store::dynamodb::{self, CallCounter, DynamoTable};
use answerpal::store::memory::MemoryTable;
use answerpal::vault::Vault;
use answerpal::vault::kms::KmsKeys;
use answerpal::vault::kms_api::KmsApi;
use answerpal::vault::kms_mac::KmsMac;
use answerpal::vault::local::LocalKeys;
use answerpal::vault::suppression::Suppressions;
use lambda_http::http::HeaderMap;

pub mod conformance;
mod consistency;
mod contacts;
mod fake_crm;
mod faults;
mod interleave;
mod reads;
mod seeds;

pub use consistency::assert_consistent;
pub use contacts::{contact_syncer, queued};
pub use fake_crm::{CrmAnswer, CrmRequest, FakeCrm};
pub use faults::{Fault, FaultyTable};
pub use interleave::{
    Interleaved, Racer, Trigger, erases_messages, puts_customer_ref, puts_end_user, puts_message,
    puts_timeline, puts_tombstone, puts_uid_index,
};
use lambda_http::{Body, Request};
pub use reads::CountingReads;
pub use seeds::{
    seed_example_channels, seed_example_duplicate, seed_example_end_user, seed_example_merge,
    seed_example_secrets, seed_example_ticket, seed_example_unlinked, store_new_end_user,
};
use serde_json::Value;

/// moto's child process (kept so its stdin stays open while tests run) and its endpoint.
static MOTO: OnceLock<(Child, String)> = OnceLock::new();

fn start_moto() -> (Child, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let python =
        std::env::var("MOTO_PYTHON").unwrap_or_else(|_| format!("{root}/.venv/bin/python"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/moto_server.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start moto with {python} ({e}); run scripts/test.sh once to install it")
        });
    let stdout = child.stdout.take().expect("moto stdout is piped");
    let mut port = String::new();
    BufReader::new(stdout)
        .read_line(&mut port)
        .expect("moto prints its port");
    let port = port.trim();
    assert!(!port.is_empty(), "moto exited before printing its port");
    (child, format!("http://127.0.0.1:{port}"))
}

/// `DYNAMODB_ENDPOINT` when set, otherwise a moto server started for this test process.
pub fn dynamodb_endpoint() -> String {
    match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => MOTO.get_or_init(start_moto).1.clone(),
    }
}

/// A new, empty table on the local DynamoDB-compatible server, and the counter of its calls.
pub async fn fresh_dynamo_table() -> (DynamoTable, CallCounter) {
    let counter = CallCounter::default();
    let settings = DynamoSettings::local(&dynamodb_endpoint());
    let client = dynamodb::client(&settings, Some(counter.clone()));
    let name = format!("test-{:016x}", fastrand::u64(..));
    let table = DynamoTable::new(client, name);
    table
        .create_if_missing()
        .await
        .expect("create the test table");
    (table, counter)
}

/// The secret the suites sign their HS256 tokens with.
pub const TEST_SECRET: &str = "api-test-secret";
/// The request deadline of the API on moto ([`TestApi::dynamodb`]).
pub const MOTO_DEADLINE: Duration = Duration::from_secs(30);

/// The local key tenant secrets are sealed with on the embedded table (32 bytes, base64).
pub const TEST_SECRETS_KEY: &str = "dGVzdC1zZWNyZXRzLWtleS0zMi1ieXRlcy1sb25nISE=";

/// A vault on the local key service, [`TEST_SECRETS_KEY`].
pub fn local_vault() -> Vault {
    Vault::new(LocalKeys::from_base64(&Secret::new(TEST_SECRETS_KEY)).expect("the test key"))
}

/// Suppression digests under the local key, [`TEST_SECRETS_KEY`] (every store of the suites:
/// a wrapped or interleaved API digests as the one it wraps).
pub fn local_suppressions() -> Suppressions {
    Suppressions::new(LocalKeys::from_base64(&Secret::new(TEST_SECRETS_KEY)).expect("the test key"))
}

/// A new HMAC key on the local server's KMS and the suppressions on it.
pub async fn kms_suppressions() -> Suppressions {
    let body = serde_json::json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"});
    let key = create_kms_key(&body).await;
    Suppressions::new(KmsMac::new(local_kms(), &key))
}

/// A vault on another local key than [`TEST_SECRETS_KEY`]: secrets sealed under that one do
/// not open.
pub fn replaced_local_vault() -> Vault {
    let other = "b3RoZXItc2VjcmV0cy1rZXktMzItYnl0ZXMtbG9uZyE=";
    Vault::new(LocalKeys::from_base64(&Secret::new(other)).expect("the other test key"))
}

/// The local server's KMS.
fn local_kms() -> KmsApi {
    let endpoint = dynamodb_endpoint();
    KmsApi::new(&DynamoSettings::local(&endpoint), Some(&endpoint))
}

/// A new KMS key on the local server, as `body` asks (`CreateKey`): its id.
async fn create_kms_key(body: &serde_json::Value) -> String {
    let created = local_kms()
        .call("CreateKey", body)
        .await
        .expect("create a KMS key on the local server");
    let key = created["KeyMetadata"]["KeyId"].as_str();
    key.expect("the new key's id").to_owned()
}

/// A new KMS key on the local server and a vault on it; the key's id.
pub async fn kms_key() -> (Vault, String) {
    let key = create_kms_key(&serde_json::json!({"Description": "answerpal test key"})).await;
    let vault = Vault::new(KmsKeys::new(local_kms(), key.clone()));
    (vault, key)
}

/// Disables KMS key `key` on the local server: what it sealed no longer opens.
pub async fn disable_kms_key(key: &str) {
    local_kms()
        .call("DisableKey", &serde_json::json!({"KeyId": key}))
        .await
        .expect("disable the KMS key");
}

/// A vault whose data keys come from a new KMS key on the local server (moto's KMS), so the
/// suites run the KMS adapter over its wire protocol.
pub async fn kms_vault() -> Vault {
    kms_key().await.0
}

/// The whole API, in process, on one store.
pub struct TestApi {
    api: Api,
    table: Arc<dyn Table>,
    /// DynamoDB calls made so far, on the DynamoDB store.
    calls: Option<CallCounter>,
    /// The concrete store, to read its raw items.
    raw: Raw,
}

/// A store whose every raw item a test can read.
#[derive(Clone)]
enum Raw {
    Embedded(Arc<MemoryTable>),
    Dynamo(Arc<DynamoTable>),
    Unknown,
}

/// A response, its body read as JSON (`Null` when empty).
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn token(customer_id: u64) -> String {
    hs256_token(TEST_SECRET, customer_id, 3600).expect("sign a test token")
}

/// A token of `customer_id` for the desk user `sub`.
pub fn agent_token(customer_id: u64, sub: &str) -> String {
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let claims = serde_json::json!({ "customerID": customer_id, "sub": sub, "exp": exp });
    sign_hs256(TEST_SECRET, &claims).expect("sign an agent token")
}

/// A phone-auth token of `customer_id` (`auth: "phone"`), naming `channel_id` when given.
pub fn phone_token(customer_id: u64, channel_id: Option<u64>) -> String {
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let mut claims = serde_json::json!({ "customerID": customer_id, "auth": "phone", "exp": exp });
    if let Some(channel) = channel_id {
        claims["channelID"] = channel.into();
    }
    sign_hs256(TEST_SECRET, &claims).expect("sign a phone-auth token")
}

/// Every family on `table` with `vault`, tokens verified as `jwt` says.
pub fn api_on(table: Arc<dyn Table>, vault: Vault, jwt: &JwtSettings) -> Api {
    api_with(Resources::new(table).with_vault(vault), jwt)
}

/// Every family on `resources` (with the suites' suppression key), tokens verified as `jwt`
/// says.
fn api_with(resources: Resources, jwt: &JwtSettings) -> Api {
    let auth = Authenticator::new(jwt).expect("test auth settings");
    // A connector that cannot send anything off this machine, on the resources' policy.
    let policy = resources.connector;
    let resources = resources
        .with_suppressions(local_suppressions())
        .with_crm(policy, CrmClient::offline(policy));
    mount_all(Api::new(auth, None), &resources).expect("every family mounts")
}

impl TestApi {
    fn on(table: Arc<dyn Table>, vault: Vault, calls: Option<CallCounter>, raw: Raw) -> Self {
        TestApi {
            api: api_on(table.clone(), vault, &JwtSettings::with_secret(TEST_SECRET)),
            table,
            calls,
            raw,
        }
    }

    /// Every item the store holds, as a copy of the table would show it (only for the stores
    /// [`TestApi::memory`] and [`TestApi::dynamodb`] make, and those they were given to).
    pub async fn raw_items(&self) -> Vec<answerpal::store::Item> {
        match &self.raw {
            Raw::Embedded(table) => table.snapshot().expect("the embedded table's items"),
            Raw::Dynamo(table) => table.snapshot().await.expect("a scan of the table"),
            Raw::Unknown => panic!("this TestApi's store cannot be scanned"),
        }
    }

    /// The whole API on `wrap` (a racing or failing table over this one's store), every request
    /// cut off after `deadline`; its raw items are this one's.
    pub fn wrapped(&self, wrap: Arc<dyn Table>, deadline: Duration) -> Self {
        TestApi {
            raw: self.raw.clone(),
            ..Self::with_table(wrap, deadline)
        }
    }

    /// The whole API over an [`Interleaved`] store on this one's, for races landed between a
    /// writer's reads and its write (requests cut off after 30 s); its raw items are this one's.
    pub fn interleaved(&self) -> (Arc<Interleaved>, Arc<TestApi>) {
        let table = Arc::new(Interleaved::new(self.table().clone()));
        let api = Arc::new(self.wrapped(table.clone(), Duration::from_secs(30)));
        (table, api)
    }

    /// The whole API on this one's store as the local server runs it with
    /// `CRM_ALLOW_LOOPBACK=true` (SPEC 10); its raw items are this one's.
    pub fn allowing_crm_loopback(&self) -> Self {
        let resources = Resources::new(self.table.clone())
            .with_vault(local_vault())
            .with_connector(ConnectorPolicy::AllowLoopback);
        TestApi {
            api: api_with(resources, &JwtSettings::with_secret(TEST_SECRET)),
            table: self.table.clone(),
            calls: self.calls.clone(),
            raw: self.raw.clone(),
        }
    }

    /// The whole API on `table` with tenant secrets in `vault`.
    pub fn with_vault(table: Arc<dyn Table>, vault: Vault) -> Self {
        Self::on(table, vault, None, Raw::Unknown)
    }

    /// The whole API on `table`, every request cut off after `deadline`.
    pub fn with_table(table: Arc<dyn Table>, deadline: Duration) -> Self {
        TestApi {
            api: api_on(
                table.clone(),
                local_vault(),
                &JwtSettings::with_secret(TEST_SECRET),
            )
            .with_deadline(deadline),
            table,
            calls: None,
            raw: Raw::Unknown,
        }
    }

    /// The store the API writes to, for checks that read it directly.
    pub fn table(&self) -> &Arc<dyn Table> {
        &self.table
    }

    /// The embedded table, secrets under the local key.
    pub async fn memory() -> Self {
        let table = Arc::new(MemoryTable::new());
        Self::on(table.clone(), local_vault(), None, Raw::Embedded(table))
    }

    /// A fresh table on the local DynamoDB-compatible server, secrets under a KMS key there.
    /// Requests get [`MOTO_DEADLINE`] rather than the functions' deadline: moto, one Python
    /// process serving every suite at once, takes tens of milliseconds a call where DynamoDB
    /// takes a few (the deadline's own tests set theirs).
    pub async fn dynamodb() -> Self {
        let (table, calls) = fresh_dynamo_table().await;
        let table = Arc::new(table);
        let mut api = Self::on(
            table.clone(),
            kms_vault().await,
            Some(calls),
            Raw::Dynamo(table),
        );
        api.api = api.api.with_deadline(MOTO_DEADLINE);
        api
    }

    /// DynamoDB calls made so far (0 on the embedded table).
    pub fn call_count(&self) -> u64 {
        self.calls.as_ref().map_or(0, CallCounter::get)
    }

    /// Sends a request as `tenant` (no Authorization header for `None`) with a JSON body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        tenant: Option<u64>,
        body: Option<Value>,
    ) -> TestResponse {
        self.send_with(method, path, tenant.map(token), body).await
    }

    /// Sends a request with bearer token `bearer` (none for `None`) and a JSON body.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        bearer: Option<String>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = lambda_http::http::Request::builder()
            .method(method)
            .uri(path);
        if let Some(bearer) = bearer {
            builder = builder.header("authorization", format!("Bearer {bearer}"));
        }
        let body = match body {
            Some(json) => {
                builder = builder.header("content-type", "application/json");
                Body::Text(json.to_string())
            }
            None => Body::Empty,
        };
        self.raw(builder.body(body).expect("valid request")).await
    }

    /// `method` on `path` as `tenant` with `headers` and a JSON `body` (none for `Null`).
    pub async fn with_headers(
        &self,
        method: &str,
        path: &str,
        tenant: u64,
        headers: &[(&str, &str)],
        body: Value,
    ) -> TestResponse {
        let mut request = lambda_http::http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", token(tenant)));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = if body.is_null() {
            Body::Empty
        } else {
            request = request.header("content-type", "application/json");
            Body::Text(body.to_string())
        };
        self.raw(request.body(body).expect("a request")).await
    }

    /// Sends `request` and checks the response against the OpenAPI document
    /// ([`conformance::check`]).
    pub async fn raw(&self, request: Request) -> TestResponse {
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let response = self.api.handle(request).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes: &[u8] = response.body().as_ref();
        let xml = headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes() == b"text/xml");
        let body = if bytes.is_empty() {
            Value::Null
        } else if xml {
            Value::String(String::from_utf8_lossy(bytes).into_owned())
        } else {
            serde_json::from_slice(bytes).expect("every response body is JSON")
        };
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
        conformance::check(&method, &path, status, content_type, &body);
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, tenant: u64) -> TestResponse {
        self.send("GET", path, Some(tenant), None).await
    }

    pub async fn post(&self, path: &str, tenant: u64, body: Value) -> TestResponse {
        self.send("POST", path, Some(tenant), Some(body)).await
    }

    pub async fn put(&self, path: &str, tenant: u64, body: Value) -> TestResponse {
        self.send("PUT", path, Some(tenant), Some(body)).await
    }

    pub async fn delete(&self, path: &str, tenant: u64) -> TestResponse {
        self.send("DELETE", path, Some(tenant), None).await
    }

    /// Posts `params` to the Twilio webhook of `tenant`'s channel, signed with `auth_token` as
    /// Twilio signs (over `http://localhost` + path: the URL the API sees in process).
    pub async fn twilio(
        &self,
        tenant: u64,
        channel: u64,
        params: &[(&str, &str)],
        auth_token: &str,
    ) -> TestResponse {
        let path = format!("/webhooks/twilio/{tenant}/{channel}");
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let signature =
            signature::twilio_signature(auth_token, &format!("http://localhost{path}"), &params);
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let request = lambda_http::http::Request::builder()
            .method("POST")
            .uri(&path)
            .header("host", "localhost")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(Body::Text(body))
            .expect("a Twilio request");
        self.raw(request).await
    }

    /// Posts `body` to the `kind` (`email`, `webchat`) webhook of `tenant`'s channel, signed with
    /// `secret` as `X-Webhook-Signature`.
    pub async fn signed_webhook(
        &self,
        kind: &str,
        tenant: u64,
        channel: u64,
        body: &Value,
        secret: &str,
    ) -> TestResponse {
        let body = body.to_string();
        let request = lambda_http::http::Request::builder()
            .method("POST")
            .uri(format!("/webhooks/{kind}/{tenant}/{channel}"))
            .header("content-type", "application/json")
            .header(
                "x-webhook-signature",
                signature::sha256_header(secret, body.as_bytes()),
            )
            .body(Body::Text(body))
            .expect("a webhook request");
        self.raw(request).await
    }

    /// Creates an end user and returns its read DTO; panics unless 201.
    pub async fn create(&self, tenant: u64, body: Value) -> Value {
        let response = self.post("/api/EndUsers", tenant, body).await;
        assert_eq!(response.status, 201, "create failed: {:?}", response.body);
        response.body
    }
}
