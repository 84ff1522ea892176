//! Lambda for the `customers` endpoint family: the tenant's own account.

use std::sync::Arc;

use answerpal::families::Customers;
use answerpal::vault::Vault;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|settings, resources| {
        let vault = Vault::from_settings(settings)?;
        Ok(Customers::new(resources.table.clone(), Arc::new(vault)))
    })
    .await
}
