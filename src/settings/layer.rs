//! The partial settings of a profile, a model or a device, and the patches that change them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Key, SET};
use crate::domain::InvalidInput;

/// A partial update of the site-wide settings: setting name → value, `null` clears.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SettingsPatch(pub Map<String, Value>);

impl SettingsPatch {
    /// `name=value ...` for the audit trail: secrets as "[set]", removals as `null`.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| {
                let secret = Key::from_name(name).is_ok_and(Key::is_secret);
                match value {
                    Value::Null => format!("{name}=null"),
                    _ if secret => format!("{name}={SET}"),
                    Value::String(text) => format!("{name}={text}"),
                    other => format!("{name}={other}"),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a profile, a model or a device sets, overriding what it inherits; values are stored in
/// their normalised form.
pub type Layer = BTreeMap<Key, Value>;

/// `layer` after `patch`: a value overrides, `null` removes the override.
pub fn patch_layer(layer: &Layer, patch: &SettingsPatch) -> Result<Layer, InvalidInput> {
    let mut next = layer.clone();
    for (name, value) in &patch.0 {
        let key = Key::from_name(name)?;
        if !key.inheritable() {
            return Err(InvalidInput::new(
                key.name(),
                "is a site-wide setting; set it with PATCH /api/v1/settings",
            ));
        }
        match value {
            Value::Null => {
                next.remove(&key);
            }
            given => {
                next.insert(key, key.normalize(given)?);
            }
        }
    }
    Ok(next)
}

/// A layer as the API shows it: secrets only as "[set]".
pub fn redacted_layer(layer: &Layer) -> Map<String, Value> {
    layer
        .iter()
        .map(|(k, v)| {
            let shown = if k.is_secret() {
                Value::String(SET.into())
            } else {
                v.clone()
            };
            (k.name().to_string(), shown)
        })
        .collect()
}
