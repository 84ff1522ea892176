//! The function a user would write by hand: the SDK's default configuration and HTTPS client, one
//! GetItem, the item answered as JSON. It answers the two requests the perf goals are set for,
//! each with the item the project's function reads: `GET /api/EndUsers/{id}` (the end user) and
//! `GET /api/Customers/me` (the tenant's settings).

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

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .without_time()
        .init();
    let config = aws_config::load_from_env().await;
    let client = Client::new(&config);
    let table = std::env::var("TABLE_NAME")?;
    let tenant = std::env::var("TENANT_ID")?;
    run(service_fn(|event| {
        get_item(&client, &table, &tenant, event)
    }))
    .await
}
