//! The sled backend's writes: inserts of new keys only, compare-and-swap updates, batches and
//! transactions, the bounded trees pruned as they grow, and the flush that makes it all durable.

use async_trait::async_trait;
use sled::transaction::TransactionError;

use super::{NONCE_KEY, SETTINGS_KEY, SledBackend, decode, encode, token_key, upload_key};
use crate::domain::{Extension, Mac, ProfileName, Secret};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredLimits, UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};
use crate::store::Result;
use crate::store::backend::{Change, Reads, TrimRank, Writes};

#[async_trait]
impl Writes for SledBackend {
    /// Inserts a new device; `false` if the MAC is already registered (nothing written).
    async fn insert_device(&self, record: &DeviceRecord) -> Result<bool> {
        let mac = record.mac;
        let inserted = self
            .devices
            .write_one(mac, |tree| self.insert_new(tree, &mac.octets(), record))?;
        if inserted {
            self.devices.note_sessions([record]);
        }
        Ok(inserted)
    }

    /// Applies `change` atomically to the device, retrying on concurrent writes, and writes
    /// only if the record changed. `None` if there is no such device.
    async fn update_device(
        &self,
        mac: Mac,
        change: Change<'_, DeviceRecord>,
    ) -> Result<Option<DeviceRecord>> {
        let updated = self
            .devices
            .write_one(mac, |tree| self.update(tree, &mac.octets(), change))?;
        let updated = updated.map(|(d, ())| d);
        self.devices.note_sessions(&updated);
        Ok(updated)
    }

    async fn remove_device(&self, mac: Mac) -> Result<bool> {
        let removed = self
            .devices
            .write_one(mac, |tree| tree.remove(mac.octets()))?;
        Ok(removed.is_some())
    }

    /// Writes every record in one transaction: a new MAC as given, an existing one through
    /// `merge(stored, given)`, so what phones wrote meanwhile (last seen, claim, login token) stays.
    async fn merge_devices(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
    ) -> Result<()> {
        let outcome = self.devices.write_many(records, |tree| {
            tree.transaction(|tx| super::imports::merge_in(tx, records, merge))
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
        self.devices
            .write_many(records, |tree| tree.apply_batch(batch))?;
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

    async fn note_unregistered(
        &self,
        fresh: &UnregisteredRecord,
        change: Change<'_, UnregisteredRecord>,
        limits: UnregisteredLimits,
    ) -> Result<()> {
        self.note_unregistered_now(fresh, change, limits)
    }

    async fn remove_unregistered(&self, mac: Mac) -> Result<bool> {
        let _serial = self.unregistered_writes.lock().expect("unregistered lock");
        Ok(self.take_unregistered(mac)?.is_some())
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

    /// Ids come from [`SledBackend::next_audit_id`]; should one be taken already (sled's
    /// counter meeting the floor of a restored trail), the record takes the next.
    async fn append_audit(&self, mut record: AuditRecord) -> Result<AuditRecord> {
        loop {
            record.id = self.next_audit_id()?;
            if self.insert_new(&self.audit, &record.id.to_be_bytes(), &record)? {
                return Ok(record);
            }
        }
    }

    async fn put_audit(&self, record: &AuditRecord) -> Result<()> {
        self.put(&self.audit, &record.id.to_be_bytes(), record)
    }

    async fn trim_audit(&self, max: usize, rank: TrimRank<'_>) -> Result<usize> {
        let excess = self.audit.len().saturating_sub(max);
        if excess == 0 {
            return Ok(0);
        }
        let mut ranked = Vec::with_capacity(self.audit.len());
        for entry in self.audit.iter() {
            let (key, bytes) = entry?;
            let record: AuditRecord = decode(&key, &bytes)?;
            ranked.push((rank(&record.kind), key));
        }
        // Stable: within a rank, key (id) order, which is oldest first.
        ranked.sort_by_key(|(rank, _)| *rank);
        for (_, key) in ranked.into_iter().take(excess) {
            self.audit.remove(key)?;
        }
        Ok(excess)
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

    async fn touch_token(&self, name: &str, at: i64) -> Result<()> {
        self.update(&self.tokens, name.as_bytes(), |t: &mut TokenRecord| {
            t.last_used_at = Some(at);
        })?;
        Ok(())
    }

    async fn put_nonce_key(&self, key: [u8; 32]) -> Result<()> {
        self.meta.insert(NONCE_KEY, &key[..])?;
        *self.nonce_key.write().expect("nonce key lock") = key;
        Ok(())
    }

    /// Makes every write so far durable (against a process crash; see rust-stack.md §3.2).
    async fn flush(&self) -> Result<()> {
        // sled's flush_async can wait forever when many run at once (200 phones claiming
        // together never finished); its blocking flush, off the runtime, does not.
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| crate::store::StoreError::Database(format!("flush: {e}")))??;
        Ok(())
    }
}
