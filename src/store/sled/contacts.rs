//! The sled backend's phonebook contacts: the `contacts` tree, keyed by id, opened when first
//! used.

use async_trait::async_trait;

use super::SledBackend;
use crate::domain::ContactId;
use crate::model::ContactRecord;
use crate::store::Result;
use crate::store::backend::{ContactReads, ContactWrites};

const TREE: &str = "contacts";

impl SledBackend {
    pub(super) fn contacts(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree(TREE)?)
    }
}

#[async_trait]
impl ContactReads for SledBackend {
    async fn contact(&self, id: &ContactId) -> Result<Option<ContactRecord>> {
        self.get(&self.contacts()?, id.as_str().as_bytes())
    }

    async fn contacts_page(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<ContactRecord>, bool)> {
        let after = after.map(|id| id.as_str().as_bytes());
        self.page(&self.contacts()?, after, limit, |_| true)
    }

    async fn contact_count(&self) -> Result<usize> {
        Ok(self.contacts()?.len())
    }
}

#[async_trait]
impl ContactWrites for SledBackend {
    async fn insert_contact(&self, record: &ContactRecord) -> Result<bool> {
        let inserted = self.insert_new(&self.contacts()?, record.id.as_str().as_bytes(), record)?;
        if inserted {
            self.changed_rendered_inputs();
        }
        Ok(inserted)
    }

    async fn replace_contact(&self, record: &ContactRecord) -> Result<bool> {
        let tree = self.contacts()?;
        let key = record.id.as_str().as_bytes();
        if !tree.contains_key(key)? {
            return Ok(false);
        }
        self.put(&tree, key, record)?;
        self.changed_rendered_inputs();
        Ok(true)
    }

    async fn remove_contact(&self, id: &ContactId) -> Result<bool> {
        let removed = self.contacts()?.remove(id.as_str().as_bytes())?.is_some();
        if removed {
            self.changed_rendered_inputs();
        }
        Ok(removed)
    }
}
