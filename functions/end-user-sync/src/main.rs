//! Lambda for the `end-user-sync` endpoint family: an end user synced with the tenant's CRM.

use std::sync::Arc;

use answerpal::crm::CrmClient;
use answerpal::domain::customer::ConnectorPolicy;
use answerpal::families::CrmSync;
use answerpal::vault::Vault;
use answerpal::vault::suppression::Suppressions;

/// One event at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|settings, resources| {
        let vault = Vault::from_settings(settings)?;
        let suppressions = Suppressions::from_settings(settings)?;
        // A deployed connector reaches public addresses only (SPEC 10).
        let crm = CrmClient::new(ConnectorPolicy::PublicOnly);
        Ok(CrmSync::new(
            resources.table.clone(),
            Arc::new(vault),
            Arc::new(suppressions),
            crm,
        ))
    })
    .await
}
