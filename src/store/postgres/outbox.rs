//! The mail outbox on PostgreSQL. A queued mail's row carries its next attempt in `sort`, so
//! the sender's poll reads only what is due; ids come from a sequence, above every earlier one
//! on every node.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::{Effects, Indexed, PgBackend, Tree, decode};
use crate::domain::Extension;
use crate::model::{MailRecord, MailState};
use crate::store::Result;
use crate::store::backend::{OutboxReads, OutboxWrites};

fn mail_indexed(mail: &MailRecord) -> Indexed {
    Indexed {
        sort: (mail.state == MailState::Queued).then_some(mail.next_attempt_at),
        tag: mail.user.as_ref().map(|u| u.as_str().to_string()),
    }
}

#[async_trait]
impl OutboxReads for PgBackend {
    async fn mail(&self, id: u64) -> Result<Option<MailRecord>> {
        self.get(Tree::Outbox, &id.to_be_bytes()).await
    }

    async fn mails_due(&self, now: i64, limit: usize) -> Result<Vec<MailRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT key, value FROM records WHERE tree = 'outbox' AND sort <= $1 \
                 ORDER BY key LIMIT $2",
                &[&now, &(limit as i64)],
            )
            .await?;
        self.counted(1);
        rows.iter()
            .map(|row| decode(row.get::<_, &[u8]>(0), row.get::<_, &[u8]>(1)))
            .filter(
                |mail| !matches!(mail, Ok(MailRecord { state, .. }) if *state != MailState::Queued),
            )
            .collect()
    }

    async fn mails_page(
        &self,
        before: Option<u64>,
        limit: usize,
        user: Option<&Extension>,
    ) -> Result<(Vec<MailRecord>, bool)> {
        let before = before.map(u64::to_be_bytes);
        let about = |mail: &MailRecord| user.is_none_or(|u| mail.user.as_ref() == Some(u));
        self.page(
            Tree::Outbox,
            before.as_ref().map(|b| &b[..]),
            true,
            limit,
            about,
        )
        .await
    }
}

impl PgBackend {
    async fn put_mail(&self, tx: &impl GenericClient, mail: &MailRecord) -> Result<()> {
        let key = mail.id.to_be_bytes();
        let value = super::encode(mail);
        let indexed = mail_indexed(mail);
        super::put_raw(tx, Tree::Outbox, &key, &value, &indexed, &self.shared).await
    }
}

#[async_trait]
impl OutboxWrites for PgBackend {
    async fn queue_mail(&self, mail: &MailRecord) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id: i64 = tx
            .query_one("SELECT nextval('mail_ids')", &[])
            .await?
            .get(0);
        self.counted(1);
        let record = MailRecord {
            id: id as u64,
            ..mail.clone()
        };
        self.put_mail(&tx, &record).await?;
        self.commit(tx, Effects::default()).await?;
        Ok(record.id)
    }

    async fn restore_mail(&self, mail: &MailRecord) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        self.put_mail(&tx, mail).await?;
        tx.execute(
            "SELECT setval('mail_ids', GREATEST($1, (SELECT last_value FROM mail_ids)))",
            &[&(mail.id as i64)],
        )
        .await?;
        self.counted(1);
        self.commit(tx, Effects::default()).await
    }

    async fn replace_mail(&self, mail: &MailRecord) -> Result<bool> {
        let key = mail.id.to_be_bytes();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if super::get_raw_for_update(&tx, Tree::Outbox, &key, &self.shared)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        self.put_mail(&tx, mail).await?;
        self.commit(tx, Effects::default()).await?;
        Ok(true)
    }

    async fn trim_mails(&self, queued_before: i64) -> Result<usize> {
        let done =
            |mail: &MailRecord| mail.state != MailState::Queued && mail.created_at < queued_before;
        self.prune(Tree::Outbox, done).await
    }
}
