//! Condition and update expressions as DynamoDB takes them: text with placeholders, and the
//! names and values they stand for.

use std::collections::HashMap;

use aws_sdk_dynamodb::types as ddb;

use super::AwsItem;
use crate::store::{AttributeValue, Condition, PK};

pub(super) struct Expression {
    pub text: String,
    pub names: HashMap<String, String>,
    pub values: Option<AwsItem>,
}

pub(super) fn expression(condition: &Condition) -> Expression {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let text = render(condition, &mut names, &mut values);
    Expression {
        text,
        names,
        values: (!values.is_empty()).then_some(values),
    }
}

/// A condition's expression text, its names and values added under fresh placeholders.
fn render(
    condition: &Condition,
    names: &mut HashMap<String, String>,
    values: &mut AwsItem,
) -> String {
    let mut name = |attribute: &str| {
        let placeholder = format!("#c{}", names.len());
        names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    };
    let mut compare = |attribute: &str, operator: &str, value: &AttributeValue| {
        let name = name(attribute);
        let placeholder = format!(":c{}", values.len());
        values.insert(placeholder.clone(), value.clone().into());
        format!("{name} {operator} {placeholder}")
    };
    match condition {
        Condition::NotExists => format!("attribute_not_exists({})", name(PK)),
        Condition::Exists => format!("attribute_exists({})", name(PK)),
        Condition::Equals { attribute, value } => compare(attribute, "=", value),
        Condition::AtMost { attribute, value } => compare(attribute, "<=", value),
        Condition::All(conditions) if conditions.is_empty() => {
            let pk = name(PK);
            format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
        }
        Condition::All(conditions) => joined(conditions, " AND ", names, values),
        Condition::Any(conditions) if conditions.is_empty() => {
            let pk = name(PK);
            format!("(attribute_exists({pk}) AND attribute_not_exists({pk}))")
        }
        Condition::Any(conditions) => joined(conditions, " OR ", names, values),
    }
}

/// `conditions`, each in parentheses, joined by `operator`.
fn joined(
    conditions: &[Condition],
    operator: &str,
    names: &mut HashMap<String, String>,
    values: &mut AwsItem,
) -> String {
    conditions
        .iter()
        .map(|c| format!("({})", render(c, names, values)))
        .collect::<Vec<_>>()
        .join(operator)
}

/// The `SET`/`ADD`/`REMOVE` expression of an update, with its names and values.
fn update_expression(
    set: Vec<(&'static str, AttributeValue)>,
    add: Vec<(&'static str, i64)>,
    remove: Vec<&'static str>,
) -> Expression {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut clauses = Vec::new();
    let mut assignments = Vec::new();
    for (n, (name, value)) in set.into_iter().enumerate() {
        names.insert(format!("#s{n}"), name.to_owned());
        values.insert(format!(":s{n}"), value.into());
        assignments.push(format!("#s{n} = :s{n}"));
    }
    if !assignments.is_empty() {
        clauses.push(format!("SET {}", assignments.join(", ")));
    }
    let mut additions = Vec::new();
    for (n, (name, amount)) in add.into_iter().enumerate() {
        names.insert(format!("#n{n}"), name.to_owned());
        values.insert(format!(":n{n}"), ddb::AttributeValue::N(amount.to_string()));
        additions.push(format!("#n{n} :n{n}"));
    }
    if !additions.is_empty() {
        clauses.push(format!("ADD {}", additions.join(", ")));
    }
    let mut removals = Vec::new();
    for (n, name) in remove.into_iter().enumerate() {
        names.insert(format!("#r{n}"), name.to_owned());
        removals.push(format!("#r{n}"));
    }
    if !removals.is_empty() {
        clauses.push(format!("REMOVE {}", removals.join(", ")));
    }
    Expression {
        text: clauses.join(" "),
        names,
        values: (!values.is_empty()).then_some(values),
    }
}

/// An update's expression and its condition's, their names and values merged.
pub(super) fn update_parts(
    set: Vec<(&'static str, AttributeValue)>,
    add: Vec<(&'static str, i64)>,
    remove: Vec<&'static str>,
    condition: Option<&Condition>,
) -> (
    String,
    Option<String>,
    HashMap<String, String>,
    Option<AwsItem>,
) {
    let update = update_expression(set, add, remove);
    let mut names = update.names;
    let mut values = update.values.unwrap_or_default();
    let condition = condition.map(|c| {
        let e = expression(c);
        names.extend(e.names);
        values.extend(e.values.unwrap_or_default());
        e.text
    });
    (
        update.text,
        condition,
        names,
        (!values.is_empty()).then_some(values),
    )
}
