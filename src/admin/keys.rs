//! /api/v1/{devices,profiles,models,users}/…/keys and /api/v1/settings/keys: one key layer as
//! a JSON list, replaced whole by PUT; a device's effective keys with where each came from.

use bytes::Bytes;
use http::StatusCode;

use super::schemas::{KeyOriginView, KeyView};
use super::{ApiResult, parse, query_flag};
use crate::app::App;
use crate::domain::Mac;
use crate::error::ApiError;
use crate::keys::KeyLayer;
use crate::keys::effective::{EffectiveKey, KeyOrigin};
use crate::ops::Actor;
use crate::ops::keys::{self, KeyOwner};
use crate::respond;

pub fn model(raw: &str) -> Result<KeyOwner, ApiError> {
    Ok(KeyOwner::Model(super::profiles::model_row(raw)?))
}

pub async fn show(app: &App, owner: KeyOwner) -> ApiResult {
    let layer = keys::layer(app.store.reads(), &owner).await?;
    Ok(answer(&layer))
}

pub async fn set(app: &App, by: &Actor, owner: KeyOwner, body: &Bytes) -> ApiResult {
    let layer: KeyLayer = parse(body)?;
    let stored = keys::set_layer(app, by, &owner, layer).await?;
    Ok(answer(&stored))
}

/// The device's own layer, or with `effective=true` every key its phone gets.
pub async fn show_device(app: &App, mac: Mac, query: &str) -> ApiResult {
    super::only(query, "effective")?;
    if !query_flag(query, "effective")?.unwrap_or(false) {
        return show(app, KeyOwner::Device(mac)).await;
    }
    let device = crate::ops::devices::existing(app.store.reads(), mac).await?;
    let resolved =
        crate::keys::load::of_device(app.store.reads(), &device, app.clock.now()).await?;
    let fitting = resolved.keys.iter().map(|k| effective_view(k, false));
    let beyond = resolved
        .beyond_capacity
        .iter()
        .map(|k| effective_view(k, true));
    let views: Vec<KeyView> = fitting.chain(beyond).collect();
    Ok(respond::json(StatusCode::OK, &views))
}

fn answer(layer: &KeyLayer) -> crate::respond::HttpResponse {
    let views: Vec<KeyView> = layer
        .keys()
        .iter()
        .map(|key| KeyView::of(key, None))
        .collect();
    respond::json(StatusCode::OK, &views)
}

fn effective_view(key: &EffectiveKey, beyond_capacity: bool) -> KeyView {
    let origin = match &key.origin {
        KeyOrigin::Default => KeyOriginView::new("default", None),
        KeyOrigin::Site => KeyOriginView::new("site", None),
        KeyOrigin::Profile(name) => KeyOriginView::new("profile", Some(name)),
        KeyOrigin::Model(model) => KeyOriginView::new("model", Some(model)),
        KeyOrigin::Device => KeyOriginView::new("device", None),
        KeyOrigin::User(extension) => KeyOriginView::new("user", Some(extension)),
    };
    let mut view = KeyView::of(&key.key, Some(origin));
    if view.label.is_none() {
        view.label.clone_from(&key.shown_label);
    }
    view.beyond_capacity = beyond_capacity.then_some(true);
    view
}
