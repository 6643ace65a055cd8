//! A named set of settings devices inherit from.

use crate::keys::KeyLayer;
use serde::{Deserialize, Serialize};

use crate::domain::{Label, ProfileName};
use crate::settings::Layer;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub name: ProfileName,
    #[serde(default)]
    pub description: Option<Label>,
    pub settings: Layer,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "KeyLayer::is_empty")]
    pub keys: KeyLayer,
}
