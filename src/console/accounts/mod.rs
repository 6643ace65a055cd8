//! The owner's pages for console accounts and admin tokens: the accounts list, a new account
//! with its password shown once, an account's page (role, leave to read secrets, disable or
//! enable, reset the password, delete behind a confirmation) in `account.rs`; the tokens list
//! with its create form and a revocation behind a confirmation in `tokens.rs`. Templates in
//! `views.rs`, refusals in the page's words in `refusal.rs`.

mod account;
mod refusal;
pub mod texts;
mod tokens;
mod views;

use http::Method;

use super::form::Form;
use super::pages::{Page, PageDef};
use super::{PageResult, Request};
use crate::admin::endpoint::Access;

pub use texts::AccountsTexts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountsPage {
    List,
    NewForm,
    Create,
    Detail,
    Edit,
    Disable,
    Enable,
    ResetPassword,
    Delete,
    Tokens,
    CreateToken,
    RevokeToken,
}

const fn def(
    page: AccountsPage,
    method: Method,
    path: &'static str,
    name: &'static str,
) -> PageDef {
    PageDef {
        page: Page::Accounts(page),
        method,
        path,
        name,
        access: Access::Security,
    }
}

/// Literal paths come before the `{username}` ones they would otherwise match.
pub static PAGES: &[PageDef] = &[
    def(
        AccountsPage::List,
        Method::GET,
        "/accounts",
        "page: accounts",
    ),
    def(
        AccountsPage::NewForm,
        Method::GET,
        "/accounts/new",
        "page: new account",
    ),
    def(
        AccountsPage::Create,
        Method::POST,
        "/accounts/new",
        "page: create account",
    ),
    def(
        AccountsPage::Detail,
        Method::GET,
        "/accounts/{username}",
        "page: account",
    ),
    def(
        AccountsPage::Edit,
        Method::POST,
        "/accounts/{username}/edit",
        "page: change account",
    ),
    def(
        AccountsPage::Disable,
        Method::POST,
        "/accounts/{username}/disable",
        "page: disable account",
    ),
    def(
        AccountsPage::Enable,
        Method::POST,
        "/accounts/{username}/enable",
        "page: enable account",
    ),
    def(
        AccountsPage::ResetPassword,
        Method::POST,
        "/accounts/{username}/reset-password",
        "page: reset account password",
    ),
    def(
        AccountsPage::Delete,
        Method::POST,
        "/accounts/{username}/delete",
        "page: delete account",
    ),
    def(AccountsPage::Tokens, Method::GET, "/tokens", "page: tokens"),
    def(
        AccountsPage::CreateToken,
        Method::POST,
        "/tokens/new",
        "page: create token",
    ),
    def(
        AccountsPage::RevokeToken,
        Method::POST,
        "/tokens/{id}/revoke",
        "page: revoke token",
    ),
];

pub async fn show(request: &Request<'_>, page: AccountsPage) -> PageResult {
    match page {
        AccountsPage::List => account::list(request).await,
        AccountsPage::NewForm => account::new_form(request),
        AccountsPage::Detail => account::detail(request).await,
        AccountsPage::Tokens => tokens::list(request).await,
        _ => Ok(super::method_not_allowed("POST")),
    }
}

pub async fn submit(request: &Request<'_>, page: AccountsPage, form: &Form) -> PageResult {
    match page {
        AccountsPage::Create => account::create(request, form).await,
        AccountsPage::Edit => account::edit(request, form).await,
        AccountsPage::Disable => account::set_disabled(request, true).await,
        AccountsPage::Enable => account::set_disabled(request, false).await,
        AccountsPage::ResetPassword => account::reset_password(request).await,
        AccountsPage::Delete => account::delete(request, form).await,
        AccountsPage::CreateToken => tokens::create(request, form).await,
        AccountsPage::RevokeToken => tokens::revoke(request, form).await,
        _ => Ok(super::method_not_allowed("GET, HEAD")),
    }
}

/// The `done=` of the query, as the notice the page shows after an action.
fn done_text(a: &'static AccountsTexts, query: &str) -> Option<&'static str> {
    let done = crate::console::form::query_value(query, "done")?;
    Some(match done {
        "changed" => a.done_changed,
        "disabled" => a.done_disabled,
        "enabled" => a.done_enabled,
        "deleted" => a.done_deleted,
        "revoked" => a.done_revoked,
        _ => return None,
    })
}

fn yes_no(a: &'static AccountsTexts, value: bool) -> &'static str {
    if value { a.yes } else { a.no }
}
