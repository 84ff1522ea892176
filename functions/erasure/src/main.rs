//! Lambda run on a schedule: finishes the erasure of anonymized end users' tickets and messages
//! (SPEC 7) that was too long to finish in the request.

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_erasure().await
}
