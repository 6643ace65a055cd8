//! The tokens page: every admin token with its role, expiry and last use, the form that
//! creates one (shown once on a page of its own), and revoking behind a confirmation.

use askama::Template;
use http::StatusCode;

use super::account::{refused, role_options};
use super::refusal::{About, text};
use super::views::{ConfirmPage, SecretPage, TokenRow, TokensPage};
use super::{AccountsTexts, done_text, yes_no};
use crate::clock::rfc3339;
use crate::console::form::Form;
use crate::console::reply::{html, see_other};
use crate::console::visit::Visit;
use crate::console::{PageResult, Request, assets};
use crate::domain::{Label, Role};
use crate::model::TokenRecord;
use crate::ops::OpError;
use crate::ops::tokens::{self, NewToken, id_of};

fn row(a: &'static AccountsTexts, record: &TokenRecord) -> TokenRow {
    TokenRow {
        id: id_of(record).to_string(),
        name: record.name.clone(),
        role: a.role_name(record.role),
        reads_secrets: yes_no(a, record.may_read_secrets()),
        created_at: rfc3339(record.created_at),
        expires: record
            .expires_at
            .map_or_else(|| a.never.to_string(), rfc3339),
        last_used: record
            .last_used_at
            .map_or_else(|| a.not_used.to_string(), rfc3339),
    }
}

async fn page(
    request: &Request<'_>,
    status: StatusCode,
    form: Option<&Form>,
    error: Option<&str>,
) -> PageResult {
    let visit = request.visit;
    let a = visit.texts.accounts;
    let mut records = request.app.store.tokens().await?;
    records.sort_by(|x, y| x.name.cmp(&y.name));
    let chosen = form
        .and_then(|f| Role::parse(f.get("role")).ok())
        .unwrap_or(Role::Readonly);
    let typed = |name: &str| form.map_or_else(String::new, |f| f.get(name).to_string());
    let page = TokensPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        rows: records.iter().map(|r| row(a, r)).collect(),
        roles: role_options(a, chosen),
        name: typed("name"),
        expires: typed("expires"),
        reads_secrets: form.is_some_and(|f| f.ticked("reads_secrets")),
        notice: done_text(a, request.query),
        error,
    };
    Ok(html(status, page.render()))
}

pub async fn list(request: &Request<'_>) -> PageResult {
    page(request, StatusCode::OK, None, None).await
}

/// The expiry field: empty for never, else a day (YYYY-MM-DD) from whose start, UTC, the
/// token is refused.
fn expiry(value: &str) -> Result<Option<i64>, OpError> {
    if value.is_empty() {
        return Ok(None);
    }
    let day = value.len() == 10 && value.chars().all(|c| c.is_ascii_digit() || c == '-');
    if !day {
        return Err(OpError::invalid("expires_at: must be a day, YYYY-MM-DD"));
    }
    let at = crate::clock::parse_rfc3339("expires_at", &format!("{value}T00:00:00Z"))?;
    Ok(Some(at))
}

fn wanted(form: &Form) -> Result<NewToken, OpError> {
    let role = Role::parse(form.get("role"))?;
    Ok(NewToken {
        name: Label::parse_field("name", form.get("name"))?,
        role,
        reads_secrets: role == Role::Admin && form.ticked("reads_secrets"),
        expires_at: expiry(form.get("expires"))?,
    })
}

fn created_page(visit: &Visit, created: &tokens::Created) -> PageResult {
    let a = visit.texts.accounts;
    let page = SecretPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        heading: a.token_created,
        note: a.token_once,
        name_label: a.token_name,
        name: created.record.name.clone(),
        secret_label: a.token,
        secret: created.token.expose(),
        back: "/tokens".into(),
        back_text: a.back_to_list,
    };
    Ok(html(StatusCode::OK, page.render()))
}

pub async fn create(request: &Request<'_>, form: &Form) -> PageResult {
    let visit = request.visit;
    let created = match wanted(form) {
        Ok(new) => tokens::create(request.app, &visit.actor, new).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(created) => created_page(visit, &created),
        Err(error) => match text(visit.texts.accounts, About::NewToken, &error) {
            Some(words) => page(request, error.status(), Some(form), Some(words)).await,
            None => Err(error),
        },
    }
}

/// Without `confirmed=yes` the question; with it, the revocation.
pub async fn revoke(request: &Request<'_>, form: &Form) -> PageResult {
    let visit = request.visit;
    let a = visit.texts.accounts;
    let id = request.params.first().map_or("", String::as_str);
    let known = request.app.store.tokens().await?;
    let Some(record) = known.iter().find(|t| id_of(t) == id) else {
        return refused(visit, About::Token, OpError::not_found("no such token"));
    };
    if form.get("confirmed") != "yes" {
        let page = ConfirmPage {
            t: visit.texts,
            css: assets::CSS_PATH.as_str(),
            who: Some(visit.who()),
            csrf: visit.csrf(),
            heading: a.revoke,
            question: a.confirm_revoke,
            subject: record.name.clone(),
            action: format!("/tokens/{id}/revoke"),
            back: "/tokens".into(),
        };
        return Ok(html(StatusCode::OK, page.render()));
    }
    // A console request carries no token, so `force`: the actor's name is an account's, and
    // a token of the same name is not the one "in use".
    match tokens::revoke(request.app, &visit.actor, id, true).await {
        Ok(_) => Ok(see_other("/tokens?done=revoked")),
        Err(error) => refused(visit, About::Token, error),
    }
}
