//! The rules of a device record: a new one prepared and a change applied, then checked
//! completely ([`check_device`]) before anything stores it; the model, line and profile checks
//! they use; and a device's lines read from text (a CSV cell).

use std::collections::BTreeMap;

use super::{DeviceChange, NewDevice};
use crate::app::App;
use crate::domain::{Extension, Mac, ModelId, ProfileName, Secret};
use crate::model::{DeviceRecord, ModelSource, UnregisteredRecord};
use crate::models::{self, MAX_LINES_UNKNOWN_MODEL, ModelRow};
use crate::ops::OpError;
use crate::store::Reads;
use crate::vendors;

pub(super) const PROVISIONING_PASSWORD_LEN: usize = 24;

pub async fn existing(store: &dyn Reads, mac: Mac) -> Result<DeviceRecord, OpError> {
    store
        .device(mac)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no device with MAC {mac}")))
}

pub(super) fn already_registered(mac: Mac) -> OpError {
    OpError::conflict(format!("a device with MAC {mac} is already registered"))
}

/// The model table's row of a device, once its vendor and model are known.
pub fn row(d: &DeviceRecord) -> Option<&'static ModelRow> {
    models::find(d.vendor.as_deref()?, d.model.as_ref()?.as_str())
}

/// Lines (or DECT handset slots) the device has; the most any model has while it is unknown.
pub fn capacity(d: &DeviceRecord) -> u16 {
    row(d)
        .map(ModelRow::lines)
        .unwrap_or(MAX_LINES_UNKNOWN_MODEL)
}

pub(super) fn is_dect(d: &DeviceRecord) -> bool {
    row(d).is_some_and(ModelRow::is_dect)
}

/// A line number of this device, from 1 to its capacity.
pub fn line_of(raw: &str, device: &DeviceRecord) -> Result<u16, OpError> {
    let limit = capacity(device);
    raw.parse::<u16>()
        .ok()
        .filter(|n| (1..=limit).contains(n))
        .ok_or_else(|| {
            OpError::invalid(format!(
                "line: must be a number from 1 to {limit} for this device"
            ))
        })
}

/// An admin-named model must be in the model table: its template and line count come from there.
pub fn known_model(id: &ModelId) -> Result<&'static ModelRow, OpError> {
    models::find_any(id.as_str()).ok_or_else(|| {
        OpError::invalid(format!(
            "model: unknown model {}; GET /api/v1/models lists the supported ones",
            id.as_str()
        ))
    })
}

/// A profile named by an admin must exist: a typo would silently inherit nothing.
pub async fn existing_profile(store: &dyn Reads, name: &ProfileName) -> Result<(), OpError> {
    if store.profile(name).await?.is_none() {
        return Err(OpError::invalid(format!(
            "profile: no settings profile named {name}; GET /api/v1/profiles lists them"
        )));
    }
    Ok(())
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

/// A new record for `mac`, with what its requests revealed while it was unregistered.
pub(super) async fn new_record(
    store: &dyn Reads,
    mac: Mac,
    now: i64,
) -> Result<DeviceRecord, OpError> {
    let mut record = blank_record(mac, now);
    if let Some(seen) = store.unregistered_device(mac).await? {
        apply_seen(&mut record, &seen);
    }
    Ok(record)
}

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

fn set_admin_model(record: &mut DeviceRecord, row: &ModelRow) {
    record.vendor = Some(row.vendor.to_string());
    record.model = Some(ModelId::parse(row.model).expect("model table ids are valid"));
    record.model_source = Some(ModelSource::Admin);
    record.model_mismatch = None;
}

/// A new device's record, checked completely against what is stored now; not stored.
pub async fn prepare_new(
    app: &App,
    store: &dyn Reads,
    new: &NewDevice,
) -> Result<DeviceRecord, OpError> {
    let mac = new
        .mac
        .ok_or_else(|| OpError::invalid("mac: a MAC address is required"))?;
    let model = new.model.as_ref().map(known_model).transpose()?;
    let mut record = new_record(store, mac, app.clock.now()).await?;
    record.label.clone_from(&new.label);
    record.location.clone_from(&new.location);
    if let Some(profile) = &new.profile {
        existing_profile(store, profile).await?;
        record.profile = Some(profile.clone());
    }
    if let Some(row) = model {
        set_admin_model(&mut record, row);
    }
    record.hotdesk = new.hotdesk;
    record.certificate_required = new.certificate_required;
    record.expansion_modules = new.expansion_modules;
    check_device(app, &record)?;
    if store.device(mac).await?.is_some() {
        return Err(already_registered(mac));
    }
    Ok(record)
}

/// Applies the change's fields to `next`; checks nothing beyond each field's own form:
/// [`check_device`] checks the result.
pub async fn apply_change(
    store: &dyn Reads,
    next: &mut DeviceRecord,
    change: &DeviceChange,
) -> Result<(), OpError> {
    match &change.model {
        // Naming the model it has changes nothing, even one the phone reported that the model
        // table lacks (an export imported again).
        Some(Some(id))
            if next
                .model
                .as_ref()
                .is_some_and(|m| m.as_str().eq_ignore_ascii_case(id.as_str())) => {}
        Some(Some(id)) => {
            let row = known_model(id)?;
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
    if let Some(label) = &change.label {
        next.label.clone_from(label);
    }
    if let Some(location) = &change.location {
        next.location.clone_from(location);
    }
    if let Some(profile) = &change.profile {
        if let Some(name) = profile {
            existing_profile(store, name).await?;
        }
        next.profile.clone_from(profile);
    }
    if let Some(hotdesk) = change.hotdesk {
        next.hotdesk = hotdesk;
    }
    if let Some(required) = change.certificate_required {
        next.certificate_required = required;
    }
    if let Some(modules) = change.expansion_modules {
        next.expansion_modules = modules;
    }
    Ok(())
}

/// Copies what an admin sets on a device onto `stored`; the rest (last seen, claim, sessions,
/// login token) is the phone's and stays as the phone last wrote it.
pub fn copy_admin_fields(stored: &mut DeviceRecord, given: &DeviceRecord) {
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
    stored.expansion_modules = given.expansion_modules;
    // A device made hot-desk by this write takes the token issued for it.
    if stored.hotdesk && stored.login_token.is_none() {
        stored.login_token.clone_from(&given.login_token);
    }
}

/// A hot-desk phone needs an XML browser deskprov can drive, and line 1 free for logins.
fn check_hotdesk(d: &DeviceRecord) -> Result<(), OpError> {
    if !d.hotdesk {
        return Ok(());
    }
    if let Some(vendor) = d.vendor.as_deref().and_then(vendors::by_id)
        && (d.model.is_some() || vendor.hotdesk(None).is_none())
        && vendor.hotdesk(row(d)).is_none()
    {
        let model = d.model.as_ref().map_or(vendor.id(), |m| m.as_str());
        return Err(OpError::invalid(format!(
            "hotdesk: {model} phones have no XML browser deskprov can show a login on; assign users to their lines instead"
        )));
    }
    if !is_dect(d) && d.lines.contains_key(&1) {
        return Err(OpError::conflict(
            "hotdesk: line 1 has a user; unassign it first (logins use line 1)",
        ));
    }
    Ok(())
}

/// Requiring a certificate that nothing can verify would lock the phone out for good.
fn check_certificate_required(app: &App, d: &DeviceRecord) -> Result<(), OpError> {
    if d.certificate_required && app.vendor_cas.is_none() {
        return Err(OpError::invalid(format!(
            "certificate_required: no vendor CA certificates are configured; put the vendor's CA in {} and restart first",
            app.config.vendor_ca_dir().display()
        )));
    }
    Ok(())
}

/// Everything a device record must satisfy before it is stored.
pub fn check_device(app: &App, d: &DeviceRecord) -> Result<(), OpError> {
    check_hotdesk(d)?;
    check_certificate_required(app, d)?;
    check_expansion_modules(d)?;
    crate::ops::keys::fits_device(d)?;
    let limit = capacity(d);
    if let Some((line, _)) = d.lines.iter().find(|(line, _)| **line > limit) {
        return Err(OpError::conflict(format!(
            "line {line} has a user but the model has {limit} lines; unassign it first"
        )));
    }
    if let Some(line) = d.lines.keys().find(|line| d.sessions.contains_key(line)) {
        return Err(OpError::conflict(format!(
            "line {line} has a hot-desk login; log it out first"
        )));
    }
    Ok(())
}

/// At most what the model takes (when known), and never more than any phone takes.
fn check_expansion_modules(d: &DeviceRecord) -> Result<(), OpError> {
    let most = models::of_device(d).map_or(crate::keys::MAX_MODULE, |row| row.keys.modules);
    if d.expansion_modules <= most {
        return Ok(());
    }
    let model = d
        .model
        .as_ref()
        .map_or("a phone".to_string(), |m| format!("the {m}"));
    Err(OpError::invalid(format!(
        "expansion_modules: {model} takes at most {most} expansion modules"
    )))
}

/// `1:1001 2:1002` (spaces, commas or semicolons between), each user existing; `-` for none.
pub async fn parse_lines(
    store: &dyn Reads,
    device: &DeviceRecord,
    raw: &str,
    clear: &str,
) -> Result<BTreeMap<u16, Extension>, OpError> {
    let mut lines = BTreeMap::new();
    if raw == clear {
        return Ok(lines);
    }
    for item in raw.split([' ', ',', ';']).filter(|i| !i.is_empty()) {
        let (line, user) = item.split_once(':').ok_or_else(|| {
            OpError::invalid(format!(
                "lines: {item:?} must be LINE:EXTENSION, like 1:1001"
            ))
        })?;
        let line = line_of(line, device)?;
        let extension = Extension::parse(user)?;
        if store.user(&extension).await?.is_none() {
            return Err(OpError::invalid(format!(
                "lines: no user with extension {extension}"
            )));
        }
        if lines.insert(line, extension).is_some() {
            return Err(OpError::invalid(format!(
                "lines: line {line} is given twice"
            )));
        }
    }
    Ok(lines)
}
