//! The accounts list, a new account, an account's page and its actions. A password made here
//! (a new account's, a reset) is shown once on a page of its own and never again.

use askama::Template;
use http::StatusCode;

use super::refusal::{About, text};
use super::views::{
    AccountRow, ConfirmPage, DetailPage, ListPage, NewPage, RoleOption, SecretPage,
};
use super::{AccountsTexts, done_text, yes_no};
use crate::clock::rfc3339;
use crate::console::form::Form;
use crate::console::reply::{html, message, see_other};
use crate::console::visit::Visit;
use crate::console::{PageResult, Request, assets};
use crate::domain::{Role, Username};
use crate::model::AccountRecord;
use crate::ops::OpError;
use crate::ops::account_admin::{self, AccountChange, NewAccount, WithPassword};

/// The roles in a select, `chosen` selected.
pub fn role_options(a: &'static AccountsTexts, chosen: Role) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .map(|role| RoleOption {
            value: role.as_str(),
            label: a.role_name(role),
            selected: role == chosen,
        })
        .collect()
}

fn row(a: &'static AccountsTexts, record: &AccountRecord) -> AccountRow {
    AccountRow {
        username: record.username.to_string(),
        role: a.role_name(record.role),
        reads_secrets: yes_no(a, record.may_read_secrets()),
        disabled: record.disabled,
        disabled_text: yes_no(a, record.disabled),
        change_required: yes_no(a, record.password_change_required),
        totp: totp_state(a, record),
        totp_enrolled: record.totp_secret.is_some(),
        totp_required: record.totp_required,
        created_at: rfc3339(record.created_at),
        password_changed_at: rfc3339(record.password_changed_at),
    }
}

fn totp_state(a: &'static AccountsTexts, record: &AccountRecord) -> &'static str {
    match (record.totp_secret.is_some(), record.totp_required) {
        (true, _) => a.totp_states[0],
        (false, true) => a.totp_states[1],
        (false, false) => a.totp_states[2],
    }
}

/// A refusal on a page of its own, with the status of its kind; storage failures stay errors.
pub fn refused(visit: &Visit, about: About, error: OpError) -> PageResult {
    let status = error.status();
    match text(visit.texts.accounts, about, &error) {
        Some(words) => Ok(message(visit.texts, Some(visit.who()), status, words)),
        None => Err(error),
    }
}

pub async fn list(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let a = visit.texts.accounts;
    let accounts = account_admin::list(request.app).await?;
    let page = ListPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        rows: accounts.iter().map(|r| row(a, r)).collect(),
        notice: done_text(a, request.query),
    };
    Ok(html(StatusCode::OK, page.render()))
}

fn new_page(
    visit: &Visit,
    status: StatusCode,
    form: Option<&Form>,
    error: Option<&str>,
) -> PageResult {
    let a = visit.texts.accounts;
    let chosen = form
        .and_then(|f| Role::parse(f.get("role")).ok())
        .unwrap_or(Role::Helpdesk);
    let page = NewPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        username: form.map_or_else(String::new, |f| f.get("username").to_string()),
        roles: role_options(a, chosen),
        reads_secrets: form.is_some_and(|f| f.ticked("reads_secrets")),
        error,
    };
    Ok(html(status, page.render()))
}

pub fn new_form(request: &Request<'_>) -> PageResult {
    new_page(request.visit, StatusCode::OK, None, None)
}

fn secret_page(visit: &Visit, heading: &str, made: &WithPassword) -> PageResult {
    let a = visit.texts.accounts;
    let username = made.record.username.to_string();
    let page = SecretPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        heading,
        note: a.password_once,
        name_label: a.username,
        back: format!("/accounts/{username}"),
        name: username,
        secret_label: a.new_password,
        secret: made.password.expose(),
        back_text: a.back_to_list,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// Creates the account; a refused form comes back with its error and what was typed.
pub async fn create(request: &Request<'_>, form: &Form) -> PageResult {
    let visit = request.visit;
    let a = visit.texts.accounts;
    let wanted = Username::parse(form.get("username"))
        .map_err(OpError::from)
        .and_then(|username| {
            Ok(NewAccount {
                username,
                role: Role::parse(form.get("role"))?,
                reads_secrets: form.ticked("reads_secrets"),
            })
        });
    let made = match wanted {
        Ok(wanted) => account_admin::create(request.app, &visit.actor, wanted).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(made) => secret_page(visit, a.created_heading, &made),
        Err(error) => match text(a, About::NewAccount, &error) {
            Some(words) => {
                let status = error.status();
                new_page(visit, status, Some(form), Some(words))
            }
            None => Err(error),
        },
    }
}

/// The account the page's path names.
fn username_of(request: &Request<'_>) -> Result<Username, OpError> {
    let raw = request.params.first().map_or("", String::as_str);
    Username::parse(raw).map_err(|_| OpError::not_found(format!("no account named {raw}")))
}

fn detail_page(
    visit: &Visit,
    status: StatusCode,
    record: &AccountRecord,
    notice: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let a = visit.texts.accounts;
    let page = DetailPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        account: row(a, record),
        roles: role_options(a, record.role),
        reads_secrets: record.role == Role::Admin && record.reads_secrets,
        notice,
        error,
    };
    Ok(html(status, page.render()))
}

pub async fn detail(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let shown = match username_of(request) {
        Ok(username) => account_admin::show(request.app, &username).await,
        Err(e) => Err(e),
    };
    match shown {
        Ok(record) => {
            let notice = done_text(visit.texts.accounts, request.query);
            detail_page(visit, StatusCode::OK, &record, notice, None)
        }
        Err(error) => refused(visit, About::Account, error),
    }
}

/// A change of the account; refused, the account's page shows why and nothing changed.
async fn change(request: &Request<'_>, change: AccountChange, done: &str) -> PageResult {
    let visit = request.visit;
    let username = match username_of(request) {
        Ok(username) => username,
        Err(error) => return refused(visit, About::Account, error),
    };
    match account_admin::change(request.app, &visit.actor, &username, change).await {
        Ok(_) => Ok(see_other(&format!("/accounts/{username}?done={done}"))),
        Err(error) => {
            let Some(words) = text(visit.texts.accounts, About::Account, &error) else {
                return Err(error);
            };
            let Ok(record) = account_admin::show(request.app, &username).await else {
                return refused(visit, About::Account, error);
            };
            let status = error.status();
            detail_page(visit, status, &record, None, Some(words))
        }
    }
}

pub async fn edit(request: &Request<'_>, form: &Form) -> PageResult {
    let role = match Role::parse(form.get("role")) {
        Ok(role) => role,
        Err(e) => return refused(request.visit, About::Account, e.into()),
    };
    let wanted = AccountChange {
        role: Some(role),
        // The box is only the admin's to tick; for the other roles it is left unticked.
        reads_secrets: Some(role == Role::Admin && form.ticked("reads_secrets")),
        disabled: None,
    };
    change(request, wanted, "changed").await
}

pub async fn set_disabled(request: &Request<'_>, disabled: bool) -> PageResult {
    let wanted = AccountChange {
        disabled: Some(disabled),
        ..AccountChange::default()
    };
    let done = if disabled { "disabled" } else { "enabled" };
    change(request, wanted, done).await
}

pub async fn reset_password(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let made = match username_of(request) {
        Ok(username) => account_admin::reset_password(request.app, &visit.actor, &username).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(made) => secret_page(visit, visit.texts.accounts.reset_heading, &made),
        Err(error) => refused(visit, About::Account, error),
    }
}

/// Without `confirmed=yes` the question; with it, the deletion.
pub async fn delete(request: &Request<'_>, form: &Form) -> PageResult {
    let visit = request.visit;
    let a = visit.texts.accounts;
    let username = match username_of(request) {
        Ok(username) => username,
        Err(error) => return refused(visit, About::Account, error),
    };
    if form.get("confirmed") != "yes" {
        if let Err(error) = account_admin::show(request.app, &username).await {
            return refused(visit, About::Account, error);
        }
        let page = ConfirmPage {
            t: visit.texts,
            css: assets::CSS_PATH.as_str(),
            who: Some(visit.who()),
            csrf: visit.csrf(),
            heading: a.delete,
            question: a.confirm_delete,
            subject: username.to_string(),
            action: format!("/accounts/{username}/delete"),
            back: format!("/accounts/{username}"),
        };
        return Ok(html(StatusCode::OK, page.render()));
    }
    match account_admin::delete(request.app, &visit.actor, &username).await {
        Ok(_) => Ok(see_other("/accounts?done=deleted")),
        Err(error) => refused(visit, About::Account, error),
    }
}
