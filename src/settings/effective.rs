//! A device's settings after inheritance (default → profile → model → device), and where each
//! value came from.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::{Key, Layer, Settings};
use crate::model::DeviceRecord;
use crate::store::{Reads, StoreError};

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "level", content = "name", rename_all = "lowercase")]
pub enum Origin {
    Default,
    Profile(String),
    Model(String),
    Device,
}

/// A device's settings after inheritance, and where each value came from.
#[derive(Debug, Clone)]
pub struct Effective {
    pub settings: Settings,
    pub origins: BTreeMap<Key, Origin>,
}

impl Effective {
    /// The default settings overlaid by each layer in turn (profile, then model, then device).
    pub fn resolve(default: &Settings, layers: &[(Origin, &Layer)]) -> Effective {
        let mut map = default.to_map();
        let mut origins: BTreeMap<Key, Origin> =
            Key::ALL.iter().map(|k| (*k, Origin::Default)).collect();
        for (origin, layer) in layers {
            for (key, value) in layer.iter() {
                map.insert(key.name().to_string(), value.clone());
                origins.insert(*key, origin.clone());
            }
        }
        Effective {
            settings: Settings::from_map(map),
            origins,
        }
    }

    /// `{ "sip_server": { "value": ..., "from": { "level": "profile", "name": "branch" } } }`.
    pub fn view(&self) -> Value {
        let values = self.settings.redacted();
        let entries = Key::ALL.iter().map(|k| {
            let value = values.get(k.name()).cloned().unwrap_or(Value::Null);
            let from = serde_json::to_value(&self.origins[k]).expect("serialises");
            (
                k.name().to_string(),
                json!({ "value": value, "from": from }),
            )
        });
        Value::Object(entries.collect())
    }
}

/// The layers a device inherits from, in order: its profile, its model, itself.
pub async fn effective_for(
    store: &dyn Reads,
    device: &DeviceRecord,
) -> Result<Effective, StoreError> {
    let default = store.settings().await?;
    let profile = match &device.profile {
        Some(name) => store
            .profile(name)
            .await?
            .map(|p| (name.to_string(), p.settings)),
        None => None,
    };
    let model = match crate::models::of_device(device) {
        Some(row) => Some((
            row.model.to_string(),
            store.model_settings(row.model).await?,
        )),
        None => None,
    };
    let profile = profile.as_ref().map(|(name, layer)| (name.as_str(), layer));
    let model = model.as_ref().map(|(name, layer)| (name.as_str(), layer));
    let layers = inherited(profile, model, &device.settings);
    Ok(Effective::resolve(&default, &layers))
}

/// The order of inheritance above the defaults: the profile, the model, the device itself.
fn inherited<'a>(
    profile: Option<(&str, &'a Layer)>,
    model: Option<(&str, &'a Layer)>,
    device: &'a Layer,
) -> Vec<(Origin, &'a Layer)> {
    let profile = profile.map(|(name, layer)| (Origin::Profile(name.to_string()), layer));
    let model = model.map(|(name, layer)| (Origin::Model(name.to_string()), layer));
    profile
        .into_iter()
        .chain(model)
        .chain([(Origin::Device, device)])
        .collect()
}

/// Every layer at once (site settings, all profiles, all model settings), to resolve many
/// devices' settings without a read per device: a filtered list over the whole store.
pub struct AllLayers {
    default: Settings,
    profiles: std::collections::HashMap<String, Layer>,
    models: std::collections::HashMap<String, Layer>,
}

impl AllLayers {
    pub async fn load(store: &dyn Reads) -> Result<AllLayers, StoreError> {
        let profiles = store.profiles().await?;
        Ok(AllLayers {
            default: store.settings().await?,
            profiles: profiles
                .into_iter()
                .map(|p| (p.name.to_string(), p.settings))
                .collect(),
            models: store.all_model_settings().await?.into_iter().collect(),
        })
    }

    /// What [`of_device`] answers, from the loaded layers.
    pub fn of_device(&self, device: &DeviceRecord) -> Settings {
        let profile = device.profile.as_ref().and_then(|name| {
            let layer = self.profiles.get(name.as_str())?;
            Some((name.as_str(), layer))
        });
        let model = crate::models::of_device(device)
            .and_then(|row| Some((row.model, self.models.get(row.model)?)));
        let layers = inherited(profile, model, &device.settings);
        Effective::resolve(&self.default, &layers).settings
    }
}

/// The settings a device's config is rendered with.
pub async fn of_device(store: &dyn Reads, device: &DeviceRecord) -> Result<Settings, StoreError> {
    Ok(effective_for(store, device).await?.settings)
}

#[cfg(test)]
mod tests {
    use super::super::{SET, SettingsPatch, patch_layer};
    use super::*;

    fn layer(json: &str) -> Layer {
        patch_layer(&Layer::new(), &serde_json::from_str(json).unwrap()).unwrap()
    }
    #[test]
    fn layers_override_in_order_and_name_their_origin() {
        let default = Settings::default()
            .patched(
                &serde_json::from_str(
                    r#"{"sip_server":"pbx.example.com","ntp_server":"ntp.example.com"}"#,
                )
                .unwrap(),
            )
            .unwrap();
        let profile = layer(r#"{"sip_server":"branch.example.com","time_zone":"Europe/Berlin"}"#);
        let model = layer(r#"{"time_zone":"Europe/Paris","outbound_proxy":"[2001:db8::1]:5070"}"#);
        let device = layer(r#"{"phone_admin_password":"hunter2hunter2"}"#);
        let effective = Effective::resolve(
            &default,
            &[
                (Origin::Profile("branch".into()), &profile),
                (Origin::Model("T46S".into()), &model),
                (Origin::Device, &device),
            ],
        );
        let s = &effective.settings;
        assert_eq!(s.sip_server.as_deref(), Some("branch.example.com"));
        assert_eq!(s.ntp_server.as_deref(), Some("ntp.example.com"));
        assert_eq!(s.time_zone().unwrap().name, "Europe/Paris");
        assert_eq!(s.outbound_proxy(), Some(("2001:db8::1", 5070)));
        assert_eq!(
            effective.origins[&Key::SipServer],
            Origin::Profile("branch".into())
        );
        assert_eq!(effective.origins[&Key::NtpServer], Origin::Default);
        assert_eq!(
            effective.origins[&Key::TimeZone],
            Origin::Model("T46S".into())
        );
        let view = effective.view();
        assert_eq!(view["phone_admin_password"]["value"], SET);
        assert_eq!(view["phone_admin_password"]["from"]["level"], "device");
        assert_eq!(view["sip_server"]["from"]["name"], "branch");

        let site_wide: SettingsPatch = serde_json::from_str(r#"{"utc_offset":"+01:00"}"#).unwrap();
        assert!(patch_layer(&Layer::new(), &site_wide).is_err());
        let removed = patch_layer(
            &profile,
            &serde_json::from_str(r#"{"time_zone":null}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(removed.len(), 1);
    }
}
