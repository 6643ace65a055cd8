//! The one module that touches sled.
//!
//! Records are serde-typed JSON values in one tree per kind, with a schema version in `meta`.
//! Rules (../shared/reference/rust-stack.md §3):
//! - every admin write calls [`Store::flush`] before it is acknowledged: sled otherwise loses
//!   acknowledged writes on kill -9;
//! - a record is changed only by compare-and-swap ([`Store::update_device`]), so a phone's
//!   last-seen update and an admin's edit of the same device cannot overwrite each other, and
//!   nothing is written when nothing changed;
//! - admin operations that span records run under the admin write lock held by the caller.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::{Extension, Mac, ProfileName, Secret};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sled(#[from] sled::Error),
    #[error("database record {key}: {source}")]
    Decode {
        key: String,
        source: serde_json::Error,
    },
    #[error(
        "database schema version {found} is newer than this deskprov supports ({SCHEMA_VERSION}); \
         upgrade deskprov"
    )]
    SchemaTooNew { found: u32 },
}

mod write;

pub use write::Writer;

pub type Result<T> = std::result::Result<T, StoreError>;

/// Memory for decoded device records kept by [`Store::device_snapshot`].
const DECODED_DEVICES_BYTES: u64 = 16 * 1024 * 1024;

/// A device record as stored, decoded once: phones ask far more often than records change.
pub struct DeviceSnapshot {
    raw: sled::IVec,
    pub record: DeviceRecord,
    /// [`DeviceRecord::render_fingerprint`], computed once per stored version.
    pub fingerprint: u64,
}

#[derive(Clone)]
struct SnapshotWeight;

impl quick_cache::Weighter<Mac, Arc<DeviceSnapshot>> for SnapshotWeight {
    /// The stored bytes, about as much again decoded, and the bookkeeping.
    fn weight(&self, _: &Mac, snapshot: &Arc<DeviceSnapshot>) -> u64 {
        (snapshot.raw.len() as u64) * 2 + 128
    }
}

type DecodedDevices = quick_cache::sync::Cache<Mac, Arc<DeviceSnapshot>, SnapshotWeight>;

#[derive(Clone)]
pub struct Store {
    /// Bumped after every write that can change a rendered config other than the device's
    /// own record: users, site settings, profiles, model settings (render_cache.rs).
    revision: Arc<AtomicU64>,
    decoded_devices: Arc<DecodedDevices>,
    /// The latest end of any source ban ever stored: past it, nobody is banned and the phone
    /// path need not read the sources tree (sources.rs).
    latest_ban_end: Arc<AtomicI64>,
    /// Held by a [`Writer`] from [`Store::begin`].
    serial: Arc<tokio::sync::Mutex<()>>,
    db: sled::Db,
    devices: sled::Tree,
    users: sled::Tree,
    unregistered: sled::Tree,
    tokens: sled::Tree,
    uploads: sled::Tree,
    login_tokens: sled::Tree,
    login_guard: sled::Tree,
    sources: sled::Tree,
    audit: sled::Tree,
    profiles: sled::Tree,
    model_settings: sled::Tree,
    meta: sled::Tree,
}

const SCHEMA_KEY: &[u8] = b"schema_version";
const SETTINGS_KEY: &[u8] = b"settings";

impl Store {
    pub fn open(dir: &Path) -> Result<Store> {
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(Some(500))
            .open()?;
        let store = Store {
            devices: db.open_tree("devices")?,
            users: db.open_tree("users")?,
            unregistered: db.open_tree("unregistered")?,
            tokens: db.open_tree("tokens")?,
            uploads: db.open_tree("uploads")?,
            login_tokens: db.open_tree("login_tokens")?,
            login_guard: db.open_tree("login_guard")?,
            sources: db.open_tree("sources")?,
            audit: db.open_tree("audit")?,
            profiles: db.open_tree("profiles")?,
            model_settings: db.open_tree("model_settings")?,
            meta: db.open_tree("meta")?,
            db,
            serial: Arc::default(),
            revision: Arc::default(),
            latest_ban_end: Arc::default(),
            decoded_devices: Arc::new(DecodedDevices::with_weighter(
                (DECODED_DEVICES_BYTES / 1024) as usize,
                DECODED_DEVICES_BYTES,
                SnapshotWeight,
            )),
        };
        store.check_schema()?;
        for entry in store.sources.iter() {
            let (key, bytes) = entry?;
            // A record that cannot be read might be a ban: keep reading bans on every request.
            let until = decode::<SourceRecord>(&key, &bytes).map_or(i64::MAX, |s| s.banned_until);
            store.note_ban_end(until);
        }
        Ok(store)
    }

    fn check_schema(&self) -> Result<()> {
        match self.get::<u32>(&self.meta, SCHEMA_KEY)? {
            Some(found) if found > SCHEMA_VERSION => Err(StoreError::SchemaTooNew { found }),
            Some(_) => Ok(()),
            None => {
                self.put(&self.meta, SCHEMA_KEY, &SCHEMA_VERSION)?;
                self.db.flush()?;
                Ok(())
            }
        }
    }

    /// The revision of what configs depend on besides the device record (the field's comment);
    /// read it before reading what a render uses.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::SeqCst)
    }

    /// Called after the write, so that a render reading the old data keeps an old revision.
    fn changed_rendered_inputs(&self) {
        self.revision.fetch_add(1, Ordering::SeqCst);
    }

    // ---- devices ----

    pub fn device(&self, mac: Mac) -> Result<Option<DeviceRecord>> {
        self.get(&self.devices, &mac.octets())
    }

    /// The device as stored now, decoded only when it changed since the last call: the phone
    /// path reads a device on every request. The stored bytes are compared each time, so a
    /// snapshot is never older than the record.
    pub fn device_snapshot(&self, mac: Mac) -> Result<Option<Arc<DeviceSnapshot>>> {
        let key = mac.octets();
        let Some(raw) = self.devices.get(key)? else {
            return Ok(None);
        };
        if let Some(snapshot) = self.decoded_devices.get(&mac)
            && snapshot.raw == raw
        {
            return Ok(Some(snapshot));
        }
        let record: DeviceRecord = decode(&key, &raw)?;
        let snapshot = Arc::new(DeviceSnapshot {
            fingerprint: record.render_fingerprint(),
            record,
            raw,
        });
        self.decoded_devices.insert(mac, snapshot.clone());
        Ok(Some(snapshot))
    }

    pub fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.all(&self.devices)
    }

    /// Devices in MAC order after `after` that `keep` accepts, at most `limit`; and whether
    /// more remain.
    pub fn devices_page(
        &self,
        after: Option<Mac>,
        limit: usize,
        keep: impl FnMut(&DeviceRecord) -> bool,
    ) -> Result<(Vec<DeviceRecord>, bool)> {
        let after = after.map(|mac| mac.octets());
        self.page(&self.devices, after.as_ref().map(|a| &a[..]), limit, keep)
    }

    // ---- users ----

    pub fn user(&self, extension: &Extension) -> Result<Option<UserRecord>> {
        self.get(&self.users, extension.as_str().as_bytes())
    }

    pub fn users(&self) -> Result<Vec<UserRecord>> {
        self.all(&self.users)
    }

    /// Users in extension order (as text) after `after`, at most `limit`; and whether more remain.
    pub fn users_page(
        &self,
        after: Option<&Extension>,
        limit: usize,
    ) -> Result<(Vec<UserRecord>, bool)> {
        let after = after.map(|e| e.as_str().as_bytes());
        self.page(&self.users, after, limit, |_| true)
    }

    // ---- seen but unregistered ----

    pub fn unregistered(&self) -> Result<Vec<UnregisteredRecord>> {
        self.all(&self.unregistered)
    }

    /// Seen-unregistered MACs in MAC order after `after`, at most `limit`; and whether more remain.
    pub fn unregistered_page(
        &self,
        after: Option<Mac>,
        limit: usize,
    ) -> Result<(Vec<UnregisteredRecord>, bool)> {
        let after = after.map(|mac| mac.octets());
        self.page(
            &self.unregistered,
            after.as_ref().map(|a| &a[..]),
            limit,
            |_| true,
        )
    }

    pub fn unregistered_device(&self, mac: Mac) -> Result<Option<UnregisteredRecord>> {
        self.get(&self.unregistered, &mac.octets())
    }

    // ---- files phones upload (key: MAC bytes, then the file name; value: 8-byte time, content) ----

    pub fn upload(&self, mac: Mac, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .uploads
            .get(upload_key(mac, name))?
            .map(|v| v[8..].to_vec()))
    }

    /// The device's uploads: (name, size, stored at), by name.
    pub fn uploads(&self, mac: Mac) -> Result<Vec<(String, usize, i64)>> {
        self.uploads
            .scan_prefix(mac.octets())
            .map(|entry| {
                let (key, value) = entry?;
                let name = String::from_utf8_lossy(&key[6..]).into_owned();
                let at = i64::from_be_bytes(value[..8].try_into().expect("8-byte time"));
                Ok((name, value.len() - 8, at))
            })
            .collect()
    }

    // ---- hot-desk login tokens (key: SHA-256 of the token; value: the device's MAC) ----

    /// The device a login token was issued to. The caller still compares the token with the
    /// device's current one: an index entry outlives a rotation until it is removed.
    pub fn device_by_login_token(&self, token: &str) -> Result<Option<DeviceRecord>> {
        let Some(mac) = self.login_tokens.get(token_key(token))? else {
            return Ok(None);
        };
        let octets: [u8; 6] = mac.as_ref().try_into().unwrap_or_default();
        self.device(Mac::from_octets(octets))
    }

    // ---- failed-login counters (keys: `user:<extension>`, `device:<mac>`, `global`) ----

    pub fn guard(&self, key: &str) -> Result<GuardRecord> {
        Ok(self
            .get(&self.login_guard, key.as_bytes())?
            .unwrap_or_default())
    }

    /// The counters whose keys start with `prefix`, with the rest of their keys.
    pub fn guards(&self, prefix: &str) -> Result<Vec<(String, GuardRecord)>> {
        self.login_guard
            .scan_prefix(prefix.as_bytes())
            .map(|entry| {
                let (key, bytes) = entry?;
                let name = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                Ok((name, decode(&key, &bytes)?))
            })
            .collect()
    }

    // ---- request sources (keys: an IPv4 address or an IPv6 /64) ----

    pub fn source(&self, key: &str) -> Result<Option<SourceRecord>> {
        self.get(&self.sources, key.as_bytes())
    }

    pub fn sources(&self) -> Result<Vec<(String, SourceRecord)>> {
        self.sources
            .iter()
            .map(|entry| {
                let (key, bytes) = entry?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode(&key, &bytes)?,
                ))
            })
            .collect()
    }

    fn note_ban_end(&self, until: i64) {
        self.latest_ban_end.fetch_max(until, Ordering::SeqCst);
    }

    /// Whether any source may be banned at `now`; `false` means surely none is.
    pub fn any_ban_reaches(&self, now: i64) -> bool {
        now < self.latest_ban_end.load(Ordering::SeqCst)
    }

    // ---- audit trail (keys: a monotonic id, big-endian, so iteration is oldest first) ----

    /// Newest first, those `keep` accepts, at most `limit`.
    /// Records older than the id `before` (from the newest without) that `keep` accepts,
    /// newest first, at most `limit`; and whether more remain.
    pub fn audit(
        &self,
        before: Option<u64>,
        limit: usize,
        mut keep: impl FnMut(&AuditRecord) -> bool,
    ) -> Result<(Vec<AuditRecord>, bool)> {
        let records = match before {
            Some(id) => self.audit.range(..id.to_be_bytes()),
            None => self.audit.range::<&[u8], _>(..),
        };
        let mut found = Vec::new();
        for entry in records.rev() {
            let (key, bytes) = entry?;
            let record: AuditRecord = decode(&key, &bytes)?;
            if keep(&record) {
                if found.len() == limit {
                    return Ok((found, true));
                }
                found.push(record);
            }
        }
        Ok((found, false))
    }

    // ---- settings profiles and model settings ----

    pub fn profile(&self, name: &ProfileName) -> Result<Option<ProfileRecord>> {
        self.get(&self.profiles, name.as_str().as_bytes())
    }

    pub fn profiles(&self) -> Result<Vec<ProfileRecord>> {
        self.all(&self.profiles)
    }

    /// The settings of one model (by its model table id), empty when none are set.
    pub fn model_settings(&self, model: &str) -> Result<Layer> {
        Ok(self
            .get(&self.model_settings, model.as_bytes())?
            .unwrap_or_default())
    }

    /// Every model with settings of its own.
    pub fn all_model_settings(&self) -> Result<Vec<(String, Layer)>> {
        self.model_settings
            .iter()
            .map(|entry| {
                let (key, bytes) = entry?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode(&key, &bytes)?,
                ))
            })
            .collect()
    }

    // ---- bulk writes: each batch is applied atomically, all or nothing ----

    // ---- settings and admin tokens ----

    pub fn settings(&self) -> Result<Settings> {
        Ok(self.get(&self.meta, SETTINGS_KEY)?.unwrap_or_default())
    }

    pub fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.all(&self.tokens)
    }

    /// True for a data directory that has never held an admin token.
    pub fn has_tokens(&self) -> bool {
        !self.tokens.is_empty()
    }

    // ---- typed helpers ----

    fn get<T: DeserializeOwned>(&self, tree: &sled::Tree, key: &[u8]) -> Result<Option<T>> {
        tree.get(key)?.map(|bytes| decode(key, &bytes)).transpose()
    }

    fn put<T: Serialize>(&self, tree: &sled::Tree, key: &[u8], value: &T) -> Result<()> {
        tree.insert(key, encode(value))?;
        Ok(())
    }

    /// Up to `limit` records after the key `after` (from the start without), in key order,
    /// that `keep` accepts; and whether more remain past the last one returned.
    fn page<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        after: Option<&[u8]>,
        limit: usize,
        mut keep: impl FnMut(&T) -> bool,
    ) -> Result<(Vec<T>, bool)> {
        use std::ops::Bound;
        let start = after.map_or(Bound::Unbounded, |key| Bound::Excluded(key.to_vec()));
        let mut found = Vec::new();
        for entry in tree.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
            let (key, bytes) = entry?;
            let record: T = decode(&key, &bytes)?;
            if keep(&record) {
                if found.len() == limit {
                    return Ok((found, true));
                }
                found.push(record);
            }
        }
        Ok((found, false))
    }

    fn all<T: DeserializeOwned>(&self, tree: &sled::Tree) -> Result<Vec<T>> {
        tree.iter()
            .map(|entry| {
                let (key, bytes) = entry?;
                decode(&key, &bytes)
            })
            .collect()
    }

    fn insert_new<T: Serialize>(&self, tree: &sled::Tree, key: &[u8], value: &T) -> Result<bool> {
        Ok(tree
            .compare_and_swap(key, None::<&[u8]>, Some(encode(value)))?
            .is_ok())
    }

    /// Like [`Store::update`], starting from `R::default()` when the key is absent.
    fn upsert<R, T>(
        &self,
        tree: &sled::Tree,
        key: &[u8],
        mut change: impl FnMut(&mut R) -> T,
    ) -> Result<(R, T)>
    where
        R: Serialize + DeserializeOwned + Default,
    {
        loop {
            let old = tree.get(key)?;
            let mut record: R = match &old {
                Some(bytes) => decode(key, bytes)?,
                None => R::default(),
            };
            let outcome = change(&mut record);
            if tree
                .compare_and_swap(key, old, Some(encode(&record)))?
                .is_ok()
            {
                return Ok((record, outcome));
            }
        }
    }

    fn update<R, T>(
        &self,
        tree: &sled::Tree,
        key: &[u8],
        mut change: impl FnMut(&mut R) -> T,
    ) -> Result<Option<(R, T)>>
    where
        R: Serialize + DeserializeOwned,
    {
        loop {
            let Some(old) = tree.get(key)? else {
                return Ok(None);
            };
            let mut record: R = decode(key, &old)?;
            let outcome = change(&mut record);
            let new = encode(&record);
            if new == old.as_ref() {
                return Ok(Some((record, outcome)));
            }
            if tree.compare_and_swap(key, Some(old), Some(new))?.is_ok() {
                return Ok(Some((record, outcome)));
            }
        }
    }
}

fn token_key(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

fn upload_key(mac: Mac, name: &str) -> Vec<u8> {
    let mut key = mac.octets().to_vec();
    key.extend_from_slice(name.as_bytes());
    key
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise to JSON")
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(mac: &str) -> DeviceRecord {
        DeviceRecord::blank(Mac::parse(mac).unwrap(), 0, Secret::generate(8))
    }

    #[test]
    fn schema_version_newer_than_supported_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let opened = Store::open(dir.path()).unwrap();
            let store = opened.single_writes(crate::ops::Permit::for_tests());
            store
                .put(&store.meta, SCHEMA_KEY, &(SCHEMA_VERSION + 1))
                .unwrap();
            store.db.flush().unwrap();
        }
        // sled's flusher thread may hold the file lock for a moment after the handle drops.
        let mut reopened = Store::open(dir.path());
        for _ in 0..40 {
            match &reopened {
                Err(StoreError::Sled(e)) if e.to_string().contains("lock") => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    reopened = Store::open(dir.path());
                }
                _ => break,
            }
        }
        assert!(
            matches!(reopened, Err(StoreError::SchemaTooNew { .. })),
            "{:?}",
            reopened.err()
        );
    }

    #[test]
    fn insert_is_once_and_update_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let opened = Store::open(dir.path()).unwrap();
        let store = opened.single_writes(crate::ops::Permit::for_tests());
        let d = device("001565000001");
        assert!(store.insert_device(&d).unwrap());
        assert!(!store.insert_device(&d).unwrap());
        let (updated, ()) = store
            .update_device(d.mac, |r| r.firmware = Some("1.2".into()))
            .unwrap()
            .unwrap();
        assert_eq!(updated.firmware.as_deref(), Some("1.2"));
        assert_eq!(
            store.device(d.mac).unwrap().unwrap().firmware.as_deref(),
            Some("1.2")
        );
        assert!(
            store
                .update_device(Mac::parse("001565000002").unwrap(), |_| ())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn unregistered_is_bounded_and_evicts_the_stalest() {
        let dir = tempfile::tempdir().unwrap();
        let opened = Store::open(dir.path()).unwrap();
        let store = opened.single_writes(crate::ops::Permit::for_tests());
        for i in 0..10u8 {
            let rec = UnregisteredRecord {
                mac: Mac::from_octets([0, 0x15, 0x65, 0, 0, i]),
                vendor: None,
                model: None,
                firmware: None,
                first_seen: i as i64,
                last_seen: i as i64,
                last_address: None,
                requests: 1,
            };
            store.insert_unregistered(&rec, 4).unwrap();
        }
        let kept: Vec<u8> = store
            .unregistered()
            .unwrap()
            .iter()
            .map(|r| r.mac.octets()[5])
            .collect();
        assert_eq!(kept, vec![6, 7, 8, 9]);
    }

    #[test]
    fn pruning_keeps_a_banned_source_until_its_bans_are_old() {
        let dir = tempfile::tempdir().unwrap();
        let opened = Store::open(dir.path()).unwrap();
        let store = opened.single_writes(crate::ops::Permit::for_tests());
        store
            .update_source("192.0.2.7", |r| {
                r.bans = 1;
                r.last_ban_at = 1000;
                r.banned_until = 4600;
            })
            .unwrap();
        store
            .update_source("192.0.2.8", |r| {
                r.refused_macs
                    .push((Mac::parse("001565000001").unwrap(), 1000))
            })
            .unwrap();
        // The ban is over and nothing is counting, but a new ban must still double.
        assert_eq!(store.prune_sources(5000, 300, 86_400).unwrap(), 1);
        assert!(store.source("192.0.2.7").unwrap().is_some());
        assert!(store.source("192.0.2.8").unwrap().is_none());
        assert_eq!(store.prune_sources(1000 + 86_400, 300, 86_400).unwrap(), 1);
        assert!(store.source("192.0.2.7").unwrap().is_none());
    }
}
