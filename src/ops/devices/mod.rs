//! Registering, changing and removing devices, their lines and their claims; and the list of
//! devices seen but not registered.
//!
//! The rules a device record must satisfy live in `rules.rs` ([`check_device`]), so every way
//! of writing one (the API, a CSV row, adoption) is held to them.

mod actions;
mod bulk;
mod replace;
mod rules;

use super::{Actor, OpError, WriteTx, sessions};
use crate::access;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Extension, Label, Location, Mac, ModelId, ProfileName, Secret};
use crate::model::DeviceRecord;
use crate::settings::{Layer, SettingsPatch};
use crate::store::Writer;
use rules::{PROVISIONING_PASSWORD_LEN, already_registered, is_dect, new_record};

pub use actions::{tell, tell_one};
pub use bulk::{logout_many, reset_claims};
pub use replace::replace;
pub use rules::{
    apply_change, capacity, check_device, copy_admin_fields, existing, existing_profile,
    known_model, line_of, parse_lines, prepare_new, row,
};

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
    /// Expansion modules attached.
    pub expansion_modules: u8,
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
    pub expansion_modules: Option<u8>,
}

pub(super) fn stored_or_gone(
    updated: Option<(DeviceRecord, ())>,
    mac: Mac,
) -> Result<DeviceRecord, OpError> {
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
    // Told with the record as the phone has it now: its line 1 answers a challenge.
    tx.reload(before);
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
        (
            "expansion_modules",
            c.expansion_modules.map(|n| n.to_string()),
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
    tx.reload(device);
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
    tx.reload(device);
    tx.commit().await?;
    Ok(stored)
}

/// Opens a new claim window and replaces the provisioning password: for a phone that was
/// factory-reset or replaced and no longer has its credentials.
pub async fn reset_claim(app: &App, by: &Actor, mac: Mac) -> Result<DeviceRecord, OpError> {
    let now = app.clock.now();
    let mut tx = WriteTx::begin(app, by).await;
    let updated = tx
        .update_device(mac, |d| replace_credentials(d, now))
        .await?;
    let stored = stored_or_gone(updated, mac)?;
    tx.changed(mac, "claim reset; provisioning password replaced");
    tx.commit().await?;
    Ok(stored)
}

/// For a claim someone else took (`claim_contested`): new provisioning credentials, so the
/// config the taker got no longer opens anything, and a new claim window for the real phone.
/// A hot-desk phone's login token, which the config carries too, is replaced. The address
/// the claim proved is forgotten: NOTIFYs (with line 1's Digest answer) and the guessing
/// throttle's exemption must not go to the taker. Phones are not told: the one holding the
/// old credentials is the one to shut out.
pub async fn rekey(app: &App, by: &Actor, mac: Mac) -> Result<DeviceRecord, OpError> {
    let now = app.clock.now();
    let mut tx = WriteTx::begin(app, by).await;
    let before = existing(tx.reads(), mac).await?;
    let fresh_token = before
        .hotdesk
        .then(|| Secret::generate(sessions::LOGIN_TOKEN_LEN));
    if let Some(token) = &fresh_token {
        tx.index_login_token(token, mac).await?;
    }
    let mut retired_token = None;
    let updated = tx
        .update_device(mac, |d| {
            replace_credentials(d, now);
            d.proven_address = None;
            if let Some(token) = &fresh_token {
                retired_token = d.login_token.replace(token.clone());
            }
        })
        .await?;
    let stored = stored_or_gone(updated, mac)?;
    if let Some(token) = &retired_token {
        tx.unindex_login_token(token).await?;
    }
    let taken = before
        .claimed_from
        .as_deref()
        .map(|address| format!(" (taken from {address})"))
        .unwrap_or_default();
    let contest = before
        .claim_contested
        .as_ref()
        .map(|c| format!("; contested from {} at {}", c.address, rfc3339(c.at)))
        .unwrap_or_default();
    tx.changed(
        mac,
        format!(
            "re-keyed: provisioning password{} replaced, claim{taken} reopened{contest}",
            if fresh_token.is_some() {
                " and login token"
            } else {
                ""
            }
        ),
    );
    tx.commit().await?;
    Ok(stored)
}

/// A new provisioning password and a new claim window; the user name is the MAC, which the
/// taker knows anyway.
fn replace_credentials(d: &mut DeviceRecord, now: i64) {
    access::reopen_claim(d, now);
    d.provisioning_password = Secret::generate(PROVISIONING_PASSWORD_LEN);
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
    crate::notify::reload(app, &after);
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
    if let Some(vendor) = &device.vendor {
        super::profiles::refused_by_vendor(vendor, &layer)?;
    }
    let updated = tx
        .update_device(mac, |d| d.settings = layer.clone())
        .await?;
    let stored = stored_or_gone(updated, mac)?;
    tx.changed(mac, format!("settings {}", patch.summary()));
    tx.reload(device);
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

/// The devices of a CSV import merged as admin changes, with the job's record in the same
/// transaction.
pub(in crate::ops) async fn merge_imported(
    store: &Writer<'_>,
    records: &[DeviceRecord],
    job: &crate::model::ImportRecord,
    keep: usize,
) -> Result<(), crate::store::StoreError> {
    store
        .merge_devices_imported(records, copy_admin_fields, job, keep)
        .await
}
