//! The API's mail handlers: send a test mail (`POST /mail/test`), list the outbox
//! (`GET /mail`). Both answer 409 "mail is not configured" without `[mail]`.

use std::collections::BTreeSet;

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiResult;
use crate::app::App;
use crate::domain::Extension;
use crate::model::{LinkPurpose, MailRecord};
use crate::ops::{Actor, mail};
use crate::respond;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestMail {
    /// Where the test mail goes.
    pub address: String,
}

/// A mail in the outbox, without its body.
#[derive(Serialize, ToSchema)]
pub struct MailView {
    pub id: String,
    pub message_id: String,
    pub recipient: String,
    pub user: Option<String>,
    pub kind: String,
    pub language: String,
    pub subject: String,
    /// queued, sent or failed.
    pub state: String,
    pub attempts: u32,
    /// The server's (or the connection's) last answer to a failed attempt.
    pub last_answer: Option<String>,
    /// Unix seconds.
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

impl From<&MailRecord> for MailView {
    fn from(m: &MailRecord) -> MailView {
        MailView {
            id: m.id.to_string(),
            message_id: m.message_id.clone(),
            recipient: m.recipient.clone(),
            user: m.user.as_ref().map(|u| u.to_string()),
            kind: m.kind.clone(),
            language: m.language.clone(),
            subject: m.subject.clone(),
            state: m.state.as_str().into(),
            attempts: m.attempts,
            last_answer: m.last_answer.clone(),
            next_attempt_at: m.next_attempt_at,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// Users to mail.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionList {
    #[schema(value_type = Vec<Extension>, min_items = 1, max_items = 10000)]
    pub extensions: Vec<String>,
}

/// The mails queued, one per user; follow them in `GET /mail`.
#[derive(Serialize, ToSchema)]
pub struct MailsQueued {
    pub mails: Vec<MailView>,
}

/// Queues a welcome or reset mail for each user named, all or none.
pub async fn links(app: &App, by: &Actor, purpose: LinkPurpose, body: ExtensionList) -> ApiResult {
    let extensions = body
        .extensions
        .iter()
        .map(|e| Extension::parse(e))
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(crate::ops::OpError::from)?;
    let ids = crate::ops::portal_mail::send(app, by, purpose, &extensions).await?;
    let mut mails = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(record) = app.store.mail(id).await? {
            mails.push(MailView::from(&record));
        }
    }
    Ok(respond::json(StatusCode::ACCEPTED, &MailsQueued { mails }))
}

pub async fn test(app: &App, by: &Actor, body: TestMail) -> ApiResult {
    let record = mail::send_test(app, by, &body.address).await?;
    Ok(respond::json(
        StatusCode::ACCEPTED,
        &MailView::from(&record),
    ))
}

/// Newest first, in pages (`after`: a mail's id); `user` keeps one user's mails.
pub async fn list(app: &App, query: &str) -> ApiResult {
    let (page, filters) = super::paging::parse(query, &["user"])?;
    let before = super::paging::id_cursor(&page)?;
    let user = match filters.iter().find(|(k, _)| k == "user") {
        Some((_, raw)) => Some(Extension::parse(raw).map_err(crate::ops::OpError::from)?),
        None => None,
    };
    let (records, more) = mail::list(app, user.as_ref(), before, page.limit).await?;
    let views: Vec<MailView> = records.iter().map(MailView::from).collect();
    let next = views.last().filter(|_| more).map(|last| last.id.clone());
    Ok(super::paging::answer::<MailView>(views, next))
}
