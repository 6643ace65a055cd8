//! The sled backend's portal sessions (`portal_sessions`, keyed by the SHA-256 of the cookie)
//! and one-time links (`portal_links`, keyed by the SHA-256 of the token); opened when first used.

use async_trait::async_trait;

use super::SledBackend;
use crate::domain::Extension;
use crate::model::{LinkRecord, PortalSession};
use crate::store::Result;
use crate::store::backend::{PortalReads, PortalWrites};

impl SledBackend {
    fn portal_sessions_tree(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree("portal_sessions")?)
    }

    fn links_tree(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree("portal_links")?)
    }
}

#[async_trait]
impl PortalReads for SledBackend {
    async fn portal_session(&self, id_sha256: &str) -> Result<Option<PortalSession>> {
        self.get(&self.portal_sessions_tree()?, id_sha256.as_bytes())
    }

    async fn portal_sessions_of(&self, extension: &Extension) -> Result<Vec<PortalSession>> {
        let mut sessions: Vec<PortalSession> = self.all(&self.portal_sessions_tree()?)?;
        sessions.retain(|s| &s.extension == extension);
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }

    async fn link(&self, token_sha256: &str) -> Result<Option<LinkRecord>> {
        self.get(&self.links_tree()?, token_sha256.as_bytes())
    }

    async fn links(&self) -> Result<Vec<LinkRecord>> {
        self.all(&self.links_tree()?)
    }
}

#[async_trait]
impl PortalWrites for SledBackend {
    async fn put_portal_session(&self, session: &PortalSession) -> Result<()> {
        let key = session.id_sha256.as_bytes();
        self.put(&self.portal_sessions_tree()?, key, session)
    }

    async fn remove_portal_session(&self, id_sha256: &str) -> Result<bool> {
        let tree = self.portal_sessions_tree()?;
        Ok(tree.remove(id_sha256.as_bytes())?.is_some())
    }

    async fn put_link(&self, link: &LinkRecord) -> Result<()> {
        self.put(&self.links_tree()?, link.token_sha256.as_bytes(), link)
    }

    async fn remove_link(&self, token_sha256: &str) -> Result<bool> {
        Ok(self
            .links_tree()?
            .remove(token_sha256.as_bytes())?
            .is_some())
    }
}
