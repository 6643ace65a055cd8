//! Setting a key layer (site, profile, model, device or user), checked against what the phones
//! it reaches have where that can be known: a device's keys against its model, a model's keys
//! against the model with every expansion module it takes.

use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::domain::{Extension, Mac, ProfileName};
use crate::keys::effective::{self, KeyCapacity, KeyOrigin, Phone, Resolved};
use crate::keys::{Key, KeyLayer, KeyPosition, SharedKeys};
use crate::model::DeviceRecord;
use crate::models::ModelRow;
use crate::store::Reads;

/// Whose keys a layer holds.
#[derive(Debug, Clone)]
pub enum KeyOwner {
    Site,
    Profile(ProfileName),
    Model(&'static ModelRow),
    Device(Mac),
    User(Extension),
}

impl KeyOwner {
    /// The audit trail's subject of a change of these keys.
    fn subject(&self) -> String {
        match self {
            KeyOwner::Site => "settings".to_string(),
            KeyOwner::Profile(name) => name.to_string(),
            KeyOwner::Model(row) => row.model.to_string(),
            KeyOwner::Device(mac) => mac.to_string(),
            KeyOwner::User(extension) => extension.to_string(),
        }
    }
}

/// The layer's keys as stored.
pub async fn layer(store: &dyn Reads, owner: &KeyOwner) -> Result<KeyLayer, OpError> {
    Ok(match owner {
        KeyOwner::Site => store.shared_keys(&SharedKeys::Site).await?,
        KeyOwner::Model(row) => store.shared_keys(&SharedKeys::Model(row.model)).await?,
        KeyOwner::Profile(name) => super::profiles::existing(store, name).await?.keys,
        KeyOwner::Device(mac) => super::devices::existing(store, *mac).await?.keys,
        KeyOwner::User(extension) => super::users::existing(store, extension).await?.keys,
    })
}

/// Replaces the layer's keys (an empty layer clears it), all or nothing.
pub async fn set_layer(
    app: &App,
    by: &Actor,
    owner: &KeyOwner,
    keys: KeyLayer,
) -> Result<KeyLayer, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    check_layer(tx.reads(), owner, &keys).await?;
    write_layer(&mut tx, owner, &keys).await?;
    tx.commit().await?;
    Ok(keys)
}

/// Sets the layer's key at one position (`key`), or removes it (`None`), leaving the others:
/// the console's edit of one key, read and written under one write lock. The layer after.
pub async fn set_position(
    app: &App,
    by: &Actor,
    owner: &KeyOwner,
    at: KeyPosition,
    key: Option<Key>,
) -> Result<KeyLayer, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let current = layer(tx.reads(), owner).await?;
    let others = current.keys().iter().filter(|k| k.at != at).cloned();
    let keys = KeyLayer::parse(others.chain(key).collect())?;
    check_layer(tx.reads(), owner, &keys).await?;
    write_layer(&mut tx, owner, &keys).await?;
    tx.commit().await?;
    Ok(keys)
}

/// Whether `keys` may be the owner's layer: the owner exists, and the keys fit its model.
pub async fn check_layer(
    store: &dyn Reads,
    owner: &KeyOwner,
    keys: &KeyLayer,
) -> Result<(), OpError> {
    match owner {
        KeyOwner::Site => {}
        KeyOwner::Model(row) => fits_model(row, keys)?,
        KeyOwner::Profile(name) => {
            super::profiles::existing(store, name).await?;
        }
        KeyOwner::Device(mac) => {
            let mut device = super::devices::existing(store, *mac).await?;
            device.keys = keys.clone();
            fits_device(&device)?;
        }
        KeyOwner::User(extension) => {
            super::users::existing(store, extension).await?;
        }
    }
    Ok(())
}

/// Writes a layer [`check_layer`] accepted, and records the change.
pub(super) async fn write_layer(
    tx: &mut WriteTx<'_>,
    owner: &KeyOwner,
    keys: &KeyLayer,
) -> Result<(), OpError> {
    match owner {
        KeyOwner::Site => tx.put_shared_keys(&SharedKeys::Site, keys).await?,
        KeyOwner::Model(row) => {
            tx.put_shared_keys(&SharedKeys::Model(row.model), keys)
                .await?;
        }
        KeyOwner::Profile(name) => {
            let mut profile = super::profiles::existing(tx.reads(), name).await?;
            profile.keys = keys.clone();
            tx.put_profile(&profile).await?;
        }
        KeyOwner::Device(mac) => {
            let updated = tx.update_device(*mac, |d| d.keys = keys.clone()).await?;
            tx.reload(super::devices::stored_or_gone(updated, *mac)?);
        }
        KeyOwner::User(extension) => {
            tx.update_user(extension, |u| u.keys = keys.clone()).await?;
        }
    }
    tx.changed(owner.subject(), describe(keys));
    Ok(())
}

fn describe(keys: &KeyLayer) -> String {
    match keys.keys().len() {
        0 => "keys cleared".to_string(),
        1 => "keys set: 1 key".to_string(),
        n => format!("keys set: {n} keys"),
    }
}

/// A model's keys must fit the model with every expansion module it takes.
fn fits_model(row: &ModelRow, keys: &KeyLayer) -> Result<(), OpError> {
    let phone = Phone {
        lines: &[],
        hotdesk: false,
        capacity: row.keys,
        modules_attached: row.keys.modules,
    };
    let resolved = effective::resolve(phone, &[(KeyOrigin::Model(row.model.into()), keys)], |_| {
        None
    });
    refuse_beyond(row, row.keys.modules, &resolved)
}

/// The device's own keys must fit its model and the modules attached to it. Checked whenever
/// its keys, its model or its modules change; without a known model nothing can be checked.
pub fn fits_device(device: &DeviceRecord) -> Result<(), OpError> {
    let Some(row) = crate::models::of_device(device) else {
        return Ok(());
    };
    if device.keys.is_empty() {
        return Ok(());
    }
    let phone = Phone {
        lines: &[],
        hotdesk: false,
        capacity: row.keys,
        modules_attached: device.expansion_modules,
    };
    let resolved = effective::resolve(phone, &[(KeyOrigin::Device, &device.keys)], |_| None);
    refuse_beyond(row, device.expansion_modules, &resolved)
}

fn refuse_beyond(row: &ModelRow, attached: u8, resolved: &Resolved) -> Result<(), OpError> {
    let Some(first) = resolved.beyond_capacity.first() else {
        return Ok(());
    };
    Err(OpError::invalid(format!(
        "keys: {} is beyond what the {} has: {}, {}; {} of the keys given do not fit",
        first.key.at,
        row.model,
        capacity_text(row.keys),
        match attached {
            0 => "no expansion module attached".to_string(),
            1 => "1 expansion module attached".to_string(),
            n => format!("{n} expansion modules attached"),
        },
        resolved.beyond_capacity.len()
    )))
}

fn capacity_text(capacity: KeyCapacity) -> String {
    let phone = match capacity.line_keys {
        0 => "no programmable keys".to_string(),
        n => format!("{n} keys"),
    };
    match capacity.modules {
        0 => format!("{phone} and no expansion modules"),
        m => format!(
            "{phone} and up to {m} expansion modules of {} keys",
            capacity.keys_per_module
        ),
    }
}
