//! The shared backend: PostgreSQL, for several deskprov nodes on one database.
//!
//! Records are kept as sled keeps them: one table of `(tree, key, value)` rows whose trees are
//! sled's tree names, keys sled's keys and values the same serde JSON bytes, so a sled store
//! moves here record by record with nothing to convert (`deskprov migrate-store`). Two indexed
//! columns serve what sled keeps index trees for (schema.rs names them per tree).
//!
//! What nodes must agree on is in the database, changed in transactions: an update reads its
//! row `FOR UPDATE`, so concurrent changes of one record (two nodes' claims, two logins)
//! queue behind each other, never overwrite each other. What every request reads is kept in
//! memory and kept true by notifications (listen.rs): the revision of what configs depend on,
//! decoded device records, every device's MAC (registered.rs), the latest ban end. Every write
//! that changes one of them notifies the other nodes in the same transaction, so a
//! notification is sent if and only if the change was committed.
//!
//! `reads.rs` and `writes.rs` implement the storage interface; the smaller tables have a file
//! each, as in the sled backend.

mod accounts;
mod connect;
mod files;
mod imports;
mod lease;
mod listen;
mod outbox;
mod reads;
mod registered;
mod rows;
pub mod schema;
mod writes;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::{decode, encode, token_key, upload_key};
use super::{DeviceSnapshot, Needle, Result, StoreError};
use crate::domain::Mac;

pub use connect::DatabaseUrl;
use rows::{get, get_raw, get_raw_for_update, insert_raw, put_raw, remove_raw};

/// The channel every node listens on.
const CHANNEL: &str = "deskprov";

/// What the key of one kind of record is; the names are sled's trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    Devices,
    Users,
    Unregistered,
    Tokens,
    Uploads,
    LoginTokens,
    LoginGuard,
    Sources,
    Audit,
    Profiles,
    ModelSettings,
    Meta,
    Imports,
    Contacts,
    KeyLayers,
    Accounts,
    ConsoleSessions,
    PortalSessions,
    PortalLinks,
    Outbox,
    /// Shared files' records by name, and their parts by name, digest and index.
    Firmware,
    FirmwareChunks,
}

impl Tree {
    pub const ALL: [Tree; 22] = [
        Tree::Devices,
        Tree::Users,
        Tree::Unregistered,
        Tree::Tokens,
        Tree::Uploads,
        Tree::LoginTokens,
        Tree::LoginGuard,
        Tree::Sources,
        Tree::Audit,
        Tree::Profiles,
        Tree::ModelSettings,
        Tree::Meta,
        Tree::Imports,
        Tree::Contacts,
        Tree::KeyLayers,
        Tree::Accounts,
        Tree::ConsoleSessions,
        Tree::PortalSessions,
        Tree::PortalLinks,
        Tree::Outbox,
        Tree::Firmware,
        Tree::FirmwareChunks,
    ];

    /// The sled tree of the same records.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Devices => "devices",
            Tree::Users => "users",
            Tree::Unregistered => "unregistered",
            Tree::Tokens => "tokens",
            Tree::Uploads => "uploads",
            Tree::LoginTokens => "login_tokens",
            Tree::LoginGuard => "login_guard",
            Tree::Sources => "sources",
            Tree::Audit => "audit",
            Tree::Profiles => "profiles",
            Tree::ModelSettings => "model_settings",
            Tree::Meta => "meta",
            Tree::Imports => "imports",
            Tree::Contacts => "contacts",
            Tree::KeyLayers => "key_layers",
            Tree::Accounts => "accounts",
            Tree::ConsoleSessions => "console_sessions",
            Tree::PortalSessions => "portal_sessions",
            Tree::PortalLinks => "portal_links",
            Tree::Outbox => "outbox",
            Tree::Firmware => "firmware",
            Tree::FirmwareChunks => "firmware_chunks",
        }
    }
}

/// The tag of a device someone is logged in at (migrations/0002_device_sessions.sql).
const SESSIONS_TAG: &str = "sessions";

/// A row's indexed columns (schema.rs): `sort` orders, `tag` groups.
#[derive(Debug, Clone, Default)]
struct Indexed {
    sort: Option<i64>,
    tag: Option<String>,
}

/// Memory for decoded device records: 32,768 of them. Four times sled's, as a record missing
/// here costs a round trip to the database rather than a read of sled's page cache; a site with
/// more devices than that pays one read for each fetch of a phone beyond them.
const DECODED_DEVICES_BYTES: u64 = 64 * 1024 * 1024;

/// About a stored record decoded, and the bookkeeping.
const DECODED_DEVICE_WEIGHT: u64 = 2048;

#[derive(Clone)]
struct SnapshotWeight;

impl quick_cache::Weighter<Mac, Arc<DeviceSnapshot>> for SnapshotWeight {
    fn weight(&self, _: &Mac, _: &Arc<DeviceSnapshot>) -> u64 {
        DECODED_DEVICE_WEIGHT
    }
}

type DecodedDevices = quick_cache::sync::Cache<Mac, Arc<DeviceSnapshot>, SnapshotWeight>;

/// What a committed write changed that other nodes keep in memory.
#[derive(Debug, Default)]
struct Effects {
    rendered_inputs: bool,
    devices: Vec<Mac>,
    /// Changed only in facts other nodes do not serve from (a sighting): dropped from this
    /// node's memory, announced to no one.
    devices_here: Vec<Mac>,
    /// The site's files changed to these (their digest).
    site_files: Option<String>,
    ban_end: Option<i64>,
}

/// MACs named in one notification of many devices: 12 characters each, within PostgreSQL's
/// 8,000 bytes a payload.
const MACS_PER_NOTIFICATION: usize = 600;

impl Effects {
    fn rendered() -> Effects {
        Effects {
            rendered_inputs: true,
            ..Effects::default()
        }
    }

    fn device(mac: Mac) -> Effects {
        Effects {
            devices: vec![mac],
            ..Effects::default()
        }
    }

    /// `new`, written over `old`: announced unless it is only a sighting.
    fn device_change(
        old: &crate::model::DeviceRecord,
        new: &crate::model::DeviceRecord,
    ) -> Effects {
        match old.same_but_sightings(new) {
            true => Effects {
                devices_here: vec![new.mac],
                ..Effects::default()
            },
            false => Effects::device(new.mac),
        }
    }

    fn devices(records: &[crate::model::DeviceRecord]) -> Effects {
        Effects {
            devices: records.iter().map(|r| r.mac).collect(),
            ..Effects::default()
        }
    }
}

/// The memory every node keeps of the database, and how it learns of changes.
struct Shared {
    /// The database's revision of what configs depend on (as last heard), plus one for every
    /// time the notifications were interrupted: a render cached before a gap is never reused.
    revision: AtomicU64,
    latest_ban_end: AtomicI64,
    decoded_devices: DecodedDevices,
    registered: registered::RegisteredMacs,
    /// Device reads the phone path sent to the database.
    device_reads: AtomicU64,
    /// Bumped whenever decoded records are dropped, so a read that began before cannot put
    /// back what it decoded from an older row.
    device_drops: AtomicU64,
    /// True while this node hears every notification: only then are decoded records trusted
    /// without asking the database.
    listening: AtomicBool,
    /// Statements sent, for the metrics and the test that the phone path sends none.
    round_trips: AtomicU64,
    /// True while this node holds the housekeeping lease (lease.rs).
    housekeeper: AtomicBool,
    /// This node's digest of the files nodes must have alike, and whether the site's is the
    /// same (site_files.rs in ops).
    own_files: std::sync::Mutex<Option<String>>,
    files_match: AtomicBool,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            revision: AtomicU64::new(0),
            latest_ban_end: AtomicI64::new(0),
            decoded_devices: DecodedDevices::with_weighter(
                (DECODED_DEVICES_BYTES / DECODED_DEVICE_WEIGHT) as usize,
                DECODED_DEVICES_BYTES,
                SnapshotWeight,
            ),
            registered: registered::RegisteredMacs::default(),
            device_reads: AtomicU64::new(0),
            device_drops: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            round_trips: AtomicU64::new(0),
            housekeeper: AtomicBool::new(false),
            own_files: std::sync::Mutex::new(None),
            files_match: AtomicBool::new(true),
        }
    }

    fn heard_revision(&self, revision: u64) {
        self.revision.fetch_max(revision, Ordering::SeqCst);
    }

    /// Compares the site's digest of the shared files with this node's.
    fn heard_site_files(&self, site: &str) {
        let own = self.own_files.lock().expect("own files lock");
        let Some(own) = own.as_deref() else {
            return;
        };
        let matches = own == site;
        if self.files_match.swap(matches, Ordering::SeqCst) != matches {
            match matches {
                true => tracing::info!(
                    "this node's templates and site CA are the site's again; serving phones"
                ),
                false => tracing::error!(
                    "another node changed the site's templates or site CA: this node's differ and it answers phones 503 until it has the same (copy them, then reload)"
                ),
            }
        }
    }

    fn forget_device(&self, mac: Mac) {
        self.device_drops.fetch_add(1, Ordering::SeqCst);
        self.decoded_devices.remove(&mac);
        self.registered.changed(mac);
    }

    fn forget_all_devices(&self) {
        self.device_drops.fetch_add(1, Ordering::SeqCst);
        self.decoded_devices.clear();
    }
}

/// The PostgreSQL backend: a pool of connections and what the listener keeps current.
pub struct PgBackend {
    pool: Pool,
    shared: Arc<Shared>,
    nonce_key: std::sync::RwLock<[u8; 32]>,
    listener: tokio::task::JoinHandle<()>,
    lease: tokio::task::JoinHandle<()>,
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        self.listener.abort();
        self.lease.abort();
    }
}

const NONCE_KEY: &[u8] = b"digest_nonce_key";
const SITE_FILES_KEY: &[u8] = b"site_files";
const SETTINGS_KEY: &[u8] = b"settings";

impl PgBackend {
    /// Connects (waiting, bounded, for a database that is still starting), upgrades the schema
    /// and starts listening.
    pub async fn connect(url: &DatabaseUrl) -> Result<PgBackend> {
        let pool = connect::pool(url)?;
        connect::wait_until_reachable(&pool, url).await?;
        schema::migrate(&pool).await?;
        let shared = Arc::new(Shared::new());
        let listener = tokio::spawn(listen::run(url.clone(), pool.clone(), shared.clone()));
        let lease = tokio::spawn(lease::hold_housekeeping(url.clone(), shared.clone()));
        let backend = PgBackend {
            pool,
            shared,
            nonce_key: std::sync::RwLock::new([0; 32]),
            listener,
            lease,
        };
        backend.load_state().await?;
        Ok(backend)
    }

    /// Creates or upgrades the schema and nothing else (`deskprov migrate`); the versions it
    /// applied.
    pub async fn migrate(url: &DatabaseUrl) -> Result<Vec<i32>> {
        let pool = connect::pool(url)?;
        connect::wait_until_reachable(&pool, url).await?;
        schema::migrate(&pool).await
    }

    /// Removes every record, keeping the schema: how `deskprov migrate-store` undoes a failed
    /// copy into a database it found empty.
    pub async fn clear(url: &DatabaseUrl) -> Result<()> {
        let pool = connect::pool(url)?;
        let client = pool.get().await.map_err(connect::pool_error)?;
        client.batch_execute("DELETE FROM records").await?;
        Ok(())
    }

    /// The revision, the latest ban end and the nonce key (made by the first node to start).
    async fn load_state(&self) -> Result<()> {
        let client = self.client().await?;
        self.shared
            .heard_revision(listen::read_revision(&client).await?);
        let latest: Option<i64> = client
            .query_one("SELECT max(sort) FROM records WHERE tree = 'sources'", &[])
            .await?
            .get(0);
        self.shared
            .latest_ban_end
            .fetch_max(latest.unwrap_or(0), Ordering::SeqCst);
        let mut fresh = [0u8; 32];
        rand::fill(&mut fresh);
        client
            .execute(
                "INSERT INTO records (tree, key, value) VALUES ('meta', $1, $2) \
                 ON CONFLICT DO NOTHING",
                &[&NONCE_KEY, &&fresh[..]],
            )
            .await?;
        let stored: Vec<u8> = client
            .query_one(
                "SELECT value FROM records WHERE tree = 'meta' AND key = $1",
                &[&NONCE_KEY],
            )
            .await?
            .get(0);
        let key = <[u8; 32]>::try_from(stored.as_slice()).map_err(|_| {
            StoreError::Database("the stored Digest nonce key is not 32 bytes".into())
        })?;
        *self.nonce_key.write().expect("nonce key lock") = key;
        Ok(())
    }

    /// Statements sent to the database since start.
    pub fn round_trips(&self) -> u64 {
        self.shared.round_trips.load(Ordering::Relaxed)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(connect::pool_error)
    }

    fn counted(&self, statements: u64) {
        self.shared
            .round_trips
            .fetch_add(statements, Ordering::Relaxed);
    }

    async fn get<T: DeserializeOwned>(&self, tree: Tree, key: &[u8]) -> Result<Option<T>> {
        let client = self.client().await?;
        get(&client, tree, key, &self.shared).await
    }

    async fn get_raw(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let client = self.client().await?;
        get_raw(&client, tree, key, &self.shared).await
    }

    /// Stores `value` under `key`, replacing what was there; `effects` are announced with it.
    async fn put<T: Serialize>(
        &self,
        tree: Tree,
        key: &[u8],
        value: &T,
        indexed: Indexed,
        effects: Effects,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        put_raw(&tx, tree, key, &encode(value), &indexed, &self.shared).await?;
        self.commit(tx, effects).await
    }

    /// Inserts only a new key: `false` (nothing written) when it is taken.
    async fn insert_new<T: Serialize>(
        &self,
        tree: Tree,
        key: &[u8],
        value: &T,
        indexed: Indexed,
        effects: Effects,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let inserted = insert_raw(&tx, tree, key, &encode(value), &indexed, &self.shared).await?;
        if inserted {
            self.commit(tx, effects).await?;
        }
        Ok(inserted)
    }

    /// Removes the key; whether it was there. `effects` are announced only when it was.
    async fn remove(&self, tree: Tree, key: &[u8], effects: Effects) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let removed = remove_raw(&tx, tree, key, &self.shared).await?;
        if removed {
            self.commit(tx, effects).await?;
        }
        Ok(removed)
    }

    /// Applies `change` to the record under a row lock, and writes it only if it changed.
    /// `effects` says what a change announces, from the record before and after.
    async fn update<R>(
        &self,
        tree: Tree,
        key: &[u8],
        change: &mut (dyn FnMut(&mut R) + Send),
        indexed: impl Fn(&R) -> Indexed + Send,
        effects: impl Fn(&R, &R) -> Effects + Send,
    ) -> Result<Option<R>>
    where
        R: Serialize + DeserializeOwned + Send,
    {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(old) = get_raw_for_update(&tx, tree, key, &self.shared).await? else {
            return Ok(None);
        };
        let before: R = decode(key, &old)?;
        let mut record: R = decode(key, &old)?;
        change(&mut record);
        let new = encode(&record);
        if new != old {
            put_raw(&tx, tree, key, &new, &indexed(&record), &self.shared).await?;
            self.commit(tx, effects(&before, &record)).await?;
        }
        Ok(Some(record))
    }

    /// Like [`PgBackend::update`], starting from `R::default()` when the key is absent.
    async fn upsert<R>(
        &self,
        tree: Tree,
        key: &[u8],
        change: &mut (dyn FnMut(&mut R) + Send),
        indexed: impl Fn(&R) -> Indexed + Send,
        effects: impl Fn(&R) -> Effects + Send,
    ) -> Result<R>
    where
        R: Serialize + DeserializeOwned + Default + Send,
    {
        loop {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let old = get_raw_for_update(&tx, tree, key, &self.shared).await?;
            let mut record: R = match &old {
                Some(bytes) => decode(key, bytes)?,
                None => R::default(),
            };
            change(&mut record);
            let new = encode(&record);
            if old.as_ref() == Some(&new) {
                return Ok(record);
            }
            let written = match old {
                Some(_) => {
                    put_raw(&tx, tree, key, &new, &indexed(&record), &self.shared).await?;
                    true
                }
                // Another node may insert the same key meanwhile: then start again from theirs.
                None => insert_raw(&tx, tree, key, &new, &indexed(&record), &self.shared).await?,
            };
            if written {
                self.commit(tx, effects(&record)).await?;
                return Ok(record);
            }
        }
    }

    /// Announces `effects` in the transaction and commits it; then applies them here.
    async fn commit(&self, tx: deadpool_postgres::Transaction<'_>, effects: Effects) -> Result<()> {
        let revision = announce(&tx, &effects, &self.shared).await?;
        tx.commit().await?;
        self.counted(1);
        self.apply_locally(&effects, revision);
        Ok(())
    }

    fn apply_locally(&self, effects: &Effects, revision: Option<u64>) {
        if let Some(revision) = revision {
            self.shared.heard_revision(revision);
        }
        for mac in effects.devices.iter().chain(&effects.devices_here) {
            self.shared.forget_device(*mac);
        }
        if let Some(until) = effects.ban_end {
            self.shared
                .latest_ban_end
                .fetch_max(until, Ordering::SeqCst);
        }
    }

    /// Up to `limit` records of `tree` past `from` (after it, or before it when `newest_first`),
    /// in key order, that `keep` accepts; and whether more remain. Rows are read in batches, so
    /// a filter that keeps few records does not hold a whole tree in memory.
    async fn page<T: DeserializeOwned>(
        &self,
        tree: Tree,
        from: Option<&[u8]>,
        newest_first: bool,
        limit: usize,
        keep: impl Fn(&T) -> bool + Send + Sync,
    ) -> Result<(Vec<T>, bool)> {
        self.page_of(tree, from, newest_first, limit, None, keep)
            .await
    }

    /// [`Self::page`], passing over undecoded the stored records that lack `needle`.
    async fn page_of<T: DeserializeOwned>(
        &self,
        tree: Tree,
        from: Option<&[u8]>,
        newest_first: bool,
        limit: usize,
        needle: Option<&Needle<'_>>,
        keep: impl Fn(&T) -> bool + Send + Sync,
    ) -> Result<(Vec<T>, bool)> {
        let client = self.client().await?;
        let query = match newest_first {
            false => {
                "SELECT key, value FROM records WHERE tree = $1 \
                      AND ($2::bytea IS NULL OR key > $2) ORDER BY key LIMIT $3"
            }
            true => {
                "SELECT key, value FROM records WHERE tree = $1 \
                     AND ($2::bytea IS NULL OR key < $2) ORDER BY key DESC LIMIT $3"
            }
        };
        let mut cursor = from.map(<[u8]>::to_vec);
        let mut found = Vec::new();
        let batch = (limit + 1).clamp(64, 2048) as i64;
        loop {
            let rows = client
                .query(query, &[&tree.name(), &cursor, &batch])
                .await?;
            self.counted(1);
            let done = (rows.len() as i64) < batch;
            for row in &rows {
                let key: Vec<u8> = row.get(0);
                let value: &[u8] = row.get(1);
                if Needle::may_be_in(needle, value) {
                    let record: T = decode(&key, value)?;
                    if keep(&record) {
                        if found.len() == limit {
                            return Ok((found, true));
                        }
                        found.push(record);
                    }
                }
                cursor = Some(key);
            }
            if done {
                return Ok((found, false));
            }
        }
    }

    /// Every record of `tree` with its key, in key order.
    async fn keyed_raw(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT key, value FROM records WHERE tree = $1 AND key >= $2 \
                 AND ($3::bytea IS NULL OR key < $3) ORDER BY key",
                &[&tree.name(), &prefix, &prefix_end(prefix)],
            )
            .await?;
        self.counted(1);
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    async fn all<T: DeserializeOwned>(&self, tree: Tree) -> Result<Vec<T>> {
        self.keyed_raw(tree, b"")
            .await?
            .iter()
            .map(|(key, value)| decode(key, value))
            .collect()
    }

    /// Every record of `tree` with its key as text.
    async fn keyed<T: DeserializeOwned>(&self, tree: Tree) -> Result<Vec<(String, T)>> {
        self.keyed_raw(tree, b"")
            .await?
            .iter()
            .map(|(key, value)| {
                Ok((
                    String::from_utf8_lossy(key).into_owned(),
                    decode(key, value)?,
                ))
            })
            .collect()
    }

    async fn count(&self, tree: Tree) -> Result<usize> {
        let client = self.client().await?;
        let count: i64 = client
            .query_one(
                "SELECT count(*) FROM records WHERE tree = $1",
                &[&tree.name()],
            )
            .await?
            .get(0);
        self.counted(1);
        Ok(count as usize)
    }
}

/// Bumps the revision and sends the notifications that `effects` call for, inside `tx`; the
/// new revision when it was bumped.
async fn announce(
    tx: &impl GenericClient,
    effects: &Effects,
    shared: &Shared,
) -> Result<Option<u64>> {
    let mut revision = None;
    let mut messages = Vec::new();
    if effects.rendered_inputs {
        let bumped: i64 = tx
            .query_one("UPDATE revision SET value = value + 1 RETURNING value", &[])
            .await?
            .get(0);
        shared.round_trips.fetch_add(1, Ordering::Relaxed);
        revision = Some(bumped as u64);
        messages.push(listen::Message::Revision(bumped as u64));
    }
    match effects.devices.as_slice() {
        [] => {}
        [mac] => messages.push(listen::Message::Device(*mac)),
        many => messages.extend(
            many.chunks(MACS_PER_NOTIFICATION)
                .map(|macs| listen::Message::Devices(macs.to_vec())),
        ),
    }
    if let Some(digest) = &effects.site_files {
        messages.push(listen::Message::SiteFiles(digest.clone()));
    }
    if let Some(until) = effects.ban_end {
        messages.push(listen::Message::BanEnd(until));
    }
    for message in messages {
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&CHANNEL, &message.to_string()],
        )
        .await?;
        shared.round_trips.fetch_add(1, Ordering::Relaxed);
    }
    Ok(revision)
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        connect::unavailable_or(e)
    }
}

/// The first key after every key that starts with `prefix`; none when there is no such key.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
