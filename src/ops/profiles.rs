//! Settings at every level but the device's own: site-wide settings, settings profiles and
//! model settings.

use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::domain::{Label, ProfileName};
use crate::model::ProfileRecord;
use crate::models::ModelRow;
use crate::settings::{self, Layer, Settings, SettingsPatch};
use crate::store::Reads;

pub async fn existing(store: &dyn Reads, name: &ProfileName) -> Result<ProfileRecord, OpError> {
    store
        .profile(name)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no settings profile named {name}")))
}

/// How many devices inherit from the profile.
pub async fn devices_using(store: &dyn Reads, name: &ProfileName) -> Result<usize, OpError> {
    Ok(store
        .devices()
        .await?
        .iter()
        .filter(|d| d.profile.as_ref() == Some(name))
        .count())
}

pub async fn change_site_settings(
    app: &App,
    by: &Actor,
    patch: &SettingsPatch,
) -> Result<Settings, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let next = tx.settings().await?.patched(patch)?;
    tx.put_settings(&next).await?;
    tx.changed("settings", patch.summary());
    tx.commit().await?;
    Ok(next)
}

pub async fn create(
    app: &App,
    by: &Actor,
    name: ProfileName,
    description: Option<Label>,
    patch: &SettingsPatch,
) -> Result<ProfileRecord, OpError> {
    let record = ProfileRecord {
        name,
        description,
        settings: settings::patch_layer(&Layer::new(), patch)?,
        created_at: app.clock.now(),
        keys: Default::default(),
    };
    let mut tx = WriteTx::begin(app, by).await;
    if !tx.insert_profile(&record).await? {
        return Err(OpError::conflict(format!(
            "a settings profile named {} already exists",
            record.name
        )));
    }
    tx.changed(&record.name, format!("profile created {}", patch.summary()));
    tx.commit().await?;
    Ok(record)
}

/// Changes a profile's settings and, with `Some`, its description (`Some(None)` clears it).
pub async fn change(
    app: &App,
    by: &Actor,
    name: &ProfileName,
    description: Option<Option<Label>>,
    patch: &SettingsPatch,
) -> Result<ProfileRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let mut record = existing(tx.reads(), name).await?;
    record.settings = settings::patch_layer(&record.settings, patch)?;
    if let Some(description) = description {
        record.description = description;
    }
    tx.put_profile(&record).await?;
    tx.changed(&record.name, format!("profile changed {}", patch.summary()));
    tx.commit().await?;
    Ok(record)
}

/// A profile devices still inherit from cannot go: their settings would change silently.
pub async fn delete(app: &App, by: &Actor, name: &ProfileName) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let record = existing(tx.reads(), name).await?;
    let count = devices_using(tx.reads(), &record.name).await?;
    if count > 0 {
        return Err(OpError::conflict(format!(
            "{count} devices use settings profile {}; move them to another profile first (GET /api/v1/devices?profile={})",
            record.name, record.name
        )));
    }
    tx.remove_profile(&record.name).await?;
    tx.changed(&record.name, "profile deleted");
    tx.commit().await?;
    Ok(())
}

/// A value the vendor's phones cannot take, in a layer only they read.
pub fn refused_by_vendor(vendor: &str, layer: &Layer) -> Result<(), OpError> {
    match crate::vendors::by_id(vendor).and_then(|v| v.refuses(layer)) {
        Some(why) => Err(OpError::invalid(why)),
        None => Ok(()),
    }
}

pub async fn change_model_settings(
    app: &App,
    by: &Actor,
    row: &ModelRow,
    patch: &SettingsPatch,
) -> Result<Layer, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let layer = settings::patch_layer(&tx.model_settings(row.model).await?, patch)?;
    refused_by_vendor(row.vendor, &layer)?;
    tx.put_model_settings(row.model, &layer).await?;
    tx.changed(row.model, format!("model settings {}", patch.summary()));
    tx.commit().await?;
    Ok(layer)
}

/// The site-wide settings.
pub async fn site_settings(app: &App) -> Result<Settings, OpError> {
    Ok(app.store.settings().await?)
}

/// Every profile with how many devices use it, by name.
pub async fn list_with_use(app: &App) -> Result<Vec<(ProfileRecord, usize)>, OpError> {
    let mut using: std::collections::HashMap<String, usize> = Default::default();
    for device in app.store.devices().await? {
        if let Some(name) = device.profile {
            *using.entry(name.to_string()).or_default() += 1;
        }
    }
    let mut profiles = app.store.profiles().await?;
    profiles.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    Ok(profiles
        .into_iter()
        .map(|p| {
            let count = using.get(p.name.as_str()).copied().unwrap_or(0);
            (p, count)
        })
        .collect())
}

/// A profile and how many devices use it.
pub async fn with_use(app: &App, name: &ProfileName) -> Result<(ProfileRecord, usize), OpError> {
    let reads = app.store.reads();
    let record = existing(reads, name).await?;
    let count = devices_using(reads, name).await?;
    Ok((record, count))
}

/// What a model's devices get from the model's own layer.
pub async fn model_layer(app: &App, row: &ModelRow) -> Result<Layer, OpError> {
    Ok(app.store.model_settings(row.model).await?)
}

/// Every model's own layer that sets something.
pub async fn model_layers(app: &App) -> Result<Vec<(String, Layer)>, OpError> {
    Ok(app.store.all_model_settings().await?)
}

/// A device with its effective settings and where each value comes from.
pub async fn device_settings(
    app: &App,
    mac: crate::domain::Mac,
) -> Result<(crate::model::DeviceRecord, settings::Effective), OpError> {
    let reads = app.store.reads();
    let device = super::devices::existing(reads, mac).await?;
    let effective = settings::effective_for(reads, &device).await?;
    Ok((device, effective))
}
