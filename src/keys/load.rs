//! Reading a device's key layers from the store and resolving them: what its phone gets.

use super::effective::{self, KeyCapacity, KeyOrigin, Phone, Resolved};
use super::{KeyLayer, SharedKeys};
use crate::domain::Extension;
use crate::model::DeviceRecord;
use crate::store::{Reads, StoreError};

/// The keys a device's phone gets at `now`: its layers in order, a logged-in user's last.
pub async fn of_device(
    store: &dyn Reads,
    device: &DeviceRecord,
    now: i64,
) -> Result<Resolved, StoreError> {
    let settings = crate::settings::of_device(store, device).await?;
    of_device_with(store, device, &settings, now).await
}

/// [`of_device`] with the device's settings already read (the render has them). A login whose
/// time is up brings no keys, as it brings no line: the phone's next file is without them
/// whether or not the sweeper has logged it out yet.
pub async fn of_device_with(
    store: &dyn Reads,
    device: &DeviceRecord,
    settings: &crate::settings::Settings,
    now: i64,
) -> Result<Resolved, StoreError> {
    let row = crate::models::of_device(device);
    let site = store.shared_keys(&SharedKeys::Site).await?;
    let profile = match &device.profile {
        Some(name) => store
            .profile(name)
            .await?
            .map(|p| (name.to_string(), p.keys)),
        None => None,
    };
    let model = match row {
        Some(row) => Some((
            row.model,
            store.shared_keys(&SharedKeys::Model(row.model)).await?,
        )),
        None => None,
    };
    let live = device
        .sessions
        .values()
        .find(|session| crate::ops::sessions::is_live(session, settings, now));
    let user = match live {
        Some(session) => store
            .user(&session.extension)
            .await?
            .map(|u| (u.extension.to_string(), u.keys)),
        None => None,
    };
    let mut layers: Vec<(KeyOrigin, &KeyLayer)> = vec![(KeyOrigin::Site, &site)];
    if let Some((name, keys)) = &profile {
        layers.push((KeyOrigin::Profile(name.clone()), keys));
    }
    if let Some((model, keys)) = &model {
        layers.push((KeyOrigin::Model(model.to_string()), keys));
    }
    layers.push((KeyOrigin::Device, &device.keys));
    if let Some((extension, keys)) = &user {
        layers.push((KeyOrigin::User(extension.clone()), keys));
    }
    // A model not in the table counts as a desk phone, as for its login screens.
    let hotdesk =
        device.hotdesk && row.is_none_or(|r| r.hotdesk == crate::models::HotdeskSupport::Desk);
    let mut lines: Vec<u16> = device
        .lines
        .keys()
        .chain(device.sessions.keys())
        .copied()
        .collect();
    if hotdesk {
        lines.push(1);
    }
    lines.sort_unstable();
    lines.dedup();
    let phone = Phone {
        lines: &lines,
        hotdesk,
        capacity: row.map_or(KeyCapacity::NONE, |r| r.keys),
        modules_attached: device.expansion_modules,
    };
    let names = colleague_names(store, &layers).await?;
    Ok(effective::resolve(phone, &layers, |extension| {
        names.get(extension).map(String::as_str)
    }))
}

/// The display names of the users the layers' keys watch or call, for their labels.
async fn colleague_names(
    store: &dyn Reads,
    layers: &[(KeyOrigin, &KeyLayer)],
) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    let mut names = std::collections::BTreeMap::new();
    for (_, layer) in layers {
        for key in layer.keys() {
            let Some(value) = key
                .value
                .as_deref()
                .filter(|_| key.kind.names_a_colleague())
            else {
                continue;
            };
            if names.contains_key(value) {
                continue;
            }
            let Ok(extension) = Extension::parse(value) else {
                continue;
            };
            if let Some(user) = store.user(&extension).await? {
                names.insert(value.to_string(), user.display_name.to_string());
            }
        }
    }
    Ok(names)
}
