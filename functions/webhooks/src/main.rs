//! Lambda for the `webhooks` endpoint family: inbound messages of the channel providers.

use std::sync::Arc;

use answerpal::families::Webhooks;
use answerpal::vault::Vault;
use answerpal::vault::suppression::Suppressions;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_signed_lambda(|settings, resources| {
        let vault = Vault::from_settings(settings)?;
        let suppressions = Suppressions::from_settings(settings)?;
        Ok(Webhooks::new(
            resources.table.clone(),
            Arc::new(vault),
            Arc::new(suppressions),
        ))
    })
    .await
}
