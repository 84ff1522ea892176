//! Lambda for the `tickets` endpoint family: tickets and their messages.

use answerpal::families::Tickets;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|_, resources| {
        Ok(Tickets::new(
            resources.table.clone(),
            resources.cursors.clone(),
        ))
    })
    .await
}
