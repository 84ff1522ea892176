//! `cargo run -p local-api`: every route on 127.0.0.1:$PORT, on the embedded table by default or
//! on the DynamoDB endpoint in `DYNAMODB_ENDPOINT`.

use std::sync::Arc;

use answerpal::auth::{AuthConfig, Authenticator, hs256_token};
use answerpal::config::{env_value, init_text_logs};
use answerpal::http::{ALL_FAMILIES, Api};
use answerpal::store::Table;
use answerpal::store::dynamodb::{self, DynamoTable};
use answerpal::store::memory::MemoryTable;
use tokio::net::TcpListener;

/// Only this server has a default secret; deployed functions refuse to start without a key.
const DEVELOPMENT_SECRET: &str = "answerpal-local-development-secret";
const TOKEN_HOURS: i64 = 24;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_text_logs();
    let port: u16 = match env_value("PORT") {
        Some(port) => port
            .parse()
            .map_err(|_| format!("PORT={port} is not a port number"))?,
        None => 3000,
    };
    let mut auth = AuthConfig::from_env();
    let development = auth.secret.is_none() && auth.public_key_pem.is_none();
    if development {
        auth.secret = Some(DEVELOPMENT_SECRET.into());
    }
    let authenticator = Authenticator::new(&auth)?;

    let (table, store): (Arc<dyn Table>, String) = match env_value("DYNAMODB_ENDPOINT") {
        Some(endpoint) => {
            let name = env_value("TABLE_NAME").unwrap_or_else(|| "end-users-local".into());
            let client = dynamodb::client(Some(&endpoint), None).await;
            let table = DynamoTable::new(client, &name);
            table.create_if_missing().await?;
            (
                Arc::new(table),
                format!("DynamoDB table {name} at {endpoint}"),
            )
        }
        None => (
            Arc::new(MemoryTable::new()),
            "the embedded table (data lives until the server stops)".into(),
        ),
    };
    let api = Arc::new(Api::new(table, authenticator, ALL_FAMILIES));
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let url = format!("http://{}", listener.local_addr()?);

    println!("End Users API on {url}, storing in {store}");
    if development {
        let token = hs256_token(DEVELOPMENT_SECRET, 1, TOKEN_HOURS * 3600)?;
        println!("JWT_SECRET is not set: tokens are checked against the development secret");
        println!("  {DEVELOPMENT_SECRET}");
        println!("A token for customerID 1, valid {TOKEN_HOURS} hours:");
        println!("  {token}");
        println!("Try:");
        println!("  curl -s -H 'Authorization: Bearer {token}' {url}/api/EndUsers");
    }
    answerpal_local::serve(listener, api).await?;
    Ok(())
}
