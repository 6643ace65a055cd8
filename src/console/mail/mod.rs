//! The outbox page: every mail with its state (queued, sent, failed with the server's
//! answer), newest first in pages of [`PAGE_SIZE`], and, for the owner, a test mail to check
//! the SMTP settings.

pub mod texts;

use askama::Template;
use http::{Method, StatusCode};

pub use texts::MailTexts;

use super::form::{Form, query_value};
use super::pages::{Page, PageDef, Who};
use super::reply::{html, see_other};
use super::{PageResult, Request, account_permits, assets};
use crate::admin::endpoint::Access;
use crate::clock::rfc3339;
use crate::model::{MailRecord, MailState};
use crate::ops::{OpError, mail};

const PAGE_SIZE: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailPage {
    Outbox,
    SendTest,
}

pub static PAGES: &[PageDef] = &[
    PageDef {
        page: Page::Mail(MailPage::Outbox),
        method: Method::GET,
        path: "/mail",
        name: "page: mail outbox",
        access: Access::Read,
    },
    PageDef {
        page: Page::Mail(MailPage::SendTest),
        method: Method::POST,
        path: "/mail/test",
        name: "page: send test mail",
        access: Access::Site,
    },
];

struct Row {
    id: u64,
    queued_at: String,
    recipient: String,
    user: String,
    kind: &'static str,
    state: &'static str,
    failed: bool,
    attempts: u32,
    answer: String,
}

#[derive(Template)]
#[template(path = "mail/outbox.html")]
struct OutboxPage<'a> {
    t: &'static super::texts::Texts,
    m: &'static MailTexts,
    css: &'a str,
    who: Option<Who>,
    csrf: &'a str,
    configured: bool,
    rows: Vec<Row>,
    older: Option<String>,
    newest: bool,
    notice: Option<&'a str>,
    may_test: bool,
}

pub async fn show(request: &Request<'_>, page: MailPage) -> PageResult {
    match page {
        MailPage::Outbox => {
            let done = query_value(request.query, "done");
            let notice = (done == Some("test")).then_some(request.visit.texts.mail.test_queued);
            outbox(request, StatusCode::OK, notice).await
        }
        MailPage::SendTest => Ok(super::method_not_allowed("POST")),
    }
}

pub async fn submit(request: &Request<'_>, page: MailPage, form: &Form) -> PageResult {
    match page {
        MailPage::SendTest => {
            let address = form.get("address");
            match mail::send_test(request.app, &request.visit.actor, address).await {
                Ok(_) => Ok(see_other("/mail?done=test")),
                Err(OpError::Invalid(_)) => {
                    let refused = request.visit.texts.mail.bad_address;
                    outbox(request, StatusCode::BAD_REQUEST, Some(refused)).await
                }
                Err(OpError::Conflict(_)) => outbox(request, StatusCode::CONFLICT, None).await,
                Err(e) => Err(e),
            }
        }
        MailPage::Outbox => Ok(super::method_not_allowed("GET, HEAD")),
    }
}

async fn outbox(request: &Request<'_>, status: StatusCode, notice: Option<&str>) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let (t, m) = (visit.texts, visit.texts.mail);
    let configured = app.config.mail.is_some();
    // The cursor: mails with a smaller id.
    let before = query_value(request.query, "before").and_then(|id| id.parse().ok());
    let (records, more) = match configured {
        true => mail::list(app, None, before, PAGE_SIZE).await?,
        false => (Vec::new(), false),
    };
    let older = records
        .last()
        .filter(|_| more)
        .map(|last| format!("/mail?before={}", last.id));
    let page = OutboxPage {
        t,
        m,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        configured,
        rows: records.iter().map(|r| row(t, r)).collect(),
        older,
        newest: before.is_some(),
        notice,
        may_test: configured && account_permits(&visit.account, Access::Site),
    };
    Ok(html(status, page.render()))
}

fn row(t: &super::texts::Texts, r: &MailRecord) -> Row {
    let u = t.users;
    Row {
        id: r.id,
        queued_at: rfc3339(r.created_at),
        recipient: r.recipient.clone(),
        user: r.user.as_ref().map(|u| u.to_string()).unwrap_or_default(),
        kind: u.mail_kind(&r.kind),
        state: u.mail_state(r.state),
        failed: r.state == MailState::Failed,
        attempts: r.attempts,
        answer: r.last_answer.clone().unwrap_or_default(),
    }
}
