//! A backend in memory, for tests: the storage interface's rules with nothing underneath, so
//! the generic storage suite can tell the interface's promises from sled's behaviour, and
//! operations can be tested without a data directory. Nothing survives the process.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::backend::{Change, Keep, Reads, Writes};
use super::{DeviceSnapshot, Result};
use crate::domain::{Extension, Mac, ProfileName, Secret};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};

#[derive(Default)]
struct Tables {
    devices: BTreeMap<[u8; 6], DeviceRecord>,
    users: BTreeMap<String, UserRecord>,
    unregistered: BTreeMap<[u8; 6], UnregisteredRecord>,
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
}

#[derive(Default)]
pub struct MemoryBackend {
    tables: Mutex<Tables>,
    revision: AtomicU64,
    latest_ban_end: AtomicI64,
    nonce_key: [u8; 32],
}

impl MemoryBackend {
    pub fn new() -> MemoryBackend {
        let mut nonce_key = [0u8; 32];
        rand::fill(&mut nonce_key);
        MemoryBackend {
            nonce_key,
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

#[async_trait]
impl Reads for MemoryBackend {
    fn revision(&self) -> u64 {
        self.revision.load(Ordering::SeqCst)
    }

    fn any_ban_reaches(&self, now: i64) -> bool {
        self.latest_ban_end.load(Ordering::SeqCst) > now
    }

    fn nonce_key(&self) -> [u8; 32] {
        self.nonce_key
    }

    async fn device(&self, mac: Mac) -> Result<Option<DeviceRecord>> {
        Ok(self.tables().devices.get(&mac.octets()).cloned())
    }

    async fn device_snapshot(&self, mac: Mac) -> Result<Option<Arc<DeviceSnapshot>>> {
        let device = self.tables().devices.get(&mac.octets()).cloned();
        Ok(device.map(|d| Arc::new(DeviceSnapshot::of(d))))
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        Ok(self.tables().devices.values().cloned().collect())
    }

    async fn devices_page(
        &self,
        after: Option<Mac>,
        limit: usize,
        keep: Keep<'_, DeviceRecord>,
    ) -> Result<(Vec<DeviceRecord>, bool)> {
        let tables = self.tables();
        Ok(page(
            &tables.devices,
            after.map(|m| m.octets()),
            limit,
            keep,
        ))
    }

    async fn device_by_login_token(&self, token: &str) -> Result<Option<DeviceRecord>> {
        let tables = self.tables();
        let mac = tables.login_tokens.get(&token_key(token));
        Ok(mac.and_then(|mac| tables.devices.get(&mac.octets()).cloned()))
    }

    async fn user(&self, extension: &Extension) -> Result<Option<UserRecord>> {
        Ok(self.tables().users.get(extension.as_str()).cloned())
    }

    async fn users(&self) -> Result<Vec<UserRecord>> {
        Ok(self.tables().users.values().cloned().collect())
    }

    async fn users_page(
        &self,
        after: Option<&Extension>,
        limit: usize,
    ) -> Result<(Vec<UserRecord>, bool)> {
        let tables = self.tables();
        let after = after.map(|e| e.as_str().to_string());
        Ok(page(&tables.users, after, limit, |_| true))
    }

    async fn unregistered(&self) -> Result<Vec<UnregisteredRecord>> {
        Ok(self.tables().unregistered.values().cloned().collect())
    }

    async fn unregistered_page(
        &self,
        after: Option<Mac>,
        limit: usize,
    ) -> Result<(Vec<UnregisteredRecord>, bool)> {
        let tables = self.tables();
        Ok(page(
            &tables.unregistered,
            after.map(|m| m.octets()),
            limit,
            |_| true,
        ))
    }

    async fn unregistered_device(&self, mac: Mac) -> Result<Option<UnregisteredRecord>> {
        Ok(self.tables().unregistered.get(&mac.octets()).cloned())
    }

    async fn upload(&self, mac: Mac, name: &str) -> Result<Option<Vec<u8>>> {
        let key = (mac.octets(), name.to_string());
        Ok(self.tables().uploads.get(&key).map(|(_, c)| c.clone()))
    }

    async fn uploads(&self, mac: Mac) -> Result<Vec<(String, usize, i64)>> {
        let tables = self.tables();
        Ok(tables
            .uploads
            .iter()
            .filter(|((m, _), _)| *m == mac.octets())
            .map(|((_, name), (at, content))| (name.clone(), content.len(), *at))
            .collect())
    }

    async fn guard(&self, key: &str) -> Result<GuardRecord> {
        Ok(self.tables().guards.get(key).cloned().unwrap_or_default())
    }

    async fn guards(&self, prefix: &str) -> Result<Vec<(String, GuardRecord)>> {
        let tables = self.tables();
        Ok(tables
            .guards
            .iter()
            .filter_map(|(k, g)| Some((k.strip_prefix(prefix)?.to_string(), g.clone())))
            .collect())
    }

    async fn source(&self, key: &str) -> Result<Option<SourceRecord>> {
        Ok(self.tables().sources.get(key).cloned())
    }

    async fn sources(&self) -> Result<Vec<(String, SourceRecord)>> {
        let tables = self.tables();
        Ok(tables
            .sources
            .iter()
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect())
    }

    async fn audit(
        &self,
        before: Option<u64>,
        limit: usize,
        keep: Keep<'_, AuditRecord>,
    ) -> Result<(Vec<AuditRecord>, bool)> {
        let tables = self.tables();
        let mut found = Vec::new();
        let older = tables.audit.range(..before.unwrap_or(u64::MAX)).rev();
        for (_, record) in older {
            if keep(record) {
                if found.len() == limit {
                    return Ok((found, true));
                }
                found.push(record.clone());
            }
        }
        Ok((found, false))
    }

    async fn profile(&self, name: &ProfileName) -> Result<Option<ProfileRecord>> {
        Ok(self.tables().profiles.get(name.as_str()).cloned())
    }

    async fn profiles(&self) -> Result<Vec<ProfileRecord>> {
        Ok(self.tables().profiles.values().cloned().collect())
    }

    async fn model_settings(&self, model: &str) -> Result<Layer> {
        Ok(self
            .tables()
            .model_settings
            .get(model)
            .cloned()
            .unwrap_or_default())
    }

    async fn all_model_settings(&self) -> Result<Vec<(String, Layer)>> {
        let tables = self.tables();
        Ok(tables
            .model_settings
            .iter()
            .map(|(k, l)| (k.clone(), l.clone()))
            .collect())
    }

    async fn settings(&self) -> Result<Settings> {
        Ok(self.tables().settings.clone())
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        Ok(self.tables().tokens.values().cloned().collect())
    }

    async fn has_tokens(&self) -> Result<bool> {
        Ok(!self.tables().tokens.is_empty())
    }
}

#[async_trait]
impl Writes for MemoryBackend {
    async fn insert_device(&self, record: &DeviceRecord) -> Result<bool> {
        let mut tables = self.tables();
        let key = record.mac.octets();
        if tables.devices.contains_key(&key) {
            return Ok(false);
        }
        tables.devices.insert(key, record.clone());
        Ok(true)
    }

    async fn update_device(
        &self,
        mac: Mac,
        change: Change<'_, DeviceRecord>,
    ) -> Result<Option<DeviceRecord>> {
        Ok(update(&mut self.tables().devices, &mac.octets(), change))
    }

    async fn remove_device(&self, mac: Mac) -> Result<bool> {
        Ok(self.tables().devices.remove(&mac.octets()).is_some())
    }

    async fn merge_devices(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
    ) -> Result<()> {
        let mut tables = self.tables();
        for record in records {
            match tables.devices.get_mut(&record.mac.octets()) {
                Some(stored) => merge(stored, record),
                None => {
                    tables.devices.insert(record.mac.octets(), record.clone());
                }
            }
        }
        Ok(())
    }

    async fn put_devices(&self, records: &[DeviceRecord]) -> Result<()> {
        let mut tables = self.tables();
        for record in records {
            tables.devices.insert(record.mac.octets(), record.clone());
        }
        Ok(())
    }

    async fn index_login_token(&self, token: &Secret, mac: Mac) -> Result<()> {
        self.tables()
            .login_tokens
            .insert(token_key(token.expose()), mac);
        Ok(())
    }

    async fn unindex_login_token(&self, token: &Secret) -> Result<()> {
        self.tables()
            .login_tokens
            .remove(&token_key(token.expose()));
        Ok(())
    }

    async fn insert_user(&self, record: &UserRecord) -> Result<bool> {
        let key = record.extension.as_str().to_string();
        let inserted = {
            let mut tables = self.tables();
            let new = !tables.users.contains_key(&key);
            if new {
                tables.users.insert(key, record.clone());
            }
            new
        };
        self.changed_rendered_inputs();
        Ok(inserted)
    }

    async fn update_user(
        &self,
        extension: &Extension,
        change: Change<'_, UserRecord>,
    ) -> Result<Option<UserRecord>> {
        let mut rendered_changed = false;
        let updated = {
            let mut tables = self.tables();
            update(
                &mut tables.users,
                &extension.as_str().to_string(),
                &mut |u| {
                    let before = u.rendered_part();
                    change(u);
                    rendered_changed = before != u.rendered_part();
                },
            )
        };
        if rendered_changed {
            self.changed_rendered_inputs();
        }
        Ok(updated)
    }

    async fn remove_user(&self, extension: &Extension) -> Result<bool> {
        let removed = self.tables().users.remove(extension.as_str()).is_some();
        self.changed_rendered_inputs();
        Ok(removed)
    }

    async fn put_users(&self, records: &[UserRecord]) -> Result<()> {
        {
            let mut tables = self.tables();
            for record in records {
                let key = record.extension.as_str().to_string();
                tables.users.insert(key, record.clone());
            }
        }
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn update_unregistered(
        &self,
        mac: Mac,
        change: Change<'_, UnregisteredRecord>,
    ) -> Result<Option<UnregisteredRecord>> {
        Ok(update(
            &mut self.tables().unregistered,
            &mac.octets(),
            change,
        ))
    }

    async fn insert_unregistered(&self, record: &UnregisteredRecord, cap: usize) -> Result<()> {
        let mut tables = self.tables();
        let key = record.mac.octets();
        if tables.unregistered.contains_key(&key) {
            return Ok(());
        }
        tables.unregistered.insert(key, record.clone());
        let excess = tables.unregistered.len().saturating_sub(cap);
        let mut entries: Vec<_> = tables.unregistered.values().cloned().collect();
        entries.sort_by_key(|e| (e.last_seen, e.mac));
        for stale in entries.iter().filter(|e| e.mac != record.mac).take(excess) {
            tables.unregistered.remove(&stale.mac.octets());
        }
        Ok(())
    }

    async fn remove_unregistered(&self, mac: Mac) -> Result<bool> {
        Ok(self.tables().unregistered.remove(&mac.octets()).is_some())
    }

    async fn put_upload(
        &self,
        mac: Mac,
        name: &str,
        content: &[u8],
        now: i64,
        cap: usize,
    ) -> Result<()> {
        let mut tables = self.tables();
        let key = (mac.octets(), name.to_string());
        tables.uploads.insert(key, (now, content.to_vec()));
        let mut files: Vec<(String, usize, i64)> = tables
            .uploads
            .iter()
            .filter(|((m, _), _)| *m == mac.octets())
            .map(|((_, n), (at, c))| (n.clone(), c.len(), *at))
            .collect();
        files.sort_by_key(|(n, _, at)| (*at, n.clone()));
        let mut total: usize = files.iter().map(|(_, size, _)| size).sum();
        for (old, size, _) in files.iter().filter(|(n, _, _)| n != name) {
            if total <= cap {
                break;
            }
            tables.uploads.remove(&(mac.octets(), old.clone()));
            total -= size;
        }
        Ok(())
    }

    async fn remove_uploads(&self, mac: Mac) -> Result<()> {
        self.tables().uploads.retain(|(m, _), _| *m != mac.octets());
        Ok(())
    }

    async fn update_guard(
        &self,
        key: &str,
        change: Change<'_, GuardRecord>,
    ) -> Result<GuardRecord> {
        let mut tables = self.tables();
        let guard = tables.guards.entry(key.to_string()).or_default();
        change(guard);
        Ok(guard.clone())
    }

    async fn remove_guard(&self, key: &str) -> Result<()> {
        self.tables().guards.remove(key);
        Ok(())
    }

    async fn prune_guards(&self, now: i64, keep_secs: i64) -> Result<usize> {
        let mut tables = self.tables();
        let before = tables.guards.len();
        tables.guards.retain(|_, g| !g.is_quiet(now, keep_secs));
        Ok(before - tables.guards.len())
    }

    async fn update_source(
        &self,
        key: &str,
        change: Change<'_, SourceRecord>,
    ) -> Result<SourceRecord> {
        let mut tables = self.tables();
        let source = tables.sources.entry(key.to_string()).or_default();
        change(source);
        self.latest_ban_end
            .fetch_max(source.banned_until, Ordering::SeqCst);
        Ok(source.clone())
    }

    async fn remove_source(&self, key: &str) -> Result<bool> {
        Ok(self.tables().sources.remove(key).is_some())
    }

    async fn prune_sources(
        &self,
        now: i64,
        window_secs: i64,
        remember_bans_secs: i64,
    ) -> Result<usize> {
        let mut tables = self.tables();
        let before = tables.sources.len();
        tables
            .sources
            .retain(|_, s| !s.is_quiet(now, window_secs, remember_bans_secs));
        Ok(before - tables.sources.len())
    }

    async fn append_audit(&self, mut record: AuditRecord) -> Result<AuditRecord> {
        let mut tables = self.tables();
        tables.next_audit_id += 1;
        record.id = tables.next_audit_id;
        tables.audit.insert(record.id, record.clone());
        Ok(record)
    }

    async fn trim_audit(&self, max: usize, kept_kind: &str) -> Result<usize> {
        let mut tables = self.tables();
        let excess = tables.audit.len().saturating_sub(max);
        let mut doomed: Vec<u64> = tables
            .audit
            .values()
            .filter(|r| r.kind != kept_kind)
            .map(|r| r.id)
            .take(excess)
            .collect();
        let kept_too = excess - doomed.len();
        doomed.extend(
            tables
                .audit
                .keys()
                .filter(|id| !doomed.contains(id))
                .take(kept_too)
                .copied()
                .collect::<Vec<_>>(),
        );
        for id in &doomed {
            tables.audit.remove(id);
        }
        Ok(doomed.len())
    }

    async fn insert_profile(&self, record: &ProfileRecord) -> Result<bool> {
        let key = record.name.as_str().to_string();
        let inserted = {
            let mut tables = self.tables();
            let new = !tables.profiles.contains_key(&key);
            if new {
                tables.profiles.insert(key, record.clone());
            }
            new
        };
        self.changed_rendered_inputs();
        Ok(inserted)
    }

    async fn put_profile(&self, record: &ProfileRecord) -> Result<()> {
        let key = record.name.as_str().to_string();
        self.tables().profiles.insert(key, record.clone());
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn remove_profile(&self, name: &ProfileName) -> Result<bool> {
        let removed = self.tables().profiles.remove(name.as_str()).is_some();
        self.changed_rendered_inputs();
        Ok(removed)
    }

    async fn put_model_settings(&self, model: &str, layer: &Layer) -> Result<()> {
        {
            let mut tables = self.tables();
            if layer.is_empty() {
                tables.model_settings.remove(model);
            } else {
                tables
                    .model_settings
                    .insert(model.to_string(), layer.clone());
            }
        }
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn put_settings(&self, settings: &Settings) -> Result<()> {
        self.tables().settings = settings.clone();
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn insert_token(&self, record: &TokenRecord) -> Result<bool> {
        let mut tables = self.tables();
        if tables.tokens.contains_key(&record.name) {
            return Ok(false);
        }
        tables.tokens.insert(record.name.clone(), record.clone());
        Ok(true)
    }

    async fn remove_token(&self, name: &str) -> Result<bool> {
        Ok(self.tables().tokens.remove(name).is_some())
    }

    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}
