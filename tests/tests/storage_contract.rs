//! The storage contract suite on DynamoDB's wire protocol (the embedded table runs it in shared/).

use answerpal_testkit::fresh_dynamo_table;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_adapter_passes_the_storage_contract() {
    answerpal::store::contract::run_all(|| async { fresh_dynamo_table().await.0 }).await;
}
