//! The in-memory backend's writes, each under the tables' lock: what sled does atomically
//! happens here at once.

use std::sync::atomic::Ordering;

use async_trait::async_trait;

use super::{MemoryBackend, Tables, token_key, update};
use crate::domain::{Extension, Mac, ProfileName, Secret};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredLimits, UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};
use crate::store::Result;
use crate::store::backend::{Change, TrimRank, Writes};

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

    async fn note_unregistered(
        &self,
        fresh: &UnregisteredRecord,
        change: Change<'_, UnregisteredRecord>,
        limits: UnregisteredLimits,
    ) -> Result<()> {
        let mut tables = self.tables();
        let key = fresh.mac.octets();
        let record = match tables.remove_unregistered(key) {
            Some(mut seen) => {
                change(&mut seen);
                seen.source.clone_from(&fresh.source);
                seen
            }
            None => fresh.clone(),
        };
        let source = record.source.clone().unwrap_or_default();
        tables.add_unregistered(record);
        let from_source = |t: &Tables| {
            t.unregistered_by_source
                .range((source.clone(), i64::MIN, [0; 6])..)
                .take_while(|(s, _, _)| *s == source)
                .map(|(_, _, mac)| *mac)
                .filter(|mac| *mac != key)
                .collect::<Vec<_>>()
        };
        let own = from_source(&tables);
        // `own` leaves out the entry just noted: the source holds one more than it lists.
        for stale in own
            .iter()
            .take((own.len() + 1).saturating_sub(limits.per_source))
        {
            tables.remove_unregistered(*stale);
        }
        while tables.unregistered.len() > limits.total {
            let Some(stalest) = tables
                .unregistered_by_seen
                .iter()
                .map(|(_, mac)| *mac)
                .find(|mac| *mac != key)
            else {
                break;
            };
            tables.remove_unregistered(stalest);
        }
        Ok(())
    }

    async fn remove_unregistered(&self, mac: Mac) -> Result<bool> {
        Ok(self.tables().remove_unregistered(mac.octets()).is_some())
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

    async fn put_audit(&self, record: &AuditRecord) -> Result<()> {
        let mut tables = self.tables();
        tables.next_audit_id = tables.next_audit_id.max(record.id);
        tables.audit.insert(record.id, record.clone());
        Ok(())
    }

    async fn trim_audit(&self, max: usize, rank: TrimRank<'_>) -> Result<usize> {
        let mut tables = self.tables();
        let excess = tables.audit.len().saturating_sub(max);
        let mut ranked: Vec<(u8, u64)> = tables
            .audit
            .values()
            .map(|r| (rank(&r.kind), r.id))
            .collect();
        // Stable: within a rank, id order, which is oldest first.
        ranked.sort_by_key(|(rank, _)| *rank);
        for (_, id) in ranked.into_iter().take(excess) {
            tables.audit.remove(&id);
        }
        Ok(excess)
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

    async fn touch_token(&self, name: &str, at: i64) -> Result<()> {
        if let Some(token) = self.tables().tokens.get_mut(name) {
            token.last_used_at = Some(at);
        }
        Ok(())
    }

    async fn put_nonce_key(&self, key: [u8; 32]) -> Result<()> {
        *self.nonce_key.write().expect("nonce key lock") = key;
        Ok(())
    }

    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}

impl Tables {
    fn add_unregistered(&mut self, record: UnregisteredRecord) {
        let key = record.mac.octets();
        let source = record.source.clone().unwrap_or_default();
        self.unregistered_by_seen.insert((record.last_seen, key));
        self.unregistered_by_source
            .insert((source, record.last_seen, key));
        self.unregistered.insert(key, record);
    }

    fn remove_unregistered(&mut self, key: [u8; 6]) -> Option<UnregisteredRecord> {
        let record = self.unregistered.remove(&key)?;
        let source = record.source.clone().unwrap_or_default();
        self.unregistered_by_seen.remove(&(record.last_seen, key));
        self.unregistered_by_source
            .remove(&(source, record.last_seen, key));
        Some(record)
    }
}
