//! Hot-desking: a user logs in at any hot-desk phone with extension and PIN, and the phone
//! becomes theirs until they log out, are logged out by an admin, or their login time is up.
//!
//! - [`phone`]: the screens and requests at the phone (`/hotdesk/...` on the phones' listener);
//! - [`sessions`]: who is logged in where, login tokens, and the ordering that keeps them
//!   consistent;
//! - [`guard`]: brute-force limits per extension, per phone and overall;
//! - [`hashing`]: argon2id PIN hashes off the async runtime;
//! - [`screens`]: screens described once, rendered per vendor dialect;
//! - [`notify`]: SIP NOTIFY check-sync to make a phone reload.

pub mod hashing;
pub mod phone;
pub mod screens;

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum HotdeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] hashing::HashError),
}

/// Logs out expired logins every `sweep_interval_secs` and tells their phones to reload;
/// a phone that fetches its config earlier already gets it without the user (see render).
pub fn spawn_sweeper(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(app.config.hotdesk.sweep_interval_secs);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            // Once per site: on a shared database the node holding the housekeeping lease.
            if !app.store.runs_housekeeping() {
                continue;
            }
            match crate::ops::sessions::sweep_expired(&app, app.clock.now()).await {
                Ok(devices) => devices.iter().for_each(|d| crate::notify::reload(&app, d)),
                Err(e) => tracing::error!(error = %e, "logging out expired hot-desk logins failed"),
            }
        }
    })
}
