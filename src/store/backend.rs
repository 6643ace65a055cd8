//! The storage interface: what every backend (sled embedded, PostgreSQL shared) provides, per
//! table, in typed records. Reads and writes are separate traits so that [`super::Store`] can
//! hand out reads to anyone and writes only through a [`super::Writer`].
//!
//! Rules every backend keeps (the generic test suite in tests/integration/storage.rs checks
//! them): an `insert_*` writes only a new key; an `update_*` applies its change atomically
//! (retrying it on a concurrent write, so it may run more than once) and writes only when the
//! record changed; `flush` makes every write so far durable; the revision grows after every
//! write of what rendered configs depend on besides the device record (users, settings,
//! profiles, model settings, key layers); the latest ban end is never earlier than any stored ban.

use std::sync::Arc;

use async_trait::async_trait;

use super::{DeviceSnapshot, Needle, Result};
use crate::domain::{ContactId, Extension, Mac, ProfileName, Secret, Username};
use crate::keys::{KeyLayer, SharedKeys};
use crate::model::{
    AccountRecord, AuditRecord, ConsoleSession, ContactRecord, DeviceRecord, GuardRecord,
    ImportRecord, LinkRecord, MailRecord, PortalSession, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredLimits, UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};

pub type Keep<'a, T> = &'a (dyn Fn(&T) -> bool + Send + Sync);
pub type Change<'a, T> = &'a mut (dyn FnMut(&mut T) + Send);
/// An audit record kind's retention rank: when the trail is trimmed, lower ranks go first.
pub type TrimRank<'a> = &'a (dyn Fn(&str) -> u8 + Send + Sync);

#[async_trait]
pub trait Reads:
    ImportReads + KeyReads + ContactReads + AccountReads + PortalReads + OutboxReads + Send + Sync
{
    /// Grows after every write of what rendered configs depend on besides the device record;
    /// read it before reading what a render uses.
    fn revision(&self) -> u64;
    /// Whether a source ban may be in force at `now`: false means no ban read is needed.
    fn any_ban_reaches(&self, now: i64) -> bool;
    /// The key that signs HTTP Digest nonces, the same for every node of a site.
    fn nonce_key(&self) -> [u8; 32];
    /// Whether the database answers: a cheap read that goes to it.
    async fn probe(&self) -> Result<()> {
        self.settings().await.map(|_| ())
    }
    /// Whether this node does the site's housekeeping (the hot-desk sweep, pruning, the mail
    /// sender): on a shared database the one node holding the lease, else always.
    fn runs_housekeeping(&self) -> bool {
        true
    }
    /// A file every node serves (firmware), as kept in a shared database; `None` on a store no
    /// other node shares (each node has its files on its disk).
    async fn shared_file(&self, _name: &str) -> Result<Option<SharedFile>> {
        Ok(None)
    }
    /// Every shared file's record.
    async fn shared_files(&self) -> Result<Vec<SharedFile>> {
        Ok(Vec::new())
    }
    /// Part `index` of a shared file's content.
    async fn shared_file_chunk(&self, _file: &SharedFile, _index: u32) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
    /// Whether other nodes share this store (a shared database).
    fn is_shared(&self) -> bool {
        false
    }
    /// The digest of the files every node must have alike (templates, the site CA) that the
    /// site's nodes agreed on; `None` on a store no other node shares.
    async fn site_files(&self) -> Result<Option<String>> {
        Ok(None)
    }
    /// Remembers this node's digest of those files, to compare with the site's when another
    /// node changes it.
    fn note_own_site_files(&self, _digest: &str) {}
    /// False while this node's files differ from the site's: it must not serve phones.
    fn site_files_match(&self) -> bool {
        true
    }
    /// Statements sent to a database server since start; `None` for an embedded store.
    fn round_trips(&self) -> Option<u64> {
        None
    }
    /// Of those, the phone path's device reads ([`Reads::device_snapshot`] not answered from
    /// memory); `None` for an embedded store.
    fn device_reads_sent(&self) -> Option<u64> {
        None
    }

    async fn device(&self, mac: Mac) -> Result<Option<DeviceRecord>>;
    /// The device decoded, and its render fingerprint, as stored now (a backend may keep
    /// decoded records while they are unchanged).
    async fn device_snapshot(&self, mac: Mac) -> Result<Option<Arc<DeviceSnapshot>>>;
    async fn devices(&self) -> Result<Vec<DeviceRecord>>;
    /// Devices in MAC order after `after` that `keep` accepts, at most `limit`; and whether
    /// more remain. Every device `keep` accepts holds `needle`, when given, so a backend may
    /// pass over undecoded the stored records that lack it.
    async fn devices_page(
        &self,
        after: Option<Mac>,
        limit: usize,
        needle: Option<Needle<'_>>,
        keep: Keep<'_, DeviceRecord>,
    ) -> Result<(Vec<DeviceRecord>, bool)>;
    /// Every device someone is logged in at (a hot-desk session), in MAC order. The sweeper
    /// asks every half minute, so a backend answers from an index of such devices rather than
    /// by reading every device.
    async fn devices_with_sessions(&self) -> Result<Vec<DeviceRecord>>;
    /// The device a login token was issued to (the caller compares the token with the
    /// device's current one: an index entry outlives a rotation until it is removed).
    async fn device_by_login_token(&self, token: &str) -> Result<Option<DeviceRecord>>;

    async fn user(&self, extension: &Extension) -> Result<Option<UserRecord>>;
    async fn users(&self) -> Result<Vec<UserRecord>>;
    /// Users in extension order (as text) after `after` that `keep` accepts, at most `limit`;
    /// and whether more remain.
    async fn users_page(
        &self,
        after: Option<&Extension>,
        limit: usize,
        keep: Keep<'_, UserRecord>,
    ) -> Result<(Vec<UserRecord>, bool)>;

    async fn unregistered(&self) -> Result<Vec<UnregisteredRecord>>;
    async fn unregistered_page(
        &self,
        after: Option<Mac>,
        limit: usize,
    ) -> Result<(Vec<UnregisteredRecord>, bool)>;
    async fn unregistered_device(&self, mac: Mac) -> Result<Option<UnregisteredRecord>>;

    async fn upload(&self, mac: Mac, name: &str) -> Result<Option<Vec<u8>>>;
    /// Name, size and time of each file the device uploaded.
    async fn uploads(&self, mac: Mac) -> Result<Vec<(String, usize, i64)>>;

    /// The counter under `key`, or a zero one.
    async fn guard(&self, key: &str) -> Result<GuardRecord>;
    /// The counters whose keys start with `prefix`, with the rest of their keys.
    async fn guards(&self, prefix: &str) -> Result<Vec<(String, GuardRecord)>>;

    async fn source(&self, key: &str) -> Result<Option<SourceRecord>>;
    async fn sources(&self) -> Result<Vec<(String, SourceRecord)>>;

    /// Records older than the id `before` (from the newest without) that `keep` accepts,
    /// newest first, at most `limit`; and whether more remain.
    async fn audit(
        &self,
        before: Option<u64>,
        limit: usize,
        keep: Keep<'_, AuditRecord>,
    ) -> Result<(Vec<AuditRecord>, bool)>;

    async fn profile(&self, name: &ProfileName) -> Result<Option<ProfileRecord>>;
    async fn profiles(&self) -> Result<Vec<ProfileRecord>>;
    async fn model_settings(&self, model: &str) -> Result<Layer>;
    async fn all_model_settings(&self) -> Result<Vec<(String, Layer)>>;
    async fn settings(&self) -> Result<Settings>;

    async fn tokens(&self) -> Result<Vec<TokenRecord>>;
    /// True while the store holds an admin token.
    async fn has_tokens(&self) -> Result<bool>;
}

#[async_trait]
pub trait Writes:
    ImportWrites + KeyWrites + ContactWrites + AccountWrites + PortalWrites + OutboxWrites + Send + Sync
{
    /// Inserts a new device; `false` if the MAC is already registered (nothing written).
    async fn insert_device(&self, record: &DeviceRecord) -> Result<bool>;
    /// The device after `change`; `None` if there is no such device.
    async fn update_device(
        &self,
        mac: Mac,
        change: Change<'_, DeviceRecord>,
    ) -> Result<Option<DeviceRecord>>;
    async fn remove_device(&self, mac: Mac) -> Result<bool>;
    /// Writes every record in one transaction: a new MAC as given, an existing one through
    /// `merge(stored, given)`.
    async fn merge_devices(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
    ) -> Result<()>;
    /// Writes the records as given, all or none.
    async fn put_devices(&self, records: &[DeviceRecord]) -> Result<()>;
    async fn index_login_token(&self, token: &Secret, mac: Mac) -> Result<()>;
    async fn unindex_login_token(&self, token: &Secret) -> Result<()>;

    async fn insert_user(&self, record: &UserRecord) -> Result<bool>;
    async fn update_user(
        &self,
        extension: &Extension,
        change: Change<'_, UserRecord>,
    ) -> Result<Option<UserRecord>>;
    async fn remove_user(&self, extension: &Extension) -> Result<bool>;
    /// Writes the records as given, all or none.
    async fn put_users(&self, records: &[UserRecord]) -> Result<()>;

    /// Records a sighting in the seen-unregistered list: `change` applied to the MAC's entry,
    /// or `fresh` added; either way the entry then counts against `fresh.source`. A source
    /// holding more than `limits.per_source` entries loses its own stalest, a list longer than
    /// `limits.total` its stalest: each found through an index by last-seen, never a scan.
    async fn note_unregistered(
        &self,
        fresh: &UnregisteredRecord,
        change: Change<'_, UnregisteredRecord>,
        limits: UnregisteredLimits,
    ) -> Result<()>;
    async fn remove_unregistered(&self, mac: Mac) -> Result<bool>;

    /// Stores a file the device uploaded, dropping its oldest others beyond `cap` bytes.
    async fn put_upload(
        &self,
        mac: Mac,
        name: &str,
        content: &[u8],
        now: i64,
        cap: usize,
    ) -> Result<()>;
    async fn remove_uploads(&self, mac: Mac) -> Result<()>;

    /// The counter after `change`, created when absent.
    async fn update_guard(&self, key: &str, change: Change<'_, GuardRecord>)
    -> Result<GuardRecord>;
    async fn remove_guard(&self, key: &str) -> Result<()>;
    /// Drops counters with nothing left to remember; how many.
    async fn prune_guards(&self, now: i64, keep_secs: i64) -> Result<usize>;

    /// The source after `change`, created when absent.
    async fn update_source(
        &self,
        key: &str,
        change: Change<'_, SourceRecord>,
    ) -> Result<SourceRecord>;
    async fn remove_source(&self, key: &str) -> Result<bool>;
    /// Drops sources with nothing left to remember; how many.
    async fn prune_sources(
        &self,
        now: i64,
        window_secs: i64,
        remember_bans_secs: i64,
    ) -> Result<usize>;

    /// Appends the record under a new id, which it returns with: above every stored id.
    async fn append_audit(&self, record: AuditRecord) -> Result<AuditRecord>;
    /// Stores the record under its own id, as it is (restoring a backup); ids appended later
    /// are above it.
    async fn put_audit(&self, record: &AuditRecord) -> Result<()>;
    /// Removes records beyond `max`: all of the lowest `rank` (oldest first) before any of a
    /// higher one.
    async fn trim_audit(&self, max: usize, rank: TrimRank<'_>) -> Result<usize>;

    async fn insert_profile(&self, record: &ProfileRecord) -> Result<bool>;
    async fn put_profile(&self, record: &ProfileRecord) -> Result<()>;
    async fn remove_profile(&self, name: &ProfileName) -> Result<bool>;
    async fn put_model_settings(&self, model: &str, layer: &Layer) -> Result<()>;
    async fn put_settings(&self, settings: &Settings) -> Result<()>;

    async fn insert_token(&self, record: &TokenRecord) -> Result<bool>;
    async fn remove_token(&self, name: &str) -> Result<bool>;
    /// Sets the token's `last_used_at`, if it still exists (a revoked token stays revoked).
    async fn touch_token(&self, name: &str, at: i64) -> Result<()>;

    /// Replaces the key that signs Digest nonces (restoring a backup, so that nonces a phone
    /// holds stay valid); a running server keeps the key it started with.
    async fn put_nonce_key(&self, key: [u8; 32]) -> Result<()>;

    /// Makes every write so far durable.
    async fn flush(&self) -> Result<()>;

    /// Stores part `index` of a shared file's content, not yet served: its record comes after.
    async fn put_shared_file_chunk(
        &self,
        _name: &str,
        _sha256: &str,
        _index: u32,
        _bytes: &[u8],
    ) -> Result<()> {
        Ok(())
    }
    /// Makes a shared file's stored parts the file of its name (the parts of an older content
    /// of that name go).
    async fn commit_shared_file(&self, _file: &SharedFile) -> Result<()> {
        Ok(())
    }
    /// Removes a shared file and its parts; whether there was one.
    async fn remove_shared_file(&self, _name: &str) -> Result<bool> {
        Ok(false)
    }

    /// Makes `digest` the site's files (and this node's), telling the other nodes.
    async fn put_site_files(&self, _digest: &str) -> Result<()> {
        Ok(())
    }

    /// Holds the write lock of every node of the site until the lease drops (on a shared
    /// database); `None` where this process is the only writer.
    async fn lease_writes(&self) -> Result<Option<WriteLease>> {
        Ok(None)
    }
}

/// A file every node of a site serves (firmware), kept in a shared database in parts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SharedFile {
    pub name: String,
    pub bytes: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub chunks: u32,
    pub uploaded_at: i64,
}

/// The size of a shared file's parts.
pub const SHARED_FILE_CHUNK: usize = 1024 * 1024;

/// What [`Writes::lease_writes`] hands out: dropping it releases the lock.
pub type WriteLease = Box<dyn std::any::Any + Send + Sync>;

/// The records of CSV import jobs (a backend implements them in their own file).
#[async_trait]
pub trait ImportReads: Send + Sync {
    /// Jobs with an id below `before` (from the newest without), newest first, at most
    /// `limit`; and whether more remain.
    async fn import_jobs(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<ImportRecord>, bool)>;
    async fn import_job(&self, id: u64) -> Result<Option<ImportRecord>>;
}

#[async_trait]
/// An import's rows and its final record are written all or none, a crash included: the rows
/// are written if and only if the record says so. Other readers may see the rows appear while
/// they are written (sled writes 100,000 of them in chunks, see its journal.rs).
pub trait ImportWrites: Send + Sync {
    /// Stores the job's record, dropping the oldest records beyond `keep`.
    async fn put_import_job(&self, job: &ImportRecord, keep: usize) -> Result<()>;
    /// [`Writes::put_users`] and the job's record.
    async fn put_users_imported(
        &self,
        records: &[UserRecord],
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()>;
    /// Contacts (new or replacing the stored ones) and the job's record.
    async fn put_contacts_imported(
        &self,
        records: &[ContactRecord],
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()>;
    /// [`Writes::merge_devices`] and the job's record.
    async fn merge_devices_imported(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()>;
}

/// A storage backend: reads and writes.
pub trait Backend: Reads + Writes {}

impl<T: Reads + Writes> Backend for T {}

/// The key layers no record carries: the site's and each model's (a device's, a profile's and
/// a user's keys are in their records). A backend implements them in their own file.
#[async_trait]
pub trait KeyReads: Send + Sync {
    /// The layer's keys; empty when none were set.
    async fn shared_keys(&self, layer: &SharedKeys) -> Result<KeyLayer>;
    /// Every layer that has keys, by [`SharedKeys::storage_key`].
    async fn all_shared_keys(&self) -> Result<Vec<(String, KeyLayer)>>;
}

#[async_trait]
pub trait KeyWrites: Send + Sync {
    /// Replaces the layer's keys (empty: removes them). Rendered files depend on them.
    async fn put_shared_keys(&self, layer: &SharedKeys, keys: &KeyLayer) -> Result<()>;
}

/// The phonebook's contacts (a backend implements them in their own file). Phonebooks are
/// rendered from them, so every write counts as one of what configs depend on.
#[async_trait]
pub trait ContactReads: Send + Sync {
    async fn contact(&self, id: &ContactId) -> Result<Option<ContactRecord>>;
    /// Contacts in id order after `after`, at most `limit`; and whether more remain.
    async fn contacts_page(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<ContactRecord>, bool)>;
    /// How many there are, for the limit on contacts.
    async fn contact_count(&self) -> Result<usize>;
}

#[async_trait]
pub trait ContactWrites: Send + Sync {
    /// Inserts a new contact; `false` if the id is taken (nothing written).
    async fn insert_contact(&self, record: &ContactRecord) -> Result<bool>;
    /// Replaces a stored contact; `false` if there is none.
    async fn replace_contact(&self, record: &ContactRecord) -> Result<bool>;
    async fn remove_contact(&self, id: &ContactId) -> Result<bool>;
}

/// Console accounts and their sessions (a backend implements them in their own file). Nothing
/// rendered depends on them.
#[async_trait]
pub trait AccountReads: Send + Sync {
    /// Every account, by name (a site has a handful).
    async fn accounts(&self) -> Result<Vec<AccountRecord>>;
    async fn account(&self, username: &Username) -> Result<Option<AccountRecord>>;
    async fn console_session(&self, id_sha256: &str) -> Result<Option<ConsoleSession>>;
    /// The account's sessions, oldest first.
    async fn console_sessions_of(&self, username: &Username) -> Result<Vec<ConsoleSession>>;
}

#[async_trait]
pub trait AccountWrites: Send + Sync {
    /// Inserts a new account; `false` if the name is taken (nothing written).
    async fn insert_account(&self, record: &AccountRecord) -> Result<bool>;
    /// Replaces a stored account; `false` if there is none.
    async fn replace_account(&self, record: &AccountRecord) -> Result<bool>;
    /// Removes an account; `false` if there is none. Its sessions are the caller's to end.
    async fn remove_account(&self, username: &Username) -> Result<bool>;
    async fn put_console_session(&self, session: &ConsoleSession) -> Result<()>;
    async fn remove_console_session(&self, id_sha256: &str) -> Result<bool>;
}

/// The self-service portal's sessions and one-time links (a backend implements them in their
/// own file). Nothing rendered depends on them.
#[async_trait]
pub trait PortalReads: Send + Sync {
    async fn portal_session(&self, id_sha256: &str) -> Result<Option<PortalSession>>;
    /// The user's sessions, oldest first.
    async fn portal_sessions_of(&self, extension: &Extension) -> Result<Vec<PortalSession>>;
    async fn link(&self, token_sha256: &str) -> Result<Option<LinkRecord>>;
    /// Every one-time link not yet used or removed, for a backup.
    async fn links(&self) -> Result<Vec<LinkRecord>>;
}

#[async_trait]
pub trait PortalWrites: Send + Sync {
    async fn put_portal_session(&self, session: &PortalSession) -> Result<()>;
    async fn remove_portal_session(&self, id_sha256: &str) -> Result<bool>;
    async fn put_link(&self, link: &LinkRecord) -> Result<()>;
    async fn remove_link(&self, token_sha256: &str) -> Result<bool>;
}

/// The mail outbox (a backend implements it in its own file). Nothing rendered depends on it.
#[async_trait]
pub trait OutboxReads: Send + Sync {
    async fn mail(&self, id: u64) -> Result<Option<MailRecord>>;
    /// Queued mails whose next attempt is at or before `now`, oldest first, at most `limit`.
    async fn mails_due(&self, now: i64, limit: usize) -> Result<Vec<MailRecord>>;
    /// Mails (about `user` only, when given) with an id below `before`, newest first, at most
    /// `limit`; and whether more remain.
    async fn mails_page(
        &self,
        before: Option<u64>,
        limit: usize,
        user: Option<&Extension>,
    ) -> Result<(Vec<MailRecord>, bool)>;
}

#[async_trait]
pub trait OutboxWrites: Send + Sync {
    /// Stores a new mail under a fresh id (larger than every earlier one, also across
    /// restarts), which it answers; the record's own `id` is ignored.
    async fn queue_mail(&self, mail: &MailRecord) -> Result<u64>;
    /// Stores a mail under its own id, as a backup holds it; later mails get larger ids.
    async fn restore_mail(&self, mail: &MailRecord) -> Result<()>;
    /// Replaces a stored mail (its state after an attempt); `false` if there is none.
    async fn replace_mail(&self, mail: &MailRecord) -> Result<bool>;
    /// Removes the mails sent or given up that were queued before `queued_before`; how many.
    async fn trim_mails(&self, queued_before: i64) -> Result<usize>;
}
