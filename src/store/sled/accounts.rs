//! The sled backend's console accounts and sessions: the `accounts` tree keyed by name, the
//! `console_sessions` tree keyed by the SHA-256 of the cookie; opened when first used.

use async_trait::async_trait;

use super::SledBackend;
use crate::domain::Username;
use crate::model::{AccountRecord, ConsoleSession};
use crate::store::Result;
use crate::store::backend::{AccountReads, AccountWrites};

impl SledBackend {
    fn accounts_tree(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree("accounts")?)
    }

    fn sessions_tree(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree("console_sessions")?)
    }
}

#[async_trait]
impl AccountReads for SledBackend {
    async fn accounts(&self) -> Result<Vec<AccountRecord>> {
        self.all(&self.accounts_tree()?)
    }

    async fn account(&self, username: &Username) -> Result<Option<AccountRecord>> {
        self.get(&self.accounts_tree()?, username.as_str().as_bytes())
    }

    async fn console_session(&self, id_sha256: &str) -> Result<Option<ConsoleSession>> {
        self.get(&self.sessions_tree()?, id_sha256.as_bytes())
    }

    async fn console_sessions_of(&self, username: &Username) -> Result<Vec<ConsoleSession>> {
        let mut sessions: Vec<ConsoleSession> = self.all(&self.sessions_tree()?)?;
        sessions.retain(|s| &s.username == username);
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }
}

#[async_trait]
impl AccountWrites for SledBackend {
    async fn insert_account(&self, record: &AccountRecord) -> Result<bool> {
        self.insert_new(
            &self.accounts_tree()?,
            record.username.as_str().as_bytes(),
            record,
        )
    }

    async fn replace_account(&self, record: &AccountRecord) -> Result<bool> {
        let tree = self.accounts_tree()?;
        let key = record.username.as_str().as_bytes();
        if !tree.contains_key(key)? {
            return Ok(false);
        }
        self.put(&tree, key, record)?;
        Ok(true)
    }

    async fn remove_account(&self, username: &Username) -> Result<bool> {
        Ok(self
            .accounts_tree()?
            .remove(username.as_str().as_bytes())?
            .is_some())
    }

    async fn put_console_session(&self, session: &ConsoleSession) -> Result<()> {
        self.put(
            &self.sessions_tree()?,
            session.id_sha256.as_bytes(),
            session,
        )
    }

    async fn remove_console_session(&self, id_sha256: &str) -> Result<bool> {
        Ok(self
            .sessions_tree()?
            .remove(id_sha256.as_bytes())?
            .is_some())
    }
}
