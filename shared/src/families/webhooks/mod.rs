//! The `webhooks` family: inbound channel messages, `/webhooks/...` (its function:
//! `functions/webhooks`). No JWT: each route checks its provider's signature, keyed with the
//! tenant's own secret. Checks run in SPEC 5's order: signature, tenant and secret (403, nothing
//! stored), then the channel (404), then the payload (400). The body is parsed once
//! (`payload`); what the checks read comes from one batch read of the inbound service.

mod payload;

use std::sync::Arc;

use self::payload::Payload;
use crate::domain::customer::{Account, Channel, ChannelType, SecretField};
use crate::domain::{TenantId, parse_id};
use crate::error::ApiError;
use crate::http::request::{Call, Caller, Signed};
use crate::http::response::{Reply, json};
use crate::http::router::{AuthPolicy, Family, Route};
use crate::http::signature;
use crate::service::inbound::{self, Inbound, SenderRead};
use crate::store::Table;
use crate::store::delivery::Delivered;
use crate::vault::Vault;
use crate::vault::suppression::Suppressions;
use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};

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

pub struct Webhooks {
    table: Arc<dyn Table>,
    vault: Arc<Vault>,
    /// Screens the addresses a message links (SPEC 9).
    suppressions: Arc<Suppressions>,
}

impl Webhooks {
    pub fn new(table: Arc<dyn Table>, vault: Arc<Vault>, suppressions: Arc<Suppressions>) -> Self {
        Webhooks {
            table,
            vault,
            suppressions,
        }
    }
}

/// What the signature check read and parsed, for the handler: the tenant's account, the
/// channel, an earlier delivery of the message, and the body.
struct Verified {
    account: Account,
    channel: Option<Channel>,
    delivered: Option<Delivered>,
    payload: Payload,
    /// The message, or why the payload is not one (answered after the channel check).
    message: Result<Inbound, ApiError>,
    senders: SenderRead,
}

fn refused(reason: &str) -> ApiError {
    ApiError::Forbidden(format!("webhook refused: {reason}"))
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

/// Whether `payload`, signed as `call` says, carries the signature `secret` makes.
fn signed_with(call: &Call<'_>, payload: &Payload, secret: &str) -> Result<bool, ApiError> {
    Ok(match payload {
        Payload::Twilio { params, .. } => {
            let signature = signature_header(call, "x-twilio-signature")?;
            signature::twilio_is_valid(secret, &call.public_url(), params, signature)
        }
        Payload::Email(_) | Payload::Webchat(_) => signature::sha256_is_valid(
            secret,
            call.request.body().as_ref(),
            signature_header(call, "x-webhook-signature")?,
        ),
    })
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
        let payload = Payload::read(op, call);
        let message = payload.inbound();
        let checked = inbound::read_for_checks(
            self.table.as_ref(),
            tenant,
            channel_id,
            payload.message_id(),
            message.as_ref().ok(),
        )
        .await?;
        // A tenant that saved no account has no secret either.
        let account = checked
            .account
            .ok_or_else(|| refused("the customer has no secret for this webhook"))?;
        let secret = self.signing_secret(tenant, &account, op).await?;
        if !signed_with(call, &payload, secret.expose())? {
            return Err(refused("the signature does not match"));
        }
        let verified = Verified {
            account,
            channel: checked.channel,
            delivered: checked.delivered,
            payload,
            message,
            senders: checked.senders,
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
        let channel = matching_channel(op, verified)?;
        let delivered = match &verified.delivered {
            Some(earlier) => earlier.clone(),
            None => {
                // Not a message: the 415 or 400 why.
                let message = verified.message.as_ref().map_err(Clone::clone)?;
                let settings = &verified.account.settings;
                let senders = verified.senders.clone();
                let (table, suppressions) = (self.table.as_ref(), self.suppressions.as_ref());
                let tenant = signed.tenant;
                inbound::record(
                    table,
                    suppressions,
                    tenant,
                    settings,
                    channel,
                    message,
                    senders,
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

/// The channel the path names, when it is one of the tenant's of the route's type (Twilio: a
/// WhatsApp `From` on a WhatsApp channel, any other on an SMS one); else 404.
fn matching_channel(op: Op, verified: &Verified) -> Result<&Channel, ApiError> {
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
    match verified.payload.twilio_channel() {
        Some(kind) if kind != channel.channel_type => {
            let kind = match kind {
                ChannelType::WhatsApp => "WhatsApp",
                _ => "SMS",
            };
            Err(ApiError::NotFound(format!(
                "channel {} is not a {kind} channel",
                channel.id
            )))
        }
        _ => Ok(channel),
    }
}

/// What the e-mail and web chat webhooks answer for a recorded message.
/// The schemas of the family's bodies and answers.
#[cfg(feature = "openapi")]
pub(super) fn schemas(found: &mut Vec<super::NamedSchema>) {
    super::add::<RecordedView>(found);
    payload::schemas(found);
}

#[derive(serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
