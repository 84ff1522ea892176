//! A webhook's body, parsed once before its signature is checked: the form parameters Twilio
//! signs, or the e-mail or web chat JSON, with what the signature check and the handler read of
//! it (the provider's message id for the first batch read, the sender's kind for the channel
//! check, the message itself). A body that does not parse is answered only after the 403 and
//! 404 checks, as SPEC 5 orders them.

use serde::Deserialize;

use super::Op;
use crate::domain::Timestamp;
use crate::domain::consent::{self, ConsentChange};
use crate::domain::customer::ChannelType;
use crate::domain::errors::FieldErrors;
use crate::domain::uid::{Uid, UidType};
use crate::error::ApiError;
use crate::http::request::Call;
use crate::service::inbound::Inbound;

/// Longest provider message id accepted.
const MAX_MESSAGE_ID_CHARS: usize = 256;

pub(super) enum Payload {
    Twilio {
        /// The parameters as posted, in order: what the signature covers.
        params: Vec<(String, String)>,
        /// Whether the body was sent as a form (else the 415 it answers after the checks).
        as_form: Result<(), ApiError>,
    },
    Email(Result<EmailPayload, ApiError>),
    Webchat(Result<WebchatPayload, ApiError>),
}

impl Payload {
    pub fn read(op: Op, call: &Call<'_>) -> Payload {
        match op {
            Op::Twilio => {
                let body: &[u8] = call.request.body().as_ref();
                Payload::Twilio {
                    params: form_urlencoded::parse(body)
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect(),
                    as_form: call.form_type(),
                }
            }
            Op::Email => Payload::Email(call.json()),
            Op::Webchat => Payload::Webchat(call.json()),
        }
    }

    fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The provider's id of the message when it is a usable one, read leniently: the payload is
    /// only validated after the signature.
    pub fn message_id(&self) -> Option<&str> {
        let id = match self {
            Payload::Twilio { params, .. } => Self::param(params, "MessageSid"),
            Payload::Email(Ok(payload)) => payload.message_id.as_deref(),
            Payload::Webchat(Ok(payload)) => payload.message_id.as_deref(),
            Payload::Email(Err(_)) | Payload::Webchat(Err(_)) => None,
        }?;
        let id = id.trim();
        (!id.is_empty() && id.chars().count() <= MAX_MESSAGE_ID_CHARS).then_some(id)
    }

    /// The channel type the sender writes on: Twilio's `From: whatsapp:+32...` a WhatsApp
    /// channel, any other `From` an SMS one; `None` where the route alone says it.
    pub fn twilio_channel(&self) -> Option<ChannelType> {
        let Payload::Twilio { params, .. } = self else {
            return None;
        };
        let whatsapp = Self::param(params, "From").is_some_and(is_whatsapp);
        Some(match whatsapp {
            true => ChannelType::WhatsApp,
            false => ChannelType::Sms,
        })
    }

    /// The message as recorded; 415 or 400 when the body is not one.
    pub fn inbound(&self) -> Result<Inbound, ApiError> {
        match self {
            Payload::Twilio { params, as_form } => {
                as_form.clone()?;
                twilio_message(params)
            }
            Payload::Email(payload) => email_message(payload.as_ref().map_err(Clone::clone)?),
            Payload::Webchat(payload) => webchat_message(payload.as_ref().map_err(Clone::clone)?),
        }
    }
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

/// An inbound SMS or WhatsApp message: `From: whatsapp:+32...` is a WhatsApp UID, any other
/// `From` a phone number.
fn twilio_message(params: &[(String, String)]) -> Result<Inbound, ApiError> {
    let field = |name: &str| Payload::param(params, name);
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
    let text = field("Body").unwrap_or_default().to_owned();
    let received_at = Timestamp::now();
    let consent = consent::from_twilio(field("OptOutType"), &text)
        .map(|status| ConsentChange::by_twilio(status, &provider_message_id, received_at));
    Ok(Inbound {
        from: sender.value().to_owned(),
        sender,
        display_name: field("ProfileName").map(str::to_owned),
        email: None,
        provider_message_id,
        text,
        subject: None,
        received_at,
        consent,
    })
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(super) struct EmailAddress {
    email: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(super) struct EmailPayload {
    from: Option<EmailAddress>,
    subject: Option<String>,
    #[serde(rename = "messageID")]
    message_id: Option<String>,
    text_body: Option<String>,
    received_at: Option<String>,
}

fn email_message(payload: &EmailPayload) -> Result<Inbound, ApiError> {
    let mut errors = FieldErrors::default();
    let from = payload.from.as_ref().and_then(|f| f.email.as_deref());
    let sender = required_uid(from, UidType::Email, "from.email", &mut errors);
    let provider_message_id =
        required_message_id(payload.message_id.as_deref(), &mut errors, "messageID");
    if payload.text_body.is_none() {
        errors.add("textBody", "is required");
    }
    let received_at = match payload.received_at.clone() {
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
        display_name: payload.from.as_ref().and_then(|f| f.name.clone()),
        email: None,
        provider_message_id,
        text: payload.text_body.clone().unwrap_or_default(),
        subject: payload.subject.clone().filter(|s| !s.trim().is_empty()),
        received_at,
        consent: None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(super) struct WebchatPayload {
    #[serde(rename = "visitorID")]
    visitor_id: Option<String>,
    #[serde(rename = "messageID")]
    message_id: Option<String>,
    text: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

fn webchat_message(payload: &WebchatPayload) -> Result<Inbound, ApiError> {
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
    let text = match &payload.text {
        Some(text) if !text.trim().is_empty() => text.clone(),
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
        display_name: payload.name.clone(),
        email,
        provider_message_id,
        text,
        subject: None,
        received_at: Timestamp::now(),
        consent: None,
    })
}

#[cfg(feature = "openapi")]
pub(super) fn schemas(found: &mut Vec<crate::families::NamedSchema>) {
    crate::families::add::<EmailPayload>(found);
    crate::families::add::<WebchatPayload>(found);
}
