//! The embedded backend: sled, one tree per kind of record, serde JSON values, a schema
//! version in `meta`. Rules (../shared/reference/rust-stack.md §3):
//! - sled loses acknowledged writes on kill -9 unless flushed: the write unit flushes before
//!   anything is acknowledged;
//! - a record is changed only by compare-and-swap, so a phone's last-seen update and an
//!   admin's edit of the same device cannot overwrite each other, and nothing is written when
//!   nothing changed;
//! - what several nodes would have to share (the revision, the latest ban end, the nonce key)
//!   is held here, behind the storage interface: one process is the only node of a sled site.
//!
//! `reads.rs` and `writes.rs` implement the storage interface on the struct and the helpers
//! defined here.

mod accounts;
mod contacts;
mod device_tree;
mod imports;
mod journal;
mod keys;
mod outbox;
mod portal;
mod reads;
mod unregistered;
mod writes;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::{decode, encode, token_key, upload_key};
use super::{Needle, Result, SCHEMA_VERSION, StoreError};
use crate::model::SourceRecord;

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        StoreError::Database(e.to_string())
    }
}

/// The embedded backend: one sled tree per kind of record.
pub struct SledBackend {
    /// Bumped after every write that can change a rendered config other than the device's
    /// own record: users, site settings, profiles, model settings (render_cache.rs).
    revision: Arc<AtomicU64>,
    /// The ids of the outbox's queued mails, read from the tree when first needed and kept with
    /// every write (outbox.rs): the sender looks at these instead of the whole outbox.
    queued_mails: std::sync::Mutex<Option<std::collections::BTreeSet<u64>>>,
    /// The latest end of any source ban ever stored: past it, nobody is banned and the phone
    /// path need not read the sources tree (sources.rs).
    latest_ban_end: Arc<AtomicI64>,
    /// Signs HTTP Digest nonces; kept in `meta`, so a restart does not void them.
    nonce_key: std::sync::RwLock<[u8; 32]>,
    /// Above every audit id stored when the store was opened: sled's id generator starts
    /// again in a restored store, whose trail came from another.
    audit_floor: AtomicU64,
    db: sled::Db,
    devices: device_tree::DeviceTree,
    users: sled::Tree,
    unregistered: sled::Tree,
    unregistered_by_seen: sled::Tree,
    unregistered_by_source: sled::Tree,
    /// Serialises writes to the three unregistered trees (unregistered.rs).
    unregistered_writes: std::sync::Mutex<()>,
    unregistered_len: AtomicUsize,
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
/// sled's page cache unless `limits.store_cache_bytes` says otherwise. sled holds about twice
/// this while it writes (make bench, row (e)), and its pages come back from the system's file
/// cache quickly.
pub const DEFAULT_CACHE_BYTES: u64 = 16 * 1024 * 1024;
const SETTINGS_KEY: &[u8] = b"settings";
const NONCE_KEY: &[u8] = b"digest_nonce_key";

impl SledBackend {
    pub fn open(dir: &Path) -> Result<SledBackend> {
        SledBackend::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// The store in `dir`, sled's page cache at most `cache_bytes` (sled's own default is
    /// 1 GiB, which a large site's pages fill as its phones fetch their files).
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<SledBackend> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(500))
            .open()?;
        let mut store = SledBackend {
            devices: device_tree::DeviceTree::new(db.open_tree("devices")?),
            users: db.open_tree("users")?,
            unregistered: db.open_tree("unregistered")?,
            unregistered_by_seen: db.open_tree("unregistered_by_seen")?,
            unregistered_by_source: db.open_tree("unregistered_by_source")?,
            unregistered_writes: std::sync::Mutex::new(()),
            unregistered_len: AtomicUsize::new(0),
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
            nonce_key: std::sync::RwLock::new([0; 32]),
            audit_floor: AtomicU64::new(0),
            revision: Arc::default(),
            latest_ban_end: Arc::default(),
            queued_mails: std::sync::Mutex::new(None),
        };
        store.check_schema()?;
        store.undo_journal()?;
        store.nonce_key = std::sync::RwLock::new(store.load_nonce_key()?);
        store.check_unregistered_index()?;
        store.audit_floor = AtomicU64::new(store.after_last_audit_id()?);
        for entry in store.sources.iter() {
            let (key, bytes) = entry?;
            // A record that cannot be read might be a ban: keep reading bans on every request.
            let until = decode::<SourceRecord>(&key, &bytes).map_or(i64::MAX, |s| s.banned_until);
            store.note_ban_end(until);
        }
        Ok(store)
    }

    fn after_last_audit_id(&self) -> Result<u64> {
        let Some((key, _)) = self.audit.last()? else {
            return Ok(0);
        };
        let id: [u8; 8] = key.as_ref().try_into().map_err(|_| {
            crate::store::StoreError::Database("an audit key is not 8 bytes".into())
        })?;
        Ok(u64::from_be_bytes(id) + 1)
    }

    /// The id of the next audit record: sled's next id, and above any id the store held when
    /// it was opened.
    fn next_audit_id(&self) -> Result<u64> {
        let generated = self.db.generate_id()?;
        Ok(generated.max(self.audit_floor.fetch_add(1, Ordering::SeqCst)))
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
        keep: impl FnMut(&T) -> bool,
    ) -> Result<(Vec<T>, bool)> {
        self.page_of(tree, after, limit, None, keep)
    }

    /// [`Self::page`], passing over undecoded the stored records that lack `needle`.
    fn page_of<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        after: Option<&[u8]>,
        limit: usize,
        needle: Option<&Needle>,
        mut keep: impl FnMut(&T) -> bool,
    ) -> Result<(Vec<T>, bool)> {
        use std::ops::Bound;
        let start = after.map_or(Bound::Unbounded, |key| Bound::Excluded(key.to_vec()));
        let mut found = Vec::new();
        for entry in tree.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
            let (key, bytes) = entry?;
            if !Needle::may_be_in(needle, &bytes) {
                continue;
            }
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

    /// Every record of `tree` with its key as text.
    fn keyed<T: DeserializeOwned>(&self, tree: &sled::Tree) -> Result<Vec<(String, T)>> {
        tree.iter()
            .map(|entry| {
                let (key, bytes) = entry?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode(&key, &bytes)?,
                ))
            })
            .collect()
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

/// The store in `dir` opened again in the same process (tests): sled's flusher thread may hold
/// the file lock for a moment after the last handle drops.
#[cfg(test)]
fn reopen(dir: &std::path::Path) -> SledBackend {
    for _ in 0..40 {
        match SledBackend::open(dir) {
            Err(crate::store::StoreError::Database(e)) if e.contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            opened => return opened.unwrap(),
        }
    }
    panic!("the store's lock was not released within 2 s")
}
