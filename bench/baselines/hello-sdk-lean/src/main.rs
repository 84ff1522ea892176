//! hello-sdk's handler (one GetItem of an end user or of the tenant's settings, the item answered
//! as JSON) on what the functions build
//! their DynamoDB client from (`answerpal::store::dynamodb::client`: the project's HTTPS client,
//! credentials and time limits), a current-thread runtime and the release profile: the floor the
//! SDK sets for a function of this project.

use answerpal::config::Settings;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};

async fn get_item(
    client: &Client,
    table: &str,
    tenant: &str,
    event: Request,
) -> Result<Response<Body>, Error> {
    let (pk, sk) = match event.path_parameters_ref().and_then(|p| p.first("id")) {
        Some(id) => (format!("T#{tenant}#EU#{id}"), "PROFILE"),
        None => (format!("T#{tenant}"), "SETTINGS"),
    };
    let output = client
        .get_item()
        .table_name(table)
        .key("PK", AttributeValue::S(pk))
        .key("SK", AttributeValue::S(sk.into()))
        .send()
        .await?;
    let Some(item) = output.item else {
        return Ok(Response::builder().status(404).body(Body::Empty)?);
    };
    let json: serde_json::Value = serde_dynamo::from_item(item)?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::Text(json.to_string()))?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let settings = Settings::from_env()?;
    let client = answerpal::store::dynamodb::client(&settings.dynamodb, None);
    let table = std::env::var("TABLE_NAME")?;
    let tenant = std::env::var("TENANT_ID")?;
    run(service_fn(|event| {
        get_item(&client, &table, &tenant, event)
    }))
    .await
}
