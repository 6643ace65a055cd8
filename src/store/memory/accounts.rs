//! The in-memory backend's console accounts and sessions.

use async_trait::async_trait;

use super::MemoryBackend;
use crate::domain::Username;
use crate::model::{AccountRecord, ConsoleSession};
use crate::store::Result;
use crate::store::backend::{AccountReads, AccountWrites};

#[async_trait]
impl AccountReads for MemoryBackend {
    async fn accounts(&self) -> Result<Vec<AccountRecord>> {
        Ok(self.tables().accounts.values().cloned().collect())
    }

    async fn account(&self, username: &Username) -> Result<Option<AccountRecord>> {
        Ok(self.tables().accounts.get(username).cloned())
    }

    async fn console_session(&self, id_sha256: &str) -> Result<Option<ConsoleSession>> {
        Ok(self.tables().console_sessions.get(id_sha256).cloned())
    }

    async fn console_sessions_of(&self, username: &Username) -> Result<Vec<ConsoleSession>> {
        let mut sessions: Vec<ConsoleSession> = self
            .tables()
            .console_sessions
            .values()
            .filter(|s| &s.username == username)
            .cloned()
            .collect();
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }
}

#[async_trait]
impl AccountWrites for MemoryBackend {
    async fn insert_account(&self, record: &AccountRecord) -> Result<bool> {
        let mut tables = self.tables();
        if tables.accounts.contains_key(&record.username) {
            return Ok(false);
        }
        tables
            .accounts
            .insert(record.username.clone(), record.clone());
        Ok(true)
    }

    async fn replace_account(&self, record: &AccountRecord) -> Result<bool> {
        let mut tables = self.tables();
        let Some(stored) = tables.accounts.get_mut(&record.username) else {
            return Ok(false);
        };
        *stored = record.clone();
        Ok(true)
    }

    async fn remove_account(&self, username: &Username) -> Result<bool> {
        Ok(self.tables().accounts.remove(username).is_some())
    }

    async fn put_console_session(&self, session: &ConsoleSession) -> Result<()> {
        self.tables()
            .console_sessions
            .insert(session.id_sha256.clone(), session.clone());
        Ok(())
    }

    async fn remove_console_session(&self, id_sha256: &str) -> Result<bool> {
        Ok(self.tables().console_sessions.remove(id_sha256).is_some())
    }
}
