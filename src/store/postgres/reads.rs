//! The PostgreSQL backend's reads: records by key, pages in key order, and the device
//! snapshots that the phone path takes from memory while the notifications vouch for them.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;

use super::{PgBackend, SESSIONS_TAG, SETTINGS_KEY, Tree, decode, token_key, upload_key};
use crate::domain::{Extension, Mac, ProfileName};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};
use crate::store::backend::{Keep, Reads};
use crate::store::{DeviceSnapshot, Needle, Result, StoreError};

#[async_trait]
impl Reads for PgBackend {
    fn revision(&self) -> u64 {
        self.shared.revision.load(Ordering::SeqCst)
    }

    fn any_ban_reaches(&self, now: i64) -> bool {
        now < self.shared.latest_ban_end.load(Ordering::SeqCst)
    }

    fn nonce_key(&self) -> [u8; 32] {
        *self.nonce_key.read().expect("nonce key lock")
    }

    async fn probe(&self) -> Result<()> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await?;
        self.counted(1);
        Ok(())
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn shared_file(&self, name: &str) -> Result<Option<crate::store::SharedFile>> {
        self.read_shared_file(name).await
    }

    async fn shared_files(&self) -> Result<Vec<crate::store::SharedFile>> {
        self.read_shared_files().await
    }

    async fn shared_file_chunk(
        &self,
        file: &crate::store::SharedFile,
        index: u32,
    ) -> Result<Option<Vec<u8>>> {
        self.read_chunk(file, index).await
    }

    async fn site_files(&self) -> Result<Option<String>> {
        let stored = self.get_raw(Tree::Meta, super::SITE_FILES_KEY).await?;
        Ok(stored.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn note_own_site_files(&self, digest: &str) {
        *self.shared.own_files.lock().expect("own files lock") = Some(digest.to_string());
    }

    fn site_files_match(&self) -> bool {
        self.shared.files_match.load(Ordering::SeqCst)
    }

    fn runs_housekeeping(&self) -> bool {
        self.shared.housekeeper.load(Ordering::SeqCst)
    }

    fn round_trips(&self) -> Option<u64> {
        Some(PgBackend::round_trips(self))
    }

    fn device_reads_sent(&self) -> Option<u64> {
        Some(self.shared.device_reads.load(Ordering::Relaxed))
    }

    async fn device(&self, mac: Mac) -> Result<Option<DeviceRecord>> {
        self.get(Tree::Devices, &mac.octets()).await
    }

    /// From memory while this node hears every change of devices, and none without asking
    /// when the MAC is not among the registered ones (registered.rs: an unknown MAC takes no
    /// longer than a known one); else from the database, and from memory only when the
    /// database cannot be reached (a proven phone keeps its file while the database is down).
    async fn device_snapshot(&self, mac: Mac) -> Result<Option<Arc<DeviceSnapshot>>> {
        let shared = &self.shared;
        let trusted = shared.listening.load(Ordering::SeqCst);
        if trusted {
            if let Some(snapshot) = shared.decoded_devices.get(&mac) {
                return Ok(Some(snapshot));
            }
            if !shared.registered.may_hold(mac) {
                return Ok(None);
            }
        }
        let drops = shared.device_drops.load(Ordering::SeqCst);
        shared.device_reads.fetch_add(1, Ordering::Relaxed);
        let raw = match self.get_raw(Tree::Devices, &mac.octets()).await {
            Ok(raw) => raw,
            Err(StoreError::Unavailable(e)) => {
                return match shared.decoded_devices.get(&mac) {
                    Some(snapshot) => Ok(Some(snapshot)),
                    None => Err(StoreError::Unavailable(e)),
                };
            }
            Err(e) => return Err(e),
        };
        let Some(raw) = raw else {
            if trusted {
                shared
                    .registered
                    .found_absent(mac, drops, &shared.device_drops);
            }
            return Ok(None);
        };
        let snapshot = Arc::new(DeviceSnapshot::of(decode(&mac.octets(), &raw)?));
        // Kept only if nothing was dropped meanwhile: a change heard during the read may be
        // newer than what was read.
        if trusted && drops == shared.device_drops.load(Ordering::SeqCst) {
            shared.decoded_devices.insert(mac, snapshot.clone());
        }
        Ok(Some(snapshot))
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.all(Tree::Devices).await
    }

    async fn devices_page(
        &self,
        after: Option<Mac>,
        limit: usize,
        needle: Option<Needle<'_>>,
        keep: Keep<'_, DeviceRecord>,
    ) -> Result<(Vec<DeviceRecord>, bool)> {
        let after = after.map(|mac| mac.octets());
        self.page_of(
            Tree::Devices,
            after.as_ref().map(|a| &a[..]),
            false,
            limit,
            needle.as_ref(),
            keep,
        )
        .await
    }

    /// The devices tagged as having sessions, by the index on the tag.
    async fn devices_with_sessions(&self) -> Result<Vec<DeviceRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT key, value FROM records WHERE tree = $1 AND tag = $2 ORDER BY key",
                &[&Tree::Devices.name(), &SESSIONS_TAG],
            )
            .await?;
        self.counted(1);
        rows.iter()
            .map(|row| decode(row.get(0), row.get(1)))
            .collect()
    }

    async fn device_by_login_token(&self, token: &str) -> Result<Option<DeviceRecord>> {
        let Some(mac) = self.get_raw(Tree::LoginTokens, &token_key(token)).await? else {
            return Ok(None);
        };
        let octets: [u8; 6] = mac.as_slice().try_into().unwrap_or_default();
        self.device(Mac::from_octets(octets)).await
    }

    async fn user(&self, extension: &Extension) -> Result<Option<UserRecord>> {
        self.get(Tree::Users, extension.as_str().as_bytes()).await
    }

    async fn users(&self) -> Result<Vec<UserRecord>> {
        self.all(Tree::Users).await
    }

    async fn users_page(
        &self,
        after: Option<&Extension>,
        limit: usize,
        keep: Keep<'_, UserRecord>,
    ) -> Result<(Vec<UserRecord>, bool)> {
        let after = after.map(|e| e.as_str().as_bytes());
        self.page(Tree::Users, after, false, limit, keep).await
    }

    async fn unregistered(&self) -> Result<Vec<UnregisteredRecord>> {
        self.all(Tree::Unregistered).await
    }

    async fn unregistered_page(
        &self,
        after: Option<Mac>,
        limit: usize,
    ) -> Result<(Vec<UnregisteredRecord>, bool)> {
        let after = after.map(|mac| mac.octets());
        let all = |_: &UnregisteredRecord| true;
        self.page(
            Tree::Unregistered,
            after.as_ref().map(|a| &a[..]),
            false,
            limit,
            all,
        )
        .await
    }

    async fn unregistered_device(&self, mac: Mac) -> Result<Option<UnregisteredRecord>> {
        self.get(Tree::Unregistered, &mac.octets()).await
    }

    async fn upload(&self, mac: Mac, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get_raw(Tree::Uploads, &upload_key(mac, name))
            .await?
            .map(|v| v[8..].to_vec()))
    }

    async fn uploads(&self, mac: Mac) -> Result<Vec<(String, usize, i64)>> {
        Ok(self
            .keyed_raw(Tree::Uploads, &mac.octets())
            .await?
            .into_iter()
            .map(|(key, value)| {
                let name = String::from_utf8_lossy(&key[6..]).into_owned();
                let at = i64::from_be_bytes(value[..8].try_into().expect("8-byte time"));
                (name, value.len() - 8, at)
            })
            .collect())
    }

    async fn guard(&self, key: &str) -> Result<GuardRecord> {
        Ok(self
            .get(Tree::LoginGuard, key.as_bytes())
            .await?
            .unwrap_or_default())
    }

    async fn guards(&self, prefix: &str) -> Result<Vec<(String, GuardRecord)>> {
        self.keyed_raw(Tree::LoginGuard, prefix.as_bytes())
            .await?
            .iter()
            .map(|(key, value)| {
                let name = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                Ok((name, decode(key, value)?))
            })
            .collect()
    }

    async fn source(&self, key: &str) -> Result<Option<SourceRecord>> {
        self.get(Tree::Sources, key.as_bytes()).await
    }

    async fn sources(&self) -> Result<Vec<(String, SourceRecord)>> {
        self.keyed(Tree::Sources).await
    }

    async fn audit(
        &self,
        before: Option<u64>,
        limit: usize,
        keep: Keep<'_, AuditRecord>,
    ) -> Result<(Vec<AuditRecord>, bool)> {
        let before = before.map(u64::to_be_bytes);
        self.page(
            Tree::Audit,
            before.as_ref().map(|b| &b[..]),
            true,
            limit,
            keep,
        )
        .await
    }

    async fn profile(&self, name: &ProfileName) -> Result<Option<ProfileRecord>> {
        self.get(Tree::Profiles, name.as_str().as_bytes()).await
    }

    async fn profiles(&self) -> Result<Vec<ProfileRecord>> {
        self.all(Tree::Profiles).await
    }

    async fn model_settings(&self, model: &str) -> Result<Layer> {
        Ok(self
            .get(Tree::ModelSettings, model.as_bytes())
            .await?
            .unwrap_or_default())
    }

    async fn all_model_settings(&self) -> Result<Vec<(String, Layer)>> {
        self.keyed(Tree::ModelSettings).await
    }

    async fn settings(&self) -> Result<Settings> {
        Ok(self
            .get(Tree::Meta, SETTINGS_KEY)
            .await?
            .unwrap_or_default())
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.all(Tree::Tokens).await
    }

    async fn has_tokens(&self) -> Result<bool> {
        Ok(self.count(Tree::Tokens).await? > 0)
    }
}
