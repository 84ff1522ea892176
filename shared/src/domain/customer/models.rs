//! The AI models catalog: data shipped with the project (`shared/data/models.json`), compiled
//! in and parsed once. Which models a tenant sees, and which may be one of its defaults.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::domain::TenantId;

/// What a tenant uses a model for: the words between `default` and `ModelId` of its setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Usage {
    Topic,
    Webchat,
    Email,
    Call,
    Spam,
    ConditionalRules,
    Summary,
    Realtime,
    RealtimeTranslation,
    Transcribe,
}

impl Usage {
    pub const ALL: [Usage; 10] = [
        Usage::Topic,
        Usage::Webchat,
        Usage::Email,
        Usage::Call,
        Usage::Spam,
        Usage::ConditionalRules,
        Usage::Summary,
        Usage::Realtime,
        Usage::RealtimeTranslation,
        Usage::Transcribe,
    ];
}

/// One model of the catalog, serialized as CustomerModelDTO.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Model {
    #[serde(rename = "modelID")]
    pub id: u64,
    pub purpose: String,
    pub model_name: String,
    pub api_model_name: String,
    pub has_text_input: bool,
    pub has_image_input: bool,
    pub has_audio_input: bool,
    pub has_video_input: bool,
    pub has_text_output: bool,
    pub has_image_output: bool,
    pub has_audio_output: bool,
    pub has_video_output: bool,
    pub has_function_calling: bool,
    pub has_streaming: bool,
    pub has_system_messages: bool,
    pub has_reasoning: bool,
    pub supports_fine_tuning: bool,
    pub supports_web_search: bool,
    pub required_subscription_level: String,
    pub is_global: bool,
    pub is_default: bool,
    pub show_in_primary_list: bool,
    pub compatible_usages: Vec<Usage>,
    pub is_active: bool,
    pub is_fine_tuned: bool,
    /// The tenant a customer-specific model belongs to (none for a global model); not shown.
    #[serde(rename = "ownerCustomerID", skip_serializing)]
    pub owner: Option<u64>,
}

impl Model {
    pub fn visible_to(&self, tenant: TenantId) -> bool {
        self.is_global || self.owner == Some(tenant.get())
    }
}

/// Every model, ordered by `modelID`.
pub struct Catalog(Vec<Model>);

const CATALOG_JSON: &str = include_str!("../../../data/models.json");

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    // The file is part of the build and checked by the tests below; it cannot be malformed at
    // run time.
    Catalog::parse(CATALOG_JSON).expect("shared/data/models.json is a valid catalog")
});

impl Catalog {
    /// The catalog shipped with the project.
    pub fn shipped() -> &'static Catalog {
        &CATALOG
    }

    pub fn parse(json: &str) -> Result<Catalog, String> {
        let mut models: Vec<Model> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        models.sort_by_key(|m| m.id);
        if models.windows(2).any(|pair| pair[0].id == pair[1].id) {
            return Err("two models share a modelID".into());
        }
        if let Some(model) = models
            .iter()
            .find(|m| m.is_global == m.owner.is_some() || m.id == 0)
        {
            return Err(format!(
                "model {} must be global or have an owner (not both), and a positive id",
                model.id
            ));
        }
        Ok(Catalog(models))
    }

    pub fn get(&self, id: u64) -> Option<&Model> {
        self.0
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|at| &self.0[at])
    }

    /// Whether `id` may become `tenant`'s default model for `usage`: an active model the tenant
    /// sees, compatible with that usage; else why not.
    pub fn check_default(&self, id: u64, usage: Usage, tenant: TenantId) -> Result<(), String> {
        let model = self
            .get(id)
            .filter(|m| m.visible_to(tenant))
            .ok_or_else(|| format!("model {id} does not exist"))?;
        if !model.is_active {
            return Err(format!("model {id} is no longer active"));
        }
        if !model.compatible_usages.contains(&usage) {
            return Err(format!("model {id} cannot be used for {usage:?}"));
        }
        Ok(())
    }

    /// What `tenant` is shown: the active models it sees, plus those of `defaults` it sees that
    /// are inactive (still in use until it picks another), by `modelID`.
    pub fn listed_for(&self, tenant: TenantId, defaults: &[u64]) -> Vec<&Model> {
        self.0
            .iter()
            .filter(|m| m.visible_to(tenant) && (m.is_active || defaults.contains(&m.id)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: u64) -> TenantId {
        TenantId::new(id).expect("a tenant")
    }

    #[test]
    fn the_shipped_catalog_meets_the_contract() {
        let catalog = Catalog::parse(CATALOG_JSON).expect("parses");
        for usage in Usage::ALL {
            assert!(
                catalog
                    .0
                    .iter()
                    .any(|m| m.is_global && m.is_active && m.compatible_usages.contains(&usage)),
                "no active global model for {usage:?}"
            );
        }
        assert!(catalog.0.iter().any(|m| m.is_global && !m.is_active));
        assert!(
            catalog
                .0
                .iter()
                .any(|m| !m.is_global && m.is_fine_tuned && m.owner == Some(1))
        );
        assert!(catalog.0.iter().all(|m| !m.compatible_usages.is_empty()));
    }

    #[test]
    fn duplicate_ids_and_ownerless_private_models_are_refused() {
        let one = serde_json::to_value(&Catalog::shipped().0[0]).expect("json");
        let mut with_owner = one.clone();
        with_owner["ownerCustomerID"] = serde_json::Value::Null;
        let twice = serde_json::json!([with_owner, with_owner]).to_string();
        assert_eq!(
            Catalog::parse(&twice).err().as_deref(),
            Some("two models share a modelID")
        );
        let mut private = with_owner.clone();
        private["isGlobal"] = false.into();
        assert!(
            Catalog::parse(&serde_json::json!([private]).to_string()).is_err(),
            "a private model needs an owner"
        );
    }

    #[test]
    fn a_tenant_sees_active_global_models_its_own_and_its_inactive_defaults() {
        let catalog = Catalog::shipped();
        let inactive = catalog
            .0
            .iter()
            .find(|m| m.is_global && !m.is_active)
            .expect("an inactive model");
        let private = catalog.0.iter().find(|m| !m.is_global).expect("private");
        let ids = |t: u64, defaults: &[u64]| -> Vec<u64> {
            catalog
                .listed_for(tenant(t), defaults)
                .iter()
                .map(|m| m.id)
                .collect()
        };
        let for_two = ids(2, &[]);
        assert!(!for_two.contains(&inactive.id) && !for_two.contains(&private.id));
        assert!(
            for_two.windows(2).all(|w| w[0] < w[1]),
            "ordered by modelID"
        );
        assert!(ids(1, &[]).contains(&private.id));
        assert!(ids(2, &[inactive.id]).contains(&inactive.id));
        assert!(
            !ids(2, &[private.id]).contains(&private.id),
            "another tenant's model stays hidden"
        );
    }

    #[test]
    fn a_default_must_be_active_visible_and_compatible() {
        let catalog = Catalog::shipped();
        let private = catalog.0.iter().find(|m| !m.is_global).expect("private");
        let usage = private.compatible_usages[0];
        assert_eq!(catalog.check_default(private.id, usage, tenant(1)), Ok(()));
        assert!(catalog.check_default(private.id, usage, tenant(2)).is_err());
        let inactive = catalog.0.iter().find(|m| !m.is_active).expect("inactive");
        let usage = inactive.compatible_usages[0];
        assert!(
            catalog
                .check_default(inactive.id, usage, tenant(1))
                .is_err_and(|e| e.contains("no longer active"))
        );
        let transcribe_only = catalog
            .0
            .iter()
            .find(|m| m.compatible_usages == [Usage::Transcribe] && m.is_active)
            .expect("a transcription model");
        assert!(
            catalog
                .check_default(transcribe_only.id, Usage::Email, tenant(1))
                .is_err_and(|e| e.contains("cannot be used for Email"))
        );
        assert!(
            catalog
                .check_default(999_999, Usage::Email, tenant(1))
                .is_err()
        );
    }
}
