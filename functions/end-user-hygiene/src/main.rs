//! Lambda for the `end-user-hygiene` endpoint family.

use answerpal::families::Hygiene;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|_, resources| Ok(Hygiene::new(resources.table.clone()))).await
}
