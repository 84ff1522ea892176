//! Lambda for the `openapi` endpoint family: the OpenAPI document, no store.

use answerpal::families::OpenApi;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_storeless_lambda(OpenApi).await
}
