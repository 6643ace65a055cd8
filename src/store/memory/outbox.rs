//! The in-memory backend's mail outbox.

use async_trait::async_trait;

use super::MemoryBackend;
use crate::domain::Extension;
use crate::model::{MailRecord, MailState};
use crate::store::Result;
use crate::store::backend::{OutboxReads, OutboxWrites};

#[async_trait]
impl OutboxReads for MemoryBackend {
    async fn mail(&self, id: u64) -> Result<Option<MailRecord>> {
        Ok(self.tables().outbox.get(&id).cloned())
    }

    async fn mails_due(&self, now: i64, limit: usize) -> Result<Vec<MailRecord>> {
        let tables = self.tables();
        let due = tables
            .outbox
            .values()
            .filter(|m| m.state == MailState::Queued && m.next_attempt_at <= now);
        Ok(due.take(limit).cloned().collect())
    }

    async fn mails_page(
        &self,
        before: Option<u64>,
        limit: usize,
        user: Option<&Extension>,
    ) -> Result<(Vec<MailRecord>, bool)> {
        let tables = self.tables();
        let mut older = tables
            .outbox
            .range(..before.unwrap_or(u64::MAX))
            .rev()
            .map(|(_, m)| m)
            .filter(|m| user.is_none_or(|u| m.user.as_ref() == Some(u)));
        let found: Vec<MailRecord> = older.by_ref().take(limit).cloned().collect();
        Ok((found, older.next().is_some()))
    }
}

#[async_trait]
impl OutboxWrites for MemoryBackend {
    async fn queue_mail(&self, mail: &MailRecord) -> Result<u64> {
        let mut tables = self.tables();
        let id = tables.outbox.last_key_value().map_or(1, |(id, _)| id + 1);
        let record = MailRecord { id, ..mail.clone() };
        tables.outbox.insert(id, record);
        Ok(id)
    }

    async fn restore_mail(&self, mail: &MailRecord) -> Result<()> {
        self.tables().outbox.insert(mail.id, mail.clone());
        Ok(())
    }

    async fn replace_mail(&self, mail: &MailRecord) -> Result<bool> {
        let mut tables = self.tables();
        match tables.outbox.get_mut(&mail.id) {
            Some(stored) => {
                *stored = mail.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn trim_mails(&self, queued_before: i64) -> Result<usize> {
        let mut tables = self.tables();
        let before = tables.outbox.len();
        tables
            .outbox
            .retain(|_, m| m.state == MailState::Queued || m.created_at >= queued_before);
        Ok(before - tables.outbox.len())
    }
}
