//! Lambda for the `end-user-uids` endpoint family: build the API once, then serve events.

use answerpal::http::Family;
use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let api = answerpal::config::lambda_api(&[Family::EndUserUids]).await?;
    let api = &api;
    lambda_http::run(service_fn(|request| async move {
        Ok::<_, std::convert::Infallible>(api.handle(request).await)
    }))
    .await
}
