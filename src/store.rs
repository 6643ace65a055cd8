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

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::{
    DisplayName, Email, Extension, Label, Location, Mac, ModelId, PersonName, ProfileName, Secret,
    SipUser,
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

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelSource {
    /// Set by an admin: never overwritten by what a phone reports.
    Admin,
    /// Filled in from the phone's first request.
    Auto,
}

/// A phone reporting another model than the one on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelMismatch {
    pub reported_vendor: Option<String>,
    pub reported_model: String,
    pub at: i64,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub mac: Mac,
    pub vendor: Option<String>,
    pub model: Option<ModelId>,
    pub model_source: Option<ModelSource>,
    pub firmware: Option<String>,
    pub label: Option<Label>,
    /// Line (or DECT handset slot) number → the user on it.
    pub lines: BTreeMap<u16, Extension>,
    pub registered_at: i64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub last_address: Option<String>,
    pub model_mismatch: Option<ModelMismatch>,
    /// HTTP credentials the server writes into the device's config and then requires.
    pub provisioning_user: String,
    pub provisioning_password: Secret,
    /// When the claim window opened: at registration, or when an admin reset the claim.
    pub claim_opened_at: i64,
    /// The first successful unauthenticated fetch, and from where.
    pub claimed_at: Option<i64>,
    pub claimed_from: Option<String>,
    /// Users log in at this phone with extension and PIN.
    #[serde(default)]
    pub hotdesk: bool,
    /// The secret in the phone's Login and Logout URLs; replaced at every login and logout.
    #[serde(default)]
    pub login_token: Option<Secret>,
    /// Hot-desk logins: line (or DECT handset slot) → who is logged in there.
    #[serde(default)]
    pub sessions: BTreeMap<u16, Session>,
    /// Served only to a connection presenting the device's factory client certificate.
    #[serde(default)]
    pub certificate_required: bool,
    #[serde(default)]
    pub location: Option<Location>,
    /// The settings profile it inherits from, between the defaults and its model's settings.
    #[serde(default)]
    pub profile: Option<ProfileName>,
    /// Settings of this device alone: the last layer of inheritance.
    #[serde(default)]
    pub settings: Layer,
    /// Registered by adopting it from the seen-unregistered list after it asked for its files.
    #[serde(default)]
    pub adopted: bool,
}

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

/// Keyed per process, so nobody outside can aim records at a fingerprint collision.
static FINGERPRINT_KEYS: LazyLock<std::hash::RandomState> =
    LazyLock::new(std::hash::RandomState::new);

/// Feeds serde's output straight into a hasher, without building the bytes.
struct HashWriter<'a>(&'a mut std::hash::DefaultHasher);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl DeviceRecord {
    /// A hash of every field a rendered config can depend on (render_cache.rs). The facts
    /// phones report on each request (last seen, address, firmware, claim) are left out, so
    /// polling does not invalidate the device's cached file. Destructured field by field:
    /// a new field does not compile until someone decides whether configs depend on it.
    pub fn render_fingerprint(&self) -> u64 {
        let DeviceRecord {
            mac,
            vendor,
            model,
            model_source: _,
            firmware: _,
            label,
            lines,
            registered_at: _,
            first_seen: _,
            last_seen: _,
            last_address: _,
            model_mismatch: _,
            provisioning_user,
            provisioning_password,
            claim_opened_at: _,
            claimed_at: _,
            claimed_from: _,
            hotdesk,
            login_token,
            sessions,
            certificate_required: _,
            location: _,
            profile,
            settings,
            adopted: _,
        } = self;
        let inputs = (
            mac,
            vendor,
            model,
            label,
            lines,
            provisioning_user,
            provisioning_password,
            hotdesk,
            login_token,
            sessions,
            profile,
            settings,
        );
        let mut hasher = FINGERPRINT_KEYS.build_hasher();
        serde_json::to_writer(HashWriter(&mut hasher), &inputs).expect("records serialize to JSON");
        hasher.finish()
    }

    /// A device just registered: nothing known of it but its MAC, its claim window open.
    pub fn blank(mac: Mac, now: i64, provisioning_password: Secret) -> DeviceRecord {
        DeviceRecord {
            mac,
            vendor: None,
            model: None,
            model_source: None,
            firmware: None,
            label: None,
            lines: BTreeMap::new(),
            registered_at: now,
            first_seen: None,
            last_seen: None,
            last_address: None,
            model_mismatch: None,
            provisioning_user: mac.to_hex(),
            provisioning_password,
            claim_opened_at: now,
            claimed_at: None,
            claimed_from: None,
            hotdesk: false,
            certificate_required: false,
            login_token: None,
            sessions: BTreeMap::new(),
            location: None,
            profile: None,
            settings: Layer::new(),
            adopted: false,
        }
    }
}

/// A user logged in at a hot-desk phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub extension: Extension,
    pub since: i64,
}

/// Where a user is logged in. The device's [`Session`] is the truth; this pointer lets a login
/// elsewhere find the old phone without scanning, and is checked against the device before use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    pub mac: Mac,
    pub slot: u16,
}

/// Failed hot-desk logins counted for one extension, one device or all devices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardRecord {
    /// Failures since `window_start` (per device and global) or since the last success (user).
    pub failures: u32,
    pub window_start: i64,
    /// Logins are refused until then, without checking or counting.
    pub locked_until: i64,
    /// Lockouts since the last successful login: each doubles the next one.
    pub lockouts: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub extension: Extension,
    pub display_name: DisplayName,
    pub sip_user: SipUser,
    pub sip_password: Secret,
    pub created_at: i64,
    #[serde(default)]
    pub email: Option<Email>,
    /// argon2id PHC string of the hot-desk PIN; the PIN itself is never stored.
    #[serde(default)]
    pub pin_hash: Option<Secret>,
    /// The user must choose a new PIN at their next login.
    #[serde(default)]
    pub pin_change_required: bool,
    #[serde(default = "yes")]
    pub may_hotdesk: bool,
    /// Locked by an admin: no hot-desk login.
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub hotdesk_at: Option<SessionRef>,
    #[serde(default)]
    pub first_name: Option<PersonName>,
    #[serde(default)]
    pub last_name: Option<PersonName>,
    /// ISO 639-1 code: the menu language of a phone while this user is on its first line.
    #[serde(default)]
    pub language: Option<String>,
}

/// A named set of settings devices inherit from (a branch office, a floor, a device class).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub name: ProfileName,
    #[serde(default)]
    pub description: Option<Label>,
    pub settings: Layer,
    pub created_at: i64,
}

impl UserRecord {
    /// The fields rendered into the configs of the phones the user is on; the rest (PIN,
    /// where they are logged in, contact details) changes no config. Destructured so that a
    /// new field does not compile until someone decides.
    fn rendered_part(&self) -> impl PartialEq + use<> {
        let UserRecord {
            extension,
            display_name,
            sip_user,
            sip_password,
            created_at: _,
            email: _,
            pin_hash: _,
            pin_change_required: _,
            may_hotdesk: _,
            locked,
            hotdesk_at: _,
            first_name: _,
            last_name: _,
            language,
        } = self;
        (
            extension.clone(),
            display_name.clone(),
            sip_user.clone(),
            sip_password.clone(),
            *locked,
            language.clone(),
        )
    }
}

fn yes() -> bool {
    true
}

/// A MAC that asked for files but is not registered, with what its requests revealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnregisteredRecord {
    pub mac: Mac,
    pub vendor: Option<String>,
    pub model: Option<ModelId>,
    pub firmware: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub last_address: Option<String>,
    pub requests: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub name: String,
    /// SHA-256 of the token: the token itself is never stored.
    pub sha256: String,
    pub created_at: i64,
}

/// What one request source (an IPv4 address or an IPv6 /64) did lately on the phones' listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Distinct MACs whose files it was refused within the window, with when each was first asked:
    /// at most one more than the limit, so a sweep cannot grow the record.
    pub refused_macs: Vec<(Mac, i64)>,
    /// Every request from the source is refused until then.
    pub banned_until: i64,
    /// Bans so far: each doubles the next one.
    pub bans: u32,
    pub last_ban_at: i64,
}

/// One entry of the audit trail: an admin change or a security event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: u64,
    pub at: i64,
    pub kind: String,
    /// Who acted: an admin token's name, or `phone`.
    pub actor: String,
    /// Where from: the peer address.
    pub source: Option<String>,
    /// What it concerns: a MAC, an extension, a source, a token.
    pub subject: Option<String>,
    /// What happened, with secrets left out.
    pub detail: String,
}

#[derive(Clone)]
pub struct Store {
    /// Bumped after every write that can change a rendered config other than the device's
    /// own record: users, site settings, profiles, model settings (render_cache.rs).
    revision: Arc<AtomicU64>,
    decoded_devices: Arc<DecodedDevices>,
    /// The latest end of any source ban ever stored: past it, nobody is banned and the phone
    /// path need not read the sources tree (sources.rs).
    latest_ban_end: Arc<AtomicI64>,
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

    /// Makes every write so far durable (against a process crash; see rust-stack.md §3.2).
    pub async fn flush(&self) -> Result<()> {
        self.db.flush_async().await?;
        Ok(())
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

    /// Inserts a new device; `false` if the MAC is already registered (nothing written).
    pub fn insert_device(&self, record: &DeviceRecord) -> Result<bool> {
        self.insert_new(&self.devices, &record.mac.octets(), record)
    }

    /// Applies `change` atomically to the device, retrying on concurrent writes, and writes
    /// only if the record changed. `None` if there is no such device.
    pub fn update_device<T>(
        &self,
        mac: Mac,
        change: impl FnMut(&mut DeviceRecord) -> T,
    ) -> Result<Option<(DeviceRecord, T)>> {
        self.update(&self.devices, &mac.octets(), change)
    }

    pub fn remove_device(&self, mac: Mac) -> Result<bool> {
        Ok(self.devices.remove(mac.octets())?.is_some())
    }

    // ---- users ----

    pub fn user(&self, extension: &Extension) -> Result<Option<UserRecord>> {
        self.get(&self.users, extension.as_str().as_bytes())
    }

    pub fn users(&self) -> Result<Vec<UserRecord>> {
        self.all(&self.users)
    }

    pub fn insert_user(&self, record: &UserRecord) -> Result<bool> {
        let inserted =
            self.insert_new(&self.users, record.extension.as_str().as_bytes(), record)?;
        self.changed_rendered_inputs();
        Ok(inserted)
    }

    /// Like [`Store::update_device`]. A login or a PIN change leaves rendered configs valid;
    /// a change of what configs carry does not.
    pub fn update_user<T>(
        &self,
        extension: &Extension,
        mut change: impl FnMut(&mut UserRecord) -> T,
    ) -> Result<Option<(UserRecord, T)>> {
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
        Ok(updated)
    }

    pub fn remove_user(&self, extension: &Extension) -> Result<bool> {
        let removed = self.users.remove(extension.as_str().as_bytes())?.is_some();
        self.changed_rendered_inputs();
        Ok(removed)
    }

    // ---- seen but unregistered ----

    pub fn unregistered(&self) -> Result<Vec<UnregisteredRecord>> {
        self.all(&self.unregistered)
    }

    pub fn unregistered_device(&self, mac: Mac) -> Result<Option<UnregisteredRecord>> {
        self.get(&self.unregistered, &mac.octets())
    }

    pub fn update_unregistered<T>(
        &self,
        mac: Mac,
        change: impl FnMut(&mut UnregisteredRecord) -> T,
    ) -> Result<Option<(UnregisteredRecord, T)>> {
        self.update(&self.unregistered, &mac.octets(), change)
    }

    /// Records a newly seen MAC, evicting the longest-unseen entries beyond `cap` so that
    /// requests for made-up MACs cannot grow the database.
    pub fn insert_unregistered(&self, record: &UnregisteredRecord, cap: usize) -> Result<()> {
        if !self.insert_new(&self.unregistered, &record.mac.octets(), record)? {
            return Ok(());
        }
        let excess = self.unregistered.len().saturating_sub(cap);
        if excess > 0 {
            let mut entries = self.unregistered()?;
            entries.sort_by_key(|e| (e.last_seen, e.mac));
            for stale in entries.iter().filter(|e| e.mac != record.mac).take(excess) {
                self.unregistered.remove(stale.mac.octets())?;
            }
        }
        Ok(())
    }

    pub fn remove_unregistered(&self, mac: Mac) -> Result<bool> {
        Ok(self.unregistered.remove(mac.octets())?.is_some())
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

    /// Stores an upload, then drops the device's oldest other files until its total fits `cap`.
    pub fn put_upload(
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
        let mut files = self.uploads(mac)?;
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

    pub fn remove_uploads(&self, mac: Mac) -> Result<()> {
        for key in self.uploads.scan_prefix(mac.octets()).keys() {
            self.uploads.remove(key?)?;
        }
        Ok(())
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

    pub fn index_login_token(&self, token: &Secret, mac: Mac) -> Result<()> {
        self.login_tokens
            .insert(token_key(token.expose()), &mac.octets())?;
        Ok(())
    }

    pub fn unindex_login_token(&self, token: &Secret) -> Result<()> {
        self.login_tokens.remove(token_key(token.expose()))?;
        Ok(())
    }

    // ---- failed-login counters (keys: `user:<extension>`, `device:<mac>`, `global`) ----

    pub fn guard(&self, key: &str) -> Result<GuardRecord> {
        Ok(self
            .get(&self.login_guard, key.as_bytes())?
            .unwrap_or_default())
    }

    /// Applies `change` atomically to the counter, creating it when absent.
    pub fn update_guard<T>(
        &self,
        key: &str,
        change: impl FnMut(&mut GuardRecord) -> T,
    ) -> Result<(GuardRecord, T)> {
        self.upsert(&self.login_guard, key.as_bytes(), change)
    }

    pub fn remove_guard(&self, key: &str) -> Result<()> {
        self.login_guard.remove(key.as_bytes())?;
        Ok(())
    }

    /// Drops counters with nothing left to remember, so guesses at made-up extensions cannot
    /// grow the database.
    pub fn prune_guards(&self, now: i64, keep_secs: i64) -> Result<usize> {
        let mut removed = 0;
        for entry in self.login_guard.iter() {
            let (key, bytes) = entry?;
            let record: GuardRecord = decode(&key, &bytes)?;
            let quiet = record.locked_until <= now && record.window_start + keep_secs <= now;
            if quiet
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

    /// Applies `change` atomically to the source's record, creating it when absent.
    pub fn update_source<T>(
        &self,
        key: &str,
        mut change: impl FnMut(&mut SourceRecord) -> T,
    ) -> Result<(SourceRecord, T)> {
        // Noted before the write lands, so no request sees the ban stored but not noted; a
        // retried or failed write only makes requests check for a while.
        self.upsert(&self.sources, key.as_bytes(), |record| {
            let outcome = change(record);
            self.note_ban_end(record.banned_until);
            outcome
        })
    }

    fn note_ban_end(&self, until: i64) {
        self.latest_ban_end.fetch_max(until, Ordering::SeqCst);
    }

    /// Whether any source may be banned at `now`; `false` means surely none is.
    pub fn any_ban_reaches(&self, now: i64) -> bool {
        now < self.latest_ban_end.load(Ordering::SeqCst)
    }

    pub fn remove_source(&self, key: &str) -> Result<bool> {
        Ok(self.sources.remove(key.as_bytes())?.is_some())
    }

    /// Drops sources that are neither banned nor counting, and whose last ban is older than
    /// `remember_bans_secs` (until then a new ban still doubles), so a sweep from many addresses
    /// cannot grow the database.
    pub fn prune_sources(
        &self,
        now: i64,
        window_secs: i64,
        remember_bans_secs: i64,
    ) -> Result<usize> {
        let mut removed = 0;
        for entry in self.sources.iter() {
            let (key, bytes) = entry?;
            let record: SourceRecord = decode(&key, &bytes)?;
            let counting = record
                .refused_macs
                .iter()
                .any(|(_, at)| at + window_secs > now);
            let bans_forgotten = record.bans == 0 || record.last_ban_at + remember_bans_secs <= now;
            let quiet = record.banned_until <= now && !counting && bans_forgotten;
            if quiet
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

    // ---- audit trail (keys: a monotonic id, big-endian, so iteration is oldest first) ----

    pub fn append_audit(&self, mut record: AuditRecord) -> Result<AuditRecord> {
        record.id = self.db.generate_id()?;
        self.put(&self.audit, &record.id.to_be_bytes(), &record)?;
        Ok(record)
    }

    /// Newest first, those `keep` accepts, at most `limit`.
    pub fn audit(
        &self,
        limit: usize,
        mut keep: impl FnMut(&AuditRecord) -> bool,
    ) -> Result<Vec<AuditRecord>> {
        let mut found = Vec::new();
        for entry in self.audit.iter().rev() {
            let (key, bytes) = entry?;
            let record: AuditRecord = decode(&key, &bytes)?;
            if keep(&record) {
                found.push(record);
                if found.len() == limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Removes the oldest records beyond `max`: first those not of `kept_kind`, then, if that
    /// is not enough, the oldest of `kept_kind` too.
    pub fn trim_audit(&self, max: usize, kept_kind: &str) -> Result<usize> {
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

    // ---- settings profiles and model settings ----

    pub fn profile(&self, name: &ProfileName) -> Result<Option<ProfileRecord>> {
        self.get(&self.profiles, name.as_str().as_bytes())
    }

    pub fn profiles(&self) -> Result<Vec<ProfileRecord>> {
        self.all(&self.profiles)
    }

    pub fn insert_profile(&self, record: &ProfileRecord) -> Result<bool> {
        let inserted = self.insert_new(&self.profiles, record.name.as_str().as_bytes(), record)?;
        self.changed_rendered_inputs();
        Ok(inserted)
    }

    pub fn put_profile(&self, record: &ProfileRecord) -> Result<()> {
        self.put(&self.profiles, record.name.as_str().as_bytes(), record)?;
        self.changed_rendered_inputs();
        Ok(())
    }

    pub fn remove_profile(&self, name: &ProfileName) -> Result<bool> {
        let removed = self.profiles.remove(name.as_str().as_bytes())?.is_some();
        self.changed_rendered_inputs();
        Ok(removed)
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

    pub fn put_model_settings(&self, model: &str, layer: &Layer) -> Result<()> {
        if layer.is_empty() {
            self.model_settings.remove(model.as_bytes())?;
        } else {
            self.put(&self.model_settings, model.as_bytes(), layer)?;
        }
        self.changed_rendered_inputs();
        Ok(())
    }

    // ---- bulk writes: each batch is applied atomically, all or nothing ----

    pub fn put_users(&self, records: &[UserRecord]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for record in records {
            batch.insert(record.extension.as_str().as_bytes(), encode(record));
        }
        self.users.apply_batch(batch)?;
        self.changed_rendered_inputs();
        Ok(())
    }

    pub fn put_devices(&self, records: &[DeviceRecord]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for record in records {
            batch.insert(&record.mac.octets()[..], encode(record));
        }
        self.devices.apply_batch(batch)?;
        Ok(())
    }

    /// Writes every record in one transaction: a new MAC as given, an existing one through
    /// `merge(stored, given)`, so what phones wrote meanwhile (last seen, claim, login token) stays.
    pub fn merge_devices(
        &self,
        records: &[DeviceRecord],
        merge: fn(&mut DeviceRecord, &DeviceRecord),
    ) -> Result<()> {
        use sled::transaction::{ConflictableTransactionError, TransactionError};
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

    // ---- settings and admin tokens ----

    pub fn settings(&self) -> Result<Settings> {
        Ok(self.get(&self.meta, SETTINGS_KEY)?.unwrap_or_default())
    }

    pub fn put_settings(&self, settings: &Settings) -> Result<()> {
        self.put(&self.meta, SETTINGS_KEY, settings)?;
        self.changed_rendered_inputs();
        Ok(())
    }

    pub fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.all(&self.tokens)
    }

    pub fn insert_token(&self, record: &TokenRecord) -> Result<bool> {
        self.insert_new(&self.tokens, record.name.as_bytes(), record)
    }

    pub fn remove_token(&self, name: &str) -> Result<bool> {
        Ok(self.tokens.remove(name.as_bytes())?.is_some())
    }

    /// The synchronous flush, for start-up before the runtime serves anything.
    pub fn db_flush_blocking(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
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
            let store = Store::open(dir.path()).unwrap();
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
        let store = Store::open(dir.path()).unwrap();
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
        let store = Store::open(dir.path()).unwrap();
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
        let store = Store::open(dir.path()).unwrap();
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
