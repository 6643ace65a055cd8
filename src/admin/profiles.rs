//! /api/v1/profiles, /api/v1/models/{model}/settings and /api/v1/settings/choices: the layers a
//! device's settings inherit from, between the site-wide defaults and the device's own.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ApiResult;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Label, ProfileName};
use crate::error::ApiError;
use crate::respond;
use crate::settings::{self, Key, Layer, SettingsPatch, double_option};
use crate::store::ProfileRecord;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProfile {
    name: String,
    description: Option<String>,
    #[serde(default)]
    settings: SettingsPatch,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "double_option")]
    description: Option<Option<String>>,
    /// Settings to set; `null` removes one from the profile.
    #[serde(default)]
    settings: SettingsPatch,
}

#[derive(Serialize)]
struct ProfileView<'a> {
    name: &'a ProfileName,
    description: Option<&'a str>,
    settings: Map<String, Value>,
    /// How many devices inherit from it.
    devices: usize,
    created_at: String,
}

fn view<'a>(record: &'a ProfileRecord, devices: usize) -> ProfileView<'a> {
    ProfileView {
        name: &record.name,
        description: record.description.as_ref().map(Label::as_str),
        settings: settings::redacted_layer(&record.settings),
        devices,
        created_at: rfc3339(record.created_at),
    }
}

fn devices_using(app: &App, name: &ProfileName) -> Result<usize, ApiError> {
    Ok(app
        .store
        .devices()?
        .iter()
        .filter(|d| d.profile.as_ref() == Some(name))
        .count())
}

fn existing(app: &App, raw: &str) -> Result<ProfileRecord, ApiError> {
    let name = ProfileName::parse(raw)?;
    app.store
        .profile(&name)?
        .ok_or_else(|| ApiError::NotFound(format!("no settings profile named {name}")))
}

fn answer(app: &App, status: StatusCode, record: &ProfileRecord) -> ApiResult {
    let count = devices_using(app, &record.name)?;
    Ok(respond::json(status, &view(record, count)))
}

pub fn list(app: &App) -> ApiResult {
    let devices = app.store.devices()?;
    let profiles = app.store.profiles()?;
    let views: Vec<_> = profiles
        .iter()
        .map(|p| {
            let count = devices
                .iter()
                .filter(|d| d.profile.as_ref() == Some(&p.name))
                .count();
            view(p, count)
        })
        .collect();
    Ok(respond::json(StatusCode::OK, &views))
}

pub fn show(app: &App, name: &str) -> ApiResult {
    answer(app, StatusCode::OK, &existing(app, name)?)
}

pub async fn create(app: &App, new: NewProfile) -> ApiResult {
    let record = ProfileRecord {
        name: ProfileName::parse(&new.name)?,
        description: new.description.as_deref().map(Label::parse).transpose()?,
        settings: settings::patch_layer(&Layer::new(), &new.settings)?,
        created_at: app.clock.now(),
    };
    let _guard = app.admin_writes.lock().await;
    if !app.store.insert_profile(&record)? {
        return Err(ApiError::Conflict(format!(
            "a settings profile named {} already exists",
            record.name
        )));
    }
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", profile = %record.name, "settings profile created");
    answer(app, StatusCode::CREATED, &record)
}

pub async fn patch(app: &App, name: &str, patch: ProfilePatch) -> ApiResult {
    let description = match &patch.description {
        Some(Some(raw)) => Some(Some(Label::parse(raw)?)),
        Some(None) => Some(None),
        None => None,
    };
    let _guard = app.admin_writes.lock().await;
    let mut record = existing(app, name)?;
    record.settings = settings::patch_layer(&record.settings, &patch.settings)?;
    if let Some(description) = description {
        record.description = description;
    }
    app.store.put_profile(&record)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", profile = %record.name, "settings profile changed");
    answer(app, StatusCode::OK, &record)
}

/// A profile devices still inherit from cannot go: their settings would change silently.
pub async fn delete(app: &App, name: &str) -> ApiResult {
    let _guard = app.admin_writes.lock().await;
    let record = existing(app, name)?;
    let count = devices_using(app, &record.name)?;
    if count > 0 {
        return Err(ApiError::Conflict(format!(
            "{count} devices use settings profile {}; move them to another profile first (GET /api/v1/devices?profile={})",
            record.name, record.name
        )));
    }
    app.store.remove_profile(&record.name)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", profile = %record.name, "settings profile deleted");
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "deleted": record.name }),
    ))
}

/// The model table's row for an admin-named model.
fn model_row(raw: &str) -> Result<&'static crate::models::ModelRow, ApiError> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    crate::models::find_any(&decoded).ok_or_else(|| {
        ApiError::NotFound(format!(
            "unknown model {decoded:?}; GET /api/v1/models lists the supported ones"
        ))
    })
}

fn model_answer(row: &crate::models::ModelRow, layer: &Layer) -> ApiResult {
    Ok(respond::json(
        StatusCode::OK,
        &json!({
            "vendor": row.vendor,
            "model": row.model,
            "settings": settings::redacted_layer(layer),
        }),
    ))
}

pub fn model_settings(app: &App, model: &str) -> ApiResult {
    let row = model_row(model)?;
    model_answer(row, &app.store.model_settings(row.model)?)
}

pub async fn patch_model_settings(app: &App, model: &str, patch: SettingsPatch) -> ApiResult {
    let row = model_row(model)?;
    let _guard = app.admin_writes.lock().await;
    let layer = settings::patch_layer(&app.store.model_settings(row.model)?, &patch)?;
    app.store.put_model_settings(row.model, &layer)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", model = row.model, "model settings changed");
    model_answer(row, &layer)
}

/// What the settings accept: their names, which layers may set them, time zones, languages.
pub fn choices() -> ApiResult {
    let keys: Vec<Value> = Key::ALL
        .iter()
        .map(|k| {
            json!({
                "name": k.name(),
                "inheritable": k.inheritable(),
                "secret": k.is_secret(),
            })
        })
        .collect();
    Ok(respond::json(
        StatusCode::OK,
        &json!({
            "settings": keys,
            "sip_transports": ["udp", "tcp", "tls"],
            "time_zones": crate::locale::TIME_ZONES,
            "languages": crate::locale::LANGUAGES,
        }),
    ))
}
