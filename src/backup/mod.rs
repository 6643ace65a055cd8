//! Backups: every durable record of a store as one file, and back (README "Backup and
//! restore"). `collect` reads the records through the storage interface, so any backend can be
//! backed up and restored into any other; `format` writes and checks the file (a versioned
//! header, one JSON line a record, a trailer with the SHA-256 of all before it, gzip around
//! it); `seal` encrypts it with a passphrase. Writing the records back is `ops::restore`.

pub mod format;
pub mod seal;

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::domain::Mac;
use crate::keys::KeyLayer;
use crate::model::{
    AccountRecord, AuditRecord, ConsoleSession, ContactRecord, DeviceRecord, GuardRecord,
    ImportRecord, LinkRecord, MailRecord, PortalSession, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};
use crate::store::{Reads, StoreError};

/// One record of the store. Secrets are in it as stored: PIN and password hashes, token
/// hashes, SIP and provisioning passwords.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
pub enum Entry {
    Settings(Settings),
    /// The key that signs Digest nonces, hex.
    NonceKey(String),
    Device(DeviceRecord),
    User(UserRecord),
    Profile(ProfileRecord),
    ModelSettings {
        model: String,
        settings: Layer,
    },
    /// A shared key layer: `site` or `model/<MODEL>`.
    KeyLayer {
        layer: String,
        keys: KeyLayer,
    },
    Contact(ContactRecord),
    Token(TokenRecord),
    Account(AccountRecord),
    ConsoleSession(ConsoleSession),
    PortalSession(PortalSession),
    /// A one-time link (invitation, PIN reset) not yet used, by the SHA-256 of its token.
    Link(LinkRecord),
    /// A mail of the outbox, queued, sent or given up, under its own id.
    Mail(MailRecord),
    /// A file a phone uploaded, its content in base64.
    Upload {
        mac: Mac,
        name: String,
        at: i64,
        content: String,
    },
    Unregistered(UnregisteredRecord),
    /// A counter of failed logins or wrong admin tokens, by its key.
    Guard {
        key: String,
        record: GuardRecord,
    },
    /// A source's enumeration counters and ban.
    Source {
        key: String,
        record: SourceRecord,
    },
    Import(ImportRecord),
    Audit(AuditRecord),
}

impl Entry {
    /// Its kind as in the file, for the header's counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Settings(_) => "settings",
            Entry::NonceKey(_) => "nonce_key",
            Entry::Device(_) => "device",
            Entry::User(_) => "user",
            Entry::Profile(_) => "profile",
            Entry::ModelSettings { .. } => "model_settings",
            Entry::KeyLayer { .. } => "key_layer",
            Entry::Contact(_) => "contact",
            Entry::Token(_) => "token",
            Entry::Account(_) => "account",
            Entry::ConsoleSession(_) => "console_session",
            Entry::PortalSession(_) => "portal_session",
            Entry::Link(_) => "link",
            Entry::Mail(_) => "mail",
            Entry::Upload { .. } => "upload",
            Entry::Unregistered(_) => "unregistered",
            Entry::Guard { .. } => "guard",
            Entry::Source { .. } => "source",
            Entry::Import(_) => "import",
            Entry::Audit(_) => "audit",
        }
    }

    pub fn upload(mac: Mac, name: String, at: i64, content: &[u8]) -> Entry {
        let content = base64::engine::general_purpose::STANDARD.encode(content);
        Entry::Upload {
            mac,
            name,
            at,
            content,
        }
    }
}

/// A backup's records and where in the store's history they were taken.
pub struct Snapshot {
    /// The store's revision when it was taken (it counts within one server process).
    pub revision: u64,
    pub entries: Vec<Entry>,
}

impl Snapshot {
    /// How many records of each kind.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for entry in &self.entries {
            *counts.entry(entry.kind().to_string()).or_default() += 1;
        }
        counts
    }

    /// The newest audit record's id: every admin change up to it is in the backup.
    pub fn last_audit_id(&self) -> Option<u64> {
        self.entries
            .iter()
            .filter_map(|entry| match entry {
                Entry::Audit(record) => Some(record.id),
                _ => None,
            })
            .max()
    }
}

/// Page size for the kinds read in pages.
const PAGE: usize = 1000;

/// Every record in `reads`. Consistent only while nobody writes (the caller holds the write
/// lock); the login-token index is left out, as restoring the devices rebuilds it.
pub async fn collect(reads: &dyn Reads) -> Result<Snapshot, StoreError> {
    let revision = reads.revision();
    let mut entries = vec![
        Entry::Settings(reads.settings().await?),
        Entry::NonceKey(hex(&reads.nonce_key())),
    ];
    collect_devices(reads, &mut entries).await?;
    collect_users(reads, &mut entries).await?;
    entries.extend(reads.profiles().await?.into_iter().map(Entry::Profile));
    let model_settings = reads.all_model_settings().await?.into_iter();
    entries
        .extend(model_settings.map(|(model, settings)| Entry::ModelSettings { model, settings }));
    let layers = reads.all_shared_keys().await?.into_iter();
    entries.extend(layers.map(|(layer, keys)| Entry::KeyLayer { layer, keys }));
    collect_contacts(reads, &mut entries).await?;
    entries.extend(reads.tokens().await?.into_iter().map(Entry::Token));
    collect_accounts(reads, &mut entries).await?;
    let unregistered = reads.unregistered().await?.into_iter();
    entries.extend(unregistered.map(Entry::Unregistered));
    let guards = reads.guards("").await?.into_iter();
    entries.extend(guards.map(|(key, record)| Entry::Guard { key, record }));
    let sources = reads.sources().await?.into_iter();
    entries.extend(sources.map(|(key, record)| Entry::Source { key, record }));
    collect_imports(reads, &mut entries).await?;
    collect_outbox(reads, &mut entries).await?;
    collect_audit(reads, &mut entries).await?;
    Ok(Snapshot { revision, entries })
}

/// The users, each followed by their portal sessions, and the one-time links.
async fn collect_users(reads: &dyn Reads, entries: &mut Vec<Entry>) -> Result<(), StoreError> {
    for user in reads.users().await? {
        let sessions = reads.portal_sessions_of(&user.extension).await?;
        entries.push(Entry::User(user));
        entries.extend(sessions.into_iter().map(Entry::PortalSession));
    }
    entries.extend(reads.links().await?.into_iter().map(Entry::Link));
    Ok(())
}

/// Oldest first, so that a restore queues them in their order.
async fn collect_outbox(reads: &dyn Reads, entries: &mut Vec<Entry>) -> Result<(), StoreError> {
    let mails = every_page(
        |mail: &MailRecord| mail.id,
        |before| reads.mails_page(before, PAGE, None),
    )
    .await?;
    entries.extend(mails.into_iter().rev().map(Entry::Mail));
    Ok(())
}

/// Every record of a read that comes in pages, in their order: `page` reads the page after
/// the cursor (none: the first), `cursor` gives a record's.
async fn every_page<T, C, Page>(
    cursor: impl Fn(&T) -> C,
    mut page: impl FnMut(Option<C>) -> Page,
) -> Result<Vec<T>, StoreError>
where
    Page: std::future::Future<Output = Result<(Vec<T>, bool), StoreError>>,
{
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (records, more) = page(after.take()).await?;
        after = records.last().map(&cursor);
        all.extend(records);
        if !more {
            return Ok(all);
        }
    }
}

async fn collect_devices(reads: &dyn Reads, entries: &mut Vec<Entry>) -> Result<(), StoreError> {
    let devices = reads.devices().await?;
    for device in &devices {
        for (name, _, at) in reads.uploads(device.mac).await? {
            if let Some(content) = reads.upload(device.mac, &name).await? {
                entries.push(Entry::upload(device.mac, name, at, &content));
            }
        }
    }
    entries.extend(devices.into_iter().map(Entry::Device));
    Ok(())
}

async fn collect_contacts(reads: &dyn Reads, entries: &mut Vec<Entry>) -> Result<(), StoreError> {
    let contacts = every_page(
        |contact: &ContactRecord| contact.id.clone(),
        |after| async move { reads.contacts_page(after.as_ref(), PAGE).await },
    )
    .await?;
    entries.extend(contacts.into_iter().map(Entry::Contact));
    Ok(())
}

async fn collect_accounts(reads: &dyn Reads, entries: &mut Vec<Entry>) -> Result<(), StoreError> {
    for account in reads.accounts().await? {
        let sessions = reads.console_sessions_of(&account.username).await?;
        entries.push(Entry::Account(account));
        entries.extend(sessions.into_iter().map(Entry::ConsoleSession));
    }
    Ok(())
}

async fn collect_imports(reads: &dyn Reads, entries: &mut Vec<Entry>) -> Result<(), StoreError> {
    let jobs = every_page(
        |job: &ImportRecord| job.id,
        |before| reads.import_jobs(before, PAGE),
    )
    .await?;
    entries.extend(jobs.into_iter().map(Entry::Import));
    Ok(())
}

/// Oldest first, as they were appended.
async fn collect_audit(reads: &dyn Reads, entries: &mut Vec<Entry>) -> Result<(), StoreError> {
    let records = every_page(
        |record: &AuditRecord| record.id,
        |before| async move { reads.audit(before, PAGE, &|_| true).await },
    )
    .await?;
    entries.extend(records.into_iter().rev().map(Entry::Audit));
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of `text` in hex, when it is exactly `N` of them.
pub fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; N];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(bytes)
}

/// Whether the store holds nothing but what a new store has (the default settings and its
/// nonce key): restoring into anything else would mix two sites.
pub async fn is_empty(reads: &dyn Reads) -> Result<bool, StoreError> {
    let snapshot = collect(reads).await?;
    let fresh = serde_json::to_value(Settings::default()).expect("settings serialise");
    Ok(snapshot.entries.iter().all(|entry| match entry {
        Entry::NonceKey(_) => true,
        Entry::Settings(settings) => serde_json::to_value(settings).ok() == Some(fresh.clone()),
        _ => false,
    }))
}
