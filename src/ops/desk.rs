//! A new user with their desk phone, as one change: the user created, the phone registered
//! and line 1 given to the user, or (a bad or registered MAC, a taken extension) nothing.
//!
//! Every check runs under the write lock before the first write, so a refusal leaves the store
//! as it was.

use super::users::{self, Created, NewUser};
use super::{Actor, OpError, WriteTx, devices, sessions};
use crate::app::App;
use crate::domain::Mac;
use crate::model::DeviceRecord;

/// A user created, with the phone registered for them, if one was given.
pub struct CreatedAtDesk {
    pub user: Created,
    pub phone: Option<DeviceRecord>,
}

/// The line of a new user's desk phone that is theirs.
const DESK_LINE: u16 = 1;

/// Creates the user and, when `phone` is given, registers it with the user on line 1.
pub async fn create(
    app: &App,
    by: &Actor,
    new: &NewUser,
    phone: Option<&devices::NewDevice>,
) -> Result<CreatedAtDesk, OpError> {
    let prepared = users::prepare_new(app, new).await?;
    let mut tx = WriteTx::begin(app, by).await;
    if let Some(extension) = prepared.given_extension()
        && tx.user(extension).await?.is_some()
    {
        return Err(users::extension_taken(extension));
    }
    let device = match phone {
        Some(phone) => Some(prepare_phone(app, &tx, phone).await?),
        None => None,
    };
    let user = users::insert_new(&mut tx, prepared).await?;
    let phone = match device {
        Some(mut device) => {
            device
                .lines
                .insert(DESK_LINE, user.record.extension.clone());
            sessions::issue_token_if_missing(&tx, &mut device).await?;
            if !tx.insert_device(&device).await? {
                // Unreachable under the lock; the user must not stay behind without their phone.
                tx.remove_user(&user.record.extension).await?;
                return Err(mac_taken(device.mac));
            }
            tx.remove_unregistered(device.mac).await?;
            tx.changed(
                device.mac,
                format!(
                    "registered for {} (line {DESK_LINE})",
                    user.record.extension
                ),
            );
            Some(device)
        }
        None => None,
    };
    tx.commit().await?;
    Ok(CreatedAtDesk { user, phone })
}

/// The phone's record, checked with a user on its line 1 (a placeholder until the user's
/// extension is final).
async fn prepare_phone(
    app: &App,
    tx: &WriteTx<'_>,
    phone: &devices::NewDevice,
) -> Result<DeviceRecord, OpError> {
    let mac = phone
        .mac
        .ok_or_else(|| OpError::invalid("mac: a MAC address is required"))?;
    if tx.device(mac).await?.is_some() {
        return Err(mac_taken(mac));
    }
    let mut device = devices::prepare_new(app, tx.reads(), phone).await?;
    let placeholder = crate::domain::Extension::parse("0").expect("digits");
    device.lines.insert(DESK_LINE, placeholder);
    devices::check_device(app, &device)?;
    device.lines.clear();
    Ok(device)
}

/// A conflict that names its field, so a front can say which input it concerns.
fn mac_taken(mac: Mac) -> OpError {
    OpError::conflict(format!(
        "mac: a device with MAC {mac} is already registered"
    ))
}
