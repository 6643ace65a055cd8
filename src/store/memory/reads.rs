//! The in-memory backend's reads: copies of the records under the tables' lock.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;

use super::{MemoryBackend, page, token_key};
use crate::domain::{Extension, Mac, ProfileName};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};
use crate::store::backend::{Keep, Reads};
use crate::store::{DeviceSnapshot, Needle, Result};

#[async_trait]
impl Reads for MemoryBackend {
    fn revision(&self) -> u64 {
        self.revision.load(Ordering::SeqCst)
    }

    fn any_ban_reaches(&self, now: i64) -> bool {
        self.latest_ban_end.load(Ordering::SeqCst) > now
    }

    fn nonce_key(&self) -> [u8; 32] {
        *self.nonce_key.read().expect("nonce key lock")
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
        _decoded_already: Option<Needle<'_>>,
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

    async fn devices_with_sessions(&self) -> Result<Vec<DeviceRecord>> {
        let tables = self.tables();
        let with_sessions = tables.devices.values().filter(|d| !d.sessions.is_empty());
        Ok(with_sessions.cloned().collect())
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
        keep: Keep<'_, UserRecord>,
    ) -> Result<(Vec<UserRecord>, bool)> {
        let tables = self.tables();
        let after = after.map(|e| e.as_str().to_string());
        Ok(page(&tables.users, after, limit, keep))
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
