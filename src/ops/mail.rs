//! The outbox as the fronts use it: queue a mail in the write unit of the action that causes
//! it, send a test mail, list mails. Without `[mail]` each answers that mail is not configured
//! and changes nothing.

use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::audit::Kind;
use crate::domain::Extension;
use crate::mail::{MailConfig, NOT_CONFIGURED, message};
use crate::model::{MailRecord, MailState};

pub use super::mail_sender::spawn_sender;

/// Mails a list shows at most per page.
pub const MAX_PAGE: usize = 500;

pub fn config(app: &App) -> Result<&MailConfig, OpError> {
    app.config
        .mail
        .as_ref()
        .ok_or_else(|| OpError::conflict(NOT_CONFIGURED))
}

fn address(text: &str) -> Result<String, OpError> {
    let text = text.trim();
    text.parse::<lettre::Address>()
        .map(|a| a.to_string())
        .map_err(|_| OpError::invalid(format!("not a mail address: {text:?}")))
}

/// What a mail to queue is: its kind's texts are rendered now, in `language` (the user's) or
/// else the site's.
pub struct Outgoing<'a> {
    pub kind: &'a str,
    pub recipient: &'a str,
    pub user: Option<Extension>,
    pub language: Option<&'a str>,
    pub values: &'a [(&'a str, &'a str)],
    /// The one-time link the sender issues and fills in at `{link}` when it sends.
    pub link: Option<crate::model::LinkPurpose>,
}

/// Queues a mail in `tx`: it is durable with the change when `tx` commits, and audited with it.
pub async fn queue(tx: &mut WriteTx<'_>, mail: Outgoing<'_>) -> Result<u64, OpError> {
    let app = tx.app();
    let config = config(app)?;
    let recipient = address(mail.recipient)?;
    let site = tx.reads().settings().await?;
    let wanted = mail.language.or(site.language().map(|l| l.code));
    let language = message::language_of(wanted);
    let overrides = app.config.server.templates_dir.as_deref();
    let rendered = message::render(overrides, mail.kind, language, mail.values)
        .ok_or_else(|| OpError::Internal(format!("no mail texts of kind {}", mail.kind)))?;
    let now = app.clock.now();
    let record = MailRecord {
        id: 0,
        message_id: message::message_id(&config.from),
        recipient: recipient.clone(),
        user: mail.user.clone(),
        kind: mail.kind.to_string(),
        language: language.to_string(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        link: mail.link,
        state: MailState::Queued,
        attempts: 0,
        last_answer: None,
        next_attempt_at: now,
        created_at: now,
        sent_at: None,
    };
    let id = tx.queue_mail(&record).await?;
    let about = mail.user.map(|u| format!(" about {u}")).unwrap_or_default();
    tx.record(
        Kind::MailQueued,
        id,
        format!("{} mail to {recipient}{about}", mail.kind),
    );
    Ok(id)
}

/// Queues a test mail to `recipient`, for an admin checking the SMTP settings.
pub async fn send_test(app: &App, actor: &Actor, recipient: &str) -> Result<MailRecord, OpError> {
    config(app)?;
    address(recipient)?;
    let mut tx = WriteTx::begin(app, actor).await;
    let outgoing = Outgoing {
        kind: "test",
        recipient,
        user: None,
        language: None,
        values: &[("recipient", recipient.trim()), ("actor", actor.name())],
        link: None,
    };
    let id = queue(&mut tx, outgoing).await?;
    tx.commit().await?;
    app.store
        .mail(id)
        .await?
        .ok_or_else(|| OpError::Internal("a queued mail is gone".into()))
}

/// Removes sent and failed mails older than `[mail] keep_days` (the housekeeping task's).
pub async fn trim(app: &App) -> Result<usize, crate::store::StoreError> {
    let Some(config) = &app.config.mail else {
        return Ok(0);
    };
    let cutoff = app.clock.now() - i64::from(config.keep_days) * 86_400;
    let store = super::write::single_writes(app);
    let removed = store.trim_mails(cutoff).await?;
    if removed > 0 {
        store.flush().await?;
    }
    Ok(removed)
}

/// Mails newest first (about `user` only, when given), with an id below `before`.
pub async fn list(
    app: &App,
    user: Option<&Extension>,
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<MailRecord>, bool), OpError> {
    config(app)?;
    let limit = limit.clamp(1, MAX_PAGE);
    Ok(app.store.mails_page(before, limit, user).await?)
}
