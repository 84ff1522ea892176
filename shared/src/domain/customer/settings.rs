//! The tenant's account settings (CustomerUpdateDTO without its secrets) and what the account
//! routes answer: CustomerReadDTO and the provider secrets of `my-secrets`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::models::Usage;
use super::secrets::{Sealed, SecretField, SecretValues};
use crate::domain::TenantId;
use crate::domain::fields::Choice;

/// `ticketCleanupRetentionDays` of a tenant that never set it.
pub const DEFAULT_RETENTION_DAYS: u16 = 90;

/// How the outbound API connector authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ApiAuthenticationType {
    None,
    Basic,
    Bearer,
    ApiKey,
}

impl Choice for ApiAuthenticationType {
    const ALL: &'static [Self] = &[Self::None, Self::Basic, Self::Bearer, Self::ApiKey];
    fn name(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Basic => "Basic",
            Self::Bearer => "Bearer",
            Self::ApiKey => "ApiKey",
        }
    }
}

/// Where the tenant's e-mail comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EmailProviderType {
    None,
    Graph,
    Imap,
}

impl Choice for EmailProviderType {
    const ALL: &'static [Self] = &[Self::None, Self::Graph, Self::Imap];
    fn name(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Graph => "Graph",
            Self::Imap => "Imap",
        }
    }
}

/// Every non-secret setting, as stored and as CustomerReadDTO shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    pub api_base_url: Option<String>,
    pub api_username: Option<String>,
    pub api_authentication_type: Option<ApiAuthenticationType>,
    pub email_provider_type: Option<EmailProviderType>,
    #[serde(rename = "graphTenantID")]
    pub graph_tenant_id: Option<String>,
    #[serde(rename = "graphClientID")]
    pub graph_client_id: Option<String>,
    #[serde(rename = "graphAuthorityURL")]
    pub graph_authority_url: Option<String>,
    pub graph_scope: Option<String>,
    pub imap_server: Option<String>,
    pub imap_port: Option<u16>,
    pub imap_use_ssl: bool,
    pub smtp_server: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_use_ssl: bool,
    pub default_topic_model_id: Option<u64>,
    pub default_webchat_model_id: Option<u64>,
    pub default_email_model_id: Option<u64>,
    pub default_call_model_id: Option<u64>,
    pub default_spam_model_id: Option<u64>,
    pub default_conditional_rules_model_id: Option<u64>,
    pub default_summary_model_id: Option<u64>,
    pub default_realtime_model_id: Option<u64>,
    pub default_realtime_translation_model_id: Option<u64>,
    pub default_transcribe_model_id: Option<u64>,
    pub default_email_model_internet_access_enabled: bool,
    pub default_webchat_model_internet_access_enabled: bool,
    pub default_call_model_internet_access_enabled: bool,
    pub default_realtime_model_internet_access_enabled: bool,
    #[serde(rename = "twilioAccountSID")]
    pub twilio_account_sid: Option<String>,
    pub twilio_region: Option<String>,
    #[serde(rename = "openAIProjectId")]
    pub open_ai_project_id: Option<String>,
    pub google_cloud_project_ids: Option<String>,
    #[serde(rename = "defaultCustomerRepID")]
    pub default_customer_rep_id: Option<u64>,
    pub ticket_cleanup_retention_days: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            api_base_url: None,
            api_username: None,
            api_authentication_type: None,
            email_provider_type: None,
            graph_tenant_id: None,
            graph_client_id: None,
            graph_authority_url: None,
            graph_scope: None,
            imap_server: None,
            imap_port: None,
            imap_use_ssl: false,
            smtp_server: None,
            smtp_port: None,
            smtp_use_ssl: false,
            default_topic_model_id: None,
            default_webchat_model_id: None,
            default_email_model_id: None,
            default_call_model_id: None,
            default_spam_model_id: None,
            default_conditional_rules_model_id: None,
            default_summary_model_id: None,
            default_realtime_model_id: None,
            default_realtime_translation_model_id: None,
            default_transcribe_model_id: None,
            default_email_model_internet_access_enabled: false,
            default_webchat_model_internet_access_enabled: false,
            default_call_model_internet_access_enabled: false,
            default_realtime_model_internet_access_enabled: false,
            twilio_account_sid: None,
            twilio_region: None,
            open_ai_project_id: None,
            google_cloud_project_ids: None,
            default_customer_rep_id: None,
            ticket_cleanup_retention_days: DEFAULT_RETENTION_DAYS,
        }
    }
}

impl Settings {
    /// The default model settings: request field, usage, and the setting itself.
    pub fn default_models(&mut self) -> [(&'static str, Usage, &mut Option<u64>); 10] {
        [
            (
                "defaultTopicModelId",
                Usage::Topic,
                &mut self.default_topic_model_id,
            ),
            (
                "defaultWebchatModelId",
                Usage::Webchat,
                &mut self.default_webchat_model_id,
            ),
            (
                "defaultEmailModelId",
                Usage::Email,
                &mut self.default_email_model_id,
            ),
            (
                "defaultCallModelId",
                Usage::Call,
                &mut self.default_call_model_id,
            ),
            (
                "defaultSpamModelId",
                Usage::Spam,
                &mut self.default_spam_model_id,
            ),
            (
                "defaultConditionalRulesModelId",
                Usage::ConditionalRules,
                &mut self.default_conditional_rules_model_id,
            ),
            (
                "defaultSummaryModelId",
                Usage::Summary,
                &mut self.default_summary_model_id,
            ),
            (
                "defaultRealtimeModelId",
                Usage::Realtime,
                &mut self.default_realtime_model_id,
            ),
            (
                "defaultRealtimeTranslationModelId",
                Usage::RealtimeTranslation,
                &mut self.default_realtime_translation_model_id,
            ),
            (
                "defaultTranscribeModelId",
                Usage::Transcribe,
                &mut self.default_transcribe_model_id,
            ),
        ]
    }

    /// The model ids the tenant has as defaults.
    pub fn into_default_model_ids(mut self) -> Vec<u64> {
        self.default_models()
            .into_iter()
            .filter_map(|(_, _, id)| *id)
            .collect()
    }
}

/// A tenant's stored account: its settings, which secrets it has, and those sealed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    pub settings: Settings,
    /// The secrets set, by field (their values are only in `sealed`).
    pub secret_fields: BTreeSet<SecretField>,
    pub sealed: Option<Sealed>,
    /// Counts the saves; 0 for a tenant that saved nothing yet.
    pub version: u64,
}

impl Account {
    pub fn view(&self, tenant: TenantId) -> AccountView<'_> {
        let has = |field| self.secret_fields.contains(&field);
        AccountView {
            customer_id: tenant.get(),
            settings: &self.settings,
            has_api_password: has(SecretField::ApiPassword),
            has_api_token: has(SecretField::ApiToken),
            has_graph_client_secret: has(SecretField::GraphClientSecret),
            has_twilio_auth_token: has(SecretField::TwilioAuthToken),
            has_open_ai_api_key: has(SecretField::OpenAiApiKey),
            has_open_ai_admin_api_key: has(SecretField::OpenAiAdminApiKey),
            has_google_maps_api_key: has(SecretField::GoogleMapsApiKey),
            has_webhook_signing_secret: has(SecretField::WebhookSigningSecret),
        }
    }
}

/// CustomerReadDTO: every non-secret setting and, per secret, whether it is set.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountView<'a> {
    #[serde(rename = "customerID")]
    customer_id: u64,
    #[serde(flatten)]
    settings: &'a Settings,
    has_api_password: bool,
    has_api_token: bool,
    has_graph_client_secret: bool,
    has_twilio_auth_token: bool,
    #[serde(rename = "hasOpenAIApiKey")]
    has_open_ai_api_key: bool,
    #[serde(rename = "hasOpenAIAdminApiKey")]
    has_open_ai_admin_api_key: bool,
    has_google_maps_api_key: bool,
    has_webhook_signing_secret: bool,
}

/// What `GET /api/Customers/my-secrets` returns: the provider secrets a phone client needs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderSecrets<'a> {
    #[serde(rename = "twilioAccountSID")]
    twilio_account_sid: Option<&'a str>,
    twilio_auth_token: Option<&'a str>,
    twilio_region: Option<&'a str>,
    #[serde(rename = "openAIApiKey")]
    open_ai_api_key: Option<&'a str>,
    #[serde(rename = "openAIProjectId")]
    open_ai_project_id: Option<&'a str>,
    google_maps_api_key: Option<&'a str>,
    google_cloud_project_ids: Option<&'a str>,
}

impl<'a> ProviderSecrets<'a> {
    pub fn new(settings: &'a Settings, secrets: &'a SecretValues) -> Self {
        let secret = |field| secrets.get(field).map(|s| s.expose());
        ProviderSecrets {
            twilio_account_sid: settings.twilio_account_sid.as_deref(),
            twilio_auth_token: secret(SecretField::TwilioAuthToken),
            twilio_region: settings.twilio_region.as_deref(),
            open_ai_api_key: secret(SecretField::OpenAiApiKey),
            open_ai_project_id: settings.open_ai_project_id.as_deref(),
            google_maps_api_key: secret(SecretField::GoogleMapsApiKey),
            google_cloud_project_ids: settings.google_cloud_project_ids.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn a_tenant_that_saved_nothing_reads_the_defaults() {
        let tenant = TenantId::new(7).expect("tenant");
        let view = serde_json::to_value(Account::default().view(tenant)).expect("json");
        assert_eq!(view["customerID"], 7);
        assert_eq!(view["ticketCleanupRetentionDays"], 90);
        assert_eq!(view["imapUseSsl"], false);
        assert_eq!(view["hasTwilioAuthToken"], false);
        assert_eq!(view["hasOpenAIApiKey"], false);
        assert_eq!(view["apiBaseUrl"], Value::Null);
        assert_eq!(view["defaultRealtimeTranslationModelId"], Value::Null);
        assert_eq!(view["graphTenantID"], Value::Null);
        let object = view.as_object().expect("object");
        let secrets = SecretField::ALL.map(SecretField::name);
        assert!(object.keys().all(|k| !secrets.contains(&k.as_str())));
    }

    #[test]
    fn choices_match_case_insensitively_and_name_the_options() {
        assert_eq!(
            ApiAuthenticationType::parse(" apikey "),
            Ok(ApiAuthenticationType::ApiKey)
        );
        assert_eq!(
            EmailProviderType::parse("Smtp"),
            Err("must be one of None, Graph, Imap".into())
        );
    }
}
