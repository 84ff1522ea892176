//! Lambda run on a schedule: removes closed tickets (and their messages) past their tenant's
//! retention.

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_retention().await
}
