//! Actions on many devices at once, each in one change: all of them, or none when one is
//! unknown.

use super::{MAX_BULK, replace_credentials};
use crate::app::App;
use crate::audit::Kind;
use crate::domain::Mac;
use crate::ops::{Actor, OpError, WriteTx, sessions};

/// Refuses an empty or too long list, and one naming a device that does not exist.
async fn all_known(tx: &WriteTx<'_>, macs: &[Mac]) -> Result<(), OpError> {
    if macs.is_empty() || macs.len() > MAX_BULK {
        return Err(OpError::invalid(format!("macs: give 1 to {MAX_BULK} MACs")));
    }
    let mut unknown = Vec::new();
    for mac in macs {
        if tx.device(*mac).await?.is_none() {
            unknown.push(mac.to_string());
        }
    }
    match unknown.is_empty() {
        true => Ok(()),
        false => Err(OpError::not_found(format!(
            "no device with MAC {}; nothing was changed",
            unknown.join(", ")
        ))),
    }
}

/// Opens a new claim window and replaces the provisioning password of every device given.
pub async fn reset_claims(app: &App, by: &Actor, macs: &[Mac]) -> Result<(), OpError> {
    let now = app.clock.now();
    let mut tx = WriteTx::begin(app, by).await;
    all_known(&tx, macs).await?;
    for mac in macs {
        tx.update_device(*mac, |d| replace_credentials(d, now))
            .await?;
        tx.changed(mac, "claim reset; provisioning password replaced");
    }
    tx.commit().await?;
    Ok(())
}

/// Logs out whoever is logged in at the devices given; one where nobody is stays as it is. A
/// list where nobody is logged in at any is a conflict.
/// Returns the devices where someone was logged out.
pub async fn logout_many(app: &App, by: &Actor, macs: &[Mac]) -> Result<Vec<Mac>, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    all_known(&tx, macs).await?;
    let mut left = Vec::new();
    for mac in macs {
        let Some(before) = tx.device(*mac).await? else {
            continue;
        };
        if before.sessions.is_empty() {
            continue;
        }
        for session in before.sessions.values() {
            let detail = format!("{}: logged out by an admin", session.extension);
            tx.record(Kind::HotdeskLogout, mac, detail);
        }
        if let Some(after) = sessions::end_sessions(&tx, *mac, None).await? {
            left.push(after);
        }
    }
    if left.is_empty() {
        return Err(OpError::conflict(
            "nobody is logged in at any of these devices",
        ));
    }
    tx.commit().await?;
    for device in &left {
        crate::notify::reload(app, device);
    }
    Ok(left.iter().map(|d| d.mac).collect())
}
