//! Resync and reboot: telling phones by SIP NOTIFY, and recording who asked.

use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::domain::Mac;
use crate::notify::{self, Action, Outcome};

/// Most phones one call tells: their answers come within the request (a few seconds per 64).
pub const MAX_TOLD: usize = 500;

/// Tells each device to `action` now and answers what each phone said (each MAC once). All
/// MACs must be registered; nothing is sent otherwise.
pub async fn tell(
    app: &App,
    by: &Actor,
    macs: &[Mac],
    action: Action,
) -> Result<Vec<(Mac, Outcome)>, OpError> {
    if macs.is_empty() || macs.len() > MAX_TOLD {
        return Err(OpError::invalid(format!(
            "macs: give 1 to {MAX_TOLD} MACs; tell more in several calls"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    let macs: Vec<Mac> = macs.iter().copied().filter(|m| seen.insert(*m)).collect();
    let mut devices = Vec::with_capacity(macs.len());
    let mut unknown = Vec::new();
    for mac in &macs {
        match app.store.device(*mac).await? {
            Some(device) => devices.push(device),
            None => unknown.push(mac.to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(OpError::not_found(format!(
            "no device with MAC {}; nothing was sent",
            unknown.join(", ")
        )));
    }
    let mut notices = Vec::with_capacity(devices.len());
    for device in &devices {
        let credentials = notify::line_one_credentials(&app.store, device, app.clock.now()).await;
        notices.push((device.mac, notify::notice(app, device, action, credentials)));
    }
    let outcomes = notify::deliver_all(notices).await;
    let kind = match action {
        Action::Resync => crate::device_events::EventKind::ResyncSent,
        Action::Reboot => crate::device_events::EventKind::RebootSent,
    };
    let now = app.clock.now();
    for (mac, outcome) in &outcomes {
        let detail = format!("asked by {}; the phone: {}", by.name(), outcome.name());
        app.device_events.record(*mac, now, kind, &detail);
    }
    let mut tx = WriteTx::begin(app, by).await;
    for (mac, outcome) in &outcomes {
        tx.changed(
            *mac,
            format!("{} requested: {}", action.name(), outcome.name()),
        );
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// One device; a device that is not registered is not found.
pub async fn tell_one(app: &App, by: &Actor, mac: Mac, action: Action) -> Result<Outcome, OpError> {
    let outcomes = tell(app, by, &[mac], action).await?;
    Ok(outcomes.first().map_or(Outcome::SendFailed, |(_, o)| *o))
}
