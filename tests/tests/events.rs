//! Every committed API Gateway event goes through the real handler of its function (on the
//! embedded table holding the example end user), as the Lambda runtime hands it over and takes
//! the answer back, and gets the status its manifest expects.

use std::collections::BTreeSet;
use std::sync::Arc;

use answerpal::config::JwtSettings;
use answerpal::crm::CrmClient;
use answerpal::domain::Secret;
use answerpal::domain::customer::ConnectorPolicy;
use answerpal::families::{
    CrmSync, Customers, EndUserUids, EndUsers, Hygiene, Imports, Lifecycle, OpenApi, Tickets,
    Timeline, Webhooks,
};
use answerpal::http::Api;
use answerpal::http::auth::Authenticator;
use answerpal::http::cursor::CursorKey;
use answerpal::runtime;
use answerpal::service::contact_sync::{self, ContactSyncer};
use answerpal::store::Table;
use answerpal::store::memory::MemoryTable;
use answerpal::vault::Vault;
use answerpal::vault::local::LocalKeys;
use answerpal::vault::suppression::Suppressions;
use lambda_http::request::LambdaRequest;
use serde_json::Value;

const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
const TEMPLATE: &str = include_str!("../../template.yaml");
/// The secret the events' tokens are signed with (see events/README.md).
const EVENTS_SECRET: &str = "events-local-secret";

fn manifest() -> Vec<Value> {
    let text =
        std::fs::read_to_string(format!("{EVENTS}/manifest.json")).expect("events/manifest.json");
    serde_json::from_str::<Vec<Value>>(&text).expect("manifest is a JSON array")
}

/// The local key `env.json` gives `function`'s `SECRETS_LOCAL_KEY`.
fn events_local_key(function: &str) -> LocalKeys {
    let text = std::fs::read_to_string(format!("{EVENTS}/env.json")).expect("events/env.json");
    let env: Value = serde_json::from_str(&text).expect("env.json is JSON");
    let key = env[function]["SECRETS_LOCAL_KEY"]
        .as_str()
        .unwrap_or_else(|| panic!("a local key for {function}"));
    LocalKeys::from_base64(&Secret::new(key)).expect("a valid key")
}

/// The vault of `env.json`'s local key, as `sam local invoke` runs the customers function.
fn events_vault() -> Vault {
    Vault::new(events_local_key("CustomersFunction"))
}

/// The suppressions of `env.json`'s local key, as `sam local invoke` runs the functions that
/// link or erase addresses.
fn events_suppressions() -> Arc<Suppressions> {
    Arc::new(Suppressions::new(events_local_key("EndUsersFunction")))
}

/// The API as the Lambda `function` of template.yaml builds it: its own family only.
fn function_api(function: &str, table: Arc<dyn Table>) -> Api {
    let auth = Authenticator::new(&JwtSettings::with_secret(EVENTS_SECRET)).expect("auth");
    let api = Api::new(auth, None);
    match function {
        "EndUsersFunction" => api.mount(EndUsers::new(
            table,
            CursorKey::derived_from(EVENTS_SECRET.as_bytes()),
            events_suppressions(),
        )),
        "EndUserImportsFunction" => api.mount(Imports::new(table, events_suppressions())),
        "EndUserLifecycleFunction" => api.mount(Lifecycle::new(table, events_suppressions())),
        "EndUserHygieneFunction" => api.mount(Hygiene::new(table)),
        "EndUserTimelineFunction" => api.mount(Timeline::new(
            table,
            CursorKey::derived_from(EVENTS_SECRET.as_bytes()),
        )),
        "EndUserUidsFunction" => api.mount(EndUserUids::new(table, events_suppressions())),
        "OpenApiFunction" => api.mount(OpenApi),
        "CustomersFunction" => api.mount(Customers::new(table, Arc::new(events_vault()))),
        "TicketsFunction" => api.mount(Tickets::new(
            table,
            CursorKey::derived_from(EVENTS_SECRET.as_bytes()),
        )),
        "EndUserSyncFunction" => api.mount(CrmSync::new(
            table,
            Arc::new(events_vault()),
            events_suppressions(),
            CrmClient::new(ConnectorPolicy::PublicOnly),
        )),
        "WebhooksFunction" => api.mount(Webhooks::new(
            table,
            Arc::new(events_vault()),
            events_suppressions(),
        )),
        other => panic!("unknown function {other} in events/manifest.json"),
    }
}

#[tokio::test]
async fn every_event_gets_its_expected_status() {
    for entry in manifest() {
        let file = entry["event"].as_str().expect("event file");
        let function = entry["function"].as_str().expect("function");
        let expected = entry["status"].as_u64().expect("status");
        assert!(
            TEMPLATE.contains(&format!("  {function}:")),
            "{function} is not in template.yaml"
        );

        let table = Arc::new(MemoryTable::new());
        answerpal_testkit::seed_example_end_user(table.as_ref()).await;
        answerpal_testkit::seed_example_channels(table.as_ref()).await;
        answerpal_testkit::seed_example_ticket(table.as_ref()).await;
        answerpal_testkit::seed_example_merge(table.as_ref()).await;
        answerpal_testkit::seed_example_duplicate(table.as_ref()).await;
        answerpal_testkit::seed_example_unlinked(table.as_ref()).await;
        answerpal_testkit::seed_example_secrets(table.as_ref(), &events_vault()).await;
        let api = function_api(function, table);

        let text = std::fs::read_to_string(format!("{EVENTS}/{file}")).expect("event file");
        let event: Value = serde_json::from_str(&text).expect("event is JSON");
        let request: LambdaRequest =
            serde_json::from_str(&text).expect("an API Gateway HTTP API event");
        let reply = serde_json::to_value(runtime::invoke(&api, request).await).expect("reply");
        assert_eq!(
            reply["statusCode"].as_u64(),
            Some(expected),
            "{file}: {reply}"
        );
        assert_eq!(
            reply["headers"]["x-request-id"].as_str(),
            event["requestContext"]["requestId"].as_str(),
            "{file}: the API Gateway request id is echoed"
        );
        assert_eq!(reply["isBase64Encoded"], false, "{file}: text body");
        let body = reply["body"].as_str().unwrap_or_default();
        match reply["headers"]["content-type"].as_str() {
            Some("text/xml") => assert!(body.contains("<Response/>"), "{file}: {body}"),
            _ if expected == 204 || expected == 304 => assert!(body.is_empty(), "{file}: {body}"),
            _ => drop(serde_json::from_str::<Value>(body).expect("a JSON body")),
        }
    }
}

/// The queued batches of `events/queue/` (SQS, as the contact-sync function receives them)
/// answer the messages their manifest expects to be delivered again.
#[tokio::test]
async fn every_queued_batch_reports_its_expected_failures() {
    let text = std::fs::read_to_string(format!("{EVENTS}/queue/manifest.json"))
        .expect("events/queue/manifest.json");
    let entries: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
    let files = std::fs::read_dir(format!("{EVENTS}/queue"))
        .expect("events/queue/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name != "manifest.json")
        .count();
    assert_eq!(files, entries.len(), "every queued batch is listed");
    for entry in entries {
        let file = entry["event"].as_str().expect("event file");
        let function = entry["function"].as_str().expect("function");
        assert_eq!(function, "ContactSyncFunction", "{file}");
        assert!(TEMPLATE.contains(&format!("  {function}:")));
        let table: Arc<dyn Table> = Arc::new(MemoryTable::new());
        answerpal_testkit::seed_example_end_user(table.as_ref()).await;
        answerpal_testkit::seed_example_unlinked(table.as_ref()).await;
        answerpal_testkit::seed_example_secrets(table.as_ref(), &events_vault()).await;
        let syncer = ContactSyncer {
            table,
            vault: Arc::new(events_vault()),
            suppressions: events_suppressions(),
            // Public addresses only, as deployed: none of these batches asks a CRM.
            crm: CrmClient::new(ConnectorPolicy::PublicOnly),
        };
        let text = std::fs::read_to_string(format!("{EVENTS}/{file}")).expect("event file");
        let event: Value = serde_json::from_str(&text).expect("event is JSON");
        let answer = contact_sync::handle_queued(syncer.table.as_ref(), &syncer.connector(), event)
            .await
            .expect("an SQS event");
        let answer = serde_json::to_value(answer).expect("an answer");
        let failed: Vec<&Value> = answer["batchItemFailures"]
            .as_array()
            .expect("batchItemFailures")
            .iter()
            .map(|failure| &failure["itemIdentifier"])
            .collect();
        let expected: Vec<&Value> = entry["failures"]
            .as_array()
            .expect("failures")
            .iter()
            .collect();
        assert_eq!(failed, expected, "{file}");
    }
}

#[test]
fn every_route_has_a_successful_event_and_every_file_is_listed() {
    let manifest = manifest();
    let listed: BTreeSet<String> = manifest
        .iter()
        .filter_map(|e| e["event"].as_str().map(String::from))
        .collect();
    let files: BTreeSet<String> = std::fs::read_dir(EVENTS)
        .expect("events/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            name.ends_with(".json") && !["manifest.json", "env.json"].contains(&name.as_str())
        })
        .collect();
    assert_eq!(
        listed, files,
        "events/manifest.json and the event files differ"
    );

    let succeeding: BTreeSet<String> = manifest
        .iter()
        .filter(|e| e["status"].as_u64().is_some_and(|s| s < 300))
        .map(|e| {
            let text = std::fs::read_to_string(format!(
                "{EVENTS}/{}",
                e["event"].as_str().unwrap_or_default()
            ))
            .expect("event");
            let event: Value = serde_json::from_str(&text).expect("JSON");
            event["routeKey"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    // The routes as the families' route tables declare them: no list of its own to drift.
    let table: Arc<dyn Table> = Arc::new(MemoryTable::new());
    let api = answerpal_testkit::api_on(
        table,
        events_vault(),
        &JwtSettings::with_secret(EVENTS_SECRET),
    );
    let routes = api.route_keys();
    assert!(routes.len() >= 22, "{routes:?}");
    for route in &routes {
        assert!(
            succeeding.contains(route),
            "no successful event for {route}"
        );
        let (method, path) = route.split_once(' ').unwrap_or_default();
        assert!(
            TEMPLATE.contains(&format!("Path: {path}\n            Method: {method}\n")),
            "{route} missing in template.yaml"
        );
    }
}

/// The functions of template.yaml that serve API routes, as [`function_api`] builds them.
const API_FUNCTIONS: [&str; 11] = [
    "EndUsersFunction",
    "EndUserImportsFunction",
    "EndUserLifecycleFunction",
    "EndUserHygieneFunction",
    "EndUserTimelineFunction",
    "EndUserSyncFunction",
    "EndUserUidsFunction",
    "OpenApiFunction",
    "CustomersFunction",
    "TicketsFunction",
    "WebhooksFunction",
];

/// API Gateway sends each route to the function its template entry names: that function's
/// binary must serve exactly the routes the template gives it.
#[test]
fn each_function_is_given_the_routes_of_its_family() {
    let mut declared_anywhere = 0;
    for function in API_FUNCTIONS {
        let block = TEMPLATE
            .split_once(&format!("\n  {function}:\n"))
            .map(|(_, rest)| rest.split("\n\n").next().unwrap_or(rest))
            .unwrap_or_else(|| panic!("{function} is not in template.yaml"));
        let lines: Vec<&str> = block.lines().map(str::trim).collect();
        let declared: BTreeSet<String> = lines
            .windows(2)
            .filter_map(|pair| {
                let path = pair[0].strip_prefix("Path: ")?;
                let method = pair[1].strip_prefix("Method: ")?;
                Some(format!("{method} {path}"))
            })
            .collect();
        let api = function_api(function, Arc::new(MemoryTable::new()));
        let served: BTreeSet<String> = api.route_keys().into_iter().collect();
        assert_eq!(declared, served, "{function}");
        declared_anywhere += declared.len();
    }
    let routes = TEMPLATE.matches("Type: HttpApi\n").count();
    assert_eq!(declared_anywhere, routes, "a route of another function");
}
