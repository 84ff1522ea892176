//! The tenant's own account (SPEC 6): settings with write-only secrets, the models catalog, and
//! its channels.

pub mod channel;
pub mod connector;
pub mod models;
pub mod secrets;
pub mod settings;
pub mod update;

pub use channel::{Channel, ChannelBody, ChannelType};
pub use connector::ConnectorPolicy;
pub use models::{Catalog, Model, Usage};
pub use secrets::{Sealed, SecretField, SecretValues};
pub use settings::{Account, AccountView, ProviderSecrets, Settings};
pub use update::SettingsUpdate;
