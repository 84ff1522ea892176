//! Lambda for the `end-users` endpoint family.

use answerpal::families::EndUsers;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|resources| EndUsers::new(resources.table.clone())).await
}
