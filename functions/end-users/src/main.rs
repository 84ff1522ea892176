//! Lambda for the `end-users` endpoint family.

use answerpal::families::EndUsers;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|_, resources| {
        Ok(EndUsers::new(
            resources.table.clone(),
            resources.cursors.clone(),
        ))
    })
    .await
}
