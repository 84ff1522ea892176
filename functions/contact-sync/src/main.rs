//! Lambda on the contact-sync queue: syncs the end users webhooks created with their tenant's
//! CRM (SPEC 10, sync on contact).

/// One batch at a time: a current-thread runtime, no hand-offs between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_contact_sync().await
}
