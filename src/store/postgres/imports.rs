//! CSV import jobs on PostgreSQL: an import's rows and its final record in one transaction,
//! so they are written all or none without a journal.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::{Effects, Indexed, PgBackend, Tree, encode, put_raw};
use crate::model::{ContactRecord, DeviceRecord, ImportRecord, UserRecord};
use crate::store::Result;
use crate::store::backend::{ImportReads, ImportWrites};

impl PgBackend {
    /// Stores the job's record and drops the oldest beyond `keep`, inside `tx`.
    async fn write_job(
        &self,
        tx: &impl GenericClient,
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        let key = job.id.to_be_bytes();
        put_raw(
            tx,
            Tree::Imports,
            &key,
            &encode(job),
            &Indexed::default(),
            &self.shared,
        )
        .await?;
        tx.execute(
            "DELETE FROM records WHERE tree = 'imports' AND key IN \
             (SELECT key FROM records WHERE tree = 'imports' ORDER BY key DESC OFFSET $1)",
            &[&(keep as i64)],
        )
        .await?;
        self.counted(1);
        Ok(())
    }
}

#[async_trait]
impl ImportReads for PgBackend {
    async fn import_jobs(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<ImportRecord>, bool)> {
        let before = before.map(u64::to_be_bytes);
        let all = |_: &ImportRecord| true;
        self.page(
            Tree::Imports,
            before.as_ref().map(|b| &b[..]),
            true,
            limit,
            all,
        )
        .await
    }

    async fn import_job(&self, id: u64) -> Result<Option<ImportRecord>> {
        self.get(Tree::Imports, &id.to_be_bytes()).await
    }
}

#[async_trait]
impl ImportWrites for PgBackend {
    async fn put_import_job(&self, job: &ImportRecord, keep: usize) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        self.write_job(&tx, job, keep).await?;
        self.commit(tx, Effects::default()).await
    }

    async fn put_users_imported(
        &self,
        records: &[UserRecord],
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        self.write_users(&tx, records).await?;
        self.write_job(&tx, job, keep).await?;
        self.commit(tx, Effects::rendered()).await
    }

    async fn put_contacts_imported(
        &self,
        records: &[ContactRecord],
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        for record in records {
            let key = record.id.as_str().as_bytes();
            put_raw(
                &tx,
                Tree::Contacts,
                key,
                &encode(record),
                &Indexed::default(),
                &self.shared,
            )
            .await?;
        }
        self.write_job(&tx, job, keep).await?;
        self.commit(tx, Effects::rendered()).await
    }

    async fn merge_devices_imported(
        &self,
        records: &[DeviceRecord],
        merge: for<'x, 'y> fn(&'x mut DeviceRecord, &'y DeviceRecord),
        job: &ImportRecord,
        keep: usize,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        self.write_devices(&tx, records, Some(merge)).await?;
        self.write_job(&tx, job, keep).await?;
        self.commit(tx, Effects::devices(records)).await
    }
}
