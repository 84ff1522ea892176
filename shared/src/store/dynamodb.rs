//! The DynamoDB adapter of the storage port, through `aws-sdk-dynamodb` with items via
//! `serde_dynamo`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::meta::region::ProvideRegion;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Credentials, Intercept, Region};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    self as ddb, AttributeDefinition, BillingMode, Delete, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem,
};
use aws_smithy_http_client::tls;

use super::keys::{EXPIRES_AT, INDEXES};
use super::{
    Condition, FailedCondition, Index, Item, Key, MAX_BATCH_GET, PK, SK, StoreError, Table, Write,
    WriteError,
};

type AwsItem = HashMap<String, ddb::AttributeValue>;

/// Counts the DynamoDB API calls a client makes (one per operation, whatever its retries).
#[derive(Clone, Debug, Default)]
pub struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Builds a DynamoDB client with credentials and region from the environment, as Lambda sets
/// them (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`): no
/// profile files, SSO or STS, which would only add start-up time and binary size to a function.
/// With `endpoint` (moto, DynamoDB Local) no AWS account is needed: the region defaults to
/// us-east-1 and, without credentials in the environment, fixed local ones sign the requests.
pub async fn client(endpoint: Option<&str>, counter: Option<CallCounter>) -> Client {
    let region = EnvironmentVariableRegionProvider::new()
        .region()
        .await
        .unwrap_or_else(|| Region::new("us-east-1"));
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .http_client(https);
    let from_environment = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    config = match (endpoint, from_environment) {
        (Some(_), false) => {
            config.credentials_provider(Credentials::new("local", "local", None, None, "local"))
        }
        _ => config.credentials_provider(EnvironmentVariableCredentialsProvider::new()),
    };
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    Client::from_conf(config.build())
}

pub struct DynamoTable {
    client: Client,
    name: String,
}

impl DynamoTable {
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        DynamoTable {
            client,
            name: name.into(),
        }
    }

    /// Creates the table with its index and TTL when it does not exist (local and test use;
    /// deployed tables come from template.yaml).
    pub async fn create_if_missing(&self) -> Result<(), StoreError> {
        match self
            .client
            .describe_table()
            .table_name(&self.name)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {}
            Err(e) => return Err(classify(e)),
        }
        let attribute = |name: &str, kind: ScalarAttributeType| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(kind)
                .build()
                .map_err(internal)
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(internal)
        };
        let mut request = self
            .client
            .create_table()
            .table_name(&self.name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute(PK, ScalarAttributeType::S)?)
            .attribute_definitions(attribute(SK, ScalarAttributeType::S)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?);
        for index in INDEXES {
            let gsi = GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.partition_key, KeyType::Hash)?)
                .key_schema(key(index.sort_key, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .set_non_key_attributes(Some(
                            index.projected.iter().map(|s| s.to_string()).collect(),
                        ))
                        .build(),
                )
                .build()
                .map_err(internal)?;
            request = request
                .attribute_definitions(attribute(index.partition_key, ScalarAttributeType::S)?)
                .attribute_definitions(attribute(index.sort_key, ScalarAttributeType::N)?)
                .global_secondary_indexes(gsi);
        }
        let created = request.send().await;
        match created {
            Ok(_) => {}
            // Created by a concurrent caller in the meantime.
            Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => {}
            Err(e) => return Err(classify(e)),
        }
        self.client
            .wait_until_table_exists()
            .table_name(&self.name)
            .wait(Duration::from_secs(60))
            .await
            .map_err(|e| StoreError::Unavailable(DisplayErrorContext(e).to_string()))?;
        self.client
            .update_time_to_live()
            .table_name(&self.name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(EXPIRES_AT)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(classify)?;
        Ok(())
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
    const RETRYABLE: &[&str] = &[
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    ];
    let retryable = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => e.err().code().is_some_and(|c| RETRYABLE.contains(&c)),
        _ => false,
    };
    let message = DisplayErrorContext(error).to_string();
    if retryable {
        StoreError::Unavailable(message)
    } else {
        StoreError::Internal(message)
    }
}

struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: Option<AwsItem>,
}

fn expression(condition: &Condition) -> Expression {
    match condition {
        Condition::NotExists => Expression {
            text: "attribute_not_exists(#pk)".into(),
            names: HashMap::from([("#pk".to_owned(), PK.to_owned())]),
            values: None,
        },
        Condition::Equals { attribute, value } => Expression {
            text: "#a = :v".into(),
            names: HashMap::from([("#a".to_owned(), (*attribute).to_owned())]),
            values: Some(HashMap::from([(":v".to_owned(), value.clone().into())])),
        },
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

fn transact_item(write: Write, table: &str) -> Result<TransactWriteItem, StoreError> {
    Ok(match write {
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

impl DynamoTable {
    /// One write alone: a plain conditional PutItem or DeleteItem costs half a transaction.
    async fn write_one(&self, write: Write) -> Result<(), WriteError> {
        match write {
            Write::Put { item, condition } => {
                let put = self
                    .client
                    .put_item()
                    .table_name(&self.name)
                    .set_item(Some(item.into()));
                let result = conditioned!(put, condition).send().await;
                match result {
                    Ok(_) => Ok(()),
                    Err(SdkError::ServiceError(e)) => match e.err() {
                        PutItemError::ConditionalCheckFailedException(c) => {
                            Err(single_failure(c.item()))
                        }
                        PutItemError::TransactionConflictException(_) => {
                            Err(WriteError::Contention)
                        }
                        _ => Err(classify(SdkError::ServiceError(e)).into()),
                    },
                    Err(e) => Err(classify(e).into()),
                }
            }
            Write::Delete { key, condition } => {
                let delete = self
                    .client
                    .delete_item()
                    .table_name(&self.name)
                    .set_key(Some(aws_key(&key)));
                let result = conditioned!(delete, condition).send().await;
                match result {
                    Ok(_) => Ok(()),
                    Err(SdkError::ServiceError(e)) => match e.err() {
                        DeleteItemError::ConditionalCheckFailedException(c) => {
                            Err(single_failure(c.item()))
                        }
                        DeleteItemError::TransactionConflictException(_) => {
                            Err(WriteError::Contention)
                        }
                        _ => Err(classify(SdkError::ServiceError(e)).into()),
                    },
                    Err(e) => Err(classify(e).into()),
                }
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
            .map_err(classify)?;
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
                .map_err(classify)?;
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

    async fn query_index(&self, index: &Index, partition: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<AwsItem> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.name)
                .index_name(index.name)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", index.partition_key)
                .expression_attribute_values(":pk", ddb::AttributeValue::S(partition.to_owned()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            items.extend(output.items.into_iter().flatten().map(Item::from));
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    async fn write(&self, mut writes: Vec<Write>) -> Result<(), WriteError> {
        if writes.len() == 1 {
            return self.write_one(writes.remove(0)).await;
        }
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
            Err(e) => return Err(classify(e).into()),
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
                Err(StoreError::Unavailable(format!(
                    "transaction cancelled: {:?}",
                    reasons.iter().filter_map(|r| r.code()).collect::<Vec<_>>()
                ))
                .into())
            }
            TransactWriteItemsError::TransactionInProgressException(_) => {
                Err(WriteError::Contention)
            }
            _ => Err(classify(SdkError::ServiceError(error)).into()),
        }
    }
}
