//! Lambda for the `webhooks` endpoint family: inbound messages of the channel providers.

use std::sync::Arc;

use answerpal::families::Webhooks;
use answerpal::vault::Vault;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|settings, resources| {
        let vault = Vault::from_settings(settings)?;
        Ok(Webhooks::new(resources.table.clone(), Arc::new(vault)))
    })
    .await
}
