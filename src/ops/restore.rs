//! Records written as they are, without the rules of the admin operations: for restoring a
//! backup and for seeding a benchmark site. Each batch is applied atomically, then flushed.

use super::write::Permit;
use crate::model::{DeviceRecord, UserRecord};
use crate::settings::Settings;
use crate::store::{Store, StoreError};

/// Writes the site-wide settings, users and devices given, replacing records of the same keys.
pub async fn put_records(
    store: &Store,
    settings: Option<&Settings>,
    users: &[UserRecord],
    devices: &[DeviceRecord],
) -> Result<(), StoreError> {
    let writer = store.begin(Permit::new()).await;
    if let Some(settings) = settings {
        writer.put_settings(settings).await?;
    }
    writer.put_users(users).await?;
    writer.put_devices(devices).await?;
    writer.flush().await
}

/// Writes console accounts as they are (seeding a site, and tests that need accounts of each
/// role before the console can make them).
pub async fn put_accounts(
    store: &Store,
    accounts: &[crate::model::AccountRecord],
) -> Result<(), StoreError> {
    let writer = store.begin(Permit::new()).await;
    for account in accounts {
        writer.insert_account(account).await?;
    }
    writer.flush().await
}
