//! Lambda on the table's DynamoDB stream: publishes the change events of new outbox items to
//! Amazon EventBridge.

/// One batch at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_change_events().await
}
