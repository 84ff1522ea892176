//! The DynamoDB adapter of the storage port, through `aws-sdk-dynamodb` with items via
//! `serde_dynamo`.

mod client;
mod expression;
mod schema;
#[cfg(feature = "contract-tests")]
mod snapshot;

pub use schema::RecreatingTable;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    self as ddb, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

pub use client::{CallCounter, Connection, client, connect};

use self::expression::{expression, update_parts};
use super::{
    FailedCondition, Item, Key, MAX_BATCH_GET, PK, PageStart, Query, QueryPage, SK, StoreError,
    Table, Write, WriteError,
};

type AwsItem = HashMap<String, ddb::AttributeValue>;

pub struct DynamoTable {
    client: Client,
    name: String,
    /// A call found the table missing (see [`RecreatingTable`]).
    found_missing: AtomicBool,
}

impl DynamoTable {
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        DynamoTable {
            client,
            name: name.into(),
            found_missing: AtomicBool::new(false),
        }
    }

    /// A failed call as the port reports it. A missing table is a store that is not ready: 503,
    /// logged with the table's name.
    fn failure<E, R>(&self, error: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let missing = matches!(&error, SdkError::ServiceError(e)
            if e.err().code() == Some("ResourceNotFoundException"));
        if !missing {
            return classify(error);
        }
        tracing::error!(table = %self.name, "the DynamoDB table does not exist");
        self.found_missing.store(true, Ordering::Relaxed);
        StoreError::Unavailable(format!("the DynamoDB table {} does not exist", self.name))
    }
}

fn internal(error: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(error.to_string())
}

fn aws_key(key: &Key) -> AwsItem {
    HashMap::from([
        (PK.to_owned(), ddb::AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), ddb::AttributeValue::S(key.sk.clone())),
    ])
}

/// Throttling, capacity, time-outs and network failures are worth a later retry: 503.
fn classify<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match crate::aws::judge(error) {
        (true, message) => StoreError::Unavailable(message),
        (false, message) => StoreError::Internal(message),
    }
}

/// Sets a write's condition on any of the SDK's put and delete builders (their setters share
/// names, not a trait), asking for the item met when the condition fails.
macro_rules! conditioned {
    ($builder:expr, $condition:expr) => {{
        let e = $condition.as_ref().map(expression);
        $builder
            .set_condition_expression(e.as_ref().map(|e| e.text.clone()))
            .set_expression_attribute_names(e.as_ref().map(|e| e.names.clone()))
            .set_expression_attribute_values(e.and_then(|e| e.values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    }};
}

/// Sets an update's key, expression and condition on either of the SDK's update builders (their
/// setters share names, not a trait), asking for the item met when the condition fails.
macro_rules! updating {
    ($builder:expr, $key:expr, $set:expr, $add:expr, $remove:expr, $condition:expr) => {{
        let (expression, condition, names, values) =
            update_parts($set, $add, $remove, $condition.as_ref());
        $builder
            .set_key(Some(aws_key(&$key)))
            .update_expression(expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    }};
}

fn transact_item(write: Write, table: &str) -> Result<TransactWriteItem, StoreError> {
    Ok(match write {
        Write::Update {
            key,
            set,
            add,
            remove,
            condition,
        } => {
            let update = Update::builder().table_name(table);
            let update = updating!(update, key, set, add, remove, condition)
                .build()
                .map_err(internal)?;
            TransactWriteItem::builder().update(update).build()
        }
        Write::Put { item, condition } => {
            let put = Put::builder().table_name(table).set_item(Some(item.into()));
            let put = conditioned!(put, condition).build().map_err(internal)?;
            TransactWriteItem::builder().put(put).build()
        }
        Write::Delete { key, condition } => {
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(aws_key(&key)));
            let delete = conditioned!(delete, condition).build().map_err(internal)?;
            TransactWriteItem::builder().delete(delete).build()
        }
        Write::Check { key, condition } => {
            let e = expression(&condition);
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(aws_key(&key)))
                .condition_expression(e.text)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values(e.values)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(internal)?;
            TransactWriteItem::builder().condition_check(check).build()
        }
    })
}

fn single_failure(existing: Option<&AwsItem>) -> WriteError {
    WriteError::ConditionFailed {
        failed: vec![FailedCondition {
            index: 0,
            existing: existing.cloned().map(Item::from),
        }],
    }
}

/// The outcome of a single conditional PutItem or DeleteItem (their errors share variant names,
/// not a type).
macro_rules! single_write_outcome {
    ($table:expr, $result:expr, $error:ident) => {
        match $result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                $error::ConditionalCheckFailedException(c) => Err(single_failure(c.item())),
                $error::TransactionConflictException(_) => Err(WriteError::Contention),
                _ => Err($table.failure(SdkError::ServiceError(e)).into()),
            },
            Err(e) => Err($table.failure(e).into()),
        }
    };
}

impl DynamoTable {
    /// One write alone: a plain conditional PutItem, DeleteItem or UpdateItem costs half a
    /// transaction.
    async fn write_one(&self, write: Write) -> Result<(), WriteError> {
        match write {
            // Changes nothing: a check alone is answered as its transaction would.
            Write::Check { .. } => self.transact(vec![write]).await,
            Write::Put { item, condition } => {
                let put = self
                    .client
                    .put_item()
                    .table_name(&self.name)
                    .set_item(Some(item.into()));
                single_write_outcome!(
                    self,
                    conditioned!(put, condition).send().await,
                    PutItemError
                )
            }
            Write::Delete { key, condition } => {
                let delete = self
                    .client
                    .delete_item()
                    .table_name(&self.name)
                    .set_key(Some(aws_key(&key)));
                single_write_outcome!(
                    self,
                    conditioned!(delete, condition).send().await,
                    DeleteItemError
                )
            }
            Write::Update {
                key,
                set,
                add,
                remove,
                condition,
            } => {
                let update = self.client.update_item().table_name(&self.name);
                single_write_outcome!(
                    self,
                    updating!(update, key, set, add, remove, condition)
                        .send()
                        .await,
                    UpdateItemError
                )
            }
        }
    }
}

/// Unprocessed keys of a batch read are retried this many times, with growing pauses.
const BATCH_GET_ATTEMPTS: u32 = 5;

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(aws_key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failure(e))?;
        Ok(output.item.map(Item::from))
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        if keys.len() > MAX_BATCH_GET {
            return Err(StoreError::Internal(format!(
                "batch of {} keys exceeds {MAX_BATCH_GET}",
                keys.len()
            )));
        }
        let mut request = KeysAndAttributes::builder()
            .set_keys(Some(keys.iter().map(aws_key).collect()))
            .consistent_read(true)
            .build()
            .map_err(internal)?;
        let mut found = Vec::with_capacity(keys.len());
        for attempt in 0..BATCH_GET_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.name, request)
                .send()
                .await
                .map_err(|e| self.failure(e))?;
            if let Some(mut responses) = output.responses {
                found.extend(
                    responses
                        .remove(&self.name)
                        .into_iter()
                        .flatten()
                        .map(Item::from),
                );
            }
            match output
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.name))
            {
                Some(rest) if !rest.keys.is_empty() => request = rest,
                _ => return Ok(found),
            }
        }
        Err(StoreError::Unavailable(
            "batch read left keys unprocessed after retries".into(),
        ))
    }

    async fn query_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        let limit = limit.max(1);
        let (partition_key, sort_key) = match query.index {
            Some(index) => (index.partition_key, index.sort_key),
            None => (PK, SK),
        };
        let mut condition = "#pk = :pk".to_owned();
        let mut request = self
            .client
            .query()
            .table_name(&self.name)
            .set_index_name(query.index.map(|i| i.name.to_owned()))
            .expression_attribute_names("#pk", partition_key)
            .expression_attribute_values(":pk", ddb::AttributeValue::S(query.partition.into()))
            .consistent_read(query.index.is_none())
            .scan_index_forward(!query.descending)
            // One past the page: whether more follow, without an empty last page.
            .limit(i32::try_from(limit.saturating_add(1)).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.map(|s| s.0.clone().into()));
        if query.index.is_none() && !query.sk_prefix.is_empty() {
            condition.push_str(" AND begins_with(#sk, :prefix)");
            request = request
                .expression_attribute_names("#sk", sort_key)
                .expression_attribute_values(
                    ":prefix",
                    ddb::AttributeValue::S(query.sk_prefix.into()),
                );
        }
        if query.index.is_some() {
            let clause = match (query.at_least, query.at_most) {
                (None, None) => "",
                (Some(_), None) => " AND #sk >= :low",
                (None, Some(_)) => " AND #sk <= :high",
                (Some(_), Some(_)) => " AND #sk BETWEEN :low AND :high",
            };
            condition.push_str(clause);
            for (name, bound) in [(":low", query.at_least), (":high", query.at_most)] {
                if let Some(bound) = bound {
                    request = request
                        .expression_attribute_names("#sk", sort_key)
                        .expression_attribute_values(
                            name,
                            ddb::AttributeValue::N(bound.to_string()),
                        );
                }
            }
        }
        let output = request
            .key_condition_expression(condition)
            .send()
            .await
            .map_err(|e| self.failure(e))?;
        let items: Vec<Item> = output.items.into_iter().flatten().map(Item::from).collect();
        let cut_short = output.last_evaluated_key.filter(|k| !k.is_empty());
        let mut page = QueryPage::of(items, limit, query.index);
        // DynamoDB stopped before the limit (1 MB read): the rest follows from where it stopped.
        if page.next.is_none() {
            page.next = cut_short.map(|k| PageStart(Item::from(k)));
        }
        Ok(page)
    }

    async fn replace(&self, item: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item.into()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.failure(e))?;
        Ok(output.attributes.filter(|a| !a.is_empty()).map(Item::from))
    }

    async fn remove(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(aws_key(key)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.failure(e))?;
        Ok(output.attributes.filter(|a| !a.is_empty()).map(Item::from))
    }

    async fn write(&self, mut writes: Vec<Write>) -> Result<(), WriteError> {
        if writes.len() == 1 {
            return self.write_one(writes.remove(0)).await;
        }
        self.transact(writes).await
    }
}

/// Cancellation reasons that a later retry may clear; any other (a validation error: a bug)
/// is internal.
const TRANSIENT_CANCELLATIONS: [&str; 3] = [
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];

impl DynamoTable {
    /// Writes in one TransactWriteItems call.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        let items = writes
            .into_iter()
            .map(|w| transact_item(w, &self.name))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(()),
            Err(SdkError::ServiceError(e)) => e,
            Err(e) => return Err(self.failure(e).into()),
        };
        match error.err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                let reasons = cancelled.cancellation_reasons();
                let failed: Vec<FailedCondition> = reasons
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                    .map(|(index, r)| FailedCondition {
                        index,
                        existing: r.item().cloned().map(Item::from),
                    })
                    .collect();
                if !failed.is_empty() {
                    return Err(WriteError::ConditionFailed { failed });
                }
                if reasons
                    .iter()
                    .any(|r| r.code() == Some("TransactionConflict"))
                {
                    return Err(WriteError::Contention);
                }
                let codes: Vec<&str> = reasons.iter().filter_map(|r| r.code()).collect();
                let message = format!("transaction cancelled: {codes:?}");
                let transient = codes.iter().any(|c| TRANSIENT_CANCELLATIONS.contains(c));
                Err(match transient {
                    true => StoreError::Unavailable(message),
                    false => StoreError::Internal(message),
                }
                .into())
            }
            TransactWriteItemsError::TransactionInProgressException(_) => {
                Err(WriteError::Contention)
            }
            _ => Err(self.failure(SdkError::ServiceError(error)).into()),
        }
    }
}
