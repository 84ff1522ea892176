//! Lambda for the `end-user-lifecycle` endpoint family.

use answerpal::families::Lifecycle;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|_, resources| Ok(Lifecycle::new(resources.table.clone()))).await
}
