//! Replacing a dead phone: everything an admin set on it moves to the new MAC in one write.

use super::rules::{PROVISIONING_PASSWORD_LEN, already_registered, check_device, new_record};
use super::{Actor, OpError, WriteTx, sessions};
use crate::app::App;
use crate::domain::{Mac, ModelId, Secret};
use crate::model::DeviceRecord;

/// Moves lines, settings, profile, label, location, the hot-desk flag, the firmware target (a
/// setting) and `certificate_required` from `old` to `new`, which must not be registered.
/// Logins at the old phone end; its credentials, login token and uploads go with it. The new
/// device takes the model the new phone reported while it knocked unregistered, else the old
/// one's, unless `model` names another; its claim window is open.
pub async fn replace(
    app: &App,
    by: &Actor,
    old: Mac,
    new: Mac,
    model: Option<ModelId>,
) -> Result<DeviceRecord, OpError> {
    if old == new {
        return Err(OpError::invalid("new_mac: is the device's own MAC"));
    }
    let model_row = match &model {
        Some(model) => Some(super::known_model(model)?),
        None => None,
    };
    let now = app.clock.now();
    let mut tx = WriteTx::begin(app, by).await;
    if tx.device(new).await?.is_some() {
        return Err(already_registered(new));
    }
    let Some(retiring) = tx.device(old).await? else {
        return Err(OpError::not_found(format!("no device with MAC {old}")));
    };
    // Built and checked in full before anything is written: a refusal changes nothing.
    let mut record = new_record(tx.reads(), new, now).await?;
    carry_over(&mut record, &retiring);
    if let Some(row) = model_row {
        record.vendor = Some(row.vendor.to_string());
        record.model = Some(ModelId::parse(row.model).expect("table models parse"));
        record.model_source = Some(crate::model::ModelSource::Admin);
    }
    check_device(app, &record)?;
    record.provisioning_password = Secret::generate(PROVISIONING_PASSWORD_LEN);
    sessions::issue_token_if_missing(&tx, &mut record).await?;
    // The new device first: a failure in between leaves both, never neither.
    if !tx.insert_device(&record).await? {
        return Err(already_registered(new));
    }
    let retired = sessions::end_sessions(&tx, old, None)
        .await?
        .unwrap_or(retiring);
    tx.remove_device(old).await?;
    if let Some(token) = &retired.login_token {
        tx.unindex_login_token(token).await?;
    }
    tx.remove_uploads(old).await?;
    tx.remove_unregistered(new).await?;
    tx.changed(old, format!("replaced by {new}; its credentials revoked"));
    tx.changed(
        new,
        format!("replaces {old}: lines, settings, profile, label, location, hot-desk and certificate requirement moved; claim open"),
    );
    tx.commit().await?;
    Ok(record)
}

/// What the admin set on `old`, onto the fresh record `new`. What phones report (address,
/// firmware, sightings, a model) stays the new phone's own.
fn carry_over(new: &mut DeviceRecord, old: &DeviceRecord) {
    // A model the new phone reported while it knocked unregistered is the truth about it.
    if new.model.is_none() {
        new.vendor.clone_from(&old.vendor);
        new.model.clone_from(&old.model);
        new.model_source = old.model_source;
    }
    new.label.clone_from(&old.label);
    new.location.clone_from(&old.location);
    new.profile.clone_from(&old.profile);
    new.lines.clone_from(&old.lines);
    new.settings.clone_from(&old.settings);
    new.hotdesk = old.hotdesk;
    new.certificate_required = old.certificate_required;
    new.keys = old.keys.clone();
    new.expansion_modules = old.expansion_modules;
    new.adopted = false;
}
