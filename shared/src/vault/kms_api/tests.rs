use serde_json::json;

use super::*;
use crate::testing::{self, Canned};

fn answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn kms_answering(status: &str, body: &str) -> (KmsApi, Canned) {
    let server = testing::plain_server(answer(status, body)).await;
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    (
        KmsApi::new(&DynamoSettings::local(&endpoint), Some(&endpoint)),
        server,
    )
}

#[tokio::test]
async fn a_call_is_one_signed_json_post_naming_its_operation() {
    let (kms, server) = kms_answering("200 OK", r#"{"Mac":"bWFj","KeyId":"k"}"#).await;
    let answer = kms
        .call("GenerateMac", &json!({"KeyId": "k", "Message": "bQ=="}))
        .await
        .expect("an answer");
    assert_eq!(answer["Mac"], "bWFj");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = requests[0].to_ascii_lowercase();
    assert!(request.starts_with("post / http/1.1\r\n"), "{request}");
    assert!(request.contains("x-amz-target: trentservice.generatemac\r\n"));
    assert!(request.contains("content-type: application/x-amz-json-1.1\r\n"));
    assert!(request.contains("authorization: aws4-hmac-sha256 credential=local/"));
    assert!(request.contains("/us-east-1/kms/aws4_request"));
    assert!(
        request.ends_with(r#"{"keyid":"k","message":"bq=="}"#),
        "{request}"
    );
}

#[tokio::test]
async fn a_refusal_is_not_retried() {
    let refused = r#"{"__type":"AccessDeniedException","message":"not yours"}"#;
    let (kms, server) = kms_answering("400 Bad Request", refused).await;
    let outcome = kms.call("GenerateMac", &json!({})).await;
    match outcome {
        Err(VaultError::Internal(message)) => {
            assert!(
                message.contains("AccessDeniedException (400): not yours"),
                "{message}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn throttling_and_server_errors_are_tried_three_times_then_unavailable() {
    let throttled = r#"{"__type":"com.amazonaws.kms#ThrottlingException","Message":"slow down"}"#;
    for (status, body) in [
        ("400 Bad Request", throttled),
        ("500 Internal Server Error", "{}"),
    ] {
        let (kms, server) = kms_answering(status, body).await;
        let outcome = kms.call("Decrypt", &json!({})).await;
        assert!(
            matches!(outcome, Err(VaultError::Unavailable(_))),
            "{status}: {outcome:?}"
        );
        assert_eq!(server.requests().len(), 3, "{status}");
    }
}

#[tokio::test]
async fn an_unreadable_answer_is_an_error_not_a_panic() {
    let (kms, _server) = kms_answering("200 OK", "not json").await;
    let outcome = kms.call("GenerateMac", &json!({})).await;
    assert!(
        matches!(outcome, Err(VaultError::Internal(_))),
        "{outcome:?}"
    );
    let (kms, _server) = kms_answering("200 OK", "").await;
    let outcome = kms.call("DisableKey", &json!({})).await;
    assert_eq!(
        outcome.ok(),
        Some(json!({})),
        "an empty answer reads as no fields"
    );
}

#[test]
fn blobs_are_base64_and_keys_are_256_bits() {
    assert_eq!(encoded(b"key"), "a2V5");
    let answer = json!({"Blob": "a2V5", "Bad": "***", "Number": 7, "Key": encoded(&[7u8; 32])});
    assert_eq!(blob(&answer, "Blob").expect("base64"), b"key");
    for refused in ["Bad", "Number", "Missing"] {
        assert!(blob(&answer, refused).is_err(), "{refused}");
    }
    assert!(key_bytes(&answer, "Blob").is_err(), "not 256 bits");
    assert_eq!(key_bytes(&answer, "Key").expect("32 bytes"), [7u8; 32]);
}
