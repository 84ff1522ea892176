//! The `webhooks` family: inbound channel messages, `/webhooks/...` (its function:
//! `functions/webhooks`). No JWT: each route checks its provider's signature, keyed with the
//! tenant's own secret. Checks run in SPEC 5's order: signature, tenant and secret (403, nothing
//! stored), then the channel (404), then the payload (400).

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};
use serde::Deserialize;

use crate::domain::customer::{Account, Channel, ChannelType, SecretField};
use crate::domain::errors::FieldErrors;
use crate::domain::uid::{Uid, UidType};
use crate::domain::{TenantId, Timestamp, parse_id};
use crate::error::ApiError;
use crate::http::request::{Call, Caller, Signed};
use crate::http::response::{Reply, json};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::http::signature;
use crate::service::inbound::{self, Inbound};
use crate::store::delivery::{self, Delivered};
use crate::store::{Key, Table, account, channel};
use crate::vault::Vault;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Twilio,
    Email,
    Webchat,
}

const ROUTES: &[Route<Op>] = &[
    Route::new(
        Method::POST,
        "/webhooks/twilio/{customerID}/{channelID}",
        AuthPolicy::TenantSignature,
        Op::Twilio,
    ),
    Route::new(
        Method::POST,
        "/webhooks/email/{customerID}/{channelID}",
        AuthPolicy::TenantSignature,
        Op::Email,
    ),
    Route::new(
        Method::POST,
        "/webhooks/webchat/{customerID}/{channelID}",
        AuthPolicy::TenantSignature,
        Op::Webchat,
    ),
];

/// Longest provider message id accepted.
const MAX_MESSAGE_ID_CHARS: usize = 256;

pub struct Webhooks {
    table: Arc<dyn Table>,
    vault: Arc<Vault>,
}

impl Webhooks {
    pub fn new(table: Arc<dyn Table>, vault: Arc<Vault>) -> Self {
        Webhooks { table, vault }
    }
}

/// What the signature check read, for the handler: one batch read of the tenant's account, the
/// channel and an earlier delivery of the message.
struct Verified {
    account: Account,
    channel: Option<Channel>,
    delivered: Option<Delivered>,
}

fn refused(reason: &str) -> ApiError {
    ApiError::Forbidden(format!("webhook refused: {reason}"))
}

/// The provider's id of the message, read leniently before the signature is checked (the
/// payload is only validated after it).
fn provider_message_id(op: Op, call: &Call<'_>) -> Option<String> {
    let body: &[u8] = call.request.body().as_ref();
    let id = match op {
        Op::Twilio => form_urlencoded::parse(body)
            .find(|(name, _)| name == "MessageSid")
            .map(|(_, value)| value.into_owned()),
        Op::Email | Op::Webchat => serde_json::from_slice::<serde_json::Value>(body)
            .ok()?
            .get("messageID")?
            .as_str()
            .map(str::to_owned),
    }?;
    let id = id.trim().to_owned();
    (!id.is_empty() && id.chars().count() <= MAX_MESSAGE_ID_CHARS).then_some(id)
}

/// The one signature header `name` (empty when missing); two of them are refused whatever
/// their order, as two `Authorization` headers are.
fn signature_header<'a>(call: &'a Call<'_>, name: &str) -> Result<&'a str, ApiError> {
    let mut values = call.request.headers().get_all(name).iter();
    let first = values.next().and_then(|v| v.to_str().ok());
    if values.next().is_some() {
        return Err(refused("a repeated signature header"));
    }
    Ok(first.unwrap_or_default())
}

impl Webhooks {
    /// The account's secret that signs `op`'s requests; 403 when it is not configured.
    async fn signing_secret(
        &self,
        tenant: TenantId,
        account: &Account,
        op: Op,
    ) -> Result<crate::domain::Secret, ApiError> {
        let field = match op {
            Op::Twilio => SecretField::TwilioAuthToken,
            Op::Email | Op::Webchat => SecretField::WebhookSigningSecret,
        };
        let not_configured = || refused("the customer has no secret for this webhook");
        let sealed = account.sealed.as_ref().ok_or_else(not_configured)?;
        let secrets = self.vault.open(tenant, sealed).await?;
        secrets.get(field).cloned().ok_or_else(not_configured)
    }
}

#[async_trait]
impl Family for Webhooks {
    type Op = Op;

    fn routes(&self) -> &'static [Route<Op>] {
        ROUTES
    }

    async fn verify_signature(&self, op: Op, call: &Call<'_>) -> Result<Signed, ApiError> {
        let tenant = parse_id(call.param("customerID")?)
            .ok()
            .and_then(TenantId::new)
            .ok_or_else(|| refused("unknown customer"))?;
        let channel_id = parse_id(call.param("channelID")?).ok();
        let message_id = provider_message_id(op, call);
        let account_key = account::key(tenant);
        let channel_key = channel_id.map(|id| channel::key(tenant, id));
        let delivery_key = channel_id
            .zip(message_id.as_deref())
            .map(|(channel, id)| delivery::key(tenant, channel, id));
        let mut keys = vec![account_key.clone()];
        keys.extend(channel_key.clone());
        keys.extend(delivery_key.clone());
        let items = self.table.batch_get(&keys).await?;
        let find = |key: &Key| key.find_in(&items).cloned();
        // A tenant that saved no account has no secret either.
        let account = find(&account_key)
            .map(account::from_item)
            .transpose()?
            .ok_or_else(|| refused("the customer has no secret for this webhook"))?;
        let secret = self.signing_secret(tenant, &account, op).await?;
        let valid = match op {
            Op::Twilio => {
                let body: &[u8] = call.request.body().as_ref();
                let params: Vec<(String, String)> = form_urlencoded::parse(body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let signature = signature_header(call, "x-twilio-signature")?;
                signature::twilio_is_valid(secret.expose(), &call.public_url(), &params, signature)
            }
            Op::Email | Op::Webchat => signature::sha256_is_valid(
                secret.expose(),
                call.request.body().as_ref(),
                signature_header(call, "x-webhook-signature")?,
            ),
        };
        if !valid {
            return Err(refused("the signature does not match"));
        }
        let verified = Verified {
            account,
            channel: channel_key
                .and_then(|key| find(&key))
                .map(channel::from_item)
                .transpose()?,
            delivered: delivery_key
                .and_then(|key| find(&key))
                .map(delivery::from_item)
                .transpose()?,
        };
        Ok(Signed::with_context(tenant, verified))
    }

    async fn call(&self, op: Op, call: &Call<'_>) -> Result<Reply, ApiError> {
        let Caller::SignedBy(signed) = call.caller() else {
            return Err(ApiError::Internal("a webhook without its signature".into()));
        };
        let verified = signed
            .context::<Verified>()
            .ok_or_else(|| ApiError::Internal("a webhook without what its check read".into()))?;
        let accepted: &[ChannelType] = match op {
            Op::Twilio => &[ChannelType::Sms, ChannelType::WhatsApp],
            Op::Email => &[ChannelType::Email],
            Op::Webchat => &[ChannelType::Webchat],
        };
        let channel = verified
            .channel
            .as_ref()
            .filter(|c| accepted.contains(&c.channel_type))
            .ok_or_else(|| ApiError::NotFound("no channel of this type with that id".into()))?;
        if op == Op::Twilio {
            twilio_channel_matches(call, channel)?;
        }
        let delivered = match &verified.delivered {
            Some(earlier) => earlier.clone(),
            None => {
                let message = match op {
                    Op::Twilio => twilio_message(call)?,
                    Op::Email => email_message(call)?,
                    Op::Webchat => webchat_message(call)?,
                };
                let settings = &verified.account.settings;
                inbound::record(
                    self.table.as_ref(),
                    signed.tenant,
                    settings,
                    channel,
                    &message,
                )
                .await?
            }
        };
        match op {
            Op::Twilio => Ok(twiml_ok()),
            Op::Email | Op::Webchat => json(StatusCode::OK, &RecordedView::of(&delivered)),
        }
    }
}

/// What the e-mail and web chat webhooks answer for a recorded message.
#[derive(serde::Serialize)]
struct RecordedView {
    #[serde(rename = "ticketID")]
    ticket_id: u64,
    #[serde(rename = "endUserID")]
    end_user_id: u64,
    #[serde(rename = "messageID")]
    message_id: u64,
}

impl RecordedView {
    fn of(delivered: &Delivered) -> Self {
        RecordedView {
            ticket_id: delivered.ticket_id,
            end_user_id: delivered.end_user_id,
            message_id: delivered.message_id,
        }
    }
}

/// Twilio's expected answer: an empty TwiML document.
fn twiml_ok() -> Reply {
    Reply::xml(r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#)
}

fn invalid(errors: FieldErrors) -> ApiError {
    ApiError::Validation(errors)
}

/// The sender's UID of type `uid_type` in payload field `field`; a missing one is recorded as
/// required, an invalid one with why.
fn required_uid(
    raw: Option<&str>,
    uid_type: UidType,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<Uid> {
    let Some(raw) = raw else {
        errors.add(field, "is required");
        return None;
    };
    errors.check(field, Uid::parse(uid_type, raw, None).map(Some), None)
}

fn required_message_id(raw: Option<&str>, errors: &mut FieldErrors, field: &str) -> String {
    match raw.map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) if id.chars().count() <= MAX_MESSAGE_ID_CHARS => id.to_owned(),
        Some(_) => {
            errors.add(
                field,
                format!("must be at most {MAX_MESSAGE_ID_CHARS} characters"),
            );
            String::new()
        }
        None => {
            errors.add(field, "is required");
            String::new()
        }
    }
}

/// Whether a Twilio `From` is a WhatsApp address (`whatsapp:+32...`) rather than a number.
fn is_whatsapp(from: &str) -> bool {
    from.trim()
        .get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("whatsapp:"))
}

/// A WhatsApp message must come in on a WhatsApp channel, an SMS on an SMS one (else 404).
fn twilio_channel_matches(call: &Call<'_>, channel: &Channel) -> Result<(), ApiError> {
    let body: &[u8] = call.request.body().as_ref();
    let whatsapp = form_urlencoded::parse(body)
        .find(|(name, _)| name == "From")
        .is_some_and(|(_, from)| is_whatsapp(&from));
    let kind = if whatsapp {
        ChannelType::WhatsApp
    } else {
        ChannelType::Sms
    };
    if kind != channel.channel_type {
        return Err(ApiError::NotFound(format!(
            "channel {} is not a {} channel",
            channel.id,
            if whatsapp { "WhatsApp" } else { "SMS" }
        )));
    }
    Ok(())
}

/// An inbound SMS or WhatsApp message: `From: whatsapp:+32...` is a WhatsApp UID, any other
/// `From` a phone number.
fn twilio_message(call: &Call<'_>) -> Result<Inbound, ApiError> {
    let form = call.form()?;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut errors = FieldErrors::default();
    let from = field("From").unwrap_or_default();
    let uid_type = match is_whatsapp(from) {
        true => UidType::WhatsApp,
        false => UidType::Phone,
    };
    let from = Some(from.trim()).filter(|f| !f.is_empty());
    let sender = required_uid(from, uid_type, "From", &mut errors);
    let provider_message_id = required_message_id(field("MessageSid"), &mut errors, "MessageSid");
    let Some(sender) = sender else {
        return Err(invalid(errors));
    };
    errors.into_result(()).map_err(invalid)?;
    Ok(Inbound {
        from: sender.value().to_owned(),
        sender,
        display_name: field("ProfileName").map(str::to_owned),
        email: None,
        provider_message_id,
        text: field("Body").unwrap_or_default().to_owned(),
        subject: None,
        received_at: Timestamp::now(),
    })
}

#[derive(Deserialize)]
struct EmailAddress {
    email: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmailPayload {
    from: Option<EmailAddress>,
    subject: Option<String>,
    #[serde(rename = "messageID")]
    message_id: Option<String>,
    text_body: Option<String>,
    received_at: Option<String>,
}

fn email_message(call: &Call<'_>) -> Result<Inbound, ApiError> {
    let payload: EmailPayload = call.json()?;
    let mut errors = FieldErrors::default();
    let from = payload.from.as_ref().and_then(|f| f.email.as_deref());
    let sender = required_uid(from, UidType::Email, "from.email", &mut errors);
    let provider_message_id =
        required_message_id(payload.message_id.as_deref(), &mut errors, "messageID");
    if payload.text_body.is_none() {
        errors.add("textBody", "is required");
    }
    let received_at = match payload.received_at {
        None => Timestamp::now(),
        Some(raw) => errors.check(
            "receivedAt",
            Timestamp::try_from(raw).map_err(|_| "must be an RFC 3339 timestamp".to_owned()),
            Timestamp::now(),
        ),
    };
    let Some(sender) = sender else {
        return Err(invalid(errors));
    };
    errors.into_result(()).map_err(invalid)?;
    Ok(Inbound {
        from: sender.value().to_owned(),
        sender,
        display_name: payload.from.and_then(|f| f.name),
        email: None,
        provider_message_id,
        text: payload.text_body.unwrap_or_default(),
        subject: payload.subject.filter(|s| !s.trim().is_empty()),
        received_at,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebchatPayload {
    #[serde(rename = "visitorID")]
    visitor_id: Option<String>,
    #[serde(rename = "messageID")]
    message_id: Option<String>,
    text: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

fn webchat_message(call: &Call<'_>) -> Result<Inbound, ApiError> {
    let payload: WebchatPayload = call.json()?;
    let mut errors = FieldErrors::default();
    let visitor = payload.visitor_id.as_deref();
    let sender = required_uid(visitor, UidType::Webchat, "visitorID", &mut errors);
    let email = match payload
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(raw) => errors.check(
            "email",
            Uid::parse(UidType::Email, raw, None).map(Some),
            None,
        ),
        None => None,
    };
    let provider_message_id =
        required_message_id(payload.message_id.as_deref(), &mut errors, "messageID");
    let text = match payload.text {
        Some(text) if !text.trim().is_empty() => text,
        _ => {
            errors.add("text", "is required");
            String::new()
        }
    };
    let Some(sender) = sender else {
        return Err(invalid(errors));
    };
    errors.into_result(()).map_err(invalid)?;
    Ok(Inbound {
        from: payload
            .name
            .clone()
            .unwrap_or_else(|| sender.value().to_owned()),
        sender,
        display_name: payload.name,
        email,
        provider_message_id,
        text,
        subject: None,
        received_at: Timestamp::now(),
    })
}
