//! Prints the OpenAPI document of every route (`cargo run -p answerpal-openapi > docs/openapi.json`).

fn main() -> Result<(), String> {
    let document = answerpal_openapi::document(&answerpal_openapi::routes())?;
    let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}
