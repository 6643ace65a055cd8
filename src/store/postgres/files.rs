//! Shared files (firmware) on PostgreSQL: each file's parts under its name and digest, then
//! its record, so a node never sees a record whose parts are not all stored; a new content of
//! the same name replaces the old one's parts in the transaction that commits its record.

use super::{Effects, Indexed, PgBackend, Tree, put_raw};
use crate::store::{Result, SharedFile};

fn chunk_key(name: &str, sha256: &str, index: u32) -> Vec<u8> {
    let mut key = chunk_prefix(name);
    key.extend_from_slice(sha256.as_bytes());
    key.push(0);
    key.extend_from_slice(&index.to_be_bytes());
    key
}

fn chunk_prefix(name: &str) -> Vec<u8> {
    let mut key = name.as_bytes().to_vec();
    key.push(0);
    key
}

impl PgBackend {
    pub(super) async fn read_shared_file(&self, name: &str) -> Result<Option<SharedFile>> {
        self.get(Tree::Firmware, name.as_bytes()).await
    }

    pub(super) async fn read_shared_files(&self) -> Result<Vec<SharedFile>> {
        self.all(Tree::Firmware).await
    }

    pub(super) async fn read_chunk(
        &self,
        file: &SharedFile,
        index: u32,
    ) -> Result<Option<Vec<u8>>> {
        self.get_raw(
            Tree::FirmwareChunks,
            &chunk_key(&file.name, &file.sha256, index),
        )
        .await
    }

    pub(super) async fn write_chunk(
        &self,
        name: &str,
        sha256: &str,
        index: u32,
        bytes: &[u8],
    ) -> Result<()> {
        let client = self.client().await?;
        let key = chunk_key(name, sha256, index);
        put_raw(
            &client,
            Tree::FirmwareChunks,
            &key,
            bytes,
            &Indexed::default(),
            &self.shared,
        )
        .await
    }

    /// The record, and the parts of any other content of the name removed, in one transaction.
    pub(super) async fn write_shared_file(&self, file: &SharedFile) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let keep = chunk_key(&file.name, &file.sha256, 0);
        let keep = &keep[..keep.len() - 4];
        let prefix = chunk_prefix(&file.name);
        tx.execute(
            "DELETE FROM records WHERE tree = 'firmware_chunks' AND key >= $1 AND key < $2 \
             AND substring(key from 1 for $4) <> $3",
            &[
                &prefix,
                &super::prefix_end(&prefix),
                &keep,
                &(keep.len() as i32),
            ],
        )
        .await?;
        self.counted(1);
        let value = super::encode(file);
        put_raw(
            &tx,
            Tree::Firmware,
            file.name.as_bytes(),
            &value,
            &Indexed::default(),
            &self.shared,
        )
        .await?;
        self.commit(tx, Effects::default()).await
    }

    pub(super) async fn delete_shared_file(&self, name: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let prefix = chunk_prefix(name);
        tx.execute(
            "DELETE FROM records WHERE tree = 'firmware_chunks' AND key >= $1 AND key < $2",
            &[&prefix, &super::prefix_end(&prefix)],
        )
        .await?;
        let removed = super::remove_raw(&tx, Tree::Firmware, name.as_bytes(), &self.shared).await?;
        self.commit(tx, Effects::default()).await?;
        Ok(removed)
    }
}
