//! Lambda for the `end-user-timeline` endpoint family: an end user's timeline and the external
//! events recorded on it.

use answerpal::families::Timeline;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|_, resources| {
        Ok(Timeline::new(
            resources.table.clone(),
            resources.cursors.clone(),
        ))
    })
    .await
}
