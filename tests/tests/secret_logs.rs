//! Requests that carry or return tenant secrets log none of them: every log line of the process
//! (the API's, the AWS SDK's at trace level, on DynamoDB and KMS over their wire protocol) is
//! captured while they run.

use std::io::Write;
use std::sync::{Arc, Mutex};

use answerpal_testkit::{TestApi, phone_token};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

/// Every line written, kept.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut lines) = self.0.lock() {
            lines.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const SECRETS: [(&str, &str); 4] = [
    ("twilioAuthToken", "leak-check-twilio-0b9f"),
    ("openAIApiKey", "leak-check-openai-77ad"),
    ("webhookSigningSecret", "leak-check-whsec-1c2e"),
    ("googleMapsApiKey", "leak-check-maps-93aa"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_with_secrets_log_none_of_them() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    for api in [TestApi::memory().await, TestApi::dynamodb().await] {
        let mut body = json!({"twilioAccountSID": "AC1"});
        for (field, value) in SECRETS {
            body[field] = value.into();
        }
        let saved = api.put("/api/Customers/me", 1, body.clone()).await;
        assert_eq!(saved.status, 200, "{:?}", saved.body);
        // Refused with a secret in the body: the problem names fields, never values.
        body["ticketCleanupRetentionDays"] = 0.into();
        assert_eq!(api.put("/api/Customers/me", 1, body).await.status, 400);
        let channel = json!({"channelType": "Phone", "address": "+3236416685"});
        api.put("/api/Customers/channels/3", 1, channel).await;
        let read = api
            .send_with(
                "GET",
                "/api/Customers/my-secrets",
                Some(phone_token(1, Some(3))),
                None,
            )
            .await;
        assert_eq!(
            read.body["openAIApiKey"], SECRETS[1].1,
            "the route returns them"
        );
        // The webhooks open the secrets on every request: signed, refused, and a forged one.
        let sms = json!({"channelType": "SMS", "address": "+32470999001"});
        api.put("/api/Customers/channels/2", 1, sms).await;
        let email = json!({"channelType": "Email", "address": "support@example.com"});
        api.put("/api/Customers/channels/1", 1, email).await;
        let params = [
            ("From", "+32470555111"),
            ("Body", "hello"),
            ("MessageSid", "SM-leak"),
        ];
        let twilio = api.twilio(1, 2, &params, SECRETS[0].1).await;
        assert_eq!(twilio.status, 200, "{:?}", twilio.body);
        let mail = json!({"from": {"email": "leak@example.com"}, "messageID": "leak-1",
            "textBody": "hello"});
        let signed = api.signed_webhook("email", 1, 1, &mail, SECRETS[2].1).await;
        assert_eq!(signed.status, 200, "{:?}", signed.body);
        let forged = api
            .signed_webhook("email", 1, 1, &mail, "not-the-secret")
            .await;
        assert_eq!(forged.status, 403);
    }

    let text = String::from_utf8_lossy(&captured.0.lock().expect("lines")).to_string();
    assert!(
        text.contains("/api/Customers/me")
            && text.contains("GenerateDataKey")
            && text.contains("/webhooks/twilio/{customerID}/{channelID}"),
        "the capture saw the requests, the webhooks and the SDK's KMS calls"
    );
    for (field, value) in SECRETS {
        assert!(!text.contains(value), "{field} was logged");
    }
}
