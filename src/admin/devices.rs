//! /api/v1/devices and /api/v1/unregistered.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::paging;
use super::{ApiResult, query_value};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Extension, Label, Location, Mac, ModelId, ProfileName};
use crate::error::ApiError;
use crate::model::{DeviceRecord, ModelSource};
use crate::models::{self, ModelRow};
use crate::ops::devices::{self, DeviceChange, row};
use crate::ops::{Actor, sessions};
use crate::render;
use crate::respond;
use crate::settings::{Settings, SettingsPatch, double_option};
use crate::vendors::{self, FileRequest};

/// A device to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    #[schema(value_type = Mac)]
    pub(crate) mac: String,
    /// Filled in from the phone's first request when not given.
    #[schema(value_type = Option<ModelId>)]
    pub(crate) model: Option<String>,
    #[schema(value_type = Option<Label>)]
    pub(crate) label: Option<String>,
    #[schema(value_type = Option<Location>)]
    pub(crate) location: Option<String>,
    /// The settings profile it inherits from.
    #[schema(value_type = Option<ProfileName>)]
    pub(crate) profile: Option<String>,
    /// Users log in at this phone with extension and PIN.
    #[serde(default)]
    pub(crate) hotdesk: bool,
    /// Served only to a connection presenting the phone's factory client certificate.
    #[serde(default)]
    pub(crate) certificate_required: bool,
}

/// What to change; `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevicePatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<ModelId>)]
    model: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Label>)]
    label: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Location>)]
    location: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<ProfileName>)]
    profile: Option<Option<String>>,
    hotdesk: Option<bool>,
    certificate_required: Option<bool>,
}

/// What to register an unregistered device with (the body may be left out).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adoption {
    #[schema(value_type = Option<Label>)]
    label: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineAssignment {
    /// The user's extension.
    #[schema(value_type = Extension)]
    user: String,
    /// Replace the user the line has; without it a taken line is refused.
    #[serde(default)]
    replace: bool,
}

#[derive(Serialize, ToSchema)]
pub struct LineView<'a> {
    line: u16,
    user: &'a Extension,
}

#[derive(Serialize, ToSchema)]
pub struct LoginView<'a> {
    line: u16,
    user: &'a Extension,
    since: String,
}

/// The phone reports another model than the one on record.
#[derive(Serialize, ToSchema)]
pub struct MismatchView<'a> {
    reported_vendor: Option<&'a str>,
    reported_model: &'a str,
    at: String,
    address: Option<&'a str>,
}

/// A registered device.
#[derive(Serialize, ToSchema)]
pub struct DeviceView<'a> {
    mac: Mac,
    vendor: Option<&'a str>,
    model: Option<&'a ModelId>,
    /// admin or auto (filled in from the phone's request).
    #[schema(value_type = Option<String>)]
    model_source: Option<ModelSource>,
    firmware: Option<&'a str>,
    label: Option<&'a str>,
    location: Option<&'a str>,
    profile: Option<&'a str>,
    /// Settings of this device alone (the effective ones: GET .../settings).
    #[schema(value_type = super::schemas::SettingsLayer)]
    settings: serde_json::Map<String, serde_json::Value>,
    /// Registered by adopting it from the seen-unregistered list.
    adopted: bool,
    /// How many lines (or DECT handset slots) the model has; `null` while the model is unknown.
    line_count: Option<u16>,
    lines: Vec<LineView<'a>>,
    hotdesk: bool,
    certificate_required: bool,
    /// Users logged in at this hot-desk phone (still in time).
    logged_in: Vec<LoginView<'a>>,
    registered_at: String,
    first_seen: Option<String>,
    last_seen: Option<String>,
    last_address: Option<&'a str>,
    claimed: bool,
    claim_open_until: Option<String>,
    model_mismatch: Option<MismatchView<'a>>,
}

/// Devices as the API answers them.
async fn views<'a>(
    app: &App,
    devices: &'a [DeviceRecord],
) -> Result<Vec<DeviceView<'a>>, ApiError> {
    let mut views = Vec::with_capacity(devices.len());
    for device in devices {
        views.push(view(app, device).await?);
    }
    Ok(views)
}

/// One device as the API answers it.
async fn answer(app: &App, status: StatusCode, d: &DeviceRecord) -> ApiResult {
    Ok(respond::json(status, &view(app, d).await?))
}

async fn view<'a>(app: &App, d: &'a DeviceRecord) -> Result<DeviceView<'a>, ApiError> {
    let now = app.clock.now();
    // The device's own settings decide which logins are still in time.
    let settings = match d.sessions.is_empty() {
        true => Settings::default(),
        false => crate::settings::of_device(app.store.reads(), d).await?,
    };
    let window = app.config.provisioning.claim_window_secs as i64;
    let claim_end = d.claim_opened_at + window;
    Ok(DeviceView {
        mac: d.mac,
        vendor: d.vendor.as_deref(),
        model: d.model.as_ref(),
        model_source: d.model_source,
        firmware: d.firmware.as_deref(),
        label: d.label.as_ref().map(Label::as_str),
        location: d.location.as_ref().map(Location::as_str),
        profile: d.profile.as_ref().map(ProfileName::as_str),
        settings: crate::settings::redacted_layer(&d.settings),
        adopted: d.adopted,
        line_count: row(d).map(ModelRow::lines),
        lines: d
            .lines
            .iter()
            .map(|(line, user)| LineView { line: *line, user })
            .collect(),
        hotdesk: d.hotdesk,
        certificate_required: d.certificate_required,
        logged_in: d
            .sessions
            .iter()
            .filter(|(_, s)| sessions::is_live(s, &settings, now))
            .map(|(line, s)| LoginView {
                line: *line,
                user: &s.extension,
                since: rfc3339(s.since),
            })
            .collect(),
        registered_at: rfc3339(d.registered_at),
        first_seen: d.first_seen.map(rfc3339),
        last_seen: d.last_seen.map(rfc3339),
        last_address: d.last_address.as_deref(),
        claimed: d.claimed_at.is_some(),
        claim_open_until: (d.claimed_at.is_none() && app.clock.now() < claim_end)
            .then(|| rfc3339(claim_end)),
        model_mismatch: d.model_mismatch.as_ref().map(|m| MismatchView {
            reported_vendor: m.reported_vendor.as_deref(),
            reported_model: &m.reported_model,
            at: rfc3339(m.at),
            address: m.address.as_deref(),
        }),
    })
}

/// Which devices a list shows; every filter given must hold.
#[derive(Debug, Default)]
struct Filter {
    unassigned: Option<bool>,
    hotdesk: Option<bool>,
    auto_registered: Option<bool>,
    not_seen_days: Option<u32>,
    model: Option<String>,
    profile: Option<String>,
    location: Option<String>,
}

impl Filter {
    const KEYS: &[&str] = &[
        "unassigned",
        "hotdesk",
        "auto_registered",
        "not_seen_days",
        "model",
        "profile",
        "location",
    ];

    fn from_pairs(pairs: Vec<(String, String)>) -> Result<Filter, ApiError> {
        let mut filter = Filter::default();
        let flag = |key: &str, value: &str| match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::BadRequest(format!(
                "{key}: must be true or false"
            ))),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "unassigned" => filter.unassigned = Some(flag(&key, &value)?),
                "hotdesk" => filter.hotdesk = Some(flag(&key, &value)?),
                "auto_registered" => filter.auto_registered = Some(flag(&key, &value)?),
                "not_seen_days" => {
                    filter.not_seen_days = Some(value.parse().map_err(|_| {
                        ApiError::BadRequest("not_seen_days: must be a number of days".into())
                    })?)
                }
                "model" => filter.model = Some(value),
                "profile" => filter.profile = Some(value),
                _ => filter.location = Some(value),
            }
        }
        Ok(filter)
    }

    fn matches(&self, d: &DeviceRecord, now: i64) -> bool {
        let assigned = !d.lines.is_empty() || !d.sessions.is_empty();
        let unseen_since = |days: u32| now - i64::from(days) * 86_400;
        self.unassigned.is_none_or(|u| u != assigned)
            && self.hotdesk.is_none_or(|h| h == d.hotdesk)
            && self.auto_registered.is_none_or(|a| a == d.adopted)
            && self
                .not_seen_days
                .is_none_or(|days| d.last_seen.is_none_or(|seen| seen < unseen_since(days)))
            && self.model.as_deref().is_none_or(|m| {
                d.model
                    .as_ref()
                    .is_some_and(|dm| dm.as_str().eq_ignore_ascii_case(m))
            })
            && self
                .profile
                .as_deref()
                .is_none_or(|p| d.profile.as_ref().is_some_and(|dp| dp.as_str() == p))
            && self.location.as_deref().is_none_or(|l| {
                d.location
                    .as_ref()
                    .is_some_and(|dl| dl.as_str().to_lowercase().contains(&l.to_lowercase()))
            })
    }
}

/// `?unassigned=true&hotdesk=true&auto_registered=true&not_seen_days=30&model=T46S&profile=p&location=floor`,
/// in pages by MAC.
pub async fn list(app: &App, query: &str) -> ApiResult {
    let (page, pairs) = paging::parse(query, Filter::KEYS)?;
    let filter = Filter::from_pairs(pairs)?;
    let now = app.clock.now();
    let (devices, more) = app
        .store
        .devices_page(paging::mac_cursor(&page)?, page.limit, &|d| {
            filter.matches(d, now)
        })
        .await?;
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevices {
    #[schema(min_items = 1, max_items = 10000)]
    devices: Vec<NewDevice>,
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
    response.headers_mut().insert(
        http::header::ETAG,
        http::HeaderValue::from_str(&rendered.etag).expect("hex etag"),
    );
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

/// A MAC that asked for files without being registered, and what its requests told.
#[derive(Serialize, ToSchema)]
pub struct UnregisteredView<'a> {
    mac: Mac,
    vendor: Option<&'a str>,
    model: Option<&'a ModelId>,
    firmware: Option<&'a str>,
    first_seen: String,
    last_seen: String,
    last_address: Option<&'a str>,
    requests: u64,
}

/// Seen-unregistered MACs, in pages by MAC.
pub async fn list_unregistered(app: &App, query: &str) -> ApiResult {
    let (page, _) = paging::parse(query, &[])?;
    let (seen, more) = app
        .store
        .unregistered_page(paging::mac_cursor(&page)?, page.limit)
        .await?;
    let views: Vec<_> = seen
        .iter()
        .map(|s| UnregisteredView {
            mac: s.mac,
            vendor: s.vendor.as_deref(),
            model: s.model.as_ref(),
            firmware: s.firmware.as_deref(),
            first_seen: rfc3339(s.first_seen),
            last_seen: rfc3339(s.last_seen),
            last_address: s.last_address.as_deref(),
            requests: s.requests,
        })
        .collect();
    Ok(paging::answer(
        views,
        paging::next_of(&seen, more, |s| s.mac.to_string()),
    ))
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

fn clearable<T>(
    raw: &Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, crate::domain::InvalidInput>,
) -> Result<Option<Option<T>>, ApiError> {
    Ok(match raw {
        Some(Some(value)) => Some(Some(parse(value)?)),
        Some(None) => Some(None),
        None => None,
    })
}

impl NewDevice {
    /// The body as the operation's typed input; the first field that does not parse is the error.
    pub(crate) fn typed(&self) -> Result<devices::NewDevice, ApiError> {
        Ok(devices::NewDevice {
            mac: Some(Mac::parse(&self.mac)?),
            model: self.model.as_deref().map(ModelId::parse).transpose()?,
            label: self.label.as_deref().map(Label::parse).transpose()?,
            location: self.location.as_deref().map(Location::parse).transpose()?,
            profile: self
                .profile
                .as_deref()
                .map(ProfileName::parse)
                .transpose()?,
            hotdesk: self.hotdesk,
            certificate_required: self.certificate_required,
        })
    }
}

impl DevicePatch {
    pub(crate) fn typed(&self) -> Result<DeviceChange, ApiError> {
        Ok(DeviceChange {
            model: clearable(&self.model, ModelId::parse)?,
            label: clearable(&self.label, Label::parse)?,
            location: clearable(&self.location, Location::parse)?,
            profile: clearable(&self.profile, ProfileName::parse)?,
            hotdesk: self.hotdesk,
            certificate_required: self.certificate_required,
        })
    }
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
pub async fn delete_many(app: &App, by: &Actor, body: super::schemas::MacList) -> ApiResult {
    let macs = body
        .macs
        .iter()
        .map(|m| Mac::parse(m))
        .collect::<Result<Vec<_>, _>>()?;
    devices::delete_many(app, by, &macs).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::DeletedDevices { deleted: macs },
    ))
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

/// Registers a seen-unregistered device with what it told us about itself.
pub async fn adopt(app: &App, by: &Actor, mac: Mac, adoption: Adoption) -> ApiResult {
    let label = adoption.label.as_deref().map(Label::parse).transpose()?;
    let record = devices::adopt(app, by, mac, label).await?;
    answer(app, StatusCode::CREATED, &record).await
}

pub async fn forget_unregistered(app: &App, by: &Actor, mac: Mac) -> ApiResult {
    devices::forget_unregistered(app, by, mac).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::Deleted { deleted: mac },
    ))
}
