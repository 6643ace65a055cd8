//! Registering, changing and removing devices, their lines and their claims; and the list of
//! devices seen but not registered.
//!
//! The rules a device record must satisfy live here ([`check_device`]), so every way of writing
//! one (the API, a CSV row, adoption) is held to them.

use std::collections::BTreeMap;

use super::{Actor, OpError, WriteTx, sessions};
use crate::app::App;
use crate::domain::{Extension, Label, Location, Mac, ModelId, ProfileName, Secret};
use crate::model::{DeviceRecord, ModelSource, UnregisteredRecord};
use crate::models::{self, MAX_LINES_UNKNOWN_MODEL, ModelRow};
use crate::settings::{Layer, SettingsPatch};
use crate::store::{Reads, Writer};
use crate::vendors;

const PROVISIONING_PASSWORD_LEN: usize = 24;

/// A device to register.
#[derive(Debug, Clone, Default)]
pub struct NewDevice {
    pub mac: Option<Mac>,
    pub model: Option<ModelId>,
    pub label: Option<Label>,
    pub location: Option<Location>,
    /// The settings profile it inherits from.
    pub profile: Option<ProfileName>,
    /// Users log in at this phone with extension and PIN.
    pub hotdesk: bool,
    /// Served only to a connection presenting the phone's factory client certificate.
    pub certificate_required: bool,
}

/// What an admin changes on a device: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceChange {
    pub model: Option<Option<ModelId>>,
    pub label: Option<Option<Label>>,
    pub location: Option<Option<Location>>,
    pub profile: Option<Option<ProfileName>>,
    pub hotdesk: Option<bool>,
    pub certificate_required: Option<bool>,
}

pub async fn existing(store: &dyn Reads, mac: Mac) -> Result<DeviceRecord, OpError> {
    store
        .device(mac)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no device with MAC {mac}")))
}

fn already_registered(mac: Mac) -> OpError {
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

fn is_dect(d: &DeviceRecord) -> bool {
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
async fn new_record(store: &dyn Reads, mac: Mac, now: i64) -> Result<DeviceRecord, OpError> {
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

fn stored_or_gone(updated: Option<(DeviceRecord, ())>, mac: Mac) -> Result<DeviceRecord, OpError> {
    updated
        .map(|(d, ())| d)
        .ok_or_else(|| OpError::not_found(format!("no device with MAC {mac}")))
}

pub async fn register(app: &App, by: &Actor, new: &NewDevice) -> Result<DeviceRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let mut record = prepare_new(app, tx.reads(), new).await?;
    sessions::issue_token_if_missing(&tx, &mut record).await?;
    if !tx.insert_device(&record).await? {
        return Err(already_registered(record.mac));
    }
    tx.remove_unregistered(record.mac).await?;
    tx.changed(record.mac, registered_detail(&record));
    tx.commit().await?;
    Ok(record)
}

fn registered_detail(d: &DeviceRecord) -> String {
    let mut detail = String::from("registered");
    if let Some(model) = &d.model {
        detail.push_str(&format!(" model={model}"));
    }
    if let Some(profile) = &d.profile {
        detail.push_str(&format!(" profile={profile}"));
    }
    if d.hotdesk {
        detail.push_str(" hotdesk");
    }
    detail
}

/// Most devices one bulk registration takes.
pub const MAX_BULK: usize = 10_000;

/// Registers many devices at once: all of them, or none when one is refused (the error names
/// its index).
pub async fn register_many(
    app: &App,
    by: &Actor,
    new: &[NewDevice],
) -> Result<Vec<DeviceRecord>, (Option<usize>, OpError)> {
    if new.is_empty() || new.len() > MAX_BULK {
        return Err((
            None,
            OpError::invalid(format!("devices: give 1 to {MAX_BULK} devices")),
        ));
    }
    let mut tx = WriteTx::begin(app, by).await;
    let mut records: Vec<DeviceRecord> = Vec::with_capacity(new.len());
    for (i, device) in new.iter().enumerate() {
        let record = prepare_new(app, tx.reads(), device)
            .await
            .map_err(|e| (Some(i), e))?;
        if let Some(first) = records.iter().position(|r| r.mac == record.mac) {
            return Err((
                Some(i),
                OpError::invalid(format!(
                    "mac: {} is already in this list (devices[{first}])",
                    record.mac
                )),
            ));
        }
        records.push(record);
    }
    let fail = |e: crate::store::StoreError| (None, OpError::from(e));
    for record in &mut records {
        sessions::issue_token_if_missing(&tx, record)
            .await
            .map_err(fail)?;
    }
    tx.put_devices(&records).await.map_err(fail)?;
    for record in &records {
        tx.remove_unregistered(record.mac).await.map_err(fail)?;
        tx.changed(record.mac, registered_detail(record));
    }
    tx.commit().await.map_err(fail)?;
    Ok(records)
}

/// Changes what an admin sets on a device. A phone that stops being a hot-desk phone logs
/// everyone out and loses its login token.
pub async fn change(
    app: &App,
    by: &Actor,
    mac: Mac,
    change: &DeviceChange,
) -> Result<DeviceRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let before = existing(tx.reads(), mac).await?;
    let mut next = before.clone();
    apply_change(tx.reads(), &mut next, change).await?;
    check_device(app, &next)?;
    if before.hotdesk && !next.hotdesk {
        sessions::end_sessions(&tx, mac, None).await?;
    }
    let mut retired_token = None;
    let fresh = Secret::generate(sessions::LOGIN_TOKEN_LEN);
    if next.hotdesk && next.login_token.is_none() {
        tx.index_login_token(&fresh, mac).await?;
    }
    let updated = tx
        .update_device(mac, |d| {
            copy_admin_fields(d, &next);
            if !d.hotdesk {
                retired_token = d.login_token.take();
            } else if d.login_token.is_none() {
                d.login_token = Some(fresh.clone());
            }
        })
        .await?;
    let stored = stored_or_gone(updated, mac)?;
    if let Some(token) = &retired_token {
        tx.unindex_login_token(token).await?;
    }
    tx.changed(mac, change_detail(change));
    tx.commit().await?;
    Ok(stored)
}

fn change_detail(c: &DeviceChange) -> String {
    let fields = [
        ("model", shown(&c.model)),
        ("label", shown(&c.label)),
        ("location", shown(&c.location)),
        ("profile", shown(&c.profile)),
        ("hotdesk", c.hotdesk.map(|b| b.to_string())),
        (
            "certificate_required",
            c.certificate_required.map(|b| b.to_string()),
        ),
    ];
    super::audit::describe("changed", &fields)
}

/// A clearable field of a change as the audit trail shows it.
pub(in crate::ops) fn shown<T: std::fmt::Display>(value: &Option<Option<T>>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.as_ref().map_or("(cleared)".to_string(), T::to_string))
}

/// Removes the device with its uploads; whoever was logged in there is logged out.
pub async fn delete(app: &App, by: &Actor, mac: Mac) -> Result<(), OpError> {
    delete_many(app, by, &[mac]).await
}

/// Removes the devices with their uploads: all of them, or none when one is unknown.
pub async fn delete_many(app: &App, by: &Actor, macs: &[Mac]) -> Result<(), OpError> {
    if macs.is_empty() || macs.len() > MAX_BULK {
        return Err(OpError::invalid(format!("macs: give 1 to {MAX_BULK} MACs")));
    }
    let mut tx = WriteTx::begin(app, by).await;
    let mut unknown = Vec::new();
    for mac in macs {
        if tx.device(*mac).await?.is_none() {
            unknown.push(mac.to_string());
        }
    }
    if !unknown.is_empty() {
        return Err(OpError::not_found(format!(
            "no device with MAC {}; nothing was deleted",
            unknown.join(", ")
        )));
    }
    for mac in macs {
        remove(&mut tx, *mac).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes one device in the change `tx` makes.
async fn remove(tx: &mut WriteTx<'_>, mac: Mac) -> Result<(), OpError> {
    // Logged-out users' pointers are cleared; the rotated token is then retired with the device.
    let ended = sessions::end_sessions(tx, mac, None).await?;
    if !tx.remove_device(mac).await? {
        return Ok(());
    }
    if let Some(token) = ended.and_then(|d| d.login_token) {
        tx.unindex_login_token(&token).await?;
    }
    tx.remove_uploads(mac).await?;
    tx.changed(mac, "deleted");
    Ok(())
}

/// Puts a user on a line. A line that has a user already is replaced only when `replace`.
pub async fn assign(
    app: &App,
    by: &Actor,
    mac: Mac,
    line: &str,
    user: &Extension,
    replace: bool,
) -> Result<DeviceRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let device = existing(tx.reads(), mac).await?;
    let line = line_of(line, &device)?;
    if device.hotdesk && !is_dect(&device) && line == 1 {
        return Err(OpError::conflict(
            "line 1 of a hot-desk phone belongs to whoever logs in; assign lines 2 and up",
        ));
    }
    if device.sessions.contains_key(&line) {
        return Err(OpError::conflict(format!(
            "line {line} has a hot-desk login; log it out first (POST /api/v1/devices/{mac}/logout?line={line})"
        )));
    }
    if tx.user(user).await?.is_none() {
        return Err(OpError::invalid(format!(
            "user: no user with extension {user}"
        )));
    }
    match device.lines.get(&line) {
        Some(current) if current != user && !replace => {
            return Err(OpError::conflict(format!(
                "line {line} of {mac} has user {current}; unassign it first, or replace it (\"replace\": true, --replace)"
            )));
        }
        _ => {}
    }
    let updated = tx
        .update_device(mac, |d| {
            d.lines.insert(line, user.clone());
        })
        .await?;
    let stored = stored_or_gone(updated, mac)?;
    tx.changed(mac, format!("line {line} assigned to {user}"));
    tx.commit().await?;
    Ok(stored)
}

pub async fn unassign(
    app: &App,
    by: &Actor,
    mac: Mac,
    line: &str,
) -> Result<DeviceRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let device = existing(tx.reads(), mac).await?;
    let line = line_of(line, &device)?;
    if !device.lines.contains_key(&line) {
        return Err(OpError::not_found(format!(
            "line {line} of {mac} has no user"
        )));
    }
    let updated = tx
        .update_device(mac, |d| {
            d.lines.remove(&line);
        })
        .await?;
    let stored = stored_or_gone(updated, mac)?;
    tx.changed(mac, format!("line {line} unassigned"));
    tx.commit().await?;
    Ok(stored)
}

/// Opens a new claim window and replaces the provisioning password: for a phone that was
/// factory-reset or replaced and no longer has its credentials.
pub async fn reset_claim(app: &App, by: &Actor, mac: Mac) -> Result<DeviceRecord, OpError> {
    let now = app.clock.now();
    let mut tx = WriteTx::begin(app, by).await;
    let updated = tx
        .update_device(mac, |d| {
            d.claim_opened_at = now;
            d.claimed_at = None;
            d.claimed_from = None;
            d.provisioning_password = Secret::generate(PROVISIONING_PASSWORD_LEN);
        })
        .await?;
    let stored = stored_or_gone(updated, mac)?;
    tx.changed(mac, "claim reset; provisioning password replaced");
    tx.commit().await?;
    Ok(stored)
}

/// Logs out whoever is logged in (only `line` when given); the device afterwards. A device
/// nobody is logged in at is a conflict.
pub async fn logout(
    app: &App,
    by: &Actor,
    mac: Mac,
    line: Option<&str>,
) -> Result<DeviceRecord, OpError> {
    let device = existing(app.store.reads(), mac).await?;
    let line = line.map(|raw| line_of(raw, &device)).transpose()?;
    let (after, left) = sessions::log_out(app, by, mac, line, None, "logged out by an admin")
        .await?
        .ok_or_else(|| OpError::not_found(format!("no device with MAC {mac}")))?;
    if left.is_empty() {
        return Err(OpError::conflict(format!(
            "nobody is logged in at {mac}{}",
            line.map(|l| format!(" on line {l}")).unwrap_or_default()
        )));
    }
    crate::hotdesk::notify::reload(app, &after);
    Ok(after)
}

/// Sets (or with `null` removes) settings of this device alone.
pub async fn change_settings(
    app: &App,
    by: &Actor,
    mac: Mac,
    patch: &SettingsPatch,
) -> Result<DeviceRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let device = existing(tx.reads(), mac).await?;
    let layer: Layer = crate::settings::patch_layer(&device.settings, patch)?;
    let updated = tx
        .update_device(mac, |d| d.settings = layer.clone())
        .await?;
    let stored = stored_or_gone(updated, mac)?;
    tx.changed(mac, format!("settings {}", patch.summary()));
    tx.commit().await?;
    Ok(stored)
}

/// Registers a seen-unregistered device with what it told us about itself.
pub async fn adopt(
    app: &App,
    by: &Actor,
    mac: Mac,
    label: Option<Label>,
) -> Result<DeviceRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    if tx.unregistered_device(mac).await?.is_none() {
        return Err(OpError::not_found(format!(
            "{mac} has not been seen as an unregistered device"
        )));
    }
    let mut record = new_record(tx.reads(), mac, app.clock.now()).await?;
    record.label = label;
    record.adopted = true;
    if !tx.insert_device(&record).await? {
        return Err(already_registered(mac));
    }
    tx.remove_unregistered(mac).await?;
    tx.changed(mac, "adopted from the unregistered list");
    tx.commit().await?;
    Ok(record)
}

pub async fn forget_unregistered(app: &App, by: &Actor, mac: Mac) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    if !tx.remove_unregistered(mac).await? {
        return Err(OpError::not_found(format!(
            "{mac} is not in the unregistered list"
        )));
    }
    tx.changed(mac, "removed from the unregistered list");
    tx.commit().await?;
    Ok(())
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

/// The writer of a change, for code that extends an operation (the CSV import).
pub(in crate::ops) async fn merge(
    store: &Writer<'_>,
    records: &[DeviceRecord],
) -> Result<(), crate::store::StoreError> {
    store.merge_devices(records, copy_admin_fields).await
}
