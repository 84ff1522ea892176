//! Lambda for the `end-users` endpoint family.

use std::sync::Arc;

use answerpal::families::EndUsers;
use answerpal::vault::suppression::Suppressions;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|settings, resources| {
        let suppressions = Suppressions::from_settings(settings)?;
        Ok(EndUsers::new(
            resources.table.clone(),
            resources.cursors.clone(),
            Arc::new(suppressions),
        ))
    })
    .await
}
