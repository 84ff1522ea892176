//! `seed-events ENDPOINT TABLE SECRETS_KEY`: creates TABLE on the DynamoDB-compatible ENDPOINT
//! and writes the data the committed `events/` expect (as `tests/tests/events.rs` seeds its
//! embedded tables), tenant 1's secrets sealed with the local key SECRETS_KEY.
//! `scripts/sam-events.sh` runs it before each `sam local invoke`.

use answerpal::config::DynamoSettings;
use answerpal::domain::Secret;
use answerpal::store::dynamodb::{self, DynamoTable};
use answerpal::vault::Vault;
use answerpal::vault::local::LocalKeys;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, name, key] = args.as_slice() else {
        return Err("usage: seed-events ENDPOINT TABLE SECRETS_KEY".into());
    };
    let client = dynamodb::client(&DynamoSettings::local(endpoint), None);
    let table = DynamoTable::new(client, name.as_str());
    table.create_if_missing().await?;
    let vault = Vault::new(LocalKeys::from_base64(&Secret::new(key.as_str()))?);
    answerpal_testkit::seed_example_end_user(&table).await;
    answerpal_testkit::seed_example_channels(&table).await;
    answerpal_testkit::seed_example_ticket(&table).await;
    answerpal_testkit::seed_example_merge(&table).await;
    answerpal_testkit::seed_example_duplicate(&table).await;
    answerpal_testkit::seed_example_unlinked(&table).await;
    answerpal_testkit::seed_example_secrets(&table, &vault).await;
    Ok(())
}
