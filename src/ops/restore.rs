//! Records written as they are, without the rules of the admin operations: for restoring a
//! backup and for seeding a benchmark site. Each batch is applied atomically, then flushed.

use super::write::Permit;
use crate::backup::{Entry, unhex};
use crate::keys::SharedKeys;
use crate::model::{DeviceRecord, UnregisteredLimits, UserRecord};
use crate::settings::Settings;
use crate::store::{Store, StoreError, Writer};

/// Records written in one batch when restoring.
const BATCH: usize = 1000;

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

/// Writes a backup's records into `store` through the storage interface (any backend), then
/// flushes. The caller has checked that the store was empty; a record that cannot be written
/// (a key layer of a model this deskprov does not know) fails the restore.
pub async fn put_backup(store: &Store, entries: &[Entry]) -> Result<(), StoreError> {
    let writer = store.begin(Permit::new()).await;
    let mut devices = Vec::new();
    let mut users = Vec::new();
    for entry in entries {
        match entry {
            Entry::Device(device) => devices.push(device.clone()),
            Entry::User(user) => users.push(user.clone()),
            other => put_entry(&writer, other).await?,
        }
    }
    for batch in users.chunks(BATCH) {
        writer.put_users(batch).await?;
    }
    for batch in devices.chunks(BATCH) {
        writer.put_devices(batch).await?;
        for device in batch {
            if let Some(token) = &device.login_token {
                writer.index_login_token(token, device.mac).await?;
            }
        }
    }
    writer.flush().await
}

fn refused(what: String) -> StoreError {
    StoreError::Database(format!("restoring: {what}"))
}

async fn put_entry(writer: &Writer<'_>, entry: &Entry) -> Result<(), StoreError> {
    match entry {
        Entry::Settings(settings) => writer.put_settings(settings).await,
        Entry::NonceKey(key) => {
            let key = unhex::<32>(key).ok_or_else(|| refused("a nonce key of 32 bytes".into()))?;
            writer.put_nonce_key(key).await
        }
        Entry::Device(device) => writer.put_devices(std::slice::from_ref(device)).await,
        Entry::User(user) => writer.put_users(std::slice::from_ref(user)).await,
        Entry::Profile(profile) => writer.put_profile(profile).await,
        Entry::ModelSettings { model, settings } => {
            writer.put_model_settings(model, settings).await
        }
        Entry::KeyLayer { layer, keys } => {
            let shared = SharedKeys::from_storage_key(layer)
                .ok_or_else(|| refused(format!("key layer {layer}: no such model here")))?;
            writer.put_shared_keys(&shared, keys).await
        }
        Entry::Contact(contact) => new(writer.insert_contact(contact).await?, "contact"),
        Entry::Token(token) => new(writer.insert_token(token).await?, "admin token"),
        Entry::Account(account) => new(writer.insert_account(account).await?, "account"),
        Entry::ConsoleSession(session) => writer.put_console_session(session).await,
        Entry::PortalSession(session) => writer.put_portal_session(session).await,
        Entry::Link(link) => writer.put_link(link).await,
        Entry::Mail(mail) => writer.restore_mail(mail).await,
        Entry::Upload { .. } => put_upload(writer, entry).await,
        Entry::Unregistered(record) => {
            let all = UnregisteredLimits {
                total: usize::MAX,
                per_source: usize::MAX,
            };
            let mut same = |r: &mut _| *r = record.clone();
            crate::store::Writes::note_unregistered(&**writer, record, &mut same, all).await
        }
        Entry::Guard { key, record } => {
            writer.update_guard(key, |g| *g = record.clone()).await?;
            Ok(())
        }
        Entry::Source { key, record } => {
            writer.update_source(key, |s| *s = record.clone()).await?;
            Ok(())
        }
        Entry::Import(job) => writer.put_import_job(job, usize::MAX).await,
        Entry::Audit(record) => writer.put_audit(record).await,
    }
}

fn new(inserted: bool, what: &str) -> Result<(), StoreError> {
    if inserted {
        Ok(())
    } else {
        Err(refused(format!("the backup holds the same {what} twice")))
    }
}

async fn put_upload(writer: &Writer<'_>, entry: &Entry) -> Result<(), StoreError> {
    use base64::Engine;
    let Entry::Upload {
        mac,
        name,
        at,
        content,
    } = entry
    else {
        return Ok(());
    };
    let content = base64::engine::general_purpose::STANDARD
        .decode(content)
        .map_err(|_| refused(format!("upload {name}: its content is not base64")))?;
    writer
        .put_upload(*mac, name, &content, *at, usize::MAX)
        .await
}
