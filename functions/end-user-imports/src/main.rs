//! Lambda for the `end-user-imports` endpoint family.

use std::sync::Arc;

use answerpal::families::Imports;
use answerpal::vault::suppression::Suppressions;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|settings, resources| {
        let suppressions = Suppressions::from_settings(settings)?;
        Ok(Imports::new(
            resources.table.clone(),
            Arc::new(suppressions),
        ))
    })
    .await
}
