//! The small tables on PostgreSQL: console accounts and sessions, the portal's sessions and
//! one-time links, shared key layers and the phonebook's contacts.

use async_trait::async_trait;

use super::{Effects, Indexed, PgBackend, Tree};
use crate::domain::{ContactId, Extension, Username};
use crate::keys::{KeyLayer, SharedKeys};
use crate::model::{AccountRecord, ConsoleSession, ContactRecord, LinkRecord, PortalSession};
use crate::store::Result;
use crate::store::backend::{
    AccountReads, AccountWrites, ContactReads, ContactWrites, KeyReads, KeyWrites, PortalReads,
    PortalWrites,
};

impl PgBackend {
    /// Replaces a stored record; `false` (nothing written) when there is none.
    async fn replace<T: serde::Serialize + Sync>(
        &self,
        tree: Tree,
        key: &[u8],
        record: &T,
        effects: Effects,
    ) -> Result<bool> {
        let value = super::encode(record);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let replaced = tx
            .execute(
                "UPDATE records SET value = $3 WHERE tree = $1 AND key = $2",
                &[&tree.name(), &key, &value],
            )
            .await?;
        self.counted(1);
        if replaced == 1 {
            self.commit(tx, effects).await?;
        }
        Ok(replaced == 1)
    }
}

#[async_trait]
impl AccountReads for PgBackend {
    async fn accounts(&self) -> Result<Vec<AccountRecord>> {
        self.all(Tree::Accounts).await
    }

    async fn account(&self, username: &Username) -> Result<Option<AccountRecord>> {
        self.get(Tree::Accounts, username.as_str().as_bytes()).await
    }

    async fn console_session(&self, id_sha256: &str) -> Result<Option<ConsoleSession>> {
        self.get(Tree::ConsoleSessions, id_sha256.as_bytes()).await
    }

    async fn console_sessions_of(&self, username: &Username) -> Result<Vec<ConsoleSession>> {
        let mut sessions: Vec<ConsoleSession> = self.all(Tree::ConsoleSessions).await?;
        sessions.retain(|s| &s.username == username);
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }
}

#[async_trait]
impl AccountWrites for PgBackend {
    async fn insert_account(&self, record: &AccountRecord) -> Result<bool> {
        let key = record.username.as_str().as_bytes();
        self.insert_new(
            Tree::Accounts,
            key,
            record,
            Indexed::default(),
            Effects::default(),
        )
        .await
    }

    async fn replace_account(&self, record: &AccountRecord) -> Result<bool> {
        let key = record.username.as_str().as_bytes();
        self.replace(Tree::Accounts, key, record, Effects::default())
            .await
    }

    async fn remove_account(&self, username: &Username) -> Result<bool> {
        let key = username.as_str().as_bytes();
        self.remove(Tree::Accounts, key, Effects::default()).await
    }

    async fn put_console_session(&self, session: &ConsoleSession) -> Result<()> {
        let key = session.id_sha256.as_bytes();
        self.put(
            Tree::ConsoleSessions,
            key,
            session,
            Indexed::default(),
            Effects::default(),
        )
        .await
    }

    async fn remove_console_session(&self, id_sha256: &str) -> Result<bool> {
        let key = id_sha256.as_bytes();
        self.remove(Tree::ConsoleSessions, key, Effects::default())
            .await
    }
}

#[async_trait]
impl PortalReads for PgBackend {
    async fn portal_session(&self, id_sha256: &str) -> Result<Option<PortalSession>> {
        self.get(Tree::PortalSessions, id_sha256.as_bytes()).await
    }

    async fn portal_sessions_of(&self, extension: &Extension) -> Result<Vec<PortalSession>> {
        let mut sessions: Vec<PortalSession> = self.all(Tree::PortalSessions).await?;
        sessions.retain(|s| &s.extension == extension);
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }

    async fn link(&self, token_sha256: &str) -> Result<Option<LinkRecord>> {
        self.get(Tree::PortalLinks, token_sha256.as_bytes()).await
    }

    async fn links(&self) -> Result<Vec<LinkRecord>> {
        self.all(Tree::PortalLinks).await
    }
}

#[async_trait]
impl PortalWrites for PgBackend {
    async fn put_portal_session(&self, session: &PortalSession) -> Result<()> {
        let key = session.id_sha256.as_bytes();
        self.put(
            Tree::PortalSessions,
            key,
            session,
            Indexed::default(),
            Effects::default(),
        )
        .await
    }

    async fn remove_portal_session(&self, id_sha256: &str) -> Result<bool> {
        let key = id_sha256.as_bytes();
        self.remove(Tree::PortalSessions, key, Effects::default())
            .await
    }

    async fn put_link(&self, link: &LinkRecord) -> Result<()> {
        let key = link.token_sha256.as_bytes();
        self.put(
            Tree::PortalLinks,
            key,
            link,
            Indexed::default(),
            Effects::default(),
        )
        .await
    }

    async fn remove_link(&self, token_sha256: &str) -> Result<bool> {
        let key = token_sha256.as_bytes();
        self.remove(Tree::PortalLinks, key, Effects::default())
            .await
    }
}

#[async_trait]
impl KeyReads for PgBackend {
    async fn shared_keys(&self, layer: &SharedKeys) -> Result<KeyLayer> {
        let key = layer.storage_key();
        Ok(self
            .get(Tree::KeyLayers, key.as_bytes())
            .await?
            .unwrap_or_default())
    }

    async fn all_shared_keys(&self) -> Result<Vec<(String, KeyLayer)>> {
        self.keyed(Tree::KeyLayers).await
    }
}

#[async_trait]
impl KeyWrites for PgBackend {
    async fn put_shared_keys(&self, layer: &SharedKeys, keys: &KeyLayer) -> Result<()> {
        let key = layer.storage_key();
        if keys.is_empty() {
            self.remove(Tree::KeyLayers, key.as_bytes(), Effects::rendered())
                .await?;
            return Ok(());
        }
        self.put(
            Tree::KeyLayers,
            key.as_bytes(),
            keys,
            Indexed::default(),
            Effects::rendered(),
        )
        .await
    }
}

#[async_trait]
impl ContactReads for PgBackend {
    async fn contact(&self, id: &ContactId) -> Result<Option<ContactRecord>> {
        self.get(Tree::Contacts, id.as_str().as_bytes()).await
    }

    async fn contacts_page(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<ContactRecord>, bool)> {
        let after = after.map(|id| id.as_str().as_bytes());
        self.page(Tree::Contacts, after, false, limit, |_: &ContactRecord| {
            true
        })
        .await
    }

    async fn contact_count(&self) -> Result<usize> {
        self.count(Tree::Contacts).await
    }
}

#[async_trait]
impl ContactWrites for PgBackend {
    async fn insert_contact(&self, record: &ContactRecord) -> Result<bool> {
        let key = record.id.as_str().as_bytes();
        self.insert_new(
            Tree::Contacts,
            key,
            record,
            Indexed::default(),
            Effects::rendered(),
        )
        .await
    }

    async fn replace_contact(&self, record: &ContactRecord) -> Result<bool> {
        let key = record.id.as_str().as_bytes();
        self.replace(Tree::Contacts, key, record, Effects::rendered())
            .await
    }

    async fn remove_contact(&self, id: &ContactId) -> Result<bool> {
        self.remove(Tree::Contacts, id.as_str().as_bytes(), Effects::rendered())
            .await
    }
}
