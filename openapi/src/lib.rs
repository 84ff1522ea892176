//! The OpenAPI 3.1 document of the API (SPEC 7): its paths from the families' route tables (the
//! routes the local server and the tests mount), the path parameters from the route templates,
//! each operation's query, body and answers from [`operations`], and the component schemas derived
//! from the views and bodies themselves (shared's `openapi` feature). It is generated into
//! `docs/openapi.json` (`cargo run -p answerpal-openapi`) and a test keeps that file current.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use answerpal::config::JwtSettings;
use answerpal::domain::Secret;
use answerpal::domain::customer::channel::ChannelView;
use answerpal::domain::customer::{AccountView, ChannelBody, Model, ProviderSecrets};
use answerpal::domain::end_user::{EndUserBody, EndUserView, MergeView};
use answerpal::domain::ticket::{MessageView, ReplyBody, TicketBody, TicketView};
use answerpal::domain::timeline::ExternalEvent;
use answerpal::families::{self, add};
use answerpal::http::Api;
use answerpal::http::auth::Authenticator;
use answerpal::runtime::Resources;
use answerpal::service::consent::ConsentHistory;
use answerpal::service::duplicates::Duplicates;
use answerpal::service::uids::{AssignBody, Link};
use answerpal::store::Table;
use answerpal::store::memory::MemoryTable;
use answerpal::vault::Vault;
use answerpal::vault::local::LocalKeys;
use answerpal::vault::suppression::Suppressions;

mod composed;
mod operations;
mod params;
mod render;

pub use operations::{Operation, operation};

/// Where the committed document lives, from the workspace root.
pub const DOCUMENT_PATH: &str = "docs/openapi.json";

/// The document for the API serving `routes` (`"METHOD /path"`, as `Api::route_keys` lists them).
pub fn document(routes: &[String]) -> Result<Value, String> {
    let mut paths = Map::new();
    for route in routes {
        let (method, path) = route
            .split_once(' ')
            .ok_or_else(|| format!("not a route key: {route}"))?;
        let described = operation(route).ok_or_else(|| format!("{route} is not described"))?;
        let entry = paths
            .entry(path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[method.to_ascii_lowercase()] = described.render(path);
    }
    let mut schemas = schemas()?;
    close_answers(&mut schemas, &paths);
    Ok(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "AnswerPal End Users API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "End users of a tenant, their channel addresses (UIDs), tickets and \
                messages, the tenant's account, and the channels' inbound webhooks. Errors are \
                RFC 9457 problem documents.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "signature": {"type": "apiKey", "in": "header", "name": "X-Webhook-Signature"},
                "twilio": {"type": "apiKey", "in": "header", "name": "X-Twilio-Signature"},
            },
        },
    }))
}

fn schemas() -> Result<Map<String, Value>, String> {
    let mut found = families::schemas();
    add::<EndUserView>(&mut found);
    add::<EndUserBody>(&mut found);
    add::<MergeView>(&mut found);
    add::<AssignBody>(&mut found);
    add::<ConsentHistory>(&mut found);
    add::<Duplicates>(&mut found);
    add::<ExternalEvent>(&mut found);
    add::<Link>(&mut found);
    add::<TicketView>(&mut found);
    add::<MessageView>(&mut found);
    add::<TicketBody>(&mut found);
    add::<ReplyBody>(&mut found);
    add::<AccountView>(&mut found);
    add::<ProviderSecrets>(&mut found);
    add::<ChannelView>(&mut found);
    add::<ChannelBody>(&mut found);
    add::<Model>(&mut found);
    let mut all = Map::new();
    for (name, schema) in found {
        let schema = serde_json::to_value(schema).map_err(|e| e.to_string())?;
        all.insert(name, schema);
    }
    for (name, schema) in composed::composed() {
        all.insert(name.to_owned(), schema);
    }
    Ok(all)
}

/// The component names `value` refers to.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(
                    target
                        .trim_start_matches("#/components/schemas/")
                        .to_owned(),
                );
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

/// Makes every object a response can hold closed (`additionalProperties: false`), so that a
/// field the document does not name fails the suite's check instead of drifting in unseen. An
/// `allOf` of such objects (a flattened view) becomes one object first: a closed member would
/// refuse its siblings' fields.
fn close_answers(schemas: &mut Map<String, Value>, paths: &Map<String, Value>) {
    let mut pending = Vec::new();
    for item in paths.values() {
        for operation in item.as_object().into_iter().flat_map(|m| m.values()) {
            references(&operation["responses"], &mut pending);
        }
    }
    let mut reached = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if reached.insert(name.clone()) {
            references(&schemas[&name], &mut pending);
        }
    }
    let originals = schemas.clone();
    for name in reached {
        let schema = &mut schemas[&name];
        if let Some(Value::Array(members)) = schema.get("allOf").cloned() {
            *schema = flattened(schema, &members, &originals);
        }
        close(schema);
    }
}

/// One object of the properties and requirements of `members` (references or objects).
fn flattened(schema: &Value, members: &[Value], originals: &Map<String, Value>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for member in members {
        let member = match member["$ref"].as_str() {
            Some(target) => &originals[target.trim_start_matches("#/components/schemas/")],
            None => member,
        };
        if let Some(more) = member["properties"].as_object() {
            properties.extend(more.clone());
        }
        if let Some(more) = member["required"].as_array() {
            required.extend(more.iter().cloned());
        }
    }
    let mut object = json!({"type": "object", "properties": properties, "required": required});
    if let Some(description) = schema.get("description") {
        object["description"] = description.clone();
    }
    object
}

/// Closes `schema` and the objects inside it (a reference is closed where it is defined).
fn close(schema: &mut Value) {
    let Value::Object(map) = schema else {
        if let Value::Array(items) = schema {
            items.iter_mut().for_each(close);
        }
        return;
    };
    if map.contains_key("properties") && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" => value
                .as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
                .for_each(close),
            "items" | "oneOf" | "anyOf" => close(value),
            _ => {}
        }
    }
}

/// Every route of every family, as the local server mounts them.
pub fn routes() -> Vec<String> {
    let table: Arc<dyn Table> = Arc::new(MemoryTable::new());
    let key = LocalKeys::from_base64(&Secret::new(LOCAL_KEY)).expect("a local key");
    let suppressions =
        Suppressions::new(LocalKeys::from_base64(&Secret::new(LOCAL_KEY)).expect("a local key"));
    let resources = Resources::new(table)
        .with_vault(Vault::new(key))
        .with_suppressions(suppressions);
    let jwt = JwtSettings::with_secret("the routes only");
    let auth = Authenticator::new(&jwt).expect("HS256 settings");
    let api = families::mount_all(Api::new(auth, None), &resources).expect("every family");
    api.route_keys()
}

/// A local vault key for [`routes`], which never seals anything.
const LOCAL_KEY: &str = "b3BlbmFwaS1yb3V0ZXMtb25seS1rZXktMzItYnl0ZXM=";

#[cfg(test)]
mod tests {
    use super::*;

    fn committed() -> Value {
        let path = format!("{}/../{DOCUMENT_PATH}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("docs/openapi.json");
        serde_json::from_str(&text).expect("the committed document is JSON")
    }

    #[test]
    fn the_committed_and_served_document_is_the_generated_one() {
        let generated = document(&routes()).expect("every route is described");
        assert!(
            committed() == generated,
            "docs/openapi.json is stale: cargo run -p answerpal-openapi"
        );
        let served: Value =
            serde_json::from_str(answerpal::families::openapi::DOCUMENT).expect("JSON");
        assert_eq!(served, generated);
    }

    #[test]
    fn every_route_of_every_family_is_in_it_with_its_path_parameters() {
        let routes = routes();
        assert!(routes.len() >= 29, "{routes:?}");
        let document = committed();
        for route in &routes {
            let (method, path) = route.split_once(' ').expect("a route key");
            let operation = &document["paths"][path][method.to_ascii_lowercase()];
            assert!(operation.is_object(), "{route} is not in the document");
            let named: Vec<&str> = operation["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            let templated: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(named, templated, "{route}");
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.keys().any(|s| s.starts_with('2')), "{route}");
        }
        let operations: usize = document["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|item| item.as_object().map_or(0, |m| m.len()))
            .sum();
        assert_eq!(operations, routes.len(), "an operation of no route");
    }

    /// Every `$ref` names a schema of the document.
    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        found.push(target);
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let document = committed();
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(found.len() > 50, "{}", found.len());
        for target in found {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{target} is not a local schema"));
            assert!(
                document["components"]["schemas"][name].is_object(),
                "{target} does not resolve"
            );
        }
    }
}
