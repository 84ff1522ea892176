//! The tenant's channels: the inboxes, numbers and widgets its conversations arrive on.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::errors::FieldErrors;
use crate::domain::fields::{Change, Choice, TextRule};
use crate::domain::uid::{Uid, UidType};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChannelType {
    Email,
    #[serde(rename = "SMS")]
    Sms,
    WhatsApp,
    Webchat,
    Phone,
}

impl Choice for ChannelType {
    const ALL: &'static [Self] = &[
        Self::Email,
        Self::Sms,
        Self::WhatsApp,
        Self::Webchat,
        Self::Phone,
    ];
    fn name(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::Sms => "SMS",
            Self::WhatsApp => "WhatsApp",
            Self::Webchat => "Webchat",
            Self::Phone => "Phone",
        }
    }
}

impl ChannelType {
    /// The UID rules its address is normalized by: an e-mail address, an E.164 number, or text.
    fn address_rules(self) -> UidType {
        match self {
            ChannelType::Email => UidType::Email,
            ChannelType::Sms | ChannelType::Phone => UidType::Phone,
            ChannelType::WhatsApp => UidType::WhatsApp,
            ChannelType::Webchat => UidType::Webchat,
        }
    }
}

const NAME: TextRule = TextRule::trimmed(200);

/// A tenant's channel, as stored (responses show its [`ChannelView`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    #[serde(rename = "channelID")]
    pub id: u64,
    pub channel_type: ChannelType,
    pub address: String,
    pub name: Option<String>,
}

/// ChannelDTO.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelView<'a> {
    #[serde(rename = "channelID")]
    pub channel_id: u64,
    pub channel_type: ChannelType,
    pub address: &'a str,
    pub name: Option<&'a str>,
}

impl Channel {
    pub fn view(&self) -> ChannelView<'_> {
        ChannelView {
            channel_id: self.id,
            channel_type: self.channel_type,
            address: &self.address,
            name: self.name.as_deref(),
        }
    }
}

/// The body of `PUT /api/Customers/channels/{channelID}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelBody {
    #[serde(rename = "channelID", default)]
    pub channel_id: Value,
    pub channel_type: Option<String>,
    pub address: Option<String>,
    pub name: Option<String>,
}

impl Channel {
    /// Channel `id` as `body` describes it: type and address required, the address normalized as
    /// a UID of its type is (a national phone number has no country to read it in).
    pub fn parse(id: u64, body: &ChannelBody) -> Result<Channel, FieldErrors> {
        let mut errors = FieldErrors::default();
        let same_id = match &body.channel_id {
            Value::Null => true,
            Value::Number(n) => n.as_u64() == Some(id),
            Value::String(s) => s.trim().parse::<u64>().ok() == Some(id),
            _ => false,
        };
        if !same_id {
            errors.add("channelID", "must be the channelID of the path when given");
        }
        let channel_type = match body.channel_type.as_deref().map(str::trim) {
            None | Some("") => {
                errors.add("channelType", "is required");
                None
            }
            Some(raw) => errors.check("channelType", ChannelType::parse(raw).map(Some), None),
        };
        let address = match (body.address.as_deref(), channel_type) {
            (None, _) => {
                errors.add("address", "is required");
                None
            }
            (Some(raw), Some(kind)) => errors.check(
                "address",
                Uid::parse(kind.address_rules(), raw, None).map(|uid| Some(uid.value().to_owned())),
                None,
            ),
            (Some(_), None) => None,
        };
        let name = errors.check("name", NAME.read(body.name.as_deref()), Change::Keep);
        let (Some(channel_type), Some(address)) = (channel_type, address) else {
            return Err(errors);
        };
        let mut channel = Channel {
            id,
            channel_type,
            address,
            name: None,
        };
        name.apply_to(&mut channel.name);
        errors.into_result(channel)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> Result<Channel, FieldErrors> {
        Channel::parse(5, &serde_json::from_value(body).expect("a body"))
    }

    #[test]
    fn addresses_are_normalized_by_their_type() {
        let sms = parse(json!({"channelType": "sms", "address": "0032 470 12 34 56"})).expect("ok");
        assert_eq!(
            (sms.channel_type, sms.address.as_str()),
            (ChannelType::Sms, "+32470123456")
        );
        let wa = parse(json!({"channelType": "WhatsApp", "address": "whatsapp:+32470123456"}))
            .expect("ok");
        assert_eq!(wa.address, "+32470123456");
        let email = parse(
            json!({"channelType": "Email", "address": " Support@Example.COM ",
            "name": " Support "}),
        )
        .expect("ok");
        assert_eq!(email.address, "support@example.com");
        assert_eq!(email.name.as_deref(), Some("Support"));
        let chat =
            parse(json!({"channelType": "Webchat", "address": "Site Widget", "channelID": 5}))
                .expect("ok");
        assert_eq!(chat.address, "Site Widget");
        let value = serde_json::to_value(&sms).expect("json");
        assert_eq!(
            value,
            json!({"channelID": 5, "channelType": "SMS",
            "address": "+32470123456", "name": null})
        );
    }

    #[test]
    fn a_national_number_has_no_country_to_be_read_in() {
        let errors = parse(json!({"channelType": "Phone", "address": "0470 12 34 56"}))
            .expect_err("national");
        assert!(errors.contains("address"));
    }

    #[test]
    fn missing_or_invalid_fields_are_named() {
        let errors = parse(json!({"channelType": "Fax", "address": "x", "channelID": 6,
            "name": "n".repeat(201)}))
        .expect_err("invalid");
        for field in ["channelType", "channelID", "name"] {
            assert!(errors.contains(field), "{field}");
        }
        let errors = parse(json!({})).expect_err("empty");
        assert!(errors.contains("channelType") && errors.contains("address"));
        let errors = parse(json!({"channelType": "Email", "address": "not-an-address"}))
            .expect_err("bad e-mail");
        assert!(errors.contains("address"));
    }
}
