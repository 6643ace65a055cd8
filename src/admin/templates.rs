//! /api/v1/templates: which templates are in use, and reloading them without a restart.

use http::StatusCode;

use super::ApiResult;
use super::schemas::{TemplateView, TemplatesReloaded};
use crate::app::App;
use crate::error::ApiError;
use crate::respond;

pub fn list(app: &App) -> ApiResult {
    let templates = app.templates.current();
    let rows: Vec<_> = templates
        .list()
        .into_iter()
        .map(|(name, format, origin)| TemplateView {
            name: name.to_string(),
            format: text_of(&format),
            origin: text_of(&origin),
        })
        .collect();
    Ok(respond::json(StatusCode::OK, &rows))
}

/// Loads the shipped and override templates again. A broken template is refused with its file
/// and line, and the templates in use stay; requests in flight finish with the set they began
/// with, so no connection is dropped.
pub async fn reload(app: &App, by: &crate::ops::Actor) -> ApiResult {
    let fresh = app
        .templates
        .reload()
        .map_err(|e| ApiError::BadRequest(format!("{e}; the previous templates stay in use")))?;
    let overrides = fresh
        .list()
        .into_iter()
        .filter(|(_, _, origin)| *origin == crate::templates::Origin::Override)
        .count();
    crate::ops::templates_reloaded(app, by, fresh.names().count(), overrides).await?;
    Ok(respond::json(
        StatusCode::OK,
        &TemplatesReloaded {
            reloaded: fresh.names().count(),
            overrides,
        },
    ))
}

/// How a serde enum names itself.
fn text_of(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
