//! All-or-nothing writes of many records (an import's rows) without one sled transaction of
//! them all: a sled transaction, or a batch, keeps every page it touches until it ends, and an
//! import of 100,000 users held 750 MiB that way. The rows are written in chunks instead, once
//! a journal of what each of their keys held before is durable; the job's record and the
//! journal's end are one small transaction. A failed chunk is undone at once, a crash before
//! the end at the next open. While the chunks are written, a reader may see some of them.

use sled::Transactional;
use sled::transaction::{ConflictableTransactionResult, TransactionError};

use super::SledBackend;
use crate::store::{Result, StoreError};

const TREE: &str = "import_journal";
/// Present while rows are being written: the name of the tree they go to. Chunks are keyed by
/// their number (4 bytes, big-endian, so below this key).
const WRITING: &[u8] = b"writing";
const CHUNK: usize = 1000;

/// A key and what it held before (`None`: nothing).
type Before = (Vec<u8>, Option<sled::IVec>);

/// One record of an all-or-nothing write: its key, and its new value from the stored one.
pub(super) trait Row {
    fn key(&self) -> Vec<u8>;
    fn next(&self, key: &[u8], stored: Option<&[u8]>) -> Result<Vec<u8>>;
}

impl SledBackend {
    fn journal(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree(TREE)?)
    }

    /// Writes every row into `tree` and `job` (key, value) into `imports`, all or none.
    pub(super) fn write_all_or_none<R: Row>(
        &self,
        tree: &sled::Tree,
        rows: &[R],
        imports: &sled::Tree,
        job: (&[u8], Vec<u8>),
    ) -> Result<()> {
        let journal = self.journal()?;
        self.begin_journal(&journal, tree, rows)?;
        let written = apply(tree, rows).and_then(|()| {
            let ended = (imports, &journal).transaction(|(imports, journal)| {
                imports.insert(job.0, job.1.clone())?;
                journal.remove(WRITING)?;
                ConflictableTransactionResult::<(), StoreError>::Ok(())
            });
            ended.map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
        });
        self.changed_rendered_inputs();
        if let Err(e) = written {
            self.undo_journal()?;
            return Err(e);
        }
        Ok(())
    }

    /// Makes the journal of `rows` durable: what each key of `tree` holds now, then the mark.
    fn begin_journal<R: Row>(
        &self,
        journal: &sled::Tree,
        tree: &sled::Tree,
        rows: &[R],
    ) -> Result<()> {
        // The last write's chunks go only once its end is durable.
        self.db.flush()?;
        journal.clear()?;
        for (number, chunk) in rows.chunks(CHUNK).enumerate() {
            let mut befores = Vec::with_capacity(chunk.len());
            for row in chunk {
                let key = row.key();
                let before = tree.get(&key)?;
                befores.push((key, before));
            }
            journal.insert((number as u32).to_be_bytes(), encode_befores(&befores))?;
        }
        journal.insert(WRITING, tree.name())?;
        self.db.flush()?;
        Ok(())
    }

    /// Puts back what the journal's keys held before an unfinished write (at open, or after a
    /// failed chunk); nothing without one.
    pub(super) fn undo_journal(&self) -> Result<()> {
        let journal = self.journal()?;
        let Some(name) = journal.get(WRITING)? else {
            return Ok(());
        };
        let tree = self.db.open_tree(name)?;
        for entry in journal.range(..WRITING) {
            let (_, chunk) = entry?;
            for (key, before) in decode_befores(&chunk)? {
                match before {
                    Some(value) => tree.insert(key, value)?,
                    None => tree.remove(key)?,
                };
            }
        }
        self.db.flush()?;
        journal.remove(WRITING)?;
        self.db.flush()?;
        self.changed_rendered_inputs();
        tracing::warn!(tree = %String::from_utf8_lossy(&tree.name()), "an unfinished import was undone");
        Ok(())
    }
}

/// The rows in chunks, each chunk one batch, so that sled frees its pages between them.
fn apply<R: Row>(tree: &sled::Tree, rows: &[R]) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let mut batch = sled::Batch::default();
        for row in chunk {
            let key = row.key();
            let stored = tree.get(&key)?;
            let next = row.next(&key, stored.as_deref())?;
            batch.insert(key, next);
        }
        tree.apply_batch(batch)?;
    }
    Ok(())
}

/// Each entry as: key length (u32), key, 0 (absent) or 1, and then value length and value.
fn encode_befores(befores: &[Before]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, before) in befores {
        out.extend_from_slice(&(key.len() as u32).to_be_bytes());
        out.extend_from_slice(key);
        match before {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                out.extend_from_slice(&(value.len() as u32).to_be_bytes());
                out.extend_from_slice(value);
            }
        }
    }
    out
}

fn decode_befores(mut bytes: &[u8]) -> Result<Vec<Before>> {
    let torn = || StoreError::Database("the import journal is damaged".into());
    let take = |n: usize, bytes: &mut &[u8]| -> Result<Vec<u8>> {
        let (head, rest) = bytes.split_at_checked(n).ok_or_else(torn)?;
        *bytes = rest;
        Ok(head.to_vec())
    };
    let mut befores = Vec::new();
    while !bytes.is_empty() {
        let length = |b: Vec<u8>| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize;
        let key_length = length(take(4, &mut bytes)?);
        let key = take(key_length, &mut bytes)?;
        let before = match take(1, &mut bytes)?[0] {
            0 => None,
            _ => {
                let value_length = length(take(4, &mut bytes)?);
                Some(take(value_length, &mut bytes)?.into())
            }
        };
        befores.push((key, before));
    }
    Ok(befores)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Put(u32, &'static str);

    impl Row for Put {
        fn key(&self) -> Vec<u8> {
            self.0.to_be_bytes().to_vec()
        }
        fn next(&self, _: &[u8], _: Option<&[u8]>) -> Result<Vec<u8>> {
            if self.1 == "fail" {
                return Err(StoreError::Database("refused".into()));
            }
            Ok(self.1.as_bytes().to_vec())
        }
    }

    fn rows(count: u32, value: &'static str) -> Vec<Put> {
        (0..count).map(|i| Put(i, value)).collect()
    }

    fn values(tree: &sled::Tree) -> Vec<(u32, String)> {
        tree.iter()
            .map(|e| {
                let (k, v) = e.unwrap();
                let key = u32::from_be_bytes(k.as_ref().try_into().unwrap());
                (key, String::from_utf8(v.to_vec()).unwrap())
            })
            .collect()
    }

    fn store() -> (tempfile::TempDir, SledBackend) {
        let dir = tempfile::tempdir().unwrap();
        let store = SledBackend::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn befores_read_back_as_written() {
        let befores = vec![
            (b"a".to_vec(), None),
            (b"key".to_vec(), Some(sled::IVec::from(&b"value"[..]))),
            (Vec::new(), Some(sled::IVec::from(&b""[..]))),
        ];
        assert_eq!(decode_befores(&encode_befores(&befores)).unwrap(), befores);
        let mut torn = encode_befores(&befores);
        torn.pop();
        assert!(decode_befores(&torn).is_err());
    }

    #[test]
    fn a_write_of_many_chunks_lands_whole_with_its_job() {
        let (_dir, store) = store();
        let (tree, imports) = (store.db.open_tree("t").unwrap(), store.imports().unwrap());
        store
            .write_all_or_none(
                &tree,
                &rows(2500, "new"),
                &imports,
                (b"job", b"done".to_vec()),
            )
            .unwrap();
        assert_eq!(tree.len(), 2500);
        assert_eq!(imports.get(b"job").unwrap().unwrap(), &b"done"[..]);
        assert_eq!(store.journal().unwrap().get(WRITING).unwrap(), None);
    }

    /// A chunk failing after two were written leaves the tree as it was, job record included.
    #[test]
    fn a_failed_chunk_undoes_the_chunks_before_it() {
        let (_dir, store) = store();
        let (tree, imports) = (store.db.open_tree("t").unwrap(), store.imports().unwrap());
        tree.insert(5u32.to_be_bytes(), "old").unwrap();
        let mut rows = rows(2500, "new");
        rows.push(Put(9999, "fail"));
        let failed = store.write_all_or_none(&tree, &rows, &imports, (b"job", b"done".to_vec()));
        assert!(
            matches!(failed, Err(StoreError::Database(ref m)) if m == "refused"),
            "{failed:?}"
        );
        assert_eq!(values(&tree), vec![(5, "old".to_string())]);
        assert_eq!(imports.get(b"job").unwrap(), None);
    }

    /// A crash after some chunks were written: the next open puts the old values back.
    #[test]
    fn an_unfinished_write_is_undone_at_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledBackend::open(dir.path()).unwrap();
            let tree = store.db.open_tree("t").unwrap();
            tree.insert(5u32.to_be_bytes(), "old").unwrap();
            let rows = rows(2500, "new");
            store
                .begin_journal(&store.journal().unwrap(), &tree, &rows)
                .unwrap();
            apply(&tree, &rows[..1500]).unwrap();
            store.db.flush().unwrap();
        }
        let store = super::super::reopen(dir.path());
        let tree = store.db.open_tree("t").unwrap();
        assert_eq!(values(&tree), vec![(5, "old".to_string())]);
        assert_eq!(store.journal().unwrap().get(WRITING).unwrap(), None);
    }
}
