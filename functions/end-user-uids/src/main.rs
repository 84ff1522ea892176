//! Lambda for the `end-user-uids` endpoint family.

use answerpal::families::EndUserUids;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    answerpal::runtime::run_lambda(|resources| EndUserUids::new(resources.table.clone())).await
}
