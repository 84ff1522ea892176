//! The table's schema, created where no template does it (local server and tests; deployed
//! tables come from template.yaml).

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::{DynamoTable, classify, internal};
use crate::store::{
    self, EXPIRES_AT, INDEXES, Item, Key, PK, PageStart, Query, QueryPage, SK, StoreError, Table,
    Write, WriteError,
};

impl DynamoTable {
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
                .projection(match index.projection {
                    store::Projection::All => Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                    store::Projection::KeysOnly => Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                    store::Projection::Include(names) => Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .set_non_key_attributes(Some(names.iter().map(|s| s.to_string()).collect()))
                        .build(),
                })
                .build()
                .map_err(internal)?;
            request = request.global_secondary_indexes(gsi);
        }
        // Indexes may share a key attribute (the match keys' sort on `endUserID`): each is
        // defined once.
        let mut defined = BTreeSet::new();
        for index in INDEXES {
            for (name, kind) in [
                (index.partition_key, ScalarAttributeType::S),
                (index.sort_key, ScalarAttributeType::N),
            ] {
                if defined.insert(name) {
                    request = request.attribute_definitions(attribute(name, kind)?);
                }
            }
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

/// The local server's table: created when missing at start, and again when a call finds it gone
/// (that call answers 503, the next ones work). Deployed functions never create tables, and do
/// not link this.
pub struct RecreatingTable(DynamoTable);

impl RecreatingTable {
    pub async fn new(table: DynamoTable) -> Result<Self, StoreError> {
        table.create_if_missing().await?;
        Ok(RecreatingTable(table))
    }

    async fn recreate_if_found_missing(&self) -> Result<(), StoreError> {
        if self.0.found_missing.swap(false, Ordering::Relaxed) {
            tracing::warn!(table = %self.0.name, "creating the missing table again");
            self.0.create_if_missing().await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Table for RecreatingTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.recreate_if_found_missing().await?;
        self.0.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.recreate_if_found_missing().await?;
        self.0.batch_get(keys).await
    }

    async fn query_page(
        &self,
        query: &Query<'_>,
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        self.recreate_if_found_missing().await?;
        self.0.query_page(query, start, limit).await
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        self.recreate_if_found_missing().await?;
        self.0.write(writes).await
    }

    async fn replace(&self, item: Item) -> Result<Option<Item>, StoreError> {
        self.recreate_if_found_missing().await?;
        self.0.replace(item).await
    }

    async fn remove(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.recreate_if_found_missing().await?;
        self.0.remove(key).await
    }
}
