//! A named set of settings devices inherit from.

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
}
