//! Writes the OpenAPI document of every route to docs/openapi.json (`cargo run -p
//! answerpal-openapi`), where the openapi family serves it from.

fn main() -> Result<(), String> {
    let document = answerpal_openapi::document(&answerpal_openapi::routes())?;
    let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
    let path = format!(
        "{}/../{}",
        env!("CARGO_MANIFEST_DIR"),
        answerpal_openapi::DOCUMENT_PATH
    );
    std::fs::write(&path, text + "\n").map_err(|e| format!("{path}: {e}"))?;
    println!("wrote {}", answerpal_openapi::DOCUMENT_PATH);
    Ok(())
}
