//! Assertions and set-up builders the feature modules share.

use answerpal_testkit::TestResponse;
use serde_json::Value;

pub fn id_of(user: &Value) -> u64 {
    user["endUserID"].as_u64().expect("endUserID is a number")
}

pub fn uid_values(user: &Value) -> Vec<(String, String, bool)> {
    user["uids"]
        .as_array()
        .expect("uids is an array")
        .iter()
        .map(|u| {
            (
                u["uidType"].as_str().unwrap_or_default().to_owned(),
                u["uid"].as_str().unwrap_or_default().to_owned(),
                u["isPrimary"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

/// The `consent` of `user`'s UID `uid`.
pub fn consent_of<'a>(user: &'a Value, uid: &str) -> &'a Value {
    let uids = user["uids"].as_array().expect("uids");
    &uids
        .iter()
        .find(|u| u["uid"] == uid)
        .unwrap_or_else(|| panic!("{uid} not held: {user}"))["consent"]
}

pub fn assert_problem(response: &TestResponse, status: u16) {
    assert_eq!(response.status, status, "{:?}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(response.body["status"], status);
    assert!(response.body["type"].is_string() && response.body["title"].is_string());
    assert!(response.body["detail"].is_string());
}

pub fn assert_field_error(response: &TestResponse, path: &str) {
    assert_problem(response, 400);
    assert!(
        response.body["errors"][path].is_array(),
        "no error for {path}: {}",
        response.body
    );
}

/// A create or update body, a field at a time:
/// `end_user().with("customerRef", "R-1").uid("Email", "jane@example.com").json()`.
#[derive(Default)]
pub struct EndUserBody {
    fields: serde_json::Map<String, Value>,
    uids: Vec<Value>,
}

pub fn end_user() -> EndUserBody {
    EndUserBody::default()
}

impl EndUserBody {
    pub fn with(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(field.to_owned(), value.into());
        self
    }

    pub fn uid(mut self, uid_type: &str, uid: &str) -> Self {
        self.uids
            .push(serde_json::json!({"uidType": uid_type, "uid": uid}));
        self
    }

    pub fn json(self) -> Value {
        let mut fields = self.fields;
        if !self.uids.is_empty() {
            fields.insert("uids".into(), Value::Array(self.uids));
        }
        Value::Object(fields)
    }
}

/// The `text` of each item of a page of messages.
pub fn texts(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}
