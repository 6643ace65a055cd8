//! A backend in memory, for tests: the storage interface's rules with nothing underneath, so
//! the generic storage suite can tell the interface's promises from sled's behaviour, and
//! operations can be tested without a data directory. Nothing survives the process.
//!
//! `reads.rs` and `writes.rs` implement the storage interface on the tables defined here.

mod accounts;
mod contacts;
mod imports;
mod keys;
mod outbox;
mod portal;
mod reads;
mod writes;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::backend::Change;
use crate::domain::Mac;
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ImportRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};

#[derive(Default)]
struct Tables {
    devices: BTreeMap<[u8; 6], DeviceRecord>,
    users: BTreeMap<String, UserRecord>,
    unregistered: BTreeMap<[u8; 6], UnregisteredRecord>,
    /// The seen-unregistered list by (last seen, MAC), and by (source, last seen, MAC).
    unregistered_by_seen: BTreeSet<(i64, [u8; 6])>,
    unregistered_by_source: BTreeSet<(String, i64, [u8; 6])>,
    uploads: BTreeMap<([u8; 6], String), (i64, Vec<u8>)>,
    login_tokens: BTreeMap<String, Mac>,
    guards: BTreeMap<String, GuardRecord>,
    sources: BTreeMap<String, SourceRecord>,
    audit: BTreeMap<u64, AuditRecord>,
    profiles: BTreeMap<String, ProfileRecord>,
    model_settings: BTreeMap<String, Layer>,
    settings: Settings,
    tokens: BTreeMap<String, TokenRecord>,
    next_audit_id: u64,
    imports: BTreeMap<u64, ImportRecord>,
    outbox: BTreeMap<u64, crate::model::MailRecord>,
    key_layers: BTreeMap<String, crate::keys::KeyLayer>,
    contacts: BTreeMap<crate::domain::ContactId, crate::model::ContactRecord>,
    accounts: BTreeMap<crate::domain::Username, crate::model::AccountRecord>,
    console_sessions: BTreeMap<String, crate::model::ConsoleSession>,
    portal_sessions: BTreeMap<String, crate::model::PortalSession>,
    links: BTreeMap<String, crate::model::LinkRecord>,
}

#[derive(Default)]
pub struct MemoryBackend {
    tables: Mutex<Tables>,
    revision: AtomicU64,
    latest_ban_end: AtomicI64,
    nonce_key: std::sync::RwLock<[u8; 32]>,
}

impl MemoryBackend {
    pub fn new() -> MemoryBackend {
        let mut nonce_key = [0u8; 32];
        rand::fill(&mut nonce_key);
        MemoryBackend {
            nonce_key: std::sync::RwLock::new(nonce_key),
            ..MemoryBackend::default()
        }
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().expect("memory backend lock")
    }

    fn changed_rendered_inputs(&self) {
        self.revision.fetch_add(1, Ordering::SeqCst);
    }
}

/// A page of `map` after `after` of those `keep` accepts, and whether more remain.
fn page<K: Ord + Clone, V: Clone>(
    map: &BTreeMap<K, V>,
    after: Option<K>,
    limit: usize,
    keep: impl Fn(&V) -> bool,
) -> (Vec<V>, bool) {
    use std::ops::Bound;
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    let mut found = Vec::new();
    for value in map.range((start, Bound::Unbounded)).map(|(_, v)| v) {
        if keep(value) {
            if found.len() == limit {
                return (found, true);
            }
            found.push(value.clone());
        }
    }
    (found, false)
}

/// Applies `change` to a copy, and stores it only if it differs.
fn update<K: Ord, V: Clone + PartialEq>(
    map: &mut BTreeMap<K, V>,
    key: &K,
    change: Change<'_, V>,
) -> Option<V> {
    let current = map.get_mut(key)?;
    let mut next = current.clone();
    change(&mut next);
    if next != *current {
        *current = next.clone();
    }
    Some(next)
}

fn token_key(token: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
