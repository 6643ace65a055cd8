//! The sled backend's mail outbox: the `outbox` tree, keyed by the mail's id (8 bytes,
//! big-endian, so key order is queueing order). Ids come from sled's `generate_id`, which
//! stays monotonic across restarts. Opened when first used, like the imports tree. The
//! queued mails' ids are indexed in memory, so the sender's poll reads only them.

use async_trait::async_trait;

use super::{SledBackend, decode, encode};
use crate::domain::Extension;
use crate::model::{MailRecord, MailState};
use crate::store::Result;
use crate::store::backend::{OutboxReads, OutboxWrites};

const TREE: &str = "outbox";

impl SledBackend {
    fn outbox(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree(TREE)?)
    }

    /// The queued mails' ids, oldest first; the index is built from the tree on first use.
    fn queued_ids(&self, tree: &sled::Tree) -> Result<Vec<u64>> {
        let mut index = self.queued_mails.lock().expect("outbox index lock");
        if index.is_none() {
            let mut queued = std::collections::BTreeSet::new();
            for entry in tree.iter() {
                let (key, bytes) = entry?;
                let mail: MailRecord = decode(&key, &bytes)?;
                if mail.state == MailState::Queued {
                    queued.insert(mail.id);
                }
            }
            *index = Some(queued);
        }
        Ok(index.as_ref().expect("built").iter().copied().collect())
    }

    /// Keeps the index (once built) in step with a mail just written.
    fn index_mail(&self, id: u64, queued: bool) {
        let mut index = self.queued_mails.lock().expect("outbox index lock");
        if let Some(ids) = index.as_mut() {
            match queued {
                true => ids.insert(id),
                false => ids.remove(&id),
            };
        }
    }
}

#[async_trait]
impl OutboxReads for SledBackend {
    async fn mail(&self, id: u64) -> Result<Option<MailRecord>> {
        let key = id.to_be_bytes();
        match self.outbox()?.get(key)? {
            Some(bytes) => Ok(Some(decode(&key, &bytes)?)),
            None => Ok(None),
        }
    }

    async fn mails_due(&self, now: i64, limit: usize) -> Result<Vec<MailRecord>> {
        let tree = self.outbox()?;
        let mut due = Vec::new();
        for id in self.queued_ids(&tree)? {
            let key = id.to_be_bytes();
            let Some(bytes) = tree.get(key)? else {
                continue;
            };
            let mail: MailRecord = decode(&key, &bytes)?;
            if mail.state == MailState::Queued && mail.next_attempt_at <= now {
                due.push(mail);
                if due.len() == limit {
                    break;
                }
            }
        }
        Ok(due)
    }

    async fn mails_page(
        &self,
        before: Option<u64>,
        limit: usize,
        user: Option<&Extension>,
    ) -> Result<(Vec<MailRecord>, bool)> {
        let end = before.unwrap_or(u64::MAX);
        let mut found = Vec::new();
        for entry in self.outbox()?.range(..end.to_be_bytes()).rev() {
            let (key, bytes) = entry?;
            let mail: MailRecord = decode(&key, &bytes)?;
            if user.is_some_and(|u| mail.user.as_ref() != Some(u)) {
                continue;
            }
            if found.len() == limit {
                return Ok((found, true));
            }
            found.push(mail);
        }
        Ok((found, false))
    }
}

#[async_trait]
impl OutboxWrites for SledBackend {
    async fn queue_mail(&self, mail: &MailRecord) -> Result<u64> {
        // generate_id starts at 0; 0 is kept free so that "before 0" never hides a mail. A
        // restored backup may hold larger ids than this database ever generated.
        let tree = self.outbox()?;
        let restored_up_to = match tree.last()? {
            Some((key, _)) => u64::from_be_bytes(key.as_ref().try_into().unwrap_or_default()),
            None => 0,
        };
        let mut id = (self.db.generate_id()? + 1).max(restored_up_to + 1);
        loop {
            let record = MailRecord { id, ..mail.clone() };
            let fresh =
                tree.compare_and_swap(id.to_be_bytes(), None::<&[u8]>, Some(encode(&record)))?;
            if fresh.is_ok() {
                self.index_mail(id, record.state == MailState::Queued);
                return Ok(id);
            }
            id += 1;
        }
    }

    async fn restore_mail(&self, mail: &MailRecord) -> Result<()> {
        self.outbox()?.insert(mail.id.to_be_bytes(), encode(mail))?;
        self.index_mail(mail.id, mail.state == MailState::Queued);
        Ok(())
    }

    async fn replace_mail(&self, mail: &MailRecord) -> Result<bool> {
        let tree = self.outbox()?;
        let key = mail.id.to_be_bytes();
        if tree.get(key)?.is_none() {
            return Ok(false);
        }
        tree.insert(key, encode(mail))?;
        self.index_mail(mail.id, mail.state == MailState::Queued);
        Ok(true)
    }

    async fn trim_mails(&self, queued_before: i64) -> Result<usize> {
        let tree = self.outbox()?;
        let mut removed = 0;
        for entry in tree.iter() {
            let (key, bytes) = entry?;
            let mail: MailRecord = decode(&key, &bytes)?;
            if mail.state != MailState::Queued && mail.created_at < queued_before {
                tree.remove(key)?;
                self.index_mail(mail.id, false);
                removed += 1;
            }
        }
        Ok(removed)
    }
}
