//! The in-memory backend's portal sessions and one-time links.

use async_trait::async_trait;

use super::MemoryBackend;
use crate::domain::Extension;
use crate::model::{LinkRecord, PortalSession};
use crate::store::Result;
use crate::store::backend::{PortalReads, PortalWrites};

#[async_trait]
impl PortalReads for MemoryBackend {
    async fn portal_session(&self, id_sha256: &str) -> Result<Option<PortalSession>> {
        Ok(self.tables().portal_sessions.get(id_sha256).cloned())
    }

    async fn portal_sessions_of(&self, extension: &Extension) -> Result<Vec<PortalSession>> {
        let tables = self.tables();
        let mut sessions: Vec<PortalSession> = tables
            .portal_sessions
            .values()
            .filter(|s| &s.extension == extension)
            .cloned()
            .collect();
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }

    async fn link(&self, token_sha256: &str) -> Result<Option<LinkRecord>> {
        Ok(self.tables().links.get(token_sha256).cloned())
    }

    async fn links(&self) -> Result<Vec<LinkRecord>> {
        Ok(self.tables().links.values().cloned().collect())
    }
}

#[async_trait]
impl PortalWrites for MemoryBackend {
    async fn put_portal_session(&self, session: &PortalSession) -> Result<()> {
        self.tables()
            .portal_sessions
            .insert(session.id_sha256.clone(), session.clone());
        Ok(())
    }

    async fn remove_portal_session(&self, id_sha256: &str) -> Result<bool> {
        Ok(self.tables().portal_sessions.remove(id_sha256).is_some())
    }

    async fn put_link(&self, link: &LinkRecord) -> Result<()> {
        self.tables()
            .links
            .insert(link.token_sha256.clone(), link.clone());
        Ok(())
    }

    async fn remove_link(&self, token_sha256: &str) -> Result<bool> {
        Ok(self.tables().links.remove(token_sha256).is_some())
    }
}
