//! The sled backend's reads: records by key, pages in key order, device snapshots decoded once
//! per stored version, the revision, the latest ban end and the nonce key.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;

use super::{SETTINGS_KEY, SledBackend, decode, token_key, upload_key};
use crate::domain::{Extension, Mac, ProfileName};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};
use crate::store::backend::{Keep, Reads};
use crate::store::{DeviceSnapshot, Needle, Result};

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
        *self.nonce_key.read().expect("nonce key lock")
    }

    async fn device(&self, mac: Mac) -> Result<Option<DeviceRecord>> {
        self.get(self.devices.for_reading(), &mac.octets())
    }

    /// The device as stored now, decoded once per stored version (device_tree.rs): the phone
    /// path reads a device on every request.
    async fn device_snapshot(&self, mac: Mac) -> Result<Option<Arc<DeviceSnapshot>>> {
        self.devices.snapshot(mac)
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.all(self.devices.for_reading())
    }

    /// Devices in MAC order after `after` that `keep` accepts, at most `limit`; and whether
    /// more remain.
    async fn devices_page(
        &self,
        after: Option<Mac>,
        limit: usize,
        needle: Option<Needle<'_>>,
        keep: Keep<'_, DeviceRecord>,
    ) -> Result<(Vec<DeviceRecord>, bool)> {
        let after = after.map(|mac| mac.octets());
        self.page_of(
            self.devices.for_reading(),
            after.as_ref().map(|a| &a[..]),
            limit,
            needle.as_ref(),
            keep,
        )
    }

    /// From the index of devices with sessions (device_tree.rs), not the whole tree.
    async fn devices_with_sessions(&self) -> Result<Vec<DeviceRecord>> {
        self.devices.with_sessions().await
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

    /// Users in extension order (as text) after `after` that `keep` accepts, at most `limit`;
    /// and whether more remain.
    async fn users_page(
        &self,
        after: Option<&Extension>,
        limit: usize,
        keep: Keep<'_, UserRecord>,
    ) -> Result<(Vec<UserRecord>, bool)> {
        let after = after.map(|e| e.as_str().as_bytes());
        self.page(&self.users, after, limit, keep)
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
        self.keyed(&self.sources)
    }

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
        self.keyed(&self.model_settings)
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
