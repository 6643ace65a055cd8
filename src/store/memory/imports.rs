//! The in-memory backend's import job records, under the tables' lock with the rows they
//! describe.

use async_trait::async_trait;

use super::MemoryBackend;
use crate::model::{ContactRecord, DeviceRecord, ImportRecord, UserRecord};
use crate::store::Result;
use crate::store::backend::{ImportReads, ImportWrites};

fn put(
    imports: &mut std::collections::BTreeMap<u64, ImportRecord>,
    job: &ImportRecord,
    keep: usize,
) {
    imports.insert(job.id, job.clone());
    while imports.len() > keep {
        imports.pop_first();
    }
}

#[async_trait]
impl ImportReads for MemoryBackend {
    async fn import_jobs(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<ImportRecord>, bool)> {
        let tables = self.tables();
        let mut older = tables
            .imports
            .range(..before.unwrap_or(u64::MAX))
            .rev()
            .map(|(_, job)| job.clone());
        let found: Vec<ImportRecord> = older.by_ref().take(limit).collect();
        Ok((found, older.next().is_some()))
    }

    async fn import_job(&self, id: u64) -> Result<Option<ImportRecord>> {
        Ok(self.tables().imports.get(&id).cloned())
    }
}

#[async_trait]
impl ImportWrites for MemoryBackend {
    async fn put_import_job(&self, job: &ImportRecord, keep: usize) -> Result<()> {
        put(&mut self.tables().imports, job, keep);
        Ok(())
    }

    async fn put_users_imported(
        &self,
        records: &[UserRecord],
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        {
            let mut tables = self.tables();
            for record in records {
                let key = record.extension.as_str().to_string();
                tables.users.insert(key, record.clone());
            }
            put(&mut tables.imports, job, keep);
        }
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn put_contacts_imported(
        &self,
        records: &[ContactRecord],
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        {
            let mut tables = self.tables();
            for record in records {
                tables.contacts.insert(record.id.clone(), record.clone());
            }
            put(&mut tables.imports, job, keep);
        }
        self.changed_rendered_inputs();
        Ok(())
    }

    async fn merge_devices_imported(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        let mut tables = self.tables();
        for record in records {
            match tables.devices.get_mut(&record.mac.octets()) {
                Some(stored) => merge(stored, record),
                None => {
                    tables.devices.insert(record.mac.octets(), record.clone());
                }
            }
        }
        put(&mut tables.imports, job, keep);
        Ok(())
    }
}
