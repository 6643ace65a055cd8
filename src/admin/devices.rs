//! /api/v1/devices and /api/v1/unregistered.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApiResult, query_value};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Extension, Label, Location, Mac, ModelId, ProfileName, Secret};
use crate::error::ApiError;
use crate::hotdesk::{notify, sessions};
use crate::models::{self, MAX_LINES_UNKNOWN_MODEL, ModelRow};
use crate::render;
use crate::respond;
use crate::settings::{Settings, SettingsPatch, double_option};
use crate::store::{DeviceRecord, ModelSource, UnregisteredRecord};
use crate::vendors::{self, FileRequest};

const PROVISIONING_PASSWORD_LEN: usize = 24;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    pub(crate) mac: String,
    pub(crate) model: Option<String>,
    pub(crate) label: Option<String>,
    pub(crate) location: Option<String>,
    /// The settings profile it inherits from.
    pub(crate) profile: Option<String>,
    /// Users log in at this phone with extension and PIN.
    #[serde(default)]
    pub(crate) hotdesk: bool,
    /// Served only to a connection presenting the phone's factory client certificate.
    #[serde(default)]
    pub(crate) certificate_required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicePatch {
    #[serde(default, deserialize_with = "double_option")]
    model: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    label: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    location: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    profile: Option<Option<String>>,
    hotdesk: Option<bool>,
    certificate_required: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adoption {
    label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineAssignment {
    user: String,
}

#[derive(Serialize)]
struct LineView<'a> {
    line: u16,
    user: &'a Extension,
}

#[derive(Serialize)]
struct LoginView<'a> {
    line: u16,
    user: &'a Extension,
    since: String,
}

#[derive(Serialize)]
struct MismatchView<'a> {
    reported_vendor: Option<&'a str>,
    reported_model: &'a str,
    at: String,
    address: Option<&'a str>,
}

#[derive(Serialize)]
struct DeviceView<'a> {
    mac: Mac,
    vendor: Option<&'a str>,
    model: Option<&'a ModelId>,
    model_source: Option<ModelSource>,
    firmware: Option<&'a str>,
    label: Option<&'a str>,
    location: Option<&'a str>,
    profile: Option<&'a str>,
    /// Settings of this device alone (the effective ones: GET .../settings).
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

/// One device as the API answers it.
fn answer(app: &App, status: StatusCode, d: &DeviceRecord) -> ApiResult {
    Ok(respond::json(status, &view(app, d)?))
}

fn view<'a>(app: &App, d: &'a DeviceRecord) -> Result<DeviceView<'a>, ApiError> {
    let now = app.clock.now();
    // The device's own settings decide which logins are still in time.
    let settings = match d.sessions.is_empty() {
        true => Settings::default(),
        false => crate::settings::of_device(&app.store, d)?,
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

fn row(d: &DeviceRecord) -> Option<&'static ModelRow> {
    models::find(d.vendor.as_deref()?, d.model.as_ref()?.as_str())
}

fn capacity(d: &DeviceRecord) -> u16 {
    row(d)
        .map(ModelRow::lines)
        .unwrap_or(MAX_LINES_UNKNOWN_MODEL)
}

fn parse_mac(raw: &str) -> Result<Mac, ApiError> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    Ok(Mac::parse(&decoded)?)
}

/// An admin-named model must be in the model table: its template and line count come from there.
fn known_model(raw: &str) -> Result<&'static ModelRow, ApiError> {
    let id = ModelId::parse(raw)?;
    models::find_any(id.as_str()).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "model: unknown model {id:?}; GET /api/v1/models lists the supported ones"
        ))
    })
}

fn existing(app: &App, mac: Mac) -> Result<DeviceRecord, ApiError> {
    app.store
        .device(mac)?
        .ok_or_else(|| ApiError::NotFound(format!("no device with MAC {mac}")))
}

fn new_record(app: &App, mac: Mac, now: i64) -> Result<DeviceRecord, ApiError> {
    let mut record = blank_record(mac, now);
    if let Some(seen) = app.store.unregistered_device(mac)? {
        apply_seen(&mut record, &seen);
    }
    Ok(record)
}

fn blank_record(mac: Mac, now: i64) -> DeviceRecord {
    let mut record = DeviceRecord::blank(mac, now, Secret::generate(PROVISIONING_PASSWORD_LEN));
    // The MAC's vendor prefix is a hint until the phone or the admin names the model.
    record.vendor = vendors::ALL
        .iter()
        .find(|v| v.owns_mac_prefix(mac))
        .map(|v| v.id().to_string());
    record
}

/// Carries over what earlier requests of this MAC, while unregistered, revealed about it.
fn apply_seen(device: &mut DeviceRecord, seen: &UnregisteredRecord) {
    device.first_seen = Some(seen.first_seen);
    device.last_seen = Some(seen.last_seen);
    device.last_address.clone_from(&seen.last_address);
    device.firmware.clone_from(&seen.firmware);
    if device.model.is_none() && seen.model.is_some() {
        device.vendor.clone_from(&seen.vendor);
        device.model.clone_from(&seen.model);
        device.model_source = Some(ModelSource::Auto);
    }
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
    fn parse(query: &str) -> Result<Filter, ApiError> {
        let mut filter = Filter::default();
        let flag = |key: &str, value: &str| match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::BadRequest(format!(
                "{key}: must be true or false"
            ))),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned();
            match key {
                "unassigned" => filter.unassigned = Some(flag(key, &value)?),
                "hotdesk" => filter.hotdesk = Some(flag(key, &value)?),
                "auto_registered" => filter.auto_registered = Some(flag(key, &value)?),
                "not_seen_days" => {
                    filter.not_seen_days = Some(value.parse().map_err(|_| {
                        ApiError::BadRequest("not_seen_days: must be a number of days".into())
                    })?)
                }
                "model" => filter.model = Some(value),
                "profile" => filter.profile = Some(value),
                "location" => filter.location = Some(value),
                other => {
                    return Err(ApiError::BadRequest(format!(
                        "unknown filter {other:?}; the filters are unassigned, hotdesk, auto_registered, not_seen_days, model, profile, location"
                    )));
                }
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

/// `?unassigned=true&hotdesk=true&auto_registered=true&not_seen_days=30&model=T46S&profile=p&location=floor`
pub fn list(app: &App, query: &str) -> ApiResult {
    let filter = Filter::parse(query)?;
    let now = app.clock.now();
    let devices = app.store.devices()?;
    let views = devices
        .iter()
        .filter(|d| filter.matches(d, now))
        .map(|d| view(app, d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(respond::json(StatusCode::OK, &views))
}

/// The device's effective settings with where each value came from, and its own layer.
pub fn settings(app: &App, mac: &str) -> ApiResult {
    let device = existing(app, parse_mac(mac)?)?;
    settings_answer(app, &device)
}

fn settings_answer(app: &App, device: &DeviceRecord) -> ApiResult {
    let effective = crate::settings::effective_for(&app.store, device)?;
    Ok(respond::json(
        StatusCode::OK,
        &json!({
            "mac": device.mac,
            "profile": device.profile,
            "model": models::of_device(device).map(|r| r.model),
            "own": crate::settings::redacted_layer(&device.settings),
            "effective": effective.view(),
        }),
    ))
}

/// Sets (or with `null` removes) settings of this device alone.
pub async fn patch_settings(app: &App, mac: &str, patch: SettingsPatch) -> ApiResult {
    let mac = parse_mac(mac)?;
    let _guard = app.admin_writes.lock().await;
    let device = existing(app, mac)?;
    let layer = crate::settings::patch_layer(&device.settings, &patch)?;
    let (stored, ()) = app
        .store
        .update_device(mac, |d| d.settings = layer.clone())?
        .ok_or_else(|| ApiError::NotFound(format!("no device with MAC {mac}")))?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %mac, "device settings changed");
    settings_answer(app, &stored)
}

pub fn show(app: &App, mac: &str) -> ApiResult {
    let device = existing(app, parse_mac(mac)?)?;
    answer(app, StatusCode::OK, &device)
}

/// A new device's record, checked completely (the caller holds the admin lock); not stored.
pub(crate) fn prepare_new(app: &App, new: &NewDevice) -> Result<DeviceRecord, ApiError> {
    let mac = Mac::parse(&new.mac)?;
    let model = new.model.as_deref().map(known_model).transpose()?;
    let mut record = new_record(app, mac, app.clock.now())?;
    record.label = new.label.as_deref().map(Label::parse).transpose()?;
    record.location = new.location.as_deref().map(Location::parse).transpose()?;
    record.profile = new
        .profile
        .as_deref()
        .map(|p| existing_profile(app, p))
        .transpose()?;
    if let Some(row) = model {
        set_admin_model(&mut record, row);
    }
    record.hotdesk = new.hotdesk;
    record.certificate_required = new.certificate_required;
    check_device(app, &record)?;
    if app.store.device(mac)?.is_some() {
        return Err(already_registered(mac));
    }
    Ok(record)
}

fn already_registered(mac: Mac) -> ApiError {
    ApiError::Conflict(format!("a device with MAC {mac} is already registered"))
}

/// A profile named by an admin must exist: a typo would silently inherit nothing.
pub(crate) fn existing_profile(app: &App, raw: &str) -> Result<ProfileName, ApiError> {
    let name = ProfileName::parse(raw)?;
    if app.store.profile(&name)?.is_none() {
        return Err(ApiError::BadRequest(format!(
            "profile: no settings profile named {name}; GET /api/v1/profiles lists them"
        )));
    }
    Ok(name)
}

pub async fn create(app: &App, new: NewDevice) -> ApiResult {
    let _guard = app.admin_writes.lock().await;
    let record = prepare_new(app, &new)?;
    if !app.store.insert_device(&record)? {
        return Err(already_registered(record.mac));
    }
    app.store.remove_unregistered(record.mac)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", mac = %record.mac, "device registered");
    answer(app, StatusCode::CREATED, &record)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDevices {
    devices: Vec<NewDevice>,
}

/// Registers many devices at once: all of them, or none when one is refused.
pub async fn create_many(app: &App, body: NewDevices) -> ApiResult {
    const MAX: usize = 10_000;
    if body.devices.is_empty() || body.devices.len() > MAX {
        return Err(ApiError::BadRequest(format!(
            "devices: give 1 to {MAX} devices"
        )));
    }
    let _guard = app.admin_writes.lock().await;
    let mut records: Vec<DeviceRecord> = Vec::with_capacity(body.devices.len());
    for (i, new) in body.devices.iter().enumerate() {
        let record = prepare_new(app, new).map_err(|e| in_item(i, e))?;
        if records.iter().any(|r| r.mac == record.mac) {
            return Err(in_item(i, already_registered(record.mac)));
        }
        records.push(record);
    }
    app.store.put_devices(&records)?;
    for record in &records {
        app.store.remove_unregistered(record.mac)?;
    }
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", count = records.len(), "devices registered");
    let views = records
        .iter()
        .map(|d| view(app, d))
        .collect::<Result<Vec<_>, _>>()?;
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

fn device_is_dect(d: &DeviceRecord) -> bool {
    row(d).is_some_and(ModelRow::is_dect)
}

/// A hot-desk phone needs an XML browser deskprov can drive, and line 1 free for logins.
fn check_hotdesk(d: &DeviceRecord) -> Result<(), ApiError> {
    if !d.hotdesk {
        return Ok(());
    }
    if let Some(vendor) = d.vendor.as_deref().and_then(vendors::by_id)
        && (d.model.is_some() || vendor.hotdesk(None).is_none())
        && vendor.hotdesk(row(d)).is_none()
    {
        let model = d.model.as_ref().map_or(vendor.id(), |m| m.as_str());
        return Err(ApiError::BadRequest(format!(
            "hotdesk: {model} phones have no XML browser deskprov can show a login on; assign users to their lines instead"
        )));
    }
    if !device_is_dect(d) && d.lines.contains_key(&1) {
        return Err(ApiError::Conflict(
            "hotdesk: line 1 has a user; unassign it first (logins use line 1)".into(),
        ));
    }
    Ok(())
}

/// Requiring a certificate that nothing can verify would lock the phone out for good.
fn check_certificate_required(app: &App, d: &DeviceRecord) -> Result<(), ApiError> {
    if d.certificate_required && app.vendor_cas.is_none() {
        return Err(ApiError::BadRequest(format!(
            "certificate_required: no vendor CA certificates are configured; put the vendor's CA in {} and restart first",
            app.config.vendor_ca_dir().display()
        )));
    }
    Ok(())
}

/// Logs out whoever is logged in (`?line=N`: only that line or handset).
pub async fn logout(app: &App, mac: &str, query: &str) -> ApiResult {
    let mac = parse_mac(mac)?;
    let device = existing(app, mac)?;
    let line = match query_value(query, "line") {
        Some(raw) => Some(parse_line(&raw, &device)?),
        None => None,
    };
    let (after, left) = sessions::log_out(app, mac, line, None, "logged out by an admin")
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no device with MAC {mac}")))?;
    if left.is_empty() {
        return Err(ApiError::Conflict(format!(
            "nobody is logged in at {mac}{}",
            line.map(|l| format!(" on line {l}")).unwrap_or_default()
        )));
    }
    notify::reload(app, &after);
    answer(app, StatusCode::OK, &after)
}

fn set_admin_model(record: &mut DeviceRecord, row: &ModelRow) {
    record.vendor = Some(row.vendor.to_string());
    record.model = Some(ModelId::parse(row.model).expect("model table ids are valid"));
    record.model_source = Some(ModelSource::Admin);
    record.model_mismatch = None;
}

/// Applies the patch's fields to `next` (the caller holds the admin lock); checks nothing
/// beyond each field's own form: [`check_device`] checks the result.
pub(crate) fn apply_fields(
    app: &App,
    next: &mut DeviceRecord,
    patch: &DevicePatch,
) -> Result<(), ApiError> {
    match &patch.model {
        // Naming the model it has changes nothing, even one the phone reported that the model
        // table lacks (an export imported again).
        Some(Some(raw))
            if next
                .model
                .as_ref()
                .is_some_and(|m| m.as_str().eq_ignore_ascii_case(raw)) => {}
        Some(Some(raw)) => {
            let row = known_model(raw)?;
            // Naming the model it already has changes nothing (an export imported again).
            if !models::of_device(next).is_some_and(|current| std::ptr::eq(current, row)) {
                set_admin_model(next, row);
            }
        }
        Some(None) => {
            next.model = None;
            next.model_source = None;
            next.model_mismatch = None;
        }
        None => {}
    }
    if let Some(label) = &patch.label {
        next.label = label.as_deref().map(Label::parse).transpose()?;
    }
    if let Some(location) = &patch.location {
        next.location = location.as_deref().map(Location::parse).transpose()?;
    }
    if let Some(profile) = &patch.profile {
        next.profile = profile
            .as_deref()
            .map(|p| existing_profile(app, p))
            .transpose()?;
    }
    if let Some(hotdesk) = patch.hotdesk {
        next.hotdesk = hotdesk;
    }
    if let Some(required) = patch.certificate_required {
        next.certificate_required = required;
    }
    Ok(())
}

/// Copies what an admin sets on a device onto `stored`; the rest (last seen, claim, sessions,
/// login token) is the phone's and stays as the phone last wrote it.
pub(crate) fn copy_admin_fields(stored: &mut DeviceRecord, given: &DeviceRecord) {
    stored.vendor.clone_from(&given.vendor);
    stored.model.clone_from(&given.model);
    stored.model_source = given.model_source;
    stored.model_mismatch.clone_from(&given.model_mismatch);
    stored.label.clone_from(&given.label);
    stored.location.clone_from(&given.location);
    stored.profile.clone_from(&given.profile);
    stored.lines.clone_from(&given.lines);
    stored.hotdesk = given.hotdesk;
    stored.certificate_required = given.certificate_required;
}

/// Everything a device record must satisfy before it is stored.
pub(crate) fn check_device(app: &App, d: &DeviceRecord) -> Result<(), ApiError> {
    check_hotdesk(d)?;
    check_certificate_required(app, d)?;
    let limit = capacity(d);
    if let Some((line, _)) = d.lines.iter().find(|(line, _)| **line > limit) {
        return Err(ApiError::Conflict(format!(
            "line {line} has a user but the model has {limit} lines; unassign it first"
        )));
    }
    if let Some(line) = d.lines.keys().find(|line| d.sessions.contains_key(line)) {
        return Err(ApiError::Conflict(format!(
            "line {line} has a hot-desk login; log it out first"
        )));
    }
    Ok(())
}

pub async fn patch(app: &App, mac: &str, patch: DevicePatch) -> ApiResult {
    let mac = parse_mac(mac)?;
    let _guard = app.admin_writes.lock().await;
    let before = existing(app, mac)?;
    let mut next = before.clone();
    apply_fields(app, &mut next, &patch)?;
    check_device(app, &next)?;
    if before.hotdesk && !next.hotdesk {
        // Nobody stays logged in at a phone that is no longer a hot-desk phone.
        sessions::end_sessions(app, mac, None)?;
    }
    let mut retired_token = None;
    let (stored, ()) = app
        .store
        .update_device(mac, |d| {
            copy_admin_fields(d, &next);
            if !d.hotdesk {
                retired_token = d.login_token.take();
            }
        })?
        .ok_or_else(|| ApiError::NotFound(format!("no device with MAC {mac}")))?;
    if let Some(token) = &retired_token {
        app.store.unindex_login_token(token)?;
    }
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %mac, hotdesk = stored.hotdesk, "device changed");
    answer(app, StatusCode::OK, &stored)
}

pub async fn delete(app: &App, mac: &str) -> ApiResult {
    let mac = parse_mac(mac)?;
    let _guard = app.admin_writes.lock().await;
    existing(app, mac)?;
    // Logged-out users' pointers are cleared; the rotated token is then retired with the device.
    let ended = sessions::end_sessions(app, mac, None)?;
    if !app.store.remove_device(mac)? {
        return Err(ApiError::NotFound(format!("no device with MAC {mac}")));
    }
    if let Some(token) = ended.and_then(|d| d.login_token) {
        app.store.unindex_login_token(&token)?;
    }
    app.store.remove_uploads(mac)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %mac, "device removed");
    Ok(respond::json(StatusCode::OK, &json!({ "deleted": mac })))
}

pub(crate) fn parse_line(raw: &str, device: &DeviceRecord) -> Result<u16, ApiError> {
    let limit = capacity(device);
    raw.parse::<u16>()
        .ok()
        .filter(|n| (1..=limit).contains(n))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "line: must be a number from 1 to {limit} for this device"
            ))
        })
}

pub async fn assign(app: &App, mac: &str, line: &str, body: LineAssignment) -> ApiResult {
    let mac = parse_mac(mac)?;
    let extension = Extension::parse(&body.user)?;
    let _guard = app.admin_writes.lock().await;
    let device = existing(app, mac)?;
    let line = parse_line(line, &device)?;
    if device.hotdesk && !device_is_dect(&device) && line == 1 {
        return Err(ApiError::Conflict(
            "line 1 of a hot-desk phone belongs to whoever logs in; assign lines 2 and up".into(),
        ));
    }
    if device.sessions.contains_key(&line) {
        return Err(ApiError::Conflict(format!(
            "line {line} has a hot-desk login; log it out first (POST /api/v1/devices/{mac}/logout?line={line})"
        )));
    }
    if app.store.user(&extension)?.is_none() {
        return Err(ApiError::BadRequest(format!(
            "user: no user with extension {extension}"
        )));
    }
    let (stored, ()) = app
        .store
        .update_device(mac, |d| {
            d.lines.insert(line, extension.clone());
        })?
        .ok_or_else(|| ApiError::NotFound(format!("no device with MAC {mac}")))?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %mac, line, user = %extension, "user assigned to line");
    answer(app, StatusCode::OK, &stored)
}

pub async fn unassign(app: &App, mac: &str, line: &str) -> ApiResult {
    let mac = parse_mac(mac)?;
    let _guard = app.admin_writes.lock().await;
    let device = existing(app, mac)?;
    let line = parse_line(line, &device)?;
    if !device.lines.contains_key(&line) {
        return Err(ApiError::NotFound(format!(
            "line {line} of {mac} has no user"
        )));
    }
    let (stored, ()) = app
        .store
        .update_device(mac, |d| {
            d.lines.remove(&line);
        })?
        .ok_or_else(|| ApiError::NotFound(format!("no device with MAC {mac}")))?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %mac, line, "line unassigned");
    answer(app, StatusCode::OK, &stored)
}

/// Opens a new claim window and replaces the provisioning password: for a phone that was
/// factory-reset or replaced and no longer has its credentials.
pub async fn reset_claim(app: &App, mac: &str) -> ApiResult {
    let mac = parse_mac(mac)?;
    let now = app.clock.now();
    let _guard = app.admin_writes.lock().await;
    let (stored, ()) = app
        .store
        .update_device(mac, |d| {
            d.claim_opened_at = now;
            d.claimed_at = None;
            d.claimed_from = None;
            d.provisioning_password = Secret::generate(PROVISIONING_PASSWORD_LEN);
        })?
        .ok_or_else(|| ApiError::NotFound(format!("no device with MAC {mac}")))?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %mac, "claim reset; provisioning password replaced");
    answer(app, StatusCode::OK, &stored)
}

/// The device's provisioning credentials, for configuring a phone by hand, and the admin
/// password of its own web interface.
pub fn credentials(app: &App, mac: &str) -> ApiResult {
    let device = existing(app, parse_mac(mac)?)?;
    let settings = crate::settings::of_device(&app.store, &device)?;
    Ok(respond::json(
        StatusCode::OK,
        &json!({
            "username": device.provisioning_user,
            "password": device.provisioning_password.expose(),
            "phone_admin_password": settings.phone_admin_password,
        }),
    ))
}

/// Exactly what the phone would get for `file` (default: its own config), without the side
/// effects of a phone request (no claim, no last-seen).
pub fn render(app: &App, mac: &str, query: &str) -> ApiResult {
    let device = existing(app, parse_mac(mac)?)?;
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
            render::device_file(app, vendor, &device, &base_url)?
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
            render::common_file(app, vendor, &request)?
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

#[derive(Serialize)]
struct UnregisteredView<'a> {
    mac: Mac,
    vendor: Option<&'a str>,
    model: Option<&'a ModelId>,
    firmware: Option<&'a str>,
    first_seen: String,
    last_seen: String,
    last_address: Option<&'a str>,
    requests: u64,
}

pub fn list_unregistered(app: &App) -> ApiResult {
    let mut seen = app.store.unregistered()?;
    seen.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
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
    Ok(respond::json(StatusCode::OK, &views))
}

/// Registers a seen-unregistered device with what it told us about itself.
pub async fn adopt(app: &App, mac: &str, adoption: Adoption) -> ApiResult {
    let mac = parse_mac(mac)?;
    let label = adoption.label.as_deref().map(Label::parse).transpose()?;
    let _guard = app.admin_writes.lock().await;
    if app.store.unregistered_device(mac)?.is_none() {
        return Err(ApiError::NotFound(format!(
            "{mac} has not been seen as an unregistered device"
        )));
    }
    let mut record = new_record(app, mac, app.clock.now())?;
    record.label = label;
    record.adopted = true;
    if !app.store.insert_device(&record)? {
        return Err(ApiError::Conflict(format!(
            "a device with MAC {mac} is already registered"
        )));
    }
    app.store.remove_unregistered(mac)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %mac, "unregistered device adopted");
    answer(app, StatusCode::CREATED, &record)
}

pub async fn forget_unregistered(app: &App, mac: &str) -> ApiResult {
    let mac = parse_mac(mac)?;
    let _guard = app.admin_writes.lock().await;
    if !app.store.remove_unregistered(mac)? {
        return Err(ApiError::NotFound(format!(
            "{mac} is not in the unregistered list"
        )));
    }
    app.store.flush().await?;
    Ok(respond::json(StatusCode::OK, &json!({ "deleted": mac })))
}
