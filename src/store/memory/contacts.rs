//! The in-memory backend's phonebook contacts.

use async_trait::async_trait;

use super::{MemoryBackend, page};
use crate::domain::ContactId;
use crate::model::ContactRecord;
use crate::store::Result;
use crate::store::backend::{ContactReads, ContactWrites};

#[async_trait]
impl ContactReads for MemoryBackend {
    async fn contact(&self, id: &ContactId) -> Result<Option<ContactRecord>> {
        Ok(self.tables().contacts.get(id).cloned())
    }

    async fn contacts_page(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<ContactRecord>, bool)> {
        Ok(page(&self.tables().contacts, after.cloned(), limit, |_| {
            true
        }))
    }

    async fn contact_count(&self) -> Result<usize> {
        Ok(self.tables().contacts.len())
    }
}

#[async_trait]
impl ContactWrites for MemoryBackend {
    async fn insert_contact(&self, record: &ContactRecord) -> Result<bool> {
        let mut tables = self.tables();
        if tables.contacts.contains_key(&record.id) {
            return Ok(false);
        }
        tables.contacts.insert(record.id.clone(), record.clone());
        drop(tables);
        self.changed_rendered_inputs();
        Ok(true)
    }

    async fn replace_contact(&self, record: &ContactRecord) -> Result<bool> {
        let mut tables = self.tables();
        let Some(stored) = tables.contacts.get_mut(&record.id) else {
            return Ok(false);
        };
        *stored = record.clone();
        drop(tables);
        self.changed_rendered_inputs();
        Ok(true)
    }

    async fn remove_contact(&self, id: &ContactId) -> Result<bool> {
        let removed = self.tables().contacts.remove(id).is_some();
        if removed {
            self.changed_rendered_inputs();
        }
        Ok(removed)
    }
}
