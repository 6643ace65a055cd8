//! /api/v1/devices and /api/v1/unregistered. The handlers of /devices are here; beside them the
//! request bodies (`requests.rs`), the device as the API shows it (`views.rs`), the list filter
//! (`filter.rs`) and /unregistered (`unregistered.rs`).

mod events;
mod filter;
mod requests;
mod unregistered;
mod views;

use http::StatusCode;

use super::paging;
use super::{ApiResult, query_value};
use crate::app::App;
use crate::domain::{Extension, Mac};
use crate::error::ApiError;
use crate::model::DeviceRecord;
use crate::models;
use crate::notify::Action;
use crate::ops::{Actor, devices};
use crate::render;
use crate::respond;
use crate::settings::SettingsPatch;
use crate::vendors::{self, FileRequest};
use views::{answer, views};

pub use events::{DeviceEventLog, events};
pub use requests::{DevicePatch, LineAssignment, NewDevice, NewDevices};
pub use unregistered::{Adoption, UnregisteredView, adopt, forget_unregistered, list_unregistered};
pub use views::DeviceView;

/// `?q=text&unassigned=true&hotdesk=true&auto_registered=true&not_seen_days=30&never_seen=true&model=T46S&profile=p&location=floor&claim_contested=true&model_mismatch=true`,
/// in pages by MAC.
pub async fn list(app: &App, query: &str) -> ApiResult {
    let (page, pairs) = paging::parse(query, filter::KEYS)?;
    let filter = filter::from_pairs(pairs)?;
    let after = super::paging::mac_cursor(&page)?;
    let (devices, more) = crate::ops::device_list::page(app, &filter, after, page.limit).await?;
    let views = views(app, &devices).await?;
    Ok(paging::answer(
        views,
        paging::next_of(&devices, more, |d| d.mac.to_string()),
    ))
}

/// The device's effective settings with where each value came from, and its own layer.
pub async fn settings(app: &App, mac: Mac) -> ApiResult {
    let device = devices::existing(app.store.reads(), mac).await?;
    settings_answer(app, &device).await
}

async fn settings_answer(app: &App, device: &DeviceRecord) -> ApiResult {
    let effective = crate::settings::effective_for(app.store.reads(), device).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::DeviceSettings {
            mac: device.mac,
            profile: device.profile.clone(),
            model: models::of_device(device).map(|r| r.model.to_string()),
            own: crate::settings::redacted_layer(&device.settings),
            effective: effective.view(),
        },
    ))
}

pub async fn show(app: &App, mac: Mac) -> ApiResult {
    let device = devices::existing(app.store.reads(), mac).await?;
    answer(app, StatusCode::OK, &device).await
}

/// Exactly what the phone would get for `file` (default: its own config), without the side
/// effects of a phone request (no claim, no last-seen).
pub async fn render(app: &App, mac: Mac, query: &str) -> ApiResult {
    let device = devices::existing(app.store.reads(), mac).await?;
    let vendor = device
        .vendor
        .as_deref()
        .and_then(vendors::by_id)
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "the vendor of {} is not known yet: set its model first",
                device.mac
            ))
        })?;
    let file = query_value(query, "file")
        .unwrap_or_else(|| vendor.device_file_name(device.mac, device.model.as_ref()));
    let base_url = render_base_url(app, query)?;
    let rendered = match vendor.classify_file(&file) {
        Some(FileRequest::Device { mac }) if mac == device.mac => {
            render::device_file(app, vendor, &device, &base_url).await?
        }
        Some(FileRequest::Common { template, hints })
            if hints.mac.is_none_or(|m| m == device.mac) =>
        {
            let request = render::CommonRequest {
                template,
                hints: &hints,
                model: device.model.as_ref(),
                firmware: device.firmware.as_deref(),
                base_url: &base_url,
            };
            render::common_file(app, vendor, &request).await?
        }
        _ => {
            return Err(ApiError::NotFound(format!(
                "{file} is not a file this device fetches"
            )));
        }
    };
    let mut response = crate::respond::HttpResponse::new(rendered.body.into());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(rendered.content_type),
    );
    response
        .headers_mut()
        .insert(http::header::ETAG, rendered.etag.clone());
    Ok(response)
}

/// The URL the phone reaches the server by: `public_url`, else `?host=` (as the phone's Host
/// header would say), else localhost on the phone port.
fn render_base_url(app: &App, query: &str) -> Result<String, ApiError> {
    if let Some(url) = &app.config.server.public_url {
        return Ok(url.clone());
    }
    match query_value(query, "host") {
        Some(host) if crate::provision::valid_host(&host) => Ok(format!("https://{host}/")),
        Some(_) => Err(ApiError::BadRequest(
            "host: must be a host name or address with an optional port".into(),
        )),
        None => Ok(format!(
            "https://localhost:{}/",
            app.config.server.phone_listen.port()
        )),
    }
}

/// The device's provisioning credentials, for configuring a phone by hand, and the admin
/// password of its own web interface.
pub async fn credentials(app: &App, mac: Mac) -> ApiResult {
    let device = devices::existing(app.store.reads(), mac).await?;
    let settings = crate::settings::of_device(app.store.reads(), &device).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::Credentials {
            username: device.provisioning_user.clone(),
            password: device.provisioning_password.expose().to_string(),
            phone_admin_password: settings.phone_admin_password.clone(),
        },
    ))
}

pub async fn create(app: &App, by: &Actor, new: NewDevice) -> ApiResult {
    let record = devices::register(app, by, &new.typed()?).await?;
    answer(app, StatusCode::CREATED, &record).await
}

/// Registers many devices at once: all of them, or none when one is refused.
pub async fn create_many(app: &App, by: &Actor, body: NewDevices) -> ApiResult {
    let typed = body
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| d.typed().map_err(|e| in_item(i, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let records =
        devices::register_many(app, by, &typed)
            .await
            .map_err(|(item, e)| match item {
                Some(i) => in_item(i, e.into()),
                None => e.into(),
            })?;
    let views = views(app, &records).await?;
    Ok(respond::json(StatusCode::CREATED, &views))
}

/// Names the item of a bulk request an error is about; nothing was stored.
fn in_item(index: usize, error: ApiError) -> ApiError {
    let message = format!("devices[{index}]: {error}; nothing was registered");
    match error {
        ApiError::Conflict(_) => ApiError::Conflict(message),
        _ => ApiError::BadRequest(message),
    }
}

pub async fn patch(app: &App, by: &Actor, mac: Mac, patch: DevicePatch) -> ApiResult {
    let stored = devices::change(app, by, mac, &patch.typed()?).await?;
    answer(app, StatusCode::OK, &stored).await
}

pub async fn delete(app: &App, by: &Actor, mac: Mac) -> ApiResult {
    devices::delete(app, by, mac).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::Deleted { deleted: mac },
    ))
}

/// Deletes many devices at once: all of them, or none when one is unknown.
fn macs_of(body: &super::schemas::MacList) -> Result<Vec<Mac>, ApiError> {
    Ok(body
        .macs
        .iter()
        .map(|m| Mac::parse(m))
        .collect::<Result<Vec<_>, _>>()?)
}

pub async fn delete_many(app: &App, by: &Actor, body: super::schemas::MacList) -> ApiResult {
    let macs = macs_of(&body)?;
    devices::delete_many(app, by, &macs).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::DeletedDevices { deleted: macs },
    ))
}

pub async fn reset_claims(app: &App, by: &Actor, body: super::schemas::MacList) -> ApiResult {
    let macs = macs_of(&body)?;
    devices::reset_claims(app, by, &macs).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::ClaimsReset { reset: macs },
    ))
}

pub async fn logout_many(app: &App, by: &Actor, body: super::schemas::MacList) -> ApiResult {
    let macs = macs_of(&body)?;
    let logged_out = devices::logout_many(app, by, &macs).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::DevicesLoggedOut { logged_out },
    ))
}

/// Resync or reboot, one phone.
pub async fn tell_one(app: &App, by: &Actor, mac: Mac, action: Action) -> ApiResult {
    let outcome = devices::tell_one(app, by, mac, action).await?;
    let result = super::schemas::NotifyResult {
        mac,
        action,
        outcome,
    };
    Ok(respond::json(StatusCode::OK, &result))
}

/// Resync or reboot, many phones: all registered, or nothing is sent.
pub async fn tell_many(
    app: &App,
    by: &Actor,
    body: super::schemas::MacsToTell,
    action: Action,
) -> ApiResult {
    let macs = body
        .macs
        .iter()
        .map(|m| Mac::parse(m))
        .collect::<Result<Vec<_>, _>>()?;
    let outcomes = devices::tell(app, by, &macs, action).await?;
    let results: Vec<_> = outcomes
        .into_iter()
        .map(|(mac, outcome)| super::schemas::NotifyResult {
            mac,
            action,
            outcome,
        })
        .collect();
    Ok(respond::json(StatusCode::OK, &results))
}

pub async fn replace(
    app: &App,
    by: &Actor,
    old: Mac,
    body: super::schemas::Replacement,
) -> ApiResult {
    let new =
        Mac::parse(&body.new_mac).map_err(|e| ApiError::BadRequest(format!("new_mac: {e}")))?;
    let model = body
        .model
        .as_deref()
        .map(crate::domain::ModelId::parse)
        .transpose()?;
    let record = devices::replace(app, by, old, new, model).await?;
    answer(app, StatusCode::OK, &record).await
}

pub async fn assign(
    app: &App,
    by: &Actor,
    mac: Mac,
    line: &str,
    body: LineAssignment,
) -> ApiResult {
    let user = Extension::parse_field("user", &body.user)?;
    let stored = devices::assign(app, by, mac, line, &user, body.replace).await?;
    answer(app, StatusCode::OK, &stored).await
}

pub async fn unassign(app: &App, by: &Actor, mac: Mac, line: &str) -> ApiResult {
    let stored = devices::unassign(app, by, mac, line).await?;
    answer(app, StatusCode::OK, &stored).await
}

/// Opens a new claim window and replaces the provisioning password: for a phone that was
/// factory-reset or replaced and no longer has its credentials.
pub async fn reset_claim(app: &App, by: &Actor, mac: Mac) -> ApiResult {
    let stored = devices::reset_claim(app, by, mac).await?;
    answer(app, StatusCode::OK, &stored).await
}

/// New provisioning credentials and a new claim window, for a claim someone else took.
pub async fn rekey(app: &App, by: &Actor, mac: Mac) -> ApiResult {
    let stored = devices::rekey(app, by, mac).await?;
    answer(app, StatusCode::OK, &stored).await
}

/// Logs out whoever is logged in (`?line=N`: only that line or handset).
pub async fn logout(app: &App, by: &Actor, mac: Mac, line: Option<&str>) -> ApiResult {
    let after = devices::logout(app, by, mac, line).await?;
    answer(app, StatusCode::OK, &after).await
}

/// Sets (or with `null` removes) settings of this device alone.
pub async fn patch_settings(app: &App, by: &Actor, mac: Mac, patch: SettingsPatch) -> ApiResult {
    let stored = devices::change_settings(app, by, mac, &patch).await?;
    settings_answer(app, &stored).await
}
