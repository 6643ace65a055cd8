//! /api/v1/profiles, /api/v1/models/{model}/settings and /api/v1/settings/choices: the layers a
//! device's settings inherit from, between the site-wide defaults and the device's own.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::{ApiResult, paging};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Label, ProfileName};
use crate::error::ApiError;
use crate::model::ProfileRecord;
use crate::ops::{Actor, profiles};
use crate::respond;
use crate::settings::{self, Key, Layer, SettingsPatch, double_option};

/// A settings profile to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProfile {
    #[schema(value_type = ProfileName)]
    name: String,
    #[schema(value_type = Option<Label>)]
    description: Option<String>,
    /// Only settings that profiles may set (inheritable ones).
    #[serde(default)]
    #[schema(value_type = Option<super::schemas::SettingsPatch>)]
    settings: SettingsPatch,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Label>)]
    description: Option<Option<String>>,
    /// Settings to set; `null` removes one from the profile.
    #[serde(default)]
    #[schema(value_type = Option<super::schemas::SettingsPatch>)]
    settings: SettingsPatch,
}

/// A settings profile, with how many devices inherit from it.
#[derive(Serialize, ToSchema)]
pub struct ProfileView<'a> {
    name: &'a ProfileName,
    description: Option<&'a str>,
    #[schema(value_type = super::schemas::SettingsLayer)]
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

async fn answer(app: &App, status: StatusCode, record: &ProfileRecord) -> ApiResult {
    let count = profiles::devices_using(app.store.reads(), &record.name).await?;
    Ok(respond::json(status, &view(record, count)))
}

/// Profiles in pages by name.
pub async fn list(app: &App, query: &str) -> ApiResult {
    let (page, _) = paging::parse(query, &[])?;
    let devices = app.store.devices().await?;
    let (profiles, next) =
        paging::of_list(app.store.profiles().await?, |p| p.name.to_string(), &page);
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
    Ok(paging::answer(views, next))
}

pub async fn show(app: &App, name: &ProfileName) -> ApiResult {
    answer(
        app,
        StatusCode::OK,
        &profiles::existing(app.store.reads(), name).await?,
    )
    .await
}

fn description(raw: &str) -> Result<Label, ApiError> {
    Ok(Label::parse_field("description", raw)?)
}

pub async fn create(app: &App, by: &Actor, new: NewProfile) -> ApiResult {
    let name = ProfileName::parse(&new.name)?;
    let description = new.description.as_deref().map(description).transpose()?;
    let record = profiles::create(app, by, name, description, &new.settings).await?;
    answer(app, StatusCode::CREATED, &record).await
}

pub async fn patch(app: &App, by: &Actor, name: &ProfileName, patch: ProfilePatch) -> ApiResult {
    let description = match &patch.description {
        Some(Some(raw)) => Some(Some(description(raw)?)),
        Some(None) => Some(None),
        None => None,
    };
    let record = profiles::change(app, by, name, description, &patch.settings).await?;
    answer(app, StatusCode::OK, &record).await
}

/// A profile devices still inherit from cannot go: their settings would change silently.
pub async fn delete(app: &App, by: &Actor, name: &ProfileName) -> ApiResult {
    profiles::delete(app, by, name).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::DeletedProfile {
            deleted: name.clone(),
        },
    ))
}

/// The model table, in pages by vendor and model.
pub fn models(query: &str) -> ApiResult {
    let (page, _) = paging::parse(query, &[])?;
    let rows: Vec<super::schemas::ModelView> = crate::models::all()
        .map(super::schemas::ModelView::from)
        .collect();
    let (rows, next) = paging::of_list(rows, |r| format!("{}/{}", r.vendor, r.model), &page);
    Ok(paging::answer(rows, next))
}

/// The model table's row for an admin-named model.
pub(crate) fn model_row(raw: &str) -> Result<&'static crate::models::ModelRow, ApiError> {
    crate::models::find_any(raw).ok_or_else(|| {
        ApiError::NotFound(format!(
            "unknown model {raw}; GET /api/v1/models lists the supported ones"
        ))
    })
}

fn model_answer(row: &crate::models::ModelRow, layer: &Layer) -> ApiResult {
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::ModelSettings {
            vendor: row.vendor.to_string(),
            model: row.model.to_string(),
            settings: settings::redacted_layer(layer),
        },
    ))
}

pub async fn model_settings(app: &App, model: &str) -> ApiResult {
    let row = model_row(model)?;
    model_answer(row, &app.store.model_settings(row.model).await?)
}

pub async fn patch_model_settings(
    app: &App,
    by: &Actor,
    model: &str,
    patch: SettingsPatch,
) -> ApiResult {
    let row = model_row(model)?;
    let layer = profiles::change_model_settings(app, by, row, &patch).await?;
    model_answer(row, &layer)
}

/// What the settings accept: their names, which layers may set them, time zones, languages.
pub fn choices() -> ApiResult {
    let settings = Key::ALL
        .iter()
        .map(|k| super::schemas::SettingChoice {
            name: k.name().to_string(),
            inheritable: k.inheritable(),
            secret: k.is_secret(),
        })
        .collect();
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::SettingChoices {
            settings,
            sip_transports: ["udp", "tcp", "tls"].map(String::from).to_vec(),
            time_zones: json!(crate::locale::TIME_ZONES),
            languages: json!(crate::locale::LANGUAGES),
        },
    ))
}
