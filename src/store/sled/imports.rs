//! The sled backend's import job records: the `imports` tree, keyed by the job's id (8 bytes,
//! big-endian, so key order is age), written with an import's rows, all or none (journal.rs).
//!
//! The tree is opened when first used (sled hands out the same tree each time), so that the
//! backend's struct and start-up need not know of it.

use async_trait::async_trait;
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionalTree,
};

use super::journal::Row;
use super::{SledBackend, decode, encode};
use crate::model::{ContactRecord, DeviceRecord, ImportRecord, UserRecord};
use crate::store::backend::{ImportReads, ImportWrites};
use crate::store::{Result, StoreError};

const TREE: &str = "imports";

impl SledBackend {
    pub(super) fn imports(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree(TREE)?)
    }

    /// Drops the oldest records beyond `keep`.
    fn trim_imports(&self, tree: &sled::Tree, keep: usize) -> Result<()> {
        let excess = tree.len().saturating_sub(keep);
        for entry in tree.iter().keys().take(excess) {
            tree.remove(entry?)?;
        }
        Ok(())
    }
}

/// Devices merged as `Writes::merge_devices` describes, inside a transaction.
pub(super) fn merge_in(
    tx: &TransactionalTree,
    records: &[DeviceRecord],
    merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
) -> ConflictableTransactionResult<(), StoreError> {
    for record in records {
        let key = &record.mac.octets()[..];
        let next = match tx.get(key)? {
            Some(bytes) => {
                let mut stored: DeviceRecord =
                    decode(key, &bytes).map_err(ConflictableTransactionError::Abort)?;
                merge(&mut stored, record);
                stored
            }
            None => record.clone(),
        };
        tx.insert(key, encode(&next))?;
    }
    Ok(())
}

#[async_trait]
impl ImportReads for SledBackend {
    async fn import_jobs(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<ImportRecord>, bool)> {
        let tree = self.imports()?;
        let end = before.map_or(u64::MAX, |b| b.saturating_sub(1));
        let mut found = Vec::new();
        for entry in tree.range(..=end.to_be_bytes()).rev() {
            let (key, bytes) = entry?;
            if found.len() == limit {
                return Ok((found, true));
            }
            found.push(decode(&key, &bytes)?);
        }
        Ok((found, false))
    }

    async fn import_job(&self, id: u64) -> Result<Option<ImportRecord>> {
        self.get(&self.imports()?, &id.to_be_bytes())
    }
}

#[async_trait]
impl ImportWrites for SledBackend {
    async fn put_import_job(&self, job: &ImportRecord, keep: usize) -> Result<()> {
        let tree = self.imports()?;
        self.put(&tree, &job.id.to_be_bytes(), job)?;
        self.trim_imports(&tree, keep)
    }

    async fn put_users_imported(
        &self,
        records: &[UserRecord],
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        let imports = self.imports()?;
        let job_row = (&job.id.to_be_bytes()[..], encode(job));
        self.write_all_or_none(&self.users, records, &imports, job_row)?;
        self.trim_imports(&imports, keep)
    }

    async fn put_contacts_imported(
        &self,
        records: &[ContactRecord],
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        let (contacts, imports) = (self.contacts()?, self.imports()?);
        let job_row = (&job.id.to_be_bytes()[..], encode(job));
        self.write_all_or_none(&contacts, records, &imports, job_row)?;
        self.trim_imports(&imports, keep)
    }

    async fn merge_devices_imported(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        let imports = self.imports()?;
        let rows: Vec<Merged> = records
            .iter()
            .map(|record| Merged { record, merge })
            .collect();
        let job_row = (&job.id.to_be_bytes()[..], encode(job));
        self.devices.write_many(records, |tree| {
            self.write_all_or_none(tree, &rows, &imports, job_row)
        })?;
        self.trim_imports(&imports, keep)
    }
}

impl Row for UserRecord {
    fn key(&self) -> Vec<u8> {
        self.extension.as_str().as_bytes().to_vec()
    }
    fn next(&self, _: &[u8], _: Option<&[u8]>) -> Result<Vec<u8>> {
        Ok(encode(self))
    }
}

impl Row for ContactRecord {
    fn key(&self) -> Vec<u8> {
        self.id.as_str().as_bytes().to_vec()
    }
    fn next(&self, _: &[u8], _: Option<&[u8]>) -> Result<Vec<u8>> {
        Ok(encode(self))
    }
}

/// A device merged into the stored one, as `Writes::merge_devices` describes.
struct Merged<'a> {
    record: &'a DeviceRecord,
    merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
}

impl Row for Merged<'_> {
    fn key(&self) -> Vec<u8> {
        self.record.mac.octets().to_vec()
    }
    fn next(&self, key: &[u8], stored: Option<&[u8]>) -> Result<Vec<u8>> {
        let Some(bytes) = stored else {
            return Ok(encode(self.record));
        };
        let mut stored: DeviceRecord = decode(key, bytes)?;
        (self.merge)(&mut stored, self.record);
        Ok(encode(&stored))
    }
}
