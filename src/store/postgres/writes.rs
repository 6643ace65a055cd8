//! The PostgreSQL backend's writes: inserts of new keys only, updates under a row lock,
//! batches in one transaction, the bounded trees pruned as they grow. Every call commits before
//! it returns, so `flush` has nothing left to do.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::schema::{UNREGISTERED_LOCK, WRITE_LOCK};
use super::{
    Effects, Indexed, NONCE_KEY, PgBackend, SESSIONS_TAG, SETTINGS_KEY, Tree, decode, encode,
    get_raw_for_update, put_raw, token_key, upload_key,
};
use crate::domain::{Extension, Mac, ProfileName, Secret};
use crate::model::{
    AuditRecord, DeviceRecord, GuardRecord, ProfileRecord, SourceRecord, TokenRecord,
    UnregisteredLimits, UnregisteredRecord, UserRecord,
};
use crate::settings::{Layer, Settings};
use crate::store::Result;
use crate::store::backend::{Change, Reads, TrimRank, WriteLease, Writes};

pub(super) fn unregistered_indexed(record: &UnregisteredRecord) -> Indexed {
    Indexed {
        sort: Some(record.last_seen),
        tag: Some(record.source.clone().unwrap_or_default()),
    }
}

/// A device someone is logged in at carries the tag [`SESSIONS_TAG`], for the hot-desk sweeper.
pub(super) fn device_indexed(record: &DeviceRecord) -> Indexed {
    Indexed {
        sort: None,
        tag: (!record.sessions.is_empty()).then(|| SESSIONS_TAG.to_string()),
    }
}

fn source_indexed(record: &SourceRecord) -> Indexed {
    Indexed {
        sort: Some(record.banned_until),
        tag: None,
    }
}

impl PgBackend {
    /// Writes every device in one transaction, each through `next(stored)`.
    pub(super) async fn write_devices(
        &self,
        tx: &impl GenericClient,
        records: &[DeviceRecord],
        merge: Option<for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord)>,
    ) -> Result<()> {
        for record in records {
            let key = record.mac.octets();
            let next = match (
                merge,
                get_raw_for_update(tx, Tree::Devices, &key, &self.shared).await?,
            ) {
                (Some(merge), Some(bytes)) => {
                    let mut stored: DeviceRecord = decode(&key, &bytes)?;
                    merge(&mut stored, record);
                    stored
                }
                _ => record.clone(),
            };
            put_raw(
                tx,
                Tree::Devices,
                &key,
                &encode(&next),
                &device_indexed(&next),
                &self.shared,
            )
            .await?;
        }
        Ok(())
    }

    pub(super) async fn write_users(
        &self,
        tx: &impl GenericClient,
        records: &[UserRecord],
    ) -> Result<()> {
        for record in records {
            let key = record.extension.as_str().as_bytes();
            put_raw(
                tx,
                Tree::Users,
                key,
                &encode(record),
                &Indexed::default(),
                &self.shared,
            )
            .await?;
        }
        Ok(())
    }

    /// Removes `keys` of `tree`; how many were there.
    async fn remove_keys(
        &self,
        tx: &impl GenericClient,
        tree: Tree,
        keys: &[Vec<u8>],
    ) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let removed = tx
            .execute(
                "DELETE FROM records WHERE tree = $1 AND key = ANY($2)",
                &[&tree.name(), &keys],
            )
            .await?;
        self.counted(1);
        Ok(removed)
    }

    /// The `count` stalest seen-unregistered entries (of `source` only, when given), never
    /// `except`.
    async fn stalest_unregistered(
        &self,
        tx: &impl GenericClient,
        source: Option<&str>,
        except: Mac,
        count: i64,
    ) -> Result<Vec<Vec<u8>>> {
        let except = except.octets().to_vec();
        let rows = tx
            .query(
                "SELECT key FROM records WHERE tree = 'unregistered' AND key <> $1 \
                 AND ($2::text IS NULL OR tag = $2) ORDER BY sort, key LIMIT $3",
                &[&except, &source, &count],
            )
            .await?;
        self.counted(1);
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn count_unregistered(
        &self,
        tx: &impl GenericClient,
        source: Option<&str>,
    ) -> Result<i64> {
        let count: i64 = tx
            .query_one(
                "SELECT count(*) FROM records WHERE tree = 'unregistered' \
                 AND ($1::text IS NULL OR tag = $1)",
                &[&source],
            )
            .await?
            .get(0);
        self.counted(1);
        Ok(count)
    }

    /// Removes the rows of `tree` that `quiet` says have nothing left to remember; a row
    /// written meanwhile stays.
    pub(super) async fn prune<R: serde::de::DeserializeOwned>(
        &self,
        tree: Tree,
        quiet: impl Fn(&R) -> bool,
    ) -> Result<usize> {
        let rows = self.keyed_raw(tree, b"").await?;
        let client = self.client().await?;
        let mut removed = 0;
        for (key, value) in rows {
            let record: R = decode(&key, &value)?;
            if quiet(&record) {
                let params: [&(dyn ToSql + Sync); 3] = [&tree.name(), &key, &value];
                removed += client
                    .execute(
                        "DELETE FROM records WHERE tree = $1 AND key = $2 AND value = $3",
                        &params,
                    )
                    .await? as usize;
                self.counted(1);
            }
        }
        Ok(removed)
    }
}

#[async_trait]
impl Writes for PgBackend {
    async fn insert_device(&self, record: &DeviceRecord) -> Result<bool> {
        let key = record.mac.octets();
        let effects = Effects::device(record.mac);
        self.insert_new(Tree::Devices, &key, record, device_indexed(record), effects)
            .await
    }

    async fn update_device(
        &self,
        mac: Mac,
        change: Change<'_, DeviceRecord>,
    ) -> Result<Option<DeviceRecord>> {
        self.update(
            Tree::Devices,
            &mac.octets(),
            change,
            device_indexed,
            Effects::device_change,
        )
        .await
    }

    async fn remove_device(&self, mac: Mac) -> Result<bool> {
        self.remove(Tree::Devices, &mac.octets(), Effects::device(mac))
            .await
    }

    async fn merge_devices(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        self.write_devices(&tx, records, Some(merge)).await?;
        self.commit(tx, Effects::devices(records)).await
    }

    async fn put_devices(&self, records: &[DeviceRecord]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        self.write_devices(&tx, records, None).await?;
        self.commit(tx, Effects::devices(records)).await
    }

    async fn index_login_token(&self, token: &Secret, mac: Mac) -> Result<()> {
        let key = token_key(token.expose());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        put_raw(
            &tx,
            Tree::LoginTokens,
            &key,
            &mac.octets(),
            &Indexed::default(),
            &self.shared,
        )
        .await?;
        self.commit(tx, Effects::default()).await
    }

    async fn unindex_login_token(&self, token: &Secret) -> Result<()> {
        let key = token_key(token.expose());
        self.remove(Tree::LoginTokens, &key, Effects::default())
            .await?;
        Ok(())
    }

    async fn insert_user(&self, record: &UserRecord) -> Result<bool> {
        let key = record.extension.as_str().as_bytes();
        self.insert_new(
            Tree::Users,
            key,
            record,
            Indexed::default(),
            Effects::rendered(),
        )
        .await
    }

    /// A login or a PIN change leaves rendered configs valid; a change of what configs carry
    /// does not.
    async fn update_user(
        &self,
        extension: &Extension,
        change: Change<'_, UserRecord>,
    ) -> Result<Option<UserRecord>> {
        let effects = |before: &UserRecord, after: &UserRecord| match before.rendered_part()
            == after.rendered_part()
        {
            true => Effects::default(),
            false => Effects::rendered(),
        };
        let key = extension.as_str().as_bytes();
        self.update(Tree::Users, key, change, |_| Indexed::default(), effects)
            .await
    }

    async fn remove_user(&self, extension: &Extension) -> Result<bool> {
        let key = extension.as_str().as_bytes();
        self.remove(Tree::Users, key, Effects::rendered()).await
    }

    async fn put_users(&self, records: &[UserRecord]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        self.write_users(&tx, records).await?;
        self.commit(tx, Effects::rendered()).await
    }

    /// Under an advisory lock, so the list's bounds hold however many nodes write sightings.
    async fn note_unregistered(
        &self,
        fresh: &UnregisteredRecord,
        change: Change<'_, UnregisteredRecord>,
        limits: UnregisteredLimits,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&UNREGISTERED_LOCK])
            .await?;
        let key = fresh.mac.octets();
        let record = match get_raw_for_update(&tx, Tree::Unregistered, &key, &self.shared).await? {
            Some(bytes) => {
                let mut seen: UnregisteredRecord = decode(&key, &bytes)?;
                change(&mut seen);
                seen.source.clone_from(&fresh.source);
                seen
            }
            None => fresh.clone(),
        };
        let indexed = unregistered_indexed(&record);
        put_raw(
            &tx,
            Tree::Unregistered,
            &key,
            &encode(&record),
            &indexed,
            &self.shared,
        )
        .await?;
        let source = indexed.tag.as_deref();
        let own = self.count_unregistered(&tx, source).await?;
        let over = own.saturating_sub(i64::try_from(limits.per_source).unwrap_or(i64::MAX));
        if over > 0 {
            let stale = self
                .stalest_unregistered(&tx, source, record.mac, over)
                .await?;
            self.remove_keys(&tx, Tree::Unregistered, &stale).await?;
        }
        let total = self.count_unregistered(&tx, None).await?;
        let over = total.saturating_sub(i64::try_from(limits.total).unwrap_or(i64::MAX));
        if over > 0 {
            let stale = self
                .stalest_unregistered(&tx, None, record.mac, over)
                .await?;
            self.remove_keys(&tx, Tree::Unregistered, &stale).await?;
        }
        self.commit(tx, Effects::default()).await
    }

    async fn remove_unregistered(&self, mac: Mac) -> Result<bool> {
        self.remove(Tree::Unregistered, &mac.octets(), Effects::default())
            .await
    }

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
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let key = upload_key(mac, name);
        put_raw(
            &tx,
            Tree::Uploads,
            &key,
            &value,
            &Indexed::default(),
            &self.shared,
        )
        .await?;
        let rows = tx
            .query(
                "SELECT key, length(value) - 8, substring(value from 1 for 8) FROM records \
                 WHERE tree = 'uploads' AND substring(key from 1 for 6) = $1",
                &[&&mac.octets()[..]],
            )
            .await?;
        self.counted(1);
        let mut files: Vec<(i64, Vec<u8>, usize)> = rows
            .iter()
            .map(|row| {
                let at: Vec<u8> = row.get(2);
                let at = i64::from_be_bytes(at.try_into().unwrap_or_default());
                (at, row.get::<_, Vec<u8>>(0), row.get::<_, i32>(1) as usize)
            })
            .collect();
        files.sort();
        let mut total: usize = files.iter().map(|(_, _, size)| size).sum();
        let mut dropped = Vec::new();
        for (_, old, size) in files.into_iter().filter(|(_, k, _)| *k != key) {
            if total <= cap {
                break;
            }
            total -= size;
            dropped.push(old);
        }
        self.remove_keys(&tx, Tree::Uploads, &dropped).await?;
        self.commit(tx, Effects::default()).await
    }

    async fn remove_uploads(&self, mac: Mac) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM records WHERE tree = 'uploads' AND substring(key from 1 for 6) = $1",
                &[&&mac.octets()[..]],
            )
            .await?;
        self.counted(1);
        Ok(())
    }

    async fn update_guard(
        &self,
        key: &str,
        change: Change<'_, GuardRecord>,
    ) -> Result<GuardRecord> {
        self.upsert(
            Tree::LoginGuard,
            key.as_bytes(),
            change,
            |_| Indexed::default(),
            |_| Effects::default(),
        )
        .await
    }

    async fn remove_guard(&self, key: &str) -> Result<()> {
        self.remove(Tree::LoginGuard, key.as_bytes(), Effects::default())
            .await?;
        Ok(())
    }

    async fn prune_guards(&self, now: i64, keep_secs: i64) -> Result<usize> {
        self.prune(Tree::LoginGuard, |g: &GuardRecord| {
            g.is_quiet(now, keep_secs)
        })
        .await
    }

    /// A ban later than any this node knows of is announced to every node.
    async fn update_source(
        &self,
        key: &str,
        change: Change<'_, SourceRecord>,
    ) -> Result<SourceRecord> {
        let known = self
            .shared
            .latest_ban_end
            .load(std::sync::atomic::Ordering::SeqCst);
        let effects = move |record: &SourceRecord| Effects {
            ban_end: (record.banned_until > known).then_some(record.banned_until),
            ..Effects::default()
        };
        self.upsert(
            Tree::Sources,
            key.as_bytes(),
            change,
            source_indexed,
            effects,
        )
        .await
    }

    async fn remove_source(&self, key: &str) -> Result<bool> {
        self.remove(Tree::Sources, key.as_bytes(), Effects::default())
            .await
    }

    async fn prune_sources(
        &self,
        now: i64,
        window_secs: i64,
        remember_bans_secs: i64,
    ) -> Result<usize> {
        let quiet = |s: &SourceRecord| s.is_quiet(now, window_secs, remember_bans_secs);
        self.prune(Tree::Sources, quiet).await
    }

    async fn append_audit(&self, mut record: AuditRecord) -> Result<AuditRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id: i64 = tx
            .query_one("SELECT nextval('audit_ids')", &[])
            .await?
            .get(0);
        self.counted(1);
        record.id = id as u64;
        let indexed = Indexed {
            sort: None,
            tag: Some(record.kind.clone()),
        };
        let key = record.id.to_be_bytes();
        put_raw(
            &tx,
            Tree::Audit,
            &key,
            &encode(&record),
            &indexed,
            &self.shared,
        )
        .await?;
        self.commit(tx, Effects::default()).await?;
        Ok(record)
    }

    async fn put_audit(&self, record: &AuditRecord) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let indexed = Indexed {
            sort: None,
            tag: Some(record.kind.clone()),
        };
        let key = record.id.to_be_bytes();
        put_raw(
            &tx,
            Tree::Audit,
            &key,
            &encode(record),
            &indexed,
            &self.shared,
        )
        .await?;
        tx.execute(
            "SELECT setval('audit_ids', greatest($1, last_value)) FROM audit_ids",
            &[&(record.id as i64)],
        )
        .await?;
        self.commit(tx, Effects::default()).await
    }

    async fn trim_audit(&self, max: usize, rank: TrimRank<'_>) -> Result<usize> {
        let excess = self.count(Tree::Audit).await?.saturating_sub(max);
        if excess == 0 {
            return Ok(0);
        }
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT key, tag FROM records WHERE tree = 'audit' ORDER BY key",
                &[],
            )
            .await?;
        self.counted(1);
        let mut ranked: Vec<(u8, Vec<u8>)> = rows
            .iter()
            .map(|row| {
                let kind: Option<String> = row.get(1);
                (rank(kind.as_deref().unwrap_or_default()), row.get(0))
            })
            .collect();
        // Stable: within a rank, key (id) order, which is oldest first.
        ranked.sort_by_key(|(rank, _)| *rank);
        let doomed: Vec<Vec<u8>> = ranked.into_iter().take(excess).map(|(_, k)| k).collect();
        Ok(self.remove_keys(&client, Tree::Audit, &doomed).await? as usize)
    }

    async fn insert_profile(&self, record: &ProfileRecord) -> Result<bool> {
        let key = record.name.as_str().as_bytes();
        self.insert_new(
            Tree::Profiles,
            key,
            record,
            Indexed::default(),
            Effects::rendered(),
        )
        .await
    }

    async fn put_profile(&self, record: &ProfileRecord) -> Result<()> {
        let key = record.name.as_str().as_bytes();
        self.put(
            Tree::Profiles,
            key,
            record,
            Indexed::default(),
            Effects::rendered(),
        )
        .await
    }

    async fn remove_profile(&self, name: &ProfileName) -> Result<bool> {
        self.remove(
            Tree::Profiles,
            name.as_str().as_bytes(),
            Effects::rendered(),
        )
        .await
    }

    async fn put_model_settings(&self, model: &str, layer: &Layer) -> Result<()> {
        if layer.is_empty() {
            self.remove(Tree::ModelSettings, model.as_bytes(), Effects::rendered())
                .await?;
            return Ok(());
        }
        let key = model.as_bytes();
        self.put(
            Tree::ModelSettings,
            key,
            layer,
            Indexed::default(),
            Effects::rendered(),
        )
        .await
    }

    async fn put_settings(&self, settings: &Settings) -> Result<()> {
        self.put(
            Tree::Meta,
            SETTINGS_KEY,
            settings,
            Indexed::default(),
            Effects::rendered(),
        )
        .await
    }

    async fn insert_token(&self, record: &TokenRecord) -> Result<bool> {
        let key = record.name.as_bytes();
        self.insert_new(
            Tree::Tokens,
            key,
            record,
            Indexed::default(),
            Effects::default(),
        )
        .await
    }

    async fn remove_token(&self, name: &str) -> Result<bool> {
        self.remove(Tree::Tokens, name.as_bytes(), Effects::default())
            .await
    }

    async fn touch_token(&self, name: &str, at: i64) -> Result<()> {
        let mut touch = |t: &mut TokenRecord| t.last_used_at = Some(at);
        self.update(
            Tree::Tokens,
            name.as_bytes(),
            &mut touch,
            |_| Indexed::default(),
            |_, _| Effects::default(),
        )
        .await?;
        Ok(())
    }

    async fn put_nonce_key(&self, key: [u8; 32]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        put_raw(
            &tx,
            Tree::Meta,
            NONCE_KEY,
            &key,
            &Indexed::default(),
            &self.shared,
        )
        .await?;
        self.commit(tx, Effects::default()).await?;
        *self.nonce_key.write().expect("nonce key lock") = key;
        Ok(())
    }

    async fn put_shared_file_chunk(
        &self,
        name: &str,
        sha256: &str,
        index: u32,
        bytes: &[u8],
    ) -> Result<()> {
        self.write_chunk(name, sha256, index, bytes).await
    }

    async fn commit_shared_file(&self, file: &crate::store::SharedFile) -> Result<()> {
        self.write_shared_file(file).await
    }

    async fn remove_shared_file(&self, name: &str) -> Result<bool> {
        self.delete_shared_file(name).await
    }

    async fn put_site_files(&self, digest: &str) -> Result<()> {
        self.note_own_site_files(digest);
        let effects = Effects {
            site_files: Some(digest.to_string()),
            ..Effects::default()
        };
        let value = digest.as_bytes();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        put_raw(
            &tx,
            Tree::Meta,
            super::SITE_FILES_KEY,
            value,
            &Indexed::default(),
            &self.shared,
        )
        .await?;
        self.commit(tx, effects).await?;
        self.shared.heard_site_files(digest);
        Ok(())
    }

    /// Every write committed before it returned.
    async fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// A session-level advisory lock on a connection of its own, held until the lease drops.
    async fn lease_writes(&self) -> Result<Option<WriteLease>> {
        let client = self.client().await?;
        client
            .execute("SELECT pg_advisory_lock($1)", &[&WRITE_LOCK])
            .await?;
        self.counted(1);
        Ok(Some(Box::new(super::lease::Lease::new(client, WRITE_LOCK))))
    }
}
