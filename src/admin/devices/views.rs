//! A device as the API answers it: its lines, the hot-desk logins still in time, the claim
//! window and its contest, and a model mismatch.

use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::admin::ApiResult;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Extension, Label, Location, Mac, ModelId, ProfileName};
use crate::error::ApiError;
use crate::model::{DeviceRecord, ModelSource};
use crate::models::ModelRow;
use crate::ops::devices::row;
use crate::ops::sessions;
use crate::respond;
use crate::settings::Settings;

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

/// A request refused soon after the claim, from another address, that could have claimed:
/// most likely the real phone, after someone else took its claim. Re-key the device.
#[derive(Serialize, ToSchema)]
pub struct ContestView<'a> {
    at: String,
    /// Where the refused request came from.
    address: &'a str,
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
    /// Whether the model table has the model: false for one the phone reported that deskprov
    /// does not know (it gets its vendor's generic template) or of a vendor it does not
    /// provision; `null` while the model is not known.
    supported: Option<bool>,
    firmware: Option<&'a str>,
    /// The firmware version it should run (the effective `firmware_version` setting).
    firmware_target: Option<String>,
    /// It reports another firmware than its target.
    firmware_outdated: bool,
    label: Option<&'a str>,
    location: Option<&'a str>,
    profile: Option<&'a str>,
    /// Settings of this device alone (the effective ones: GET .../settings).
    #[schema(value_type = crate::admin::schemas::SettingsLayer)]
    settings: serde_json::Map<String, serde_json::Value>,
    /// Registered by adopting it from the seen-unregistered list.
    adopted: bool,
    /// How many lines (or DECT handset slots) the model has; `null` while the model is unknown.
    line_count: Option<u16>,
    lines: Vec<LineView<'a>>,
    hotdesk: bool,
    certificate_required: bool,
    /// Expansion modules attached.
    expansion_modules: u8,
    /// Users logged in at this hot-desk phone (still in time).
    logged_in: Vec<LoginView<'a>>,
    registered_at: String,
    first_seen: Option<String>,
    last_seen: Option<String>,
    last_address: Option<&'a str>,
    claimed: bool,
    claim_open_until: Option<String>,
    /// Set when the claim looks taken by someone else; cleared by a re-key.
    claim_contested: Option<ContestView<'a>>,
    model_mismatch: Option<MismatchView<'a>>,
}

/// Devices as the API answers them.
pub(super) async fn views<'a>(
    app: &App,
    devices: &'a [DeviceRecord],
) -> Result<Vec<DeviceView<'a>>, ApiError> {
    let layers = crate::settings::AllLayers::load(app.store.reads()).await?;
    Ok(devices
        .iter()
        .map(|device| view_with(app, device, layers.of_device(device)))
        .collect())
}

/// One device as the API answers it.
pub(super) async fn answer(app: &App, status: StatusCode, d: &DeviceRecord) -> ApiResult {
    Ok(respond::json(status, &view(app, d).await?))
}

async fn view<'a>(app: &App, d: &'a DeviceRecord) -> Result<DeviceView<'a>, ApiError> {
    let settings = crate::settings::of_device(app.store.reads(), d).await?;
    Ok(view_with(app, d, settings))
}

/// `settings` are the device's effective ones: they decide which logins are still in time,
/// and its firmware target.
fn view_with<'a>(app: &App, d: &'a DeviceRecord, settings: Settings) -> DeviceView<'a> {
    let now = app.clock.now();
    let window = app.config.provisioning.claim_window_secs as i64;
    let claim_end = d.claim_opened_at + window;
    DeviceView {
        mac: d.mac,
        vendor: d.vendor.as_deref(),
        model: d.model.as_ref(),
        model_source: d.model_source,
        supported: crate::models::is_supported(d.vendor.as_deref(), d.model.as_ref()),
        firmware: d.firmware.as_deref(),
        firmware_target: settings.firmware_version.clone(),
        firmware_outdated: settings.firmware_outdated(d.firmware.as_deref()),
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
        expansion_modules: d.expansion_modules,
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
        claim_contested: d.claim_contested.as_ref().map(|c| ContestView {
            at: rfc3339(c.at),
            address: &c.address,
        }),
        model_mismatch: d.model_mismatch.as_ref().map(|m| MismatchView {
            reported_vendor: m.reported_vendor.as_deref(),
            reported_model: &m.reported_model,
            at: rfc3339(m.at),
            address: m.address.as_deref(),
        }),
    }
}
