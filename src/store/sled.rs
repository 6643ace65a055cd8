//! The embedded backend: sled, one tree per kind of record, serde JSON values, a schema
//! version in `meta`. Rules (../shared/reference/rust-stack.md §3):
//! - sled loses acknowledged writes on kill -9 unless flushed: the write unit flushes before
//!   anything is acknowledged;
//! - a record is changed only by compare-and-swap, so a phone's last-seen update and an
//!   admin's edit of the same device cannot overwrite each other, and nothing is written when
//!   nothing changed;
//! - what several nodes would have to share (the revision, the latest ban end, the nonce key)
//!   is held here, behind the storage interface: one process is the only node of a sled site.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::backend::{Change, Keep, Reads, Writes};
use super::{DeviceSnapshot, Result, SCHEMA_VERSION, StoreError};
use crate::domain::{Extension, Mac, ProfileName, Secret};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        StoreError::Database(e.to_string())
    }
}

/// Memory for decoded device records kept by [`Store::device_snapshot`].
const DECODED_DEVICES_BYTES: u64 = 16 * 1024 * 1024;

/// A decoded snapshot with the bytes it was decoded from.
struct Decoded {
    raw: sled::IVec,
    snapshot: Arc<DeviceSnapshot>,
}

#[derive(Clone)]
struct SnapshotWeight;

impl quick_cache::Weighter<Mac, Arc<Decoded>> for SnapshotWeight {
    /// The stored bytes, about as much again decoded, and the bookkeeping.
    fn weight(&self, _: &Mac, decoded: &Arc<Decoded>) -> u64 {
        (decoded.raw.len() as u64) * 2 + 128
    }
}

type DecodedDevices = quick_cache::sync::Cache<Mac, Arc<Decoded>, SnapshotWeight>;

/// The embedded backend: one sled tree per kind of record.
pub struct SledBackend {
    /// Bumped after every write that can change a rendered config other than the device's
    /// own record: users, site settings, profiles, model settings (render_cache.rs).
    revision: Arc<AtomicU64>,
    decoded_devices: Arc<DecodedDevices>,
    /// The latest end of any source ban ever stored: past it, nobody is banned and the phone
    /// path need not read the sources tree (sources.rs).
    latest_ban_end: Arc<AtomicI64>,
    /// Signs HTTP Digest nonces; kept in `meta`, so a restart does not void them.
    nonce_key: [u8; 32],
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
const NONCE_KEY: &[u8] = b"digest_nonce_key";

impl SledBackend {
    pub fn open(dir: &Path) -> Result<SledBackend> {
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(Some(500))
            .open()?;
        let mut store = SledBackend {
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
            nonce_key: [0; 32],
            revision: Arc::default(),
            latest_ban_end: Arc::default(),
            decoded_devices: Arc::new(DecodedDevices::with_weighter(
                (DECODED_DEVICES_BYTES / 1024) as usize,
                DECODED_DEVICES_BYTES,
                SnapshotWeight,
            )),
        };
        store.check_schema()?;
        store.nonce_key = store.load_nonce_key()?;
        for entry in store.sources.iter() {
            let (key, bytes) = entry?;
            // A record that cannot be read might be a ban: keep reading bans on every request.
            let until = decode::<SourceRecord>(&key, &bytes).map_or(i64::MAX, |s| s.banned_until);
            store.note_ban_end(until);
        }
        Ok(store)
    }

    /// The Digest nonce key, made on first open.
    fn load_nonce_key(&self) -> Result<[u8; 32]> {
        if let Some(key) = self.meta.get(NONCE_KEY)?
            && let Ok(key) = <[u8; 32]>::try_from(key.as_ref())
        {
            return Ok(key);
        }
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        self.meta.insert(NONCE_KEY, &key[..])?;
        self.db.flush()?;
        Ok(key)
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

    /// Called after the write, so that a render reading the old data keeps an old revision.
    fn changed_rendered_inputs(&self) {
        self.revision.fetch_add(1, Ordering::SeqCst);
    }

    fn note_ban_end(&self, until: i64) {
        self.latest_ban_end.fetch_max(until, Ordering::SeqCst);
    }

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

#[async_trait]
impl Reads for SledBackend {
    /// The revision of what configs depend on besides the device record (the field's comment);
    /// read it before reading what a render uses.
    fn revision(&self) -> u64 {
        self.revision.load(Ordering::SeqCst)
    }

    /// Whether any source may be banned at `now`; `false` means surely none is.
    fn any_ban_reaches(&self, now: i64) -> bool {
        now < self.latest_ban_end.load(Ordering::SeqCst)
    }

    fn nonce_key(&self) -> [u8; 32] {
        self.nonce_key
    }

    async fn device(&self, mac: Mac) -> Result<Option<DeviceRecord>> {
        self.get(&self.devices, &mac.octets())
    }

    /// The device as stored now, decoded only when it changed since the last call: the phone
    /// path reads a device on every request. The stored bytes are compared each time, so a
    /// snapshot is never older than the record.
    async fn device_snapshot(&self, mac: Mac) -> Result<Option<Arc<DeviceSnapshot>>> {
        let key = mac.octets();
        let Some(raw) = self.devices.get(key)? else {
            return Ok(None);
        };
        if let Some(decoded) = self.decoded_devices.get(&mac)
            && decoded.raw == raw
        {
            return Ok(Some(decoded.snapshot.clone()));
        }
        let snapshot = Arc::new(DeviceSnapshot::of(decode(&key, &raw)?));
        let decoded = Arc::new(Decoded {
            raw,
            snapshot: snapshot.clone(),
        });
        self.decoded_devices.insert(mac, decoded);
        Ok(Some(snapshot))
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.all(&self.devices)
    }

    /// Devices in MAC order after `after` that `keep` accepts, at most `limit`; and whether
    /// more remain.
    async fn devices_page(
        &self,
        after: Option<Mac>,
        limit: usize,
        keep: Keep<'_, DeviceRecord>,
    ) -> Result<(Vec<DeviceRecord>, bool)> {
        let after = after.map(|mac| mac.octets());
        self.page(&self.devices, after.as_ref().map(|a| &a[..]), limit, keep)
    }

    /// The device a login token was issued to. The caller still compares the token with the
    /// device's current one: an index entry outlives a rotation until it is removed.
    async fn device_by_login_token(&self, token: &str) -> Result<Option<DeviceRecord>> {
        let Some(mac) = self.login_tokens.get(token_key(token))? else {
            return Ok(None);
        };
        let octets: [u8; 6] = mac.as_ref().try_into().unwrap_or_default();
        self.device(Mac::from_octets(octets)).await
    }

    async fn user(&self, extension: &Extension) -> Result<Option<UserRecord>> {
        self.get(&self.users, extension.as_str().as_bytes())
    }

    async fn users(&self) -> Result<Vec<UserRecord>> {
        self.all(&self.users)
    }

    /// Users in extension order (as text) after `after`, at most `limit`; and whether more remain.
    async fn users_page(
        &self,
        after: Option<&Extension>,
        limit: usize,
    ) -> Result<(Vec<UserRecord>, bool)> {
        let after = after.map(|e| e.as_str().as_bytes());
        self.page(&self.users, after, limit, |_| true)
    }

    async fn unregistered(&self) -> Result<Vec<UnregisteredRecord>> {
        self.all(&self.unregistered)
    }

    /// Seen-unregistered MACs in MAC order after `after`, at most `limit`; and whether more remain.
    async fn unregistered_page(
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

    async fn unregistered_device(&self, mac: Mac) -> Result<Option<UnregisteredRecord>> {
        self.get(&self.unregistered, &mac.octets())
    }

    async fn upload(&self, mac: Mac, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .uploads
            .get(upload_key(mac, name))?
            .map(|v| v[8..].to_vec()))
    }

    /// The device's uploads: (name, size, stored at), by name.
    async fn uploads(&self, mac: Mac) -> Result<Vec<(String, usize, i64)>> {
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

    async fn guard(&self, key: &str) -> Result<GuardRecord> {
        Ok(self
            .get(&self.login_guard, key.as_bytes())?
            .unwrap_or_default())
    }

    /// The counters whose keys start with `prefix`, with the rest of their keys.
    async fn guards(&self, prefix: &str) -> Result<Vec<(String, GuardRecord)>> {
        self.login_guard
            .scan_prefix(prefix.as_bytes())
            .map(|entry| {
                let (key, bytes) = entry?;
                let name = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                Ok((name, decode(&key, &bytes)?))
            })
            .collect()
    }

    async fn source(&self, key: &str) -> Result<Option<SourceRecord>> {
        self.get(&self.sources, key.as_bytes())
    }

    async fn sources(&self) -> Result<Vec<(String, SourceRecord)>> {
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

    /// Newest first, those `keep` accepts, at most `limit`.
    /// Records older than the id `before` (from the newest without) that `keep` accepts,
    /// newest first, at most `limit`; and whether more remain.
    async fn audit(
        &self,
        before: Option<u64>,
        limit: usize,
        keep: Keep<'_, AuditRecord>,
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

    async fn profile(&self, name: &ProfileName) -> Result<Option<ProfileRecord>> {
        self.get(&self.profiles, name.as_str().as_bytes())
    }

    async fn profiles(&self) -> Result<Vec<ProfileRecord>> {
        self.all(&self.profiles)
    }

    /// The settings of one model (by its model table id), empty when none are set.
    async fn model_settings(&self, model: &str) -> Result<Layer> {
        Ok(self
            .get(&self.model_settings, model.as_bytes())?
            .unwrap_or_default())
    }

    /// Every model with settings of its own.
    async fn all_model_settings(&self) -> Result<Vec<(String, Layer)>> {
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

    async fn settings(&self) -> Result<Settings> {
        Ok(self.get(&self.meta, SETTINGS_KEY)?.unwrap_or_default())
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.all(&self.tokens)
    }

    /// True for a data directory that has never held an admin token.
    async fn has_tokens(&self) -> Result<bool> {
        Ok(!self.tokens.is_empty())
    }
}

#[async_trait]
impl Writes for SledBackend {
    /// Inserts a new device; `false` if the MAC is already registered (nothing written).
    async fn insert_device(&self, record: &DeviceRecord) -> Result<bool> {
        self.insert_new(&self.devices, &record.mac.octets(), record)
    }

    /// Applies `change` atomically to the device, retrying on concurrent writes, and writes
    /// only if the record changed. `None` if there is no such device.
    async fn update_device(
        &self,
        mac: Mac,
        change: Change<'_, DeviceRecord>,
    ) -> Result<Option<DeviceRecord>> {
        Ok(self
            .update(&self.devices, &mac.octets(), change)?
            .map(|(d, ())| d))
    }

    async fn remove_device(&self, mac: Mac) -> Result<bool> {
        Ok(self.devices.remove(mac.octets())?.is_some())
    }

    /// Writes every record in one transaction: a new MAC as given, an existing one through
    /// `merge(stored, given)`, so what phones wrote meanwhile (last seen, claim, login token) stays.
    async fn merge_devices(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
    ) -> Result<()> {
        let outcome = self.devices.transaction(|tx| {
            for record in records {
                let key = &record.mac.octets()[..];
                let next = match tx.get(key)? {
                    Some(bytes) => {
                        let mut stored: DeviceRecord =
                            decode(key, &bytes).map_err(ConflictableTransactionError::Abort)?;
                        merge(&mut stored, record);
                        stored
                    }
                    None => record.clone(),
                };
                tx.insert(key, encode(&next))?;
            }
            Ok(())
        });
        match outcome {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }

    async fn put_devices(&self, records: &[DeviceRecord]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for record in records {
            batch.insert(&record.mac.octets()[..], encode(record));
        }
        self.devices.apply_batch(batch)?;
        Ok(())
    }

    async fn index_login_token(&self, token: &Secret, mac: Mac) -> Result<()> {
        self.login_tokens
            .insert(token_key(token.expose()), &mac.octets())?;
        Ok(())
    }

    async fn unindex_login_token(&self, token: &Secret) -> Result<()> {
        self.login_tokens.remove(token_key(token.expose()))?;
        Ok(())
    }

    async fn insert_user(&self, record: &UserRecord) -> Result<bool> {
        let inserted =
            self.insert_new(&self.users, record.extension.as_str().as_bytes(), record)?;
        self.changed_rendered_inputs();
        Ok(inserted)
    }

    /// Like [`Store::update_device`]. A login or a PIN change leaves rendered configs valid;
    /// a change of what configs carry does not.
    async fn update_user(
        &self,
        extension: &Extension,
        change: Change<'_, UserRecord>,
    ) -> Result<Option<UserRecord>> {
        let mut rendered_changed = false;
        let updated = self.update(
            &self.users,
            extension.as_str().as_bytes(),
            |user: &mut UserRecord| {
                let before = user.rendered_part();
                let outcome = change(user);
                rendered_changed = before != user.rendered_part();
                outcome
            },
        )?;
        if rendered_changed {
            self.changed_rendered_inputs();
        }
        Ok(updated.map(|(u, ())| u))
    }

    async fn remove_user(&self, extension: &Extension) -> Result<bool> {
        let removed = self.users.remove(extension.as_str().as_bytes())?.is_some();
        self.changed_rendered_inputs();
        Ok(removed)
    }

    async fn put_users(&self, records: &[UserRecord]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for record in records {
            batch.insert(record.extension.as_str().as_bytes(), encode(record));
        }
        self.users.apply_batch(batch)?;
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn update_unregistered(
        &self,
        mac: Mac,
        change: Change<'_, UnregisteredRecord>,
    ) -> Result<Option<UnregisteredRecord>> {
        Ok(self
            .update(&self.unregistered, &mac.octets(), change)?
            .map(|(r, ())| r))
    }

    /// Records a newly seen MAC, evicting the longest-unseen entries beyond `cap` so that
    /// requests for made-up MACs cannot grow the database.
    async fn insert_unregistered(&self, record: &UnregisteredRecord, cap: usize) -> Result<()> {
        if !self.insert_new(&self.unregistered, &record.mac.octets(), record)? {
            return Ok(());
        }
        let excess = self.unregistered.len().saturating_sub(cap);
        if excess > 0 {
            let mut entries = self.unregistered().await?;
            entries.sort_by_key(|e| (e.last_seen, e.mac));
            for stale in entries.iter().filter(|e| e.mac != record.mac).take(excess) {
                self.unregistered.remove(stale.mac.octets())?;
            }
        }
        Ok(())
    }

    async fn remove_unregistered(&self, mac: Mac) -> Result<bool> {
        Ok(self.unregistered.remove(mac.octets())?.is_some())
    }

    /// Stores an upload, then drops the device's oldest other files until its total fits `cap`.
    async fn put_upload(
        &self,
        mac: Mac,
        name: &str,
        content: &[u8],
        now: i64,
        cap: usize,
    ) -> Result<()> {
        let mut value = now.to_be_bytes().to_vec();
        value.extend_from_slice(content);
        self.uploads.insert(upload_key(mac, name), value)?;
        let mut files = self.uploads(mac).await?;
        files.sort_by_key(|(n, _, at)| (*at, n.clone()));
        let mut total: usize = files.iter().map(|(_, size, _)| size).sum();
        for (old, size, _) in files.iter().filter(|(n, _, _)| n != name) {
            if total <= cap {
                break;
            }
            self.uploads.remove(upload_key(mac, old))?;
            total -= size;
        }
        Ok(())
    }

    async fn remove_uploads(&self, mac: Mac) -> Result<()> {
        for key in self.uploads.scan_prefix(mac.octets()).keys() {
            self.uploads.remove(key?)?;
        }
        Ok(())
    }

    /// Applies `change` atomically to the counter, creating it when absent.
    async fn update_guard(
        &self,
        key: &str,
        change: Change<'_, GuardRecord>,
    ) -> Result<GuardRecord> {
        Ok(self.upsert(&self.login_guard, key.as_bytes(), change)?.0)
    }

    async fn remove_guard(&self, key: &str) -> Result<()> {
        self.login_guard.remove(key.as_bytes())?;
        Ok(())
    }

    /// Drops counters with nothing left to remember, so guesses at made-up extensions cannot
    /// grow the database.
    async fn prune_guards(&self, now: i64, keep_secs: i64) -> Result<usize> {
        let mut removed = 0;
        for entry in self.login_guard.iter() {
            let (key, bytes) = entry?;
            let record: GuardRecord = decode(&key, &bytes)?;
            if record.is_quiet(now, keep_secs)
                && self
                    .login_guard
                    .compare_and_swap(&key, Some(bytes), None::<&[u8]>)?
                    .is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Applies `change` atomically to the source's record, creating it when absent.
    async fn update_source(
        &self,
        key: &str,
        change: Change<'_, SourceRecord>,
    ) -> Result<SourceRecord> {
        // Noted before the write lands, so no request sees the ban stored but not noted; a
        // retried or failed write only makes requests check for a while.
        let (record, ()) = self.upsert(&self.sources, key.as_bytes(), |record| {
            change(record);
            self.note_ban_end(record.banned_until);
        })?;
        Ok(record)
    }

    async fn remove_source(&self, key: &str) -> Result<bool> {
        Ok(self.sources.remove(key.as_bytes())?.is_some())
    }

    /// Drops sources that are neither banned nor counting, and whose last ban is older than
    /// `remember_bans_secs` (until then a new ban still doubles), so a sweep from many addresses
    /// cannot grow the database.
    async fn prune_sources(
        &self,
        now: i64,
        window_secs: i64,
        remember_bans_secs: i64,
    ) -> Result<usize> {
        let mut removed = 0;
        for entry in self.sources.iter() {
            let (key, bytes) = entry?;
            let record: SourceRecord = decode(&key, &bytes)?;
            if record.is_quiet(now, window_secs, remember_bans_secs)
                && self
                    .sources
                    .compare_and_swap(&key, Some(bytes), None::<&[u8]>)?
                    .is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn append_audit(&self, mut record: AuditRecord) -> Result<AuditRecord> {
        record.id = self.db.generate_id()?;
        self.put(&self.audit, &record.id.to_be_bytes(), &record)?;
        Ok(record)
    }

    /// Removes the oldest records beyond `max`: first those not of `kept_kind`, then, if that
    /// is not enough, the oldest of `kept_kind` too.
    async fn trim_audit(&self, max: usize, kept_kind: &str) -> Result<usize> {
        let excess = self.audit.len().saturating_sub(max);
        let mut removed = 0;
        for entry in self.audit.iter() {
            if removed == excess {
                break;
            }
            let (key, bytes) = entry?;
            let record: AuditRecord = decode(&key, &bytes)?;
            if record.kind != kept_kind {
                self.audit.remove(key)?;
                removed += 1;
            }
        }
        for entry in self.audit.iter().take(excess - removed) {
            let (key, _) = entry?;
            self.audit.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }

    async fn insert_profile(&self, record: &ProfileRecord) -> Result<bool> {
        let inserted = self.insert_new(&self.profiles, record.name.as_str().as_bytes(), record)?;
        self.changed_rendered_inputs();
        Ok(inserted)
    }

    async fn put_profile(&self, record: &ProfileRecord) -> Result<()> {
        self.put(&self.profiles, record.name.as_str().as_bytes(), record)?;
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn remove_profile(&self, name: &ProfileName) -> Result<bool> {
        let removed = self.profiles.remove(name.as_str().as_bytes())?.is_some();
        self.changed_rendered_inputs();
        Ok(removed)
    }

    async fn put_model_settings(&self, model: &str, layer: &Layer) -> Result<()> {
        if layer.is_empty() {
            self.model_settings.remove(model.as_bytes())?;
        } else {
            self.put(&self.model_settings, model.as_bytes(), layer)?;
        }
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn put_settings(&self, settings: &Settings) -> Result<()> {
        self.put(&self.meta, SETTINGS_KEY, settings)?;
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn insert_token(&self, record: &TokenRecord) -> Result<bool> {
        self.insert_new(&self.tokens, record.name.as_bytes(), record)
    }

    async fn remove_token(&self, name: &str) -> Result<bool> {
        Ok(self.tokens.remove(name.as_bytes())?.is_some())
    }

    /// Makes every write so far durable (against a process crash; see rust-stack.md §3.2).
    async fn flush(&self) -> Result<()> {
        self.db.flush_async().await?;
        Ok(())
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
