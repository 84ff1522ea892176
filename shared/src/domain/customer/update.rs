//! Reading `PUT /api/Customers/me`: every field of CustomerUpdateDTO checked against the current
//! settings, each failure named, nothing applied unless all pass.
//!
//! Absent or `null` keeps a setting; `""` clears it (a string or number to null, a flag to
//! false, `ticketCleanupRetentionDays` to its default); a value replaces it. Secrets are
//! write-only: `""` clears, a value replaces.

use serde_json::{Map, Value};

use super::connector::ConnectorPolicy;
use super::models::Catalog;
use super::secrets::SecretField;
use super::settings::{ApiAuthenticationType, DEFAULT_RETENTION_DAYS, EmailProviderType, Settings};
use crate::domain::errors::FieldErrors;
use crate::domain::fields::{Change, Choice};
use crate::domain::{MAX_ID, Secret, TenantId};

/// Longest text setting, URL, secret (in characters).
const MAX_TEXT_CHARS: usize = 256;
const MAX_URL_CHARS: usize = 2048;
const MAX_SECRET_CHARS: usize = 4096;
const MAX_PROJECT_IDS_CHARS: usize = 1024;
const RETENTION_DAYS: std::ops::RangeInclusive<u64> = 1..=3650;

/// The settings a valid update leaves, and what it does to each secret it names.
#[derive(Debug)]
pub struct SettingsUpdate {
    pub settings: Settings,
    pub secrets: Vec<(SecretField, Change<Secret>)>,
}

impl SettingsUpdate {
    /// Whether the update sets or clears a secret (the stored secrets must be sealed again).
    pub fn changes_secrets(&self) -> bool {
        self.secrets.iter().any(|(_, c)| *c != Change::Keep)
    }

    /// The update `body` makes to `current`; `connector` says what `apiBaseUrl` may name.
    pub fn read(
        body: &Map<String, Value>,
        current: &Settings,
        tenant: TenantId,
        catalog: &Catalog,
        connector: ConnectorPolicy,
    ) -> Result<SettingsUpdate, FieldErrors> {
        let mut read = Reader {
            body,
            errors: FieldErrors::default(),
        };
        let mut s = current.clone();
        read.field("apiBaseUrl", &mut s.api_base_url, |value| {
            crm_base_url(value, connector)
        });
        read.field("apiUsername", &mut s.api_username, text(MAX_TEXT_CHARS));
        read.field(
            "apiAuthenticationType",
            &mut s.api_authentication_type,
            choice::<ApiAuthenticationType>,
        );
        read.field(
            "emailProviderType",
            &mut s.email_provider_type,
            choice::<EmailProviderType>,
        );
        read.field(
            "graphTenantID",
            &mut s.graph_tenant_id,
            text(MAX_TEXT_CHARS),
        );
        read.field(
            "graphClientID",
            &mut s.graph_client_id,
            text(MAX_TEXT_CHARS),
        );
        read.field("graphAuthorityURL", &mut s.graph_authority_url, https_url);
        read.field("graphScope", &mut s.graph_scope, text(MAX_TEXT_CHARS));
        read.field("imapServer", &mut s.imap_server, host);
        read.field("imapPort", &mut s.imap_port, port);
        read.flag("imapUseSsl", &mut s.imap_use_ssl);
        read.field("smtpServer", &mut s.smtp_server, host);
        read.field("smtpPort", &mut s.smtp_port, port);
        read.flag("smtpUseSsl", &mut s.smtp_use_ssl);
        for (name, usage, id) in s.default_models() {
            read.field(name, id, |value| {
                let id = value
                    .as_u64()
                    .filter(|id| *id > 0)
                    .ok_or("must be a model id (a positive integer)")?;
                catalog.check_default(id, usage, tenant).map(|()| id)
            });
        }
        read.flag(
            "defaultEmailModelInternetAccessEnabled",
            &mut s.default_email_model_internet_access_enabled,
        );
        read.flag(
            "defaultWebchatModelInternetAccessEnabled",
            &mut s.default_webchat_model_internet_access_enabled,
        );
        read.flag(
            "defaultCallModelInternetAccessEnabled",
            &mut s.default_call_model_internet_access_enabled,
        );
        read.flag(
            "defaultRealtimeModelInternetAccessEnabled",
            &mut s.default_realtime_model_internet_access_enabled,
        );
        read.field(
            "twilioAccountSID",
            &mut s.twilio_account_sid,
            text(MAX_TEXT_CHARS),
        );
        read.field("twilioRegion", &mut s.twilio_region, text(MAX_TEXT_CHARS));
        read.field(
            "openAIProjectId",
            &mut s.open_ai_project_id,
            text(MAX_TEXT_CHARS),
        );
        read.field(
            "googleCloudProjectIds",
            &mut s.google_cloud_project_ids,
            text(MAX_PROJECT_IDS_CHARS),
        );
        read.field(
            "defaultCustomerRepID",
            &mut s.default_customer_rep_id,
            |value| {
                value
                    .as_u64()
                    .filter(|id| *id <= MAX_ID)
                    .ok_or_else(|| format!("must be a representative id (0 to {MAX_ID}; 0 clears)"))
            },
        );
        // 0 unassigns, as `customerRepID` does on a ticket.
        s.default_customer_rep_id = s.default_customer_rep_id.filter(|id| *id > 0);
        let mut days = Some(s.ticket_cleanup_retention_days);
        read.field("ticketCleanupRetentionDays", &mut days, |value| {
            value
                .as_u64()
                .filter(|d| RETENTION_DAYS.contains(d))
                .and_then(|d| u16::try_from(d).ok())
                .ok_or_else(|| "must be a whole number of days from 1 to 3650".to_owned())
        });
        s.ticket_cleanup_retention_days = days.unwrap_or(DEFAULT_RETENTION_DAYS);
        let secrets = SecretField::ALL
            .into_iter()
            .map(|field| (field, read.secret(field)))
            .filter(|(_, change)| *change != Change::Keep)
            .collect();
        read.errors.into_result(SettingsUpdate {
            settings: s,
            secrets,
        })
    }
}

struct Reader<'a> {
    body: &'a Map<String, Value>,
    errors: FieldErrors,
}

/// What the body says about one field.
enum Given<'a> {
    /// Absent or null: keep.
    Keep,
    /// `""` or blanks: clear.
    Clear,
    Value(&'a Value),
}

impl<'a> Reader<'a> {
    fn given(&self, name: &str) -> Given<'a> {
        let body: &'a Map<String, Value> = self.body;
        match body.get(name) {
            None | Some(Value::Null) => Given::Keep,
            Some(Value::String(s)) if s.trim().is_empty() => Given::Clear,
            Some(value) => Given::Value(value),
        }
    }

    fn field<T, E: Into<String>>(
        &mut self,
        name: &str,
        target: &mut Option<T>,
        parse: impl FnOnce(&Value) -> Result<T, E>,
    ) {
        match self.given(name) {
            Given::Keep => {}
            Given::Clear => *target = None,
            Given::Value(value) => match parse(value) {
                Ok(parsed) => *target = Some(parsed),
                Err(message) => self.errors.add(name, message),
            },
        }
    }

    fn flag(&mut self, name: &str, target: &mut bool) {
        match self.given(name) {
            Given::Keep => {}
            Given::Clear => *target = false,
            Given::Value(Value::Bool(value)) => *target = *value,
            Given::Value(_) => self.errors.add(name, "must be true or false"),
        }
    }

    /// A secret's change. Messages never repeat the value.
    fn secret(&mut self, field: SecretField) -> Change<Secret> {
        let name = field.name();
        match self.given(name) {
            Given::Keep => Change::Keep,
            Given::Clear => Change::Clear,
            Given::Value(Value::String(value)) => {
                if value.chars().count() > MAX_SECRET_CHARS {
                    self.errors.add(
                        name,
                        format!("must be at most {MAX_SECRET_CHARS} characters"),
                    );
                } else if value.chars().any(char::is_control) {
                    self.errors.add(name, "must not contain control characters");
                }
                Change::Set(Secret::new(value.as_str()))
            }
            Given::Value(_) => {
                self.errors.add(name, "must be a string");
                Change::Keep
            }
        }
    }
}

fn string(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .map(str::trim)
        .ok_or_else(|| "must be a string".to_owned())
}

/// Trimmed text of at most `max` characters, no control characters.
fn text(max: usize) -> impl Fn(&Value) -> Result<String, String> {
    move |value| {
        let text = string(value)?;
        if text.chars().count() > max {
            return Err(format!("must be at most {max} characters"));
        }
        if text.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(text.to_owned())
    }
}

/// An absolute `https` URL with a host.
fn https_url(value: &Value) -> Result<String, String> {
    let raw = url_text(value)?;
    let error = || "must be an absolute https URL".to_owned();
    let url = url::Url::parse(raw).map_err(|_| error())?;
    if url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return Err(error());
    }
    Ok(raw.to_owned())
}

/// The CRM connector's base URL (SPEC 10): an `https` URL whose host the connector may reach.
fn crm_base_url(value: &Value, connector: ConnectorPolicy) -> Result<String, String> {
    let raw = url_text(value)?;
    connector.base_url(raw)?;
    Ok(raw.to_owned())
}

/// A URL setting's text: a string of at most [`MAX_URL_CHARS`].
fn url_text(value: &Value) -> Result<&str, String> {
    let raw = string(value)?;
    if raw.len() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    Ok(raw)
}

/// A host name or IP address, as a mail server setting holds it.
fn host(value: &Value) -> Result<String, String> {
    let raw = string(value)?;
    if raw.len() > 253 || url::Host::parse(raw).is_err() || raw.contains([':', '/', '@']) {
        return Err("must be a host name or IP address".into());
    }
    Ok(raw.to_owned())
}

fn port(value: &Value) -> Result<u16, String> {
    value
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| "must be a port number from 1 to 65535".to_owned())
}

fn choice<C: Choice>(value: &Value) -> Result<C, String> {
    C::parse(string(value)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tenant() -> TenantId {
        TenantId::new(1).expect("tenant")
    }

    fn read(body: Value, current: &Settings) -> Result<SettingsUpdate, FieldErrors> {
        let body = body.as_object().expect("an object").clone();
        SettingsUpdate::read(
            &body,
            current,
            tenant(),
            Catalog::shipped(),
            ConnectorPolicy::PublicOnly,
        )
    }

    fn failed_fields(body: Value) -> Vec<String> {
        let errors = read(body, &Settings::default()).expect_err("invalid");
        let value = serde_json::to_value(&errors).expect("json");
        value.as_object().expect("map").keys().cloned().collect()
    }

    #[test]
    fn absent_and_null_keep_empty_clears_a_value_replaces() {
        let mut current = Settings {
            api_username: Some("robot".into()),
            imap_port: Some(993),
            imap_use_ssl: true,
            ticket_cleanup_retention_days: 30,
            default_customer_rep_id: Some(4),
            ..Settings::default()
        };
        current.twilio_region = Some("ie1".into());
        let update = read(
            json!({
                "apiUsername": null,
                "imapPort": "",
                "imapUseSsl": "",
                "twilioRegion": " us1 ",
                "ticketCleanupRetentionDays": "",
                "defaultCustomerRepID": 0,
                "apiAuthenticationType": "bearer",
                "unknownField": 12
            }),
            &current,
        )
        .expect("valid");
        let s = update.settings;
        assert_eq!(s.api_username.as_deref(), Some("robot"));
        assert_eq!((s.imap_port, s.imap_use_ssl), (None, false));
        assert_eq!(s.twilio_region.as_deref(), Some("us1"));
        assert_eq!(s.ticket_cleanup_retention_days, DEFAULT_RETENTION_DAYS);
        assert_eq!(s.default_customer_rep_id, None);
        assert_eq!(
            s.api_authentication_type,
            Some(ApiAuthenticationType::Bearer)
        );
        assert!(update.secrets.is_empty());
    }

    #[test]
    fn secrets_are_cleared_by_empty_and_replaced_by_a_value() {
        let update = read(
            json!({"twilioAuthToken": "tw-secret", "apiToken": "", "apiPassword": null}),
            &Settings::default(),
        )
        .expect("valid");
        assert_eq!(
            update.secrets,
            vec![
                (SecretField::ApiToken, Change::Clear),
                (
                    SecretField::TwilioAuthToken,
                    Change::Set(Secret::new("tw-secret"))
                ),
            ]
        );
        assert!(update.changes_secrets());
    }

    #[test]
    fn every_invalid_field_is_named() {
        let fields = failed_fields(json!({
            "ticketCleanupRetentionDays": 0,
            "imapPort": 70000,
            "smtpPort": "25",
            "apiBaseUrl": "http://crm.example.com",
            "graphAuthorityURL": "login.microsoftonline.com",
            "apiAuthenticationType": "Digest",
            "emailProviderType": 3,
            "imapUseSsl": "yes",
            "imapServer": "imap example com",
            "defaultTopicModelId": 7,
            "defaultEmailModelId": 9,
            "defaultSpamModelId": 999,
            "twilioAuthToken": 5,
            "apiUsername": "a\u{7}b"
        }));
        assert_eq!(
            fields,
            [
                "apiAuthenticationType",
                "apiBaseUrl",
                "apiUsername",
                "defaultEmailModelId",
                "defaultSpamModelId",
                "defaultTopicModelId",
                "emailProviderType",
                "graphAuthorityURL",
                "imapPort",
                "imapServer",
                "imapUseSsl",
                "smtpPort",
                "ticketCleanupRetentionDays",
                "twilioAuthToken"
            ]
        );
        assert_eq!(
            failed_fields(json!({"ticketCleanupRetentionDays": 3651})),
            ["ticketCleanupRetentionDays"]
        );
    }

    #[test]
    fn limits_are_inclusive() {
        let update = read(
            json!({
                "ticketCleanupRetentionDays": 3650,
                "imapPort": 65535,
                "smtpPort": 1,
                "apiBaseUrl": "https://crm.example.com/api",
                "imapServer": "imap.example.com",
                "smtpServer": "10.0.0.5",
                "defaultTranscribeModelId": 7
            }),
            &Settings::default(),
        )
        .expect("valid");
        assert_eq!(update.settings.ticket_cleanup_retention_days, 3650);
        assert_eq!(update.settings.default_transcribe_model_id, Some(7));
    }

    #[test]
    fn an_invalid_secret_is_named_without_its_value() {
        let long = "x".repeat(MAX_SECRET_CHARS + 1);
        let errors =
            read(json!({"openAIApiKey": long}), &Settings::default()).expect_err("too long");
        let text = serde_json::to_string(&errors).expect("json");
        assert!(text.contains("openAIApiKey") && !text.contains("xxxx"));
    }
}
